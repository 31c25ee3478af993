package lint

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// pki is a small hierarchy valid around testpki.Epoch, with the leaf
// options a well-made server certificate has.
type pki struct {
	root, inter, otherInter, sameNameInter, rsaInter *testpki.Cert
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	must := func(c *testpki.Cert, err error) *testpki.Cert {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	p := &pki{}
	p.root = must(testpki.NewRoot("Lint Root", testpki.ECDSAP256))
	p.inter = must(p.root.NewIntermediate("Lint Intermediate", testpki.ECDSAP256))
	// Same name, different key: what a CA's re-keyed intermediate looks
	// like next to the old one.
	p.sameNameInter = must(p.root.NewIntermediate("Lint Intermediate", testpki.ECDSAP256))
	other := must(testpki.NewRoot("Other Root", testpki.ECDSAP256))
	p.otherInter = must(other.NewIntermediate("Other Intermediate", testpki.ECDSAP256))
	rsaRoot := must(testpki.NewRoot("Lint RSA Root", testpki.RSA2048))
	p.rsaInter = must(rsaRoot.NewIntermediate("Lint RSA Intermediate", testpki.RSA2048))
	return p
}

// good is a leaf with everything a linter wants; change one field to
// build it wrong on purpose.
func good() testpki.LeafOptions {
	return testpki.LeafOptions{
		DNSNames:    []string{"www.example.test"},
		OCSPServers: []string{"http://ocsp.example.test"},
		CRLServers:  []string{"http://crl.example.test/inter.crl"},
		CAIssuers:   []string{"http://ca.example.test/inter.crt"},
	}
}

func (p *pki) leaf(t *testing.T, change func(*testpki.LeafOptions)) *testpki.Cert {
	t.Helper()
	opts := good()
	if change != nil {
		change(&opts)
	}
	ca := p.inter
	if opts.SignatureAlgorithm == x509.SHA1WithRSA {
		ca = p.rsaInter
	}
	leaf, err := ca.NewLeaf(opts)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func bundleOf(certs ...*testpki.Cert) *Bundle {
	b := &Bundle{Name: "fullchain.pem"}
	for _, c := range certs {
		b.Certs = append(b.Certs, c.Cert)
	}
	return b
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func findingIDs(r *Result) []ID {
	var out []ID
	for _, f := range r.Findings {
		out = append(out, f.ID)
	}
	slices.Sort(out)
	return out
}

func TestEveryFindingOnCertificatesBuiltWrong(t *testing.T) {
	p := newPKI(t)
	now := testpki.Epoch
	leaf := p.leaf(t, nil)
	otherLeaf := p.leaf(t, nil)
	withKey := func(b *Bundle, c *testpki.Cert) *Bundle {
		b.Keys = append(b.Keys, Key{Source: "key.pem", Public: c.Key.Public()})
		return b
	}
	cases := []struct {
		name    string
		bundle  *Bundle
		opts    Options
		want    []ID
		message string
	}{
		{
			name:   "well made",
			bundle: withKey(bundleOf(leaf, p.inter), leaf),
			opts:   Options{Hosts: []string{"www.example.test"}},
		},
		{
			name:    "intermediate before leaf",
			bundle:  bundleOf(p.inter, leaf),
			want:    []ID{ChainWrongOrder},
			message: "put them in this order: certificate 2 (CN=www.example.test), certificate 1 (CN=Lint Intermediate,O=ocspwatch test)",
		},
		{
			name:    "root before intermediate",
			bundle:  bundleOf(leaf, p.root, p.inter),
			want:    []ID{ChainIncludesRoot, ChainWrongOrder},
			message: "certificate 3 (CN=Lint Intermediate,O=ocspwatch test), certificate 2 (CN=Lint Root,O=ocspwatch test)",
		},
		{
			name:    "unrelated intermediate",
			bundle:  bundleOf(leaf, p.otherInter),
			want:    []ID{ChainGap},
			message: "is issued by CN=Lint Intermediate,O=ocspwatch test, which is not certificate 2 (CN=Other Intermediate,O=ocspwatch test) nor anywhere in the bundle",
		},
		{
			name:   "intermediate missing between leaf and root",
			bundle: bundleOf(leaf, p.root),
			want:   []ID{ChainGap, ChainIncludesRoot},
		},
		{
			name:   "certificate after the root",
			bundle: bundleOf(leaf, p.inter, p.root, p.otherInter),
			want:   []ID{ChainGap, ChainIncludesRoot},
		},
		{
			name:    "wrong order that cannot be completed",
			bundle:  bundleOf(leaf, p.otherInter, p.inter),
			want:    []ID{ChainGap, ChainWrongOrder},
			message: "is issued by certificate 3 (CN=Lint Intermediate,O=ocspwatch test), not by the next one",
		},
		{
			name:    "duplicate intermediate",
			bundle:  bundleOf(leaf, p.inter, p.inter),
			want:    []ID{ChainDuplicate},
			message: "certificate 3 repeats certificate 2",
		},
		{
			name:    "same-name intermediate with another key",
			bundle:  bundleOf(leaf, p.sameNameInter),
			want:    []ID{ChainBadSignature},
			message: "names certificate 2 (CN=Lint Intermediate,O=ocspwatch test) as its issuer, but",
		},
		{
			name:   "leaf alone",
			bundle: bundleOf(leaf),
			want:   []ID{ChainIncomplete},
		},
		{
			name:   "root included",
			bundle: bundleOf(leaf, p.inter, p.root),
			want:   []ID{ChainIncludesRoot},
		},
		{
			name:   "self-signed leaf",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.SelfSigned = true })),
			want:   []ID{LeafSelfSigned},
		},
		{
			name:   "chain file linted as a bundle",
			bundle: bundleOf(p.inter, p.root),
			want:   []ID{ChainIncludesRoot, LeafEKUAbsent, LeafIsCA, LeafNoSAN, NoCAIssuersURL, NoRevocationURL},
		},
		{
			name:    "no SAN",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.NoSAN = true }), p.inter),
			want:    []ID{LeafNoSAN},
			message: "the leaf (CN=www.example.test) has no subject alternative names",
		},
		{
			name:    "host not covered",
			bundle:  bundleOf(leaf, p.inter),
			opts:    Options{Hosts: []string{"www.example.test", "api.example.test"}},
			want:    []ID{LeafHostMismatch},
			message: "does not cover api.example.test; it covers www.example.test",
		},
		{
			name:    "ECDSA leaf with keyEncipherment only",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.KeyUsage = x509.KeyUsageKeyEncipherment }), p.inter),
			want:    []ID{LeafKeyUsage},
			message: "allows only keyEncipherment; its ECDSA key needs digitalSignature",
		},
		{
			name: "RSA leaf with keyEncipherment only",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.KeyUsage, o.KeyType = x509.KeyUsageKeyEncipherment, testpki.RSA2048
			}), p.inter),
		},
		{
			name:    "clientAuth only",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }), p.inter),
			want:    []ID{LeafNoServerAuth},
			message: "has extended key usage clientAuth",
		},
		{
			name:   "no EKU extension",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.NoExtKeyUsage = true }), p.inter),
			want:   []ID{LeafEKUAbsent},
		},
		{
			name:    "SHA-1 signature",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.SignatureAlgorithm = x509.SHA1WithRSA }), p.rsaInter),
			want:    []ID{WeakSignature},
			message: "is signed with SHA1-RSA",
		},
		{
			name:    "RSA 1024",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.KeyType = testpki.RSA1024 }), p.inter),
			want:    []ID{WeakKey},
			message: "has a 1024-bit RSA key",
		},
		{
			name:    "P-224",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.KeyType = testpki.ECDSAP224 }), p.inter),
			want:    []ID{WeakKey},
			message: "has an EC key on P-224",
		},
		{
			name: "expired",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter = now.Add(-days(90)), now.Add(-time.Hour)
			}), p.inter),
			want:    []ID{Expired},
			message: "expired at 2026-06-01 11:00:00 UTC (expired 1h ago)",
		},
		{
			name: "not yet valid",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter = now.Add(time.Hour), now.Add(days(90))
			}), p.inter),
			want: []ID{NotYetValid},
		},
		{
			name: "expires within crit",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter = now.Add(-days(85)), now.Add(days(5))
			}), p.inter),
			want:    []ID{ExpiresVerySoon},
			message: "expires in 5d, within the critical threshold of 7d",
		},
		{
			name: "expires within warn",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter = now.Add(-days(70)), now.Add(days(20))
			}), p.inter),
			want:    []ID{ExpiresSoon},
			message: "expires in 20d, within the warning threshold of 30d",
		},
		{
			name: "custom thresholds",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter = now.Add(-days(70)), now.Add(days(20))
			}), p.inter),
			opts:    Options{Warn: days(25), Crit: days(21)},
			want:    []ID{ExpiresVerySoon},
			message: "within the critical threshold of 21d",
		},
		{
			name: "thresholds beyond a third of the lifetime are cut",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter = now.Add(-days(70)), now.Add(days(20))
			}), p.inter),
			opts:    Options{Warn: days(60), Crit: days(40)},
			want:    []ID{ExpiresSoon},
			message: "within the warning threshold of 30d",
		},
		{
			name: "6-day certificate with no revocation URL, half its life left",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter, o.OCSPServers, o.CRLServers = now.Add(-days(3)), now.Add(days(3)), nil, nil
			}), p.inter),
		},
		{
			name: "6-day certificate under --require ocsp",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.NotBefore, o.NotAfter, o.OCSPServers, o.CRLServers = now.Add(-days(3)), now.Add(days(3)), nil, nil
			}), p.inter),
			opts: Options{Require: RequireOCSP},
			want: []ID{NoOCSPURL},
		},
		{
			name: "must-staple without OCSP URL",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) {
				o.MustStaple, o.OCSPServers = true, nil
			}), p.inter),
			want: []ID{MustStapleNoOCSP},
		},
		{
			name:    "no revocation URL",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.CRLServers = nil, nil }), p.inter),
			want:    []ID{NoRevocationURL},
			message: "is valid for 90d with no OCSP or CRL URL",
		},
		{
			name:   "no revocation URL under --require none",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers, o.CRLServers = nil, nil }), p.inter),
			opts:   Options{Require: RequireNone},
		},
		{
			name:   "CRL only under --require any",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers = nil }), p.inter),
		},
		{
			name:    "CRL only under --require ocsp",
			bundle:  bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.OCSPServers = nil }), p.inter),
			opts:    Options{Require: RequireOCSP},
			want:    []ID{NoOCSPURL},
			message: "has no AIA OCSP URL (it has a CRL URL)",
		},
		{
			name:   "OCSP only under --require crl",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.CRLServers = nil }), p.inter),
			opts:   Options{Require: RequireCRL},
			want:   []ID{NoCRLURL},
		},
		{
			name:   "no caIssuers URL",
			bundle: bundleOf(p.leaf(t, func(o *testpki.LeafOptions) { o.CAIssuers = nil }), p.inter),
			want:   []ID{NoCAIssuersURL},
		},
		{
			name:    "key of another leaf",
			bundle:  withKey(bundleOf(leaf, p.inter), otherLeaf),
			want:    []ID{KeyMismatch},
			message: "the ECDSA key from key.pem is not the key of the leaf (CN=www.example.test)",
		},
		{
			name:    "key of the intermediate",
			bundle:  withKey(bundleOf(leaf, p.inter), p.inter),
			want:    []ID{KeyMismatch},
			message: "; it belongs to certificate 2 (CN=Lint Intermediate,O=ocspwatch test)",
		},
	}
	seen := map[ID]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = now
			r := Run(tc.bundle, tc.opts)
			got := findingIDs(r)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("findings %v, want %v\n%v", got, want, r.Findings)
			}
			if tc.message != "" && !slices.ContainsFunc(r.Findings, func(f Finding) bool { return strings.Contains(f.Message, tc.message) }) {
				t.Errorf("no finding says %q: %v", tc.message, r.Findings)
			}
			wantVerdict := VerdictOK
			for _, id := range want {
				seen[id] = true
				if wantVerdict != VerdictCritical {
					wantVerdict = Verdict(id.Severity())
				}
			}
			if r.Verdict() != wantVerdict {
				t.Errorf("verdict %s, want %s", r.Verdict(), wantVerdict)
			}
		})
	}
	for _, id := range AllIDs() {
		if !seen[id] && id.Check() != CheckOnline {
			t.Errorf("no case produces %s", id)
		}
	}
}

func TestResultFacts(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(t, func(o *testpki.LeafOptions) {
		o.MustStaple = true
		o.OCSPServers = []string{"http://ocsp.example.test", "http://ocsp.example.test"}
	})
	b := bundleOf(p.inter, leaf, p.root)
	r := Run(b, Options{Now: testpki.Epoch})
	if r.Leaf != leaf.Cert || r.Issuer != p.inter.Cert || r.Certificates != 3 || !r.MustStaple || r.ShortLived {
		t.Errorf("result %+v", r)
	}
	if !slices.Equal(r.OCSPURLs, []string{"http://ocsp.example.test"}) || len(r.CRLURLs) != 1 || len(r.CAIssuersURLs) != 1 {
		t.Errorf("URLs %v %v %v, want de-duplicated", r.OCSPURLs, r.CRLURLs, r.CAIssuersURLs)
	}
	if r.Skipped[CheckKeyMatch] == "" || r.Skipped[CheckOnline] == "" || len(r.Skipped) != 2 {
		t.Errorf("skipped %v", r.Skipped)
	}
	if !r.Fails(false) {
		t.Error("a wrong-order bundle does not fail")
	}
	warnOnly := Run(bundleOf(leaf, p.inter, p.root), Options{Now: testpki.Epoch})
	if warnOnly.Verdict() != VerdictWarning || warnOnly.Fails(false) || !warnOnly.Fails(true) {
		t.Errorf("root included: verdict %s, fails %v/%v", warnOnly.Verdict(), warnOnly.Fails(false), warnOnly.Fails(true))
	}
	if l, issuer := Leaf(b); l != leaf.Cert || issuer != p.inter.Cert {
		t.Errorf("Leaf = %v, %v", l.Subject, issuer)
	}
}

func TestFindingTableIsComplete(t *testing.T) {
	if len(AllIDs()) != len(ids) {
		t.Errorf("AllIDs has %d IDs, the table %d", len(AllIDs()), len(ids))
	}
	checks := map[Check]bool{}
	for _, id := range AllIDs() {
		info, ok := ids[id]
		if !ok || info.description == "" || (info.severity != SeverityWarning && info.severity != SeverityCritical) {
			t.Errorf("%s: %+v", id, info)
		}
		if !slices.Contains(AllChecks(), info.check) {
			t.Errorf("%s: check %q is not in AllChecks", id, info.check)
		}
		checks[info.check] = true
	}
	for _, c := range AllChecks() {
		if !checks[c] {
			t.Errorf("check %s has no finding", c)
		}
	}
}

func TestParseBundle(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(t, nil)
	rsaLeaf := p.leaf(t, func(o *testpki.LeafOptions) { o.KeyType = testpki.RSA2048 })
	sec1, err := x509.MarshalECPrivateKey(leaf.Key.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	ecKey := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})
	rsaKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaLeaf.Key.(*rsa.PrivateKey))})
	dhParams := []byte("-----BEGIN DH PARAMETERS-----\nMAA=\n-----END DH PARAMETERS-----\n")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	for _, tc := range []struct {
		name  string
		data  []byte
		certs int
		keys  []any
	}{
		{name: "fullchain", data: cat(leaf.PEM(), p.inter.PEM()), certs: 2},
		{name: "chain with PKCS #8 key and parameters", data: cat(leaf.PEM(), p.inter.PEM(), dhParams, leaf.KeyPEM()), certs: 2, keys: []any{leaf.Key.Public()}},
		{name: "SEC 1 key first", data: cat(ecKey, leaf.PEM()), certs: 1, keys: []any{leaf.Key.Public()}},
		{name: "PKCS #1 key", data: cat(rsaLeaf.PEM(), rsaKey), certs: 1, keys: []any{rsaLeaf.Key.Public()}},
		{name: "DER", data: leaf.Cert.Raw, certs: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ParseBundle("f.pem", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Certs) != tc.certs || len(b.Keys) != len(tc.keys) || b.Name != "f.pem" {
				t.Fatalf("%d certs, %d keys", len(b.Certs), len(b.Keys))
			}
			for i, k := range tc.keys {
				if !samePublicKey(b.Keys[i].Public, k) || b.Keys[i].Source != "f.pem" {
					t.Errorf("key %d differs", i)
				}
			}
		})
	}

	badCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})
	for _, tc := range []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{name: "key only", data: leaf.KeyPEM(), is: ErrNoCertificate},
		{name: "DH parameters", data: dhParams, is: ErrNoCertificate},
		{name: "empty", data: nil, is: ErrNoCertificate},
		{name: "bad second certificate", data: cat(leaf.PEM(), badCert), want: "certificate 2: x509:"},
		{name: "encrypted key", data: cat(leaf.PEM(), encrypted), want: "private key 1: the private key is encrypted"},
		{name: "legacy encrypted key", data: cat(leaf.PEM(), legacyEncrypted), want: "private key 1: the private key is encrypted"},
		{name: "too many certificates", data: bytes.Repeat(leaf.PEM(), MaxCertificates+1), want: "more than 32 certificates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBundle("f.pem", tc.data)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q / %v", err, tc.want, tc.is)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf(t, nil)
	k, err := ParseKey("combined.pem", bytes.Join([][]byte{leaf.PEM(), leaf.KeyPEM()}, nil))
	if err != nil || !samePublicKey(k.Public, leaf.Key.Public()) || k.Source != "combined.pem" {
		t.Errorf("ParseKey = %+v, %v", k, err)
	}
	if _, err := ParseKey("k", leaf.PEM()); err == nil || !strings.Contains(err.Error(), "no PEM private key block") {
		t.Errorf("no key: %v", err)
	}
	if _, err := ParseKey("k", bytes.Join([][]byte{leaf.KeyPEM(), p.inter.KeyPEM()}, nil)); err == nil || !strings.Contains(err.Error(), "2 private keys found") {
		t.Errorf("two keys: %v", err)
	}
}
