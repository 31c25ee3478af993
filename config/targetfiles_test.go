package config

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/testpki"
)

// writeFiles lays out files (path relative to dir → contents) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const discoveryMain = `target_files = ["targets.d/*.toml", "sd/*.json", "sd/*.yml", "sd/*.yaml", "empty/*.toml"]
default_timeout = "7s"

[labels]
team = "edge"

[[target]]
name = "main-one"
endpoint = "main.example:443"
`

func targetByName(cfg *Config, name string) *Target {
	for _, t := range cfg.Targets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func targetNames(cfg *Config) []string {
	var names []string
	for _, t := range cfg.Targets {
		names = append(names, t.Name)
	}
	return names
}

func TestTargetFilesAddTargets(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ocspwatch.toml": discoveryMain,
		"targets.d/a.toml": `[[target]]
name = "toml-one"
endpoint = "one.example:443"
timeout = "3s"

[target.labels]
owner = "alice"
`,
		"targets.d/b.toml": "# no targets yet\n",
		"sd/web.json": `[
  {"targets": ["www.example.com:443", "10.0.0.1:8443"],
   "labels": {"env": "prod", "__meta_source": "cmdb", "__param_server_name": "www.example.com", "__param_require_staple": "true"}},
  {"targets": ["api.example.com"],
   "labels": {"__param_name": "api", "__param_timeout": "2s", "__param_query_responder": "false", "__param_schedule": "@every 5m"}}
]`,
		"sd/mail.yaml": `- targets: ["smtp://mx.example.net"]
  labels:
    __param_name: mx
    __param_require_staple: false
    __param_tls_groups: "X25519, P-256"
`,
	})
	cfg, err := Load(filepath.Join(dir, "ocspwatch.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"main-one", "toml-one", "www.example.com:443", "10.0.0.1:8443:www.example.com", "api", "mx"}
	if got := targetNames(cfg); !slices.Equal(got, want) {
		t.Fatalf("targets %q, want %q", got, want)
	}
	one := targetByName(cfg, "toml-one")
	if one.Timeout.Duration != 3*time.Second || one.Schedule != DefaultSchedule {
		t.Errorf("toml-one: timeout %s schedule %q", one.Timeout.Duration, one.Schedule)
	}
	if got := one.MetricLabels(); !slices.Equal(got, []Label{{"owner", "alice"}, {"team", "edge"}}) {
		t.Errorf("toml-one labels %v: want its own over the top-level ones", got)
	}
	www := targetByName(cfg, "10.0.0.1:8443:www.example.com")
	if www.ServerName != "www.example.com" || www.RequireStaple != "true" || www.Timeout.Duration != 7*time.Second {
		t.Errorf("file_sd target: server_name %q require_staple %q timeout %s", www.ServerName, www.RequireStaple, www.Timeout.Duration)
	}
	if got := www.MetricLabels(); !slices.Equal(got, []Label{{"env", "prod"}, {"team", "edge"}}) {
		t.Errorf("file_sd labels %v: __ labels must be dropped, others kept", got)
	}
	api := targetByName(cfg, "api")
	if api.Timeout.Duration != 2*time.Second || *api.QueryResponder || api.Schedule != "@every 5m" || api.Endpoint != "api.example.com:443" {
		t.Errorf("api: timeout %s query_responder %v schedule %q endpoint %q", api.Timeout.Duration, *api.QueryResponder, api.Schedule, api.Endpoint)
	}
	if mx := targetByName(cfg, "mx"); mx.RequireStaple != "false" || mx.Endpoint != "mx.example.net:25" {
		t.Errorf("mx: require_staple %q endpoint %q: a YAML boolean label reads as its text", mx.RequireStaple, mx.Endpoint)
	} else if groups := mx.Spec(cfg, time.Now, "ua", nil).Staple.Groups; !slices.Equal(groups, []tls.CurveID{tls.X25519, tls.CurveP256}) {
		t.Errorf("mx: __param_tls_groups gave %v, want X25519 then P-256", groups)
	}
}

func TestTargetFilesNeverReadTheMainFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"ocspwatch.toml": "target_files = [\"*.toml\"]\n",
		"more.toml":      "[[target]]\nname = \"x\"\nendpoint = \"x.example:443\"\n",
	})
	cfg, err := Load(filepath.Join(dir, "ocspwatch.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := targetNames(cfg); !slices.Equal(got, []string{"x"}) {
		t.Errorf("targets %q", got)
	}
}

func TestTargetFilesAreSharded(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for i := range 40 {
		b.WriteString("[[target]]\nname = \"t" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + "\"\nendpoint = \"x.example:443\"\n")
	}
	writeFiles(t, dir, map[string]string{
		"ocspwatch.toml": "target_files = [\"t/*.toml\"]\nshard = \"1/2\"\n",
		"t/all.toml":     b.String(),
	})
	cfg, err := Load(filepath.Join(dir, "ocspwatch.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(cfg.Targets); n == 0 || n == 40 {
		t.Fatalf("shard 1/2 kept %d of 40 targets from a target file", n)
	}
	for _, tg := range cfg.Targets {
		if !(Shard{Index: 1, Count: 2}).Owns(tg.Name) {
			t.Errorf("kept %q, which shard 0 owns", tg.Name)
		}
	}
}

// TestTargetFileErrors: every bad target file fails the load with an
// error naming the file, the place and the reason.
func TestTargetFileErrors(t *testing.T) {
	const main = "target_files = [\"t/*\"]\n"
	good := "[[target]]\nname = \"dup\"\nendpoint = \"a.example:443\"\n"
	cases := []struct {
		name  string
		main  string
		files map[string]string
		want  []string
	}{
		{
			name:  "toml unknown key",
			files: map[string]string{"t/a.toml": "[[target]]\nname = \"x\"\nendpoint = \"x.example:443\"\nbogus = 1\n"},
			want:  []string{`t/a.toml:4: target "x": unknown key "bogus"`},
		},
		{
			name:  "toml top-level key",
			files: map[string]string{"t/a.toml": "region = \"eu\"\n"},
			want:  []string{`t/a.toml:1: unknown key "region"`},
		},
		{
			name:  "toml syntax",
			files: map[string]string{"t/a.toml": "[[target]]\nname = \"x\nendpoint = 1\n"},
			want:  []string{`t/a.toml:2:`},
		},
		{
			name:  "toml invalid value",
			files: map[string]string{"t/a.toml": "[[target]]\nname = \"x\"\nendpoint = \"x.example:443\"\ntimeout = \"1ms\"\n"},
			want:  []string{`t/a.toml:4: target "x": timeout: 1ms must be between`},
		},
		{
			name:  "json syntax",
			files: map[string]string{"t/a.json": "[\n{\"targets\": [\"a:443\"],}\n]"},
			want:  []string{`t/a.json:2: invalid character '}'`},
		},
		{
			name:  "json unknown key",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:443"], "label": {}}]`},
			want:  []string{`t/a.json:1: json: unknown field "label"`},
		},
		{
			name:  "json label not a string",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:443"], "labels": {"env": 1}}]`},
			want:  []string{`t/a.json:1: json: cannot unmarshal number`},
		},
		{
			name:  "json trailing data",
			files: map[string]string{"t/a.json": "[]\n[]\n"},
			want:  []string{`t/a.json:2: more after the list of entries`},
		},
		{
			name:  "yaml unknown key",
			files: map[string]string{"t/a.yml": "- targets: [a.example:443]\n  lables: {}\n"},
			want:  []string{`t/a.yml: yaml: unmarshal errors:`, `line 2: field lables not found`},
		},
		{
			name:  "yaml not a list",
			files: map[string]string{"t/a.yaml": "targets: [a.example:443]\n"},
			want:  []string{`t/a.yaml: yaml: unmarshal errors:`, `line 1`},
		},
		{
			name:  "unknown param",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:443"], "labels": {"__param_bogus": "1"}}]`},
			want:  []string{`t/a.json: entry 1: label __param_bogus: "bogus" is not a key a label can set (addresses, ca_file`},
		},
		{
			name:  "bad param value",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:443"]}, {"targets": ["b.example:443"], "labels": {"__param_timeout": "soon"}}]`},
			want:  []string{`t/a.json: entry 2: label __param_timeout: "soon" is not a duration`},
		},
		{
			name:  "bad boolean param",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:443"], "labels": {"__param_query_responder": "yes"}}]`},
			want:  []string{`t/a.json: entry 1: label __param_query_responder: "yes" is not true or false`},
		},
		{
			name:  "one name for two targets",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:443", "b.example:443"], "labels": {"__param_name": "x"}}]`},
			want:  []string{`t/a.json: entry 1: label __param_name names one target, and the entry lists 2`},
		},
		{
			name:  "validation of a file_sd target",
			files: map[string]string{"t/a.json": `[{"targets": ["a.example:https"]}]`},
			want:  []string{`t/a.json: entry 1: target "a.example:https": endpoint: "a.example:https": port "https" is not a number`},
		},
		{
			name:  "derived name that is not a name",
			files: map[string]string{"t/a.json": `[{"targets": ["[::1]:443"]}]`},
			want:  []string{`t/a.json: entry 1: target "::1:443": name: "::1:443" must be 1-128 letters`},
		},
		{
			name:  "custom label",
			files: map[string]string{"t/a.yaml": "- targets: [a.example:443]\n  labels: {target: x}\n"},
			want:  []string{`t/a.yaml: entry 1: target "a.example:443": labels: "target" is set by ocspwatch or Prometheus`},
		},
		{
			name:  "duplicate across files",
			files: map[string]string{"t/a.toml": good, "t/b.toml": "\n" + good},
			want:  []string{`t/b.toml:3: target "dup": name: duplicates the target at `, `t/a.toml:2`},
		},
		{
			name:  "duplicate of a main-file target",
			main:  main + good,
			files: map[string]string{"t/a.json": `[{"targets": ["x.example:443"], "labels": {"__param_name": "dup"}}]`},
			want:  []string{`t/a.json: entry 1: target "dup": name: duplicates the target at `, `ocspwatch.toml:3`},
		},
		{
			name:  "malformed glob",
			main:  "target_files = [\"t/[\"]\n",
			files: map[string]string{},
			want:  []string{`ocspwatch.toml:1: target_files: "t/[": syntax error in pattern`},
		},
		{
			name:  "unknown extension",
			files: map[string]string{"t/README.md": "hello"},
			want:  []string{`t/README.md: a target file must end in .toml, .json, .yml or .yaml`},
		},
		{
			name:  "directory",
			files: map[string]string{"t/sub.toml/x": ""},
			want:  []string{`t/sub.toml: a directory, not a regular file`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"ocspwatch.toml": tc.main}
			if tc.main == "" {
				files["ocspwatch.toml"] = main
			}
			for k, v := range tc.files {
				files[k] = v
			}
			writeFiles(t, dir, files)
			_, err := Load(filepath.Join(dir, "ocspwatch.toml"))
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestTargetFilesPatternLimit(t *testing.T) {
	dir := t.TempDir()
	patterns := strings.Repeat(`"x/*.toml", `, maxTargetPatterns+1)
	writeFiles(t, dir, map[string]string{"ocspwatch.toml": "target_files = [" + patterns + "]\n"})
	if _, err := Load(filepath.Join(dir, "ocspwatch.toml")); err == nil || !strings.Contains(err.Error(), "patterns, more than") {
		t.Errorf("err = %v", err)
	}
}

// TestLoaderReusesUnchangedFiles: the loader re-validates a target file
// only when its bytes, the main file or a file its targets read changed,
// and a failed load does not poison what it remembers.
func TestLoaderReusesUnchangedFiles(t *testing.T) {
	dir := t.TempDir()
	pki := writeTestPKI(t, dir)
	main := filepath.Join(dir, "ocspwatch.toml")
	writeFiles(t, dir, map[string]string{
		"ocspwatch.toml": "target_files = [\"t/*.toml\"]\n",
		"t/a.toml":       "[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\nca_file = \"" + pki.root + "\"\n",
		"t/b.toml":       "[[target]]\nname = \"b\"\nendpoint = \"b.example:443\"\n",
	})
	l, load := loaderFor(t, main)
	first := load()
	a, b := targetByName(first, "a"), targetByName(first, "b")

	second := load()
	if targetByName(second, "a") != a || targetByName(second, "b") != b {
		t.Error("an unchanged file was validated again")
	}

	writeFiles(t, dir, map[string]string{"t/b.toml": "[[target]]\nname = \"b\"\nendpoint = \"b.example:443\"\ntimeout = \"9s\"\n"})
	third := load()
	if targetByName(third, "a") != a {
		t.Error("a's file did not change, yet its target was rebuilt")
	}
	if nb := targetByName(third, "b"); nb == b || nb.Timeout.Duration != 9*time.Second {
		t.Error("b's file changed, yet its old target was kept")
	}

	// The same bytes rewritten, with a new mtime, are the same file.
	b = targetByName(third, "b")
	writeFiles(t, dir, map[string]string{"t/b.toml": "[[target]]\nname = \"b\"\nendpoint = \"b.example:443\"\ntimeout = \"9s\"\n"})
	if targetByName(load(), "b") != b {
		t.Error("a rewrite with the same bytes re-validated the file")
	}

	// The ca_file a's target reads changed: a is validated again.
	if err := os.WriteFile(pki.root, []byte(pki.otherPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	fourth := load()
	if na := targetByName(fourth, "a"); na == a || na.Fingerprint() == a.Fingerprint() {
		t.Error("the ca_file changed, yet a's old target was kept")
	}
	if targetByName(fourth, "b") != b {
		t.Error("b reads no ca_file, yet was rebuilt")
	}
	a = targetByName(fourth, "a")

	// The global ca_file changed: b inherits it, so b is validated again;
	// a has its own and is kept.
	writeFiles(t, dir, map[string]string{"global.pem": pki.otherPEM, "ocspwatch.toml": "target_files = [\"t/*.toml\"]\nca_file = \"" + filepath.Join(dir, "global.pem") + "\"\n"})
	cfg := load()
	a, b = targetByName(cfg, "a"), targetByName(cfg, "b")
	if err := os.WriteFile(filepath.Join(dir, "global.pem"), []byte(pki.firstPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg := load(); targetByName(cfg, "a") != a || targetByName(cfg, "b") == b {
		t.Error("the inherited ca_file changed: want b validated again and a kept")
	}

	// The main file changed: everything is validated again under it.
	writeFiles(t, dir, map[string]string{"ocspwatch.toml": "target_files = [\"t/*.toml\"]\ndefault_schedule = \"@every 2m\"\n"})
	fifth := load()
	if targetByName(fifth, "a") == a || targetByName(fifth, "b").Schedule != "@every 2m" {
		t.Error("the main file changed, yet targets validated under the old one were kept")
	}
	a, b = targetByName(fifth, "a"), targetByName(fifth, "b")

	// A bad load leaves the remembered files as they were.
	writeFiles(t, dir, map[string]string{"t/c.toml": "[[target]]\nname = \"a\"\nendpoint = \"c.example:443\"\n"})
	if _, err := l.Load(main); err == nil {
		t.Fatal("a duplicate name across files loaded")
	}
	if err := os.Remove(filepath.Join(dir, "t/c.toml")); err != nil {
		t.Fatal(err)
	}
	sixth := load()
	if targetByName(sixth, "a") != a || targetByName(sixth, "b") != b {
		t.Error("a failed load made the next one validate unchanged files again")
	}
}

type testPKI struct {
	root     string // path of a PEM bundle
	firstPEM string // what it holds at first
	otherPEM string // another bundle, to change it with
}

func writeTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	one, err := testpki.NewRoot("one", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	two, err := testpki.NewRoot("two", testpki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "roots.pem")
	if err := os.WriteFile(path, one.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	return testPKI{root: path, firstPEM: string(one.PEM()), otherPEM: string(two.PEM())}
}

// TestLoaderChecksNamesIncrementally drives the duplicate check through
// loads that change few files, where only their names are checked
// against the last load's: a duplicate must be found, and a name moving
// between files, or freed by a removed file, must not be one.
func TestLoaderChecksNamesIncrementally(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "ocspwatch.toml")
	target := func(name string) string {
		return "[[target]]\nname = \"" + name + "\"\nendpoint = \"" + name + ".example:443\"\n"
	}
	writeFiles(t, dir, map[string]string{
		"ocspwatch.toml": "target_files = [\"t/*.toml\"]\n\n" + target("m"),
		"t/a.toml":       target("a"),
		"t/b.toml":       target("b"),
		"t/c.toml":       target("c"),
		"t/d.toml":       target("d"),
		"t/e.toml":       target("e"),
	})
	var l Loader
	check := func(step string, wantErr string, wantNames ...string) {
		t.Helper()
		cfg, err := l.Load(main)
		if wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), wantErr) {
				t.Errorf("%s: err = %v, want %q", step, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		got := targetNames(cfg)
		slices.Sort(got)
		if !slices.Equal(got, wantNames) {
			t.Errorf("%s: targets %q, want %q", step, got, wantNames)
		}
		// What the loader remembers is what a full check would build.
		if len(l.names) != len(cfg.Targets) {
			t.Errorf("%s: %d names remembered for %d targets", step, len(l.names), len(cfg.Targets))
		}
		for _, tg := range cfg.Targets {
			at, ok := l.names[tg.Name]
			src := cfg.Targets
			if ok && at.path != "" {
				src = l.files[at.path].targets
			}
			if !ok || at.index >= len(src) || src[at.index] != tg {
				t.Errorf("%s: %q remembered at %+v", step, tg.Name, at)
			}
		}
	}
	check("first load", "", "a", "b", "c", "d", "e", "m")
	writeFiles(t, dir, map[string]string{"t/d.toml": target("a")})
	check("a duplicate in a changed file", `t/d.toml:2: target "a": name: duplicates the target at `+filepath.Join(dir, "t/a.toml")+`:2`)
	writeFiles(t, dir, map[string]string{"t/a.toml": target("z"), "t/d.toml": target("a")})
	check("a name moving between files", "", "a", "b", "c", "e", "m", "z")
	writeFiles(t, dir, map[string]string{"t/b.toml": target("a")})
	check("a duplicate of a name that moved", `t/b.toml:2: target "a": name: duplicates the target at `+filepath.Join(dir, "t/d.toml")+`:2`)
	if err := os.Remove(filepath.Join(dir, "t/d.toml")); err != nil {
		t.Fatal(err)
	}
	check("a name freed by a removed file", "", "a", "c", "e", "m", "z")
	writeFiles(t, dir, map[string]string{"t/e.toml": target("m")})
	check("a duplicate of a main-file target", `t/e.toml:2: target "m": name: duplicates the target at `+main+`:4`)
	writeFiles(t, dir, map[string]string{"t/e.toml": target("e") + "\n" + target("e2")})
	check("a file gaining a target", "", "a", "c", "e", "e2", "m", "z")
}

func TestTargetFileUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"ocspwatch.toml": "target_files = [\"t/*.toml\"]\n", "t/a.toml": ""})
	path := filepath.Join(dir, "t", "a.toml")
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(path); err == nil {
		f.Close()
		t.Skip("running as a user who reads any file")
	}
	_, err := Load(filepath.Join(dir, "ocspwatch.toml"))
	if want := "target file " + path + ": permission denied"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestLoaderReusesAnUnchangedMainFile: a main file whose bytes and files
// did not change is not decoded again; its targets and settings stand.
// A change to a file it reads, or to its bytes, validates it again.
func TestLoaderReusesAnUnchangedMainFile(t *testing.T) {
	dir := t.TempDir()
	pki := writeTestPKI(t, dir)
	main := filepath.Join(dir, "ocspwatch.toml")
	text := "ca_file = \"" + pki.root + "\"\nshard = \"0/1\"\ntarget_files = [\"t/*.json\"]\n\n[labels]\nteam = \"x\"\n\n[[target]]\nname = \"m\"\nendpoint = \"m.example:443\"\n"
	writeFiles(t, dir, map[string]string{"ocspwatch.toml": text, "t/a.json": `[{"targets": ["a.example:443"]}]`})
	l, load := loaderFor(t, main)
	first := load()
	m := targetByName(first, "m")
	second := load()
	if targetByName(second, "m") != m {
		t.Error("an unchanged main file was validated again")
	}
	if second == first || second.ShardOf() != first.ShardOf() || second.CAFile != pki.root || second.files == first.files {
		t.Error("a reused main file must give a configuration of its own with the same settings")
	}
	if got := targetNames(second); !slices.Equal(got, []string{"m", "a.example:443"}) {
		t.Errorf("targets %q", got)
	}
	// A target file change leaves the main file's targets alone.
	writeFiles(t, dir, map[string]string{"t/a.json": `[{"targets": ["a.example:443", "b.example:443"]}]`})
	if cfg := load(); targetByName(cfg, "m") != m || len(cfg.Targets) != 3 {
		t.Error("a target file change re-validated the unchanged main file")
	}
	// The top-level ca_file m inherits changed.
	if err := os.WriteFile(pki.root, []byte(pki.otherPEM), 0o644); err != nil {
		t.Fatal(err)
	}
	third := load()
	if targetByName(third, "m") == m {
		t.Error("the ca_file changed, yet the main file's old targets were kept")
	}
	m = targetByName(third, "m")
	writeFiles(t, dir, map[string]string{"ocspwatch.toml": text + "timeout = \"9s\"\n"})
	if nm := targetByName(load(), "m"); nm == m || nm.Timeout.Duration != 9*time.Second {
		t.Error("the main file changed, yet its old targets were kept")
	}
	// A duplicate between a reused main file and a changed target file.
	writeFiles(t, dir, map[string]string{"t/a.json": `[{"targets": ["a.example:443"], "labels": {"__param_name": "m"}}]`})
	if _, err := l.Load(main); err == nil || !strings.Contains(err.Error(), `target "m": name: duplicates the target at `+main+`:9`) {
		t.Errorf("err = %v", err)
	}
}

// loaderFor returns a Loader and a function that loads path with it, as
// the agent reloads, failing the test on an error.
func loaderFor(t *testing.T, path string) (*Loader, func() *Config) {
	l := new(Loader)
	return l, func() *Config {
		t.Helper()
		cfg, err := l.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
}
