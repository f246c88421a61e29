// The operators of ml_nn (internal): each runs one ml_nn_op_t that ml_nn_open validated.
#ifndef MICROLEARN_ML_NN_OPS_H
#define MICROLEARN_ML_NN_OPS_H

#include "ml_nn.h"

void ml_nn_run_op(ml_nn_t *m, const ml_nn_op_t *op);

// GRU and LSTM (ml_nn_rnn.c): the whole sequence from a zero state, or one step (the input's
// first frame, the output's first row) from the current state.
void ml_nn_rnn_run(ml_nn_t *m, const ml_nn_op_t *op, int one_step);
// The q15 activations (a 257-entry table of tanh over [0, 8], linear interpolation): x with
// frac fractional bits (11 to 13), |x| < 2**24; the result in q15, -32767 to 32767 (sigmoid:
// 0 to 32767).
int32_t ml_nn_tanh_q15(int32_t x, int frac);
int32_t ml_nn_sigmoid_q15(int32_t x_q12);

// TFLite's fixed-point helpers, exposed for the C tests.
int32_t ml_nn_requantize(int32_t acc, int32_t multiplier, int32_t shift);
int32_t ml_nn_requantize_single(int32_t acc, int32_t multiplier, int32_t shift);
// The requantization the convolutions apply, the output's zero point zy (-128..127) added
// (one rounding step for right shifts of 2 to 23): the same as ml_nn_requantize + zy.
int32_t ml_nn_requantize_zy(int32_t acc, int32_t multiplier, int32_t shift, int32_t zy);

#endif
