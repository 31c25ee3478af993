package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/openssltest"
)

// opensslPKI is a CA hierarchy made with the openssl CLI, as a real CA's
// tooling would make it, independent of ocspwatch's Go code.
type opensslPKI struct {
	dir string
	// Paths of PEM files; "<name>.pem" and "<name>.key" under dir.
	root, inter, signer                   string
	good, revoked, mustStaple, noOCSP     string
	delegatedPort, caSignedPort           string
	delegatedResponder, caSignedResponder *openssltest.Responder
}

func (p *opensslPKI) pem(name string) string { return filepath.Join(p.dir, name+".pem") }
func (p *opensslPKI) key(name string) string { return filepath.Join(p.dir, name+".key") }

// chain is the leaf followed by the intermediate, as servers send it.
func (p *opensslPKI) chain(name string) string { return filepath.Join(p.dir, name+".chain.pem") }

func (p *opensslPKI) openssl(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(openssltest.Require(t), args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// extraLeaf is one more good leaf for newOpenSSLPKI, whose AIA names the
// responder on ocspPort: a port with no responder, or one that tests start
// themselves, so each certificate of a server meets its own responder.
type extraLeaf struct{ name, ocspPort string }

// newOpenSSLPKI makes a root, an intermediate, a delegated OCSP signer and
// four leaves whose AIA names the delegated responder on delegatedPort,
// plus any extra leaves.
func newOpenSSLPKI(t *testing.T, delegatedPort, caSignedPort string, extra ...extraLeaf) *opensslPKI {
	t.Helper()
	p := &opensslPKI{dir: t.TempDir(), root: "root", inter: "inter", signer: "signer",
		good: "good", revoked: "revoked", mustStaple: "muststaple", noOCSP: "noocsp",
		delegatedPort: delegatedPort, caSignedPort: caSignedPort}
	aia := fmt.Sprintf("authorityInfoAccess = OCSP;URI:http://127.0.0.1:%s\n", delegatedPort)
	leaf := "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:localhost,IP:127.0.0.1\n"
	ext := "[root]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n" +
		"[inter]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n" +
		"[signer]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = OCSPSigning\nnoCheck = ignored\n" +
		"[good]\n" + leaf + aia +
		"[revoked]\n" + leaf + aia +
		"[muststaple]\n" + leaf + aia + "tlsfeature = status_request\n" +
		"[noocsp]\n" + leaf + "crlDistributionPoints = URI:http://127.0.0.1:9/intermediate.crl\n"
	for _, e := range extra {
		ext += "[" + e.name + "]\n" + leaf + "authorityInfoAccess = OCSP;URI:http://127.0.0.1:" + e.ocspPort + "\n"
	}
	if err := os.WriteFile(filepath.Join(p.dir, "ext.cnf"), []byte(ext), 0o600); err != nil {
		t.Fatal(err)
	}
	issue := func(name, subject, issuer string, serial int) { p.issue(t, "ext.cnf", name, subject, issuer, serial) }
	issue(p.root, "/O=ocspwatch e2e/CN=e2e Root CA", "", 1)
	issue(p.inter, "/O=ocspwatch e2e/CN=e2e Issuing CA", p.root, 2)
	issue(p.signer, "/O=ocspwatch e2e/CN=e2e OCSP Signer", p.inter, 3)
	for i, name := range []string{p.good, p.revoked, p.mustStaple, p.noOCSP} {
		issue(name, "/O=ocspwatch e2e/CN="+name, p.inter, 10+i)
		writeConcat(t, p.chain(name), p.pem(name), p.pem(p.inter))
	}
	for i, e := range extra {
		issue(e.name, "/O=ocspwatch e2e/CN="+e.name, p.inter, 20+i)
		writeConcat(t, p.chain(e.name), p.pem(e.name), p.pem(p.inter))
	}
	writeConcat(t, filepath.Join(p.dir, "trust.pem"), p.pem(p.inter), p.pem(p.root))

	entries := []openssltest.IndexEntry{
		{Cert: loadCert(t, p.pem(p.good))},
		{Cert: loadCert(t, p.pem(p.revoked)), Revoked: true, RevokedAt: time.Now().Add(-time.Hour)},
		{Cert: loadCert(t, p.pem(p.mustStaple))},
		{Cert: loadCert(t, p.pem(p.noOCSP))},
	}
	for _, e := range extra {
		entries = append(entries, openssltest.IndexEntry{Cert: loadCert(t, p.pem(e.name))})
	}
	index := openssltest.Index(entries)
	indexFile := filepath.Join(p.dir, "index.txt")
	if err := os.WriteFile(indexFile, []byte(index), 0o600); err != nil {
		t.Fatal(err)
	}
	p.delegatedResponder = openssltest.StartFiles(t, openssltest.Files{Index: indexFile, CA: p.pem(p.inter), Signer: p.pem(p.signer), SignerKey: p.key(p.signer)}, delegatedPort)
	// The CA-signed responder names itself by key hash, the delegated one
	// by name, so both ResponderID forms meet a real implementation.
	p.caSignedResponder = openssltest.StartFiles(t, openssltest.Files{Index: indexFile, CA: p.pem(p.inter), Signer: p.pem(p.inter), SignerKey: p.key(p.inter), ByKey: true}, caSignedPort)
	return p
}

// issue makes <name>.key and <name>.pem under dir: a P-256 certificate
// for subject with the extensions of section name in extFile, issued by
// issuer (by name), or self-signed when issuer is "".
func (p *opensslPKI) issue(t *testing.T, extFile, name, subject, issuer string, serial int) {
	t.Helper()
	p.openssl(t, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name+".key")
	p.openssl(t, "req", "-new", "-key", name+".key", "-subj", subject, "-out", name+".csr")
	args := []string{"x509", "-req", "-in", name + ".csr", "-days", "30", "-sha256", "-extfile", extFile, "-extensions", name,
		"-set_serial", fmt.Sprintf("0x%x%04x", time.Now().UnixNano()&0xffffffff, serial), "-out", name + ".pem"}
	if issuer == "" {
		args = append(args, "-signkey", name+".key")
	} else {
		args = append(args, "-CA", issuer+".pem", "-CAkey", issuer+".key")
	}
	p.openssl(t, args...)
}

func writeConcat(t *testing.T, out string, files ...string) {
	t.Helper()
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if err := os.WriteFile(out, all, 0o600); err != nil {
		t.Fatal(err)
	}
}

func loadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}
