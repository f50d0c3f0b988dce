#!/usr/bin/env bash
# run.sh — the container suite (`make test-container`): the image built from the Dockerfile and the
# Compose stack, run on a real Docker engine and checked from the outside.
#
# The one idea: everything the checks need is made here from Debian's packages, with no registry:
# a Docker engine (Debian's docker.io; started here with its state under a cache folder when none
# answers, and stopped again), a `debian:12-slim` stand-in made by debootstrap and `docker import`
# when the engine has none, the project's image built from the Dockerfile as it is, and Prometheus
# built from Debian's package. Images stay cached in the engine between runs; what the checks
# create (containers, networks, volumes) is removed by them, and by this script's trap.
#
# usage: tests/container/run.sh
#   LLMOTLP_DOCKER_CACHE=dir  the engine's data, state and socket when started here
#                             (default /var/tmp/llmotlp-docker)
#   DOCKER_HOST               an engine to use; else the default socket, else the cache's socket,
#                             else one is started
#   DOCKER=path COMPOSE=path  the clients (default /usr/bin/docker and docker-compose)
# Needs root to start an engine (scripts/install-deps.sh --container installs the packages), node
# and tests/e2e/node_modules. Ends with "N passed, M failed"; exits 1 on a failure.
# Two runs at once on one engine are not supported: each removes the other's leftovers.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOT/tests/container
CACHE=${LLMOTLP_DOCKER_CACHE:-/var/tmp/llmotlp-docker}
if [ -z "${DOCKER:-}" ]; then
    # Debian's client matches Debian's engine; another `docker` on PATH may be a newer client
    # whose `docker build` wants a buildx plugin.
    if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
COMPOSE=${COMPOSE:-docker-compose}
export DOCKER COMPOSE
IMAGE=llmotlp:0.1.0                         # the tag deploy/docker-compose.yaml builds
BASE=debian:12-slim
LABEL=org.llmotlp.test=container            # on everything the checks create
export LLMOTLP_IMAGE=$IMAGE LLMOTLP_TEST_LABEL=$LABEL

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
say() { echo "container: $*"; }
t0=$(date +%s)
elapsed() { echo "$(($(date +%s) - t0)) s"; }

dockerd_pid=""
cleanup() {
    # Whatever a check left behind (it cleans up after itself; this is for an interrupted run).
    if [ -n "${DOCKER_HOST:-}" ] || $DOCKER info >/dev/null 2>&1; then
        leftovers
    fi
    if [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null; then
        say "stopping the Docker engine this run started (pid $dockerd_pid)"
        kill -TERM "$dockerd_pid"
        for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$dockerd_pid" 2>/dev/null && kill -KILL "$dockerd_pid"
        wait "$dockerd_pid" 2>/dev/null
        # dockerd leaves its bind mount of the host's network namespace behind
        if grep -q " $CACHE/exec/netns/default " /proc/mounts; then umount "$CACHE/exec/netns/default"; fi
    fi
    rm -rf "$CACHE/rootfs.tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

leftovers() {
    local c n v
    c=$($DOCKER ps -aq --filter "label=$LABEL" 2>/dev/null)
    [ -n "$c" ] && $DOCKER rm -f $c >/dev/null 2>&1
    # Compose labels its containers itself: the test projects are named llmotlp-ct-*.
    c=$($DOCKER ps -aq --filter "label=com.docker.compose.project" --format '{{.ID}} {{.Label "com.docker.compose.project"}}' 2>/dev/null |
        awk '$2 ~ /^llmotlp-ct-/ {print $1}')
    [ -n "$c" ] && $DOCKER rm -f $c >/dev/null 2>&1
    n=$($DOCKER network ls -q --filter "label=$LABEL" 2>/dev/null)
    [ -n "$n" ] && $DOCKER network rm $n >/dev/null 2>&1
    n=$($DOCKER network ls --format '{{.Name}}' 2>/dev/null | grep '^llmotlp-ct-')
    [ -n "$n" ] && $DOCKER network rm $n >/dev/null 2>&1
    v=$($DOCKER volume ls -q --filter "label=$LABEL" 2>/dev/null)
    [ -n "$v" ] && $DOCKER volume rm $v >/dev/null 2>&1
    v=$($DOCKER volume ls -q 2>/dev/null | grep '^llmotlp-ct-')
    [ -n "$v" ] && $DOCKER volume rm $v >/dev/null 2>&1
    return 0
}

# ---- the engine ---------------------------------------------------------------------------------
engine() {
    if $DOCKER info >/dev/null 2>&1; then
        ok "Docker engine answers at ${DOCKER_HOST:-the default socket}"
        return 0
    fi
    if [ -n "${DOCKER_HOST:-}" ]; then
        bad "DOCKER_HOST=$DOCKER_HOST does not answer"
        return 1
    fi
    export DOCKER_HOST=unix://$CACHE/docker.sock
    if $DOCKER info >/dev/null 2>&1; then
        ok "Docker engine answers at $DOCKER_HOST (left running by an earlier run)"
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        bad "no Docker engine answers, and starting one needs root"
        return 1
    fi
    mkdir -p "$CACHE/data" "$CACHE/exec"
    # No iptables rules and no default bridge: the engine leaves this machine's network alone.
    # User-defined networks still get a Linux bridge, containers on one reach each other and the
    # host's address on it, and published ports go through docker-proxy; images are built with
    # the host's network (--network host), since containers have no NAT to the outside.
    say "starting dockerd (data and state under $CACHE, log $CACHE/dockerd.log)"
    dockerd --iptables=false --ip6tables=false --bridge=none \
        --data-root "$CACHE/data" --exec-root "$CACHE/exec" --pidfile "$CACHE/dockerd.pid" \
        -H "$DOCKER_HOST" >>"$CACHE/dockerd.log" 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 1 120); do
        $DOCKER info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.5
    done
    if $DOCKER info >/dev/null 2>&1; then
        ok "Docker engine started (dockerd pid $dockerd_pid, $($DOCKER version -f '{{.Server.Version}}'))"
        return 0
    fi
    bad "dockerd did not come up; the end of $CACHE/dockerd.log:"
    tail -20 "$CACHE/dockerd.log"
    return 1
}

# ---- debian:12-slim -----------------------------------------------------------------------------
# This machine's Debian mirror (apt's sources), else deb.debian.org.
mirror() {
    local m
    m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
    [ -z "$m" ] && m=$(grep -hs '^deb ' /etc/apt/sources.list | awk '$3 ~ /^bookworm$/ {print $2}' | head -1)
    echo "${m:-http://deb.debian.org/debian}"
}

base_image() {
    if $DOCKER image inspect "$BASE" >/dev/null 2>&1; then
        ok "base image $BASE present"
        return 0
    fi
    local m dir=$CACHE/rootfs.tmp
    m=$(mirror)
    say "no $BASE: making one with debootstrap --variant=minbase bookworm from $m (about a minute)"
    rm -rf "$dir"
    if ! debootstrap --variant=minbase bookworm "$dir" "$m" >"$CACHE/debootstrap.log" 2>&1; then
        bad "debootstrap failed; the end of $CACHE/debootstrap.log:"
        tail -20 "$CACHE/debootstrap.log"
        return 1
    fi
    # What the official image's build (debuerreotype) adds, so the Dockerfile sees the same
    # system: apt sources in deb822 form with updates and security, no service started by a
    # package's postinst (policy-rc.d), and slim's dpkg excludes (docs, man pages, locales).
    rm -f "$dir/etc/apt/sources.list"
    cat >"$dir/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $m
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${m%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    cat >"$dir/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/*/[!c]* \
        "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
    if tar -C "$dir" -c . | $DOCKER import -c 'CMD ["bash"]' - "$BASE" >/dev/null; then
        ok "base image $BASE made from debootstrap ($($DOCKER image inspect -f '{{.Size}}' "$BASE" | awk '{printf "%d MB", $1/1e6}'))"
        rm -rf "$dir"
        return 0
    fi
    bad "docker import of the debootstrap tree failed"
    return 1
}

# ---- images -------------------------------------------------------------------------------------
build_image() {  # name tag context [docker build args...]
    local name=$1 tag=$2 ctx=$3 log s
    shift 3
    log=$(mktemp /tmp/llmotlp-container-build.XXXXXX)
    s=$(date +%s)
    # --network host: RUN apt-get needs the network, and the engine's containers have no NAT.
    if $DOCKER build --network host -t "$tag" "$@" "$ctx" >"$log" 2>&1; then
        ok "$name image $tag built ($(($(date +%s) - s)) s)"
        rm -f "$log"
        return 0
    fi
    bad "$name image $tag does not build; the end of its log:"
    tail -30 "$log"
    rm -f "$log"
    return 1
}

# ---- run ----------------------------------------------------------------------------------------
if ! engine; then
    echo "$passed passed, $failed failed"
    exit 1
fi
leftovers
ready=1
base_image || ready=0
if [ "$ready" -eq 1 ]; then
    # Prometheus' image is built by compose.test.mjs, through the Compose override.
    build_image llmotlp "$IMAGE" "$ROOT" -f "$ROOT/Dockerfile" || ready=0
fi
say "set-up done after $(elapsed)"

if [ "$ready" -eq 1 ]; then
    if [ ! -d "$ROOT/tests/e2e/node_modules" ]; then
        bad "tests/e2e/node_modules missing (make e2e-deps)"
    else
        out=$(mktemp /tmp/llmotlp-container-tap.XXXXXX)
        # One file after the other: both use the one engine and the machine has two cores.
        (cd "$HERE" && node --test --test-concurrency=1 --test-timeout=600000 --test-reporter=tap \
            ./*.test.mjs) | tee "$out"
        node_rc=${PIPESTATUS[0]}
        np=$(awk '/^# pass /{print $3}' "$out" | tail -1)
        nf=$(awk '/^# fail /{print $3}' "$out" | tail -1)
        passed=$((passed + ${np:-0}))
        failed=$((failed + ${nf:-0}))
        if [ "$node_rc" -ne 0 ] && [ "${nf:-0}" -eq 0 ]; then bad "node --test exited $node_rc"; fi
        if [ "${np:-0}" -eq 0 ]; then bad "no container check ran"; fi
        rm -f "$out"
    fi
fi
say "done after $(elapsed)"
echo "container: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
