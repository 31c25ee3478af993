package exporter

import (
	"errors"
	"fmt"
	"net/url"
)

// probeQuery is what a /probe call asks for.
type probeQuery struct {
	target     string
	endpoint   string
	serverName string
	debug      bool
}

// maxProbeParam bounds each /probe parameter; names, endpoints and SNI
// names are far shorter.
const maxProbeParam = 512

var probeParams = map[string]bool{"target": true, "endpoint": true, "server_name": true, "debug": true}

// parseProbeQuery checks a /probe query before anything is probed: known
// parameters only, each at most once and bounded, and exactly one of
// target or endpoint.
func parseProbeQuery(q url.Values) (probeQuery, error) {
	for k, v := range q {
		switch {
		case !probeParams[k]:
			return probeQuery{}, fmt.Errorf("unknown parameter %.64q; /probe takes target or endpoint, server_name and debug", k)
		case len(v) > 1:
			return probeQuery{}, fmt.Errorf("parameter %s given %d times", k, len(v))
		case len(v[0]) > maxProbeParam:
			return probeQuery{}, fmt.Errorf("parameter %s is longer than %d bytes", k, maxProbeParam)
		}
	}
	pq := probeQuery{target: q.Get("target"), endpoint: q.Get("endpoint"), serverName: q.Get("server_name")}
	switch q.Get("debug") {
	case "", "false":
	case "true":
		pq.debug = true
	default:
		return probeQuery{}, errors.New("debug is true or false")
	}
	switch {
	case pq.target != "" && pq.endpoint != "":
		return probeQuery{}, errors.New("give target or endpoint, not both")
	case pq.target == "" && pq.endpoint == "":
		return probeQuery{}, errors.New("the target parameter is missing (or endpoint, with allow_adhoc)")
	case pq.serverName != "" && pq.endpoint == "":
		return probeQuery{}, errors.New("server_name goes with endpoint; a configured target has its own")
	}
	return pq, nil
}
