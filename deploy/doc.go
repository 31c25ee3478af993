// Package deploy holds deployment examples for ocspwatch: a hardened
// systemd unit, Kubernetes manifests (a ServiceMonitor, and a
// PrometheusRule generated from alerts/ocspwatch.rules.yml), a Helm chart
// under helm/ocspwatch, a multi-stage Dockerfile and a Prometheus scrape
// configuration. The Go tests keep them valid and in step.
//
// It is a Go module of its own, so that the tests' heavy dependencies
// (Helm, k8s.io/api, the Prometheus Operator's types) stay out of the
// agent's go.mod. Run its tests from this directory:
//
//	go test ./...          # lint, render and strictly decode everything
//	go test -update ./...  # regenerate the copies of the alerting rules
package deploy
