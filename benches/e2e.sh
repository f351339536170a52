#!/usr/bin/env bash
# End-to-end benchmark of `enhance` on a real clip.
#
#   benches/e2e.sh [CLIP] [PRESET] [RANGE]
#   default: ../shared/media/anime/realesrgan_onepiece_demo.mp4 anime-clean 0-2
#
# Two runs of the same clip and settings:
#   A  normal (gating + reuse)
#   B  --no-gate --no-reuse: every frame through every model
# and prints, from their --report JSON:
#   (a) A's wall time against the time of its model calls alone (the limit:
#       everything else should hide behind inference; target wall <= 1.15 x model)
#   (b) B's wall time against A's (target on the One Piece clip: A >= 2.5x faster)
#   (c) A's wall time against the sum of its stages' busy times, i.e. the
#       same work with the stages run one after another with no overlap.
#
#   benches/e2e.sh --paths [CLIP] [PRESET] [RANGE]
#
# The two CPU paths instead (issue 13): run A with --device cpu (ONNX Runtime
# fp32) and with --device cpu-openvino (OpenVINO, --precision auto),
# alternated ROUNDS times (default 1), and prints each wall time, its (a),
# and the median wall-time ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
PATHS=0
if [ "${1:-}" = "--paths" ]; then PATHS=1; shift; fi
. benches/lib.sh
bench_start "$@"

if [ "$PATHS" = 1 ]; then
    reports=()
    for ((r = 1; r <= ${ROUNDS:-1}; r++)); do
        for dev in cpu cpu-openvino; do
            "$BIN" enhance "$CLIP" -o "$TMP/$dev.mkv" -y -q --preset "$PRESET" --clip "$RANGE" \
                --device "$dev" --report "$TMP/$dev-$r.json"
            reports+=("$TMP/$dev-$r.json")
        done
    done
    python3 - "$CLIP" "$PRESET" "$RANGE" "${reports[@]}" <<'PY'
import json, statistics, sys
clip, preset, rng = sys.argv[1:4]
runs = [json.load(open(p)) for p in sys.argv[4:]]
ort, ov = runs[0::2], runs[1::2]
print(f"clip {clip} --clip {rng}, preset {preset}, {len(ort)} round(s), cpu and cpu-openvino alternated")
for name, rs in (("cpu", ort), ("cpu-openvino", ov)):
    for r in rs:
        u = r.get("upscale") or {}
        print(f"{name:13} wall {r['wall_s']:6.1f} s, model {r['model_s']:6.1f} s, (a) wall/model {r['wall_s'] / max(r['model_s'], 1e-9):.3f}; "
              f"{r['frames_in']} -> {r['frames_out']} frames, upscale model {u.get('inferred', 0)}; {r['device']}")
a = statistics.median(r["wall_s"] for r in ort)
b = statistics.median(r["wall_s"] for r in ov)
print(f"wall cpu / cpu-openvino: {a:.1f} s / {b:.1f} s = {a / max(b, 1e-9):.2f}x (target >= 2.5)")
PY
    exit 0
fi

"$BIN" enhance "$CLIP" -o "$TMP/a.mkv" -y -q --preset "$PRESET" --clip "$RANGE" --report "$TMP/a.json"
"$BIN" enhance "$CLIP" -o "$TMP/b.mkv" -y -q --preset "$PRESET" --clip "$RANGE" --no-gate --no-reuse --report "$TMP/b.json"

python3 - "$TMP/a.json" "$TMP/b.json" "$CLIP" "$PRESET" "$RANGE" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
clip, preset, rng = sys.argv[3:6]
busy = sum(s["busy_s"] for s in a["stages"].values())
def counts(r):
    i = r.get("interpolate") or {}
    u = r.get("upscale") or {}
    return f"interp model-made {i.get('inferred', 0)}, upscale model {u.get('inferred', 0)} / reused {u.get('reused', 0)}"
print(f"clip {clip} --clip {rng}, preset {preset}, device {a['device']}")
print(f"A (gating+reuse): {a['frames_in']} in -> {a['frames_out']} out, wall {a['wall_s']:.1f} s, model {a['model_s']:.1f} s; {counts(a)}")
print(f"B (every frame):  {b['frames_in']} in -> {b['frames_out']} out, wall {b['wall_s']:.1f} s, model {b['model_s']:.1f} s; {counts(b)}")
print(f"(a) wall / model time:            {a['wall_s'] / max(a['model_s'], 1e-9):.3f}  (target <= 1.15)")
print(f"(b) no-reuse wall / reuse wall:   {b['wall_s'] / max(a['wall_s'], 1e-9):.2f}x (target >= 2.5 on the One Piece clip)")
print(f"(c) sequential estimate / wall:   {busy / max(a['wall_s'], 1e-9):.2f}x  (sum of stage busy {busy:.1f} s)")
for name, s in sorted(a["stages"].items()):
    print(f"    {name:8} busy {s['busy_s']:7.1f} s ({100 * s['busy_s'] / max(a['wall_s'], 1e-9):5.1f}% of wall)")
PY
