#include "mod_common.h"

#if MICROPY_ENABLE_DYNRUNTIME
// A native module links no C library: the compiler's own calls to these go to MicroPython's.
void *memset(void *s, int c, size_t n) {
    return mp_fun_table.memset_(s, c, n);
}
void *memmove(void *d, const void *s, size_t n) {
    return mp_fun_table.memmove_(d, s, n);
}
void *memcpy(void *d, const void *s, size_t n) {
    return mp_fun_table.memmove_(d, s, n);
}
#endif

// Exceptions with a message formatted by the core's ml_vformat (%s %d %u %ld %lu %c).
#define RAISE_FORMATTED(type, fmt) do { \
        char msg[ML_ERROR_MSG_LEN + 64]; \
        va_list ap; \
        va_start(ap, fmt); \
        size_t n = ml_vformat(msg, sizeof(msg), fmt, ap); \
        va_end(ap); \
        mp_raise_type_arg(type, mp_obj_new_str(msg, n < sizeof(msg) ? n : sizeof(msg) - 1)); \
} while (0)

NORETURN void ml_raise_value(const char *fmt, ...) {
    RAISE_FORMATTED(&mp_type_ValueError, fmt);
}

NORETURN void ml_raise_type(const char *fmt, ...) {
    RAISE_FORMATTED(&mp_type_TypeError, fmt);
}

// ---------------------------------------------------------------------------------------------
// Model files

static void source_start(ml_source_t *src) {
    if (src->path != MP_OBJ_NULL) {
        mp_obj_t args[2] = { src->path, MP_OBJ_NEW_QSTR(MP_QSTR_rb) };
        src->stream = mp_call_function_n_kw(mp_load_global(MP_QSTR_open), 2, 0, args);
    }
    mp_obj_t dest[2];
    mp_load_method_maybe(src->stream, MP_QSTR_readinto, dest);
    if (dest[0] == MP_OBJ_NULL) {
        mp_raise_TypeError(MP_ERROR_TEXT("load: expected a path or a file opened for reading"));
    }
    src->readinto = mp_load_attr(src->stream, MP_QSTR_readinto);
}

void ml_source_open(ml_source_t *src, mp_obj_t source) {
    src->path = mp_obj_is_str(source) ? source : MP_OBJ_NULL;
    src->stream = source;
    src->chunk_obj = mp_obj_new_bytearray_by_ref(ML_CHUNK, src->chunk);
    source_start(src);
}

size_t ml_source_read(ml_source_t *src) {
    mp_obj_t n = mp_call_function_n_kw(src->readinto, 1, 0, &src->chunk_obj);
    if (n == mp_const_none) {
        return 0;  // a non-blocking stream with nothing to read: treat as end
    }
    mp_int_t got = mp_obj_get_int(n);
    return got < 0 ? 0 : got > ML_CHUNK ? ML_CHUNK : (size_t)got;
}

void ml_source_rewind(ml_source_t *src) {
    if (src->path != MP_OBJ_NULL) {
        ml_source_close(src);
        source_start(src);
        return;
    }
    mp_obj_t dest[3];
    mp_load_method_maybe(src->stream, MP_QSTR_seek, dest);
    if (dest[0] == MP_OBJ_NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT(
            "load: this file format is read twice; pass a path or a seekable file"));
    }
    mp_obj_t args[1] = { MP_OBJ_NEW_SMALL_INT(0) };
    mp_call_function_n_kw(mp_load_attr(src->stream, MP_QSTR_seek), 1, 0, args);
}

void ml_source_close(ml_source_t *src) {
    if (src->path != MP_OBJ_NULL) {
        mp_call_function_n_kw(mp_load_attr(src->stream, MP_QSTR_close), 0, 0, NULL);
    }
}

NORETURN void ml_raise_model_error(const ml_source_t *src, const ml_error_t *err) {
    const char *name = src->path != MP_OBJ_NULL ? mp_obj_str_get_str(src->path) : "model file";
    if (err->line) {
        ml_raise_value("%s line %lu: %s", name, (unsigned long)err->line, err->msg);
    }
    ml_raise_value("%s: %s", name, err->msg);
}

NORETURN void ml_raise_error(const ml_error_t *err, size_t sample) {
    if (sample) {
        ml_raise_value("sample %lu: %s", (unsigned long)sample, err->msg);
    }
    ml_raise_value("%s", err->msg);
}

// ---------------------------------------------------------------------------------------------
// Arrays

void ml_get_features(mp_obj_t obj, const char *name, ml_features_t *x) {
    ml_array_t a;
    ml_get_array(obj, name, "fh", false, &a);
    if (a.len == 0) {
        ml_raise_value("%s is empty", name);
    }
    x->buf = a.buf;
    x->len = a.len;
    x->typecode = a.typecode;
}

NORETURN void ml_raise_length(const char *name, size_t got, size_t expected, const char *what) {
    ml_raise_value("%s has %lu values, expected %lu %s", name, (unsigned long)got,
        (unsigned long)expected, what);
}

void ml_check_length(const char *name, size_t got, size_t expected, const char *what) {
    if (got != expected) {
        ml_raise_length(name, got, expected, what);
    }
}

float *ml_get_float_out(mp_obj_t obj, const char *name, size_t n, const char *what) {
    mp_buffer_info_t info;
    if (!mp_get_buffer(obj, &info, MP_BUFFER_WRITE) || info.typecode != 'f') {
        ml_raise_type("%s must be a writable array('f')", name);
    }
    ml_check_length(name, info.len / sizeof(float), n, what);
    return info.buf;
}

void ml_get_output(mp_obj_t obj, const char *name, size_t n, ml_out_kind_t kind, ml_output_t *out) {
    mp_buffer_info_t info;
    if (!mp_get_buffer(obj, &info, MP_BUFFER_WRITE)) {
        ml_raise_type("%s must be a writable array", name);
    }
    char t = (char)info.typecode;
    int is_float = t == 'f' || t == 'd';
    int is_int = t == 'b' || t == 'B' || t == 'h' || t == 'H' || t == 'i' || t == 'I'
        || t == 'l' || t == 'L';
    if (kind == ML_OUT_FLOAT ? !is_float : !(is_float || is_int)) {
        ml_raise_type(kind == ML_OUT_FLOAT ? "%s must be array('f') or array('d'), got "
            "typecode '%c'" : "%s must be an int or float array, got typecode '%c'", name, t);
    }
    size_t size = mp_binary_get_size('@', t, NULL);
    ml_check_length(name, info.len / size, n, "(one per sample)");
    out->buf = info.buf;
    out->typecode = t;
    out->size = (uint8_t)size;
}

void ml_output_set_float(const ml_output_t *out, size_t i, double v) {
    if (out->typecode == 'f') {
        ((float *)out->buf)[i] = (float)v;
    } else if (out->typecode == 'd') {
        ((double *)out->buf)[i] = v;
    } else {
        ml_output_set_int(out, i, (int32_t)v);
    }
}

void ml_output_set_int(const ml_output_t *out, size_t i, int32_t v) {
    if (out->typecode == 'f' || out->typecode == 'd') {
        ml_output_set_float(out, i, (double)v);
        return;
    }
    switch (out->size) {
        case 1:
            ((int8_t *)out->buf)[i] = (int8_t)v;
            break;
        case 2:
            ((int16_t *)out->buf)[i] = (int16_t)v;
            break;
        case 4:
            ((int32_t *)out->buf)[i] = v;
            break;
        default:
            ((int64_t *)out->buf)[i] = v;
            break;
    }
}

// ---------------------------------------------------------------------------------------------
// Typed buffers

void ml_get_array(mp_obj_t obj, const char *name, const char *typecodes, bool writable,
    ml_array_t *a) {
    // "array('f') or array('h')" from the accepted typecodes.
    char want[64];
    size_t w = 0;
    for (const char *t = typecodes; *t && w + 16 < sizeof(want); t++) {
        w += ml_format(want + w, sizeof(want) - w, "%sarray('%c')", t == typecodes ? ""
            : t[1] ? ", " : " or ", *t);
    }
    mp_buffer_info_t info;
    if (!mp_get_buffer(obj, &info, writable ? MP_BUFFER_WRITE : MP_BUFFER_READ)) {
        ml_raise_type("%s must be %s%s", name, writable ? "a writable " : "", want);
    }
    const char *t = typecodes;
    while (*t && *t != (char)info.typecode) {
        t++;
    }
    if (!*t) {
        ml_raise_type("%s must be %s, got typecode '%c'", name, want, (char)info.typecode);
    }
    a->buf = info.buf;
    a->typecode = (char)info.typecode;
    a->len = info.len / mp_binary_get_size('@', info.typecode, NULL);
}
