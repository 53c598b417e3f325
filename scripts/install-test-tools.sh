#!/usr/bin/env bash
# Installs the real servers and tools the tests start (Debian/Ubuntu, apt), then nothing else.
# Idempotent: a tool already on the machine is not reinstalled. Uses sudo when not root.
# Each entry: "<command or path that proves it is there>:<package>". The test helpers read this
# table (test/support/tools.ts) to name the package when a tool is missing.
set -euo pipefail

# PostgreSQL 15 where the distribution has it (Debian 12), else the distribution's version;
# decided after `apt-get update` on a machine whose package lists are still empty.
pg=postgresql-15

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
    # the real-engine tests (test/engine.test.ts): Docker Engine on a private socket, and the
    # stand-in images' root filesystem built from Debian packages
    "/usr/sbin/dockerd:docker.io"
    "/usr/bin/docker:docker.io"
    "/usr/sbin/debootstrap:debootstrap"
    # the multi-node Swarm (test/swarmNodes.test.ts): one engine per network namespace, on a bridge
    "/usr/sbin/ip:iproute2"
    "/usr/bin/nsenter:util-linux"
    # the stand-in Dockerfile's test asks dpkg which package gives the backend's health check curl
    "curl:curl"
    # monitoring (test/monitoring*.test.ts): promtool checks the generated configuration and rules;
    # the engine test's Prometheus, Alertmanager and redis_exporter images are built from these
    "promtool:prometheus"
    "/usr/bin/prometheus:prometheus"
    "/usr/bin/prometheus-alertmanager:prometheus-alertmanager"
    "amtool:prometheus-alertmanager"
    "/usr/bin/prometheus-redis-exporter:prometheus-redis-exporter"
    # node_exporter's textfile collector reads what `ops drill|doctor --metrics-file` wrote (test/nodeExporterTextfile.test.ts)
    "/usr/bin/prometheus-node-exporter:prometheus-node-exporter"
)

have() {
    case "$1" in
        /*) compgen -G "$1" >/dev/null ;;
        *) command -v "$1" >/dev/null ;;
    esac
}

missing=()
packages=()
for entry in "${needed[@]}"; do
    probe="${entry%%:*}"
    package="${entry#*:}"
    have "$probe" && continue
    missing+=("$probe")
    [[ " ${packages[*]} " == *" $package "* ]] || packages+=("$package")
done
[ ${#packages[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
    echo "install-test-tools: missing ${missing[*]}, and this is not a Debian/Ubuntu machine (no apt-get): install ${packages[*]} (or their equivalents) with your package manager" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-test-tools: missing ${missing[*]}; run as root: apt-get update && apt-get install ${packages[*]}" >&2
        exit 1
    fi
    SUDO="sudo"
fi

echo "install-test-tools: installing ${packages[*]}" >&2
$SUDO apt-get update -qq
if ! apt-cache show postgresql-15 >/dev/null 2>&1; then
    packages=("${packages[@]/#postgresql-15/postgresql}")
    packages=("${packages[@]/#postgresql-client-15/postgresql-client}")
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
