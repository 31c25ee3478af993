// Package exporter is the agent around the probe library: it schedules
// every configured target (robfig/cron/v3), keeps the latest result of
// each, and serves them to Prometheus through a custom collector, along
// with /probe, the status page, health, readiness and reload endpoints.
//
// Data flows one way: config → scheduler → probe → store → collector.
// Probes run on the agent's own schedule, so scrapes from several
// Prometheus replicas never multiply the load on OCSP responders.
package exporter
