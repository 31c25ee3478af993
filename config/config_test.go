package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the expected errors in testdata/*.err")

// Every invalid-*.toml is paired with the exact error it must produce, in
// invalid-*.err; go test -update rewrites them after a deliberate change.
func TestInvalidConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid configs: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := Load(path)
			if err == nil {
				t.Fatal("loaded without error")
			}
			golden := strings.TrimSuffix(path, ".toml") + ".err"
			if *update {
				if err := os.WriteFile(golden, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(golden)
			if rerr != nil {
				t.Fatalf("read %s (run go test -update): %v", golden, rerr)
			}
			if got := err.Error() + "\n"; got != string(want) {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestExampleConfigLoads(t *testing.T) {
	cfg, err := Load("../config.example.toml")
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if cfg.Region != "eu-west-1" || len(cfg.Targets) != 1 || cfg.Targets[0].Name != "www-eu" {
		t.Errorf("unexpected example: %+v", cfg)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte("[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\n"), "mem.toml")
	if err != nil {
		t.Fatal(err)
	}
	tg := cfg.Targets[0]
	if cfg.DefaultTimeout.Duration != DefaultTimeout || cfg.ClockSkew.Duration != 5*time.Minute || cfg.MaxConcurrentProbes != 32 ||
		cfg.Responder.PerHostConcurrency != 2 || cfg.Responder.MinInterval.Duration != time.Minute || cfg.Responder.MaxBodyBytes != 1<<20 || cfg.Responder.MaxRedirects != 3 || cfg.AllowAdhoc {
		t.Errorf("global defaults: %+v", cfg)
	}
	if tg.Schedule != "@every 1m" || tg.Timeout.Duration != 10*time.Second || tg.RequireStaple != "auto" || !*tg.QueryResponder ||
		tg.Method != "auto" || tg.Addresses != "first" || tg.CertIDHash != "sha1" || tg.Fingerprint() == "" {
		t.Errorf("target defaults: %+v", tg)
	}
}

func TestRequireStapleAcceptsBooleans(t *testing.T) {
	for text, want := range map[string]RequireStaple{"true": "true", "false": "false", `"auto"`: "auto", `"true"`: "true"} {
		cfg, err := Parse([]byte("[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\nrequire_staple = "+text+"\n"), "mem.toml")
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if got := cfg.Targets[0].RequireStaple; got != want {
			t.Errorf("require_staple = %s: got %q", text, got)
		}
	}
}

func TestFingerprintTracksChanges(t *testing.T) {
	load := func(extra string) string {
		cfg, err := Parse([]byte("[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\n"+extra), "mem.toml")
		if err != nil {
			t.Fatal(err)
		}
		return cfg.Targets[0].Fingerprint()
	}
	base := load("")
	if load("") != base {
		t.Error("the same target fingerprints differently")
	}
	if load("timeout = \"3s\"\n") == base || load("nonce = true\n") == base {
		t.Error("a changed target keeps its fingerprint")
	}
	if load("schedule = \"@every 1m\"\n") != base {
		t.Error("spelling out the default changed the fingerprint")
	}
	// Each key, changed alone, gives a fingerprint of its own.
	seen := map[string]string{base: "(defaults)"}
	for _, extra := range []string{
		"server_name = \"b.example\"\n",
		"addresses = \"all\"\n",
		"schedule = \"@every 2m\"\n",
		"timeout = \"3s\"\n",
		"require_staple = true\n",
		"query_responder = false\n",
		"responders = [\"http://ocsp.example\"]\n",
		"responders = [\"http://ocsp.example\", \"http://ocsp2.example\"]\n",
		"method = \"post\"\n",
		"nonce = true\n",
		"nonce = true\nrequire_nonce = true\n",
		"cert_id_hash = \"sha256\"\n",
		"alpn = []\n",
		"alpn = [\"h2\"]\n",
		"crl = \"off\"\n",
		"insecure_skip_verify = true\n",
		"ip_family = \"ipv6\"\n",
		"tls_min_version = \"1.3\"\n",
		"tls_max_version = \"1.3\"\n",
		"proxy_url = \"http://proxy.example:3128\"\n",
		"responder_host = \"ocsp.example\"\n",
		"labels = { team = \"a\" }\n",
		"labels = { team = \"b\" }\n",
		"labels = { owner = \"a\" }\n",
	} {
		fp := load(extra)
		if prev, dup := seen[fp]; dup {
			t.Errorf("%q fingerprints like %q", extra, prev)
		}
		seen[fp] = extra
	}
}
