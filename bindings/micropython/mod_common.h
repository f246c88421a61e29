// Shared glue of the microlearn MicroPython modules: reading model files in chunks, checking
// array arguments, and turning core errors into exceptions. Compiles as a native module
// (dynruntime) and into firmware as a user C module.
#ifndef MICROLEARN_MOD_COMMON_H
#define MICROLEARN_MOD_COMMON_H

#if MICROPY_ENABLE_DYNRUNTIME
#include "py/dynruntime.h"
#define ml_free(ptr, size) m_free(ptr)
#define ml_malloc_maybe(n) m_realloc_maybe(NULL, (n), false)
#else
#include "py/binary.h"
#include "py/objtuple.h"
#include "py/runtime.h"
#define ml_malloc_maybe(n) m_malloc_maybe(n)
#if MICROPY_MALLOC_USES_ALLOCATED_SIZE
#define ml_free(ptr, size) m_free(ptr, size)
#else
#define ml_free(ptr, size) m_free(ptr)
#endif
#endif

#include "ml_blob.h"
#include "ml_error.h"

// A model file being read: a path we opened, or a stream the caller gave (anything with
// readinto). Reads go through a small fixed chunk on the C stack.
#define ML_CHUNK (256)
typedef struct {
    mp_obj_t stream;
    mp_obj_t path;      // the path, or MP_OBJ_NULL for a caller's stream
    mp_obj_t readinto;  // bound method
    mp_obj_t chunk_obj; // a bytearray over chunk
    char chunk[ML_CHUNK];
} ml_source_t;

void ml_source_open(ml_source_t *src, mp_obj_t source);
size_t ml_source_read(ml_source_t *src);
void ml_source_rewind(ml_source_t *src);
void ml_source_close(ml_source_t *src);

// Binary models (core/ml_blob.h; mod_blob.c): used in place from a buffer, or read once into a
// block of exactly their size.
typedef struct {
    ml_blob_t blob;
    void *block;        // the block the model was copied into, or NULL when used in place
    size_t block_size;
    mp_obj_t buffer;    // the caller's buffer used in place (the model must keep it alive)
} ml_blob_load_t;

// Opens a binary model of `kind` from `source`: a buffer object (bytes, bytearray, memoryview,
// e.g. the bytes constant of an imported .mpy or a file in ROMFS) is used in place, or copied
// once if its address is not 4-byte aligned; a path or a readable stream is read into one
// exact-size block. Raises ValueError naming the source; nothing stays allocated then.
void ml_blob_load(mp_obj_t source, uint16_t kind, uint16_t max_version, ml_blob_load_t *out);
// The same for a model file of which the first `have` bytes are already in src->chunk (for a
// loader that looked at the start to tell binary from text). Returns the error instead of
// raising, so that the caller closes the file first (then ml_raise_model_error).
ml_status_t ml_blob_load_rest(ml_source_t *src, size_t have, uint16_t kind,
    uint16_t max_version, ml_blob_load_t *out, ml_error_t *err);

// Raises ValueError "<path> line <n>: <message>" for an error in a model file.
NORETURN void ml_raise_model_error(const ml_source_t *src, const ml_error_t *err);
// Raises the exception for an error of a predict/process call; sample is the index of the
// sample in a batch call (only named when > 0).
NORETURN void ml_raise_error(const ml_error_t *err, size_t sample);

// Input features: array('f') or array('h'), or a buffer with those typecodes.
typedef struct {
    const void *buf;
    size_t len;  // values
    char typecode;
} ml_features_t;
void ml_get_features(mp_obj_t obj, const char *name, ml_features_t *x);

// ValueError "<name> has <got> values, expected <expected> <what>".
NORETURN void ml_raise_length(const char *name, size_t got, size_t expected, const char *what);
void ml_check_length(const char *name, size_t got, size_t expected, const char *what);

// A writable array('f') of exactly n values.
float *ml_get_float_out(mp_obj_t obj, const char *name, size_t n, const char *what);

// A writable output array of n values for batch results.
typedef enum { ML_OUT_FLOAT, ML_OUT_INT_OR_FLOAT } ml_out_kind_t;
typedef struct {
    void *buf;
    char typecode;
    uint8_t size;
} ml_output_t;
void ml_get_output(mp_obj_t obj, const char *name, size_t n, ml_out_kind_t kind, ml_output_t *out);
void ml_output_set_int(const ml_output_t *out, size_t i, int32_t v);
// ValueError unless every integer in lo..hi fits the output's type exactly (an int8 array
// would wrap a label 200 into -56, a float32 one round 16777217): what names the values.
void ml_check_output_range(const ml_output_t *out, const char *name, int64_t lo, int64_t hi,
    const char *what);
void ml_output_set_float(const ml_output_t *out, size_t i, double v);

// ValueError / TypeError with a message formatted by ml_vformat (the core's conversions).
NORETURN void ml_raise_value(const char *fmt, ...);
NORETURN void ml_raise_type(const char *fmt, ...);

// A buffer whose typecode is one of `typecodes` (e.g. "fh"): TypeError naming the argument and
// the accepted array types otherwise. len counts values; writable asks for a writable buffer.
typedef struct {
    void *buf;
    size_t len;
    char typecode;
} ml_array_t;
void ml_get_array(mp_obj_t obj, const char *name, const char *typecodes, bool writable,
    ml_array_t *a);

// The name of obj's type ("bytearray", "list", ...), and a description for error messages
// that also gives an array's or memoryview's typecode ("array('i')").
const char *ml_type_name(mp_obj_t obj);
void ml_describe(mp_obj_t obj, char *buf, size_t size);
// TypeError "<name> must be <expected>, got <what obj is>".
NORETURN void ml_raise_type_got(mp_obj_t obj, const char *name, const char *expected);

// An int argument in lo..hi: TypeError if obj is not an int, ValueError naming the argument if
// it is out of range (big ints included: never truncated to a machine word).
mp_int_t ml_get_int(mp_obj_t obj, const char *name, mp_int_t lo, mp_int_t hi);
// The same, with what is expected in words instead of "lo..hi" in the message.
mp_int_t ml_get_int_in(mp_obj_t obj, const char *name, mp_int_t lo, mp_int_t hi,
    const char *expected);

// Whether two byte ranges share memory; ValueError naming both if an input and an output do.
bool ml_overlap(const void *a, size_t a_bytes, const void *b, size_t b_bytes);
void ml_check_no_overlap(const char *in_name, const void *in, size_t in_bytes,
    const char *out_name, const void *out, size_t out_bytes);

#endif
