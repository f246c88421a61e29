"""Reads a .tflite file (a FlatBuffer of TFLite's schema.fbs) into plain Python objects: the
tensors, operators with their options, and constant buffers of the first subgraph. Only the
part of the schema microlearn uses is read; the field numbers are those of schema.fbs.

    g = tflite.read(open("model.tflite", "rb").read())
    g.ops[0].name, g.ops[0].inputs, g.ops[0].options["stride_w"], g.tensors[3].scale
"""

import struct
from dataclasses import dataclass, field

import numpy as np

# BuiltinOperator codes (schema.fbs) for the operators microlearn reads, and a few common
# others so that a refusal can name them.
OPS = {
    0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D", 4: "DEPTHWISE_CONV_2D",
    5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 8: "FLOOR", 9: "FULLY_CONNECTED",
    11: "L2_NORMALIZATION", 12: "L2_POOL_2D", 14: "LOGISTIC", 16: "LSTM", 17: "MAX_POOL_2D",
    18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6", 22: "RESHAPE",
    23: "RESIZE_BILINEAR", 24: "RNN", 25: "SOFTMAX", 28: "TANH", 32: "CUSTOM", 34: "PAD",
    36: "GATHER", 37: "BATCH_TO_SPACE_ND", 38: "SPACE_TO_BATCH_ND", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV", 43: "SQUEEZE",
    44: "UNIDIRECTIONAL_SEQUENCE_LSTM", 45: "STRIDED_SLICE", 47: "EXP", 49: "SPLIT",
    50: "LOG_SOFTMAX", 53: "CAST", 54: "PRELU", 55: "MAXIMUM", 56: "ARG_MAX", 57: "MINIMUM",
    60: "PADV2", 65: "SLICE", 67: "TRANSPOSE_CONV", 70: "EXPAND_DIMS", 74: "SUM",
    82: "REDUCE_MAX", 83: "PACK", 88: "UNPACK", 97: "RESIZE_NEAREST_NEIGHBOR",
    98: "LEAKY_RELU", 100: "MIRROR_PAD", 102: "SPLIT_V", 111: "ELU", 114: "QUANTIZE",
    117: "HARD_SWISH", 126: "BATCH_MATMUL", 150: "GELU",
}

# TensorType
FLOAT32, INT32, UINT8, INT64, INT16, INT8 = 0, 2, 3, 4, 7, 9
DTYPES = {FLOAT32: np.float32, INT32: np.int32, UINT8: np.uint8, INT64: np.int64,
          INT16: np.int16, INT8: np.int8, 1: np.float16, 6: np.bool_}
TYPE_NAMES = {FLOAT32: "float32", 1: "float16", INT32: "int32", UINT8: "uint8", INT64: "int64",
              5: "string", 6: "bool", INT16: "int16", INT8: "int8"}
ACTIVATIONS = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
PADDINGS = {0: "SAME", 1: "VALID"}

# Options tables: (field name, slot, kind, default), kinds: i32 u8 f32 bool ivec.
_CONV = [("padding", 0, "u8", 0), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
         ("fused_activation_function", 3, "u8", 0), ("dilation_w_factor", 4, "i32", 1),
         ("dilation_h_factor", 5, "i32", 1)]
_DEPTHWISE = [("padding", 0, "u8", 0), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
              ("depth_multiplier", 3, "i32", 0), ("fused_activation_function", 4, "u8", 0),
              ("dilation_w_factor", 5, "i32", 1), ("dilation_h_factor", 6, "i32", 1)]
_POOL = [("padding", 0, "u8", 0), ("stride_w", 1, "i32", 0), ("stride_h", 2, "i32", 0),
         ("filter_width", 3, "i32", 0), ("filter_height", 4, "i32", 0),
         ("fused_activation_function", 5, "u8", 0)]
_FC = [("fused_activation_function", 0, "u8", 0), ("weights_format", 1, "u8", 0),
       ("keep_num_dims", 2, "bool", False), ("asymmetric_quantize_inputs", 3, "bool", False)]
_ACT = [("fused_activation_function", 0, "u8", 0)]
OPTIONS = {
    "CONV_2D": _CONV, "DEPTHWISE_CONV_2D": _DEPTHWISE, "AVERAGE_POOL_2D": _POOL,
    "MAX_POOL_2D": _POOL, "FULLY_CONNECTED": _FC, "SOFTMAX": [("beta", 0, "f32", 0.0)],
    "CONCATENATION": [("axis", 0, "i32", 0), ("fused_activation_function", 1, "u8", 0)],
    "ADD": _ACT, "MUL": _ACT, "SUB": _ACT, "RESHAPE": [("new_shape", 0, "ivec", None)],
    "MEAN": [("keep_dims", 0, "bool", False)], "SUM": [("keep_dims", 0, "bool", False)],
    "LEAKY_RELU": [("alpha", 0, "f32", 0.0)], "SQUEEZE": [("squeeze_dims", 0, "ivec", None)],
}


class FormatError(ValueError):
    pass


class _Table:
    """A FlatBuffer table at position pos of buf."""

    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from("<i", buf, pos)[0]
        self.vt, self.vt_len = vt, struct.unpack_from("<H", buf, vt)[0]

    def _field(self, slot):
        off = 4 + 2 * slot
        if off + 2 > self.vt_len:
            return 0
        return struct.unpack_from("<H", self.buf, self.vt + off)[0]

    def scalar(self, slot, fmt, default=0):
        o = self._field(slot)
        return struct.unpack_from("<" + fmt, self.buf, self.pos + o)[0] if o else default

    def _indirect(self, slot):
        o = self._field(slot)
        if not o:
            return None
        p = self.pos + o
        return p + struct.unpack_from("<I", self.buf, p)[0]

    def table(self, slot):
        p = self._indirect(slot)
        return None if p is None else _Table(self.buf, p)

    def vector(self, slot, fmt):
        """A vector of scalars as a numpy array (fmt: a numpy dtype), or None."""
        p = self._indirect(slot)
        if p is None:
            return None
        n = struct.unpack_from("<I", self.buf, p)[0]
        return np.frombuffer(self.buf, np.dtype(fmt).newbyteorder("<"), n, p + 4)

    def tables(self, slot):
        p = self._indirect(slot)
        if p is None:
            return []
        n = struct.unpack_from("<I", self.buf, p)[0]
        return [_Table(self.buf, p + 4 + 4 * i + struct.unpack_from("<I", self.buf, p + 4 + 4 * i)[0])
                for i in range(n)]

    def string(self, slot):
        p = self._indirect(slot)
        if p is None:
            return ""
        n = struct.unpack_from("<I", self.buf, p)[0]
        return bytes(self.buf[p + 4:p + 4 + n]).decode("utf-8", "replace")


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    type: int  # TensorType
    data: np.ndarray = None  # constant data, or None for activations
    scale: np.ndarray = None  # quantization scales (one per tensor, or per channel)
    zero_point: np.ndarray = None
    quantized_dimension: int = 0

    @property
    def dtype(self):
        return DTYPES.get(self.type)

    @property
    def type_name(self):
        return TYPE_NAMES.get(self.type, f"type {self.type}")

    @property
    def quantized(self):
        return self.scale is not None and len(self.scale) > 0


@dataclass
class Op:
    index: int
    name: str  # BuiltinOperator name, e.g. "CONV_2D"
    inputs: list  # tensor indices (-1 for an omitted optional input)
    outputs: list
    options: dict = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list
    ops: list
    inputs: list
    outputs: list


def read(data):
    """The first subgraph of a .tflite file (bytes)."""
    buf = bytes(data)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise FormatError("not a TensorFlow Lite model (expected the identifier 'TFL3' at "
                          "byte 4)")
    try:
        return _read(buf)
    except (struct.error, ValueError, IndexError) as e:
        if isinstance(e, FormatError):
            raise
        raise FormatError(f"the .tflite file is malformed: {e}") from None


def _read(buf):
    model = _Table(buf, struct.unpack_from("<I", buf, 0)[0])
    codes = []
    for oc in model.tables(1):
        # builtin_code (slot 3) superseded the byte-wide deprecated_builtin_code (slot 0).
        codes.append(max(oc.scalar(0, "b", 0), oc.scalar(3, "i", 0)))
    buffers = []
    for b in model.tables(4):
        d = b.vector(0, "u1")
        off, size = b.scalar(1, "Q", 0), b.scalar(2, "Q", 0)
        if (d is None or not len(d)) and off > 1:
            d = np.frombuffer(buf, np.uint8, size, off)
        buffers.append(d)
    subgraphs = model.tables(2)
    if not subgraphs:
        raise FormatError("the model has no subgraph")
    sg = subgraphs[0]
    tensors = []
    for i, t in enumerate(sg.tables(0)):
        shape = t.vector(0, "i4")
        ttype = t.scalar(1, "b", 0)
        bidx = t.scalar(2, "I", 0)
        tensor = Tensor(i, t.string(3), tuple(int(x) for x in (shape if shape is not None else [])),
                        ttype)
        raw = buffers[bidx] if 0 < bidx < len(buffers) else None
        if raw is not None and len(raw):
            dtype = DTYPES.get(ttype)
            if dtype is None:
                tensor.data = raw
            else:
                tensor.data = np.frombuffer(raw.tobytes(), np.dtype(dtype).newbyteorder("<")) \
                    .reshape(tensor.shape).astype(dtype)
        q = t.table(4)
        if q is not None:
            scale = q.vector(2, "f4")
            if scale is not None and len(scale):
                tensor.scale = scale.astype(np.float32)
                zp = q.vector(3, "i8")
                tensor.zero_point = (zp if zp is not None else np.zeros(len(scale))).astype(np.int64)
                tensor.quantized_dimension = q.scalar(6, "i", 0)
        tensors.append(tensor)
    ops = []
    for i, o in enumerate(sg.tables(3)):
        ci = o.scalar(0, "I", 0)
        code = codes[ci] if ci < len(codes) else -1
        name = OPS.get(code, f"BUILTIN_{code}")
        ins = [int(x) for x in (o.vector(1, "i4") if o.vector(1, "i4") is not None else [])]
        outs = [int(x) for x in (o.vector(2, "i4") if o.vector(2, "i4") is not None else [])]
        op = Op(i, name, ins, outs)
        opt = o.table(4)
        for fname, slot, kind, default in OPTIONS.get(name, []):
            if opt is None:
                op.options[fname] = default
            elif kind == "i32":
                op.options[fname] = opt.scalar(slot, "i", default)
            elif kind == "u8":
                op.options[fname] = opt.scalar(slot, "B", default)
            elif kind == "bool":
                op.options[fname] = bool(opt.scalar(slot, "B", default))
            elif kind == "f32":
                op.options[fname] = opt.scalar(slot, "f", default)
            else:
                v = opt.vector(slot, "i4")
                op.options[fname] = None if v is None else [int(x) for x in v]
        ops.append(op)
    ins = sg.vector(1, "i4")
    outs = sg.vector(2, "i4")
    return Graph(tensors, ops, [int(x) for x in ins], [int(x) for x in outs])
