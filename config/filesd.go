package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Target files in Prometheus's file_sd shape (.json, .yml, .yaml): a list
// of {targets: ["host:port", …], labels: {…}}, so a fleet already listed
// for Prometheus, or by a tool that writes file_sd, needs no translation.
// Each listed endpoint becomes a target. Labels named __param_KEY set the
// target key KEY (sdParams); other labels starting with __ (__meta_*,
// __address__ …) are ignored, as Prometheus drops them after relabelling;
// every other label is a custom label, as in [target.labels].

// sdGroup is one entry of a file_sd list.
type sdGroup struct {
	Targets []string          `json:"targets" yaml:"targets"`
	Labels  map[string]string `json:"labels" yaml:"labels"`
}

const sdParamPrefix = "__param_"

// sdParams are the target keys a file_sd label can set: the keys that
// make sense for an endpoint and fit in a string. Keys naming lists or
// client keys stay in TOML target files.
var sdParams = map[string]func(t *Target, v string) error{
	"name":        func(t *Target, v string) error { t.Name = v; return nil },
	"server_name": func(t *Target, v string) error { t.ServerName = v; return nil },
	"schedule":    func(t *Target, v string) error { t.Schedule = v; return nil },
	"timeout":     func(t *Target, v string) error { return t.Timeout.UnmarshalText([]byte(v)) },
	"require_staple": func(t *Target, v string) error {
		return t.RequireStaple.UnmarshalTOML(v)
	},
	"query_responder": func(t *Target, v string) error {
		b, err := sdBool(v)
		t.QueryResponder = &b
		return err
	},
	"nonce": func(t *Target, v string) error {
		var err error
		t.Nonce, err = sdBool(v)
		return err
	},
	"ca_file":         func(t *Target, v string) error { t.CAFile = v; return nil },
	"addresses":       func(t *Target, v string) error { t.Addresses = v; return nil },
	"method":          func(t *Target, v string) error { t.Method = v; return nil },
	"cert_id_hash":    func(t *Target, v string) error { t.CertIDHash = v; return nil },
	"crl":             func(t *Target, v string) error { t.CRL = v; return nil },
	"starttls":        func(t *Target, v string) error { t.StartTLS = v; return nil },
	"ip_family":       func(t *Target, v string) error { t.IPFamily = v; return nil },
	"tls_min_version": func(t *Target, v string) error { t.TLSMinVersion = v; return nil },
	"tls_max_version": func(t *Target, v string) error { t.TLSMaxVersion = v; return nil },
	"responder_host":  func(t *Target, v string) error { t.ResponderHost = v; return nil },
	// A label holds one string: the groups are comma-separated.
	"tls_groups": func(t *Target, v string) error {
		t.TLSGroups = strings.Split(v, ",")
		for i := range t.TLSGroups {
			t.TLSGroups[i] = strings.TrimSpace(t.TLSGroups[i])
		}
		return nil
	},
}

// SDParams lists the keys a file_sd __param_ label may set, for the docs.
func SDParams() []string { return slices.Sorted(maps.Keys(sdParams)) }

func sdBool(v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", v)
}

func (c *Config) parseSDTargets(path string, data []byte, isJSON bool) (*parsedFile, []error) {
	groups, err := decodeSD(path, data, isJSON)
	if err != nil {
		return nil, []error{err}
	}
	pf := &parsedFile{}
	var errs []error
	for e, g := range groups {
		template, err := sdTemplate(g)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: entry %d: %v", path, e+1, err))
			continue
		}
		for _, endpoint := range g.Targets {
			t := *template
			t.Endpoint = endpoint
			if t.Name == "" {
				t.Name = sdName(&t)
			}
			c.fillTargetDefaults(&t)
			c.validateTarget(&t, func(key, format string, args ...any) {
				errs = append(errs, fmt.Errorf("%s: entry %d: target %q: %s: %s", path, e+1, t.Name, key, fmt.Sprintf(format, args...)))
			})
			pf.targets = append(pf.targets, &t)
			pf.entries = append(pf.entries, e)
		}
	}
	return pf, errs
}

// sdTemplate is the target an entry's labels describe, before its endpoint.
func sdTemplate(g sdGroup) (*Target, error) {
	t := &Target{}
	for _, name := range slices.Sorted(maps.Keys(g.Labels)) {
		value := g.Labels[name]
		key, isParam := strings.CutPrefix(name, sdParamPrefix)
		switch {
		case isParam:
			set, ok := sdParams[key]
			if !ok {
				return nil, fmt.Errorf("label %s: %q is not a key a label can set (%s)", name, key, strings.Join(SDParams(), ", "))
			}
			if err := set(t, value); err != nil {
				return nil, fmt.Errorf("label %s: %v", name, err)
			}
		case strings.HasPrefix(name, "__"):
			// Prometheus's own (__meta_*, __address__ …): not ours.
		default:
			if t.Labels == nil {
				t.Labels = map[string]string{}
			}
			t.Labels[name] = value
		}
	}
	if t.Name != "" && len(g.Targets) > 1 {
		return nil, fmt.Errorf("label %sname names one target, and the entry lists %d", sdParamPrefix, len(g.Targets))
	}
	return t, nil
}

// sdName is the name of a file_sd target without __param_name: its
// HOST:PORT (an IPv6 host without brackets), and :SERVER_NAME after it
// when server_name is set to another name than the host. Two entries
// for one endpoint with different server names thus get different names.
func sdName(t *Target) string {
	hostPort := t.Endpoint
	if ep, err := ParseEndpoint(t.Endpoint); err == nil {
		hostPort = ep.HostPort
	}
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		return t.Endpoint
	}
	name := host + ":" + port
	if t.ServerName != "" && !strings.EqualFold(t.ServerName, host) {
		name += ":" + t.ServerName
	}
	return name
}

// decodeSD decodes a file_sd list strictly: unknown keys and trailing
// documents are errors naming the file and, where the decoder tells, the
// line. An empty file is an empty list.
func decodeSD(path string, data []byte, isJSON bool) ([]sdGroup, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var groups []sdGroup
	if isJSON {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&groups); err != nil {
			offset := dec.InputOffset()
			var syntax *json.SyntaxError
			var typ *json.UnmarshalTypeError
			switch {
			case errors.As(err, &syntax):
				offset = syntax.Offset
			case errors.As(err, &typ):
				offset = typ.Offset
			}
			return nil, fmt.Errorf("%s:%d: %v", path, lineAt(data, offset), err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("%s:%d: more after the list of entries", path, lineAt(data, dec.InputOffset()))
		}
		return groups, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&groups); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var more any
	if err := dec.Decode(&more); err != io.EOF {
		return nil, fmt.Errorf("%s: more than one YAML document", path)
	}
	return groups, nil
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}
