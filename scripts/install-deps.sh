#!/usr/bin/env bash
# Installs the Debian packages Moray builds and tests with. Idempotent: quiet and fast when
# everything is already present; needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache mold
  libprotobuf-dev protobuf-compiler
  libabsl-dev libmsgpack-cxx-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libcpp-httplib-dev
  libhiredis-dev redis-server libgtest-dev libgmock-dev googletest libbenchmark-dev
  libssl-dev openssl zlib1g-dev iproute2 nftables procps elfutils
  pybind11-dev python3-dev python3-cloudpickle python3-numpy python3-pytest python3-venv python3-pip
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
