#!/usr/bin/env bash
# One-time (and idempotent) set-up of a Debian 12 machine for building, testing and serving.
# Installs the native tools the TorchSharp libstdc++ fix needs (g++, patchelf), installs and starts PostgreSQL with
# the tests' role and database (scripts/postgres.sh), installs Debian's PyTorch, numpy and pytest for the Python
# package's tests (scripts/python.sh), checks the .NET SDK and restores the NuGet packages. Safe to
# run before every build; it only installs what is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

need_apt=()
command -v g++ >/dev/null || need_apt+=(g++)
command -v patchelf >/dev/null || need_apt+=(patchelf)
command -v flock >/dev/null || need_apt+=(util-linux)
if [ ${#need_apt[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${need_apt[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

bash scripts/postgres.sh
bash scripts/python.sh

if ! command -v dotnet >/dev/null; then
    echo "setup: the .NET SDK 10 is required and 'dotnet' is not on PATH; install dotnet-sdk-10.0 first." >&2
    exit 1
fi
sdk_major=$(dotnet --version | cut -d. -f1)
if [ "$sdk_major" -lt 10 ]; then
    echo "setup: the .NET SDK 10 is required; found $(dotnet --version)." >&2
    exit 1
fi

dotnet restore Streaming.sln --verbosity quiet
echo "setup: ready (dotnet $(dotnet --version), $(g++ --version | head -n 1), patchelf $(patchelf --version | cut -d' ' -f2))"
