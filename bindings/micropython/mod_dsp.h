// Argument parsing shared by the dsp module's two sources (mod_dsp.c, mod_dsp_audio.c).
#ifndef MICROLEARN_MOD_DSP_H
#define MICROLEARN_MOD_DSP_H

#include "mod_common.h"
#include "ml_dsp.h"

// None, "hann" or "hamming".
ml_dsp_window_t ml_dsp_arg_window(mp_obj_t o, const char *name);

// A finite float32: a number, or a decimal string (the host's to_dict() writes floats so).
float ml_dsp_arg_float(mp_obj_t o, const char *name);

// T(config) or T(**config): the n arguments of `allowed` (all keyword-only) into a, from one
// dict or from keywords, never both. type and config name the class and the host's config.
void ml_dsp_arg_config(size_t n_args, size_t n_kw, const mp_obj_t *args, size_t n,
    const mp_arg_t *allowed, mp_arg_val_t *a, const char *type, const char *config);

#endif
