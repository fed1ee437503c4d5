package deploy_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/lint"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/parley-chat/parley/internal/config"
)

const chartDir = "helm/parley"

// configFile is where the pods read the deployment file; check-config's
// messages name it, and so do the chart's.
const configFile = "/etc/parley/parley.yaml"

// render renders the chart with Helm's own engine, as `helm template
// --namespace chat parley deploy/helm/parley -f FILE --set ...` does: the
// values file (under testdata/helm; "" for the chart's defaults) and then
// set over the chart's values.
func render(t *testing.T, file string, set map[string]any) (map[string]string, error) {
	t.Helper()
	ch, err := loader.LoadDir(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	vals := loader.MergeMaps(valuesFile(t, file), set)
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: "parley", Namespace: "chat", IsInstall: true}, common.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, rv)
}

// valuesFile reads a values file under testdata/helm; "" is none.
func valuesFile(t *testing.T, file string) map[string]any {
	t.Helper()
	if file == "" {
		return map[string]any{}
	}
	v, err := common.ReadValuesFile(filepath.Join("testdata/helm", file))
	if err != nil {
		t.Fatal(err)
	}
	return v.AsMap()
}

// objects decodes every rendered manifest strictly (an unknown field is an
// error) into the Kubernetes API types, as the API server would.
func objects(t *testing.T, manifests map[string]string) []runtime.Object {
	t.Helper()
	decode := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer().Decode
	var objs []runtime.Object
	for name, m := range manifests {
		for doc := range strings.SplitSeq(m, "\n---") {
			if strings.TrimSpace(stripComments(doc)) == "" || strings.HasSuffix(name, "NOTES.txt") {
				continue
			}
			obj, _, err := decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, doc)
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// deployment returns the deployment file the chart generated, validated as
// check-config validates it.
func deployment(t *testing.T, objs []runtime.Object) *config.Deployment {
	t.Helper()
	for _, o := range objs {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Data["parley.yaml"] != "" && cm.Annotations["helm.sh/hook"] == "" {
			d, err := config.Parse(configFile, []byte(cm.Data["parley.yaml"]))
			if err != nil {
				t.Fatalf("check-config refuses the rendered deployment file: %v\n%s", err, cm.Data["parley.yaml"])
			}
			return d
		}
	}
	t.Fatal("no ConfigMap with parley.yaml")
	return nil
}

func statefulSets(objs []runtime.Object) map[string]*appsv1.StatefulSet {
	sts := map[string]*appsv1.StatefulSet{}
	for _, o := range objs {
		if s, ok := o.(*appsv1.StatefulSet); ok {
			sts[s.Name] = s
		}
	}
	return sts
}

// TestChartRenders renders the chart's defaults and a small and a large
// values file: every manifest a valid Kubernetes object, the deployment
// file valid for check-config with one application per pod, and each
// StatefulSet running its pods as those applications.
func TestChartRenders(t *testing.T) {
	for _, tc := range []struct {
		file string
		apps int // applications in the deployment file
	}{
		{"", 5},
		{"small.yaml", 3},
		{"large.yaml", 17},
	} {
		t.Run(cmpOr(tc.file, "defaults"), func(t *testing.T) {
			manifests, err := render(t, tc.file, nil)
			if err != nil {
				t.Fatal(err)
			}
			objs := objects(t, manifests)
			d := deployment(t, objs)
			if len(d.Applications) != tc.apps {
				t.Errorf("%d applications, want %d: %v", len(d.Applications), tc.apps, d.Names())
			}
			sts := statefulSets(objs)
			pods := 0
			for _, s := range sts {
				checkStatefulSet(t, s, d)
				pods += int(*s.Spec.Replicas)
			}
			if pods != len(d.Applications) {
				t.Errorf("%d pods for %d applications", pods, len(d.Applications))
			}
			checkHook(t, objs)
			if tc.file == "large.yaml" {
				checkPairs(t, d)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// checkStatefulSet checks that each pod of s is an application of d, that
// runs as it, probed on /healthz, with the deployment secret and, if it
// has a database, its DSN from Secrets.
func checkStatefulSet(t *testing.T, s *appsv1.StatefulSet, d *config.Deployment) {
	t.Helper()
	for i := range int(*s.Spec.Replicas) {
		name := fmt.Sprintf("%s-%d", s.Name, i)
		app, err := d.App(name)
		if err != nil {
			t.Errorf("pod %s: %v", name, err)
			continue
		}
		if want := fmt.Sprintf("%s.%s.chat.svc.cluster.local:", name, s.Spec.ServiceName); !strings.HasPrefix(app.Listen, want) {
			t.Errorf("%s listens on %s, want %s...", name, app.Listen, want)
		}
	}
	c := s.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"run", "--config", configFile, "--app", "$(POD_NAME)", "--log-format", "json"}) {
		t.Errorf("%s args %v", s.Name, c.Args)
	}
	checkProbes(t, s, d.Applications[s.Name+"-0"])
	env := map[string]*corev1.EnvVarSource{}
	for _, e := range c.Env {
		env[e.Name] = e.ValueFrom
	}
	if env["PARLEY_SECRET"] == nil || env["PARLEY_SECRET"].SecretKeyRef == nil {
		t.Errorf("%s: no deployment secret from a Secret", s.Name)
	}
	sc := s.Spec.Template.Spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s may run as root", s.Name)
	}
	app := d.Applications[s.Name+"-0"]
	if app != nil && app.Type == config.ChatServer {
		if l := c.Lifecycle; l == nil || l.PreStop == nil || l.PostStart == nil || !slices.Contains(l.PreStop.Exec.Command, "drain") {
			t.Errorf("%s: no drain before the pod stops (%+v)", s.Name, l)
		}
	}
	if app == nil || app.Database == "" {
		return
	}
	if db := d.Databases[app.Database]; db.DSNEnv == "" || env[db.DSNEnv] == nil || env[db.DSNEnv].SecretKeyRef == nil {
		t.Errorf("%s: database %s's DSN not from a Secret (%+v)", s.Name, app.Database, db)
	}
}

// TestChartLint runs Helm's linter over the chart, with its defaults and
// with each values file: no error or warning.
func TestChartLint(t *testing.T) {
	for _, file := range []string{"", "small.yaml", "large.yaml"} {
		l := lint.RunAll(chartDir, valuesFile(t, file), "chat")
		for _, m := range l.Messages {
			if m.Severity >= support.WarningSev {
				t.Errorf("lint %s: %s", cmpOr(file, "defaults"), m)
			}
		}
	}
}

// TestChartRefusesWhatCheckConfigRefuses renders values that make an
// invalid deployment: helm fails with the line check-config prints for the
// file the chart renders from the same values when told not to check.
func TestChartRefusesWhatCheckConfigRefuses(t *testing.T) {
	apps := func(entry string, v map[string]any) map[string]any {
		return map[string]any{"applications": map[string]any{entry: v}}
	}
	for _, tc := range []struct {
		name string
		set  map[string]any
	}{
		{"unknown option", apps("chat", map[string]any{"options": map[string]any{"settings": map[string]any{"transcript-autosave": 1}}})},
		{"unknown section", apps("chat", map[string]any{"options": map[string]any{"setings": map[string]any{"x": 1}}})},
		{"unknown named-section option", apps("ixn", map[string]any{"options": map[string]any{"queue:vip": map[string]any{"routng": "builtin"}}})},
		{"connection to a missing application", apps("gms", map[string]any{"connections": []any{"chat", "chats"}})},
		{"missing database", apps("chat", map[string]any{"database": "other"})},
		{"database without a DSN", map[string]any{"databases": map[string]any{"main": map[string]any{"dsnSecret": nil}}}},
		{"unknown type", apps("gms", map[string]any{"type": "web-apy"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := render(t, "", tc.set)
			if err == nil {
				t.Fatal("helm rendered an invalid deployment")
			}
			t.Log(err)
			unchecked, rerr := render(t, "", loader.MergeMaps(tc.set, map[string]any{"validate": false}))
			if rerr != nil {
				t.Fatalf("unchecked render: %v", rerr)
			}
			_, perr := config.Parse(configFile, []byte(configMapData(t, unchecked)))
			if perr == nil {
				t.Fatalf("check-config accepts what helm refused (%v)", err)
			}
			if !slices.ContainsFunc(strings.Split(perr.Error(), "\n"), func(line string) bool { return strings.HasSuffix(err.Error(), line) }) {
				t.Errorf("helm says:\n  %v\ncheck-config says:\n  %s", err, strings.ReplaceAll(perr.Error(), "\n", "\n  "))
			}
		})
	}
}

// TestChartRefusesApplicationClusters: an application-cluster entry runs no
// process, so the chart refuses one rather than give it pods.
func TestChartRefusesApplicationClusters(t *testing.T) {
	_, err := render(t, "", map[string]any{"applications": map[string]any{"nodes": map[string]any{"type": "application-cluster",
		"connections": []any{"ixn"}, "options": map[string]any{"cluster-settings": map[string]any{"cluster-type": "interaction-server"}}}}})
	if err == nil || !strings.Contains(err.Error(), "type = application-cluster: an application cluster runs no process") {
		t.Fatalf("helm rendered an application cluster: %v", err)
	}
}

// configMapData returns the rendered deployment file, unparsed.
func configMapData(t *testing.T, manifests map[string]string) string {
	t.Helper()
	for _, o := range objects(t, manifests) {
		if cm, ok := o.(*corev1.ConfigMap); ok && cm.Name == "parley-config" {
			return cm.Data["parley.yaml"]
		}
	}
	t.Fatal(errors.New("no ConfigMap"))
	return ""
}

// checkProbes checks that the pods of s are ready once /healthz answers,
// but for a standby's (an interaction server's), which answers 503 while
// it is the backup, and that liveness never depends on /healthz.
func checkProbes(t *testing.T, s *appsv1.StatefulSet, app *config.Application) {
	t.Helper()
	c := s.Spec.Template.Spec.Containers[0]
	r, l := c.ReadinessProbe, c.LivenessProbe
	if r == nil || l == nil || l.TCPSocket == nil {
		t.Fatalf("%s probes %+v %+v", s.Name, r, l)
	}
	standby := app != nil && app.Type == config.InteractionServer
	if standby != (r.HTTPGet == nil) || !standby && r.HTTPGet.Path != "/healthz" {
		t.Errorf("%s readiness %+v", s.Name, r)
	}
}

// checkHook checks the pre-install and pre-upgrade hook: a Job, tried once,
// that runs check-config on a copy of the deployment file the pods mount.
func checkHook(t *testing.T, objs []runtime.Object) {
	t.Helper()
	files := map[string]string{} // ConfigMap name -> parley.yaml
	var job *batchv1.Job
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			files[o.Name] = o.Data["parley.yaml"]
		case *batchv1.Job:
			job = o
		}
	}
	if job == nil || job.Annotations["helm.sh/hook"] != "pre-install,pre-upgrade" || job.Spec.BackoffLimit == nil || *job.Spec.BackoffLimit != 0 {
		t.Fatalf("no check-config hook Job: %+v", job)
	}
	c := job.Spec.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"check-config", "--config", configFile}) {
		t.Errorf("hook args %v", c.Args)
	}
	cm := job.Spec.Template.Spec.Volumes[0].ConfigMap
	if cm == nil || files[cm.Name] == "" || strings.TrimSpace(files[cm.Name]) != strings.TrimSpace(files["parley-config"]) {
		t.Errorf("the hook checks ConfigMap %+v, not a copy of parley-config", cm)
	}
}

// checkPairs checks the standby entries of large.yaml: each warm-standby
// chat server primary names its backup, the web APIs connect to the
// primaries only, and the stat server backup connects to its primary.
func checkPairs(t *testing.T, d *config.Deployment) {
	t.Helper()
	for primary, backup := range map[string]string{"parley-vip-0": "parley-vip-1", "parley-vip-2": "parley-vip-3"} {
		if got := d.Applications[primary].Backup; got != backup {
			t.Errorf("%s: backup %q, want %s", primary, got, backup)
		}
		if d.Applications[backup].Backup != "" {
			t.Errorf("backup %s has a backup", backup)
		}
	}
	gms := d.Applications["parley-gms-0"].Connections
	if !slices.Contains(gms, "parley-vip-2") || slices.Contains(gms, "parley-vip-1") || slices.Contains(gms, "parley-vip-3") {
		t.Errorf("web API connections %v: want the primaries of the pairs only", gms)
	}
	if c := d.Applications["parley-stat-1"].Connections; !slices.Contains(c, "parley-stat-0") || slices.Contains(d.Applications["parley-stat-0"].Connections, "parley-stat-1") {
		t.Errorf("stat server pair: stat-1 connects to %v, stat-0 to %v", c, d.Applications["parley-stat-0"].Connections)
	}
}
