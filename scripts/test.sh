#!/usr/bin/env bash
# Runs every ocspwatch test on a fresh Debian machine: installs the real
# servers and checkers the tests drive (openssl, nginx, Prometheus and
# promtool, amtool, systemd-analyze, the stapling stacks Apache, HAProxy,
# Caddy and lighttpd, and the STARTTLS daemons Exim, Dovecot, slapd,
# PostgreSQL, MariaDB, vsftpd and Prosody), checks
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
# Real stapling servers for e2e/.
have apache2 || need+=(apache2)
have haproxy || need+=(haproxy)
have caddy || need+=(caddy)
have lighttpd || need+=(lighttpd)
[ -e /usr/lib/lighttpd/mod_openssl.so ] || need+=(lighttpd-mod-openssl)
have faketime || need+=(faketime)
# Real STARTTLS servers for probe/starttls.
have exim4 || need+=(exim4-daemon-heavy)
have dovecot || need+=(dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-managesieved)
have slapd || need+=(slapd)
have pg_ctlcluster || need+=(postgresql)
have mariadbd || need+=(mariadb-server-core)
have vsftpd || need+=(vsftpd)
have prosody || need+=(prosody)
if [ "${#need[@]}" -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing: ${need[*]}"
	# Keep apt from starting the daemons it installs (Apache on :80,
	# PostgreSQL, Exim...): the tests start their own on loopback.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
		$sudo chmod +x "$policy"
		trap '$sudo rm -f "$policy"' EXIT
	fi
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

# Fuzz every target briefly: the seeds and 2,000 generated inputs each. A
# count rather than a duration, because a duration also bounds the
# baseline run over the seed corpus, which a loaded machine can overrun
# ("context deadline exceeded") without any input failing. A
# crasher is saved under its package's testdata/fuzz, and from then on
# runs as a regression case with the tests below.
fuzztime="${OCSPWATCH_FUZZTIME:-2000x}"
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
		if ! out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then
			echo "$out" >&2
			exit 1
		fi
		echo "fuzzed ${pkg#github.com/ocspwatch/ocspwatch/} $target for $fuzztime"
	done
done

# The 20 MB, 500,000-entry CRL is generated once and parsed within the
# memory bound (three times its size) on every run, outside the race
# detector, which would multiply its cost.
go test -run '^$' -bench 'BenchmarkParse20MB/crl.Parse' -benchtime 1x ./probe/crl

go test -race -count=1 ./... "$@"
# deploy/ is its own module, so the heavy test-only dependencies (Helm,
# k8s.io/api, the Prometheus Operator's types) stay out of the agent's go.mod.
(cd deploy && go vet ./... && go test -race -count=1 ./...)
