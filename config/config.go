package config

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/robfig/cron/v3"

	"github.com/ocspwatch/ocspwatch/probe"
)

// Defaults filled in before validation.
const (
	DefaultSchedule            = "@every 1m"
	DefaultTimeout             = 10 * time.Second
	DefaultMaxConcurrentProbes = 32
)

// Config is the whole ocspwatch configuration file.
type Config struct {
	Region              string    `toml:"region"`
	DefaultSchedule     string    `toml:"default_schedule"`
	DefaultTimeout      Duration  `toml:"default_timeout"`
	ClockSkew           Duration  `toml:"clock_skew"`
	MaxConcurrentProbes int       `toml:"max_concurrent_probes"`
	AllowAdhoc          bool      `toml:"allow_adhoc"`
	Responder           Responder `toml:"responder"`
	Targets             []*Target `toml:"target"`
	// Labels are default custom labels for every target (labels.go).
	Labels map[string]string `toml:"labels"`
	// LabelMode is "info" (custom labels only on ocsp_target_info) or
	// "all" (on every series of the target).
	LabelMode string `toml:"label_mode"`
}

// Responder holds the politeness settings shared by all responder queries.
type Responder struct {
	PerHostConcurrency int      `toml:"per_host_concurrency"`
	MinInterval        Duration `toml:"min_interval"`
	MaxBodyBytes       int64    `toml:"max_body_bytes"`
	MaxRedirects       int      `toml:"max_redirects"`
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
	// Labels are this target's custom labels, over the top-level ones.
	Labels map[string]string `toml:"labels"`

	// Filled by validation.
	parsedSchedule cron.Schedule
	roots          *x509.CertPool
	issuer         *x509.Certificate
	leaf           *x509.Certificate
	fingerprint    string
	metricLabels   []Label
	labelsOnAll    bool
}

// Duration is a TOML string such as "30s" or "5m".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s or 5m", b)
	}
	d.Duration = v
	return nil
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

// Load reads, decodes strictly, defaults and validates a config file.
// Every error names the file; errors in a target also name the target,
// the key and, where it can be found, the line.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse is Load for bytes already read; path is used in errors and to
// resolve nothing else (file paths inside are used as written).
func Parse(data []byte, path string) (*Config, error) {
	cfg := &Config{}
	loc := newLocator(data)
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(cfg)
	if err != nil {
		var perr toml.ParseError
		if !errors.As(err, &perr) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		line := perr.Position.Line
		if perr.LastKey == "" {
			return nil, fmt.Errorf("%s:%d: %s", path, line, perr.Message)
		}
		return nil, fmt.Errorf("%s:%d:%s %s: %s", path, line, loc.targetAt(line), lastPiece(perr.LastKey), perr.Message)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		key := undecoded[0]
		line := loc.lineOfKey(key)
		return nil, fmt.Errorf("%s:%d:%s unknown key %q", path, line, loc.targetAt(line), key[len(key)-1])
	}
	cfg.fillDefaults()
	if errs := cfg.validate(loc, path); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func (c *Config) fillDefaults() {
	if c.DefaultSchedule == "" {
		c.DefaultSchedule = DefaultSchedule
	}
	if c.DefaultTimeout.Duration == 0 {
		c.DefaultTimeout.Duration = DefaultTimeout
	}
	if c.ClockSkew.Duration == 0 {
		c.ClockSkew.Duration = probe.DefaultSkew
	}
	if c.MaxConcurrentProbes == 0 {
		c.MaxConcurrentProbes = DefaultMaxConcurrentProbes
	}
	if c.Responder.PerHostConcurrency == 0 {
		c.Responder.PerHostConcurrency = probe.DefaultPerHostConcurrency
	}
	if c.Responder.MinInterval.Duration == 0 {
		c.Responder.MinInterval.Duration = probe.DefaultMinRequeryInterval
	}
	if c.Responder.MaxBodyBytes == 0 {
		c.Responder.MaxBodyBytes = probe.DefaultMaxBodyBytes
	}
	if c.Responder.MaxRedirects == 0 {
		c.Responder.MaxRedirects = probe.DefaultMaxRedirects
	}
	for _, t := range c.Targets {
		if t.Schedule == "" {
			t.Schedule = c.DefaultSchedule
		}
		if t.Timeout.Duration == 0 {
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
	}
}

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
	if c.DefaultTimeout.Duration < 0 {
		global("default_timeout", "must be positive")
	}
	if c.ClockSkew.Duration < 0 || c.ClockSkew.Duration > time.Hour {
		global("clock_skew", "%s must be between 0 and 1h", c.ClockSkew)
	}
	if c.MaxConcurrentProbes < 1 {
		global("max_concurrent_probes", "%d must be at least 1", c.MaxConcurrentProbes)
	}
	if c.Responder.PerHostConcurrency < 1 {
		global("per_host_concurrency", "%d must be at least 1", c.Responder.PerHostConcurrency)
	}
	if c.Responder.MinInterval.Duration < 0 {
		global("min_interval", "must not be negative")
	}
	if c.Responder.MaxBodyBytes < 1024 {
		global("max_body_bytes", "%d is too small for an OCSP response (at least 1024)", c.Responder.MaxBodyBytes)
	}
	if c.Responder.MaxRedirects < 0 || c.Responder.MaxRedirects > 10 {
		global("max_redirects", "%d must be between 0 and 10", c.Responder.MaxRedirects)
	}
	seen := map[string]int{}
	for i, t := range c.Targets {
		fail := func(key, format string, args ...any) {
			name := t.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			errs = append(errs, fmt.Errorf("%s:%d: target %q: %s: %s", path, loc.lineInTarget(i, key), name, key, fmt.Sprintf(format, args...)))
		}
		if !targetNameRE.MatchString(t.Name) {
			fail("name", "%q must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", t.Name)
		} else if first, dup := seen[t.Name]; dup {
			fail("name", "duplicates target #%d", first+1)
		} else {
			seen[t.Name] = i
		}
		t.validate(c, fail)
	}
	errs = append(errs, c.validateLabels(loc, path)...)
	return errs
}

func (t *Target) validate(c *Config, fail func(key, format string, args ...any)) {
	var err error
	switch {
	case t.Endpoint != "" && t.CertFile != "":
		fail("endpoint", "set either endpoint or cert_file, not both")
	case t.Endpoint == "" && t.CertFile == "":
		fail("endpoint", "set endpoint (host:port), or cert_file and issuer_file for a responder-only target")
	case t.Endpoint != "":
		if host, port, err := splitEndpoint(t.Endpoint); err != nil {
			fail("endpoint", "%q: %v", t.Endpoint, err)
		} else {
			t.Endpoint = host + ":" + port
			if strings.Contains(host, ":") {
				t.Endpoint = "[" + host + "]:" + port
			}
		}
	case t.CertFile != "":
		if t.IssuerFile == "" {
			fail("issuer_file", "a responder-only target (cert_file) needs issuer_file")
		}
		if !*t.QueryResponder {
			fail("query_responder", "a responder-only target (cert_file) must query its responders")
		}
		if t.leaf, err = LoadCertificate(t.CertFile); err != nil {
			fail("cert_file", "%v", err)
		}
	}
	if t.Schedule != "" {
		if t.parsedSchedule, err = parseSchedule(t.Schedule, t.Name); err != nil {
			fail("schedule", "%q: %v", t.Schedule, err)
		}
	}
	if t.Timeout.Duration <= 0 || t.Timeout.Duration > 5*time.Minute {
		fail("timeout", "%s must be above 0 and at most 5m", t.Timeout)
	}
	if t.CAFile != "" {
		if t.roots, err = LoadCertPool(t.CAFile); err != nil {
			fail("ca_file", "%v", err)
		}
	}
	if t.IssuerFile != "" {
		if t.issuer, err = LoadCertificate(t.IssuerFile); err != nil {
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
	if t.RequireNonce && !t.Nonce {
		fail("require_nonce", "needs nonce = true")
	}
	for i, u := range t.Responders {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			fail("responders", "%q is not an http:// or https:// URL", u)
		}
		if slices.Contains(t.Responders[:i], u) {
			fail("responders", "%q is listed twice", u)
		}
	}
	t.fingerprint = fingerprint(t)
}

// fingerprint identifies a target's effective settings and the files it
// reads, so a reload can tell changed targets from unchanged ones.
func fingerprint(t *Target) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q|%q|%q|%q|%q|%q|%q|%s|%q|%v|%q|%q|%v|%v|%q", t.Endpoint, t.ServerName, t.Addresses, t.CAFile, t.IssuerFile, t.CertFile,
		t.Schedule, t.Timeout, t.RequireStaple, *t.QueryResponder, t.Responders, t.Method, t.Nonce, t.RequireNonce, t.CertIDHash)
	for _, f := range []string{t.CAFile, t.IssuerFile, t.CertFile} {
		if f != "" {
			data, _ := os.ReadFile(f)
			h.Write(data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
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
		Skew:           c.ClockSkew.Duration,
		Leaf:           t.leaf,
		Issuer:         t.issuer,
	}
	if t.CertIDHash == "sha256" {
		spec.Hash = crypto.SHA256
	}
	if t.Endpoint != "" {
		spec.Staple = &probe.StapleRequest{Endpoint: t.Endpoint, ServerName: t.ServerName, Roots: t.roots,
			Issuer: t.issuer, AllAddresses: t.Addresses == "all", Resolver: resolver}
	}
	return spec
}

// AdhocTarget builds a target for an endpoint probed once through /probe,
// with the global defaults.
func (c *Config) AdhocTarget(endpoint string) (*Target, error) {
	yes := true
	t := &Target{Name: "adhoc", Endpoint: endpoint, Schedule: c.DefaultSchedule, Timeout: c.DefaultTimeout,
		RequireStaple: "auto", QueryResponder: &yes, Method: "auto", Addresses: "first", CertIDHash: "sha1"}
	var errs []error
	t.validate(c, func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("endpoint %q: %s: %s", endpoint, key, fmt.Sprintf(format, args...)))
	})
	return t, errors.Join(errs...)
}

func lastPiece(dotted string) string {
	return dotted[strings.LastIndex(dotted, ".")+1:]
}

func splitEndpoint(s string) (host, port string, err error) {
	host, port, err = netSplitHostPort(s)
	if err != nil {
		return "", "", errors.New("must be host:port, for example www.example.com:443")
	}
	if host == "" || port == "" || strings.ContainsAny(host, "/ ") {
		return "", "", errors.New("must be host:port, for example www.example.com:443")
	}
	return host, port, nil
}
