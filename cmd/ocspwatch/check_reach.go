package main

import (
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// reachFlags are how check reaches an endpoint beyond plain TLS on
// HTTPS: a STARTTLS dialogue, a client certificate, an address family,
// a skipped chain verdict. Each maps to the target key of the same name,
// so check and the agent reach endpoints the same way.
type reachFlags struct {
	starttls       string
	certFile       string
	keyFile        string
	ipv4, ipv6     bool
	insecure       bool
	tlsMin, tlsMax string
	tlsGroups      string
	proxyURL       string
	responderHost  string
}

func (f *reachFlags) register(cmd *kingpin.CmdClause) {
	var protos []string
	for _, p := range starttls.Protocols() {
		protos = append(protos, string(p))
	}
	enumVar(cmd, "starttls", "Run this protocol's STARTTLS dialogue before the handshake (a URL scheme such as smtp:// does the same).", "", &f.starttls, append([]string{""}, protos...)...)
	fileVar(cmd, "cert-file", "PEM client certificate to present, for endpoints that demand one (with --key-file).", &f.certFile)
	fileVar(cmd, "key-file", "PEM private key of --cert-file.", &f.keyFile)
	cmd.Flag("ipv4", "Connect over IPv4 only, with no fallback.").Short('4').BoolVar(&f.ipv4)
	cmd.Flag("ipv6", "Connect over IPv6 only, with no fallback.").Short('6').BoolVar(&f.ipv6)
	cmd.Flag("insecure", "Skip the chain verdict; the staple is still verified against its issuer.").BoolVar(&f.insecure)
	enumVar(cmd, "tls-min-version", "Lowest TLS version to offer.", "", &f.tlsMin, "", "1.2", "1.3")
	enumVar(cmd, "tls-max-version", "Highest TLS version to offer.", "", &f.tlsMax, "", "1.2", "1.3")
	cmd.Flag("tls-groups", "Key-exchange groups to offer, comma-separated, in order ("+strings.Join(config.TLSGroupNames(), ", ")+"); Go's default, led by X25519MLKEM768, when unset.").PlaceHolder("LIST").StringVar(&f.tlsGroups)
	cmd.Flag("proxy", "HTTP proxy to reach the endpoint through with CONNECT; it carries the OCSP queries too.").PlaceHolder("URL").StringVar(&f.proxyURL)
	cmd.Flag("responder-host", "Host header for OCSP queries, like openssl ocsp -header Host=NAME.").PlaceHolder("NAME").StringVar(&f.responderHost)
}

// apply sets the target keys the flags stand for; the configuration's
// own rules then validate them.
func (f *reachFlags) apply(t *config.Target) {
	t.StartTLS, t.ClientCertFile, t.ClientKeyFile = f.starttls, f.certFile, f.keyFile
	t.InsecureSkipVerify, t.TLSMinVersion, t.TLSMaxVersion = f.insecure, f.tlsMin, f.tlsMax
	t.ProxyURL, t.ResponderHost = f.proxyURL, f.responderHost
	if f.tlsGroups != "" {
		t.TLSGroups = strings.Split(f.tlsGroups, ",")
	}
	switch {
	case f.ipv4 && !f.ipv6:
		t.IPFamily = "ipv4"
	case f.ipv6 && !f.ipv4:
		t.IPFamily = "ipv6"
	}
}
