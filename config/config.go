package config

import (
	"bytes"
	"cmp"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// Defaults filled in before validation.
const (
	DefaultSchedule            = "@every 1m"
	DefaultTimeout             = 10 * time.Second
	DefaultMaxConcurrentProbes = 32
)

// DefaultMaxConcurrentProbeRequests caps /probe calls running at once.
const DefaultMaxConcurrentProbeRequests = 8

// Config is the whole ocspwatch configuration file.
type Config struct {
	Region                     string   `toml:"region"`
	DefaultSchedule            string   `toml:"default_schedule"`
	DefaultTimeout             Duration `toml:"default_timeout"`
	ClockSkew                  Duration `toml:"clock_skew"`
	MaxResponseAge             Duration `toml:"max_response_age"`
	MaxConcurrentProbes        int      `toml:"max_concurrent_probes"`
	MaxConcurrentProbeRequests int      `toml:"max_concurrent_probe_requests"`
	AllowAdhoc                 bool     `toml:"allow_adhoc"`
	// CAFile is the trust roots for every target without its own ca_file.
	CAFile    string    `toml:"ca_file"`
	Responder Responder `toml:"responder"`
	Network   Network   `toml:"network"`
	CRL       CRL       `toml:"crl"`
	Targets   []*Target `toml:"target"`
	// Labels are default custom labels for every target (labels.go).
	Labels map[string]string `toml:"labels"`
	// LabelMode is "info" (custom labels only on ocsp_target_info) or
	// "all" (on every series of the target).
	LabelMode string `toml:"label_mode"`
	// ShardSpec is "i/n": this agent keeps the targets of part i of n.
	ShardSpec string `toml:"shard"`
	// TargetFiles are globs, relative to this file's directory, of files
	// holding more targets (targetfiles.go).
	TargetFiles []string `toml:"target_files"`

	dialPolicy *probe.DialPolicy
	roots      *x509.CertPool
	shard      Shard
	// files is shared by the load that made this configuration and by the
	// ad-hoc targets built from it later.
	files *fileCache
	// targetPatterns are TargetFiles resolved against the file's directory.
	targetPatterns []string
}

// CRL holds the settings of the CRL cache shared by all targets.
type CRL struct {
	// MaxBytes bounds one CRL; real ones reach tens of megabytes.
	MaxBytes int64 `toml:"max_bytes"`
	// Refresh is how often a held CRL is revalidated with a conditional
	// GET, even before its NextUpdate.
	Refresh Duration `toml:"refresh"`
}

// Responder holds the politeness settings shared by all responder queries.
type Responder struct {
	PerHostConcurrency int      `toml:"per_host_concurrency"`
	MinInterval        Duration `toml:"min_interval"`
	MaxBodyBytes       int64    `toml:"max_body_bytes"`
	MaxRedirects       int      `toml:"max_redirects"`
	// CAFile is the trust roots of https responders and CRL servers;
	// the system's when empty.
	CAFile string `toml:"ca_file"`
	// ProxyURL carries every responder and CRL query; HTTP(S)_PROXY and
	// NO_PROXY decide when it is empty.
	ProxyURL string `toml:"proxy_url"`
	// HostHeader replaces the Host header of every OCSP query.
	HostHeader string `toml:"host_header"`

	rootCAs *x509.CertPool
	proxy   *url.URL
}

// Target is one monitored endpoint or, with cert_file, one certificate
// whose responders are queried directly.
type Target struct {
	Name           string        `toml:"name"`
	Endpoint       string        `toml:"endpoint"`
	ServerName     string        `toml:"server_name"`
	Addresses      string        `toml:"addresses"`
	CAFile         string        `toml:"ca_file"`
	IssuerFile     string        `toml:"issuer_file"`
	CertFile       string        `toml:"cert_file"`
	Schedule       string        `toml:"schedule"`
	Timeout        Duration      `toml:"timeout"`
	RequireStaple  RequireStaple `toml:"require_staple"`
	QueryResponder *bool         `toml:"query_responder"`
	Responders     []string      `toml:"responders"`
	Method         string        `toml:"method"`
	Nonce          bool          `toml:"nonce"`
	RequireNonce   bool          `toml:"require_nonce"`
	CertIDHash     string        `toml:"cert_id_hash"`
	// ALPN is nil when the file leaves it out (then DefaultALPN), and an
	// empty list when the file asks to offer none.
	ALPN                []string `toml:"alpn"`
	ResponderSignerFile string   `toml:"responder_signer_file"`
	// CRL is auto, on or off: which certificates of the chain have their
	// CRLs checked (README, "Revocation beyond OCSP").
	CRL string `toml:"crl"`
	// Labels are this target's custom labels, over the top-level ones.
	Labels map[string]string `toml:"labels"`
	// StartTLS names the dialogue before the handshake (smtp, imap …);
	// an endpoint's scheme can set it too.
	StartTLS           string `toml:"starttls"`
	ClientCertFile     string `toml:"client_cert_file"`
	ClientKeyFile      string `toml:"client_key_file"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
	IPFamily           string `toml:"ip_family"`
	TLSMinVersion      string `toml:"tls_min_version"`
	TLSMaxVersion      string `toml:"tls_max_version"`
	// TLSGroups are the key-exchange groups offered, in order; nil means
	// Go's default, which leads with the X25519MLKEM768 hybrid as
	// browsers do.
	TLSGroups []string `toml:"tls_groups"`
	// ProxyURL is an http:// proxy the endpoint is reached through with
	// CONNECT; it carries the target's OCSP queries too.
	ProxyURL string `toml:"proxy_url"`
	// ResponderHost replaces the Host header of this target's OCSP
	// queries, over [responder] host_header.
	ResponderHost string `toml:"responder_host"`

	// Filled by validation.
	adhoc          bool
	https          bool
	parsedSchedule cron.Schedule
	roots          *x509.CertPool
	issuer         *x509.Certificate
	leaf           *x509.Certificate
	pinned         []*x509.Certificate
	fingerprint    string
	metricLabels   []Label
	labelsOnAll    bool
	startTLS       starttls.Protocol
	clientCert     []tls.Certificate
	tlsMin, tlsMax uint16
	tlsGroups      []tls.CurveID
	proxy          *url.URL
}

// Duration is a TOML string such as "30s" or "5m". It remembers whether
// the file set it, so "0s" written on purpose means zero and is never
// mistaken for a key left out.
type Duration struct {
	time.Duration
	set bool
}

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 5m", b)
	}
	d.Duration, d.set = v, true
	return nil
}

func (d *Duration) orDefault(v time.Duration) {
	if !d.set {
		d.Duration, d.set = v, true
	}
}

// MarshalText renders the duration for the resolved-config view.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// RequireStaple accepts true, false or "auto" (and the strings "true" and
// "false"), since TOML users reach for a bare boolean.
type RequireStaple string

// UnmarshalTOML takes a TOML boolean or string.
func (r *RequireStaple) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case bool:
		*r = RequireStaple(fmt.Sprint(x))
	case string:
		if x != "auto" && x != "true" && x != "false" {
			return fmt.Errorf("%q is not auto, true or false", x)
		}
		*r = RequireStaple(x)
	default:
		return fmt.Errorf("%v is not auto, true or false", v)
	}
	return nil
}

var (
	targetNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)
	regionRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	cronParser   = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// MaxConfigBytes bounds the configuration file; 50,000 targets take
// about 10 MB.
const MaxConfigBytes = 64 << 20

// maxErrorsShown caps the errors one load reports; the rest are counted.
const maxErrorsShown = 20

// Load reads, decodes strictly, defaults and validates a config file and
// the target files it names. Every error names the file; errors in a
// target also name the target, the key and, where it can be found, the
// line.
func Load(path string) (*Config, error) { return new(Loader).Load(path) }

// Parse is Load for bytes already read; path is used in errors and as the
// directory target_files are found from (file paths inside targets are
// used as written).
func Parse(data []byte, path string) (*Config, error) { return new(Loader).parse(data, path) }

// decodeTOML decodes data strictly into v: a syntax error or an unknown
// key is an error naming the file, the line and, inside a [[target]],
// the target.
func decodeTOML(data []byte, path string, loc *locator, v any) (toml.MetaData, error) {
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(v)
	if err != nil {
		var perr toml.ParseError
		if !errors.As(err, &perr) {
			return md, fmt.Errorf("%s: %w", path, err)
		}
		line := perr.Position.Line
		if perr.LastKey == "" {
			return md, fmt.Errorf("%s:%d: %s", path, line, perr.Message)
		}
		return md, fmt.Errorf("%s:%d:%s %s: %s", path, line, loc.targetAt(line), lastPiece(perr.LastKey), perr.Message)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		key := undecoded[0]
		line := loc.lineOfKey(key)
		return md, fmt.Errorf("%s:%d:%s unknown key %q", path, line, loc.targetAt(line), key[len(key)-1])
	}
	return md, nil
}

// capErrors keeps the first maxErrorsShown errors and counts the rest.
func capErrors(path string, errs []error) error {
	if len(errs) > maxErrorsShown {
		errs = append(errs[:maxErrorsShown], fmt.Errorf("%s: and %d more errors", path, len(errs)-maxErrorsShown))
	}
	return errors.Join(errs...)
}

// fillDefaults fills what the file left out, and only that: a key set to
// zero on purpose keeps its zero, which validation then accepts as "none"
// or rejects.
func (c *Config) fillDefaults(md toml.MetaData) {
	if c.DefaultSchedule == "" {
		c.DefaultSchedule = DefaultSchedule
	}
	c.DefaultTimeout.orDefault(DefaultTimeout)
	c.ClockSkew.orDefault(probe.DefaultSkew)
	c.MaxResponseAge.orDefault(probe.DefaultMaxResponseAge)
	if !md.IsDefined("max_concurrent_probes") {
		c.MaxConcurrentProbes = DefaultMaxConcurrentProbes
	}
	if !md.IsDefined("max_concurrent_probe_requests") {
		c.MaxConcurrentProbeRequests = DefaultMaxConcurrentProbeRequests
	}
	if !md.IsDefined("responder", "per_host_concurrency") {
		c.Responder.PerHostConcurrency = probe.DefaultPerHostConcurrency
	}
	c.Responder.MinInterval.orDefault(probe.DefaultMinRequeryInterval)
	if !md.IsDefined("responder", "max_body_bytes") {
		c.Responder.MaxBodyBytes = probe.DefaultMaxBodyBytes
	}
	if !md.IsDefined("responder", "max_redirects") {
		c.Responder.MaxRedirects = probe.DefaultMaxRedirects
	}
	if !md.IsDefined("crl", "max_bytes") {
		c.CRL.MaxBytes = crl.DefaultMaxBytes
	}
	c.CRL.Refresh.orDefault(crl.DefaultRefresh)
	for _, t := range c.Targets {
		c.fillTargetDefaults(t)
	}
}

// fillTargetDefaults fills what a target left out, from the top-level
// defaults; a target from a target file gets the same as one in the
// main file.
func (c *Config) fillTargetDefaults(t *Target) {
	if t.Schedule == "" {
		t.Schedule = c.DefaultSchedule
	}
	if !t.Timeout.set {
		t.Timeout = c.DefaultTimeout
	}
	if t.RequireStaple == "" {
		t.RequireStaple = "auto"
	}
	if t.QueryResponder == nil {
		yes := true
		t.QueryResponder = &yes
	}
	if t.Method == "" {
		t.Method = string(probe.MethodAuto)
	}
	if t.Addresses == "" {
		t.Addresses = "first"
	}
	if t.CertIDHash == "" {
		t.CertIDHash = "sha1"
	}
	if t.CRL == "" {
		t.CRL = string(probe.CRLAuto)
	}
	if t.IPFamily == "" {
		t.IPFamily = "any"
	}
}

// DefaultALPN is what browsers and most HTTP clients offer, so a probe
// sees what real clients get, and servers that demand a protocol (grpc-go
// refuses handshakes without "h2") accept it.
var DefaultALPN = []string{"h2", "http/1.1"}

// Ranges for every knob: wide enough for any sane deployment, narrow
// enough that a typo cannot wedge the agent or overflow a counter.
const (
	minTimeout        = 500 * time.Millisecond
	maxTimeout        = 5 * time.Minute
	maxClockSkew      = time.Hour
	minResponseAge    = time.Hour
	maxResponseAge    = 366 * 24 * time.Hour
	maxMinInterval    = 24 * time.Hour
	minBodyBytes      = 1024
	maxBodyBytes      = 64 << 20
	maxRedirects      = 10
	maxPerHost        = 64
	maxConcurrent     = 4096
	maxProbeRequests  = 1024
	maxTargetsPerFile = 100000
	maxCRLBytes       = 1 << 30
)

func (c *Config) validate(loc *locator, path string) []error {
	var errs []error
	global := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s: %s", path, loc.lineOfGlobal(key), key, fmt.Sprintf(format, args...)))
	}
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		global("region", "%q must be letters, digits, '.', '_' or '-'", c.Region)
	}
	if _, err := parseSchedule(c.DefaultSchedule, ""); err != nil {
		global("default_schedule", "%q: %v", c.DefaultSchedule, err)
	}
	if d := c.DefaultTimeout.Duration; d < minTimeout || d > maxTimeout {
		global("default_timeout", "%s must be between %s and %s", d, minTimeout, maxTimeout)
	}
	if d := c.ClockSkew.Duration; d < 0 || d > maxClockSkew {
		global("clock_skew", "%s must be between 0s and %s", d, maxClockSkew)
	}
	if d := c.MaxResponseAge.Duration; d < minResponseAge || d > maxResponseAge {
		global("max_response_age", "%s must be between %s and %s", d, minResponseAge, maxResponseAge)
	}
	if n := c.MaxConcurrentProbes; n < 1 || n > maxConcurrent {
		global("max_concurrent_probes", "%d must be between 1 and %d", n, maxConcurrent)
	}
	if n := c.MaxConcurrentProbeRequests; n < 1 || n > maxProbeRequests {
		global("max_concurrent_probe_requests", "%d must be between 1 and %d", n, maxProbeRequests)
	}
	if n := c.Responder.PerHostConcurrency; n < 1 || n > maxPerHost {
		global("per_host_concurrency", "%d must be between 1 and %d", n, maxPerHost)
	}
	if d := c.Responder.MinInterval.Duration; d < 0 || d > maxMinInterval {
		global("min_interval", "%s must be between 0s (no re-use) and %s", d, maxMinInterval)
	}
	if n := c.Responder.MaxBodyBytes; n < minBodyBytes || n > maxBodyBytes {
		global("max_body_bytes", "%d must be between %d and %d", n, minBodyBytes, maxBodyBytes)
	}
	if n := c.Responder.MaxRedirects; n < 0 || n > maxRedirects {
		global("max_redirects", "%d must be between 0 (none) and %d", n, maxRedirects)
	}
	if n := c.CRL.MaxBytes; n < minBodyBytes || n > maxCRLBytes {
		global("max_bytes", "%d must be between %d and %d", n, minBodyBytes, maxCRLBytes)
	}
	if d := c.CRL.Refresh.Duration; d < time.Minute || d > 24*time.Hour {
		global("refresh", "%s must be between 1m0s and 24h0m0s", d)
	}
	var err error
	if c.CAFile != "" {
		if c.roots, err = c.files.pool(c.CAFile); err != nil {
			global("ca_file", "%v", err)
		}
	}
	responder := func(key, format string, args ...any) {
		line := loc.find(func(header string, _ int) bool { return header == "responder" }, key)
		errs = append(errs, fmt.Errorf("%s:%d: [responder] %s: %s", path, line, key, fmt.Sprintf(format, args...)))
	}
	if c.Responder.CAFile != "" {
		if c.Responder.rootCAs, err = c.files.pool(c.Responder.CAFile); err != nil {
			responder("ca_file", "%v", err)
		}
	}
	if c.Responder.ProxyURL != "" {
		if c.Responder.proxy, err = parseProxyURL(c.Responder.ProxyURL); err != nil {
			responder("proxy_url", "%v", err)
		}
	}
	if h := c.Responder.HostHeader; h != "" && !hostHeaderRE.MatchString(h) {
		responder("host_header", "%q is not a host name with an optional :port", h)
	}
	if c.dialPolicy, err = c.Network.policy(); err != nil {
		global(err.(*networkError).key, "%s", err.(*networkError).msg)
	}
	// Label defaults come first: every target's merged labels depend on them.
	errs = append(errs, c.validateLabels(loc, path)...)
	for i, t := range c.Targets {
		fail := func(key, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s:%d: target %q: %s: %s", path, loc.lineInTarget(i, key), displayName(t, i), key, fmt.Sprintf(format, args...)))
		}
		c.validateTarget(t, fail)
	}
	return errs
}

// displayName names a target in errors, by its place when it has no name.
func displayName(t *Target, i int) string {
	if t.Name == "" {
		return fmt.Sprintf("#%d", i+1)
	}
	return t.Name
}

// validateTarget checks one target, wherever it was written, under the
// top-level settings of c; names are checked for uniqueness over the
// whole configuration afterwards.
func (c *Config) validateTarget(t *Target, fail func(key, format string, args ...any)) {
	if !targetNameRE.MatchString(t.Name) {
		fail("name", "%q must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", t.Name)
	}
	t.validate(c, fail)
	c.mergeLabels(t, fail)
	t.fingerprint = fingerprint(t, c)
}

func (t *Target) validate(c *Config, fail func(key, format string, args ...any)) {
	var err error
	switch {
	case t.Endpoint != "" && t.CertFile != "":
		fail("endpoint", "set either endpoint or cert_file, not both")
	case t.Endpoint == "" && t.CertFile == "":
		fail("endpoint", "set endpoint (host:port), or cert_file and issuer_file for a responder-only target")
	case t.Endpoint != "":
		if endpoint, err := ParseEndpoint(t.Endpoint); err != nil {
			fail("endpoint", "%q: %v", t.Endpoint, err)
		} else {
			t.Endpoint = endpoint.HostPort
			t.startTLS = endpoint.StartTLS
			t.https = endpoint.HTTPS()
		}
	case t.CertFile != "":
		if t.IssuerFile == "" {
			fail("issuer_file", "a responder-only target (cert_file) needs issuer_file")
		}
		if !*t.QueryResponder {
			fail("query_responder", "a responder-only target (cert_file) must query its responders")
		}
		if t.leaf, err = c.files.certificate(t.CertFile); err != nil {
			fail("cert_file", "%v", err)
		}
	}
	if t.Schedule != "" {
		if t.parsedSchedule, err = parseSchedule(t.Schedule, t.Name); err != nil {
			fail("schedule", "%q: %v", t.Schedule, err)
		}
	}
	if d := t.Timeout.Duration; d < minTimeout || d > maxTimeout {
		fail("timeout", "%s must be between %s and %s", d, minTimeout, maxTimeout)
	}
	if t.CAFile != "" {
		if t.roots, err = c.files.pool(t.CAFile); err != nil {
			fail("ca_file", "%v", err)
		}
	} else {
		t.roots = c.roots
	}
	t.validateReach(fail)
	if t.IssuerFile != "" {
		if t.issuer, err = c.files.certificate(t.IssuerFile); err != nil {
			fail("issuer_file", "%v", err)
		} else if t.leaf != nil && t.leaf.CheckSignatureFrom(t.issuer) != nil {
			fail("issuer_file", "%s did not issue cert_file %s", t.IssuerFile, t.CertFile)
		}
	}
	if !slices.Contains([]string{"first", "all"}, t.Addresses) {
		fail("addresses", "%q is not first or all", t.Addresses)
	}
	if !slices.Contains([]string{"auto", "get", "post"}, t.Method) {
		fail("method", "%q is not auto, get or post", t.Method)
	}
	if !slices.Contains([]string{"sha1", "sha256"}, t.CertIDHash) {
		fail("cert_id_hash", "%q is not sha1 or sha256", t.CertIDHash)
	}
	if len(t.ALPN) > 8 {
		fail("alpn", "%d protocols, more than 8", len(t.ALPN))
	}
	for _, p := range t.ALPN {
		if p == "" || len(p) > 255 {
			fail("alpn", "%q is not a protocol name of 1 to 255 bytes", p)
		}
	}
	if t.ResponderSignerFile != "" {
		if t.pinned, err = c.files.certificates(t.ResponderSignerFile); err != nil {
			fail("responder_signer_file", "%v", err)
		}
	}
	if !slices.Contains([]string{"auto", "on", "off"}, t.CRL) {
		fail("crl", "%q is not auto, on or off", t.CRL)
	}
	if t.RequireNonce && !t.Nonce {
		fail("require_nonce", "needs nonce = true")
	}
	for i, u := range t.Responders {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			fail("responders", "%q is not an http:// or https:// URL", u)
		} else if len(u) > probe.MaxURLLength {
			fail("responders", "a URL of %d bytes is longer than %d", len(u), probe.MaxURLLength)
		}
		if slices.Contains(t.Responders[:i], u) {
			fail("responders", "%q is listed twice", u)
		}
	}
	if t.ALPN == nil {
		// h2 and http/1.1 are what HTTPS clients offer; a mail or
		// directory server may refuse a handshake offering protocols it
		// does not speak (Exim does, with no_application_protocol).
		t.ALPN = []string{}
		if t.https && t.startTLS == "" {
			t.ALPN = slices.Clone(DefaultALPN)
		}
	}
}

// fingerprint identifies a target's effective settings, its merged
// labels and the files it reads, so a reload can tell changed targets
// from unchanged ones. Every field goes in length-prefixed, so no two
// settings hash alike, and without fmt, which made this a fifth of a
// 50,000-target load.
func fingerprint(t *Target, c *Config) string {
	b := make([]byte, 0, 512)
	str := func(ss ...string) {
		for _, s := range ss {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	list := func(l []string) {
		b = binary.AppendUvarint(b, uint64(len(l)))
		str(l...)
	}
	flag := func(v bool) {
		if v {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	str(t.Endpoint, t.ServerName, t.Addresses, t.CAFile, t.IssuerFile, t.CertFile, t.Schedule)
	b = binary.AppendVarint(b, int64(t.Timeout.Duration))
	str(string(t.RequireStaple))
	flag(*t.QueryResponder)
	list(t.Responders)
	str(t.Method)
	flag(t.Nonce)
	flag(t.RequireNonce)
	str(t.CertIDHash)
	list(t.ALPN)
	str(t.ResponderSignerFile, t.CRL, string(t.startTLS), t.ClientCertFile, t.ClientKeyFile)
	flag(t.InsecureSkipVerify)
	str(t.IPFamily, t.TLSMinVersion, t.TLSMaxVersion, t.ProxyURL, t.ResponderHost)
	list(t.TLSGroups)
	// A target without its own ca_file inherits the global one, so that
	// file's path and contents are the target's too.
	flag(t.CAFile == "")
	if t.CAFile == "" {
		str(c.CAFile)
	}
	for _, f := range t.readsFiles(c) {
		sum := c.files.sum(f)
		b = append(b, sum[:]...)
	}
	str(c.LabelMode)
	b = binary.AppendUvarint(b, uint64(len(t.metricLabels)))
	for _, l := range t.metricLabels {
		str(l.Name, l.Value)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Fingerprint changes whenever the target's settings or files change.
func (t *Target) Fingerprint() string { return t.fingerprint }

// ParsedSchedule is the validated schedule, spread by the target's name.
func (t *Target) ParsedSchedule() cron.Schedule { return t.parsedSchedule }

// Spec builds the probe inputs for one run of the target. resolver may be
// nil for the system's.
func (t *Target) Spec(c *Config, now func() time.Time, userAgent string, resolver *net.Resolver) probe.TargetSpec {
	spec := probe.TargetSpec{
		Name:           t.Name,
		QueryResponder: *t.QueryResponder,
		ResponderURLs:  t.Responders,
		Method:         probe.Method(t.Method),
		Nonce:          t.Nonce,
		RequireNonce:   t.RequireNonce,
		RequireStaple:  probe.StapleRequirement(t.RequireStaple),
		MaxBodyBytes:   c.Responder.MaxBodyBytes,
		UserAgent:      userAgent,
		Now:            now,
		Policy:         probe.VerifyPolicy{Skew: c.ClockSkew.Duration, MaxResponseAge: c.MaxResponseAge.Duration, Pinned: t.pinned},
		Timeout:        t.Timeout.Duration,
		Leaf:           t.leaf,
		Issuer:         t.issuer,
		Dial:           c.dialPolicy,
		Adhoc:          t.adhoc,
		CRL:            probe.CRLPolicy(t.CRL),
	}
	if t.CertIDHash == "sha256" {
		spec.Hash = crypto.SHA256
	}
	spec.ResponderHost = cmp.Or(t.ResponderHost, c.Responder.HostHeader)
	spec.ResponderProxy = t.proxy
	if t.Endpoint != "" {
		spec.Staple = &probe.StapleRequest{Endpoint: t.Endpoint, ServerName: t.ServerName, Roots: t.roots,
			Issuer: t.issuer, AllAddresses: t.Addresses == "all", Resolver: resolver, ALPN: t.ALPN,
			StartTLS: t.startTLS, ClientCertificates: t.clientCert, SkipChainVerify: t.InsecureSkipVerify,
			Family: ipFamilies[t.IPFamily], TLSMinVersion: t.tlsMin, TLSMaxVersion: t.tlsMax, Groups: t.tlsGroups, Proxy: t.proxy}
	}
	return spec
}

// NewDuration is a Duration set on purpose, as if written in a file.
func NewDuration(d time.Duration) Duration { return Duration{Duration: d, set: true} }

// Standalone validates a configuration of one target built in code, as
// `ocspwatch check` builds it from its flags: the same defaults, the same
// rules and the same files loaded as for a file. Errors read "key: reason",
// for the caller to name its own flags.
func Standalone(c *Config, t *Target) error {
	c.Targets = []*Target{t}
	if c.files == nil {
		c.files = &fileCache{}
	}
	c.fillDefaults(toml.MetaData{})
	var errs []error
	report := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if d := c.ClockSkew.Duration; d < 0 || d > maxClockSkew {
		report("clock_skew", "%s must be between 0s and %s", d, maxClockSkew)
	}
	t.validate(c, report)
	t.fingerprint = fingerprint(t, c)
	return errors.Join(errs...)
}

// AdhocTarget builds a target for an endpoint probed once through /probe,
// with the global defaults. It is named after its endpoint, and every
// address it leads to, by DNS, certificate or redirect, is checked as
// remote input under the network policy.
func (c *Config) AdhocTarget(endpoint, serverName string) (*Target, error) {
	yes := true
	t := &Target{Endpoint: endpoint, ServerName: serverName, Schedule: c.DefaultSchedule, Timeout: c.DefaultTimeout,
		RequireStaple: "auto", QueryResponder: &yes, Method: "auto", Addresses: "first", CertIDHash: "sha1", ALPN: DefaultALPN, CRL: "auto", IPFamily: "any", adhoc: true}
	var errs []error
	t.validate(c, func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("endpoint %q: %s: %s", endpoint, key, fmt.Sprintf(format, args...)))
	})
	if serverName != "" && !serverNameRE.MatchString(serverName) {
		errs = append(errs, fmt.Errorf("server_name %q is not a DNS name", serverName))
	}
	t.Name = t.Endpoint
	t.fingerprint = fingerprint(t, c)
	return t, errors.Join(errs...)
}

var serverNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$`)

func lastPiece(dotted string) string {
	return dotted[strings.LastIndex(dotted, ".")+1:]
}
