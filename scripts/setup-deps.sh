#!/usr/bin/env bash
# Installs the Debian packages Tunebook needs, only those that are missing. Non-interactive and idempotent.
# Usage: scripts/setup-deps.sh [runtime|test]
#   runtime: what building and running notebooks needs
#   test:    plus the reference implementations the tests compare against
set -euo pipefail
mode="${1:-runtime}"

runtime=(libtorch-dev libopenblas0-pthread libzmq5 cmake g++ make
         jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-notebook)
test=(python3-torch python3-jupyter-kernel-test python3-sentencepiece chromium nodejs npm)

want=("${runtime[@]}")
[ "$mode" = test ] && want+=("${test[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere than Debian (a nodesource or nvm install): accept any working npm.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)." >&2
  exit 1
fi
