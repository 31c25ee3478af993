package main

import (
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/lint"
	"github.com/ocspwatch/ocspwatch/probe"
)

// lintReport is one run of `ocspwatch lint`, as every output shows it.
type lintReport struct {
	results   []*lint.Result
	skipped   []skippedFile
	strict    bool
	code      int
	checkedAt time.Time
}

// writeLintText prints each bundle's facts and findings for a person.
// Certificate fields and paths are escaped: a subject holding ESC or CR
// must not move the cursor or forge a line.
func writeLintText(out io.Writer, rep lintReport) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %s\t%s\n", label, fmt.Sprintf(format, args...))
	}
	for i, r := range rep.results {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s\n", safe(r.Name))
		leaf := r.Leaf
		line("leaf", "%s", safe(leaf.Subject.String()))
		line("", "issued by %s", safe(leaf.Issuer.String()))
		line("", "valid until %s (%s)", stamp(leaf.NotAfter), human.Expiry(leaf.NotAfter, rep.checkedAt))
		line("names", "%s", safe(leafNames(leaf)))
		line("chain", "%d certificate(s)%s", r.Certificates, chainIssuerNote(r))
		line("must-staple", "%s", yesNo(r.MustStaple))
		line("ocsp", "%s", urlList(r.OCSPURLs))
		line("crl", "%s", urlList(r.CRLURLs))
		line("ca issuers", "%s", urlList(r.CAIssuersURLs))
		if r.ShortLived {
			line("", "short-lived: valid for %s", human.Duration(leaf.NotAfter.Sub(leaf.NotBefore)))
		}
		switch why := r.Skipped[lint.CheckKeyMatch]; {
		case why != "":
			line("key", "not checked: %s", why)
		case !slices.ContainsFunc(r.Findings, func(f lint.Finding) bool { return f.ID == lint.KeyMismatch }):
			line("key", "matches the leaf")
		default:
			line("key", "MISMATCH")
		}
		if why := r.Skipped[lint.CheckOnline]; why != "" {
			line("online", "not run: %s", why)
		}
		if r.Online != nil {
			for _, resp := range r.Online.Responders {
				line("online", "%s: %s", safe(resp.URL), responderStatus(resp))
			}
		}
		for _, f := range r.Findings {
			label := "warning"
			if f.Severity() == lint.SeverityCritical {
				label = "CRITICAL"
			}
			line(label, "%s: %s", f.ID, safe(f.Message))
		}
		line("verdict", "%s", r.Verdict())
	}
	if len(rep.skipped) > 0 {
		fmt.Fprintln(w)
		for _, s := range rep.skipped {
			fmt.Fprintf(w, "skipped %s: %s\n", safe(s.path), safe(s.reason))
		}
	}
	fmt.Fprintln(w)
	counts := map[lint.Verdict]int{}
	for _, r := range rep.results {
		counts[r.Verdict()]++
	}
	fmt.Fprintf(w, "%d bundle(s): %d ok, %d warning, %d critical", len(rep.results), counts[lint.VerdictOK], counts[lint.VerdictWarning], counts[lint.VerdictCritical])
	if rep.strict {
		fmt.Fprint(w, " (strict: warnings fail)")
	}
	fmt.Fprintf(w, "; exit %d\n", rep.code)
	return w.Flush()
}

func chainIssuerNote(r *lint.Result) string {
	if r.Issuer == nil {
		return ", without the leaf's issuer"
	}
	return ", the leaf's issuer is " + safe(r.Issuer.Subject.String())
}

func responderStatus(r *probe.ResponderResult) string {
	switch {
	case r.Response != nil && r.Response.Valid:
		return string(r.Response.CertStatus)
	case len(r.Problems) > 0:
		return "FAILED (" + string(r.Problems[0].Reason) + ")"
	}
	return "no answer"
}

func urlList(urls []string) string {
	if len(urls) == 0 {
		return "none"
	}
	return safe(strings.Join(urls, ", "))
}

// leafNames lists the leaf's SANs, at most shownNames of them.
func leafNames(c *x509.Certificate) string {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	switch {
	case len(names) == 0:
		return "none"
	case len(names) > shownNames:
		return strings.Join(names[:shownNames], ", ") + fmt.Sprintf(" and %d more", len(names)-shownNames)
	}
	return strings.Join(names, ", ")
}

const shownNames = 10

// safe escapes what a terminal would act on; see human.Safe.
func safe(s string) string { return human.Safe(s) }

// The JSON output of `ocspwatch lint` is a documented contract (README,
// "Linting certificates before deploy"); these types pin it apart from
// the lint package's Go types.
type lintJSON struct {
	SchemaVersion int           `json:"schema_version"`
	CheckedAt     time.Time     `json:"checked_at"`
	Strict        bool          `json:"strict"`
	ExitCode      int           `json:"exit_code"`
	Bundles       []bundleJSON  `json:"bundles"`
	SkippedFiles  []skippedJSON `json:"skipped_files"`
}

type bundleJSON struct {
	File          string            `json:"file"`
	Subject       string            `json:"subject"`
	Issuer        string            `json:"issuer"`
	Serial        string            `json:"serial"`
	NotBefore     time.Time         `json:"not_before"`
	NotAfter      time.Time         `json:"not_after"`
	DNSNames      []string          `json:"dns_names"`
	IPAddresses   []string          `json:"ip_addresses"`
	Certificates  int               `json:"certificates"`
	IssuerInChain bool              `json:"issuer_in_bundle"`
	MustStaple    bool              `json:"must_staple"`
	ShortLived    bool              `json:"short_lived"`
	OCSPURLs      []string          `json:"ocsp_urls"`
	CRLURLs       []string          `json:"crl_urls"`
	CAIssuersURLs []string          `json:"ca_issuers_urls"`
	KeysChecked   int               `json:"keys_checked"`
	Responders    []onlineJSON      `json:"ocsp_responders,omitempty"`
	Findings      []findingJSON     `json:"findings"`
	SkippedChecks map[string]string `json:"skipped_checks"`
	Verdict       string            `json:"verdict"`
}

type onlineJSON struct {
	URL        string `json:"url"`
	CertStatus string `json:"cert_status,omitempty"`
	Valid      bool   `json:"valid"`
}

type findingJSON struct {
	ID          string `json:"id"`
	Severity    string `json:"severity"`
	Check       string `json:"check"`
	Description string `json:"description"`
	Message     string `json:"message"`
}

type skippedJSON struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

func writeLintJSON(w io.Writer, rep lintReport) error {
	out := lintJSON{SchemaVersion: 1, CheckedAt: rep.checkedAt.UTC().Truncate(time.Second), Strict: rep.strict, ExitCode: rep.code,
		Bundles: []bundleJSON{}, SkippedFiles: []skippedJSON{}}
	for _, r := range rep.results {
		leaf := r.Leaf
		bj := bundleJSON{File: r.Name, Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), Serial: leaf.SerialNumber.Text(16),
			NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(), DNSNames: capNames(leaf.DNSNames), IPAddresses: []string{},
			Certificates: r.Certificates, IssuerInChain: r.Issuer != nil, MustStaple: r.MustStaple, ShortLived: r.ShortLived,
			OCSPURLs: r.OCSPURLs, CRLURLs: r.CRLURLs, CAIssuersURLs: r.CAIssuersURLs, KeysChecked: r.KeysChecked,
			Findings: []findingJSON{}, SkippedChecks: map[string]string{}, Verdict: string(r.Verdict())}
		for _, ip := range leaf.IPAddresses {
			bj.IPAddresses = append(bj.IPAddresses, ip.String())
		}
		bj.IPAddresses = capNames(bj.IPAddresses)
		if r.Online != nil {
			for _, resp := range r.Online.Responders {
				oj := onlineJSON{URL: resp.URL}
				if resp.Response != nil {
					oj.CertStatus, oj.Valid = string(resp.Response.CertStatus), resp.Response.Valid
				}
				bj.Responders = append(bj.Responders, oj)
			}
		}
		for _, f := range r.Findings {
			bj.Findings = append(bj.Findings, findingJSON{ID: string(f.ID), Severity: string(f.Severity()), Check: string(f.ID.Check()),
				Description: f.ID.Describe(), Message: f.Message})
		}
		for check, why := range r.Skipped {
			bj.SkippedChecks[string(check)] = why
		}
		out.Bundles = append(out.Bundles, bj)
	}
	for _, s := range rep.skipped {
		out.SkippedFiles = append(out.SkippedFiles, skippedJSON{File: s.path, Reason: s.reason})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// maxNames caps the names listed from one certificate; a certificate may
// carry thousands.
const maxNames = 100

func capNames(names []string) []string {
	if len(names) > maxNames {
		return append([]string{}, names[:maxNames]...)
	}
	return append([]string{}, names...)
}

// JUnit XML, as Jenkins, GitLab and GitHub test reporters read it: one
// testsuite per bundle and one testcase per check, so a CI page lists
// "fullchain.pem › chain" and what it found.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// writeLintJUnit reports each check of each bundle as a test case. A
// check fails when one of its findings fails the run (any critical, or
// any warning with --strict); warnings that do not fail the run go to
// the case's system-out, so the CI page agrees with the exit code.
func writeLintJUnit(w io.Writer, rep lintReport) error {
	doc := junitSuites{Name: "ocspwatch lint"}
	started := rep.checkedAt.UTC().Format("2006-01-02T15:04:05")
	for _, r := range rep.results {
		suite := junitSuite{Name: safe(r.Name), Timestamp: started}
		for _, check := range lint.AllChecks() {
			tc := junitCase{Name: string(check), ClassName: safe(r.Name)}
			var failing, notes []string
			firstFailing := ""
			for _, f := range r.Findings {
				if f.ID.Check() != check {
					continue
				}
				text := fmt.Sprintf("%s %s: %s", f.Severity(), f.ID, safe(f.Message))
				if f.Severity() == lint.SeverityCritical || rep.strict {
					if firstFailing == "" {
						firstFailing = string(f.ID)
					}
					failing = append(failing, text)
				} else {
					notes = append(notes, text)
				}
			}
			switch why := r.Skipped[check]; {
			case len(failing) > 0:
				tc.Failure = &junitFailure{Type: firstFailing, Message: strings.Join(failing, "; "), Text: strings.Join(failing, "\n")}
				suite.Failures++
			case why != "" && len(notes) == 0:
				tc.Skipped = &junitSkipped{Message: safe(why)}
				suite.Skipped++
			}
			tc.SystemOut = strings.Join(notes, "\n")
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(suite.Cases)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Skipped += suite.Skipped
		doc.Suites = append(doc.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
