// Reading the text model files: a streaming tokenizer that yields one comma-separated field at a
// time (so a line may be arbitrarily long while the reader keeps a fixed, small buffer), and
// exact number parsing for the values in them.
#ifndef MICROLEARN_ML_TEXT_H
#define MICROLEARN_ML_TEXT_H

#include <stdint.h>

#define ML_FIELD_MAX (63)

typedef struct {
    char text[ML_FIELD_MAX + 1];  // the completed field, NUL-terminated, blanks trimmed
    uint8_t too_long;    // the completed field had more than ML_FIELD_MAX characters
    uint32_t line;       // 1-based line of the completed field
    uint32_t index;      // 0-based position of the completed field in its line
    // reader state
    uint16_t len;
    uint8_t overflow;
    uint8_t skipping;    // inside a comment line
    uint8_t line_empty;  // nothing but blanks seen on this line so far
    uint32_t next_line;
    uint32_t next_index;
} ml_fields_t;

typedef enum {
    ML_FIELD_NONE = 0,  // nothing completed yet
    ML_FIELD,           // a field completed, more follow on its line
    ML_FIELD_LAST,      // a field completed and ended its line
} ml_field_event_t;

void ml_fields_init(ml_fields_t *f);

// Consumes one byte. Blank lines and lines starting with '#' are skipped; '\r' is ignored.
ml_field_event_t ml_fields_push(ml_fields_t *f, char c);

// At end of input: completes a last line that had no newline.
ml_field_event_t ml_fields_end(ml_fields_t *f);

// String equality (the core does not link the C library).
int ml_text_equals(const char *a, const char *b);

// Decimal integer with optional sign. Returns 0 on success, -1 if not a number or out of range.
int ml_parse_int(const char *s, int32_t *out);

// A decimal ("-1.25e-3"), a C99/Python hexadecimal float ("0x1.8p+2", exact), "inf", "-inf"
// or "nan". Returns 0 on success, -1 if not a number.
int ml_parse_double(const char *s, double *out);

#endif
