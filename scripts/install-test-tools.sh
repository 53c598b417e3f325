#!/usr/bin/env bash
# Installs the real servers and tools the tests start (Debian/Ubuntu, apt), then nothing else.
# Idempotent: a tool already on the machine is not reinstalled. Uses sudo when not root.
# Each entry: "<command or path that proves it is there>:<package>".
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

# PostgreSQL 15 where the distribution has it (Debian 12), else the distribution's version.
pg=postgresql-15
apt-cache show postgresql-15 >/dev/null 2>&1 || pg=postgresql

have() {
    case "$1" in
        /*) compgen -G "$1" >/dev/null ;;
        *) command -v "$1" >/dev/null ;;
    esac
}

needed=(
    "/usr/lib/postgresql/*/bin/initdb:$pg"
    "psql:${pg/postgresql/postgresql-client}"
    "pg_restore:${pg/postgresql/postgresql-client}"
    "redis-server:redis-server"
    "redis-cli:redis-tools"
    "openssl:openssl"
    # the heartbeat health check runs under busybox ash too (test/heartbeat.test.ts)
    "busybox:busybox"
    # the backup job compresses with zstd; its tests restore through it
    "zstd:zstd"
    # a real Celery worker and producer against the generated Redis ACL (test/celery.test.ts);
    # Debian's packages live in /usr/lib/python3, for Debian's /usr/bin/python3
    "/usr/lib/python3/dist-packages/celery/__init__.py:python3-celery"
    "/usr/lib/python3/dist-packages/redis/__init__.py:python3-redis"
)

packages=()
for entry in "${needed[@]}"; do
    probe="${entry%%:*}"
    package="${entry#*:}"
    have "$probe" || packages+=("$package")
done

if [ ${#packages[@]} -gt 0 ]; then
    echo "install-test-tools: installing ${packages[*]}" >&2
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
