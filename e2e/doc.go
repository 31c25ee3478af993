// Package e2e tests the built ocspwatch binary against real software that
// this project did not write: nginx stapling responses from `openssl ocsp`
// responders over a PKI made with the openssl CLI, and a Prometheus server
// that scrapes the agent, evaluates the bundled rules and answers the
// dashboard's queries. Everything runs on 127.0.0.1 and is stopped when
// the tests end; the README's test command installs the packages.
package e2e
