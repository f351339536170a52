#!/usr/bin/env bash
# Overhead of a chunked run (issue 14): the same job as one pass and as
# plan + every chunk + join, alternated ROUNDS times, with CPU time
# (user + sys) and peak RSS of each process from /usr/bin/time.
#
#   benches/chunks.sh [CLIP] [PRESET] [CHUNK_SECONDS] [ROUNDS] [RANGE]
#   default: ../shared/media/anime/realesrgan_onepiece_demo.mp4 fast 2 3 (whole clip)
#
# Prints per round: single CPU s, chunked CPU s (plan + chunks + join, one
# process each, as an array job runs them) and their ratio (target <= 1.10),
# the same job as one chunked `enhance --chunk-seconds S` (one process that
# loads its models once, as a resumable local run does) and its ratio, then
# the medians; and the peak RSS of the single run and of the largest chunk
# (memory stays flat: a chunk's peak does not grow with the input's length).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIP="${1:-../shared/media/anime/realesrgan_onepiece_demo.mp4}"
PRESET="${2:-fast}"
CHUNK="${3:-2}"
ROUNDS="${4:-3}"
RANGE=()
if [ -n "${5:-}" ]; then RANGE=(--clip "$5"); fi
BIN=target/release/ainimotion
[ -x "$BIN" ] || cargo build --release --quiet
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# Run a command under /usr/bin/time; prints "cpu_s peak_kib".
timed() {
    /usr/bin/time -f '%U %S %M' -o "$T/time" "$@" >/dev/null 2>"$T/err" || { cat "$T/err" >&2; exit 1; }
    awk '{printf "%.2f %d\n", $1 + $2, $3}' "$T/time"
}

ratios=()
ratios2=()
for r in $(seq 1 "$ROUNDS"); do
    read -r single single_kib < <(timed "$BIN" enhance "$CLIP" -o "$T/single.mkv" -y -q --preset "$PRESET" --chunk-seconds 0 "${RANGE[@]}")
    rm -rf "$T/w"
    read -r plan_s _ < <(timed "$BIN" plan "$CLIP" --out "$T/w/plan.json" --preset "$PRESET" --chunk-seconds "$CHUNK" "${RANGE[@]}")
    n=$(python3 -c "import json,sys;print(len(json.load(open(sys.argv[1]))['chunks']))" "$T/w/plan.json")
    chunks_s=0; chunk_kib=0
    for k in $(seq 0 $((n - 1))); do
        read -r s kib < <(timed "$BIN" enhance "$CLIP" --plan "$T/w/plan.json" --chunk "$k" -q)
        chunks_s=$(echo "$chunks_s + $s" | bc -l)
        [ "$kib" -gt "$chunk_kib" ] && chunk_kib=$kib
    done
    read -r join_s _ < <(timed "$BIN" join "$T/w/plan.json" --out "$T/joined.mkv" -y)
    total=$(echo "$plan_s + $chunks_s + $join_s" | bc -l)
    ratio=$(echo "$total / $single" | bc -l)
    ratios+=("$ratio")
    read -r inproc inproc_kib < <(timed "$BIN" enhance "$CLIP" -o "$T/inproc.mkv" -y -q --preset "$PRESET" --chunk-seconds "$CHUNK" "${RANGE[@]}")
    ratio2=$(echo "$inproc / $single" | bc -l)
    ratios2+=("$ratio2")
    printf 'round %d: single %.2f cpu-s (peak %d MiB) | chunk processes %.2f cpu-s = plan %.2f + %d chunks %.2f + join %.2f (largest chunk peak %d MiB): ratio %.3f | one chunked enhance %.2f cpu-s (peak %d MiB): ratio %.3f\n' \
        "$r" "$single" $((single_kib / 1024)) "$total" "$plan_s" "$n" "$chunks_s" "$join_s" $((chunk_kib / 1024)) "$ratio" "$inproc" $((inproc_kib / 1024)) "$ratio2"
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf 'median CPU time against the single run: chunk processes %.3f, one chunked enhance %.3f (target <= 1.10)\n' "$(med "${ratios[@]}")" "$(med "${ratios2[@]}")"
