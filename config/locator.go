package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// locator finds the line of a key in the TOML text, because BurntSushi's
// metadata does not expose positions for keys that decoded fine but were
// then found invalid, nor for unknown keys. Only error reports need it, so
// the per-target index is built on the first lookup, in one pass, and a
// valid file never pays for it; reporting thousands of bad targets stays
// linear.
type locator struct {
	// data is split into lines on the first lookup: a file that loads
	// without error is never split.
	data  []byte
	lines []string
	// targetKeys[i][key] is the first line of key in the i-th [[target]];
	// targetHeaders[i] is that target's header line. Both are filled by
	// indexTargets.
	indexed       bool
	targetKeys    []map[string]int
	targetHeaders []int
}

func newLocator(data []byte) *locator {
	return &locator{data: data}
}

func (l *locator) indexTargets() {
	if l.indexed {
		return
	}
	l.indexed = true
	header := ""
	for i, text := range l.split() {
		if m := headerRE.FindStringSubmatch(text); m != nil {
			header = m[1]
			if header == "target" && strings.HasPrefix(strings.TrimSpace(text), "[[") {
				l.targetHeaders = append(l.targetHeaders, i+1)
				l.targetKeys = append(l.targetKeys, map[string]int{})
			}
			continue
		}
		if header != "target" || len(l.targetKeys) == 0 {
			continue
		}
		if key, _, ok := strings.Cut(strings.TrimSpace(text), "="); ok {
			keys := l.targetKeys[len(l.targetKeys)-1]
			if key = strings.TrimSpace(key); keys[key] == 0 {
				keys[key] = i + 1
			}
		}
	}
}

func (l *locator) split() []string {
	if l.lines == nil {
		l.lines = strings.Split(string(l.data), "\n")
	}
	return l.lines
}

var headerRE = regexp.MustCompile(`^\s*\[\[?\s*([A-Za-z0-9_."-]+)\s*\]\]?`)

// sections yields each line's table header ("" for the top level) and
// the index of the [[target]] it belongs to (-1 outside one).
func (l *locator) walk(visit func(line int, header string, targetIndex int, text string) bool) {
	header, target := "", -1
	for i, text := range l.split() {
		if m := headerRE.FindStringSubmatch(text); m != nil {
			header = m[1]
			if strings.HasPrefix(strings.TrimSpace(text), "[[") && header == "target" {
				target++
			}
			continue
		}
		if !visit(i+1, header, target, text) {
			return
		}
	}
}

func keyLine(text, key string) bool {
	trimmed := strings.TrimSpace(text)
	rest, ok := strings.CutPrefix(trimmed, key)
	return ok && strings.HasPrefix(strings.TrimSpace(rest), "=")
}

func (l *locator) find(match func(header string, target int) bool, key string) int {
	found := 0
	l.walk(func(line int, header string, target int, text string) bool {
		if match(header, target) && keyLine(text, key) {
			found = line
			return false
		}
		return true
	})
	return found
}

func (l *locator) lineOfGlobal(key string) int {
	return l.find(func(header string, _ int) bool {
		return header == "" || header == "responder" || header == "network" || header == "crl"
	}, key)
}

func (l *locator) lineInTarget(index int, key string) int {
	l.indexTargets()
	if index < 0 || index >= len(l.targetKeys) {
		return 0
	}
	if line, ok := l.targetKeys[index][key]; ok {
		return line
	}
	// A missing key points at its target's header.
	return l.targetHeaders[index]
}

func (l *locator) lineOfKey(key toml.Key) int {
	parent := strings.Join(key[:len(key)-1], ".")
	return l.find(func(header string, _ int) bool { return header == parent }, key[len(key)-1])
}

// targetAt names the target a line sits in, as ` target "NAME":`, or
// returns "" outside a target.
func (l *locator) targetAt(line int) string {
	index := -1
	l.walk(func(n int, header string, target int, _ string) bool {
		if n >= line {
			if header == "target" {
				index = target
			}
			return false
		}
		return true
	})
	if index < 0 {
		return ""
	}
	name := fmt.Sprintf("#%d", index+1)
	l.walk(func(_ int, header string, target int, text string) bool {
		if header == "target" && target == index && keyLine(text, "name") {
			name = strings.Trim(strings.TrimSpace(strings.SplitN(text, "=", 2)[1]), `"'`)
			return false
		}
		return true
	})
	return fmt.Sprintf(" target %q:", name)
}
