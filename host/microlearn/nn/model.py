"""A TFLite graph lowered to what the C core runs (core/ml_nn.h): tensors in one arena or in
the constant data, operators with every parameter precomputed (quantized multipliers, shifts,
activation ranges, lookup tables), the arena planned from tensor lifetimes. The same object
runs on the host (a numpy reference, bit-exact with the C core for int8) and is written as the
model file (docs/nn.md).

    m = lower(tflite.read(data))
    m.run(x)            # numpy reference of the device
    m.to_bytes()        # the model file
"""

import struct
from dataclasses import dataclass, field

import numpy as np

from .. import blob
from ..trees import ConversionError as TreesConversionError
from . import fixedpoint as fp
from . import kernels
from .tflite import ACTIVATIONS, FLOAT32, INT8, INT32, UINT8, PADDINGS, TYPE_NAMES

FORMAT_VERSION = 1

# Tensor types of the model file (core/ml_nn.h).
T_INT8, T_UINT8, T_INT32, T_FLOAT32 = 1, 2, 3, 4
T_NAMES = {T_INT8: "int8", T_UINT8: "uint8", T_INT32: "int32", T_FLOAT32: "float32"}
T_SIZE = {T_INT8: 1, T_UINT8: 1, T_INT32: 4, T_FLOAT32: 4}
T_DTYPE = {T_INT8: np.int8, T_UINT8: np.uint8, T_INT32: np.int32, T_FLOAT32: np.float32}
FROM_TFLITE = {INT8: T_INT8, UINT8: T_UINT8, INT32: T_INT32, FLOAT32: T_FLOAT32}

# Operator codes of the model file (core/ml_nn.h).
OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED = 1, 2, 3
OP_MAX_POOL_2D, OP_AVERAGE_POOL_2D, OP_MEAN = 4, 5, 6
OP_SOFTMAX, OP_COPY, OP_QUANTIZE, OP_DEQUANTIZE, OP_LUT = 7, 8, 9, 10, 11
OP_ADD, OP_MUL, OP_CONCATENATION, OP_PAD, OP_ACTIVATION = 12, 13, 14, 15, 16
OP_NAMES = {OP_CONV_2D: "CONV_2D", OP_DEPTHWISE_CONV_2D: "DEPTHWISE_CONV_2D",
            OP_FULLY_CONNECTED: "FULLY_CONNECTED", OP_MAX_POOL_2D: "MAX_POOL_2D",
            OP_AVERAGE_POOL_2D: "AVERAGE_POOL_2D", OP_MEAN: "MEAN", OP_SOFTMAX: "SOFTMAX",
            OP_COPY: "COPY", OP_QUANTIZE: "QUANTIZE", OP_DEQUANTIZE: "DEQUANTIZE",
            OP_LUT: "LUT", OP_ADD: "ADD", OP_MUL: "MUL", OP_CONCATENATION: "CONCATENATION",
            OP_PAD: "PAD", OP_ACTIVATION: "ACTIVATION"}
N_PARAMS = 8
# Kinds of the float32 ACTIVATION operator (core/ml_nn.h).
ACT_KINDS = {"relu": 1, "relu6": 2, "leaky_relu": 3, "logistic": 4, "tanh": 5, "hard_swish": 6}
ADD_LEFT_SHIFT = 20  # TFLite's headroom for 8-bit ADD

# The TFLite operators (and options) this converter takes.
SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D",
             "AVERAGE_POOL_2D", "MEAN", "ADD", "MUL", "CONCATENATION", "PAD", "RESHAPE",
             "SQUEEZE", "EXPAND_DIMS", "SOFTMAX", "QUANTIZE", "DEQUANTIZE", "LOGISTIC", "TANH",
             "RELU", "RELU6", "LEAKY_RELU", "HARD_SWISH")

ALIGN = 8
HEADER = struct.Struct("<IHHHHHH")  # arena size, n tensors, n ops, input, output, 2 reserved
TENSOR = struct.Struct("<BBBBII4HfiI")  # type ndim storage 0, offset, count, dims, scale, zp, 0
OP = struct.Struct("<BBBB4H8iI")  # code n_in 0 0, in[3] out, params, aux offset
ARENA, CONST = 0, 1
NO_AUX = 0xFFFFFFFF


class ConversionError(TreesConversionError):
    """microlearn.convert's one error class (trees.ConversionError) for networks too."""


@dataclass
class Tensor:
    name: str
    type: int
    shape: tuple
    storage: int = ARENA
    offset: int = 0
    scale: float = 0.0
    zero_point: int = 0
    data: np.ndarray = None  # constants

    @property
    def count(self):
        return int(np.prod(self.shape)) if self.shape else 1

    @property
    def nbytes(self):
        return self.count * T_SIZE[self.type]

    @property
    def dtype(self):
        return T_DTYPE[self.type]


@dataclass
class Op:
    code: int
    inputs: list  # tensor indices
    output: int
    params: list = field(default_factory=lambda: [0] * N_PARAMS)
    aux: np.ndarray = None  # int32 or uint8 array in the constant data
    aux_offset: int = NO_AUX
    source: str = ""  # the TFLite operator(s) it comes from, for summaries
    macs: int = 0


def f32_bits(x):
    return struct.unpack("<i", struct.pack("<f", float(x)))[0]


def bits_f32(i):
    return struct.unpack("<f", struct.pack("<i", int(i)))[0]


class NNModel:
    """A converted network: `save()` it for the board, `run()` it on the host."""

    def __init__(self, tensors, ops, input_index, output_index):
        self.tensors, self.ops = tensors, ops
        self.input_index, self.output_index = input_index, output_index
        self.arena_size = 0
        self.data = b""
        self.labels = None  # int labels of the outputs (a classifier's classes), or None
        self._plan()

    # -- public API ---------------------------------------------------------------------------

    @property
    def input(self):
        return self.tensors[self.input_index]

    @property
    def output(self):
        return self.tensors[self.output_index]

    @property
    def input_shape(self):
        return tuple(self.input.shape)

    @property
    def output_shape(self):
        return tuple(self.output.shape)

    @property
    def input_type(self):
        return T_NAMES[self.input.type]

    @property
    def output_type(self):
        return T_NAMES[self.output.type]

    @property
    def weights_size(self):
        """Bytes of constant data (weights, biases, multipliers, tables)."""
        return len(self.data)

    def memory_size(self, in_place=True):
        """RAM the model takes on the board: the arena plus the fixed object, and the whole
        file when it is copied into RAM (in_place=False) rather than used from flash."""
        fixed = 64  # the MicroPython object and the core's model struct, rounded up
        return self.arena_size + fixed + (0 if in_place else len(self.to_bytes()))

    def run(self, x):
        """The numpy reference: the device's output for one input (shape input_shape or flat)."""
        return kernels.run(self, x)

    def predict(self, x):
        """The index of the largest output, or its label when the model has labels."""
        k = int(np.argmax(self.run(x).reshape(-1)))
        return k if self.labels is None else int(self.labels[k])

    def macs(self):
        return sum(op.macs for op in self.ops)

    def summary(self):
        lines = [f"{'#':>3} {'operator':<18} {'output shape':<16} {'MACs':>9} {'arena':>7} "
                 f"{'weights':>8}  from"]
        for i, op in enumerate(self.ops):
            out = self.tensors[op.output]
            w = sum(self.tensors[t].nbytes for t in op.inputs if self.tensors[t].storage == CONST)
            w += 0 if op.aux is None else op.aux.nbytes
            lines.append(f"{i:>3} {OP_NAMES[op.code]:<18} {str(tuple(out.shape)):<16} "
                         f"{op.macs:>9,} {out.offset:>7} {w:>8,}  {op.source}")
        lines.append(f"input {self.input_type} {self.input_shape}, output {self.output_type} "
                     f"{self.output_shape}; {self.macs():,} MACs; arena {self.arena_size:,} "
                     f"bytes; constant data {self.weights_size:,} bytes; file "
                     f"{len(self.to_bytes()):,} bytes")
        return "\n".join(lines)

    def to_bytes(self):
        head = HEADER.pack(self.arena_size, len(self.tensors), len(self.ops), self.input_index,
                           self.output_index, 0, 0)
        tens = b"".join(self._tensor_bytes(t) for t in self.tensors)
        ops = b"".join(self._op_bytes(op) for op in self.ops)
        sections = [(b"head", head), (b"tens", tens), (b"ops ", ops), (b"data", self.data)]
        if self.labels is not None:
            if len(self.labels) != self.output.count:
                raise ConversionError(f"{len(self.labels)} labels for {self.output.count} "
                                      "outputs")
            sections.append((b"labl", np.asarray(self.labels, dtype="<i4").tobytes()))
        return blob.pack(blob.NN, FORMAT_VERSION, sections)

    def save(self, file, format="bin", name=None):
        """Writes the model file (format="bin"), or a C header with it as an aligned array
        (format="c")."""
        data = self.to_bytes()
        if format == "bin":
            with open(file, "wb") as f:
                f.write(data)
            return
        if format != "c":
            raise ValueError(f"format must be 'bin' or 'c', got {format!r}")
        from pathlib import Path

        name = name or Path(file).stem.replace("-", "_").replace(".", "_")
        text = blob.c_array(
            data, name, f"microlearn nn model: {self.input_type} {self.input_shape} -> "
            f"{self.output_type} {self.output_shape}, arena {self.arena_size} bytes.\n"
            f"// Load with ml_nn_open(&model, {name}, sizeof({name}), &err) (core/ml_nn.h).",
            f"#define {name.upper()}_ARENA_SIZE ({self.arena_size})\n\n")
        with open(file, "w") as f:
            f.write(text)

    # -- layout ---------------------------------------------------------------------------

    def _tensor_bytes(self, t):
        dims = list(t.shape) + [0] * (4 - len(t.shape))
        return TENSOR.pack(t.type, len(t.shape), t.storage, 0, t.offset, t.count, *dims,
                           t.scale, t.zero_point, 0)

    def _op_bytes(self, op):
        ins = list(op.inputs) + [0xFFFF] * (3 - len(op.inputs))
        return OP.pack(op.code, len(op.inputs), 0, 0, *ins, op.output, *op.params,
                       op.aux_offset)

    def _plan(self):
        """Places constants in the data section and activations in the arena."""
        data = bytearray()

        def put(arr):
            data.extend(b"\0" * (-len(data) % ALIGN))
            off = len(data)
            data.extend(np.ascontiguousarray(arr).tobytes())
            return off

        for t in self.tensors:
            if t.storage == CONST:
                t.offset = put(t.data.astype(t.dtype))
        for op in self.ops:
            if op.aux is not None:
                op.aux_offset = put(op.aux)
        data.extend(b"\0" * (-len(data) % ALIGN))
        self.data = bytes(data)
        self.arena_size = plan_arena(self)


def plan_arena(model):
    """Greedy placement by size of the arena tensors over their lifetimes (first op writing,
    last op reading); tensors an op may overwrite in place share their input's bytes."""
    n_ops = len(model.ops)
    first, last = {}, {}
    arena = [i for i, t in enumerate(model.tensors) if t.storage == ARENA]
    for i in arena:
        first[i], last[i] = n_ops, -1
    first[model.input_index] = -1
    last[model.output_index] = n_ops
    for k, op in enumerate(model.ops):
        for t in op.inputs:
            if t in last:
                last[t] = max(last[t], k)
        first[op.output] = min(first[op.output], k)
        last[op.output] = max(last[op.output], k)
    # In place: an element-wise op whose input dies there writes over it (ADD and MUL over an
    # input of the output's shape: each output element is written after its inputs are read).
    share = {}
    for k, op in enumerate(model.ops):
        out = model.tensors[op.output]
        candidates = (op.inputs[:1] if op.code in (OP_LUT, OP_COPY, OP_ACTIVATION)
                      else op.inputs[:2] if op.code in (OP_ADD, OP_MUL) else [])
        for src in candidates:
            t = model.tensors[src]
            if (src in last and last[src] == k and src != model.input_index
                    and t.nbytes == out.nbytes and t.count == out.count):
                share[op.output] = share.get(src, src)
                break
    groups = {}
    for i in arena:
        root = share.get(i, i)
        g = groups.setdefault(root, [n_ops, -1, 0])
        g[0], g[1] = min(g[0], first[i]), max(g[1], last[i])
        g[2] = max(g[2], (model.tensors[i].nbytes + ALIGN - 1) // ALIGN * ALIGN)
    placed = []  # (offset, size, first, last)
    offsets = {}
    for root, (f, l, size) in sorted(groups.items(), key=lambda kv: (-kv[1][2], kv[1][0])):
        offset = 0
        for o, s, f2, l2 in sorted(placed):
            if f2 <= l and f <= l2 and o < offset + size and offset < o + s:
                offset = o + s
        # a second pass, since moving up can collide with an earlier-sorted block
        moved = True
        while moved:
            moved = False
            for o, s, f2, l2 in placed:
                if f2 <= l and f <= l2 and o < offset + size and offset < o + s:
                    offset, moved = o + s, True
        placed.append((offset, size, f, l))
        offsets[root] = offset
    for i in arena:
        model.tensors[i].offset = offsets[share.get(i, i)]
    return max((o + s for o, s, _, _ in placed), default=0)


# ---------------------------------------------------------------------------------------------
# Lowering a TFLite graph


def _act_range_q(act, scale, zp, name):
    """CalculateActivationRangeQuantized for int8 outputs."""
    lo, hi = -128, 127

    def q(f):
        return zp + int(fp.round_half_away(float(np.float32(f) / np.float32(scale))))

    if act == 0:
        return lo, hi
    if act == 1:
        return max(lo, q(0.0)), hi
    if act == 3:
        return max(lo, q(0.0)), min(hi, q(6.0))
    if act == 2:
        return max(lo, q(-1.0)), min(hi, q(1.0))
    raise ConversionError(f"{name}: fused activation {ACTIVATIONS.get(act, act)} is not "
                          "supported (NONE, RELU, RELU6, RELU_N1_TO_1 are)")


def _act_range_f(act, name):
    lo, hi = -np.finfo(np.float32).max, np.finfo(np.float32).max
    if act == 0:
        return lo, hi
    if act == 1:
        return 0.0, hi
    if act == 3:
        return 0.0, 6.0
    if act == 2:
        return -1.0, 1.0
    raise ConversionError(f"{name}: fused activation {ACTIVATIONS.get(act, act)} is not "
                          "supported (NONE, RELU, RELU6, RELU_N1_TO_1 are)")


def _out_size(padding, in_size, filt, stride, dilation):
    eff = (filt - 1) * dilation + 1
    if padding == 0:  # SAME
        return (in_size + stride - 1) // stride
    return (in_size + stride - eff) // stride


def _padding(stride, dilation, in_size, filt, out_size):
    eff = (filt - 1) * dilation + 1
    total = max((out_size - 1) * stride + eff - in_size, 0)
    return total // 2


class _Lowering:
    def __init__(self, g):
        self.g = g
        self.tensors = []
        self.ops = []
        self.map = {}  # tflite tensor index -> our index

    def fail(self, op, msg):
        raise ConversionError(f"operator {op.index} ({op.name}): {msg}")

    def tensor(self, ti, shape=None):
        """Our tensor for TFLite tensor ti (an activation)."""
        if ti in self.map:
            return self.map[ti]
        t = self.g.tensors[ti]
        if t.type not in FROM_TFLITE or t.type == INT32:
            raise ConversionError(f"tensor {ti} ({t.name}): type {t.type_name} is not supported "
                                  "(int8, uint8 and float32 activations are)")
        scale = float(t.scale[0]) if t.quantized else 0.0
        zp = int(t.zero_point[0]) if t.quantized else 0
        if t.quantized and len(t.scale) > 1:
            raise ConversionError(f"tensor {ti} ({t.name}): an activation with per-channel "
                                  "quantization is not supported")
        shape = tuple(t.shape) if shape is None else shape
        if len(shape) > 4 or any(d <= 0 or d > 65535 for d in shape):
            raise ConversionError(f"tensor {ti} ({t.name}): shape {shape} is not supported "
                                  "(at most 4 dimensions of 1 to 65535)")
        self.tensors.append(Tensor(t.name, FROM_TFLITE[t.type], shape, ARENA, 0, scale, zp))
        self.map[ti] = len(self.tensors) - 1
        return self.map[ti]

    def const(self, name, arr, ttype):
        arr = np.asarray(arr)
        self.tensors.append(Tensor(name, ttype, tuple(arr.shape) or (1,), CONST,
                                   data=arr.reshape(arr.shape or (1,))))
        return len(self.tensors) - 1

    def const_input(self, op, k):
        """A constant operand of an element-wise operator (MUL by 1/6, ADD of an offset), with
        its quantization."""
        t = self.weights(op, k)
        if t.type not in (INT8, FLOAT32) or len(t.shape) > 4:
            self.fail(op, f"constant input {k} of type {t.type_name} and shape {t.shape} (expected "
                          "int8 or float32, at most 4-D)")
        if t.quantized and len(t.scale) > 1:
            self.fail(op, f"constant input {k} has per-channel quantization")
        i = self.const(t.name, t.data, FROM_TFLITE[t.type])
        if t.quantized:
            self.tensors[i].scale = float(t.scale[0])
            self.tensors[i].zero_point = int(t.zero_point[0])
        return i

    def emit(self, code, inputs, output, params=(), aux=None, source="", macs=0):
        p = [int(x) for x in params] + [0] * (N_PARAMS - len(params))
        self.ops.append(Op(code, list(inputs), output, p, aux, source=source, macs=macs))

    def weights(self, op, k):
        ti = op.inputs[k]
        t = self.g.tensors[ti] if ti >= 0 else None
        if t is None or t.data is None:
            self.fail(op, f"input {k} must be a constant tensor (weights), got "
                          f"{'none' if t is None else 'a computed tensor'}")
        return t

    def run(self):
        g = self.g
        if len(g.inputs) != 1 or len(g.outputs) != 1:
            raise ConversionError(f"the model has {len(g.inputs)} inputs and {len(g.outputs)} "
                                  "outputs; microlearn runs models with one of each")
        ops = _prune(g, _fuse_pad(g, _fuse_dilated(g)))
        for op in ops:
            handler = getattr(self, "op_" + op.name.lower(), None)
            if handler is None:
                raise ConversionError(
                    f"operator {op.index}: {op.name} is not supported. Supported operators: "
                    + ", ".join(SUPPORTED))
            handler(op)
        inp, out = self.tensor(g.inputs[0]), self.tensor(g.outputs[0])
        if not any(op.output == out for op in self.ops):
            raise ConversionError("the model's output is not computed by any operator")
        return NNModel(self.tensors, self.ops, inp, out)

    # -- helpers for quantized layers -------------------------------------------------------

    def _types(self, op, x, y):
        tx, ty = self.tensors[x], self.tensors[y]
        if tx.type != ty.type or tx.type not in (T_INT8, T_FLOAT32):
            self.fail(op, f"input {T_NAMES[tx.type]} and output {T_NAMES[ty.type]}: expected "
                          "both int8 or both float32")
        return tx.type == T_INT8

    def _requant(self, op, x, y, w, n_out):
        """Per-output-channel (multiplier, shift) of input_scale * weight_scale / output_scale."""
        tx, ty = self.tensors[x], self.tensors[y]
        if w.scale is None:
            self.fail(op, "int8 weights without quantization parameters")
        ws = w.scale.astype(np.float32)
        if len(ws) == 1:
            ws = np.repeat(ws, n_out)
        if len(ws) != n_out:
            self.fail(op, f"{len(ws)} weight scales for {n_out} output channels")
        if np.any(w.zero_point != 0):
            self.fail(op, "weights with a nonzero zero point (expected symmetric int8)")
        mult, shift = zip(*(fp.quantize_multiplier(float(np.float32(tx.scale)) * float(s)
                                                   / float(np.float32(ty.scale))) for s in ws))
        return np.array(mult, np.int64), np.array(shift, np.int64)

    def _bias(self, op, k, n_out, quantized):
        if len(op.inputs) > k and op.inputs[k] >= 0:
            b = self.weights(op, k)
            data = b.data.reshape(-1)
            if len(data) != n_out:
                self.fail(op, f"bias has {len(data)} values, expected {n_out}")
            if quantized and b.type != INT32:
                self.fail(op, f"bias of type {b.type_name}, expected int32")
            if not quantized and b.type != FLOAT32:
                self.fail(op, f"bias of type {b.type_name}, expected float32")
            return data
        return np.zeros(n_out, np.int32 if quantized else np.float32)

    def _act(self, op, y, quantized):
        act = op.options.get("fused_activation_function", 0)
        name = f"operator {op.index} ({op.name})"
        if quantized:
            t = self.tensors[y]
            return _act_range_q(act, t.scale, t.zero_point, name)
        lo, hi = _act_range_f(act, name)
        return f32_bits(lo), f32_bits(hi)

    # -- operators ----------------------------------------------------------------------------

    def _conv_common(self, op, depthwise):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        q = self._types(op, x, y)
        w = self.weights(op, 1)
        tx, ty = self.tensors[x], self.tensors[y]
        if len(tx.shape) != 4 or len(w.shape) != 4 or len(ty.shape) != 4:
            self.fail(op, f"expected 4-D input, weights and output, got {tx.shape}, {w.shape}, "
                          f"{ty.shape}")
        n, ih, iw, ic = tx.shape
        if depthwise:
            _, kh, kw, oc = w.shape
            dm = op.options["depth_multiplier"] or oc // ic
            if oc != ic * dm:
                self.fail(op, f"{oc} output channels for {ic} input channels and depth "
                              f"multiplier {dm}")
        else:
            oc, kh, kw, wic = w.shape
            if wic != ic:
                self.fail(op, f"weights for {wic} input channels, input has {ic}")
        sh, sw = op.options["stride_h"], op.options["stride_w"]
        dh, dw = op.options["dilation_h_factor"], op.options["dilation_w_factor"]
        if min(sh, sw, dh, dw) < 1:
            self.fail(op, f"strides ({sh}, {sw}) and dilations ({dh}, {dw}) must be >= 1")
        pad = op.options["padding"]
        oh, ow = _out_size(pad, ih, kh, sh, dh), _out_size(pad, iw, kw, sw, dw)
        pt, pl = _padding(sh, dh, ih, kh, oh), _padding(sw, dw, iw, kw, ow)
        if "explicit_padding" in op.options:  # a fused SPACE_TO_BATCH_ND ... BATCH_TO_SPACE_ND
            pt, pl, oh, ow = op.options["explicit_padding"]
        if ty.shape != (n, oh, ow, oc):
            self.fail(op, f"output shape {ty.shape}, expected {(n, oh, ow, oc)} "
                          f"({PADDINGS.get(pad)} padding)")
        expected = (np.int8 if q else np.float32)
        if w.data.dtype != expected:
            self.fail(op, f"weights of type {w.type_name}, expected "
                          f"{'int8' if q else 'float32'}")
        bias = self._bias(op, 2, oc, q)
        wi = self.const(w.name, w.data, T_INT8 if q else T_FLOAT32)
        bi = self.const(f"{w.name}/bias", bias, T_INT32 if q else T_FLOAT32)
        lo, hi = self._act(op, y, q)
        aux = None
        if q:
            mult, shift = self._requant(op, x, y, w, oc)
            wsum = (w.data.astype(np.int64).sum(axis=(1, 2)).reshape(-1) if depthwise
                    else w.data.astype(np.int64).reshape(oc, -1).sum(axis=1))
            folded = fp.wrap32(bias.astype(np.int64) - tx.zero_point * wsum)
            aux = np.concatenate([mult, shift, folded]).astype(np.int32)
        macs = n * oh * ow * oc * kh * kw * (1 if depthwise else ic)
        self.emit(OP_DEPTHWISE_CONV_2D if depthwise else OP_CONV_2D, [x, wi, bi], y,
                  [sh, sw, dh, dw, pt, pl, lo, hi], aux, op.options.get("source", op.name), macs)

    def op_conv_2d(self, op):
        self._conv_common(op, False)

    def op_depthwise_conv_2d(self, op):
        self._conv_common(op, True)

    def op_fully_connected(self, op):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        q = self._types(op, x, y)
        w = self.weights(op, 1)
        if w.data.ndim != 2:
            self.fail(op, f"weights of shape {w.shape}, expected 2-D")
        n_out, n_in = w.shape
        tx, ty = self.tensors[x], self.tensors[y]
        if tx.count % n_in or ty.count != tx.count // n_in * n_out:
            self.fail(op, f"input {tx.shape} and output {ty.shape} do not fit weights {w.shape}")
        if op.options.get("weights_format", 0) != 0:
            self.fail(op, "shuffled weights are not supported")
        expected = (np.int8 if q else np.float32)
        if w.data.dtype != expected:
            self.fail(op, f"weights of type {w.type_name}, expected "
                          f"{'int8' if q else 'float32'}")
        bias = self._bias(op, 2, n_out, q)
        wi = self.const(w.name, w.data, T_INT8 if q else T_FLOAT32)
        bi = self.const(f"{w.name}/bias", bias, T_INT32 if q else T_FLOAT32)
        lo, hi = self._act(op, y, q)
        aux = None
        if q:
            mult, shift = self._requant(op, x, y, w, n_out)
            if np.any(shift > 30):
                self.fail(op, "a requantization multiplier above 2**30 is not supported")
            folded = fp.wrap32(bias.astype(np.int64)
                               - tx.zero_point * w.data.astype(np.int64).sum(axis=1))
            aux = np.concatenate([mult, shift, folded]).astype(np.int32)
        self.emit(OP_FULLY_CONNECTED, [x, wi, bi], y, [0, 0, 0, 0, 0, 0, lo, hi], aux,
                  op.name, tx.count // n_in * n_in * n_out)

    def _pool(self, op, code):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        q = self._types(op, x, y)
        tx, ty = self.tensors[x], self.tensors[y]
        if len(tx.shape) != 4:
            self.fail(op, f"expected a 4-D input, got {tx.shape}")
        if q and (tx.scale != ty.scale or tx.zero_point != ty.zero_point):
            self.fail(op, "input and output quantization differ")
        n, ih, iw, c = tx.shape
        sh, sw = op.options["stride_h"], op.options["stride_w"]
        fh, fw = op.options["filter_height"], op.options["filter_width"]
        if min(sh, sw, fh, fw) < 1:
            self.fail(op, f"strides ({sh}, {sw}) and filter ({fh}, {fw}) must be >= 1")
        pad = op.options["padding"]
        oh, ow = _out_size(pad, ih, fh, sh, 1), _out_size(pad, iw, fw, sw, 1)
        if ty.shape != (n, oh, ow, c):
            self.fail(op, f"output shape {ty.shape}, expected {(n, oh, ow, c)}")
        pt, pl = _padding(sh, 1, ih, fh, oh), _padding(sw, 1, iw, fw, ow)
        lo, hi = self._act(op, y, q)
        self.emit(code, [x], y, [sh, sw, fh, fw, pt, pl, lo, hi], None, op.name,
                  n * oh * ow * c * fh * fw)

    def op_max_pool_2d(self, op):
        self._pool(op, OP_MAX_POOL_2D)

    def op_average_pool_2d(self, op):
        self._pool(op, OP_AVERAGE_POOL_2D)

    def op_mean(self, op):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        q = self._types(op, x, y)
        tx, ty = self.tensors[x], self.tensors[y]
        raw_axis = [int(a) for a in self.weights(op, 1).data.reshape(-1)]
        axis = sorted({a % len(tx.shape) for a in raw_axis})
        if len(tx.shape) == 3 and axis == [1]:
            # GlobalAveragePooling1D: (n, length, c) seen as (n, length, 1, c), shared bytes
            t4 = Tensor(tx.name + "/4d", tx.type, (tx.shape[0], tx.shape[1], 1, tx.shape[2]),
                        ARENA, 0, tx.scale, tx.zero_point)
            self.tensors.append(t4)
            self.emit(OP_COPY, [x], len(self.tensors) - 1, [], None, "(as 4-D)")
            x, tx, axis = len(self.tensors) - 1, t4, [1, 2]
        if len(tx.shape) != 4 or axis != [1, 2]:
            self.fail(op, f"only the mean over the spatial axes (global average pooling) is "
                          f"supported, got axes {raw_axis} of shape {tx.shape}")
        n, h, w, c = tx.shape
        if ty.count != n * c:
            self.fail(op, f"output shape {ty.shape}, expected {n * c} values")
        count = h * w
        params = [count]
        if q:
            mult, shift = fp.quantize_multiplier(float(np.float32(tx.scale))
                                                 / float(np.float32(ty.scale)))
            s = 63 - (64 - int(count).bit_length())
            s = min(s, 32, 31 + shift)
            mult = int((mult << s) // count)
            shift = shift - s
            params = [count, mult, shift]
        self.emit(OP_MEAN, [x], y, params, None, op.name, n * h * w * c)

    def _alias(self, op):
        """RESHAPE, SQUEEZE: the output is the input's bytes with another shape (a copy only
        when the input is the model's input, which the caller owns)."""
        x = self.tensor(op.inputs[0])
        t = self.g.tensors[op.outputs[0]]
        tx = self.tensors[x]
        if int(np.prod(t.shape)) != tx.count:
            self.fail(op, f"{tx.count} values reshaped to {t.shape}")
        y = self.tensor(op.outputs[0])
        self.emit(OP_COPY, [x], y, [], None, op.name)

    op_reshape = _alias
    op_squeeze = _alias
    op_expand_dims = _alias

    def op_softmax(self, op):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        q = self._types(op, x, y)
        tx, ty = self.tensors[x], self.tensors[y]
        beta = float(np.float32(op.options["beta"]))
        depth = tx.shape[-1]
        if q:
            if ty.zero_point != -128 or abs(ty.scale - 1 / 256) > 1e-3 / 256:
                self.fail(op, "int8 output must have scale 1/256 and zero point -128")
            mult, shift = fp.quantize_multiplier(
                min(beta * float(np.float32(tx.scale)) * (1 << 26), (1 << 31) - 1.0))
            diff_min = -fp.input_radius(5, shift)
            self.emit(OP_SOFTMAX, [x], y, [depth, mult, shift, diff_min], None, op.name)
        else:
            self.emit(OP_SOFTMAX, [x], y, [depth, f32_bits(beta)], None, op.name)

    def op_quantize(self, op):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        tx, ty = self.tensors[x], self.tensors[y]
        if ty.type != T_INT8:
            self.fail(op, f"output of type {T_NAMES[ty.type]}, expected int8")
        if tx.type == T_FLOAT32:
            # real / scale in double, as TFLite's reference (scale kept as float32 bits and
            # the quotient computed on the device).
            self.emit(OP_QUANTIZE, [x], y, [f32_bits(ty.scale), ty.zero_point], None, op.name)
            return
        lut = kernels.requantize_lut(tx, ty)
        self.emit(OP_LUT, [x], y, [], lut, op.name)

    def op_dequantize(self, op):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        tx, ty = self.tensors[x], self.tensors[y]
        if tx.type != T_INT8 or ty.type != T_FLOAT32:
            self.fail(op, f"{T_NAMES[tx.type]} to {T_NAMES[ty.type]}: only int8 to float32 "
                          "is supported")
        self.emit(OP_DEQUANTIZE, [x], y, [f32_bits(tx.scale), tx.zero_point], None, op.name)

    def _unary(self, op, kind, **kw):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        q = self._types(op, x, y)
        if self.tensors[x].count != self.tensors[y].count:
            self.fail(op, f"input {self.tensors[x].shape} and output {self.tensors[y].shape} "
                          "differ in size")
        if not q:
            alpha = f32_bits(kw.get("alpha", 0.0))
            self.emit(OP_ACTIVATION, [x], y, [ACT_KINDS[kind], alpha], None, op.name)
            return
        try:
            lut = kernels.activation_lut(kind, self.tensors[x], self.tensors[y], **kw)
        except ValueError as e:
            self.fail(op, str(e))
        self.emit(OP_LUT, [x], y, [], lut, op.name)

    def op_logistic(self, op):
        self._unary(op, "logistic")

    def op_tanh(self, op):
        self._unary(op, "tanh")

    def op_relu(self, op):
        self._unary(op, "relu")

    def op_relu6(self, op):
        self._unary(op, "relu6")

    def op_leaky_relu(self, op):
        self._unary(op, "leaky_relu", alpha=op.options["alpha"])

    def op_hard_swish(self, op):
        self._unary(op, "hard_swish")

    def _binary(self, op, code):
        """ADD, MUL: two operands broadcast numpy-style; a constant operand goes second."""
        if len(op.inputs) != 2:
            self.fail(op, f"{len(op.inputs)} inputs, expected 2")
        first, second = op.inputs
        if self.g.tensors[first].data is not None:
            first, second = second, first  # both operators commute
        if self.g.tensors[first].data is not None:
            self.fail(op, "both inputs are constants")
        a = self.tensor(first)
        b = self.const_input(op, 1 if second == op.inputs[1] else 0) \
            if self.g.tensors[second].data is not None else self.tensor(second)
        y = self.tensor(op.outputs[0])
        ta, tb, ty = self.tensors[a], self.tensors[b], self.tensors[y]
        if not (ta.type == tb.type == ty.type) or ty.type not in (T_INT8, T_FLOAT32):
            self.fail(op, f"inputs {T_NAMES[ta.type]} and {T_NAMES[tb.type]}, output "
                          f"{T_NAMES[ty.type]}: expected all int8 or all float32")
        try:
            shape = np.broadcast_shapes(ta.shape, tb.shape)
        except ValueError:
            shape = None
        if shape is None or tuple(shape) != tuple(ty.shape) or len(ty.shape) > 4:
            self.fail(op, f"inputs {ta.shape} and {tb.shape} do not broadcast to the output "
                          f"{ty.shape}")
        q = ty.type == T_INT8
        lo, hi = self._act(op, y, q)
        params = [0] * 6
        if q:
            s1, s2, so = (np.float32(t.scale) for t in (ta, tb, ty))
            if code == OP_ADD:
                twice_max = float(np.float32(2) * max(s1, s2))  # float in TFLite, then double
                real_out = twice_max / float(np.float32(1 << ADD_LEFT_SHIFT) * so)
                params = []
                for real in (float(s1) / twice_max, float(s2) / twice_max, real_out):
                    params += fp.quantize_multiplier(real)
                if params[5] > 0:
                    self.fail(op, f"output scale {float(so):g} is too small for the inputs' "
                                  "scales (TFLite requires a rescaling below 1)")
            else:
                params = list(fp.quantize_multiplier(float(np.float32(s1 * s2) / so))) + [0] * 4
        n = ty.count
        self.emit(code, [a, b], y, params + [lo, hi], None, op.name, n if code == OP_MUL else 0)

    def op_add(self, op):
        self._binary(op, OP_ADD)

    def op_mul(self, op):
        self._binary(op, OP_MUL)

    def op_concatenation(self, op):
        """One operator per input, each copying its rows into its columns of the output."""
        y = self.tensor(op.outputs[0])
        ty = self.tensors[y]
        if op.options.get("fused_activation_function", 0) != 0:
            self.fail(op, "a fused activation is not supported")
        axis = op.options["axis"]
        nd = len(ty.shape)
        if not -nd <= axis < nd:
            self.fail(op, f"axis {axis} of a {nd}-D output")
        axis %= nd
        offset = 0
        out_row = int(np.prod(ty.shape[axis:]))
        parts = []
        for ti in op.inputs:
            if self.g.tensors[ti].data is not None:
                self.fail(op, "a constant input is not supported")
            x = self.tensor(ti)
            tx = self.tensors[x]
            if tx.type != ty.type or (ty.type != T_FLOAT32 and (
                    np.float32(tx.scale) != np.float32(ty.scale)
                    or tx.zero_point != ty.zero_point)):
                self.fail(op, "the inputs must have the output's type and quantization (as "
                              "TFLite requires for int8)")
            if (len(tx.shape) != nd or tx.shape[:axis] != ty.shape[:axis]
                    or tx.shape[axis + 1:] != ty.shape[axis + 1:]):
                self.fail(op, f"input {tx.shape} does not fit output {ty.shape} on axis {axis}")
            in_row = int(np.prod(tx.shape[axis:]))
            parts.append((x, [tx.count // in_row, in_row, out_row, offset]))
            offset += in_row
        if offset != out_row:
            self.fail(op, f"the inputs make {offset} values per row, the output has {out_row}")
        for x, params in parts:
            self.emit(OP_CONCATENATION, [x], y, params, None, op.name)

    def op_pad(self, op):
        x, y = self.tensor(op.inputs[0]), self.tensor(op.outputs[0])
        tx, ty = self.tensors[x], self.tensors[y]
        if tx.type != ty.type or ty.type not in (T_INT8, T_FLOAT32):
            self.fail(op, f"input {T_NAMES[tx.type]} and output {T_NAMES[ty.type]}: expected "
                          "both int8 or both float32")
        pads = np.asarray(self.weights(op, 1).data, np.int64).reshape(-1, 2)
        if len(pads) != len(tx.shape) or np.any(pads < 0):
            self.fail(op, f"paddings {pads.tolist()} for a {len(tx.shape)}-D input")
        pads = [[0, 0]] * (4 - len(pads)) + pads.tolist()
        x4 = (1,) * (4 - len(tx.shape)) + tuple(tx.shape)
        y4 = (1,) * (4 - len(ty.shape)) + tuple(ty.shape)
        if len(ty.shape) != len(tx.shape) or any(
                a + b + n != m for (a, b), n, m in zip(pads, x4, y4)):
            self.fail(op, f"input {tx.shape} padded by {pads} is not the output {ty.shape}")
        self.emit(OP_PAD, [x], y, [v for ab in pads for v in ab], None, op.name)


def _fuse_dilated(g):
    """TensorFlow writes a dilated convolution as SPACE_TO_BATCH_ND, a VALID convolution and
    BATCH_TO_SPACE_ND: the three are one convolution with that dilation, stride 1, and padding
    (block padding - crop) at the top and left, the padded pixels holding the zero point."""
    import copy

    consumers = {}
    for op in g.ops:
        for t in op.inputs:
            consumers.setdefault(t, []).append(op)
    out, skip = [], set()
    for op in g.ops:
        if op.index in skip:
            continue
        nxt = consumers.get(op.outputs[0], []) if op.outputs else []
        if op.name == "SPACE_TO_BATCH_ND" and len(nxt) == 1 \
                and nxt[0].name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            conv = nxt[0]
            after = consumers.get(conv.outputs[0], [])
            block = g.tensors[op.inputs[1]].data
            pads = g.tensors[op.inputs[2]].data
            if (len(after) == 1 and after[0].name == "BATCH_TO_SPACE_ND" and block is not None
                    and pads is not None and conv.options.get("padding") == 1
                    and conv.options.get("stride_h") == 1 and conv.options.get("stride_w") == 1):
                b2s = after[0]
                crops = g.tensors[b2s.inputs[2]].data
                bblock = g.tensors[b2s.inputs[1]].data
                if crops is not None and bblock is not None and list(bblock) == list(block):
                    fused = copy.deepcopy(conv)
                    fused.inputs = [op.inputs[0]] + conv.inputs[1:]
                    fused.outputs = list(b2s.outputs)
                    dh, dw = int(block[0]), int(block[1])
                    fused.options["dilation_h_factor"] = dh
                    fused.options["dilation_w_factor"] = dw
                    y = g.tensors[b2s.outputs[0]]
                    fused.options["explicit_padding"] = (
                        int(pads[0][0]) - int(crops[0][0]), int(pads[1][0]) - int(crops[1][0]),
                        y.shape[1], y.shape[2])
                    out.append(fused)
                    skip.update((conv.index, b2s.index))
                    continue
        out.append(op)
    return out


def _fuse_pad(g, ops):
    """A PAD whose only reader is a convolution becomes that convolution's padding (Keras'
    ZeroPadding2D before a VALID convolution): padded pixels hold the zero point, which adds
    nothing to a quantized or float sum, exactly as the skipped pixels of SAME padding."""
    import copy

    readers = {}
    for op in ops:
        for t in op.inputs:
            readers.setdefault(t, []).append(op)
    out, fused_pads = [], {}
    for op in ops:
        if op.name == "PAD" and len(op.inputs) == 2 and op.outputs[0] not in g.outputs:
            r = readers.get(op.outputs[0], [])
            tx, ty = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
            pads = g.tensors[op.inputs[1]].data
            same_q = (tx.quantized == ty.quantized and (not tx.quantized or (
                np.array_equal(tx.scale, ty.scale) and np.array_equal(tx.zero_point,
                                                                      ty.zero_point))))
            if (len(r) == 1 and r[0].name in ("CONV_2D", "DEPTHWISE_CONV_2D")
                    and r[0].inputs[0] == op.outputs[0] and pads is not None
                    and np.asarray(pads).shape == (4, 2) and len(ty.shape) == 4
                    and not np.any(np.asarray(pads)[[0, 3]]) and np.all(np.asarray(pads) >= 0)
                    and "explicit_padding" not in r[0].options and same_q):
                fused_pads[r[0].index] = (op, np.asarray(pads, np.int64))
                continue
        if op.index in fused_pads:
            pad_op, pads = fused_pads[op.index]
            _, kh, kw, _ = g.tensors[op.inputs[1]].shape
            _, ph, pw, _ = g.tensors[pad_op.outputs[0]].shape
            o = op.options
            oh = _out_size(o["padding"], ph, kh, o["stride_h"], o["dilation_h_factor"])
            ow = _out_size(o["padding"], pw, kw, o["stride_w"], o["dilation_w_factor"])
            pt = int(pads[1][0]) + _padding(o["stride_h"], o["dilation_h_factor"], ph, kh, oh)
            pl = int(pads[2][0]) + _padding(o["stride_w"], o["dilation_w_factor"], pw, kw, ow)
            if max(pt, pl) <= 255:
                fused = copy.deepcopy(op)
                fused.inputs = [pad_op.inputs[0]] + op.inputs[1:]
                fused.options["explicit_padding"] = (pt, pl, oh, ow)
                fused.options["source"] = "PAD+" + op.name
                out.append(fused)
                continue
            out.append(pad_op)  # too much padding for the device's convolution: keep the PAD
        out.append(op)
    return out


def _prune(g, ops):
    """Drops the operators the output does not depend on through data: Keras' Flatten computes
    its new shape with SHAPE, STRIDED_SLICE and PACK, while the shape is known statically."""
    needed = set(g.outputs)
    keep = []
    for op in reversed(ops):
        if not any(t in needed for t in op.outputs):
            continue
        keep.append(op)
        data_inputs = op.inputs[:1] if op.name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS") \
            else op.inputs
        needed.update(t for t in data_inputs if t >= 0)
    return keep[::-1]


def lower(graph):
    return _Lowering(graph).run()
