// Package alerts holds ocspwatch's Prometheus alerting rules, their
// promtool unit tests, the runbook and an Alertmanager example. The Go
// tests here run promtool and amtool and keep rules, runbook and tests in
// step; there is no Go code to import.
package alerts
