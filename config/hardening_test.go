package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestZeroMeansZero(t *testing.T) {
	cfg, err := Parse([]byte(`clock_skew = "0s"
[responder]
max_redirects = 0
min_interval = "0s"
[[target]]
name = "a"
endpoint = "a.example:443"
`), "zero.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClockSkew.Duration != 0 || cfg.Responder.MaxRedirects != 0 || cfg.Responder.MinInterval.Duration != 0 {
		t.Errorf("explicit zeros became defaults: skew %s, redirects %d, min_interval %s",
			cfg.ClockSkew.Duration, cfg.Responder.MaxRedirects, cfg.Responder.MinInterval.Duration)
	}
	if spec := cfg.Targets[0].Spec(cfg, time.Now, "ua", nil); spec.Policy.Skew != 0 {
		t.Errorf("the probe got skew %s, want 0", spec.Policy.Skew)
	}
}

// TestFIFONeverWedgesALoad gives a FIFO that no one writes to as ca_file:
// reading it would block forever, and with it every later reload.
func TestFIFONeverWedgesALoad(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "roots.pem")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte("[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\nca_file = \""+fifo+"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := Load(path); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "a FIFO, not a regular file") || !strings.Contains(err.Error(), `target "a": ca_file`) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("loading a config whose ca_file is a FIFO blocked")
	}
	if _, err := Load(fifo); err == nil || !strings.Contains(err.Error(), "a FIFO") {
		t.Errorf("a FIFO as the config file itself: %v", err)
	}
}

func TestOversizedFilesAreRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.pem")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxPEMBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := (&fileCache{}).pool(path); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("err = %v", err)
	}
}

// TestManyBadTargetsAreCappedAndNamed checks that a file with thousands of
// bad targets gets a bounded report that still says how many there are.
func TestManyBadTargetsAreCappedAndNamed(t *testing.T) {
	var b strings.Builder
	const n = 8000
	for i := range n {
		fmt.Fprintf(&b, "[[target]]\nname = \"t%d\"\nendpoint = \"bad endpoint\"\n", i)
	}
	_, err := Parse([]byte(b.String()), "many.toml")
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrorsShown+1 || !strings.Contains(lines[len(lines)-1], fmt.Sprintf("and %d more errors", n-maxErrorsShown)) {
		t.Errorf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if !strings.HasPrefix(lines[0], `many.toml:3: target "t0": endpoint:`) {
		t.Errorf("first error %q", lines[0])
	}
}

func BenchmarkParseManyBadTargets(b *testing.B) {
	var sb strings.Builder
	for i := range 8000 {
		fmt.Fprintf(&sb, "[[target]]\nname = \"t%d\"\nendpoint = \"bad endpoint\"\n", i)
	}
	data := []byte(sb.String())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "many.toml"); err == nil {
			b.Fatal("no error")
		}
	}
}

// FuzzParse feeds arbitrary bytes to the config parser: it must never
// panic, and every error must name the file.
func FuzzParse(f *testing.F) {
	for _, path := range []string{"../config.example.toml", "testdata/invalid-ranges.toml", "testdata/invalid-method.toml"} {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("[[target]]\nname = \"a\"\nendpoint = \"a:1\"\n[network]\nallow = [\"::/0\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(data, "fuzz.toml")
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.toml") {
			t.Fatalf("error does not name the file: %v", err)
		}
	})
}

func TestALPNAndPinnedSigner(t *testing.T) {
	signer := filepath.Join(t.TempDir(), "signer.pem")
	leafPEM, err := os.ReadFile("testdata/leaf.pem")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(signer, leafPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte(`[[target]]
name = "default"
endpoint = "a.example:443"
[[target]]
name = "none"
endpoint = "a.example:443"
alpn = []
responder_signer_file = "`+signer+`"
`), "alpn.toml")
	if err != nil {
		t.Fatal(err)
	}
	def := cfg.Targets[0].Spec(cfg, time.Now, "ua", nil)
	none := cfg.Targets[1].Spec(cfg, time.Now, "ua", nil)
	if strings.Join(def.Staple.ALPN, ",") != "h2,http/1.1" || len(none.Staple.ALPN) != 0 {
		t.Errorf("ALPN: default %q, explicit none %q", def.Staple.ALPN, none.Staple.ALPN)
	}
	if len(def.Policy.Pinned) != 0 || len(none.Policy.Pinned) != 1 {
		t.Errorf("pinned signers: %d and %d, want 0 and 1", len(def.Policy.Pinned), len(none.Policy.Pinned))
	}
}

// TestTargetsShareOneParsedCAFile: targets naming one ca_file share one
// read, one parse and one CertPool per load.
func TestTargetsShareOneParsedCAFile(t *testing.T) {
	leafPEM, err := os.ReadFile("testdata/leaf.pem")
	if err != nil {
		t.Fatal(err)
	}
	roots := filepath.Join(t.TempDir(), "roots.pem")
	if err := os.WriteFile(roots, leafPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i := range 3 {
		fmt.Fprintf(&b, "[[target]]\nname = \"t%d\"\nendpoint = \"a.example:443\"\nca_file = %q\n", i, roots)
	}
	cfg, err := Parse([]byte(b.String()), "shared.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Targets[0].roots == nil || cfg.Targets[0].roots != cfg.Targets[1].roots || cfg.Targets[1].roots != cfg.Targets[2].roots {
		t.Error("targets sharing a ca_file got separate CertPools")
	}
}

// TestALPNDefaultsToHTTPSOnly: h2 and http/1.1 are offered to HTTPS
// endpoints only; mail servers such as Exim refuse a handshake offering
// protocols they do not speak.
func TestALPNDefaultsToHTTPSOnly(t *testing.T) {
	cfg, err := Parse([]byte(`[[target]]
name = "web"
endpoint = "www.example.com"
[[target]]
name = "mail"
endpoint = "smtp://mail.example.com"
[[target]]
name = "smtps"
endpoint = "smtps://mail.example.com"
[[target]]
name = "mail-h2"
endpoint = "mail.example.com:25"
starttls = "smtp"
alpn = ["h2"]
`), "alpn.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web": "h2,http/1.1", "mail": "", "smtps": "", "mail-h2": "h2"}
	for _, tg := range cfg.Targets {
		if got := strings.Join(tg.ALPN, ","); got != want[tg.Name] {
			t.Errorf("%s: ALPN %q, want %q", tg.Name, got, want[tg.Name])
		}
	}
}

// TestInheritedCAFileChangesTheFingerprint: a reload that changes the
// global ca_file must replace the targets that inherit it.
func TestInheritedCAFileChangesTheFingerprint(t *testing.T) {
	leafPEM, err := os.ReadFile("testdata/leaf.pem")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.pem"), filepath.Join(dir, "b.pem")
	for _, f := range []string{a, b} {
		if err := os.WriteFile(f, leafPEM, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(caFile string) string {
		cfg, err := Parse([]byte(fmt.Sprintf("ca_file = %q\n[[target]]\nname = \"t\"\nendpoint = \"a.example:443\"\n", caFile)), "ca.toml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Targets[0].Fingerprint()
	}
	if load(a) == load(b) {
		t.Error("changing the global ca_file left the inheriting target's fingerprint unchanged")
	}
}
