// microlearn.dsp: sensor DSP and feature extraction for MicroPython (C core: core/ml_dsp*.c).
//
//   from microlearn import dsp
//   sos = dsp.butter(4, 5.0, 100.0, "lowpass")     # array('d'), like scipy.signal.butter(sos)
//   f = dsp.IIR(sos, typecode="f", n_channels=1)    # or typecode="h" (q15); f.process(x, out)
//   t = dsp.FFT(256, window="hann")                 # t.rfft(x, out), t.magnitude, t.power
//   w = dsp.Window(length, hop, n_axes=3)           # w.push(hop_frames) -> True when full
//   dsp.decode(fifo_bytes, (ax, ay, az), scale=...) # int16 LE/BE bytes -> arrays, per axis
//   fe = dsp.Features(config_dict)                  # fe.process(window, out), fe.names()
//   m = dsp.LogMel(16000, 512, n_mels=40)           # m.process(frame, out), m.spectrogram
//
// Inputs are array('f') / array('h') (or buffers with those typecodes); outputs are caller
// arrays. No process call allocates. Built as a native .mpy (dynruntime) or into firmware as a
// user C module, from the same source.
#include <string.h>

#include "mod_dsp.h"
#include "ml_math.h"
#include "ml_text.h"

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t iir_type;
mp_obj_full_type_t fft_type;
mp_obj_full_type_t window_type;
mp_obj_full_type_t features_type;
mp_obj_full_type_t logmel_type;
#define TYPE(t) ((const mp_obj_type_t *)&(t))
#else
static const mp_obj_type_t iir_type;
static const mp_obj_type_t fft_type;
static const mp_obj_type_t window_type;
static const mp_obj_type_t features_type;
static const mp_obj_type_t logmel_type;
#define TYPE(t) (&(t))
#endif

// mp_arg_t tables are filled at run time: in a native module qstrs are known only once loaded.
static void arg_def(mp_arg_t *a, qstr q, uint16_t flags, mp_obj_t def) {
    a->qst = q;
    a->flags = flags;
    if ((flags & MP_ARG_KIND_MASK) == MP_ARG_OBJ) {
        a->defval.u_obj = def;
    } else {
        a->defval.u_int = 0;
    }
}
#define ARG_OBJ(a, q, def) arg_def(&(a), (q), MP_ARG_KW_ONLY | MP_ARG_OBJ, (def))

static bool is_number(mp_obj_t o) {
    #if MICROPY_ENABLE_DYNRUNTIME
    return mp_obj_is_int(o) || mp_obj_get_type(o) == MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_float));
    #else
    return mp_obj_is_int(o) || mp_obj_is_float(o);
    #endif
}

static void raise_core(const ml_error_t *err) {
    ml_raise_error(err, 0);
}

static const char *str_arg(mp_obj_t o, const char *name) {
    if (!mp_obj_is_str(o)) {
        ml_raise_type("%s must be a string", name);
    }
    return mp_obj_str_get_str(o);
}

static bool str_eq(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

ml_dsp_window_t ml_dsp_arg_window(mp_obj_t o, const char *name) {
    if (o == mp_const_none) {
        return ML_DSP_WINDOW_NONE;
    }
    const char *s = str_arg(o, name);
    if (str_eq(s, "hann")) {
        return ML_DSP_WINDOW_HANN;
    }
    if (str_eq(s, "hamming")) {
        return ML_DSP_WINDOW_HAMMING;
    }
    ml_raise_value("%s must be None, 'hann' or 'hamming', got '%s'", name, s);
}

static mp_int_t int_arg(mp_obj_t o, const char *name, mp_int_t lo, mp_int_t hi) {
    return ml_get_int(o, name, lo, hi);
}

// A number argument (int or float), which must be finite: NaN or inf in a parameter would
// make every output NaN or inf without a word.
static double number_arg(mp_obj_t o, const char *name) {
    if (!is_number(o)) {
        ml_raise_type_got(o, name, "a number");
    }
    double v = mp_obj_get_float_to_d(o);
    if (!(v == v && v - v == 0.0)) {
        ml_raise_value("%s is not finite", name);
    }
    return v;
}

// Float input must be finite, in every function of the module: NaN or inf would poison a
// filter's state or every feature, and a NaN hidden in a statistic gives a plausible number.
static void check_finite(const ml_array_t *a, const char *name) {
    if (a->typecode == 'f') {
        size_t bad = ml_dsp_find_nonfinite(a->buf, a->len);
        if (bad < a->len) {
            ml_raise_value("%s[%lu] is not finite", name, (unsigned long)bad);
        }
    }
}

// A float32 result that overflowed (inf, or NaN from inf - inf) is reported, never returned.
static void check_overflow(const float *out, size_t n, const char *name, const char *what) {
    size_t bad = ml_dsp_find_nonfinite(out, n);
    if (bad < n) {
        ml_raise_value("%s[%lu] overflows float32: %s", name, (unsigned long)bad, what);
    }
}

#define BYTES(a) ((a).len * ((a).typecode == 'h' ? 2 : 4))

static void check_len(const char *name, size_t got, size_t expected, const char *what) {
    ml_check_length(name, got, expected, what);
}

static bool is_list(mp_obj_t o) {
    return mp_obj_is_type(o, &mp_type_tuple) || mp_obj_is_type(o, &mp_type_list);
}

// A list or tuple argument: TypeError naming it otherwise (not MicroPython's bare
// "expected tuple/list").
static void list_arg(mp_obj_t o, const char *name, size_t *len, mp_obj_t **items) {
    if (!is_list(o)) {
        ml_raise_type_got(o, name, "a list or tuple");
    }
    mp_obj_get_array(o, len, items);
}

static double sos_value(mp_obj_t o) {
    if (!is_number(o)) {
        ml_raise_type_got(o, "sos values", "numbers");
    }
    return mp_obj_get_float_to_d(o);
}

// A list or tuple of numbers, or an array('d') / array('f'), into doubles (allocated).
static double *doubles_from(mp_obj_t o, const char *name, size_t *n) {
    mp_buffer_info_t info;
    if (mp_get_buffer(o, &info, MP_BUFFER_READ)) {
        if (info.typecode != 'd' && info.typecode != 'f') {
            ml_raise_type_got(o, name, "array('d'), array('f') or a list of numbers");
        }
        size_t size = info.typecode == 'd' ? 8 : 4;
        *n = info.len / size;
        double *v = m_new(double, *n ? *n : 1);
        for (size_t i = 0; i < *n; i++) {
            v[i] = info.typecode == 'd' ? ((const double *)info.buf)[i]
                : (double)((const float *)info.buf)[i];
        }
        return v;
    }
    size_t len;
    mp_obj_t *items;
    if (!is_list(o)) {
        ml_raise_type_got(o, name, "array('d'), array('f') or a list of numbers");
    }
    mp_obj_get_array(o, &len, &items);
    // Rows (a list of lists, like sos.tolist()) or a flat list.
    size_t width = 1;
    if (len && !is_number(items[0])) {
        size_t rl;
        mp_obj_t *row;
        list_arg(items[0], "sos rows", &rl, &row);
        width = rl;
    }
    *n = len * width;
    double *v = m_new(double, *n ? *n : 1);
    for (size_t i = 0; i < len; i++) {
        if (width == 1) {
            v[i] = sos_value(items[i]);
            continue;
        }
        size_t rl;
        mp_obj_t *row;
        list_arg(items[i], "sos rows", &rl, &row);
        if (rl != width) {
            ml_raise_value("%s row %lu has %lu values, expected %lu", name, (unsigned long)i,
                (unsigned long)rl, (unsigned long)width);
        }
        for (size_t j = 0; j < width; j++) {
            v[i * width + j] = sos_value(row[j]);
        }
    }
    return v;
}

// A new array('d') of n values.
static mp_obj_t new_array_d(const double *v, size_t n) {
    mp_obj_t mod = mp_import_name(MP_QSTR_array, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    // array('d', raw bytes of the values)
    mp_obj_t args[2] = { MP_OBJ_NEW_QSTR(MP_QSTR_d), mp_obj_new_bytes((const byte *)v,
                                                                      n * sizeof(double)) };
    return mp_call_function_n_kw(mp_load_attr(mod, MP_QSTR_array), 2, 0, args);
}

// ---------------------------------------------------------------------------------------------
// butter, get_window, rms

static mp_obj_t dsp_butter(size_t n_args, const mp_obj_t *args) {
    mp_int_t order = int_arg(args[0], "order", 1, ML_DSP_BUTTER_MAX_ORDER);
    double cutoff = number_arg(args[1], "cutoff");
    double fs = number_arg(args[2], "sample_rate");
    ml_dsp_btype_t bt = ML_DSP_LOWPASS;
    if (n_args > 3) {
        const char *s = str_arg(args[3], "btype");
        if (str_eq(s, "highpass") || str_eq(s, "high")) {
            bt = ML_DSP_HIGHPASS;
        } else if (!str_eq(s, "lowpass") && !str_eq(s, "low")) {
            ml_raise_value("btype must be 'lowpass' or 'highpass', got '%s'", s);
        }
    }
    double sos[6 * ((ML_DSP_BUTTER_MAX_ORDER + 1) / 2)];
    ml_error_t err;
    if (ml_dsp_butter((uint32_t)order, cutoff, fs, bt, sos, &err) != ML_OK) {
        raise_core(&err);
    }
    return new_array_d(sos, 6 * ml_dsp_butter_sections((uint32_t)order));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(dsp_butter_obj, 3, 4, dsp_butter);

static mp_obj_t dsp_get_window(mp_obj_t kind, mp_obj_t out_in) {
    ml_dsp_window_t w = ml_dsp_arg_window(kind, "window");
    ml_array_t out;
    ml_get_array(out_in, "out", "f", true, &out);
    ml_dsp_window_fill(w, out.buf, out.len);
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_2(dsp_get_window_obj, dsp_get_window);

static mp_obj_t dsp_rms(mp_obj_t x_in) {
    ml_array_t x;
    ml_get_array(x_in, "x", "fh", false, &x);
    if (!x.len) {
        ml_raise_value("x is empty");
    }
    check_finite(&x, "x");
    double sum = 0.0;
    if (x.typecode == 'h') {
        // Exact in integers (2^30 per sample: 2^33 samples before an int64 overflows), and
        // much cheaper than double arithmetic on cores without an FPU.
        int64_t acc = 0;
        const int16_t *p = x.buf;
        for (size_t i = 0; i < x.len; i++) {
            acc += (int32_t)p[i] * p[i];
        }
        sum = (double)acc;
    } else {
        const float *p = x.buf;
        for (size_t i = 0; i < x.len; i++) {
            double v = (double)p[i];
            sum += v * v;
        }
    }
    return mp_obj_new_float_from_f((float)ml_dsp_sqrt(sum / (double)x.len));
}
static MP_DEFINE_CONST_FUN_OBJ_1(dsp_rms_obj, dsp_rms);

// ---------------------------------------------------------------------------------------------
// decode(data, out, *, n_axes=1, byteorder="little", scale=1.0, offset=0.0) -> frames

// scale / offset: one number, or one per axis; finite.
static float per_axis(mp_obj_t o, size_t axis, size_t n_axes, const char *name) {
    if (is_number(o)) {
        return (float)number_arg(o, name);
    }
    if (!is_list(o)) {
        ml_raise_type_got(o, name, "a number, or a list of one per axis");
    }
    size_t len;
    mp_obj_t *items;
    mp_obj_get_array(o, &len, &items);
    if (len != n_axes) {
        ml_raise_length(name, len, n_axes, "(one per axis, or a single number)");
    }
    char item[24];
    ml_format(item, sizeof(item), "%s[%lu]", name, (unsigned long)axis);
    return (float)number_arg(items[axis], item);
}

static mp_obj_t dsp_decode(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    enum { A_DATA, A_OUT, A_N_AXES, A_BYTEORDER, A_SCALE, A_OFFSET, N_ARGS };
    mp_arg_t allowed[N_ARGS];
    arg_def(&allowed[A_DATA], MP_QSTR_data, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    arg_def(&allowed[A_OUT], MP_QSTR_out, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    ARG_OBJ(allowed[A_N_AXES], MP_QSTR_n_axes, mp_const_none);
    ARG_OBJ(allowed[A_BYTEORDER], MP_QSTR_byteorder, MP_OBJ_NEW_QSTR(MP_QSTR_little));
    ARG_OBJ(allowed[A_SCALE], MP_QSTR_scale, MP_OBJ_NEW_SMALL_INT(1));
    ARG_OBJ(allowed[A_OFFSET], MP_QSTR_offset, MP_OBJ_NEW_SMALL_INT(0));
    mp_arg_val_t a[N_ARGS];
    mp_arg_parse_all(n_args, pos, kw, N_ARGS, allowed, a);

    mp_buffer_info_t data;
    if (!mp_get_buffer(a[A_DATA].u_obj, &data, MP_BUFFER_READ)) {
        ml_raise_type("data must be bytes, bytearray, memoryview or another buffer");
    }
    const char *bo = str_arg(a[A_BYTEORDER].u_obj, "byteorder");
    bool big = str_eq(bo, "big");
    if (!big && !str_eq(bo, "little")) {
        ml_raise_value("byteorder must be 'little' or 'big', got '%s'", bo);
    }
    mp_obj_t out = a[A_OUT].u_obj;
    mp_obj_t n_axes_obj = a[A_N_AXES].u_obj;
    // Each axis's destination: an array of its own (stride 1), a column of the interleaved
    // out (stride n_axes), or none.
    ml_array_t dst[ML_DSP_MAX_AXES];
    size_t n_axes, n_frames = (size_t)-1, stride = 1;
    if (is_list(out)) {
        mp_obj_t *outs;
        mp_obj_get_array(out, &n_axes, &outs);
        if (n_axes < 1 || n_axes > ML_DSP_MAX_AXES) {
            ml_raise_value("out has %lu arrays, expected 1..%lu (one array or None per axis)",
                (unsigned long)n_axes, (unsigned long)ML_DSP_MAX_AXES);
        }
        if (n_axes_obj != mp_const_none
            && (size_t)int_arg(n_axes_obj, "n_axes", 1, ML_DSP_MAX_AXES) != n_axes) {
            ml_raise_value("n_axes is %ld but out has %lu arrays (one per axis)",
                (long)mp_obj_get_int(n_axes_obj), (unsigned long)n_axes);
        }
        for (size_t k = 0; k < n_axes; k++) {
            dst[k].buf = NULL;
            if (outs[k] == mp_const_none) {
                continue;
            }
            ml_get_array(outs[k], "out[axis]", "fh", true, &dst[k]);
            if (n_frames == (size_t)-1) {
                n_frames = dst[k].len;
            } else if (dst[k].len != n_frames) {
                ml_raise_value("out[%lu] has %lu values, expected %lu like the other axes",
                    (unsigned long)k, (unsigned long)dst[k].len, (unsigned long)n_frames);
            }
        }
        if (n_frames == (size_t)-1) {
            n_frames = data.len / (2 * n_axes);  // all None: nothing to write
        }
    } else {
        n_axes = n_axes_obj == mp_const_none ? 1
            : (size_t)int_arg(n_axes_obj, "n_axes", 1, ML_DSP_MAX_AXES);
        ml_get_array(out, "out", "fh", true, &dst[0]);
        if (dst[0].len % n_axes) {
            ml_raise_length("out", dst[0].len, n_axes,
                "a multiple of n_axes (interleaved frames)");
        }
        n_frames = dst[0].len / n_axes;
        stride = n_axes;
        for (size_t k = 1; k < n_axes; k++) {
            dst[k] = dst[0];
            dst[k].buf = (uint8_t *)dst[0].buf + k * (dst[0].typecode == 'f' ? 4 : 2);
        }
    }
    if (data.len != 2 * n_frames * n_axes) {
        ml_raise_value("data has %lu bytes, expected %lu (%lu frames of %lu int16 values)",
            (unsigned long)data.len, (unsigned long)(2 * n_frames * n_axes),
            (unsigned long)n_frames, (unsigned long)n_axes);
    }
    // Everything is checked before anything is written: the outputs must not share memory
    // with the data or with each other (axes are written in turn), and every scale and offset
    // must be finite and keep a float output finite.
    float scales[ML_DSP_MAX_AXES], offsets[ML_DSP_MAX_AXES];
    for (size_t k = 0; k < n_axes; k++) {
        scales[k] = per_axis(a[A_SCALE].u_obj, k, n_axes, "scale");
        offsets[k] = per_axis(a[A_OFFSET].u_obj, k, n_axes, "offset");
        if (!dst[k].buf) {
            continue;
        }
        const size_t bytes = stride == 1 ? BYTES(dst[k]) : BYTES(dst[0]);
        ml_check_no_overlap("data", data.buf, data.len, "out", dst[k].buf, bytes);
        for (size_t j = 0; j < k && stride == 1; j++) {
            if (dst[j].buf && ml_overlap(dst[j].buf, BYTES(dst[j]), dst[k].buf, bytes)) {
                ml_raise_value("out[%lu] and out[%lu] overlap in memory: pass separate arrays",
                    (unsigned long)j, (unsigned long)k);
            }
        }
        ml_error_t err;
        if (ml_dsp_decode_check(scales[k], offsets[k], dst[k].typecode == 'f', &err) != ML_OK) {
            ml_raise_value("axis %lu: %s", (unsigned long)k, err.msg);
        }
    }
    for (size_t k = 0; k < n_axes; k++) {
        if (dst[k].buf && dst[k].typecode == 'f') {
            ml_dsp_decode_f32(data.buf, n_frames, n_axes, k, big, scales[k], offsets[k],
                dst[k].buf, stride);
        } else if (dst[k].buf) {
            ml_dsp_decode_i16(data.buf, n_frames, n_axes, k, big, scales[k], offsets[k],
                dst[k].buf, stride);
        }
    }
    return MP_OBJ_NEW_SMALL_INT(n_frames);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(dsp_decode_obj, 2, dsp_decode);

// ---------------------------------------------------------------------------------------------
// IIR(sos, *, typecode="f", n_channels=1)

typedef struct {
    mp_obj_base_t base;
    ml_dsp_iir_t f;
    void *memory;
    size_t memory_size;
} iir_obj_t;

static mp_obj_t iir_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    enum { A_SOS, A_TYPECODE, A_N_CHANNELS, N_ARGS };
    mp_arg_t allowed[N_ARGS];
    arg_def(&allowed[A_SOS], MP_QSTR_sos, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    ARG_OBJ(allowed[A_TYPECODE], MP_QSTR_typecode, MP_OBJ_NEW_QSTR(MP_QSTR_f));
    ARG_OBJ(allowed[A_N_CHANNELS], MP_QSTR_n_channels, MP_OBJ_NEW_SMALL_INT(1));
    mp_arg_val_t a[N_ARGS];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, N_ARGS, allowed, a);

    const char *tc = str_arg(a[A_TYPECODE].u_obj, "typecode");
    bool q15 = str_eq(tc, "h");
    if (!q15 && !str_eq(tc, "f")) {
        ml_raise_value("typecode must be 'f' (float32) or 'h' (q15), got '%s'", tc);
    }
    mp_int_t nc = int_arg(a[A_N_CHANNELS].u_obj, "n_channels", 1, ML_DSP_MAX_AXES);
    size_t n;
    double *sos = doubles_from(a[A_SOS].u_obj, "sos", &n);
    if (n == 0 || n % 6 != 0) {
        m_del(double, sos, n ? n : 1);
        ml_raise_value("sos has %lu values, expected a non-zero multiple of 6 (rows of b0 b1 b2 "
            "a0 a1 a2)", (unsigned long)n);
    }
    uint32_t ns = (uint32_t)(n / 6);
    if (ns > ML_DSP_IIR_MAX_SECTIONS) {
        m_del(double, sos, n);
        ml_raise_value("sos has %lu sections, expected at most %lu", (unsigned long)ns,
            (unsigned long)ML_DSP_IIR_MAX_SECTIONS);
    }
    size_t size = ml_dsp_iir_memory_size(ns, (uint32_t)nc, q15);
    void *mem = m_malloc(size);
    ml_dsp_iir_t f;
    ml_error_t err;
    ml_status_t r = ml_dsp_iir_init(&f, mem, sos, ns, (uint32_t)nc, q15, &err);
    m_del(double, sos, n);
    if (r != ML_OK) {
        m_del(uint8_t, mem, size);
        raise_core(&err);
    }
    iir_obj_t *self = mp_obj_malloc(iir_obj_t, type);
    self->f = f;
    self->memory = mem;
    self->memory_size = size;
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t iir_process(size_t n_args, const mp_obj_t *args) {
    iir_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    const bool q15 = self->f.q15;
    const char *tc = q15 ? "h" : "f";
    ml_array_t x, y;
    mp_obj_t out_in = n_args > 2 ? args[2] : args[1];
    ml_get_array(args[1], "x", tc, n_args <= 2, &x);
    if (x.len % self->f.n_channels) {
        ml_raise_length("x", x.len, self->f.n_channels,
            "a multiple of n_channels (interleaved frames)");
    }
    if (n_args > 2) {
        ml_get_array(out_in, "out", tc, true, &y);
        check_len("out", y.len, x.len, "(the length of x)");
        // In place (out is x) works, sample by sample; a shifted overlap would read outputs.
        if (y.buf != x.buf) {
            ml_check_no_overlap("x", x.buf, BYTES(x), "out", y.buf, BYTES(y));
        }
    } else {
        y = x;
    }
    const size_t frames = x.len / self->f.n_channels;
    if (q15) {
        ml_dsp_iir_process_q15(&self->f, x.buf, y.buf, frames);
    } else {
        check_finite(&x, "x");
        ml_dsp_iir_process_f32(&self->f, x.buf, y.buf, frames);
        if (ml_dsp_find_nonfinite(y.buf, y.len) < y.len) {
            ml_dsp_iir_reset(&self->f);  // its state holds the overflow: start afresh
            check_overflow(y.buf, y.len, n_args > 2 ? "out" : "x",
                "the filter's output is beyond 3.4e38 (the filter state was reset)");
        }
    }
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(iir_process_obj, 2, 3, iir_process);

static mp_obj_t iir_reset(mp_obj_t self_in) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_dsp_iir_reset(&self->f);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(iir_reset_obj, iir_reset);

static void iir_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    iir_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    if (attr == MP_QSTR_n_sections) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->f.n_sections);
    } else if (attr == MP_QSTR_n_channels) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->f.n_channels);
    } else if (attr == MP_QSTR_typecode) {
        dest[0] = MP_OBJ_NEW_QSTR(self->f.q15 ? MP_QSTR_h : MP_QSTR_f);
    } else if (attr == MP_QSTR_memory) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->memory_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// FFT(n, *, window=None)

typedef struct {
    mp_obj_base_t base;
    ml_dsp_fft_t fft;
    float *work;  // [n + 2]: the spectrum for magnitude() and power()
    void *memory;
    size_t memory_size;
} fft_obj_t;

static mp_obj_t fft_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    enum { A_N, A_WINDOW, N_ARGS };
    mp_arg_t allowed[N_ARGS];
    arg_def(&allowed[A_N], MP_QSTR_n, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    ARG_OBJ(allowed[A_WINDOW], MP_QSTR_window, mp_const_none);
    mp_arg_val_t a[N_ARGS];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, N_ARGS, allowed, a);
    mp_int_t n = ml_get_int_in(a[A_N].u_obj, "n", ML_DSP_FFT_MIN, ML_DSP_FFT_MAX,
        "a power of two in 16..4096");
    ml_dsp_window_t w = ml_dsp_arg_window(a[A_WINDOW].u_obj, "window");
    if (n & (n - 1)) {
        ml_raise_value("n is %ld, expected a power of two in %lu..%lu", (long)n,
            (unsigned long)ML_DSP_FFT_MIN, (unsigned long)ML_DSP_FFT_MAX);
    }
    size_t tables = ml_dsp_fft_memory_size((uint32_t)n, w);
    size_t size = tables + ((size_t)n + 2) * sizeof(float);
    uint8_t *mem = m_malloc(size);
    ml_dsp_fft_t fft;
    ml_error_t err;
    if (ml_dsp_fft_init(&fft, mem, (uint32_t)n, w, &err) != ML_OK) {
        m_del(uint8_t, mem, size);
        raise_core(&err);
    }
    fft_obj_t *self = mp_obj_malloc(fft_obj_t, type);
    self->fft = fft;
    self->work = (float *)(mem + tables);
    self->memory = mem;
    self->memory_size = size;
    return MP_OBJ_FROM_PTR(self);
}

#define FFT_OVERFLOW "the input is too large for a float32 spectrum"

// The spectrum of x into spec (n + 2 floats): the caller's out, or (out_name NULL) the
// object's work buffer. out may hold x in its first n values; any other overlap is refused
// (the transform works in place in out).
static void fft_run(fft_obj_t *self, mp_obj_t x_in, float *spec, const char *out_name) {
    ml_array_t x;
    ml_get_array(x_in, "x", "fh", false, &x);
    check_len("x", x.len, self->fft.n, "(the FFT length)");
    if (out_name && x.buf != (void *)spec) {
        ml_check_no_overlap("x", x.buf, BYTES(x), out_name, spec,
            ((size_t)self->fft.n + 2) * sizeof(float));
    }
    if (x.typecode == 'f') {
        check_finite(&x, "x");
        ml_dsp_rfft(&self->fft, x.buf, spec);
    } else {
        ml_dsp_rfft_i16(&self->fft, x.buf, spec);
    }
    check_overflow(spec, self->fft.n + 2, out_name ? out_name : "spectrum", FFT_OVERFLOW);
}

static mp_obj_t fft_rfft(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    fft_obj_t *self = MP_OBJ_TO_PTR(self_in);
    float *out = ml_get_float_out(out_in, "out", self->fft.n + 2,
        "(n + 2: n/2 + 1 complex values as re, im pairs)");
    fft_run(self, x_in, out, "out");
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(fft_rfft_obj, fft_rfft);

static mp_obj_t fft_spectrum(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in, bool power) {
    fft_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const size_t bins = self->fft.n / 2 + 1;
    float *out = ml_get_float_out(out_in, "out", bins, "(n/2 + 1 bins)");
    // x is read completely into the work buffer first: out may overlap x.
    fft_run(self, x_in, self->work, NULL);
    if (power) {
        ml_dsp_power(self->work, out, bins);
        check_overflow(out, bins, "out", "the power |X|^2 is beyond 3.4e38");
    } else {
        ml_dsp_magnitude(self->work, out, bins);
    }
    return out_in;
}

static mp_obj_t fft_magnitude(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    return fft_spectrum(self_in, x_in, out_in, false);
}
static MP_DEFINE_CONST_FUN_OBJ_3(fft_magnitude_obj, fft_magnitude);

static mp_obj_t fft_power(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    return fft_spectrum(self_in, x_in, out_in, true);
}
static MP_DEFINE_CONST_FUN_OBJ_3(fft_power_obj, fft_power);

static void fft_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    fft_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    if (attr == MP_QSTR_n) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->fft.n);
    } else if (attr == MP_QSTR_memory) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->memory_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// Window(length, hop, *, n_axes=1): the overlapped window buffer. The object is itself a
// buffer (typecode 'f', length * n_axes values, oldest frame first): pass it where an array is
// expected, or take memoryview(w) once.

typedef struct {
    mp_obj_base_t base;
    ml_dsp_buffer_t b;
    void *memory;
    size_t memory_size;
} window_obj_t;

static mp_obj_t window_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    enum { A_LENGTH, A_HOP, A_N_AXES, N_ARGS };
    mp_arg_t allowed[N_ARGS];
    arg_def(&allowed[A_LENGTH], MP_QSTR_length, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    arg_def(&allowed[A_HOP], MP_QSTR_hop, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    ARG_OBJ(allowed[A_N_AXES], MP_QSTR_n_axes, MP_OBJ_NEW_SMALL_INT(1));
    mp_arg_val_t a[N_ARGS];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, N_ARGS, allowed, a);
    mp_int_t length = int_arg(a[A_LENGTH].u_obj, "length", 1, ML_DSP_MAX_LENGTH);
    mp_int_t hop = int_arg(a[A_HOP].u_obj, "hop", 1, ML_DSP_MAX_LENGTH);
    mp_int_t n_axes = int_arg(a[A_N_AXES].u_obj, "n_axes", 1, ML_DSP_MAX_AXES);
    if (hop > length) {
        ml_raise_value("hop is %ld, longer than the window length %ld: samples would be "
            "skipped", (long)hop, (long)length);
    }
    size_t size = ml_dsp_buffer_memory_size((uint32_t)length, (uint32_t)n_axes);
    void *mem = m_malloc(size);
    ml_dsp_buffer_t b;
    ml_error_t err;
    if (ml_dsp_buffer_init(&b, mem, (uint32_t)length, (uint32_t)hop, (uint32_t)n_axes, &err)
        != ML_OK) {
        m_del(uint8_t, mem, size);
        raise_core(&err);
    }
    window_obj_t *self = mp_obj_malloc(window_obj_t, type);
    self->b = b;
    self->memory = mem;
    self->memory_size = size;
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t window_push(mp_obj_t self_in, mp_obj_t x_in) {
    window_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_array_t x;
    ml_get_array(x_in, "x", "fh", false, &x);
    check_len("x", x.len, (size_t)self->b.hop * self->b.n_axes, "(hop * n_axes: one hop of "
        "frames)");
    check_finite(&x, "x");
    // The window moves its frames before copying x in: x cannot be a part of the window.
    if (ml_overlap(x.buf, BYTES(x), self->b.data,
        (size_t)self->b.length * self->b.n_axes * sizeof(float))) {
        ml_raise_value("x is a part of this window's own buffer: copy it first");
    }
    bool ready = x.typecode == 'f' ? ml_dsp_buffer_push_f32(&self->b, x.buf)
        : ml_dsp_buffer_push_i16(&self->b, x.buf);
    return mp_obj_new_bool(ready);
}
static MP_DEFINE_CONST_FUN_OBJ_2(window_push_obj, window_push);

static mp_obj_t window_reset(mp_obj_t self_in) {
    window_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_dsp_buffer_reset(&self->b);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(window_reset_obj, window_reset);

static mp_int_t window_get_buffer(mp_obj_t self_in, mp_buffer_info_t *info, mp_uint_t flags) {
    (void)flags;
    window_obj_t *self = MP_OBJ_TO_PTR(self_in);
    info->buf = self->b.data;
    info->len = (size_t)self->b.length * self->b.n_axes * sizeof(float);
    info->typecode = 'f';
    return 0;
}

static void window_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    window_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    if (attr == MP_QSTR_length) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->b.length);
    } else if (attr == MP_QSTR_hop) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->b.hop);
    } else if (attr == MP_QSTR_n_axes) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->b.n_axes);
    } else if (attr == MP_QSTR_filled) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->b.filled);
    } else if (attr == MP_QSTR_ready) {
        dest[0] = mp_obj_new_bool(self->b.filled >= self->b.length);
    } else if (attr == MP_QSTR_memory) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->memory_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// Features(config) or Features(**config): config is the dict of the host's
// FeatureConfig.to_dict() (e.g. json.loads of a model's metadata).

typedef struct {
    mp_obj_base_t base;
    ml_dsp_features_t f;
    mp_obj_t axes;  // tuple of axis names
    void *memory;
    size_t memory_size;
} features_obj_t;

static bool is_dict(mp_obj_t o) {
    #if MICROPY_ENABLE_DYNRUNTIME
    return mp_obj_get_type(o) == MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_dict));
    #else
    return mp_obj_is_type(o, &mp_type_dict);
    #endif
}

void ml_dsp_arg_config(size_t n_args, size_t n_kw, const mp_obj_t *args, size_t n,
    const mp_arg_t *allowed, mp_arg_val_t *a, const char *type, const char *config) {
    if (n_args == 1 && n_kw == 0) {
        if (!is_dict(args[0])) {
            ml_raise_type("%s expects a config dict (%s.to_dict() on the host) or keyword "
                "arguments", type, config);
        }
        mp_obj_dict_t *d = MP_OBJ_TO_PTR(args[0]);
        mp_arg_parse_all(0, NULL, &d->map, n, allowed, a);
    } else {
        if (n_args) {
            ml_raise_type("%s expects a config dict or keyword arguments, not both", type);
        }
        mp_arg_parse_all_kw_array(0, n_kw, args, n, allowed, a);
    }
}

static bool bool_arg(mp_obj_t o) {
    return o != mp_const_none && mp_obj_is_true(o);
}

// A number, or a decimal string: FeatureConfig.to_dict() on the host writes floats as strings
// because MicroPython's float32 parser (json.loads) can miss by an ulp; ml_parse_double rounds
// correctly, and the host rounds the same string the same way.
float ml_dsp_arg_float(mp_obj_t o, const char *name) {
    if (mp_obj_is_str(o)) {
        const char *s = mp_obj_str_get_str(o);
        double v;
        if (ml_parse_double(s, &v) != 0) {
            ml_raise_value("%s: '%s' is not a number", name, s);
        }
        float f = (float)v;
        if (!ml_isfinitef(f)) {
            ml_raise_value("%s is not finite (as a float32)", name);
        }
        return f;
    }
    float f = (float)number_arg(o, name);
    if (!ml_isfinitef(f)) {
        ml_raise_value("%s is not finite (as a float32)", name);
    }
    return f;
}

static void parse_spectral(mp_obj_t spec, ml_dsp_features_config_t *c) {
    enum { S_FILTER, S_CUTOFF, S_ORDER, S_FFT_LENGTH, S_N_BINS, S_AGG, S_LOG, S_OVERLAP, S_WINDOW,
           S_STATS, N_S };
    mp_arg_t allowed[N_S];
    ARG_OBJ(allowed[S_FILTER], MP_QSTR_filter, mp_const_none);
    ARG_OBJ(allowed[S_CUTOFF], MP_QSTR_cutoff, mp_const_none);
    ARG_OBJ(allowed[S_ORDER], MP_QSTR_order, MP_OBJ_NEW_SMALL_INT(4));
    ARG_OBJ(allowed[S_FFT_LENGTH], MP_QSTR_fft_length, mp_const_none);
    ARG_OBJ(allowed[S_N_BINS], MP_QSTR_n_bins, MP_OBJ_NEW_SMALL_INT(0));
    ARG_OBJ(allowed[S_AGG], MP_QSTR_agg, MP_OBJ_NEW_QSTR(MP_QSTR_max));
    ARG_OBJ(allowed[S_LOG], MP_QSTR_log, mp_const_true);
    ARG_OBJ(allowed[S_OVERLAP], MP_QSTR_overlap, mp_const_true);
    ARG_OBJ(allowed[S_WINDOW], MP_QSTR_window, MP_OBJ_NEW_QSTR(MP_QSTR_hann));
    ARG_OBJ(allowed[S_STATS], MP_QSTR_stats, mp_const_true);
    mp_arg_val_t a[N_S];
    if (!is_dict(spec)) {
        ml_raise_type("spectral must be a dict or None");
    }
    mp_obj_dict_t *d = MP_OBJ_TO_PTR(spec);
    mp_arg_parse_all(0, NULL, &d->map, N_S, allowed, a);
    c->spectral = true;
    c->filter = ML_DSP_FILTER_NONE;
    if (a[S_FILTER].u_obj != mp_const_none) {
        const char *s = str_arg(a[S_FILTER].u_obj, "spectral filter");
        if (str_eq(s, "lowpass")) {
            c->filter = ML_DSP_FILTER_LOWPASS;
        } else if (str_eq(s, "highpass")) {
            c->filter = ML_DSP_FILTER_HIGHPASS;
        } else {
            ml_raise_value("spectral filter must be None, 'lowpass' or 'highpass', got '%s'", s);
        }
        if (a[S_CUTOFF].u_obj == mp_const_none) {
            ml_raise_value("spectral filter '%s' needs a cutoff (Hz)", s);
        }
        c->cutoff = ml_dsp_arg_float(a[S_CUTOFF].u_obj, "cutoff");
        c->filter_order = (uint8_t)int_arg(a[S_ORDER].u_obj, "order", 1, ML_DSP_BUTTER_MAX_ORDER);
    }
    if (a[S_FFT_LENGTH].u_obj == mp_const_none) {
        ml_raise_value("spectral needs fft_length");
    }
    c->fft_length = (uint32_t)ml_get_int_in(a[S_FFT_LENGTH].u_obj, "fft_length", ML_DSP_FFT_MIN,
        ML_DSP_FFT_MAX, "a power of two in 16..4096");
    c->n_bins = (uint32_t)int_arg(a[S_N_BINS].u_obj, "n_bins", 0, ML_DSP_FFT_MAX);
    const char *agg = str_arg(a[S_AGG].u_obj, "agg");
    if (str_eq(agg, "max")) {
        c->agg = ML_DSP_AGG_MAX;
    } else if (str_eq(agg, "mean")) {
        c->agg = ML_DSP_AGG_MEAN;
    } else {
        ml_raise_value("agg must be 'max' or 'mean', got '%s'", agg);
    }
    c->log = bool_arg(a[S_LOG].u_obj);
    c->overlap = bool_arg(a[S_OVERLAP].u_obj);
    c->window = (uint8_t)ml_dsp_arg_window(a[S_WINDOW].u_obj, "spectral window");
    c->spec_stats = bool_arg(a[S_STATS].u_obj);
}

static mp_obj_t features_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    enum { F_VERSION, F_LENGTH, F_N_AXES, F_SAMPLE_RATE, F_SCALE, F_MAGNITUDE, F_AXES, F_TIME,
           F_SPECTRAL, N_F };
    mp_arg_t allowed[N_F];
    ARG_OBJ(allowed[F_VERSION], MP_QSTR_version, MP_OBJ_NEW_SMALL_INT(1));
    ARG_OBJ(allowed[F_LENGTH], MP_QSTR_length, mp_const_none);
    ARG_OBJ(allowed[F_N_AXES], MP_QSTR_n_axes, MP_OBJ_NEW_SMALL_INT(1));
    ARG_OBJ(allowed[F_SAMPLE_RATE], MP_QSTR_sample_rate, MP_OBJ_NEW_SMALL_INT(0));
    ARG_OBJ(allowed[F_SCALE], MP_QSTR_scale, MP_OBJ_NEW_SMALL_INT(1));
    ARG_OBJ(allowed[F_MAGNITUDE], MP_QSTR_magnitude, mp_const_false);
    ARG_OBJ(allowed[F_AXES], MP_QSTR_axes, mp_const_none);
    ARG_OBJ(allowed[F_TIME], MP_QSTR_time, mp_const_none);
    ARG_OBJ(allowed[F_SPECTRAL], MP_QSTR_spectral, mp_const_none);
    mp_arg_val_t a[N_F];
    ml_dsp_arg_config(n_args, n_kw, args, N_F, allowed, a, "Features", "FeatureConfig");
    mp_obj_t version = a[F_VERSION].u_obj;
    if (!mp_obj_is_small_int(version) || MP_OBJ_SMALL_INT_VALUE(version) != 1) {
        mp_obj_t text = mp_call_function_n_kw(mp_load_global(MP_QSTR_repr), 1, 0, &version);
        ml_raise_value("config version is %s, this module reads version 1",
            mp_obj_str_get_str(text));
    }
    if (a[F_LENGTH].u_obj == mp_const_none) {
        ml_raise_value("config needs length (frames per window)");
    }
    ml_dsp_features_config_t c;
    memset(&c, 0, sizeof(c));
    c.length = (uint32_t)int_arg(a[F_LENGTH].u_obj, "length", 1, ML_DSP_MAX_LENGTH);
    c.n_axes = (uint32_t)int_arg(a[F_N_AXES].u_obj, "n_axes", 1, ML_DSP_MAX_AXES);
    c.sample_rate = ml_dsp_arg_float(a[F_SAMPLE_RATE].u_obj, "sample_rate");
    c.scale = ml_dsp_arg_float(a[F_SCALE].u_obj, "scale");
    c.magnitude = bool_arg(a[F_MAGNITUDE].u_obj);
    if (a[F_TIME].u_obj != mp_const_none) {
        size_t n;
        mp_obj_t *items;
        list_arg(a[F_TIME].u_obj, "time", &n, &items);
        if (n > ML_DSP_N_TIME_FEATURES) {
            ml_raise_value("time lists %lu features, there are %lu", (unsigned long)n,
                (unsigned long)ML_DSP_N_TIME_FEATURES);
        }
        for (size_t i = 0; i < n; i++) {
            if (!mp_obj_is_str(items[i])) {
                ml_raise_type("time features must be strings");
            }
            size_t len;
            const char *s = mp_obj_str_get_data(items[i], &len);
            int id = ml_dsp_time_feature_id(s, len);
            if (id < 0) {
                ml_raise_value("unknown time feature '%s' (known: mean std min max rms skew "
                    "kurtosis zero_crossings mean_crossings ptp energy)", s);
            }
            c.time[i] = (uint8_t)id;
        }
        c.n_time = (uint8_t)n;
    }
    if (a[F_SPECTRAL].u_obj != mp_const_none) {
        parse_spectral(a[F_SPECTRAL].u_obj, &c);
    }
    // Axis names: given, or x y z for three axes, else a0 a1 ...
    mp_obj_t names[ML_DSP_MAX_AXES];
    if (a[F_AXES].u_obj != mp_const_none) {
        size_t n;
        mp_obj_t *items;
        list_arg(a[F_AXES].u_obj, "axes", &n, &items);
        if (n != c.n_axes) {
            ml_raise_length("axes", n, c.n_axes, "names (n_axes)");
        }
        for (size_t i = 0; i < n; i++) {
            str_arg(items[i], "axes names");
            names[i] = items[i];
            // Feature names are <axis>_<feature>: two equal axes (or an axis called "mag"
            // next to the magnitude channel) would give two features one name.
            if (c.magnitude && mp_obj_is_true(mp_binary_op(MP_BINARY_OP_EQUAL, items[i],
                MP_OBJ_NEW_QSTR(MP_QSTR_mag)))) {
                ml_raise_value("axes: 'mag' is the magnitude channel's name, pick another");
            }
            for (size_t j = 0; j < i; j++) {
                if (mp_obj_is_true(mp_binary_op(MP_BINARY_OP_EQUAL, items[i], items[j]))) {
                    ml_raise_value("axes: names %lu and %lu are equal, expected distinct names",
                        (unsigned long)j, (unsigned long)i);
                }
            }
        }
    } else {
        for (uint32_t i = 0; i < c.n_axes; i++) {
            char buf[8];
            size_t len = c.n_axes == 3 ? ml_format(buf, sizeof(buf), "%c", "xyz"[i])
                : ml_format(buf, sizeof(buf), "a%u", (unsigned)i);
            names[i] = mp_obj_new_str(buf, len);
        }
    }
    size_t size;
    ml_error_t err;
    if (ml_dsp_features_memory_size(&c, &size, &err) != ML_OK) {
        raise_core(&err);
    }
    void *mem = m_malloc(size);
    ml_dsp_features_t f;
    if (ml_dsp_features_init(&f, mem, &c, &err) != ML_OK) {
        m_del(uint8_t, mem, size);
        raise_core(&err);
    }
    features_obj_t *self = mp_obj_malloc(features_obj_t, type);
    self->f = f;
    self->axes = mp_obj_new_tuple(c.n_axes, names);
    self->memory = mem;
    self->memory_size = size;
    return MP_OBJ_FROM_PTR(self);
}

// The name of feature k: <axis>_<feature>, the axis name joined as a str object, so it is
// never cut, whatever its length or characters (the suffixes are short ASCII).
static mp_obj_t feature_name(const features_obj_t *self, uint32_t k) {
    const ml_dsp_features_t *f = &self->f;
    const uint32_t ch = k / f->per_channel;
    uint32_t j = k % f->per_channel;
    mp_obj_tuple_t *axes = MP_OBJ_TO_PTR(self->axes);
    mp_obj_t axis = ch < f->cfg.n_axes ? axes->items[ch] : MP_OBJ_NEW_QSTR(MP_QSTR_mag);
    static const char *const spec_stats[3] = { "rms", "skew", "kurtosis" };
    char buf[32];
    size_t len;
    if (j < f->cfg.n_time) {
        len = ml_format(buf, sizeof(buf), "_%s", ml_dsp_time_feature_name(f->cfg.time[j]));
    } else if ((j -= f->cfg.n_time) < 3 && f->cfg.spec_stats) {
        len = ml_format(buf, sizeof(buf), "_spec_%s", spec_stats[j]);
    } else {
        len = ml_format(buf, sizeof(buf), "_psd_%u", (unsigned)(j - (f->cfg.spec_stats ? 3 : 0)));
    }
    return mp_binary_op(MP_BINARY_OP_ADD, axis, mp_obj_new_str(buf, len));
}

static mp_obj_t features_names(mp_obj_t self_in) {
    features_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (uint32_t k = 0; k < self->f.n_features; k++) {
        mp_obj_list_append(list, feature_name(self, k));
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_1(features_names_obj, features_names);

static mp_obj_t features_process(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    features_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_array_t x;
    ml_get_array(x_in, "window", "fh", false, &x);
    check_len("window", x.len, (size_t)self->f.cfg.length * self->f.cfg.n_axes,
        "(length * n_axes, frames interleaved)");
    float *out = ml_get_float_out(out_in, "out", self->f.n_features, "(n_features)");
    ml_check_no_overlap("window", x.buf, BYTES(x), "out", out,
        (size_t)self->f.n_features * sizeof(float));
    ml_error_t err;
    ml_status_t r = x.typecode == 'f' ? ml_dsp_features_process_f32(&self->f, x.buf, out, &err)
        : ml_dsp_features_process_i16(&self->f, x.buf, out, &err);
    size_t bad = ml_dsp_find_nonfinite(out, self->f.n_features);
    if (r != ML_OK && bad < self->f.n_features) {
        // An overflow: name the feature as names() does.
        ml_raise_value("feature %lu (%s) overflows float32: the window's values are too large",
            (unsigned long)bad, mp_obj_str_get_str(feature_name(self, (uint32_t)bad)));
    }
    if (r != ML_OK) {
        raise_core(&err);
    }
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(features_process_obj, features_process);

static void features_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    features_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    if (attr == MP_QSTR_n_features) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->f.n_features);
    } else if (attr == MP_QSTR_length) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->f.cfg.length);
    } else if (attr == MP_QSTR_n_axes) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->f.cfg.n_axes);
    } else if (attr == MP_QSTR_n_channels) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->f.n_channels);
    } else if (attr == MP_QSTR_memory) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->memory_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// LogMel(sample_rate, n_fft, *, hop=n_fft//2, n_mels=40, fmin=0, fmax=sample_rate/2,
//        window="hann", log=True)

#define LOGMEL_OVERFLOW "the input is too large for float32 power spectra"

typedef struct {
    mp_obj_base_t base;
    ml_dsp_logmel_t m;
    void *memory;
    size_t memory_size;
} logmel_obj_t;

static mp_obj_t logmel_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    enum { L_SR, L_N_FFT, L_HOP, L_N_MELS, L_FMIN, L_FMAX, L_WINDOW, L_LOG, N_L };
    mp_arg_t allowed[N_L];
    arg_def(&allowed[L_SR], MP_QSTR_sample_rate, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    arg_def(&allowed[L_N_FFT], MP_QSTR_n_fft, MP_ARG_REQUIRED | MP_ARG_OBJ, mp_const_none);
    ARG_OBJ(allowed[L_HOP], MP_QSTR_hop, mp_const_none);
    ARG_OBJ(allowed[L_N_MELS], MP_QSTR_n_mels, MP_OBJ_NEW_SMALL_INT(40));
    ARG_OBJ(allowed[L_FMIN], MP_QSTR_fmin, MP_OBJ_NEW_SMALL_INT(0));
    ARG_OBJ(allowed[L_FMAX], MP_QSTR_fmax, mp_const_none);
    ARG_OBJ(allowed[L_WINDOW], MP_QSTR_window, MP_OBJ_NEW_QSTR(MP_QSTR_hann));
    ARG_OBJ(allowed[L_LOG], MP_QSTR_log, mp_const_true);
    mp_arg_val_t a[N_L];
    mp_arg_parse_all_kw_array(n_args, n_kw, args, N_L, allowed, a);
    ml_dsp_logmel_config_t c;
    c.sample_rate = ml_dsp_arg_float(a[L_SR].u_obj, "sample_rate");
    c.n_fft = (uint32_t)ml_get_int_in(a[L_N_FFT].u_obj, "n_fft", ML_DSP_FFT_MIN, ML_DSP_FFT_MAX,
        "a power of two in 16..4096");
    c.hop = a[L_HOP].u_obj == mp_const_none ? c.n_fft / 2
        : (uint32_t)int_arg(a[L_HOP].u_obj, "hop", 1, ML_DSP_MAX_LENGTH);
    c.n_mels = (uint32_t)int_arg(a[L_N_MELS].u_obj, "n_mels", 1, 512);
    c.fmin = ml_dsp_arg_float(a[L_FMIN].u_obj, "fmin");
    c.fmax = a[L_FMAX].u_obj == mp_const_none ? c.sample_rate / 2.0f
        : ml_dsp_arg_float(a[L_FMAX].u_obj, "fmax");
    c.window = ml_dsp_arg_window(a[L_WINDOW].u_obj, "window");
    c.log = bool_arg(a[L_LOG].u_obj);
    ml_error_t err;
    size_t size = ml_dsp_logmel_memory_size(&c, &err);
    if (!size) {
        raise_core(&err);
    }
    void *mem = m_malloc(size);
    ml_dsp_logmel_t m;
    if (ml_dsp_logmel_init(&m, mem, &c, &err) != ML_OK) {
        m_del(uint8_t, mem, size);
        raise_core(&err);
    }
    logmel_obj_t *self = mp_obj_malloc(logmel_obj_t, type);
    self->m = m;
    self->memory = mem;
    self->memory_size = size;
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t logmel_process(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    logmel_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_array_t x;
    ml_get_array(x_in, "frame", "fh", false, &x);
    check_len("frame", x.len, self->m.cfg.n_fft, "(n_fft)");
    float *out = ml_get_float_out(out_in, "out", self->m.cfg.n_mels, "(n_mels)");
    // The frame is read completely into the work buffer first: out may overlap it.
    if (x.typecode == 'f') {
        check_finite(&x, "frame");
        ml_dsp_logmel_frame(&self->m, x.buf, out);
    } else {
        ml_dsp_logmel_frame_i16(&self->m, x.buf, out);
    }
    check_overflow(out, self->m.cfg.n_mels, "out", LOGMEL_OVERFLOW);
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(logmel_process_obj, logmel_process);

static mp_obj_t logmel_spectrogram(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    logmel_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_array_t x;
    ml_get_array(x_in, "x", "fh", false, &x);
    size_t frames = ml_dsp_logmel_frames(&self->m, x.len);
    if (!frames) {
        ml_raise_length("x", x.len, self->m.cfg.n_fft, "at least (n_fft)");
    }
    const uint32_t nm = self->m.cfg.n_mels;
    float *out = ml_get_float_out(out_in, "out", frames * nm,
        "(frames * n_mels, frames = 1 + (len(x) - n_fft) // hop)");
    ml_check_no_overlap("x", x.buf, BYTES(x), "out", out, frames * nm * sizeof(float));
    if (x.typecode == 'f') {
        check_finite(&x, "x");
        ml_dsp_logmel_spectrogram(&self->m, x.buf, x.len, out);
    } else {
        for (size_t i = 0; i < frames; i++) {
            ml_dsp_logmel_frame_i16(&self->m, (const int16_t *)x.buf + i * self->m.cfg.hop,
                out + i * nm);
        }
    }
    check_overflow(out, frames * nm, "out", LOGMEL_OVERFLOW);
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(logmel_spectrogram_obj, logmel_spectrogram);

static mp_obj_t logmel_frames(mp_obj_t self_in, mp_obj_t n_in) {
    logmel_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t n = int_arg(n_in, "n", 0, ((mp_int_t)1 << 30) - 1);  // a small int everywhere
    return mp_obj_new_int((mp_int_t)ml_dsp_logmel_frames(&self->m, (size_t)n));
}
static MP_DEFINE_CONST_FUN_OBJ_2(logmel_frames_obj, logmel_frames);

static void logmel_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    logmel_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    if (attr == MP_QSTR_n_mels) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->m.cfg.n_mels);
    } else if (attr == MP_QSTR_n_fft) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->m.cfg.n_fft);
    } else if (attr == MP_QSTR_hop) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->m.cfg.hop);
    } else if (attr == MP_QSTR_memory) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->memory_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// module

#define IIR_METHODS(X) X(MP_QSTR_process, iir_process_obj) X(MP_QSTR_reset, iir_reset_obj)
#define FFT_METHODS(X) X(MP_QSTR_rfft, fft_rfft_obj) X(MP_QSTR_magnitude, fft_magnitude_obj) \
    X(MP_QSTR_power, fft_power_obj)
#define WINDOW_METHODS(X) X(MP_QSTR_push, window_push_obj) X(MP_QSTR_reset, window_reset_obj)
#define FEATURES_METHODS(X) X(MP_QSTR_process, features_process_obj) \
    X(MP_QSTR_names, features_names_obj)
#define LOGMEL_METHODS(X) X(MP_QSTR_process, logmel_process_obj) \
    X(MP_QSTR_spectrogram, logmel_spectrogram_obj) X(MP_QSTR_frames, logmel_frames_obj)
#define COUNT(q, obj) +1
// (Method names are written out as MP_QSTR_ tokens: the qstr collector reads the source.)

#if MICROPY_ENABLE_DYNRUNTIME

mp_map_elem_t iir_locals_table[0 IIR_METHODS(COUNT)];
mp_map_elem_t fft_locals_table[0 FFT_METHODS(COUNT)];
mp_map_elem_t window_locals_table[0 WINDOW_METHODS(COUNT)];
mp_map_elem_t features_locals_table[0 FEATURES_METHODS(COUNT)];
mp_map_elem_t logmel_locals_table[0 LOGMEL_METHODS(COUNT)];
static MP_DEFINE_CONST_DICT(iir_locals, iir_locals_table);
static MP_DEFINE_CONST_DICT(fft_locals, fft_locals_table);
static MP_DEFINE_CONST_DICT(window_locals, window_locals_table);
static MP_DEFINE_CONST_DICT(features_locals, features_locals_table);
static MP_DEFINE_CONST_DICT(logmel_locals, logmel_locals_table);

#define FILL(q, obj) table[i++] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(q), MP_OBJ_FROM_PTR(&obj) };

static void type_init(mp_obj_full_type_t *t, qstr name, mp_make_new_fun_t make_new,
    mp_attr_fun_t attr, const mp_obj_dict_t *locals) {
    t->base.type = (void *)&mp_type_type;
    t->flags = MP_TYPE_FLAG_NONE;
    t->name = name;
    MP_OBJ_TYPE_SET_SLOT(t, make_new, make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(t, attr, attr, 1);
    MP_OBJ_TYPE_SET_SLOT(t, locals_dict, (void *)locals, 2);
}

void ml_dsp_audio_register(void);  // mod_dsp_audio.c: AudioFeatures, WavReader

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    size_t i;
    mp_map_elem_t *table;
    i = 0, table = iir_locals_table;
    IIR_METHODS(FILL)
    i = 0, table = fft_locals_table;
    FFT_METHODS(FILL)
    i = 0, table = window_locals_table;
    WINDOW_METHODS(FILL)
    i = 0, table = features_locals_table;
    FEATURES_METHODS(FILL)
    i = 0, table = logmel_locals_table;
    LOGMEL_METHODS(FILL)

    type_init(&iir_type, MP_QSTR_IIR, iir_make_new, iir_attr, &iir_locals);
    type_init(&fft_type, MP_QSTR_FFT, fft_make_new, fft_attr, &fft_locals);
    type_init(&window_type, MP_QSTR_Window, window_make_new, window_attr, &window_locals);
    MP_OBJ_TYPE_SET_SLOT(&window_type, buffer, window_get_buffer, 3);
    type_init(&features_type, MP_QSTR_Features, features_make_new, features_attr,
        &features_locals);
    type_init(&logmel_type, MP_QSTR_LogMel, logmel_make_new, logmel_attr, &logmel_locals);

    mp_store_global(MP_QSTR_IIR, MP_OBJ_FROM_PTR(&iir_type));
    mp_store_global(MP_QSTR_FFT, MP_OBJ_FROM_PTR(&fft_type));
    mp_store_global(MP_QSTR_Window, MP_OBJ_FROM_PTR(&window_type));
    mp_store_global(MP_QSTR_Features, MP_OBJ_FROM_PTR(&features_type));
    mp_store_global(MP_QSTR_LogMel, MP_OBJ_FROM_PTR(&logmel_type));
    mp_store_global(MP_QSTR_butter, MP_OBJ_FROM_PTR(&dsp_butter_obj));
    mp_store_global(MP_QSTR_get_window, MP_OBJ_FROM_PTR(&dsp_get_window_obj));
    mp_store_global(MP_QSTR_decode, MP_OBJ_FROM_PTR(&dsp_decode_obj));
    mp_store_global(MP_QSTR_rms, MP_OBJ_FROM_PTR(&dsp_rms_obj));
    ml_dsp_audio_register();

    MP_DYNRUNTIME_INIT_EXIT
}

#else

#define ROM_ENTRY(q, obj) { MP_ROM_QSTR(q), MP_ROM_PTR(&obj) },

static const mp_rom_map_elem_t iir_locals_table[] = { IIR_METHODS(ROM_ENTRY) };
static const mp_rom_map_elem_t fft_locals_table[] = { FFT_METHODS(ROM_ENTRY) };
static const mp_rom_map_elem_t window_locals_table[] = { WINDOW_METHODS(ROM_ENTRY) };
static const mp_rom_map_elem_t features_locals_table[] = { FEATURES_METHODS(ROM_ENTRY) };
static const mp_rom_map_elem_t logmel_locals_table[] = { LOGMEL_METHODS(ROM_ENTRY) };
static MP_DEFINE_CONST_DICT(iir_locals, iir_locals_table);
static MP_DEFINE_CONST_DICT(fft_locals, fft_locals_table);
static MP_DEFINE_CONST_DICT(window_locals, window_locals_table);
static MP_DEFINE_CONST_DICT(features_locals, features_locals_table);
static MP_DEFINE_CONST_DICT(logmel_locals, logmel_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(iir_type, MP_QSTR_IIR, MP_TYPE_FLAG_NONE,
    make_new, iir_make_new, attr, iir_attr, locals_dict, &iir_locals);
static MP_DEFINE_CONST_OBJ_TYPE(fft_type, MP_QSTR_FFT, MP_TYPE_FLAG_NONE,
    make_new, fft_make_new, attr, fft_attr, locals_dict, &fft_locals);
static MP_DEFINE_CONST_OBJ_TYPE(window_type, MP_QSTR_Window, MP_TYPE_FLAG_NONE,
    make_new, window_make_new, attr, window_attr, buffer, window_get_buffer,
    locals_dict, &window_locals);
static MP_DEFINE_CONST_OBJ_TYPE(features_type, MP_QSTR_Features, MP_TYPE_FLAG_NONE,
    make_new, features_make_new, attr, features_attr, locals_dict, &features_locals);
static MP_DEFINE_CONST_OBJ_TYPE(logmel_type, MP_QSTR_LogMel, MP_TYPE_FLAG_NONE,
    make_new, logmel_make_new, attr, logmel_attr, locals_dict, &logmel_locals);

extern const mp_obj_type_t ml_audio_features_type;  // mod_dsp_audio.c
extern const mp_obj_type_t ml_wav_reader_type;
extern const mp_obj_fun_builtin_var_t ml_dsp_center_obj;

static const mp_rom_map_elem_t dsp_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_dsp) },
    { MP_ROM_QSTR(MP_QSTR_IIR), MP_ROM_PTR(&iir_type) },
    { MP_ROM_QSTR(MP_QSTR_FFT), MP_ROM_PTR(&fft_type) },
    { MP_ROM_QSTR(MP_QSTR_Window), MP_ROM_PTR(&window_type) },
    { MP_ROM_QSTR(MP_QSTR_Features), MP_ROM_PTR(&features_type) },
    { MP_ROM_QSTR(MP_QSTR_LogMel), MP_ROM_PTR(&logmel_type) },
    { MP_ROM_QSTR(MP_QSTR_butter), MP_ROM_PTR(&dsp_butter_obj) },
    { MP_ROM_QSTR(MP_QSTR_get_window), MP_ROM_PTR(&dsp_get_window_obj) },
    { MP_ROM_QSTR(MP_QSTR_decode), MP_ROM_PTR(&dsp_decode_obj) },
    { MP_ROM_QSTR(MP_QSTR_rms), MP_ROM_PTR(&dsp_rms_obj) },
    { MP_ROM_QSTR(MP_QSTR_AudioFeatures), MP_ROM_PTR(&ml_audio_features_type) },
    { MP_ROM_QSTR(MP_QSTR_WavReader), MP_ROM_PTR(&ml_wav_reader_type) },
    { MP_ROM_QSTR(MP_QSTR_center), MP_ROM_PTR(&ml_dsp_center_obj) },
};
static MP_DEFINE_CONST_DICT(dsp_module_globals, dsp_module_table);

const mp_obj_module_t ml_dsp_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&dsp_module_globals,
};

#endif
