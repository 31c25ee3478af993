package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/ocspwatch/ocspwatch/config"
)

// object is one decoded Kubernetes manifest and where it came from.
type object struct {
	source string
	typed  runtime.Object
	meta   metav1.Object
}

// strictDecoder decodes Kubernetes YAML into the typed structs of k8s.io/api
// and of the Prometheus Operator, rejecting unknown and duplicate fields
// and kinds it does not know: what kubeconform checks with JSON schemas.
func strictDecoder(t *testing.T) runtime.Decoder {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := monitoringv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}

// splitDocuments splits a multi-document YAML stream at "---" lines and
// drops documents that hold only comments or nothing.
func splitDocuments(data string) []string {
	var docs []string
	for _, doc := range strings.Split("\n"+data, "\n---") {
		meaningful := false
		for _, line := range strings.Split(doc, "\n") {
			if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
				meaningful = true
				break
			}
		}
		if meaningful {
			docs = append(docs, doc)
		}
	}
	return docs
}

// decodeStrictly decodes every document of data and checks what the API
// server would check first: object names and labels.
func decodeStrictly(t *testing.T, dec runtime.Decoder, source, data string) []object {
	t.Helper()
	var objs []object
	for i, doc := range splitDocuments(data) {
		where := fmt.Sprintf("%s (document %d)", source, i+1)
		typed, gvk, err := dec.Decode([]byte(doc), nil, nil)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		meta, ok := typed.(metav1.Object)
		if !ok {
			t.Errorf("%s: %s has no object metadata", where, gvk)
			continue
		}
		for _, e := range validateMeta(meta) {
			t.Errorf("%s: %s: %v", where, gvk.Kind, e)
		}
		objs = append(objs, object{source: where, typed: typed, meta: meta})
	}
	return objs
}

func validateMeta(meta metav1.Object) field.ErrorList {
	om := &metav1.ObjectMeta{Name: meta.GetName(), Namespace: meta.GetNamespace(), Labels: meta.GetLabels(), Annotations: meta.GetAnnotations()}
	// Every kind here is namespaced; a manifest may leave the namespace to kubectl.
	return apivalidation.ValidateObjectMeta(om, om.Namespace != "", apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
}

// kinds lists the decoded objects' kinds, sorted.
func kinds(objs []object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.typed.GetObjectKind().GroupVersionKind().Kind)
	}
	slices.Sort(out)
	return out
}

func only[T runtime.Object](t *testing.T, objs []object) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.typed.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want one %T, have %d", zero, len(found))
	}
	return found[0]
}

// checkDeployment holds a Deployment to the house's hardening and checks
// that its selector selects its own pods.
func checkDeployment(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		t.Fatalf("Deployment selector: %v", err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("the Deployment's selector %s does not select its pods %v", sel, d.Spec.Template.Labels)
	}
	pod := d.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("the pod mounts a service account token it does not need")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("the container has no securityContext")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the root filesystem is writable")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation is allowed")
	case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}):
		t.Errorf("capabilities dropped: %v, want ALL", sc.Capabilities)
	}
	if c.Resources.Limits.Memory().IsZero() {
		t.Error("no memory limit")
	}
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Error("the container lacks a liveness or readiness probe")
	}
	ports := map[string]bool{}
	for _, p := range c.Ports {
		ports[p.Name] = true
	}
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		if p != nil && p.HTTPGet != nil && !ports[p.HTTPGet.Port.String()] {
			t.Errorf("a probe targets port %q, which the container does not name", p.HTTPGet.Port.String())
		}
	}
	volumes := map[string]bool{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = true
	}
	for _, m := range c.VolumeMounts {
		if !volumes[m.Name] {
			t.Errorf("volume mount %q has no volume", m.Name)
		}
		if m.SubPath != "" {
			t.Errorf("volume mount %q uses subPath, which kubelet never updates", m.Name)
		}
	}
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	dec := strictDecoder(t)
	var objs []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, decodeStrictly(t, dec, f, string(data))...)
	}
	if got, want := kinds(objs), []string{"ConfigMap", "Deployment", "PrometheusRule", "Service", "ServiceMonitor", "StatefulSet"}; !slices.Equal(got, want) {
		t.Fatalf("kinds %v, want %v", got, want)
	}
	d := only[*appsv1.Deployment](t, objs)
	checkDeployment(t, d)
	for _, want := range []string{"--config.file=/etc/ocspwatch/ocspwatch.toml", "--web.listen-address=:9879"} {
		if !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, want) {
			t.Errorf("the Deployment's args %v lack %s", d.Spec.Template.Spec.Containers[0].Args, want)
		}
	}
	checkShardedStatefulSet(t, only[*appsv1.StatefulSet](t, objs))
	cm := only[*corev1.ConfigMap](t, objs)
	if _, err := config.Parse([]byte(cm.Data["ocspwatch.toml"]), "kubernetes/configmap.yaml"); err != nil {
		t.Errorf("the ConfigMap's ocspwatch.toml is invalid: %v", err)
	}
	sm := only[*monitoringv1.ServiceMonitor](t, objs)
	if sm.Labels["release"] == "" {
		t.Error("the ServiceMonitor lacks the release label kube-prometheus-stack selects on")
	}
	svc := only[*corev1.Service](t, objs)
	if !selects(sm.Spec.Selector, svc.Labels) {
		t.Errorf("the ServiceMonitor's selector %v does not select the Service %v", sm.Spec.Selector, svc.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != svc.Spec.Ports[0].Name {
		t.Errorf("the ServiceMonitor scrapes %+v, not the Service's port %q", sm.Spec.Endpoints, svc.Spec.Ports[0].Name)
	}
	rule := only[*monitoringv1.PrometheusRule](t, objs)
	if !bytes.Equal(mustYAML(t, rule.Spec.Groups), mustYAML(t, ruleFileGroups(t))) {
		t.Error("kubernetes/prometheusrule.yaml's groups differ from alerts/ocspwatch.rules.yml")
	}
}

// ruleFileGroups decodes alerts/ocspwatch.rules.yml strictly into the
// Prometheus Operator's rule groups.
func ruleFileGroups(t *testing.T) []monitoringv1.RuleGroup {
	t.Helper()
	data, err := os.ReadFile(ruleFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(data, &rules); err != nil {
		t.Fatalf("%s: %v", ruleFile, err)
	}
	if len(rules.Groups) == 0 {
		t.Fatalf("%s has no groups", ruleFile)
	}
	return rules.Groups
}

func mustYAML(t *testing.T, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// selects reports whether a label selector matches a set of labels.
func selects(sel metav1.LabelSelector, set map[string]string) bool {
	s, err := metav1.LabelSelectorAsSelector(&sel)
	return err == nil && !s.Empty() && s.Matches(labels.Set(set))
}

// checkShardedStatefulSet: each pod's --shard, once Kubernetes expands
// $(POD_INDEX) to its ordinal, names a valid part of as many as there are
// replicas.
func checkShardedStatefulSet(t *testing.T, s *appsv1.StatefulSet) {
	t.Helper()
	c := s.Spec.Template.Spec.Containers[0]
	var shard string
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--shard="); ok {
			shard = v
		}
	}
	if shard == "" || len(c.Env) == 0 || c.Env[0].Name != "POD_INDEX" || c.Env[0].ValueFrom == nil || c.Env[0].ValueFrom.FieldRef == nil {
		t.Fatalf("the StatefulSet does not pass its pod index to --shard: args %v env %v", c.Args, c.Env)
	}
	replicas := int(*s.Spec.Replicas)
	for i := range replicas {
		got, err := config.ParseShard(strings.ReplaceAll(shard, "$(POD_INDEX)", strconv.Itoa(i)))
		if err != nil || got.Count != replicas {
			t.Errorf("pod %d: --shard=%s gives %+v, %v; want part %d of %d", i, shard, got, err, i, replicas)
		}
	}
}
