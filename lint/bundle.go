package lint

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MaxCertificates caps the certificates read from one bundle. Real chains
// hold two to four; a file with more is not a deployable bundle.
const MaxCertificates = 32

// ErrNoCertificate is returned for data holding no certificate, such as a
// key file or DH parameters found while walking a directory.
var ErrNoCertificate = errors.New("no certificate found (want PEM CERTIFICATE blocks or one DER certificate)")

// Bundle is one deployed certificate file: the leaf first, then its chain
// as the server will send it, and any private keys to check against the
// leaf.
type Bundle struct {
	Name  string
	Certs []*x509.Certificate
	Keys  []Key
}

// Key is the public half of a private key and where the key came from.
// The private half is not kept.
type Key struct {
	Source string
	Public crypto.PublicKey
}

// ParseBundle reads PEM CERTIFICATE and private key blocks in file order,
// or a single DER certificate. Other PEM blocks (parameters, requests)
// are ignored, as servers ignore them. Errors say which block failed;
// the caller adds the file name.
func ParseBundle(name string, data []byte) (*Bundle, error) {
	b := &Bundle{Name: name}
	blocks := 0
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		blocks++
		switch block.Type {
		case "CERTIFICATE":
			if len(b.Certs) == MaxCertificates {
				return nil, fmt.Errorf("more than %d certificates", MaxCertificates)
			}
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate %d: %w", len(b.Certs)+1, err)
			}
			b.Certs = append(b.Certs, cert)
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			pub, err := parsePrivateKey(block)
			if err != nil {
				return nil, fmt.Errorf("private key %d: %w", len(b.Keys)+1, err)
			}
			b.Keys = append(b.Keys, Key{Source: name, Public: pub})
		}
	}
	if blocks == 0 {
		// A .crt file is often DER.
		if cert, err := x509.ParseCertificate(data); err == nil {
			b.Certs = append(b.Certs, cert)
		}
	}
	if len(b.Certs) == 0 {
		return nil, ErrNoCertificate
	}
	return b, nil
}

// HasEndEntity reports whether any certificate in the bundle is not a
// CA: a file of CA certificates only is a chain or trust store, not a
// bundle to deploy.
func (b *Bundle) HasEndEntity() bool {
	for _, c := range b.Certs {
		if !c.IsCA {
			return true
		}
	}
	return false
}

// ParseKey reads the one private key of a PEM file given with --key; the
// file may hold certificates too.
func ParseKey(source string, data []byte) (Key, error) {
	var keys []Key
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			pub, err := parsePrivateKey(block)
			if err != nil {
				return Key{}, err
			}
			keys = append(keys, Key{Source: source, Public: pub})
		}
	}
	switch len(keys) {
	case 0:
		return Key{}, errors.New("no PEM private key block found")
	case 1:
		return keys[0], nil
	}
	return Key{}, fmt.Errorf("%d private keys found, want one", len(keys))
}

var errEncryptedKey = errors.New("the private key is encrypted; lint needs the key as the server reads it, unencrypted")

func parsePrivateKey(block *pem.Block) (crypto.PublicKey, error) {
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, errEncryptedKey
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey, nil
	case *ecdsa.PrivateKey:
		return &k.PublicKey, nil
	case ed25519.PrivateKey:
		return k.Public(), nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}
