package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertificateFilesErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pem")
	broken := filepath.Join(dir, "broken.pem")
	_ = os.WriteFile(empty, []byte("not PEM at all\n"), 0o600)
	_ = os.WriteFile(broken, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600)
	for path, want := range map[string]string{empty: "no PEM CERTIFICATE block found", broken: "certificate 1:", filepath.Join(dir, "missing.pem"): "no such file"} {
		_, err := (&fileCache{}).certificates(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one naming the file and %q", path, err, want)
		}
	}
	files := &fileCache{}
	certs, err := files.certificates("testdata/leaf.pem")
	if err != nil || len(certs) != 1 {
		t.Fatalf("testdata/leaf.pem: %v", err)
	}
	if _, err := files.pool("testdata/leaf.pem"); err != nil {
		t.Error(err)
	}
}
