package starttls

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/daemons"
)

// TestExim runs SMTP STARTTLS against a real Exim. The one that staples
// must show its staple in the TLS handshake after Negotiate: the probe
// sees the same staple through STARTTLS as on a direct-TLS port. The one
// that does not advertise STARTTLS must give a RefusedError.
func TestExim(t *testing.T) {
	t.Run("staples", func(t *testing.T) {
		p := newPKI(t, time.Now())
		addr := startExim(t, p, true)
		state := p.negotiateAndHandshake(t, addr, SMTP, Options{})
		p.checkStaple(t, state.OCSPResponse)
	})
	t.Run("not offered", func(t *testing.T) {
		p := newPKI(t, time.Now())
		addr := startExim(t, p, false)
		expectNotOffered(t, addr, SMTP, Options{})
	})
	t.Run("refused", func(t *testing.T) {
		// Exim advertises STARTTLS and loads its key only when asked;
		// an unreadable key makes it answer 454.
		p := newPKI(t, time.Now())
		addr := startExim(t, p, true, func(dir string) {
			if err := os.Chmod(filepath.Join(dir, "key.pem"), 0); err != nil {
				t.Fatal(err)
			}
		})
		_, err := negotiate(t, addr, SMTP, Options{}, 10*time.Second)
		checkRefused(t, err, SMTP, true)
	})
}

// startExim starts Exim (internal/daemons) serving p's files on a free
// port and returns its address.
func startExim(t *testing.T, p *pki, withTLS bool, spoil ...func(dir string)) string {
	t.Helper()
	return daemons.StartExim(t, p.tlsFiles(), withTLS, spoil...)
}
