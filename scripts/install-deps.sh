#!/usr/bin/env bash
# Installs the Debian 12 packages llmotlp builds and tests with, only those missing.
set -euo pipefail
# `--fuzz`: only what `make fuzz` adds (clang and libFuzzer's runtime); `make test` needs no clang.
if [ "${1:-}" = "--fuzz" ]; then
  pkgs=(clang libclang-rt-14-dev)
# `--container`: only what `make test-container` adds (a Docker engine and client, debootstrap for
# the base image where no registry is reachable, and Compose 1.29).
elif [ "${1:-}" = "--container" ]; then
  pkgs=(docker.io debootstrap docker-compose)
else
  pkgs=(build-essential cmake pkg-config libgrpc-dev libprotobuf-c-dev protobuf-c-compiler
        libre2-dev libyaml-dev libsqlite3-dev libcmocka-dev libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev
        zlib1g-dev libssl-dev openssl libjson-c-dev libxxhash-dev prometheus curl nodejs npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from outside Debian's packages (e.g. a preinstalled toolchain): accept them.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
want=()
for p in "${missing[@]}"; do [ -n "$p" ] && want+=("$p"); done
[ ${#want[@]} -eq 0 ] && exit 0
echo "installing: ${want[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
