// Package deploy holds deployment examples for ocspwatch: a hardened
// systemd unit, Kubernetes manifests with a PrometheusRule generated from
// alerts/ocspwatch.rules.yml, a multi-stage Dockerfile and a Prometheus
// scrape configuration. The Go tests keep them valid and in step.
package deploy
