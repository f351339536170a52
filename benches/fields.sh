#!/usr/bin/env bash
# What field matching adds to a `reencode` run on telecined video.
#
#   benches/fields.sh [RUNS] [ENCODER_PRESET]
#
# Makes a telecined clip from the One Piece demo (looped five times to
# about 38 s, 23.976 film in 3:2 pulldown at 29.97, interlaced H.264,
# 640x480), then times `enhance --preset reencode` on it with
# `--fields film` (field matching, bwdif on what stays combed, our
# decimation) and with `--fields progressive` (every decoded frame as it
# is), alternating the two so machine noise hits both alike. Prints the
# median wall and CPU (user + sys) seconds of each and their ratios.
# ENCODER_PRESET defaults to the preset's own (medium); `ultrafast` shows
# the worst case, where encoding costs next to nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
PRESET="${2:-}"
SRC=../shared/media/anime/realesrgan_onepiece_demo.mp4
BIN=target/release/ainimotion
[ -x "$BIN" ] || cargo build --release --quiet
[ -f "$SRC" ] || { echo "no clip $SRC (needs ../shared/media)" >&2; exit 1; }
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
CLIP="$TMP/telecined.mkv"
ffmpeg -v error -y -stream_loop 4 -i "$SRC" \
    -vf "fps=24000/1001,telecine=pattern=23,setfield=tff" \
    -c:v libx264 -crf 14 -preset fast -flags +ilme+ildct -x264opts tff=1 \
    -c:a aac -b:a 128k "$CLIP"
extra=()
[ -n "$PRESET" ] && extra=(--encoder-preset "$PRESET")

# Wall and user+sys seconds of one run, as "wall cpu".
timed() {
    /usr/bin/time -f '%e %U %S' -o "$TMP/t" "$@" >/dev/null
    awk '{printf "%s %.2f\n", $1, $2 + $3}' "$TMP/t"
}
fw=(); fc=(); pw=(); pc=()
for i in $(seq "$RUNS"); do
    read -r w c < <(timed "$BIN" enhance "$CLIP" -o "$TMP/film.mkv" -y -q \
        --preset reencode --fields film "${extra[@]}")
    fw+=("$w"); fc+=("$c")
    read -r w c < <(timed "$BIN" enhance "$CLIP" -o "$TMP/prog.mkv" -y -q \
        --preset reencode --fields progressive "${extra[@]}")
    pw+=("$w"); pc+=("$c")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
frames() { ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1"; }
printf 'clip: telecined One Piece, %s frames in, %s runs each, encoder preset %s\n' \
    "$(frames "$CLIP")" "$RUNS" "${PRESET:-medium (the preset)}"
printf -- '--fields film:        median wall %s s, cpu %s s, %s frames out\n' \
    "$(median "${fw[@]}")" "$(median "${fc[@]}")" "$(frames "$TMP/film.mkv")"
printf -- '--fields progressive: median wall %s s, cpu %s s, %s frames out\n' \
    "$(median "${pw[@]}")" "$(median "${pc[@]}")" "$(frames "$TMP/prog.mkv")"
printf 'film / progressive: wall %.3f, cpu %.3f (target: wall <= 1.10)\n' \
    "$(echo "$(median "${fw[@]}") / $(median "${pw[@]}")" | bc -l)" \
    "$(echo "$(median "${fc[@]}") / $(median "${pc[@]}")" | bc -l)"
