#!/usr/bin/env python3
"""Times the same VGG16 conv stack + SPoC in onnxruntime, as the baseline for
`cargo bench --bench descriptor` (README, "Speed").

The ONNX graph is built here from ../shared/models/vgg16_imagenet_features.safetensors
(13 conv + ReLU, 4 floor max-pools, ReduceSum over conv5_3), so both sides run exactly
the same network. Needs: pip install onnxruntime onnx numpy.

Usage: python3 benches/onnxruntime_baseline.py [--runs 20]
Prints one JSON line: median ms/image at 224x224 and 1024x768, and the raw SPoC's
relative L2 error against the golden vector of church.png (a self-check).
"""
import argparse, json, os, struct, sys, time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
TORCH_INDEX = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
POOL_AFTER = {2, 7, 14, 21}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=np.float32).reshape(v["shape"])
    return out, header.get("__metadata__", {})


def build_model(weights):
    nodes, inits, x = [], [], "input"
    for i in TORCH_INDEX:
        w, b = f"features.{i}.weight", f"features.{i}.bias"
        inits += [numpy_helper.from_array(weights[w], w), numpy_helper.from_array(weights[b], b)]
        nodes.append(helper.make_node("Conv", [x, w, b], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        x = f"r{i}"
        if i in POOL_AFTER:
            nodes.append(helper.make_node("MaxPool", [x], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"p{i}"
    inits.append(numpy_helper.from_array(np.array([2, 3], dtype=np.int64), "axes"))
    nodes.append(helper.make_node("ReduceSum", [x, "axes"], ["spoc"], keepdims=0))
    graph = helper.make_graph(
        nodes, "vgg16_spoc", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor_value_info("spoc", TensorProto.FLOAT, [1, 512])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9  # readable by every onnxruntime since 1.16
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    model_path = os.path.join(ROOT, "models", "vgg16_imagenet_features.safetensors")
    if not os.path.exists(model_path):
        print(f"SKIPPED: {model_path} not found", file=sys.stderr)
        return
    weights, meta = read_safetensors(model_path)
    mean = np.array([float(v) for v in meta["mean_rgb"].split(",")], dtype=np.float32)
    sess = ort.InferenceSession(build_model(weights).SerializeToString(), providers=["CPUExecutionProvider"])

    from PIL import Image
    church = np.asarray(Image.open(os.path.join(ROOT, "golden", "church.png")).convert("RGB"), dtype=np.float32)
    x224 = ((church - mean).transpose(2, 0, 1))[None].copy()
    golden = json.load(open(os.path.join(ROOT, "golden", "spoc_golden.json")))["images"]["church"]["spoc_raw"]
    spoc = sess.run(None, {"input": x224})[0][0]
    err = float(np.linalg.norm(spoc - np.array(golden)) / np.linalg.norm(golden))
    x1024 = np.random.default_rng(0).uniform(-120, 130, size=(1, 3, 768, 1024)).astype(np.float32)

    def median_ms(x, runs):
        sess.run(None, {"input": x})
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            sess.run(None, {"input": x})
            times.append((time.perf_counter() - t) * 1000)
        return float(np.median(times))

    print(json.dumps({
        "onnxruntime": ort.__version__,
        "threads": os.cpu_count(),
        "ms_224": round(median_ms(x224, args.runs), 1),
        "ms_1024x768": round(median_ms(x1024, max(3, args.runs // 4)), 1),
        "golden_rel_l2_church": err,
    }))


if __name__ == "__main__":
    main()
