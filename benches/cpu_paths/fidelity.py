# PSNR of OpenVINO f32 / bf16 against ONNX Runtime fp32 for every model on real
# anime frames (the table in models/README.md). Frames: extract with ffmpeg into
# /tmp/frames first (op_1..4.png: One Piece frames 30, 31, 120, 121; fate_1..2.png:
# fate 20, 21; pan_1..2.png: issue-236 frames 5, 6 scaled to 640x360). Same venv as decide.py.
import sys, glob, numpy as np, onnxruntime as ort, openvino as ov, subprocess
def load(p):
    w, h = map(int, subprocess.check_output(["ffprobe","-v","error","-show_entries","stream=width,height","-of","csv=p=0",p]).decode().strip().split(","))
    raw = subprocess.check_output(["ffmpeg","-v","error","-i",p,"-f","rawvideo","-pix_fmt","rgb24","-"])
    return (np.frombuffer(raw, np.uint8).reshape(h, w, 3).transpose(2,0,1)[None].astype(np.float32)/255)
def psnr(a, b):
    a = np.clip(a, 0, 1); b = np.clip(b, 0, 1)
    mse = float(np.mean((a-b)**2)); return 10*np.log10(1/mse) if mse > 0 else 99
core = ov.Core(); m = "models"
pairs = [("op", "/tmp/frames/op_1.png", "/tmp/frames/op_2.png"), ("op2", "/tmp/frames/op_3.png", "/tmp/frames/op_4.png"),
         ("fate", "/tmp/frames/fate_1.png", "/tmp/frames/fate_2.png"), ("pan", "/tmp/frames/pan_1.png", "/tmp/frames/pan_2.png")]
def run_all(path, feeds_list):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    cms = {p: core.compile_model(path, "CPU", {"INFERENCE_PRECISION_HINT": p}) for p in ["f32", "bf16"]}
    for tag, feeds in feeds_list:
        ref = s.run(None, feeds)[0]
        print(path.split("/")[-1], tag, " ".join(f"{p}={psnr(cm(feeds)[0], ref):.2f}dB" for p, cm in cms.items()), flush=True)
def crop(x, h, w): return np.ascontiguousarray(x[:, :, :h, :w])
which = sys.argv[1:] or ["sr", "rife", "cugan", "6b"]
if "sr" in which:
    run_all(f"{m}/realesr-animevideov3-x4.onnx", [(t, {"input": load(a)}) for t, a, _ in pairs])
def rife_feeds(h_mult):
    out = []
    for t, a, b in pairs:
        x, y = load(a), load(b); H = x.shape[2]//h_mult*h_mult; W = x.shape[3]//h_mult*h_mult
        out.append((t, {"img0": crop(x,H,W), "img1": crop(y,H,W), "timestep": np.full((1,1,1,1),0.5,np.float32)}))
    return out
if "rife" in which:
    run_all(f"{m}/rife-v4.26.onnx", rife_feeds(64))
    run_all(f"{m}/rife-v4.26-flow0.5.onnx", rife_feeds(128))
if "cugan" in which:
    fe = []
    for t, a, _ in pairs:
        x = crop(load(a), 160, 256); fe.append((t, {"input": np.pad(x, ((0,0),(0,0),(18,18),(18,18)), mode="reflect")}))
    run_all(f"{m}/realcugan-se-up2x.onnx", fe)
if "6b" in which:
    run_all(f"{m}/RealESRGAN_x4plus_anime_6B.onnx", [(t, {"input": crop(load(a), 128, 192)}) for t, a, _ in pairs])
