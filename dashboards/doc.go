// Package dashboards holds ocspwatch's Grafana dashboard. The Go tests
// here check its structure, that it names only metrics the agent exports,
// and that its colour thresholds match the alerting rules.
package dashboards
