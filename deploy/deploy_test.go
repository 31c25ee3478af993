package deploy

import (
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "regenerate kubernetes/prometheusrule.yaml and the Helm chart's rules from alerts/ocspwatch.rules.yml")

const prometheusRuleHeader = `# Generated from alerts/ocspwatch.rules.yml by ` + "`(cd deploy && go test -update)`" + `; do not edit.
# kube-prometheus-stack's Prometheus selects rules labelled
# release=<its Helm release>, by default "kube-prometheus-stack".
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: ocspwatch
  labels:
    app.kubernetes.io/name: ocspwatch
    release: kube-prometheus-stack
spec:
`

// prometheusRule wraps the rule file's groups in a PrometheusRule for the
// Prometheus Operator, so both deployments load the very same rules.
func prometheusRule(rules []byte) []byte {
	var out bytes.Buffer
	out.WriteString(prometheusRuleHeader)
	for _, line := range strings.Split(strings.TrimRight(string(rules), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "" {
			out.WriteString("\n")
			continue
		}
		out.WriteString("  " + line + "\n")
	}
	return out.Bytes()
}

func TestPrometheusRuleIsGeneratedFromTheRuleFile(t *testing.T) {
	rules, err := os.ReadFile("../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	want := prometheusRule(rules)
	const path = "kubernetes/prometheusrule.yaml"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is out of date with alerts/ocspwatch.rules.yml; run (cd deploy && go test -update)", path)
	}
	var source, wrapped struct {
		Groups []any `yaml:"groups"`
		Spec   struct {
			Groups []any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(rules, &source); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(got, &wrapped); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	a, _ := yaml.Marshal(source.Groups)
	b, _ := yaml.Marshal(wrapped.Spec.Groups)
	if len(source.Groups) == 0 || !bytes.Equal(a, b) {
		t.Errorf("%s's groups differ from the rule file's", path)
	}
}

func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatalf("systemd-analyze is not installed; the README's test command installs Debian's systemd: %v", err)
	}
	bin := buildStatic(t)
	unit, err := os.ReadFile("systemd/ocspwatch.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "ReadOnlyPaths=/etc/ocspwatch", "NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	// systemd-analyze needs the executable to exist.
	local := filepath.Join(t.TempDir(), "ocspwatch.service")
	if err := os.WriteFile(local, bytes.ReplaceAll(unit, []byte("/usr/local/bin/ocspwatch"), []byte(bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", local).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

var dockerBuildRE = regexp.MustCompile(`RUN (CGO_ENABLED=0 go build [^\n]*) -o /out/ocspwatch ./cmd/ocspwatch`)

var (
	staticOnce sync.Once
	staticBin  string
	staticErr  error
	staticDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if staticDir != "" {
		os.RemoveAll(staticDir)
	}
	os.Exit(code)
}

// buildStatic builds the binary exactly as the Dockerfile does, once.
func buildStatic(t *testing.T) string {
	t.Helper()
	staticOnce.Do(func() { staticBin, staticErr = dockerBuild() })
	if staticErr != nil {
		t.Fatal(staticErr)
	}
	return staticBin
}

func dockerBuild() (string, error) {
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		return "", err
	}
	m := dockerBuildRE.FindSubmatch(dockerfile)
	if m == nil {
		return "", fmt.Errorf("the Dockerfile has no CGO_ENABLED=0 go build step")
	}
	if staticDir, err = os.MkdirTemp("", "ocspwatch-static-"); err != nil {
		return "", err
	}
	// The build sees only what .dockerignore lets into the context.
	context := filepath.Join(staticDir, "context")
	if err := copyDockerContext("..", context); err != nil {
		return "", err
	}
	// Docker runs RUN lines with /bin/sh -c; so does the test.
	bin := filepath.Join(staticDir, "ocspwatch")
	cmd := exec.Command("/bin/sh", "-c", string(m[1])+` -o "$OUT" ./cmd/ocspwatch`)
	cmd.Dir = context
	cmd.Env = append(os.Environ(), "VERSION=test", "REVISION="+testRevision, "CREATED="+testCreated, "OUT="+bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %v\n%s", m[1], err, out)
	}
	return bin, nil
}

func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	bin := buildStatic(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary needs a dynamic loader, which the distroless static image does not have")
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v %s", bin, err, out)
	}
	// ocspwatch_build_info's labels come from the same variables.
	for _, want := range []string{"ocspwatch, version test", "revision: " + testRevision, "build date: " + testCreated} {
		if !strings.Contains(strings.Join(strings.Fields(string(out)), " "), want) {
			t.Errorf("%s version lacks %q:\n%s", bin, want, out)
		}
	}
}

const (
	testRevision = "0123456789abcdef0123456789abcdef01234567"
	testCreated  = "2026-11-26T00:00:00Z"
)

// TestDockerfileLabelsTheImage checks the OCI annotations of the final
// stage and that each build argument they use is declared in that stage,
// where Docker would otherwise expand it to nothing.
func TestDockerfileLabelsTheImage(t *testing.T) {
	dockerfile, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	stages := strings.Split(string(dockerfile), "\nFROM ")
	final := stages[len(stages)-1]
	for key, value := range map[string]string{
		"title":       `"ocspwatch"`,
		"description": `"`,
		"source":      `"https://github.com/ocspwatch/ocspwatch"`,
		"licenses":    `"${LICENSES}"`,
		"version":     `"${VERSION}"`,
		"revision":    `"${REVISION}"`,
		"created":     `"${CREATED}"`,
	} {
		if !strings.Contains(final, "org.opencontainers.image."+key+"="+value) {
			t.Errorf("the final stage lacks the label org.opencontainers.image.%s=%s...", key, value)
		}
	}
	for _, arg := range []string{"VERSION", "REVISION", "CREATED", "LICENSES"} {
		if !regexp.MustCompile(`(?m)^ARG ` + arg + `(=|$)`).MatchString(final) {
			t.Errorf("the final stage does not declare ARG %s", arg)
		}
	}
}

// dockerIgnore reads .dockerignore. It accepts the pattern forms Docker
// gives a plain meaning and this file uses: a path or glob from the
// context's root (a directory excludes what is under it) and **/glob for
// any depth; it refuses the rest (! exceptions, ** inside a pattern), so
// that the test never judges a pattern differently from Docker.
func dockerIgnore(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var patterns []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rest := strings.TrimPrefix(line, "**/")
		if strings.HasPrefix(line, "!") || strings.Contains(rest, "**") || strings.Contains(rest, "/") && rest != line {
			return nil, fmt.Errorf(".dockerignore: the test does not understand %q", line)
		}
		patterns = append(patterns, line)
	}
	return patterns, nil
}

func ignored(patterns []string, rel string) bool {
	for _, p := range patterns {
		if glob, ok := strings.CutPrefix(p, "**/"); ok {
			if m, _ := filepath.Match(glob, filepath.Base(rel)); m {
				return true
			}
			continue
		}
		if m, _ := filepath.Match(p, rel); m {
			return true
		}
	}
	return false
}

// copyDockerContext copies the files of src that .dockerignore lets
// into a Docker build context to dst.
func copyDockerContext(src, dst string) error {
	patterns, err := dockerIgnore(filepath.Join(src, ".dockerignore"))
	if err != nil {
		return err
	}
	return filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil || rel == "." {
			return err
		}
		if ignored(patterns, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

func TestDockerContextLeavesOutWhatTheBuildDoesNotNeed(t *testing.T) {
	patterns, err := dockerIgnore("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{path: ".git", want: true},
		{path: "e2e", want: true},
		{path: "deploy", want: true},
		{path: "README.md", want: true},
		{path: "config/testdata", want: true},
		{path: "exporter/agent_test.go", want: true},
		{path: "go.mod", want: false},
		{path: "go.sum", want: false},
		{path: "cmd/ocspwatch/main.go", want: false},
		{path: "internal/testpki", want: false},
		{path: "probe", want: false},
	} {
		if got := ignored(patterns, tc.path); got != tc.want {
			t.Errorf("%s ignored: %v, want %v", tc.path, got, tc.want)
		}
	}
}

func TestPrometheusConfigChecks(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed; run the README's test command: %v", err)
	}
	dir := t.TempDir()
	cfg, err := os.ReadFile("prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules, err := os.ReadFile("../alerts/ocspwatch.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "rules"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(dir, "rules", "ocspwatch.rules.yml"), rules, 0o644)
	_ = os.WriteFile(filepath.Join(dir, "prometheus.yml"), cfg, 0o644)
	if out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s", err, out)
	}
}
