package config

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"sync"
)

// Target files: target_files = ["targets.d/*.toml", "sd/*.json"] adds the
// targets of every file its globs match, so a fleet can be generated, split
// and changed one file at a time (README, "File discovery").

// Limits on target files: enough for a fleet of maxTargetsPerFile targets
// split ten to a file, small enough that a glob gone wrong (a "*" over
// /var/log) fails fast instead of reading a disk.
const (
	maxTargetPatterns   = 64
	maxTargetFiles      = 10000
	maxTargetFilesBytes = 4 * MaxConfigBytes
)

// Loader loads a configuration again and again, as an agent's reloads
// do, and keeps what the last good load validated: a load decodes and
// validates only the files whose bytes changed. A target file's targets
// are reused only when its bytes (by SHA-256, not by mtime), the main
// file's bytes and the contents of every file its targets read (ca_file,
// issuer_file …) are all as they were, since validation depends on each;
// the main file's settings and targets likewise, with the files it reads.
// The zero Loader is ready; it is safe for one load at a time from any
// goroutine.
type Loader struct {
	mu    sync.Mutex
	files map[string]*parsedFile
	// certs is the last good load's parsed PEM files.
	certs *fileCache
	// names is where each target name of the last good load is, so that
	// a load checks only the names of the files that changed against it.
	names     map[string]nameAt
	mainNames []string
	main      *parsedMain
}

// nameAt is a target's place: the index in its file's targets, the main
// file's when path is "".
type nameAt struct {
	path  string
	index int
}

// parsedFile is one target file's validated targets. They are shared by
// every configuration loaded while the file stays the same, and never
// modified after validation.
type parsedFile struct {
	sum     [sha256.Size]byte
	main    [sha256.Size]byte
	targets []*Target
	// deps are the files the targets read, with the sums they had.
	deps map[string][sha256.Size]byte
	// entries[i] is the file_sd entry target i came from (0 for TOML).
	entries []int
	toml    bool
}

// Load reads and validates the configuration at path and its target
// files, reusing what it can from the previous good load. A failed load
// leaves the reuse cache as it was.
func (l *Loader) Load(path string) (*Config, error) {
	data, err := ReadRegularFile(path, MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	return l.parse(data, path)
}

func (l *Loader) parse(data []byte, path string) (*Config, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	files := &fileCache{prev: l.certs}
	defer files.forgetPrevious()
	loc := newLocator(data)
	mainSum := sha256.Sum256(data)
	var cfg *Config
	var errs []error
	reused := l.main != nil && l.main.sum == mainSum && depsHold(files, l.main.deps)
	if reused {
		// The same bytes under the same files validate the same: the
		// last good load's settings and main-file targets stand, and
		// a big main file is not decoded again.
		c := l.main.cfg
		cfg = &c
		cfg.files = files
	} else {
		cfg = &Config{files: files}
		md, err := decodeTOML(data, path, loc, cfg)
		if err != nil {
			return nil, err
		}
		cfg.fillDefaults(md)
		if cfg.ShardSpec != "" {
			if cfg.shard, err = ParseShard(cfg.ShardSpec); err != nil {
				return nil, fmt.Errorf("%s:%d: shard: %v", path, loc.lineOfGlobal("shard"), err)
			}
		}
		errs = cfg.validate(loc, path)
	}
	validated := *cfg
	sources := []targetSource{{targets: cfg.Targets, reused: reused, place: func(i int) string {
		return fmt.Sprintf("%s:%d", path, loc.lineInTarget(i, "name"))
	}}}
	targetFiles, fileErrs := l.targetFiles(cfg, path, loc, mainSum, &sources)
	errs = append(errs, fileErrs...)
	gatherErrs, commitNames := l.gather(cfg, path, sources, targetFiles)
	errs = append(errs, gatherErrs...)
	if len(errs) > 0 {
		return nil, capErrors(path, errs)
	}
	l.files, l.certs = targetFiles, cfg.files
	commitNames()
	if !reused {
		l.main = &parsedMain{sum: mainSum, cfg: validated, deps: validated.mainDeps()}
	}
	// Whole-configuration checks (duplicate names) saw every target, so
	// all agents reject the same bad fleet; only now are other shards'
	// targets dropped.
	if cfg.ShardSpec != "" {
		cfg.KeepShard(cfg.shard)
	}
	return cfg, nil
}

// parsedMain is the last good load's main file: its settings and its own
// targets, validated, as they were before target files and the shard
// cut. Nothing in it is modified after validation.
type parsedMain struct {
	sum  [sha256.Size]byte
	cfg  Config
	deps map[string][sha256.Size]byte
}

// mainDeps are the files the main file's validation read, with their
// sums: the trust roots of [responder] and of the top level, and the
// files of its targets.
func (c *Config) mainDeps() map[string][sha256.Size]byte {
	deps := map[string][sha256.Size]byte{}
	add := func(f string) {
		if _, ok := deps[f]; f != "" && !ok {
			deps[f] = c.files.sum(f)
		}
	}
	add(c.CAFile)
	add(c.Responder.CAFile)
	for _, t := range c.Targets {
		for _, f := range t.readsFiles(c) {
			add(f)
		}
	}
	return deps
}

// targetSource is one file's targets and how to point at one of them.
type targetSource struct {
	// path is the target file's, "" for the main file.
	path    string
	targets []*Target
	place   func(i int) string
	// reused is set when the targets are the last good load's.
	reused bool
}

// gather puts every source's targets in c.Targets, in file order, and
// checks what only the whole fleet shows: its size and duplicate names.
// Names are checked against the last good load's, so a load that reuses
// most files checks only the changed files' names; commit, called once
// the load succeeded, records the new names.
func (l *Loader) gather(c *Config, path string, sources []targetSource, files map[string]*parsedFile) (errs []error, commit func()) {
	total, fresh := 0, 0
	for _, s := range sources {
		total += len(s.targets)
		if !s.reused {
			fresh += len(s.targets)
		}
	}
	if total > maxTargetsPerFile {
		return []error{fmt.Errorf("%s: %d targets with its target files, more than the %d one agent takes; shard the fleet", path, total, maxTargetsPerFile)}, nil
	}
	c.Targets = make([]*Target, 0, total)
	for _, s := range sources {
		c.Targets = append(c.Targets, s.targets...)
	}
	byPath := make(map[string]targetSource, len(sources))
	for _, s := range sources {
		byPath[s.path] = s
	}
	dup := func(s targetSource, i int, first nameAt) {
		errs = append(errs, fmt.Errorf("%s: target %q: name: duplicates the target at %s", s.place(i), s.targets[i].Name, byPath[first.path].place(first.index)))
	}
	if l.names == nil || 2*fresh > total {
		names := make(map[string]nameAt, total)
		for _, s := range sources {
			for i, t := range s.targets {
				if first, ok := names[t.Name]; ok {
					dup(s, i, first)
				} else if t.Name != "" { // an empty name is already reported
					names[t.Name] = nameAt{s.path, i}
				}
			}
		}
		return errs, func() { l.names, l.mainNames = names, sources[0].names() }
	}
	// The names of the files that changed or went, main file included,
	// leave; the last good load had no duplicates, so no reused file
	// holds one of them.
	gone := map[string]bool{}
	if !sources[0].reused {
		for _, name := range l.mainNames {
			gone[name] = true
		}
	}
	for p, pf := range l.files {
		if files[p] != pf {
			for _, t := range pf.targets {
				gone[t.Name] = true
			}
		}
	}
	added := make(map[string]nameAt, fresh)
	for _, s := range sources {
		if s.reused {
			continue
		}
		for i, t := range s.targets {
			if first, ok := added[t.Name]; ok {
				dup(s, i, first)
			} else if first, ok := l.names[t.Name]; ok && !gone[t.Name] {
				dup(s, i, first)
			} else if t.Name != "" {
				added[t.Name] = nameAt{s.path, i}
			}
		}
	}
	return errs, func() {
		for name := range gone {
			delete(l.names, name)
		}
		maps.Copy(l.names, added)
		if !sources[0].reused {
			l.mainNames = sources[0].names()
		}
	}
}

func (s targetSource) names() []string {
	names := make([]string, len(s.targets))
	for i, t := range s.targets {
		names[i] = t.Name
	}
	return names
}

// targetFiles expands target_files and loads each match, reusing the
// previous load's targets for files that did not change. It appends a
// source per file to sources and returns the files to remember.
func (l *Loader) targetFiles(c *Config, mainPath string, loc *locator, mainSum [sha256.Size]byte, sources *[]targetSource) (map[string]*parsedFile, []error) {
	if len(c.TargetFiles) == 0 {
		return nil, nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: target_files: %s", mainPath, loc.lineOfGlobal("target_files"), fmt.Sprintf(format, args...))
	}
	if len(c.TargetFiles) > maxTargetPatterns {
		return nil, []error{bad("%d patterns, more than %d", len(c.TargetFiles), maxTargetPatterns)}
	}
	paths, errs := c.expandTargetFiles(mainPath, bad)
	if len(errs) > 0 {
		return nil, errs
	}
	if len(paths) > maxTargetFiles {
		return nil, []error{bad("the patterns match %d files, more than %d", len(paths), maxTargetFiles)}
	}
	files := make(map[string]*parsedFile, len(paths))
	var total int64
	for _, path := range paths {
		data, err := ReadRegularFile(path, MaxConfigBytes)
		if err != nil {
			// ReadRegularFile names the file in its own errors, os in
			// its PathErrors; neither says which kind of file it was.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = fmt.Errorf("%s: %w", pe.Path, pe.Err)
			}
			errs = append(errs, fmt.Errorf("target file %w", err))
			continue
		}
		if total += int64(len(data)); total > maxTargetFilesBytes {
			return nil, append(errs, bad("the target files hold more than the %d bytes allowed", maxTargetFilesBytes))
		}
		sum := sha256.Sum256(data)
		pf := l.files[path]
		reused := pf != nil && pf.sum == sum && pf.main == mainSum && depsHold(c.files, pf.deps)
		if !reused {
			var fileErrs []error
			if pf, fileErrs = c.parseTargetFile(path, data); len(fileErrs) > 0 {
				errs = append(errs, fileErrs...)
				continue
			}
			pf.sum, pf.main = sum, mainSum
		}
		files[path] = pf
		*sources = append(*sources, targetSource{path: path, targets: pf.targets, place: pf.placer(path), reused: reused})
	}
	return files, errs
}

// expandTargetFiles resolves the patterns against the main file's
// directory and returns the matching files, each once, in pattern order
// and sorted within a pattern. A pattern that matches nothing is fine: a
// fleet may be empty. The main file itself is never a target file.
func (c *Config) expandTargetFiles(mainPath string, bad func(string, ...any) error) ([]string, []error) {
	dir := filepath.Dir(mainPath)
	main := filepath.Clean(mainPath)
	seen := map[string]bool{}
	var paths []string
	var errs []error
	c.targetPatterns = nil
	for _, pattern := range c.TargetFiles {
		if pattern == "" {
			errs = append(errs, bad("an empty pattern"))
			continue
		}
		full := pattern
		if !filepath.IsAbs(full) {
			full = filepath.Join(dir, full)
		}
		matches, err := filepath.Glob(full)
		if err != nil {
			errs = append(errs, bad("%q: %v", pattern, err))
			continue
		}
		c.targetPatterns = append(c.targetPatterns, full)
		for _, m := range matches {
			if m = filepath.Clean(m); m != main && !seen[m] {
				seen[m] = true
				paths = append(paths, m)
			}
		}
	}
	return paths, errs
}

// TargetFilePatterns are the target_files globs as absolute or
// working-directory-relative patterns, for a watcher to expand again.
func (c *Config) TargetFilePatterns() []string { return c.targetPatterns }

// depsHold reports whether every file a validation read still has the
// contents it was validated with.
func depsHold(files *fileCache, deps map[string][sha256.Size]byte) bool {
	for path, sum := range deps {
		if files.sum(path) != sum {
			return false
		}
	}
	return true
}

// parseTargetFile decodes and validates one target file by its extension.
func (c *Config) parseTargetFile(path string, data []byte) (*parsedFile, []error) {
	var pf *parsedFile
	var errs []error
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".toml":
		pf, errs = c.parseTOMLTargets(path, data)
	case ".json", ".yml", ".yaml":
		pf, errs = c.parseSDTargets(path, data, ext == ".json")
	default:
		return nil, []error{fmt.Errorf("%s: a target file must end in .toml, .json, .yml or .yaml", path)}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	pf.deps = map[string][sha256.Size]byte{}
	for _, t := range pf.targets {
		for _, f := range t.readsFiles(c) {
			if _, ok := pf.deps[f]; !ok {
				pf.deps[f] = c.files.sum(f)
			}
		}
	}
	return pf, nil
}

// readsFiles are the files a target's validation read: what its
// fingerprint folds in.
func (t *Target) readsFiles(c *Config) []string {
	roots := t.CAFile
	if roots == "" {
		roots = c.CAFile
	}
	var out []string
	for _, f := range []string{roots, t.IssuerFile, t.CertFile, t.ResponderSignerFile, t.ClientCertFile, t.ClientKeyFile} {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// targetFileTOML is a TOML target file: [[target]] tables and nothing else.
type targetFileTOML struct {
	Targets []*Target `toml:"target"`
}

func (c *Config) parseTOMLTargets(path string, data []byte) (*parsedFile, []error) {
	var tf targetFileTOML
	loc := newLocator(data)
	if _, err := decodeTOML(data, path, loc, &tf); err != nil {
		return nil, []error{err}
	}
	var errs []error
	for i, t := range tf.Targets {
		c.fillTargetDefaults(t)
		c.validateTarget(t, func(key, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s:%d: target %q: %s: %s", path, loc.lineInTarget(i, key), displayName(t, i), key, fmt.Sprintf(format, args...)))
		})
	}
	return &parsedFile{targets: tf.Targets, toml: true}, errs
}

// placer points at target i of the file: by line for TOML, found again
// only when an error needs it, and by entry for file_sd.
func (pf *parsedFile) placer(path string) func(int) string {
	return func(i int) string {
		if !pf.toml {
			return fmt.Sprintf("%s: entry %d", path, pf.entries[i]+1)
		}
		data, err := ReadRegularFile(path, MaxConfigBytes)
		if err != nil {
			return fmt.Sprintf("%s: target #%d", path, i+1)
		}
		return fmt.Sprintf("%s:%d", path, newLocator(data).lineInTarget(i, "name"))
	}
}
