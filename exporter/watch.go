package exporter

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// The agent reloads when its configuration file changes, so that a
// Kubernetes ConfigMap update takes effect without a sidecar or a SIGHUP.
//
// It polls rather than using inotify (fsnotify). Kubelet updates a
// ConfigMap volume by writing a new timestamped directory and swapping the
// `..data` symlink to it; the file the agent was given is a symlink into
// `..data`. An inotify watch on that file follows the old inode and goes
// silent after the first swap, so a correct watcher must watch the
// directory, filter its event storm and re-arm itself. A stat every few
// seconds sees the swap, an editor's rename-over and an in-place write
// alike, costs one stat and one readlink chain per file and one glob per
// target_files pattern each interval, and adds no dependency.

// fileIdentity is what the watcher compares between two polls: the file's
// inode (through os.SameFile), size and modification time, and where the
// path's symlinks lead. The resolved path changes on every ConfigMap
// update even when the new file has the same size and mtime.
type fileIdentity struct {
	info     os.FileInfo
	resolved string
}

// identify stats path, following symlinks. ok is false while the file
// cannot be read, for example in the instant of a non-atomic replacement.
func identify(path string) (id fileIdentity, ok bool) {
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fileIdentity{}, false
	}
	info, err := os.Stat(resolved)
	if err != nil {
		return fileIdentity{}, false
	}
	return fileIdentity{info: info, resolved: resolved}, true
}

func (id fileIdentity) same(other fileIdentity) bool {
	return id.resolved == other.resolved &&
		os.SameFile(id.info, other.info) &&
		id.info.Size() == other.info.Size() &&
		id.info.ModTime().Equal(other.info.ModTime())
}

// configWatch remembers the files as last loaded, so that a change
// between New and Run is not missed, and as seen by the previous poll, so
// that they are loaded only once they have held still for one interval:
// an editor or `cp` that truncates and then writes would otherwise be
// caught half-written, and an empty file is a valid configuration (or
// target file) with no targets.
type configWatch struct {
	path     string
	interval time.Duration

	mu sync.Mutex
	// patterns are the target_files globs of the configuration last
	// loaded; a reload that changes them changes what is watched.
	patterns []string
	loaded   watchedFiles
	known    bool
	seen     watchedFiles
	settling bool
}

// watchedFiles is what one poll sees: the main file and every target
// file the patterns match.
type watchedFiles struct {
	main    fileIdentity
	targets map[string]fileIdentity
}

func (f watchedFiles) same(other watchedFiles) bool {
	if !f.main.same(other.main) || len(f.targets) != len(other.targets) {
		return false
	}
	for path, id := range f.targets {
		o, ok := other.targets[path]
		if !ok || !id.same(o) {
			return false
		}
	}
	return true
}

// newConfigWatch records the file's identity; call it before loading the
// file, so that a write racing the load is seen as a change.
func newConfigWatch(path string, interval time.Duration) *configWatch {
	w := &configWatch{path: path, interval: interval}
	w.loaded.main, w.known = identify(path)
	return w
}

// loadedWith records the target_files patterns of the configuration just
// loaded. When they differ from the last ones, the files they match now
// become the loaded ones; a target file written between its read and
// this call is then only seen at its next change, a window the main
// file, identified before its read, does not have.
func (w *configWatch) loadedWith(patterns []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.loaded.targets != nil && slices.Equal(patterns, w.patterns) {
		return
	}
	w.patterns = slices.Clone(patterns)
	w.loaded.targets = w.targetFiles()
}

// targetFiles identifies every file the patterns match, as the loader
// expands them (the main file is never a target file). A file that
// vanishes between the glob and the stat is left out, as it will be from
// the next load.
func (w *configWatch) targetFiles() map[string]fileIdentity {
	files := map[string]fileIdentity{}
	main := filepath.Clean(w.path)
	for _, pattern := range w.patterns {
		matches, _ := filepath.Glob(pattern) // validated by the load
		for _, m := range matches {
			if m = filepath.Clean(m); m == main {
				continue
			}
			if id, ok := identify(m); ok {
				files[m] = id
			}
		}
	}
	return files
}

// start polls until ctx ends and calls reload after each change, once
// the files have held still for one interval; a zero interval disables
// it. The returned channel closes when the poller has stopped. Files that
// fail to load are not retried until they change again: reload keeps the
// running configuration and records the failure, exactly as on SIGHUP.
func (w *configWatch) start(ctx context.Context, reload func() error) <-chan struct{} {
	done := make(chan struct{})
	if w.interval <= 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		ticker := time.NewTicker(w.interval)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if w.changed() {
					_ = reload() // logged and exported by the agent
				}
			}
		}
	}()
	return done
}

// changed reports whether the main file or a target file differs from
// the ones last loaded and nothing changed since the previous poll. While
// the main file is missing nothing happens: the running configuration
// stays, and the file's return counts as a change. A target file that
// disappears is a change: its targets go.
func (w *configWatch) changed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	var now watchedFiles
	var ok bool
	if now.main, ok = identify(w.path); !ok {
		w.known, w.settling = false, false
		return false
	}
	now.targets = w.targetFiles()
	switch {
	case w.known && now.same(w.loaded):
		w.settling = false
		return false
	case w.settling && now.same(w.seen):
		w.loaded, w.known, w.settling = now, true, false
		return true
	default:
		w.seen, w.settling = now, true
		return false
	}
}
