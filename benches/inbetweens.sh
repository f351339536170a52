#!/usr/bin/env bash
# In-betweens at output size (issue 27): `--inbetweens upscale` (each
# in-between through the upscaler) against `--inbetweens warp` (warped from
# the upscaled drawings with RIFE's flow), alternated ROUNDS times (default
# 3) on the same machine, with the preset's other settings.
#
#   benches/inbetweens.sh [CLIP] [PRESET] [RANGE]
#   default: ../shared/media/anime/realesrgan_onepiece_demo.mp4 anime-clean 0-2
#
# Prints per run: wall time, model time (both model stages summed; they
# overlap), wall / model, upscaler calls against distinct drawings (gate),
# in-betweens warped; then the median wall time of each mode and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
bench_start "$@"
echo "$(basename "$CLIP") --clip $RANGE --preset $PRESET; $(lscpu | sed -n 's/^Model name: *//p')"
for ((r = 1; r <= ${ROUNDS:-3}; r++)); do
    for mode in upscale warp; do
        "$BIN" enhance "$CLIP" -o "$TMP/$mode.mkv" -y -q --preset "$PRESET" --clip "$RANGE" \
            --inbetweens "$mode" --report "$TMP/$mode-$r.json"
    done
done
python3 - "$TMP" "${ROUNDS:-3}" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
walls = {}
for mode in ("upscale", "warp"):
    for r in range(1, rounds + 1):
        j = json.load(open(f"{tmp}/{mode}-{r}.json"))
        up = j["upscale"]
        walls.setdefault(mode, []).append(j["wall_s"])
        print(f"{mode:8} round {r}: wall {j['wall_s']:6.1f} s, model {j['model_s']:6.1f} s, "
              f"wall/model {j['wall_s'] / j['model_s']:.2f}, upscaler calls {up['inferred']} "
              f"(distinct drawings {j['gate']['distinct']}), warped {up['warped']}, "
              f"frames {j['frames_in']} -> {j['frames_out']}")
m = {k: statistics.median(v) for k, v in walls.items()}
print(f"median wall: upscale {m['upscale']:.1f} s, warp {m['warp']:.1f} s: {m['upscale'] / m['warp']:.2f}x")
PY
