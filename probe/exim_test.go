package probe

import (
	"slices"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/daemons"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
	"github.com/ocspwatch/ocspwatch/probe/starttls"
)

// TestEximSameVerdicts probes a real, stapling Exim (tls_ocsp_file) over
// SMTP STARTTLS and a direct-TLS server serving the same chain and staple:
// the verdicts must match. Exim's TLS library checks the staple against
// the real clock, so this PKI lives around time.Now rather than the
// frozen clock. It also refuses STARTTLS (454) rather than staple a
// revoked response, so the verdicts on bad staples are compared over the
// scripted server of TestStartTLSSameVerdicts.
func TestEximSameVerdicts(t *testing.T) {
	realNow := time.Now()
	root, err := testpki.NewRoot("Exim Test Root", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := root.NewIntermediate("Exim Test Intermediate", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := inter.NewLeaf(testpki.LeafOptions{OCSPServers: []string{"http://127.0.0.1:1/ocsp"}, NotBefore: realNow.Add(-24 * time.Hour), NotAfter: realNow.Add(30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	response := func(status int) []byte {
		return testpki.Response{Entries: []testpki.Entry{testpki.EntryFor(leaf, status, realNow.Add(-time.Hour), realNow.Add(24*time.Hour))}, ProducedAt: realNow.Add(-time.Hour), Signer: inter}.MustDER()
	}
	cases := []struct {
		name   string
		staple []byte
		want   []Reason
		status CertStatus
	}{
		{name: "good", staple: response(testpki.Good), status: CertGood},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := daemons.TLSFiles{ChainPEM: append(leaf.PEM(), inter.PEM()...), KeyPEM: leaf.KeyPEM(), StapleDER: tc.staple}
			exim := daemons.StartExim(t, files, true)
			direct := startTLS(t, leaf, tc.staple, testpki.ServerOptions{})
			req := StapleRequest{ServerName: "localhost", Roots: root.Pool(), Now: time.Now}
			req.Endpoint = direct.Addr
			want := stapleOnce(t, req)
			req.Endpoint, req.StartTLS = exim, starttls.SMTP
			got := stapleOnce(t, req)
			if !got.HandshakeOK || !got.StaplePresent {
				t.Fatalf("Exim: handshake %v, staple present %v, problems %v", got.HandshakeOK, got.StaplePresent, got.Problems)
			}
			for who, r := range map[string]*StapleResult{"Exim": got, "direct": want} {
				if g := reasonsOf(r.Problems); !slices.Equal(g, tc.want) {
					t.Errorf("%s: reasons %v, want %v (%v)", who, g, tc.want, r.Problems)
				}
				if r.Staple == nil || !r.Staple.Valid || r.Staple.CertStatus != tc.status || !r.ChainVerified {
					t.Errorf("%s: staple %+v, chain verified %v", who, r.Staple, r.ChainVerified)
				}
			}
		})
	}
	t.Run("STARTTLS not offered", func(t *testing.T) {
		files := daemons.TLSFiles{ChainPEM: append(leaf.PEM(), inter.PEM()...), KeyPEM: leaf.KeyPEM(), StapleDER: response(testpki.Good)}
		exim := daemons.StartExim(t, files, false)
		r := stapleOnce(t, StapleRequest{Endpoint: exim, ServerName: "localhost", StartTLS: starttls.SMTP, Now: time.Now})
		if r.HandshakeOK || !slices.Equal(reasonsOf(r.Problems), []Reason{ReasonStartTLSRefused}) {
			t.Errorf("handshake %v, problems %v; want starttls_refused", r.HandshakeOK, r.Problems)
		}
	})
}
