package main

import (
	"errors"
	"io"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/probe"
)

// checkCommand is the one-shot check an SRE runs instead of
// `openssl s_client -status` and `openssl ocsp`.
type checkCommand struct {
	endpoint      string
	serverName    string
	caFile        string
	issuerFile    string
	certFile      string
	urls          []string
	method        string
	nonce         bool
	noResponder   bool
	requireStaple string
	allAddresses  bool
	timeout       time.Duration
	skew          time.Duration
	output        string
	alpn          []string
	vaFile        string
	crl           crlFlags
	reach         reachFlags

	// For scripts and Nagios/Icinga (check_many.go, check_nagios.go).
	endpoints   []string
	targetsFile string
	concurrency int
	warn, crit  time.Duration
	stapleOut   string
	responseOut string
}

func (c *checkCommand) register(app *kingpin.Application) *kingpin.CmdClause {
	cmd := app.Command("check", "Check one endpoint's staple and its OCSP responders once, and explain the verdict.")
	cmd.Arg("endpoint", "HOST[:PORT] or https://HOST[:PORT][/path] to handshake with; the port defaults to 443. Several are checked concurrently. Leave out with --cert.").StringsVar(&c.endpoints)
	cmd.Flag("servername", "SNI name to send, when HOST is an IP address or differs from the certificate's name.").StringVar(&c.serverName)
	fileVar(cmd, "ca-file", "PEM bundle of trust roots for the chain verdict (default: the system roots).", &c.caFile)
	fileVar(cmd, "issuer-file", "PEM issuer certificate, used when the server does not send it and with --cert.", &c.issuerFile)
	fileVar(cmd, "issuer", "Alias of --issuer-file.", &c.issuerFile).Hidden()
	fileVar(cmd, "cert", "PEM leaf certificate to query responders about, with no TLS endpoint (needs --issuer).", &c.certFile)
	cmd.Flag("url", "OCSP responder URL to query instead of the certificate's AIA URLs; repeatable.").PlaceHolder("URL").StringsVar(&c.urls)
	enumVar(cmd, "method", "How to send responder queries; auto uses GET when the request is short enough.", "auto", &c.method, "auto", "get", "post")
	cmd.Flag("nonce", "Send an RFC 8954 nonce and require the responder to echo it.").BoolVar(&c.nonce)
	cmd.Flag("no-responder", "Check the staple only; do not query OCSP responders.").BoolVar(&c.noResponder)
	enumVar(cmd, "require-staple", "Whether a missing staple is a problem; auto means when the certificate is must-staple.", "auto", &c.requireStaple, "auto", "true", "false")
	cmd.Flag("all-addresses", "Handshake with every address HOST resolves to, not only the first.").BoolVar(&c.allAddresses)
	durationVar(cmd, "timeout", "Give up on each endpoint's check after this long.", "10s", &c.timeout)
	durationVar(cmd, "skew", "Clock-skew tolerance for OCSP time windows.", "5m", &c.skew)
	enumVar(cmd, "output", "Output format; nagios follows the monitoring-plugins guidelines (exit 0/1/2/3, perfdata).", "text", &c.output, "text", "json", "nagios")
	cmd.Flag("alpn", "Application protocol to offer; repeatable, in order (default: h2, http/1.1). \"none\" offers none.").PlaceHolder("PROTO").StringsVar(&c.alpn)
	fileVar(cmd, "va-file", "PEM responder certificate to trust as a signer, as openssl ocsp -VAfile (RFC 6960 4.2.2.2, option 1).", &c.vaFile)
	c.crl.register(cmd)
	c.reach.register(cmd)
	c.registerMany(cmd)
	return cmd
}

func (c *checkCommand) run(stdout, stderr io.Writer) int {
	return c.runAll(stdout, stderr)
}

// spec turns flags into a probe target through the configuration's own
// target rules and spec builder, so `check` and the agent agree on what
// an endpoint is, which files load and how a target is probed.
func (c *checkCommand) spec() (probe.TargetSpec, string, error) {
	switch {
	case c.certFile != "" && c.endpoint != "":
		return probe.TargetSpec{}, "", errors.New("give either an endpoint or --cert, not both")
	case c.certFile != "" && c.issuerFile == "":
		return probe.TargetSpec{}, "", errors.New("--cert needs --issuer-file (or --issuer) to build the OCSP request")
	case c.certFile != "" && c.noResponder:
		return probe.TargetSpec{}, "", errors.New("--cert with --no-responder leaves nothing to check")
	case c.certFile == "" && c.endpoint == "":
		return probe.TargetSpec{}, "", errors.New("name an endpoint (HOST[:PORT]) or a certificate with --cert")
	}
	query := !c.noResponder
	addresses := "first"
	if c.allAddresses {
		addresses = "all"
	}
	t := &config.Target{
		Name: c.endpoint, Endpoint: c.endpoint, ServerName: c.serverName, Addresses: addresses,
		CAFile: c.caFile, IssuerFile: c.issuerFile, CertFile: c.certFile,
		Timeout: config.NewDuration(c.timeout), RequireStaple: config.RequireStaple(c.requireStaple),
		QueryResponder: &query, Responders: c.urls, Method: c.method, Nonce: c.nonce, RequireNonce: c.nonce,
		ALPN: c.alpn, ResponderSignerFile: c.vaFile,
	}
	c.reach.apply(t)
	if len(c.alpn) == 1 && c.alpn[0] == "none" {
		t.ALPN = []string{}
	}
	if c.certFile != "" {
		t.Name = c.certFile
	}
	cfg := &config.Config{ClockSkew: config.NewDuration(c.skew)}
	if err := config.Standalone(cfg, t); err != nil {
		return probe.TargetSpec{}, "", flagNames.Replace(err.Error())
	}
	spec := t.Spec(cfg, time.Now, userAgent(), nil)
	c.crl.apply(&spec)
	if t.Endpoint != "" {
		spec.Name = t.Endpoint
	}
	return spec, spec.Name, nil
}

// flagNames words configuration errors in the flags that set the keys.
var flagNames = keyToFlag{
	"endpoint: ": "endpoint: ", "server_name: ": "--servername: ", "ca_file: ": "--ca-file: ",
	"issuer_file: ": "--issuer-file: ", "cert_file: ": "--cert: ", "responders: ": "--url: ",
	"timeout: ": "--timeout: ", "clock_skew: ": "--skew: ", "require_nonce: ": "--nonce: ",
	"alpn: ": "--alpn: ", "responder_signer_file: ": "--va-file: ",
	"starttls: ": "--starttls: ", "client_cert_file: ": "--cert-file: ", "client_key_file: ": "--key-file: ",
	"ip_family: ": "-4/-6: ", "tls_min_version: ": "--tls-min-version: ", "tls_max_version: ": "--tls-max-version: ",
	"tls_groups: ": "--tls-groups: ", "proxy_url: ": "--proxy: ", "responder_host: ": "--responder-host: ",
}

type keyToFlag map[string]string

// Replace renames the key at the start of each error line.
func (m keyToFlag) Replace(msg string) error {
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		for key, flag := range m {
			if rest, ok := strings.CutPrefix(l, key); ok {
				lines[i] = flag + rest
				break
			}
		}
	}
	return errors.New(strings.Join(lines, "; "))
}

func unreachable(rep *probe.Report) bool {
	if len(rep.Endpoints) > 0 {
		for _, e := range rep.Endpoints {
			if e.HandshakeOK {
				return false
			}
		}
		return true
	}
	for _, r := range rep.Responders {
		if r.HTTPStatus != 0 {
			return false
		}
	}
	return len(rep.Responders) > 0
}
