// microlearn.dsp, sound: the streaming audio front end and WAV reading (C core:
// core/ml_dsp_audio.c, core/ml_wav.c). Part of the dsp module (mod_dsp.c registers the types).
//
//   fe = dsp.AudioFeatures(config_dict)     # or keyword arguments; AudioConfig.to_dict() on the host
//   n = fe.process(pcm, out)                # int16 samples, any count -> n frames written to out
//   fe.frames(len(pcm)), fe.frame(x, out), fe.reset(), fe.n_features, fe.memory, ...
//   w = dsp.WavReader("rec.wav")            # a path or a file opened "rb"; 16-bit PCM mono
//   n = w.read(buf)                         # array('h') -> samples read, 0 at the end
//   w.sample_rate, w.n_samples, w.position, w.close()
//   dsp.center(window, out, n_axes)         # each feature minus its mean over the frames
//
// process() and read() allocate nothing.
#include <string.h>

#include "mod_dsp.h"
#include "ml_dsp_audio.h"
#include "ml_text.h"
#include "ml_wav.h"

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t ml_audio_features_type;
mp_obj_full_type_t ml_wav_reader_type;
#define TYPE(t) ((const mp_obj_type_t *)&(t))
#else
const mp_obj_type_t ml_audio_features_type;
const mp_obj_type_t ml_wav_reader_type;
#define TYPE(t) (&(t))
#endif

// ---------------------------------------------------------------------------------------------
// AudioFeatures(config) or AudioFeatures(**config)

typedef struct {
    mp_obj_base_t base;
    ml_dsp_audio_t a;
    void *memory;
    size_t memory_size;
} audio_obj_t;

static mp_obj_t audio_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    enum { A_VERSION, A_SAMPLE_RATE, A_FRAME_LENGTH, A_HOP, A_N_FFT, A_WINDOW, A_N_MELS, A_FMIN,
           A_FMAX, A_FLOOR_DB, A_N_MFCC, A_FIXED_POINT, N_A };
    const qstr names[N_A] = {  // not static: a native module's qstrs are known once loaded
        MP_QSTR_version, MP_QSTR_sample_rate, MP_QSTR_frame_length, MP_QSTR_hop, MP_QSTR_n_fft,
        MP_QSTR_window, MP_QSTR_n_mels, MP_QSTR_fmin, MP_QSTR_fmax, MP_QSTR_floor_db,
        MP_QSTR_n_mfcc, MP_QSTR_fixed_point,
    };
    mp_arg_t allowed[N_A];
    for (int i = 0; i < N_A; i++) {
        allowed[i].qst = names[i];
        allowed[i].flags = MP_ARG_KW_ONLY | MP_ARG_OBJ;
        allowed[i].defval.u_obj = MP_OBJ_NULL;
    }
    mp_arg_val_t a[N_A];
    ml_dsp_arg_config(n_args, n_kw, args, N_A, allowed, a, "AudioFeatures", "AudioConfig");
    #define GIVEN(i) (a[i].u_obj != MP_OBJ_NULL)
    if (GIVEN(A_VERSION) && ml_get_int(a[A_VERSION].u_obj, "version", 0, 1 << 20) != 1) {
        ml_raise_value("audio config version is %ld, this module reads version 1",
            (long)mp_obj_get_int(a[A_VERSION].u_obj));
    }
    if (!GIVEN(A_SAMPLE_RATE)) {
        ml_raise_value("config needs sample_rate (Hz)");
    }
    ml_dsp_audio_config_t c;
    memset(&c, 0, sizeof(c));
    c.sample_rate = ml_dsp_arg_float(a[A_SAMPLE_RATE].u_obj, "sample_rate");
    c.frame_length = GIVEN(A_FRAME_LENGTH) ? (uint32_t)ml_get_int(a[A_FRAME_LENGTH].u_obj,
        "frame_length", 1, ML_DSP_FFT_MAX) : 256;
    c.hop = GIVEN(A_HOP) ? (uint32_t)ml_get_int(a[A_HOP].u_obj, "hop", 1, ML_DSP_FFT_MAX)
        : c.frame_length / 2 ? c.frame_length / 2 : 1;
    if (GIVEN(A_N_FFT) && mp_obj_get_int(a[A_N_FFT].u_obj) != 0) {
        c.n_fft = (uint32_t)ml_get_int(a[A_N_FFT].u_obj, "n_fft", 1, ML_DSP_FFT_MAX);
    } else {  // the smallest power of two holding a frame
        c.n_fft = ML_DSP_FFT_MIN;
        while (c.n_fft < c.frame_length) {
            c.n_fft *= 2;
        }
    }
    c.window = GIVEN(A_WINDOW) ? ml_dsp_arg_window(a[A_WINDOW].u_obj, "window")
        : ML_DSP_WINDOW_HANN;
    c.n_mels = GIVEN(A_N_MELS) ? (uint32_t)ml_get_int(a[A_N_MELS].u_obj, "n_mels", 1,
        ML_DSP_AUDIO_MAX_MELS) : 40;
    c.fmin = GIVEN(A_FMIN) ? ml_dsp_arg_float(a[A_FMIN].u_obj, "fmin") : 0.0f;
    c.fmax = GIVEN(A_FMAX) ? ml_dsp_arg_float(a[A_FMAX].u_obj, "fmax") : 0.0f;
    if (c.fmax == 0.0f) {
        c.fmax = c.sample_rate / 2.0f;
    }
    c.floor_db = GIVEN(A_FLOOR_DB) ? ml_dsp_arg_float(a[A_FLOOR_DB].u_obj, "floor_db") : -100.0f;
    c.n_mfcc = GIVEN(A_N_MFCC) ? (uint32_t)ml_get_int(a[A_N_MFCC].u_obj, "n_mfcc", 0,
        ML_DSP_AUDIO_MAX_MELS) : 0;
    c.fixed_point = !GIVEN(A_FIXED_POINT) || mp_obj_is_true(a[A_FIXED_POINT].u_obj);
    #undef GIVEN
    size_t size;
    ml_error_t err;
    if (ml_dsp_audio_memory_size(&c, &size, &err) != ML_OK) {
        ml_raise_error(&err, 0);
    }
    void *mem = m_malloc(size);
    ml_dsp_audio_t fe;
    if (ml_dsp_audio_init(&fe, mem, &c, &err) != ML_OK) {
        ml_free(mem, size);
        ml_raise_error(&err, 0);
    }
    audio_obj_t *self = mp_obj_malloc(audio_obj_t, type);
    self->a = fe;
    self->memory = mem;
    self->memory_size = size;
    return MP_OBJ_FROM_PTR(self);
}

// process(x, out[, at]): with `at`, out is a ring of len(out) // n_features frames and the
// first frame completed goes to slot `at` (a sliding window over a stream, without copies).
static mp_obj_t audio_process(size_t n_args, const mp_obj_t *args) {
    audio_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    ml_array_t x, out;
    ml_get_array(args[1], "x", "h", false, &x);
    ml_get_array(args[2], "out", "f", true, &out);
    const size_t nf = self->a.n_features;
    const size_t frames = ml_dsp_audio_frames(&self->a, x.len);
    // Checked before any sample is consumed: a refused call leaves the stream as it was.
    if (out.len < frames * nf) {
        ml_raise_value("out has %lu values, but these %lu samples complete %lu frames of %lu "
            "features (size out with frames(len(x)))", (unsigned long)out.len,
            (unsigned long)x.len, (unsigned long)frames, (unsigned long)nf);
    }
    if (n_args == 3) {
        return MP_OBJ_NEW_SMALL_INT(ml_dsp_audio_process(&self->a, x.buf, x.len, out.buf));
    }
    const size_t slots = out.len / nf;
    const size_t at = (size_t)ml_get_int(args[3], "at", 0, slots ? (mp_int_t)slots - 1 : 0);
    return MP_OBJ_NEW_SMALL_INT(ml_dsp_audio_process_ring(&self->a, x.buf, x.len, out.buf, slots,
        at));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(audio_process_obj, 3, 4, audio_process);

static mp_obj_t audio_frame(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_array_t x;
    ml_get_array(x_in, "x", "h", false, &x);
    ml_check_length("x", x.len, self->a.cfg.frame_length, "(frame_length)");
    float *out = ml_get_float_out(out_in, "out", self->a.n_features, "(n_features)");
    ml_dsp_audio_frame(&self->a, x.buf, out);
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(audio_frame_obj, audio_frame);

static mp_obj_t audio_frames(mp_obj_t self_in, mp_obj_t n_in) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_int_t n = ml_get_int(n_in, "n", 0, 0x3fffffff);
    return MP_OBJ_NEW_SMALL_INT(ml_dsp_audio_frames(&self->a, (size_t)n));
}
static MP_DEFINE_CONST_FUN_OBJ_2(audio_frames_obj, audio_frames);

static mp_obj_t audio_reset(mp_obj_t self_in) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_dsp_audio_reset(&self->a);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(audio_reset_obj, audio_reset);

static void audio_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    audio_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    const ml_dsp_audio_config_t *c = &self->a.cfg;
    if (attr == MP_QSTR_n_features) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->a.n_features);
    } else if (attr == MP_QSTR_frame_length) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(c->frame_length);
    } else if (attr == MP_QSTR_hop) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(c->hop);
    } else if (attr == MP_QSTR_n_fft) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(c->n_fft);
    } else if (attr == MP_QSTR_n_mels) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(c->n_mels);
    } else if (attr == MP_QSTR_n_mfcc) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(c->n_mfcc);
    } else if (attr == MP_QSTR_sample_rate) {
        dest[0] = mp_obj_new_float_from_f(c->sample_rate);
    } else if (attr == MP_QSTR_fixed_point) {
        dest[0] = mp_obj_new_bool(c->fixed_point);
    } else if (attr == MP_QSTR_pending) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->a.n_pending);
    } else if (attr == MP_QSTR_memory) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->memory_size);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// WavReader(path_or_file)

typedef struct {
    mp_obj_base_t base;
    ml_source_t src;     // the stream, its readinto, a 256-byte chunk
    ml_wav_info_t info;
    uint32_t position;   // samples read
    bool closed;
} wav_obj_t;

static const char *wav_name(const wav_obj_t *self) {
    return self->src.path != MP_OBJ_NULL ? mp_obj_str_get_str(self->src.path) : "WAV file";
}

static mp_obj_t wav_seek(wav_obj_t *self, mp_int_t offset, mp_int_t whence) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(offset), MP_OBJ_NEW_SMALL_INT(whence) };
    return mp_call_function_n_kw(mp_load_attr(self->src.stream, MP_QSTR_seek), 2, 0, args);
}

// ml_wav_read_t over the stream: seek, then read through the chunk.
static size_t wav_read_at(void *ctx, uint32_t offset, uint8_t *buf, size_t n) {
    wav_obj_t *self = ctx;
    wav_seek(self, (mp_int_t)offset, 0);
    size_t got = 0;
    while (got < n) {
        size_t k = ml_source_read(&self->src);
        if (!k) {
            break;
        }
        if (k > n - got) {
            k = n - got;
        }
        memcpy(buf + got, self->src.chunk, k);
        got += k;
    }
    return got;
}

static void wav_close_stream(wav_obj_t *self) {
    if (!self->closed) {
        self->closed = true;
        ml_source_close(&self->src);
    }
}

static mp_obj_t wav_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    if (n_args != 1 || n_kw) {
        ml_raise_type("WavReader expects one argument: a path or a file opened for reading");
    }
    wav_obj_t *self = mp_obj_malloc(wav_obj_t, type);
    self->closed = true;
    ml_source_open(&self->src, args[0]);
    self->closed = false;
    self->position = 0;
    // The file's size (seek to its end), for the truncation checks.
    mp_obj_t dest[2];
    mp_load_method_maybe(self->src.stream, MP_QSTR_seek, dest);
    if (dest[0] == MP_OBJ_NULL) {
        wav_close_stream(self);
        ml_raise_type("WavReader needs a seekable file");
    }
    mp_int_t size = mp_obj_get_int(wav_seek(self, 0, 2));
    ml_error_t err;
    ml_status_t r;
    if (size < 0 || (mp_uint_t)size > 0xffffffffu) {
        r = ml_error_set(&err, ML_E_VALUE, 0, "file of %ld bytes, expected at most 4 GB",
            (long)size);
    } else {
        r = ml_wav_parse(wav_read_at, self, (uint32_t)size, &self->info, &err);
    }
    if (r != ML_OK) {
        // A copy of the message: closing the file may run Python code.
        char name[48];
        ml_format(name, sizeof(name), "%s", wav_name(self));
        wav_close_stream(self);
        ml_raise_value("%s: %s", name, err.msg);
    }
    wav_seek(self, (mp_int_t)self->info.data_offset, 0);
    return MP_OBJ_FROM_PTR(self);
}

// read(buf): up to len(buf) samples into buf (array('h')); the number read, 0 at the end.
static mp_obj_t wav_read(mp_obj_t self_in, mp_obj_t buf_in) {
    wav_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_array_t buf;
    ml_get_array(buf_in, "buf", "h", true, &buf);
    if (self->closed) {
        ml_raise_value("%s: read from a closed WavReader", wav_name(self));
    }
    size_t want = self->info.n_samples - self->position;
    if (want > buf.len) {
        want = buf.len;
    }
    const size_t bytes = 2 * want;
    size_t got = 0;
    if (want && want == buf.len) {
        // Straight into the caller's array (one readinto, no copy).
        mp_obj_t n = mp_call_function_n_kw(self->src.readinto, 1, 0, &buf_in);
        got = n == mp_const_none ? 0 : (size_t)mp_obj_get_int(n);
    }
    while (got < bytes) {  // the rest (or the end of the data) through the chunk
        size_t k = ml_source_read(&self->src);
        if (!k) {
            break;
        }
        const bool beyond = k > bytes - got;  // read past the samples this call wants
        if (beyond) {
            k = bytes - got;
        }
        memcpy((uint8_t *)buf.buf + got, self->src.chunk, k);
        got += k;
        if (beyond) {  // back to the next sample, for the next call
            wav_seek(self, (mp_int_t)(self->info.data_offset + 2 * (self->position + want)), 0);
        }
    }
    if (got < bytes) {
        ml_raise_value("%s: truncated: sample %lu of %lu could not be read", wav_name(self),
            (unsigned long)(self->position + got / 2), (unsigned long)self->info.n_samples);
    }
    ml_wav_samples_from_le(buf.buf, want);
    self->position += (uint32_t)want;
    return MP_OBJ_NEW_SMALL_INT(want);
}
static MP_DEFINE_CONST_FUN_OBJ_2(wav_read_obj, wav_read);

static mp_obj_t wav_close(mp_obj_t self_in) {
    wav_close_stream(MP_OBJ_TO_PTR(self_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(wav_close_obj, wav_close);

static void wav_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    wav_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;
    }
    if (attr == MP_QSTR_sample_rate) {
        dest[0] = mp_obj_new_int_from_uint(self->info.sample_rate);
    } else if (attr == MP_QSTR_n_samples) {
        dest[0] = mp_obj_new_int_from_uint(self->info.n_samples);
    } else if (attr == MP_QSTR_position) {
        dest[0] = mp_obj_new_int_from_uint(self->position);
    } else {
        dest[1] = MP_OBJ_SENTINEL;
    }
}

// ---------------------------------------------------------------------------------------------
// center(x, out, n_axes[, start]): each axis minus its mean over the window's frames; x may be
// a ring whose oldest frame is `start` (out gets the frames in time order)

static mp_obj_t dsp_center(size_t n_args, const mp_obj_t *args) {
    mp_obj_t x_in = args[0], out_in = args[1], n_axes_in = args[2];
    ml_array_t x, out;
    ml_get_array(x_in, "x", "f", false, &x);
    ml_get_array(out_in, "out", "f", true, &out);
    const size_t n_axes = (size_t)ml_get_int(n_axes_in, "n_axes", 1, 0x3fffffff);
    if (!x.len || x.len % n_axes) {
        ml_raise_value("x has %lu values, expected a non-zero multiple of n_axes (%lu): frames of "
            "n_axes features", (unsigned long)x.len, (unsigned long)n_axes);
    }
    ml_check_length("out", out.len, x.len, "(the length of x)");
    if (out.buf != x.buf && (const uint8_t *)out.buf < (const uint8_t *)x.buf + 4 * x.len
        && (const uint8_t *)x.buf < (const uint8_t *)out.buf + 4 * out.len) {
        ml_raise_value("out overlaps x without being x");
    }
    size_t bad = ml_dsp_find_nonfinite(x.buf, x.len);
    if (bad < x.len) {
        ml_raise_value("x[%lu] is not finite", (unsigned long)bad);
    }
    const size_t n_frames = x.len / n_axes;
    const size_t start = n_args > 3
        ? (size_t)ml_get_int(args[3], "start", 0, (mp_int_t)n_frames - 1) : 0;
    if (start && out.buf == x.buf) {
        ml_raise_value("out is x: a ring (start > 0) needs another out");
    }
    ml_dsp_center(x.buf, out.buf, n_frames, n_axes, start);
    return out_in;
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ml_dsp_center_obj, 3, 4, dsp_center);

// ---------------------------------------------------------------------------------------------
// Types

#define AUDIO_METHODS(X) X(MP_QSTR_process, audio_process_obj) X(MP_QSTR_frame, audio_frame_obj) \
    X(MP_QSTR_frames, audio_frames_obj) X(MP_QSTR_reset, audio_reset_obj)
#define WAV_METHODS(X) X(MP_QSTR_read, wav_read_obj) X(MP_QSTR_close, wav_close_obj)
#define COUNT(q, obj) +1

#if MICROPY_ENABLE_DYNRUNTIME

mp_map_elem_t audio_locals_table[0 AUDIO_METHODS(COUNT)];
mp_map_elem_t wav_locals_table[0 WAV_METHODS(COUNT)];
static MP_DEFINE_CONST_DICT(audio_locals, audio_locals_table);
static MP_DEFINE_CONST_DICT(wav_locals, wav_locals_table);

#define FILL(q, obj) table[i++] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(q), MP_OBJ_FROM_PTR(&obj) };

static void audio_type_init(mp_obj_full_type_t *t, qstr name, mp_make_new_fun_t make_new,
    mp_attr_fun_t attr, const mp_obj_dict_t *locals) {
    t->base.type = (void *)&mp_type_type;
    t->flags = MP_TYPE_FLAG_NONE;
    t->name = name;
    MP_OBJ_TYPE_SET_SLOT(t, make_new, make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(t, attr, attr, 1);
    MP_OBJ_TYPE_SET_SLOT(t, locals_dict, (void *)locals, 2);
}

// Called from mod_dsp.c's mpy_init.
void ml_dsp_audio_register(void) {
    size_t i;
    mp_map_elem_t *table;
    i = 0, table = audio_locals_table;
    AUDIO_METHODS(FILL)
    i = 0, table = wav_locals_table;
    WAV_METHODS(FILL)
    audio_type_init(&ml_audio_features_type, MP_QSTR_AudioFeatures, audio_make_new, audio_attr,
        &audio_locals);
    audio_type_init(&ml_wav_reader_type, MP_QSTR_WavReader, wav_make_new, wav_attr, &wav_locals);
    mp_store_global(MP_QSTR_AudioFeatures, MP_OBJ_FROM_PTR(&ml_audio_features_type));
    mp_store_global(MP_QSTR_WavReader, MP_OBJ_FROM_PTR(&ml_wav_reader_type));
    mp_store_global(MP_QSTR_center, MP_OBJ_FROM_PTR(&ml_dsp_center_obj));
}

#else

#define ROM_ENTRY(q, obj) { MP_ROM_QSTR(q), MP_ROM_PTR(&obj) },
static const mp_rom_map_elem_t audio_locals_table[] = { AUDIO_METHODS(ROM_ENTRY) };
static const mp_rom_map_elem_t wav_locals_table[] = { WAV_METHODS(ROM_ENTRY) };
static MP_DEFINE_CONST_DICT(audio_locals, audio_locals_table);
static MP_DEFINE_CONST_DICT(wav_locals, wav_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(ml_audio_features_type, MP_QSTR_AudioFeatures, MP_TYPE_FLAG_NONE,
    make_new, audio_make_new, attr, audio_attr, locals_dict, &audio_locals);
MP_DEFINE_CONST_OBJ_TYPE(ml_wav_reader_type, MP_QSTR_WavReader, MP_TYPE_FLAG_NONE,
    make_new, wav_make_new, attr, wav_attr, locals_dict, &wav_locals);

#endif
