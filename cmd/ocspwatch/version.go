package main

import "runtime/debug"

// ldflagsVersion is set at release time with
// -ldflags "-X main.ldflagsVersion=v1.2.3".
var ldflagsVersion = ""

// buildVersion prefers the release stamp, then the module version that
// `go install` records, then "devel".
func buildVersion() string {
	if ldflagsVersion != "" {
		return ldflagsVersion
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// buildRevision is the VCS revision the go command stamped, if any.
func buildRevision() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return ""
}

func userAgent() string { return "ocspwatch/" + buildVersion() }
