#!/usr/bin/env bash
# Idempotent set-up for the Python package's tests (src/python): Debian 12's PyTorch 1.13, numpy and pytest, for
# Debian's own interpreter, /usr/bin/python3 (the tests name it explicitly; a pyenv or venv python3 on the PATH has
# no torch). Installs only the packages that are missing. Runs as root or as a user with sudo. Called by
# scripts/setup.sh.
set -euo pipefail

packages=(python3 python3-numpy python3-pytest python3-torch)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "python: installing ${missing[*]} with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

versions=$(/usr/bin/python3 -c 'import sys, numpy, pytest, torch; print(f"python {sys.version.split()[0]}, torch {torch.__version__}, numpy {numpy.__version__}, pytest {pytest.__version__}")') || {
    echo "python: /usr/bin/python3 cannot import numpy, pytest and torch although ${packages[*]} are installed" >&2
    exit 1
}
echo "python: ready ($versions)"
