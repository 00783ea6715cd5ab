#!/usr/bin/env bash
# Coverage-guided fuzzing of one parser with AFL++ and SharpFuzz (tests/Fuzz; docs/reliability.md has the figures).
#
#   scripts/fuzz.sh <target> [seconds]     target: frames, snapshot, manifest, safetensors, recording; default 600 s
#
# Installs afl++ from Debian's packages when afl-fuzz is missing, restores the sharpfuzz tool (dotnet-tools.json),
# builds the harness, copies it to $FUZZ_WORK/<target>/app (default tests/Fuzz/bin/afl), instruments there only the
# target's parser code, and runs afl-fuzz from the target's seed corpus (tests/Fuzz/corpus/<target>) for the given
# time. Each run starts afresh: its findings replace the last run's in $FUZZ_WORK/<target>/findings. At the end it
# prints afl-fuzz's statistics and re-checks every crash with the uninstrumented harness, printing the exception.
# Environment: FUZZ_TIMEOUT_MS (per input, default 5000), FUZZ_WORK.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

target=${1:-}
seconds=${2:-600}
targets="frames snapshot manifest safetensors recording"
if [[ ! " $targets " == *" $target "* ]] || [[ ! "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh <target> [seconds]; target is one of: $targets" >&2
    exit 2
fi

if ! command -v afl-fuzz >/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "fuzz: installing afl++ with apt-get"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq afl++ >/dev/null
fi

dotnet tool restore >/dev/null
dotnet build tests/Fuzz/Fuzz.csproj -c Release --verbosity quiet -nologo
build=tests/Fuzz/bin/Release/net10.0

work=${FUZZ_WORK:-$root/tests/Fuzz/bin/afl}/$target
rm -rf "$work"
mkdir -p "$work"
# Hard links keep the copy cheap; each assembly to instrument is copied for real first, since sharpfuzz
# rewrites it in place and would otherwise rewrite the build's own file.
cp -al "$build" "$work/app"
while read -r assembly prefixes; do
    rm "$work/app/$assembly"
    cp "$build/$assembly" "$work/app/$assembly"
    dotnet tool run sharpfuzz "$work/app/$assembly" "$prefixes"
    echo "fuzz: instrumented $prefixes in $assembly"
done < <(dotnet "$build/Streaming.Fuzz.dll" instrument "$target")

dictionaries=()
case "$target" in
    manifest | recording | safetensors) dictionaries+=(-x tests/Fuzz/dictionaries/json.dict) ;;
esac
dictionaries+=(-x "tests/Fuzz/dictionaries/$target.dict")

# The harness is a .NET program: afl-fuzz cannot see its instrumentation in the binary (dotnet) and must not
# limit its address space; a core-dump handler or CPU governor on a shared machine is not ours to change. The GC's
# hard limit turns an allocation no input can justify into an OutOfMemoryException, a crash, before it fills the machine.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export AFL_FORKSRV_INIT_TMOUT=60000
export DOTNET_GCHeapHardLimit=0x20000000
echo "fuzz: afl-fuzz on $target for $seconds s; findings in $work/findings"
timeout --signal=INT $((seconds + 300)) afl-fuzz -i "tests/Fuzz/corpus/$target" -o "$work/findings" \
    -t "${FUZZ_TIMEOUT_MS:-5000}" -m none -V "$seconds" "${dictionaries[@]}" \
    -- dotnet "$work/app/Streaming.Fuzz.dll" "$target" > "$work/afl.log" 2>&1 || {
    status=$?
    tail -n 30 "$work/afl.log" >&2
    echo "fuzz: afl-fuzz exited with $status; its log is $work/afl.log" >&2
    exit "$status"
}

stats=$work/findings/default/fuzzer_stats
stat() { awk -F' *: *' -v key="$1" '$1 == key { print $2 }' "$stats"; }
echo "fuzz: $target: $(stat execs_done) executions in $(stat run_time) s ($(stat execs_per_sec)/s), $(stat corpus_count) paths," \
    "$(stat edges_found) edges ($(stat bitmap_cvg) of the map), $(stat saved_crashes) crashes, $(stat saved_hangs) hangs"

unset DOTNET_GCHeapHardLimit
status=0
for kind in crashes hangs; do
    folder=$work/findings/default/$kind
    if compgen -G "$folder/id:*" >/dev/null; then
        echo "fuzz: $kind, re-checked without afl-fuzz:"
        timeout 120 dotnet "$build/Streaming.Fuzz.dll" check "$target" "$folder"/id:* || true
        status=1
    fi
done
exit $status
