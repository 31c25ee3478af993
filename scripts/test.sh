#!/usr/bin/env bash
# Runs every ocspwatch test on a fresh Debian machine: installs the real
# servers and checkers the tests drive (openssl, nginx, Prometheus and
# promtool, amtool, systemd-analyze), checks
# formatting and vet, then runs the whole suite under the race detector.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
have openssl || need+=(openssl)
have nginx || need+=(nginx)
have promtool || need+=(prometheus)
have amtool || need+=(prometheus-alertmanager)
have systemd-analyze || need+=(systemd)
if [ "${#need[@]}" -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing: ${need[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

unformatted=$(gofmt -l $(find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi
go vet ./...
go test -race -count=1 ./... "$@"
# deploy/ is its own module, so the heavy test-only dependencies (Helm,
# k8s.io/api, the Prometheus Operator's types) stay out of the agent's go.mod.
(cd deploy && go vet ./... && go test -race -count=1 ./...)
