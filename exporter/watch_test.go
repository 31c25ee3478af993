package exporter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocspwatch/ocspwatch/internal/proc"
)

// newConfigMapDir lays out a directory as kubelet does for a ConfigMap
// volume: the data lives in a timestamped directory, `..data` links to it,
// and the file the agent opens is a symlink through `..data`. It returns
// that file's path.
func newConfigMapDir(t *testing.T, text string, mtime time.Time) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "ocspwatch.toml")
	swapConfigMap(t, path, text, mtime)
	if err := os.Symlink(filepath.Join("..data", "ocspwatch.toml"), path); err != nil {
		t.Fatal(err)
	}
	return path
}

// swapConfigMap writes text into a new timestamped directory next to path
// and atomically points `..data` at it, as a ConfigMap update does. The
// new file gets mtime, so tests can make the old and new files alike in
// size and time.
func swapConfigMap(t *testing.T, path, text string, mtime time.Time) {
	t.Helper()
	dir := filepath.Dir(path)
	data, err := os.MkdirTemp(dir, "..2026_11_26_")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, filepath.Base(path))
	writeConfig(t, file, text)
	if err := os.Chtimes(file, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(data), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

func TestConfigWatchSeesEveryKindOfChange(t *testing.T) {
	mtime := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	plain := func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "ocspwatch.toml")
		writeConfig(t, path, "aaaa")
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T) string
		change func(t *testing.T, path string)
		want   bool
	}{
		{
			name:   "untouched",
			setup:  plain,
			change: func(t *testing.T, path string) {},
			want:   false,
		},
		{
			name:  "written in place with another size",
			setup: plain,
			change: func(t *testing.T, path string) {
				writeConfig(t, path, "aaaaaa")
				_ = os.Chtimes(path, mtime, mtime)
			},
			want: true,
		},
		{
			name:  "same size, new mtime",
			setup: plain,
			change: func(t *testing.T, path string) {
				writeConfig(t, path, "bbbb")
				_ = os.Chtimes(path, mtime.Add(time.Second), mtime.Add(time.Second))
			},
			want: true,
		},
		{
			name:  "renamed over with the same size and mtime",
			setup: plain,
			change: func(t *testing.T, path string) {
				tmp := path + ".tmp"
				writeConfig(t, tmp, "bbbb")
				_ = os.Chtimes(tmp, mtime, mtime)
				if err := os.Rename(tmp, path); err != nil {
					t.Fatal(err)
				}
			},
			want: true,
		},
		{
			name: "ConfigMap ..data swap with the same size and mtime",
			setup: func(t *testing.T) string {
				return newConfigMapDir(t, "aaaa", mtime)
			},
			change: func(t *testing.T, path string) {
				swapConfigMap(t, path, "bbbb", mtime)
			},
			want: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.setup(t)
			w := newConfigWatch(path, time.Second)
			if !w.known {
				t.Fatalf("%s cannot be identified", path)
			}
			tc.change(t, path)
			if w.changed() {
				t.Error("the first poll after a change reports it; the file has not held still for an interval yet")
			}
			if got := w.changed(); got != tc.want {
				t.Errorf("second poll: changed() = %v, want %v", got, tc.want)
			}
			if w.changed() {
				t.Error("a third poll without a change reports a change")
			}
		})
	}
}

func TestConfigWatchWaitsOutAMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ocspwatch.toml")
	writeConfig(t, path, "aaaa")
	w := newConfigWatch(path, time.Second)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if w.changed() {
		t.Error("a missing file counts as a change; the agent would reload and fail")
	}
	writeConfig(t, path, "aaaa")
	if w.changed() || !w.changed() {
		t.Error("the file's return is not seen as a change one poll later")
	}
}

func TestConfigWatchWaitsForAWriteToFinish(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ocspwatch.toml")
	writeConfig(t, path, "region = \"eu\"\n")
	w := newConfigWatch(path, time.Second)
	// A truncating writer caught half-way: the file changes between polls.
	for _, partial := range []string{"", "region = ", "region = \"us\"\n"} {
		writeConfig(t, path, partial)
		if w.changed() {
			t.Fatalf("reload of the half-written file %q", partial)
		}
	}
	if !w.changed() {
		t.Error("the finished file is not loaded once it held still")
	}
}

// TestAgentReloadsWhenItsConfigChanges runs the real agent on a plain file
// and on a ConfigMap-style symlinked file: a good change is applied, a bad
// one is rejected and recorded while the running configuration stays, and
// fixing the file applies it.
func TestAgentReloadsWhenItsConfigChanges(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, 5*time.Hour)
	one := l.target("one", srv.Addr, "")
	two := one + l.target("two", srv.Addr, "")
	cases := []struct {
		name  string
		write func(t *testing.T, path, text string)
		path  func(t *testing.T, text string) string
	}{
		{
			name:  "file rewritten in place",
			write: writeConfig,
			path: func(t *testing.T, text string) string {
				path := filepath.Join(t.TempDir(), "ocspwatch.toml")
				writeConfig(t, path, text)
				return path
			},
		},
		{
			name: "ConfigMap ..data symlink swap",
			write: func(t *testing.T, path, text string) {
				swapConfigMap(t, path, text, time.Now())
			},
			path: func(t *testing.T, text string) string {
				return newConfigMapDir(t, text, time.Now())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path(t, one)
			ra := startAgentOptions(t, Options{ConfigFile: path, Now: func() time.Time { return l.now }, UserAgent: "ocspwatch/test", ConfigWatchInterval: 10 * time.Millisecond})
			targets := func() int { return len(ra.sched.config().Targets) }
			health := func() reloadHealth { _, h := ra.configAndHealth(); return h }

			tc.write(t, path, two)
			proc.WaitFor(t, 10*time.Second, "the second target to be loaded", func() bool { return targets() == 2 })

			tc.write(t, path, two+"\nno_such_key = 1\n")
			proc.WaitFor(t, 10*time.Second, "the bad file to be rejected", func() bool { return health().failures == 1 })
			if h := health(); h.lastOK || targets() != 2 {
				t.Fatalf("after a bad file: lastOK=%v targets=%d, want the running configuration kept", h.lastOK, targets())
			}
			if !strings.Contains(ra.metrics(t), "ocspwatch_config_last_reload_successful 0") {
				t.Error("the failed reload is not exported")
			}

			tc.write(t, path, one)
			proc.WaitFor(t, 10*time.Second, "the fixed file to be loaded", func() bool { return targets() == 1 && health().lastOK })
			if h := health(); h.failures != 1 {
				t.Errorf("failures = %v, want 1: an unchanged bad file must not be retried", h.failures)
			}
		})
	}
}

func TestConfigWatchZeroIntervalIsOff(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ocspwatch.toml")
	writeConfig(t, path, "aaaa")
	w := newConfigWatch(path, 0)
	done := w.start(t.Context(), func() error {
		t.Error("reload called with the watcher disabled")
		return nil
	})
	select {
	case <-done:
	default:
		t.Error("a disabled watcher left a goroutine running")
	}
}

// BenchmarkConfigWatchPollTargetFiles measures one poll of a main file
// and the 50 target files a 50,000-target fleet is split into.
func BenchmarkConfigWatchPollTargetFiles(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "ocspwatch.toml")
	if err := os.WriteFile(path, []byte("target_files = [\"targets.d/*.toml\"]\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "targets.d"), 0o755); err != nil {
		b.Fatal(err)
	}
	for i := range 50 {
		if err := os.WriteFile(filepath.Join(dir, "targets.d", fmt.Sprintf("%03d.toml", i)), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	w := newConfigWatch(path, time.Second)
	w.loadedWith([]string{filepath.Join(dir, "targets.d", "*.toml")})
	b.ReportAllocs()
	for b.Loop() {
		if w.changed() {
			b.Fatal("unchanged files reported as changed")
		}
	}
}

// BenchmarkConfigWatchPoll measures one poll of a ConfigMap-style
// symlinked file: what the agent spends every --config.watch-interval.
func BenchmarkConfigWatchPoll(b *testing.B) {
	dir := b.TempDir()
	data := filepath.Join(dir, "..2026_11_26_00_00_00.000000001")
	if err := os.Mkdir(data, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "ocspwatch.toml"), []byte("region = \"eu\"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(filepath.Base(data), filepath.Join(dir, "..data")); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "ocspwatch.toml")
	if err := os.Symlink(filepath.Join("..data", "ocspwatch.toml"), path); err != nil {
		b.Fatal(err)
	}
	w := newConfigWatch(path, time.Second)
	b.ReportAllocs()
	for b.Loop() {
		if w.changed() {
			b.Fatal("an unchanged file reported as changed")
		}
	}
}

// writeTargetFile writes a target file as is: writeConfig would add a
// [network] table, which a target file may not hold.
func writeTargetFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConfigWatchSeesTargetFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ocspwatch.toml")
	writeConfig(t, path, "target_files = [\"t/*.toml\"]\n")
	w := newConfigWatch(path, time.Second)
	w.loadedWith([]string{filepath.Join(dir, "t/*.toml")})
	settles := func(what string) {
		t.Helper()
		if w.changed() {
			t.Errorf("%s: reported before it held still for an interval", what)
		}
		if !w.changed() {
			t.Errorf("%s: not reported once it held still", what)
		}
		if w.changed() {
			t.Errorf("%s: reported twice", what)
		}
	}
	file := filepath.Join(dir, "t", "a.toml")
	writeTargetFile(t, file, "")
	settles("a new target file")
	writeTargetFile(t, file, "[[target]]\nname = \"a\"\nendpoint = \"a.example:443\"\n")
	settles("a changed target file")
	writeTargetFile(t, filepath.Join(dir, "t", "notes.txt"), "not matched")
	if w.changed() || w.changed() {
		t.Error("a file the patterns do not match reported as a change")
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	settles("a removed target file")
}

// TestAgentReloadsWhenATargetFileChanges: the watcher notices a target
// file that appears, changes or disappears, and the agent's targets
// follow; SIGHUP's Reload reads target files too.
func TestAgentReloadsWhenATargetFileChanges(t *testing.T) {
	l := newLab(t)
	srv := l.server(t, 5*time.Hour)
	dir := t.TempDir()
	path := filepath.Join(dir, "ocspwatch.toml")
	writeConfig(t, path, "target_files = [\"targets.d/*.toml\", \"sd/*.json\"]\n"+labNetwork+l.target("main", srv.Addr, ""))
	ra := startAgentOptions(t, Options{ConfigFile: path, Now: func() time.Time { return l.now }, UserAgent: "ocspwatch/test", ConfigWatchInterval: 10 * time.Millisecond})
	names := func() string {
		var names []string
		for _, tg := range ra.sched.config().Targets {
			names = append(names, tg.Name)
		}
		return strings.Join(names, ",")
	}
	health := func() reloadHealth { _, h := ra.configAndHealth(); return h }
	file := filepath.Join(dir, "targets.d", "web.toml")

	writeTargetFile(t, file, l.target("web", srv.Addr, ""))
	proc.WaitFor(t, 10*time.Second, "the new target file to be loaded", func() bool { return names() == "main,web" })
	mainState, webState := ra.store.get("main"), ra.store.get("web")

	writeTargetFile(t, file, l.target("web", srv.Addr, "")+l.target("web2", srv.Addr, ""))
	proc.WaitFor(t, 10*time.Second, "the changed target file to be loaded", func() bool { return names() == "main,web,web2" })
	if ra.store.get("main") != mainState {
		t.Error("a change in a target file replaced the state of a main-file target")
	}
	if ra.store.get("web") != webState {
		t.Error("an unchanged target in a changed file lost its state, counters and schedule")
	}

	writeTargetFile(t, file, l.target("web", srv.Addr, "")+"bogus = 1\n")
	proc.WaitFor(t, 10*time.Second, "the bad target file to be rejected", func() bool { return health().failures == 1 })
	if names() != "main,web,web2" {
		t.Errorf("after a bad target file: targets %s, want the running ones kept", names())
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	proc.WaitFor(t, 10*time.Second, "the removed target file's targets to go", func() bool { return names() == "main" && health().lastOK })

	// Reload, as SIGHUP calls it, sees a file_sd file at once.
	writeTargetFile(t, filepath.Join(dir, "sd", "x.json"), `[{"targets": ["`+srv.Addr+`"], "labels": {"__param_name": "sd", "__param_server_name": "localhost", "__param_ca_file": "`+l.rootFile+`"}}]`)
	if err := ra.Reload(); err != nil {
		t.Fatal(err)
	}
	if names() != "main,sd" {
		t.Errorf("after Reload: targets %s, want main,sd", names())
	}
}
