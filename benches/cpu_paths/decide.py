# The decision measurement of issue 13 (README "CPU fast path"): ONNX Runtime
# CPU fp32 against OpenVINO f32 and bf16 on animevideov3 (640x360) and RIFE
# 4.26 (640x384), alternated, medians, and PSNR against the ONNX Runtime output.
#   python3 -m venv .deps/ovvenv
#   .deps/ovvenv/bin/pip install .deps/wheels/openvino-2026.4.1-*.whl onnxruntime==1.31.1 numpy==2.3.5
#   .deps/ovvenv/bin/python benches/cpu_paths/decide.py models 3
import sys, time, statistics, numpy as np, onnxruntime as ort, openvino as ov
rng = np.random.default_rng(1)
def frame(h, w):
    # smooth-ish picture, not pure noise
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([0.5+0.4*np.sin(x/17+c)*np.cos(y/23-c) for c in range(3)])[None]
    return np.clip(img + rng.normal(0, 0.02, img.shape).astype(np.float32), 0, 1)
def psnr(a, b):
    a = np.clip(a, 0, 1); b = np.clip(b, 0, 1)
    mse = float(np.mean((a - b) ** 2)); return 10*np.log10(1/mse) if mse > 0 else 99
core = ov.Core()
print("OV", ov.__version__, core.get_property("CPU", "FULL_DEVICE_NAME"), core.get_property("CPU","OPTIMIZATION_CAPABILITIES"))
def runners(path, feeds, threads=2):
    so = ort.SessionOptions(); so.intra_op_num_threads = threads
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    r = {"ort": lambda: s.run(None, feeds)[0]}
    for prec in ["f32", "bf16"]:
        cm = core.compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": prec, "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"})
        req = cm.create_infer_request()
        r["ov_"+prec] = (lambda req=req: req.infer(feeds)[0].copy())
    return r
def bench(name, path, feeds, reps):
    r = runners(path, feeds)
    outs = {k: f() for k, f in r.items()}  # warm-up
    times = {k: [] for k in r}
    for _ in range(reps):
        for k, f in r.items():
            t = time.perf_counter(); f(); times[k].append(time.perf_counter() - t)
    base = statistics.median(times["ort"])
    for k in r:
        m = statistics.median(times[k])
        print(f"{name}: {k:8s} {m:7.3f} s  x{base/m:4.2f}  psnr vs ort {psnr(outs[k], outs['ort']):6.2f} dB")
m = sys.argv[1] if len(sys.argv) > 1 else "models"
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
bench("animevideov3 640x360", f"{m}/realesr-animevideov3-x4.onnx", {"input": frame(360, 640)}, reps)
a = frame(384, 640); b = np.roll(a, 6, axis=3)
bench("rife-4.26 640x384", f"{m}/rife-v4.26.onnx", {"img0": a, "img1": b, "timestep": np.full((1,1,1,1), 0.5, np.float32)}, reps)
