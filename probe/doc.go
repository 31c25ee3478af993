// Package probe runs one OCSP check: a TLS handshake that asks for a
// stapled OCSP response, or a direct query to an OCSP responder, and turns
// what came back into a typed, verified result.
//
// The package is a library. It knows nothing of Prometheus, schedules or
// configuration files: the caller passes a context, the inputs and a clock,
// and gets back a result whose every problem is one value of the closed
// Reason enum. Turning results into success or failure under a target's
// policy is done by Evaluate, so the one-shot command and the agent agree.
package probe
