package exporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocspwatch/ocspwatch/config"
	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// TestCRLCacheFollowsTheResponderRoots: the CRL cache downloads with the
// responders' client, so a reload keeps it while that client's settings
// hold and replaces it when [responder] ca_file changes, even when only
// the file's contents did.
func TestCRLCacheFollowsTheResponderRoots(t *testing.T) {
	dir := t.TempDir()
	rootsFile := filepath.Join(dir, "roots.pem")
	configFile := filepath.Join(dir, "ocspwatch.toml")
	text := fmt.Sprintf("[responder]\nca_file = %q\n\n[[target]]\nname = \"www\"\nendpoint = \"127.0.0.1:443\"\n", rootsFile)
	load := func(rootName string) *config.Config {
		t.Helper()
		root, err := testpki.NewRoot(rootName, testpki.ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(rootsFile, root.PEM(), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(configFile, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(configFile)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	a := &Agent{root: context.Background()}
	first := load("Root One")
	pool := a.crlPool(first, nil)
	if again := a.crlPool(first, nil); again != pool {
		t.Error("a reload with the same settings replaced the CRL cache")
	}
	if next := a.crlPool(load("Root Two"), nil); next == pool {
		t.Error("new contents in [responder] ca_file kept the CRL cache built with the old roots")
	}
}
