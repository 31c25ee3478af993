package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCertificatesErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	broken := filepath.Join(dir, "broken.pem")
	_ = os.WriteFile(empty, []byte("not PEM at all\n"), 0o600)
	_ = os.WriteFile(broken, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
	for path, want := range map[string]string{empty: "no PEM CERTIFICATE block found", broken: "certificate 1:", filepath.Join(dir, "missing.pem"): "no such file"} {
		_, err := LoadCertificates(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming the file and %q", path, err, want)
		}
	}
	certs, err := LoadCertificates("testdata/leaf.pem")
	if err != nil || len(certs) != 1 {
		t.Fatalf("testdata/leaf.pem: %v", err)
	}
	if _, err := LoadCertPool("testdata/leaf.pem"); err != nil {
		t.Error(err)
	}
}
