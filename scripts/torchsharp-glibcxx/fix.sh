#!/usr/bin/env bash
# Makes TorchSharp's native glue load on a libstdc++ older than GCC 13 (Debian 12 stops at
# GLIBCXX_3.4.30). Applied to the copies in a build or publish folder, never to the NuGet cache.
#
#   fix.sh OUTPUT_DIR TOOLS_DIR
#
# For each libLibTorchSharp.so below OUTPUT_DIR: weaken its GLIBCXX_3.4.32 version need and unversion
# std::ios_base_library_init() (elfweaken), add a DT_NEEDED on the shim that defines that symbol
# (patchelf), and put the shim beside it (the glue's RUNPATH starts with $ORIGIN). Idempotent, and a
# no-op where the system's libstdc++ already provides GLIBCXX_3.4.32.
set -euo pipefail

out_dir=$1
tools_dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=GLIBCXX_3.4.32
symbol=_ZSt21ios_base_library_initv
shim_name=libstdcxx-ios-shim.so

mapfile -t glues < <(find "$out_dir" -name libLibTorchSharp.so -type f 2>/dev/null)
[ ${#glues[@]} -gt 0 ] || exit 0

system_libstdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ { print $NF; exit }')
[ -n "$system_libstdcxx" ] || system_libstdcxx=/usr/lib/x86_64-linux-gnu/libstdc++.so.6
if grep -aq "$version" "$system_libstdcxx" 2>/dev/null; then
    exit 0
fi

missing=()
command -v g++ >/dev/null || missing+=(g++)
command -v gcc >/dev/null || missing+=(gcc)
command -v patchelf >/dev/null || missing+=(patchelf)
if [ ${#missing[@]} -gt 0 ]; then
    echo "error: TorchSharp needs $version, which $system_libstdcxx lacks; the build patches it but needs: ${missing[*]}." >&2
    echo "error: install them with 'apt-get install -y g++ patchelf' (or run scripts/setup.sh)." >&2
    exit 1
fi

mkdir -p "$tools_dir"
exec 9>"$tools_dir/.lock"
flock 9
shim="$tools_dir/$shim_name"
weaken="$tools_dir/elfweaken"
if [ ! -f "$shim" ] || [ "$here/shim.cpp" -nt "$shim" ]; then
    g++ -O2 -shared -fPIC -Wall -Werror -o "$shim.tmp" "$here/shim.cpp"
    mv -f "$shim.tmp" "$shim"
fi
if [ ! -f "$weaken" ] || [ "$here/elfweaken.c" -nt "$weaken" ]; then
    gcc -O2 -Wall -Wextra -Werror -o "$weaken.tmp" "$here/elfweaken.c"
    mv -f "$weaken.tmp" "$weaken"
fi

for glue in "${glues[@]}"; do
    dir=$(dirname "$glue")
    cmp -s "$shim" "$dir/$shim_name" || cp -f "$shim" "$dir/$shim_name"
    if patchelf --print-needed "$glue" | grep -qx "$shim_name"; then
        continue
    fi
    # Work on a copy and rename it over the original: a hard link into the NuGet cache stays intact.
    tmp="$glue.glibcxx-fix.tmp"
    cp -f "$glue" "$tmp"
    status=0
    "$weaken" "$tmp" "$version" "$symbol" || status=$?
    if [ $status -ne 0 ] && [ $status -ne 3 ]; then
        rm -f "$tmp"
        exit 1
    fi
    patchelf --add-needed "$shim_name" "$tmp"
    mv -f "$tmp" "$glue"
    echo "patched $glue for $system_libstdcxx (no $version)"
done
