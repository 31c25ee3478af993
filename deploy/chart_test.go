package deploy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"github.com/prometheus/exporter-toolkit/web"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/ocspwatch/ocspwatch/config"
)

const (
	chartDir      = "helm/ocspwatch"
	ruleFile      = "../alerts/ocspwatch.rules.yml"
	chartRuleCopy = chartDir + "/files/ocspwatch.rules.yml"
	releaseName   = "ocspwatch"
	namespace     = "monitoring"
)

// TestChartRulesCopyIsCurrent keeps the chart's copy of the alerting rules
// byte for byte equal to alerts/ocspwatch.rules.yml: Helm can read files
// only inside the chart. `go test -update` refreshes it.
func TestChartRulesCopyIsCurrent(t *testing.T) {
	want, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(chartRuleCopy, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(chartRuleCopy)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from %s; run (cd deploy && go test -update)", chartRuleCopy, ruleFile)
	}
}

func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	if file == "" {
		return map[string]any{}
	}
	vals, err := chartutil.ReadValuesFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// TestChartLints runs helm lint's checks (Chart.yaml, values, every
// template rendered and parsed) with the default values and each test
// values file, and accepts no warning or error.
func TestChartLints(t *testing.T) {
	for _, file := range append([]string{""}, valuesFiles(t)...) {
		name := "defaults"
		if file != "" {
			name = filepath.Base(file)
		}
		t.Run(name, func(t *testing.T) {
			linter := lint.All(chartDir, readValues(t, file), namespace, false)
			for _, m := range linter.Messages {
				if m.Severity >= support.WarningSev {
					t.Errorf("helm lint: %s", m)
				} else {
					t.Logf("helm lint: %s", m)
				}
			}
		})
	}
}

func valuesFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/values-*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/values-*.yaml: %v", err)
	}
	return files
}

// render is `helm template`: the chart with one values file (or none),
// every template rendered, NOTES.txt and partials left out.
func render(t *testing.T, valuesFile string) map[string]string {
	t.Helper()
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ToRenderValues(chrt, readValues(t, valuesFile),
		chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace, Revision: 1, IsInstall: true},
		chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(chrt, vals)
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	manifests := map[string]string{}
	for name, text := range out {
		if strings.HasSuffix(name, "NOTES.txt") {
			if strings.TrimSpace(text) == "" {
				t.Error("NOTES.txt renders empty")
			}
			continue
		}
		if !strings.HasPrefix(filepath.Base(name), "_") {
			manifests[name] = text
		}
	}
	return manifests
}

func renderObjects(t *testing.T, valuesFile string) []object {
	t.Helper()
	dec := strictDecoder(t)
	var objs []object
	manifests := render(t, valuesFile)
	names := make([]string, 0, len(manifests))
	for name := range manifests {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		objs = append(objs, decodeStrictly(t, dec, name, manifests[name])...)
	}
	return objs
}

// renderedConfig is the agent's TOML from the rendered ConfigMap.
func renderedConfig(t *testing.T, objs []object) string {
	t.Helper()
	cm := only[*corev1.ConfigMap](t, objs)
	text, ok := cm.Data["ocspwatch.toml"]
	if !ok {
		t.Fatalf("the ConfigMap has no ocspwatch.toml: %v", cm.Data)
	}
	return text
}

func args(d *appsv1.Deployment) []string { return d.Spec.Template.Spec.Containers[0].Args }

func TestChartRendersValidObjects(t *testing.T) {
	cases := []struct {
		name       string
		values     string
		kinds      []string
		webConfig  bool
		releaseTag string // the ServiceMonitor's and PrometheusRule's release label; "" when neither is rendered
		check      func(t *testing.T, objs []object)
	}{
		{
			name:       "default values",
			values:     "",
			kinds:      []string{"ConfigMap", "Deployment", "PrometheusRule", "Service", "ServiceMonitor"},
			releaseTag: "kube-prometheus-stack",
			check: func(t *testing.T, objs []object) {
				cfg := parseConfig(t, renderedConfig(t, objs))
				if len(cfg.Targets) != 0 || cfg.DefaultSchedule != "@every 1m" {
					t.Errorf("default config: %d targets, schedule %q", len(cfg.Targets), cfg.DefaultSchedule)
				}
				d := only[*appsv1.Deployment](t, objs)
				if !slices.Contains(args(d), "--config.watch-interval=5s") {
					t.Errorf("args %v lack the config watch", args(d))
				}
				probe := d.Spec.Template.Spec.Containers[0].LivenessProbe
				if probe.HTTPGet == nil || probe.HTTPGet.Path != "/-/healthy" || probe.HTTPGet.Scheme != corev1.URISchemeHTTP {
					t.Errorf("liveness probe %+v, want HTTP GET /-/healthy", probe)
				}
				if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p.HTTPGet == nil || p.HTTPGet.Path != "/-/ready" {
					t.Errorf("readiness probe %+v, want HTTP GET /-/ready", p)
				}
				env := d.Spec.Template.Spec.Containers[0].Env
				if len(env) != 1 || env[0].Name != "GOMEMLIMIT" || env[0].ValueFrom.ResourceFieldRef.Resource != "limits.memory" {
					t.Errorf("env %+v, want GOMEMLIMIT from the memory limit", env)
				}
			},
		},
		{
			name:       "targets, region, responder, web config with basic auth and TLS",
			values:     "testdata/values-full.yaml",
			kinds:      []string{"ConfigMap", "Deployment", "PrometheusRule", "Secret", "Service", "ServiceMonitor"},
			webConfig:  true,
			releaseTag: "prom-eu",
			check: func(t *testing.T, objs []object) {
				// The PEMs live in a Secret mounted at /etc/ocspwatch/certs
				// in the pod; here a fresh certificate stands in for them.
				certs := t.TempDir()
				writeIssuedCert(t, certs)
				cfg := parseConfig(t, strings.ReplaceAll(renderedConfig(t, objs), "/etc/ocspwatch/certs/", certs+"/"))
				if cfg.Region != "eu-west-1" || cfg.Responder.PerHostConcurrency != 4 || cfg.Responder.MaxBodyBytes != 2097152 || cfg.MaxConcurrentProbes != 8 {
					t.Errorf("top level: region %q, per_host_concurrency %d, max_body_bytes %d, max_concurrent_probes %d",
						cfg.Region, cfg.Responder.PerHostConcurrency, cfg.Responder.MaxBodyBytes, cfg.MaxConcurrentProbes)
				}
				var names []string
				for _, tg := range cfg.Targets {
					names = append(names, tg.Name)
				}
				if !slices.Equal(names, []string{"www", "sso", "cert-only"}) {
					t.Fatalf("targets %q", names)
				}
				www, sso, certOnly := cfg.Targets[0], cfg.Targets[1], cfg.Targets[2]
				if www.Endpoint != "www.example.com:443" || www.Addresses != "all" || www.Schedule != "@every 30s" {
					t.Errorf("www: %+v", www)
				}
				if sso.RequireStaple != "true" || sso.QueryResponder == nil || *sso.QueryResponder || sso.Timeout.Duration.String() != "5s" {
					t.Errorf("sso: require_staple %q, query_responder %v, timeout %v", sso.RequireStaple, sso.QueryResponder, sso.Timeout)
				}
				if !slices.Equal(certOnly.Responders, []string{"http://ocsp.example.com", "http://ocsp2.example.com/a?b=c"}) || !strings.HasSuffix(certOnly.CertFile, "/only.pem") {
					t.Errorf("cert-only target: responders %q cert_file %q", certOnly.Responders, certOnly.CertFile)
				}
				d := only[*appsv1.Deployment](t, objs)
				c := d.Spec.Template.Spec.Containers[0]
				if c.LivenessProbe.TCPSocket == nil || c.ReadinessProbe.TCPSocket == nil {
					t.Errorf("with basic auth the probes must be TCP checks: %+v %+v", c.LivenessProbe, c.ReadinessProbe)
				}
				if !slices.Contains(args(d), "--config.watch-interval=10s") || !slices.Contains(args(d), "--log.format=json") {
					t.Errorf("args %v", args(d))
				}
				if got := c.Resources.Limits.Memory().String(); got != "1Gi" {
					t.Errorf("memory limit %s, want the values' 1Gi", got)
				}
				sm := only[*monitoringv1.ServiceMonitor](t, objs)
				ep := sm.Spec.Endpoints[0]
				if ep.Scheme == nil || *ep.Scheme != "https" || ep.BasicAuth == nil || ep.BasicAuth.Username.Name != "ocspwatch-scrape" || sm.Namespace != "prometheus" {
					t.Errorf("ServiceMonitor %s/%s endpoint %+v", sm.Namespace, sm.Name, ep)
				}
				if sm.Spec.NamespaceSelector.MatchNames == nil || sm.Spec.NamespaceSelector.MatchNames[0] != namespace {
					t.Errorf("a ServiceMonitor in another namespace must select the release's: %+v", sm.Spec.NamespaceSelector)
				}
			},
		},
		{
			name:       "ServiceMonitor and PrometheusRule off, web config from an existing Secret, existing ConfigMap",
			values:     "testdata/values-off.yaml",
			kinds:      []string{"Deployment", "Service"},
			webConfig:  true,
			releaseTag: "",
			check: func(t *testing.T, objs []object) {
				d := only[*appsv1.Deployment](t, objs)
				vols := d.Spec.Template.Spec.Volumes
				if vols[0].ConfigMap == nil || vols[0].ConfigMap.Name != "my-ocspwatch-config" || vols[1].Secret == nil || vols[1].Secret.SecretName != "my-web-config" {
					t.Errorf("volumes %+v", vols)
				}
				if p := d.Spec.Template.Spec.Containers[0].LivenessProbe; p.HTTPGet == nil || p.HTTPGet.Path != "/custom" {
					t.Errorf("the values' liveness probe is not used: %+v", p)
				}
				if !slices.Contains(args(d), "--config.watch-interval=0s") {
					t.Errorf("args %v", args(d))
				}
			},
		},
		{
			name:       "labels on the top level and on targets",
			values:     "testdata/values-labels.yaml",
			kinds:      []string{"ConfigMap", "Deployment", "PrometheusRule", "Service", "ServiceMonitor"},
			releaseTag: "kube-prometheus-stack",
			check: func(t *testing.T, objs []object) {
				// config.Parse learns `labels` with issue 10's per-target
				// labels; until then the TOML's shape is what is checked.
				var doc struct {
					Labels  map[string]string `toml:"labels"`
					Targets []struct {
						Name   string            `toml:"name"`
						Labels map[string]string `toml:"labels"`
					} `toml:"target"`
				}
				text := renderedConfig(t, objs)
				if _, err := toml.Decode(text, &doc); err != nil {
					t.Fatalf("the rendered TOML does not parse: %v\n%s", err, text)
				}
				if doc.Labels["env"] != "prod" || len(doc.Targets) != 2 ||
					doc.Targets[0].Labels["team"] != "payments" || doc.Targets[0].Labels["cost center"] != "4711" ||
					doc.Targets[0].Labels["note"] != `say "hi" \ <ok> ünï` ||
					doc.Targets[1].Labels != nil {
					t.Errorf("labels: %+v\n%s", doc, text)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			objs := renderObjects(t, tc.values)
			if t.Failed() {
				t.FailNow()
			}
			if got := kinds(objs); !slices.Equal(got, tc.kinds) {
				t.Fatalf("kinds %v, want %v", got, tc.kinds)
			}
			for _, o := range objs {
				if ns := o.meta.GetNamespace(); ns == "" {
					t.Errorf("%s has no namespace", o.source)
				}
			}
			d := only[*appsv1.Deployment](t, objs)
			checkDeployment(t, d)
			svc := only[*corev1.Service](t, objs)
			if !selects(*d.Spec.Selector, svc.Spec.Selector) || !selects(*d.Spec.Selector, d.Spec.Template.Labels) {
				t.Errorf("the Service's selector %v and the Deployment's %v do not meet", svc.Spec.Selector, d.Spec.Selector)
			}
			hasWebConfig := slices.Contains(args(d), "--web.config.file=/etc/ocspwatch/web/web-config.yml")
			if hasWebConfig != tc.webConfig {
				t.Errorf("--web.config.file in args: %v, want %v (%v)", hasWebConfig, tc.webConfig, args(d))
			}
			if tc.releaseTag != "" {
				sm := only[*monitoringv1.ServiceMonitor](t, objs)
				if sm.Labels["release"] != tc.releaseTag || !selects(sm.Spec.Selector, svc.Labels) {
					t.Errorf("ServiceMonitor labels %v selector %v; Service labels %v", sm.Labels, sm.Spec.Selector, svc.Labels)
				}
				rule := only[*monitoringv1.PrometheusRule](t, objs)
				if rule.Labels["release"] != tc.releaseTag {
					t.Errorf("PrometheusRule labels %v", rule.Labels)
				}
				if !bytes.Equal(mustYAML(t, rule.Spec.Groups), mustYAML(t, ruleFileGroups(t))) {
					t.Error("the rendered PrometheusRule's groups differ from alerts/ocspwatch.rules.yml")
				}
			}
			for _, o := range objs {
				if s, ok := o.typed.(*corev1.Secret); ok {
					checkWebConfig(t, s)
				}
			}
			tc.check(t, objs)
		})
	}
}

func parseConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte(text), "ConfigMap ocspwatch.toml")
	if err != nil {
		t.Fatalf("the rendered ConfigMap's ocspwatch.toml is invalid: %v\n%s", err, text)
	}
	return cfg
}

// checkWebConfig loads the Secret's web config with exporter-toolkit, as
// --web.config.file does.
func checkWebConfig(t *testing.T, s *corev1.Secret) {
	t.Helper()
	text, ok := s.StringData["web-config.yml"]
	if !ok {
		t.Fatalf("Secret %s has no web-config.yml", s.Name)
	}
	// The TLS key pair lives in a Secret mounted at /etc/ocspwatch/tls in
	// the pod; here a fresh one stands in for it.
	dir := t.TempDir()
	writeKeyPair(t, dir)
	text = strings.ReplaceAll(text, "/etc/ocspwatch/tls/", dir+"/")
	path := filepath.Join(dir, "web-config.yml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := web.Validate(path); err != nil {
		t.Errorf("exporter-toolkit rejects the rendered web config: %v\n%s", err, text)
	}
}

// writeKeyPair writes a self-signed tls.crt and tls.key into dir.
func writeKeyPair(t *testing.T, dir string) {
	t.Helper()
	cert, key := newCert(t, &x509.Certificate{DNSNames: []string{"ocspwatch.monitoring.svc"}}, nil, nil)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, "tls.crt"), "CERTIFICATE", cert.Raw)
	writePEM(t, filepath.Join(dir, "tls.key"), "PRIVATE KEY", keyDER)
}

// writeIssuedCert writes issuer.pem, a CA, and only.pem, a leaf it issued.
func writeIssuedCert(t *testing.T, dir string) {
	t.Helper()
	ca, caKey := newCert(t, &x509.Certificate{IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	leaf, _ := newCert(t, &x509.Certificate{DNSNames: []string{"only.example.com"}}, ca, caKey)
	writePEM(t, filepath.Join(dir, "issuer.pem"), "CERTIFICATE", ca.Raw)
	writePEM(t, filepath.Join(dir, "only.pem"), "CERTIFICATE", leaf.Raw)
}

// newCert completes tmpl and signs it by parent, or by itself when parent
// is nil.
func newCert(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.Subject = pkix.Name{CommonName: fmt.Sprintf("deploy test %d", serial)}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDeploymentArgsParse runs the agent built as the Dockerfile builds it
// with each Deployment's arguments and --help: an unknown flag or a bad
// value fails the parse, so a renamed flag cannot go unnoticed here.
func TestDeploymentArgsParse(t *testing.T) {
	bin := buildStatic(t)
	deployments := map[string]*appsv1.Deployment{}
	for _, values := range append([]string{""}, valuesFiles(t)...) {
		deployments["helm template "+values] = only[*appsv1.Deployment](t, renderObjects(t, values))
	}
	manifest, err := os.ReadFile("kubernetes/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	deployments["kubernetes/deployment.yaml"] = only[*appsv1.Deployment](t, decodeStrictly(t, strictDecoder(t), "kubernetes/deployment.yaml", string(manifest)))
	for name, d := range deployments {
		argv := append(slices.Clone(args(d)), "--help")
		if out, err := exec.Command(bin, argv...).CombinedOutput(); err != nil {
			t.Errorf("%s: ocspwatch %s: %v\n%s", name, strings.Join(argv, " "), err, out)
		}
	}
}

// TestChartRejectsMistypedValues: values.schema.json turns a typo or a
// wrong type into an install-time error instead of a silently ignored key.
func TestChartRejectsMistypedValues(t *testing.T) {
	chrt, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		values map[string]any
		fixed  map[string]any // the same values written right, which must pass
	}{
		{
			name:   "misspelt key",
			values: map[string]any{"serviceMonitor": map[string]any{"enable": false}},
			fixed:  map[string]any{"serviceMonitor": map[string]any{"enabled": false}},
		},
		{
			name:   "unknown top-level key",
			values: map[string]any{"target": []any{}},
			fixed:  map[string]any{"targets": []any{}},
		},
		{
			name:   "watch interval without a unit",
			values: map[string]any{"configWatchInterval": "5"},
			fixed:  map[string]any{"configWatchInterval": "1m30s"},
		},
		{
			name:   "a label value that is not a string",
			values: map[string]any{"targets": []any{map[string]any{"name": "a", "labels": map[string]any{"team": 1}}}},
			fixed:  map[string]any{"targets": []any{map[string]any{"name": "a", "labels": map[string]any{"team": "1"}}}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := chartutil.ReleaseOptions{Name: releaseName, Namespace: namespace}
			if _, err := chartutil.ToRenderValues(chrt, tc.values, opts, chartutil.DefaultCapabilities); err == nil {
				t.Errorf("values %v accepted", tc.values)
			}
			if _, err := chartutil.ToRenderValues(chrt, tc.fixed, opts, chartutil.DefaultCapabilities); err != nil {
				t.Errorf("values %v rejected: %v", tc.fixed, err)
			}
		})
	}
}
