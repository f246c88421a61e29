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

// A message cut to the buffer's size may end inside a UTF-8 character (a user's string, a
// path), and a model file's bytes quoted in a message need not be UTF-8 at all; MicroPython
// refuses such a str with a bare UnicodeError. So: a character cut at the end is dropped, and
// any other byte that is not part of a well-formed sequence becomes '?'. Returns the length.
static size_t utf8_clean(char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = (uint8_t)s[i];
        size_t len = c < 0x80 ? 1 : c < 0xc0 ? 0 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : c < 0xf8 ? 4 : 0;
        size_t j = 1;
        while (len && j < len && i + j < n && ((uint8_t)s[i + j] & 0xc0) == 0x80) {
            j++;
        }
        if (len && j < len && i + j == n) {
            return i;  // the last character was cut
        }
        if (!len || j < len) {
            s[i++] = '?';
            continue;
        }
        i += len;
    }
    return n;
}

// Exceptions with a message formatted by the core's ml_vformat (%s %d %u %ld %lu %c).
#define RAISE_FORMATTED(type, fmt) do { \
        char msg[ML_ERROR_MSG_LEN + 64]; \
        va_list ap; \
        va_start(ap, fmt); \
        size_t n = ml_vformat(msg, sizeof(msg), fmt, ap); \
        va_end(ap); \
        n = utf8_clean(msg, n < sizeof(msg) ? n : sizeof(msg) - 1); \
        mp_raise_type_arg(type, mp_obj_new_str(msg, n)); \
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
        ml_raise_type_got(obj, name, "a writable array('f')");
    }
    ml_check_length(name, info.len / sizeof(float), n, what);
    return info.buf;
}

void ml_get_output(mp_obj_t obj, const char *name, size_t n, ml_out_kind_t kind, ml_output_t *out) {
    mp_buffer_info_t info;
    if (!mp_get_buffer(obj, &info, MP_BUFFER_WRITE)) {
        ml_raise_type_got(obj, name, "a writable array");
    }
    char t = (char)info.typecode;
    int is_float = t == 'f' || t == 'd';
    int is_int = t == 'b' || t == 'B' || t == 'h' || t == 'H' || t == 'i' || t == 'I'
        || t == 'l' || t == 'L';
    if (kind == ML_OUT_FLOAT ? !is_float : !(is_float || is_int)) {
        ml_raise_type_got(obj, name, kind == ML_OUT_FLOAT ? "array('f') or array('d')"
            : "an int or float array");
    }
    size_t size = mp_binary_get_size('@', t, NULL);
    ml_check_length(name, info.len / size, n, "(one per sample)");
    out->buf = info.buf;
    out->typecode = t;
    out->size = (uint8_t)size;
}

void ml_check_output_range(const ml_output_t *out, const char *name, int64_t lo, int64_t hi,
    const char *what) {
    int64_t min, max;
    switch (out->typecode) {
        case 'b': min = -128, max = 127; break;
        case 'B': min = 0, max = 255; break;
        case 'h': min = -32768, max = 32767; break;
        case 'H': min = 0, max = 65535; break;
        case 'f': min = -(1 << 24), max = 1 << 24; break;  // integers a float32 holds exactly
        case 'd': return;
        default:
            if (out->size >= 8) {
                return;
            }
            min = out->typecode == 'I' || out->typecode == 'L' ? 0 : INT32_MIN;
            max = out->typecode == 'I' || out->typecode == 'L' ? (int64_t)UINT32_MAX : INT32_MAX;
            break;
    }
    if (lo < min || hi > max) {
        char got[16];
        ml_format(got, sizeof(got), "array('%c')", out->typecode);
        ml_raise_value("%s is %s, which cannot hold %s %ld..%ld: use array('i')", name, got,
            what, (long)lo, (long)hi);
    }
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

// ---------------------------------------------------------------------------------------------
// Naming what the caller passed

static bool same_str(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

const char *ml_type_name(mp_obj_t obj) {
    #if MICROPY_ENABLE_DYNRUNTIME
    // A native module cannot read qstrs by number: ask the type for its __name__.
    mp_obj_t dest[2];
    mp_load_method_maybe(MP_OBJ_FROM_PTR(mp_obj_get_type(obj)), MP_QSTR___name__, dest);
    return dest[0] != MP_OBJ_NULL && mp_obj_is_str(dest[0]) ? mp_obj_str_get_str(dest[0])
        : "an object";
    #else
    return mp_obj_get_type_str(obj);
    #endif
}

void ml_describe(mp_obj_t obj, char *buf, size_t size) {
    const char *type = ml_type_name(obj);
    mp_buffer_info_t info;
    // Arrays and memoryviews are known by their typecode; a bytearray's is 1, bytes' 'B'.
    if ((same_str(type, "array") || same_str(type, "memoryview"))
        && mp_get_buffer(obj, &info, MP_BUFFER_READ)
        && info.typecode >= 0x20 && info.typecode < 0x7f) {
        ml_format(buf, size, "%s('%c')", type, (char)info.typecode);
    } else {
        ml_format(buf, size, "%s", type);
    }
}

NORETURN void ml_raise_type_got(mp_obj_t obj, const char *name, const char *expected) {
    char got[32];
    ml_describe(obj, got, sizeof(got));
    ml_raise_type("%s must be %s, got %s", name, expected, got);
}

// ---------------------------------------------------------------------------------------------
// Numbers

mp_int_t ml_get_int_in(mp_obj_t obj, const char *name, mp_int_t lo, mp_int_t hi,
    const char *expected) {
    if (!mp_obj_is_int(obj)) {
        ml_raise_type_got(obj, name, "an int");
    }
    char range[48];
    if (!expected) {
        ml_format(range, sizeof(range), "%ld..%ld", (long)lo, (long)hi);
        expected = range;
    }
    if (mp_obj_is_small_int(obj)) {
        mp_int_t v = MP_OBJ_SMALL_INT_VALUE(obj);
        if (v < lo || v > hi) {
            ml_raise_value("%s is %ld, expected %s", name, (long)v, expected);
        }
        return v;
    }
    // A big int: compared exactly, never truncated to a machine word (2**64 + 10 is not 10).
    if (mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS_EQUAL, mp_obj_new_int(lo), obj))
        && mp_obj_is_true(mp_binary_op(MP_BINARY_OP_LESS_EQUAL, obj, mp_obj_new_int(hi)))) {
        return mp_obj_get_int(obj);
    }
    mp_obj_t text = mp_call_function_n_kw(mp_load_global(MP_QSTR_str), 1, 0, &obj);
    ml_raise_value("%s is %s, expected %s", name, mp_obj_str_get_str(text), expected);
}

mp_int_t ml_get_int(mp_obj_t obj, const char *name, mp_int_t lo, mp_int_t hi) {
    return ml_get_int_in(obj, name, lo, hi, NULL);
}

// ---------------------------------------------------------------------------------------------
// Overlapping buffers

bool ml_overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes) {
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    return a_bytes && b_bytes && pa < pb + b_bytes && pb < pa + a_bytes;
}

void ml_check_no_overlap(const char *in_name, const void *in, size_t in_bytes,
    const char *out_name, const void *out, size_t out_bytes) {
    if (ml_overlap(in, in_bytes, out, out_bytes)) {
        ml_raise_value("%s and %s overlap in memory: pass separate arrays", in_name, out_name);
    }
}

// ---------------------------------------------------------------------------------------------
// Typed buffers

void ml_get_array(mp_obj_t obj, const char *name, const char *typecodes, bool writable,
    ml_array_t *a) {
    // "array('f') or array('h')" from the accepted typecodes.
    mp_buffer_info_t info;
    bool ok = mp_get_buffer(obj, &info, writable ? MP_BUFFER_WRITE : MP_BUFFER_READ);
    const char *t = typecodes;
    while (ok && *t && *t != (char)info.typecode) {
        t++;
    }
    if (!ok || !*t) {
        // "array('f') or array('h')" from the accepted typecodes.
        char want[80];
        size_t w = ml_format(want, sizeof(want), "%s", ok || !writable ? "" : "a writable ");
        for (t = typecodes; *t && w + 16 < sizeof(want); t++) {
            w += ml_format(want + w, sizeof(want) - w, "%sarray('%c')", t == typecodes ? ""
                : t[1] ? ", " : " or ", *t);
        }
        ml_raise_type_got(obj, name, want);
    }
    a->buf = info.buf;
    a->typecode = (char)info.typecode;
    a->len = info.len / mp_binary_get_size('@', info.typecode, NULL);
}
