// Neural networks (int8 with TensorFlow Lite's quantization arithmetic, and float32): a graph
// of operators run in a fixed order over one activation arena. The model file is a binary
// container (ml_blob.h) of kind ML_BLOB_KIND_NN, used in place: weights and parameters are
// read where they lie (flash or RAM); the only RAM a model needs is its arena, whose size the
// file states (the host planned it from the tensors' lifetimes).
//
//   ml_nn_t m;
//   ml_nn_open(&m, file, len, &err);             // validates everything once
//   ml_nn_set_arena(&m, arena);                  // ml_nn_arena_size(&m) bytes, 4-aligned
//   memcpy(ml_nn_input(&m), x, ml_nn_tensor_bytes(ml_nn_input_tensor(&m)));
//   ml_nn_run(&m, &err);
//   ml_nn_output(&m) ... the output tensor's bytes in the arena
//
// The sections (docs/nn.md): 'head' (ml_nn_header_t), 'tens' (ml_nn_tensor_t per tensor),
// 'ops ' (ml_nn_op_t per operator, in run order), 'data' (constants: weights, biases,
// per-channel multipliers and shifts, lookup tables), and optionally 'labl' (int32 per output:
// the class labels of a converted scikit-learn classifier). Opening checks every tensor against the
// arena and the data, and every operator against its tensors' shapes, so that running can
// neither read nor write out of bounds whatever the file holds.
#ifndef MICROLEARN_ML_NN_H
#define MICROLEARN_ML_NN_H

#include <stddef.h>
#include <stdint.h>

#include "ml_blob.h"
#include "ml_error.h"

#define ML_NN_FORMAT_VERSION (1)

// Tensor types.
enum { ML_NN_INT8 = 1, ML_NN_UINT8 = 2, ML_NN_INT32 = 3, ML_NN_FLOAT32 = 4 };
// Where a tensor lives.
enum { ML_NN_ARENA = 0, ML_NN_CONST = 1 };

// Operators. params[] of each (int32; floats stored as their bits):
//   CONV_2D, DEPTHWISE_CONV_2D: stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left,
//     act_min, act_max. Inputs x, weights (CONV: out_c kh kw in_c; DEPTHWISE: 1 kh kw out_c),
//     bias. int8: aux = multiplier[out_c], shift[out_c], bias - x_zero_point * sum(weights).
//   FULLY_CONNECTED: params[6..7] act_min, act_max; weights (n_out, n_in); aux as CONV_2D.
//   MAX_POOL_2D, AVERAGE_POOL_2D: stride_h, stride_w, filter_h, filter_w, pad_top, pad_left,
//     act_min, act_max.
//   MEAN (over height and width of n h w c): count (h * w); int8: multiplier, shift.
//   SOFTMAX (over the last axis): depth; int8: input multiplier, input left shift, diff_min;
//     float32: beta.
//   COPY: the input's bytes to the output (RESHAPE; a no-op when the arena shares them).
//   QUANTIZE (float32 to int8): scale, zero point.  DEQUANTIZE (int8 to float32): same.
//   LUT (8-bit to int8 through a 256-byte table in aux, indexed by the input byte): the
//     quantized activations (LOGISTIC, TANH, RELU, RELU6, LEAKY_RELU, HARD_SWISH) and
//     requantization.
//   ADD, MUL (two inputs broadcast to the output's shape, numpy style; the second may be a
//     constant): int8 ADD: multiplier, shift of input 1, of input 2, of the sum, act_min,
//     act_max (inputs scaled by 2**20 first); int8 MUL: multiplier, shift, 0 x 4, act_min,
//     act_max; float32: params[6..7] act_min, act_max.
//   CONCATENATION (one input into its place in the output; one operator per input): outer
//     (rows), the input's row and the output's row in elements, the offset in the output's row.
//   PAD (4-D, the shapes aligned at the right): before and after of each axis; padded with the
//     output's zero point (int8) or 0.
//   ACTIVATION (float32, element-wise): kind (ML_NN_ACT_*), alpha (LEAKY_RELU).
enum {
    ML_NN_OP_CONV_2D = 1,
    ML_NN_OP_DEPTHWISE_CONV_2D = 2,
    ML_NN_OP_FULLY_CONNECTED = 3,
    ML_NN_OP_MAX_POOL_2D = 4,
    ML_NN_OP_AVERAGE_POOL_2D = 5,
    ML_NN_OP_MEAN = 6,
    ML_NN_OP_SOFTMAX = 7,
    ML_NN_OP_COPY = 8,
    ML_NN_OP_QUANTIZE = 9,
    ML_NN_OP_DEQUANTIZE = 10,
    ML_NN_OP_LUT = 11,
    ML_NN_OP_ADD = 12,
    ML_NN_OP_MUL = 13,
    ML_NN_OP_CONCATENATION = 14,
    ML_NN_OP_PAD = 15,
    ML_NN_OP_ACTIVATION = 16,
    ML_NN_OP_COUNT = 17,
};

// Kinds of the float32 ACTIVATION operator (params[0]).
enum {
    ML_NN_ACT_RELU = 1,
    ML_NN_ACT_RELU6 = 2,
    ML_NN_ACT_LEAKY_RELU = 3,
    ML_NN_ACT_LOGISTIC = 4,
    ML_NN_ACT_TANH = 5,
    ML_NN_ACT_HARD_SWISH = 6,
    ML_NN_ACT_COUNT = 7,
};

// ADD scales both int8 inputs by 2**20 before rescaling them (TFLite's left shift for 8 bits).
#define ML_NN_ADD_LEFT_SHIFT (20)

#define ML_NN_NO_TENSOR (0xffff)
#define ML_NN_NO_AUX (0xffffffffu)
#define ML_NN_MAX_GEOMETRY (255)  // strides, dilations, paddings, pooling filters

typedef struct {
    uint32_t arena_size;
    uint16_t n_tensors;
    uint16_t n_ops;
    uint16_t input;   // tensor index
    uint16_t output;  // tensor index
    uint16_t reserved[2];
} ml_nn_header_t;

typedef struct {
    uint8_t type;     // ML_NN_INT8 ...
    uint8_t ndim;     // 1 to 4
    uint8_t storage;  // ML_NN_ARENA or ML_NN_CONST
    uint8_t reserved;
    uint32_t offset;  // bytes into the arena or the 'data' section
    uint32_t count;   // elements, the product of dims
    uint16_t dims[4];
    float scale;      // int8: real = scale * (q - zero_point)
    int32_t zero_point;
    uint32_t reserved2;
} ml_nn_tensor_t;

typedef struct {
    uint8_t code;     // ML_NN_OP_*
    uint8_t n_inputs;
    uint8_t reserved[2];
    uint16_t inputs[3];
    uint16_t output;
    int32_t params[8];
    uint32_t aux;     // offset in 'data' of the operator's arrays, or ML_NN_NO_AUX
} ml_nn_op_t;

typedef struct {
    const ml_nn_header_t *h;
    const ml_nn_tensor_t *tensors;
    const ml_nn_op_t *ops;
    const uint8_t *data;
    uint32_t data_size;
    const int32_t *labels;  // optional 'labl': a label per output (a classifier's classes)
    uint32_t n_labels;      // 0, or the output's count
    uint8_t *arena;
} ml_nn_t;

// Opens the model file data[len] (4-byte aligned, kept alive and unchanged while in use).
ml_status_t ml_nn_open(ml_nn_t *m, const void *data, size_t len, ml_error_t *err);

static inline uint32_t ml_nn_arena_size(const ml_nn_t *m) {
    return m->h->arena_size;
}
// The arena: ml_nn_arena_size bytes, 4-byte aligned, owned by the caller.
static inline void ml_nn_set_arena(ml_nn_t *m, void *arena) {
    m->arena = arena;
}

static inline const ml_nn_tensor_t *ml_nn_input_tensor(const ml_nn_t *m) {
    return &m->tensors[m->h->input];
}
static inline const ml_nn_tensor_t *ml_nn_output_tensor(const ml_nn_t *m) {
    return &m->tensors[m->h->output];
}
uint32_t ml_nn_tensor_bytes(const ml_nn_tensor_t *t);
static inline void *ml_nn_input(const ml_nn_t *m) {
    return m->arena + ml_nn_input_tensor(m)->offset;
}
static inline const void *ml_nn_output(const ml_nn_t *m) {
    return m->arena + ml_nn_output_tensor(m)->offset;
}

// Runs the operators; the input must be in place (ml_nn_input). Allocates nothing.
ml_status_t ml_nn_run(ml_nn_t *m, ml_error_t *err);

// Element-wise conversions with a tensor's scale and zero point, as TFLite's QUANTIZE
// (round(x / scale) + zero_point, clamped to int8) and DEQUANTIZE.
void ml_nn_quantize(const float *x, int8_t *q, size_t n, float scale, int32_t zero_point);
void ml_nn_dequantize(const int8_t *q, float *x, size_t n, float scale, int32_t zero_point);

#endif
