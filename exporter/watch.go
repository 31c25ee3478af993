package exporter

import (
	"context"
	"os"
	"path/filepath"
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
// alike, costs one stat and one readlink chain per interval, and adds no
// dependency.

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

// configWatch remembers the identity of the configuration file as last
// loaded, so that a change between New and Run is not missed, and the
// identity seen by the previous poll, so that a file is loaded only once
// it has held still for one interval: an editor or `cp` that truncates and
// then writes would otherwise be caught half-written, and an empty file is
// a valid configuration with no targets.
type configWatch struct {
	path     string
	interval time.Duration
	loaded   fileIdentity
	known    bool
	seen     fileIdentity
	settling bool
}

// newConfigWatch records the file's identity; call it before loading the
// file, so that a write racing the load is seen as a change.
func newConfigWatch(path string, interval time.Duration) *configWatch {
	w := &configWatch{path: path, interval: interval}
	w.loaded, w.known = identify(path)
	return w
}

// start polls until ctx ends and calls reload after each change, once
// the file has held still for one interval; a zero interval disables it.
// The returned channel closes when the poller has stopped. A file that fails to load is not retried until it changes
// again: reload keeps the running configuration and records the failure,
// exactly as on SIGHUP.
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

// changed reports whether the file differs from the one last loaded and
// has not changed since the previous poll. While the file is missing
// nothing happens: the running configuration stays, and the file's return
// counts as a change.
func (w *configWatch) changed() bool {
	id, ok := identify(w.path)
	switch {
	case !ok:
		w.known, w.settling = false, false
		return false
	case w.known && id.same(w.loaded):
		w.settling = false
		return false
	case w.settling && id.same(w.seen):
		w.loaded, w.known, w.settling = id, true, false
		return true
	default:
		w.seen, w.settling = id, true
		return false
	}
}
