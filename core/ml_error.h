// Errors of the microlearn core: a code, the model-file line it concerns, and a message that
// says what is wrong and what was expected. The core never allocates; the message is formatted
// into the struct, and bindings turn it into an exception of their language.
#ifndef MICROLEARN_ML_ERROR_H
#define MICROLEARN_ML_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ML_OK = 0,
    ML_E_FORMAT,     // the model file is malformed
    ML_E_VALUE,      // a value is out of range (index, count, size)
    ML_E_TRUNCATED,  // the model file ended early
    ML_E_SIZE,       // an array has the wrong length
    ML_E_INPUT,      // an input value is not accepted (NaN, inf)
    ML_E_STATE,      // a call out of order (e.g. predict before load)
} ml_status_t;

#define ML_ERROR_MSG_LEN (128)

typedef struct {
    ml_status_t code;
    uint32_t line;  // 1-based line in the model file, 0 when not about a file
    char msg[ML_ERROR_MSG_LEN];
} ml_error_t;

// Sets err (if not NULL) and returns code. The format understands %s %d %u %x %ld %lu %lx %c %%.
ml_status_t ml_error_set(ml_error_t *err, ml_status_t code, uint32_t line, const char *fmt, ...);
// The same with the arguments as a va_list (for wrappers that fix code and line).
ml_status_t ml_error_vset(ml_error_t *err, ml_status_t code, uint32_t line, const char *fmt,
    va_list ap);

// A small formatter into buf (always NUL-terminated), same conversions as ml_error_set.
size_t ml_vformat(char *buf, size_t size, const char *fmt, va_list ap);
size_t ml_format(char *buf, size_t size, const char *fmt, ...);

#endif
