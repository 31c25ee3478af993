// Package e2e tests the built ocspwatch binary against real software that
// this project did not write: nginx, Apache, HAProxy, Caddy and lighttpd
// stapling responses from `openssl ocsp` responders, and nginx serving
// CRLs made with `openssl ca`, over PKIs made with the openssl CLI; a
// Prometheus server that scrapes the agent, evaluates the bundled rules
// and answers the dashboard's queries; and Alertmanager routing the
// alerts of two regions. Everything runs on 127.0.0.1 and is stopped when
// the tests end; the README's test command installs the packages.
package e2e
