#!/usr/bin/env bash
# Episode-length runs (issue 25): time and peak memory of `enhance` on a
# generated 2-minute and 24-minute episode (320x180, 23.976 fps, AAC), a
# single pass and a chunked one, and how far the output's last video and
# audio timestamps are from the input's.
#
#   benches/episode.sh [PRESET]     (default reencode)
#
# Peak memory is the maximum resident set of the whole process tree
# (GNU time's %M of the one ainimotion process).
set -euo pipefail
cd "$(dirname "$0")/.."
PRESET="${1:-reencode}"
BIN=target/release/ainimotion
[ -x "$BIN" ] || cargo build --release --quiet
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt install time)" >&2; exit 1; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
echo "preset $PRESET; $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
last() { # where video and audio end (s): the latest pts + duration (packets are in decode order)
    for s in v:0 a:0; do
        ffprobe -v error -select_streams "$s" -show_entries packet=pts_time,duration_time \
            -of csv=p=0 "$1" | awk -F, '$1 + $2 > m { m = $1 + $2 } END { printf "%.3f ", m }'
    done
}
for minutes in 2 24; do
    in="$TMP/ep$minutes.mkv"
    ffmpeg -v error -f lavfi -i "testsrc2=s=320x180:r=24000/1001" -f lavfi \
        -i "sine=f=440:sample_rate=48000" -t $((minutes * 60)) -c:v libx264 -preset ultrafast \
        -crf 30 -c:a aac -b:a 64k "$in"
    read -r vin ain <<<"$(last "$in")"
    for chunk in 0 60; do
        out="$TMP/out$minutes-$chunk.mkv"
        /usr/bin/time -f "%e %M" -o "$TMP/time" "$BIN" enhance "$in" -o "$out" -y -q \
            --preset "$PRESET" --chunk-seconds "$chunk"
        read -r wall kb <"$TMP/time"
        read -r vout aout <<<"$(last "$out")"
        printf '%2d min, --chunk-seconds %2d: %7.1f s, peak %4d MiB, last video %+.3f s, last audio %+.3f s\n' \
            "$minutes" "$chunk" "$wall" $((kb / 1024)) "$(echo "$vout - $vin" | bc -l)" \
            "$(echo "$aout - $ain" | bc -l)"
    done
done
