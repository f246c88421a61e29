// The operators of ml_nn (internal): each runs one ml_nn_op_t that ml_nn_open validated.
#ifndef MICROLEARN_ML_NN_OPS_H
#define MICROLEARN_ML_NN_OPS_H

#include "ml_nn.h"

void ml_nn_run_op(ml_nn_t *m, const ml_nn_op_t *op);

// TFLite's fixed-point helpers, exposed for the C tests.
int32_t ml_nn_requantize(int32_t acc, int32_t multiplier, int32_t shift);
int32_t ml_nn_requantize_single(int32_t acc, int32_t multiplier, int32_t shift);
// The requantization the convolutions apply, the output's zero point zy (-128..127) added
// (one rounding step for right shifts of 2 to 23): the same as ml_nn_requantize + zy.
int32_t ml_nn_requantize_zy(int32_t acc, int32_t multiplier, int32_t shift, int32_t zy);

#endif
