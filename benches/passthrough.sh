#!/usr/bin/env bash
# Passthrough speed against plain FFmpeg on a 720p clip.
#
#   benches/passthrough.sh [CLIP] [RUNS]
#
# Times `ainimotion enhance` with no model stage (decode → encode,
# every other stream copied) against `ffmpeg -i IN -c:v libx264 -crf C
# -preset P -c:a copy` with the same CRF and preset, alternating the two so
# machine noise hits both alike, and prints each median and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIP="${1:-demo/bigbuckbunny.mp4}"
RUNS="${2:-5}"
CRF=16
PRESET=medium
BIN=target/release/ainimotion
[ -x "$BIN" ] || cargo build --release --quiet
[ -f "$CLIP" ] || { echo "no clip $CLIP (run ./setup.sh)" >&2; exit 1; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
a=(); f=()
for i in $(seq "$RUNS"); do
    t0=$(now)
    "$BIN" enhance "$CLIP" -o "$TMP/a.mkv" -y -q --crf "$CRF" --encoder-preset "$PRESET"
    t1=$(now)
    ffmpeg -v error -y -i "$CLIP" -map 0 -c:v libx264 -crf "$CRF" -preset "$PRESET" -c:a copy -c:s copy "$TMP/f.mkv"
    t2=$(now)
    a+=("$(echo "$t1 - $t0" | bc -l)"); f+=("$(echo "$t2 - $t1" | bc -l)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median "${a[@]}"); mf=$(median "${f[@]}")
frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$CLIP")
printf 'clip: %s (%s frames), %s runs each, crf %s preset %s\n' "$CLIP" "$frames" "$RUNS" "$CRF" "$PRESET"
printf 'ainimotion passthrough: median %.3f s (%.1f fps)\n' "$ma" "$(echo "$frames / $ma" | bc -l)"
printf 'ffmpeg -c:v libx264:    median %.3f s (%.1f fps)\n' "$mf" "$(echo "$frames / $mf" | bc -l)"
printf 'ratio ainimotion/ffmpeg: %.3f (target <= 1.15)\n' "$(echo "$ma / $mf" | bc -l)"
