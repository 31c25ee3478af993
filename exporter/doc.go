// Package exporter is the agent around the probe library: it schedules
// every configured target on robfig/cron/v3 schedules, keeps the latest
// result of each, and serves them to Prometheus, along with /probe, the
// status page, health, readiness and reload endpoints.
//
// Data flows one way: config → scheduler → probe → store → exposition.
// When a run ends, the store renders the target's series as text
// (exposition.go), and /metrics copies those bytes in the text formats;
// the same emitter feeds a client_golang collector for protobuf and for
// /probe, so both paths export the same series. Probes run on the
// agent's own schedule, so scrapes from several Prometheus replicas never
// multiply the load on OCSP responders.
package exporter
