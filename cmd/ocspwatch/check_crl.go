package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/human"
	"github.com/ocspwatch/ocspwatch/probe"
	"github.com/ocspwatch/ocspwatch/probe/crl"
)

// crlFlags are check's CRL options, kept apart from the OCSP ones.
type crlFlags struct {
	policy string
	file   string
}

func (f *crlFlags) register(cmd *kingpin.CmdClause) {
	enumVar(cmd, "crl", "Which CRLs of the chain to check: auto (certificates without an OCSP URL), on (every one named) or off.", "auto", &f.policy, "auto", "on", "off")
	fileVar(cmd, "crl-file", "DER or PEM CRL to check the leaf against instead of downloading its CRLs, for air-gapped checks.", &f.file)
}

// apply sets the CRL policy on one endpoint's probe target.
func (f *crlFlags) apply(spec *probe.TargetSpec) {
	spec.CRL = probe.CRLPolicy(f.policy)
}

// readFile gives every endpoint --crl-file's contents, read once.
func (f *crlFlags) readFile(specs []probe.TargetSpec) error {
	if f.file == "" {
		return nil
	}
	data, err := config.ReadRegularFile(f.file, crl.DefaultMaxBytes)
	if err != nil {
		return fmt.Errorf("--crl-file: %w", err)
	}
	for i := range specs {
		specs[i].CRLFile = data
	}
	return nil
}

// sharePool gives every endpoint of the run one CRL cache, so a CRL that
// several endpoints name is downloaded once, under the run's context.
func (f *crlFlags) sharePool(ctx context.Context, client *http.Client, specs []probe.TargetSpec) {
	if f.policy == "off" {
		return
	}
	pool := crl.NewPool(crl.PoolOptions{Client: client, UserAgent: userAgent(), Context: ctx})
	for i := range specs {
		specs[i].CRLs = pool
	}
}

// writeChainText shows what revocation checking beyond the leaf's OCSP
// found: each certificate's CRLs and, for intermediates, OCSP answers.
func writeChainText(line func(string, string, ...any), rep *probe.Report, now time.Time) {
	for _, c := range rep.Chain {
		if len(c.CRLs) == 0 && len(c.OCSP) == 0 {
			continue
		}
		who := "leaf"
		if c.Depth > 0 {
			who = fmt.Sprintf("depth %d, %s", c.Depth, c.Subject)
		}
		for _, r := range c.CRLs {
			line("crl", "%s: %s", who, r.URL)
			line("", "%s", crlVerdict(r, now))
		}
		for _, r := range c.OCSP {
			status := "no valid answer"
			if r.Response != nil && r.Response.Valid {
				status = string(r.Response.CertStatus)
				if r.Response.CertStatus == probe.CertRevoked {
					status = "revoked (OCSP)"
				}
			}
			line("ocsp", "%s: %s: %s", who, r.URL, status)
		}
	}
}

func crlVerdict(r *probe.CRLResult, now time.Time) string {
	st := r.Status
	switch {
	case st.Listed:
		return fmt.Sprintf("revoked (CRL) at %s, %s", stamp(st.RevokedAt), crlReasonName(st.ReasonCode))
	case st.Trusted:
		info := r.Snapshot.CRL.Info()
		next := "no NextUpdate"
		if !info.NextUpdate.IsZero() {
			next = "next update " + human.Expiry(info.NextUpdate, now)
		}
		return fmt.Sprintf("good: not listed among %d entries; %s", info.Entries, next)
	case len(st.Problems) > 0:
		return "no verdict: " + st.Problems[0].String()
	}
	return "no verdict"
}

// crlReasonName names an RFC 5280 CRLReason code.
func crlReasonName(code int) string {
	if name := probe.RevocationReasonName(code); name != "" {
		return name
	}
	return "unspecified"
}

// chainJSON is the JSON form of Report.Chain (schema version 1, added
// without a bump: new fields only).
type chainJSON struct {
	Depth    int           `json:"depth"`
	Subject  string        `json:"subject"`
	Serial   string        `json:"serial"`
	CRLs     []crlJSON     `json:"crls"`
	OCSP     []string      `json:"ocsp_urls,omitempty"`
	Revoked  *bool         `json:"revoked,omitempty"`
	Problems []problemJSON `json:"problems"`
}

type crlJSON struct {
	URL        string        `json:"url"`
	Trusted    bool          `json:"trusted"`
	Listed     bool          `json:"listed"`
	RevokedAt  *time.Time    `json:"revoked_at,omitempty"`
	Reason     string        `json:"revocation_reason,omitempty"`
	ThisUpdate *time.Time    `json:"this_update,omitempty"`
	NextUpdate *time.Time    `json:"next_update,omitempty"`
	Entries    int           `json:"entries"`
	Bytes      int64         `json:"bytes"`
	Problems   []problemJSON `json:"problems"`
}

func chainToJSON(rep *probe.Report) []chainJSON {
	out := []chainJSON{}
	for _, c := range rep.Chain {
		cj := chainJSON{Depth: c.Depth, Subject: c.Subject, Serial: c.Serial, CRLs: []crlJSON{}, Problems: problemsJSON(c.Problems)}
		if revoked, known := c.CRLRevoked(); known {
			cj.Revoked = &revoked
		}
		for _, r := range c.OCSP {
			cj.OCSP = append(cj.OCSP, r.URL)
		}
		for _, r := range c.CRLs {
			rj := crlJSON{URL: r.URL, Trusted: r.Status.Trusted, Listed: r.Status.Listed, Problems: []problemJSON{}}
			for _, p := range r.Status.Problems {
				rj.Problems = append(rj.Problems, problemJSON{Reason: string(p.Reason), Description: p.Reason.Describe(), Detail: p.Detail})
			}
			if r.Status.Listed {
				at := r.Status.RevokedAt.UTC()
				rj.RevokedAt, rj.Reason = &at, crlReasonName(r.Status.ReasonCode)
			}
			if r.Snapshot != nil && r.Snapshot.CRL != nil {
				info := r.Snapshot.CRL.Info()
				this := info.ThisUpdate.UTC()
				rj.ThisUpdate, rj.Entries, rj.Bytes = &this, info.Entries, info.DERBytes
				if !info.NextUpdate.IsZero() {
					next := info.NextUpdate.UTC()
					rj.NextUpdate = &next
				}
			}
			cj.CRLs = append(cj.CRLs, rj)
		}
		out = append(out, cj)
	}
	return out
}
