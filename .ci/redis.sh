#!/usr/bin/env bash
# Make sure `redis-server` is installed for the fleet tests.
#
#   bash .ci/redis.sh
#
# The tests start their own redis-server processes on free loopback ports (a pytest
# fixture), so nothing is started here: this only installs Debian's redis-server package
# when the binary is missing. Idempotent; logs go to stderr.
set -euo pipefail

say() { echo "redis.sh: $*" >&2; }

if command -v redis-server >/dev/null 2>&1; then
    say "$(redis-server --version | cut -d' ' -f1-3) is installed"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    say "not root: cannot apt-get install redis-server; install it and re-run"
    exit 1
fi
say "installing redis-server from Debian packages"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends redis-server >&2
# Debian's package may start a system service on 6379; the tests never use it.
command -v redis-server >/dev/null 2>&1 || { say "redis-server still missing"; exit 1; }
say "$(redis-server --version | cut -d' ' -f1-3) installed"
