#include <string.h>

#include "ml_text.h"

void ml_fields_init(ml_fields_t *f) {
    memset(f, 0, sizeof(*f));
    f->line_empty = 1;
    f->next_line = 1;
}

static ml_field_event_t complete(ml_fields_t *f, int last) {
    uint16_t n = f->len < ML_FIELD_MAX ? f->len : ML_FIELD_MAX;
    while (n && (f->text[n - 1] == ' ' || f->text[n - 1] == '\t')) {
        n--;
    }
    f->text[n] = '\0';
    f->too_long = f->overflow;
    f->line = f->next_line;
    f->index = f->next_index;
    f->len = 0;
    f->overflow = 0;
    if (last) {
        f->next_line++;
        f->next_index = 0;
        f->line_empty = 1;
        return ML_FIELD_LAST;
    }
    f->next_index++;
    return ML_FIELD;
}

ml_field_event_t ml_fields_push(ml_fields_t *f, char c) {
    if (f->skipping) {
        if (c == '\n') {
            f->skipping = 0;
            f->next_line++;
        }
        return ML_FIELD_NONE;
    }
    if (c == '\r') {
        return ML_FIELD_NONE;
    }
    if (f->line_empty) {
        if (c == '\n') {
            f->next_line++;  // a blank line
            return ML_FIELD_NONE;
        }
        if (c == ' ' || c == '\t') {
            return ML_FIELD_NONE;
        }
        if (c == '#') {
            f->skipping = 1;
            return ML_FIELD_NONE;
        }
        f->line_empty = 0;
    }
    if (c == ',' || c == '\n') {
        return complete(f, c == '\n');
    }
    if (f->len == 0 && (c == ' ' || c == '\t')) {
        return ML_FIELD_NONE;  // leading blanks of a field
    }
    if (f->len < ML_FIELD_MAX) {
        // A NUL byte would end the field's string early and hide what follows it; stored as '?',
        // the field reads as what it is: not a number, not a record type.
        f->text[f->len++] = c ? c : '?';
    } else {
        f->overflow = 1;
    }
    return ML_FIELD_NONE;
}

ml_field_event_t ml_fields_end(ml_fields_t *f) {
    if (f->skipping || f->line_empty) {
        return ML_FIELD_NONE;
    }
    return complete(f, 1);
}

int ml_text_equals(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++, b++;
    }
    return *a == *b;
}

int ml_parse_int(const char *s, int32_t *out) {
    int neg = 0;
    if (*s == '-' || *s == '+') {
        neg = *s++ == '-';
    }
    if (!*s) {
        return -1;
    }
    uint64_t v = 0;  // at most 2^31 before each step, so v * 10 + 9 cannot wrap
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > 0x80000000u) {
            return -1;
        }
    }
    if (!neg && v == 0x80000000u) {
        return -1;
    }
    *out = neg ? (int32_t)(0u - (uint32_t)v) : (int32_t)v;
    return 0;
}

static int hex_digit(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static int same_word(const char *s, const char *word) {
    for (; *s && *word; s++, word++) {
        char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
        if (c != *word) {
            return 0;
        }
    }
    return *s == '\0' && *word == '\0';
}

// m * 2^e as a double, exact unless the result overflows or is subnormal. m < 2^63.
static double scale2(uint64_t m, int32_t e) {
    double v = (double)m;  // exact: callers keep m below 2^53 or accept rounding here
    while (e > 0) {
        int k = e > 60 ? 60 : e;
        v *= (double)((uint64_t)1 << k);
        e -= k;
    }
    while (e < 0) {
        int k = e < -60 ? 60 : -e;
        v *= 1.0 / (double)((uint64_t)1 << k);  // 1/2^k is exact, so each step is exact
        e += k;
    }
    return v;
}

static int parse_hex(const char *s, double *out) {
    // Keep at most 60 significant bits; hex floats from Python or %a have 53.
    uint64_t m = 0;
    int32_t e = 0;
    int digits = 0, dropped = 0, point = 0;
    for (; *s && *s != 'p' && *s != 'P'; s++) {
        if (*s == '.') {
            if (point) {
                return -1;
            }
            point = 1;
            continue;
        }
        int d = hex_digit(*s);
        if (d < 0) {
            return -1;
        }
        digits++;
        if (m >> 56) {
            dropped |= d;  // below 60 bits: only rounding would notice
            if (!point) {
                e += 4;
            }
        } else {
            m = (m << 4) | (uint64_t)d;
            if (point) {
                e -= 4;
            }
        }
    }
    if (!digits) {
        return -1;
    }
    if (*s == 'p' || *s == 'P') {
        int32_t pe;
        if (ml_parse_int(s + 1, &pe) || pe > 100000 || pe < -100000) {
            return -1;
        }
        e += pe;
    }
    // Round once, to nearest even, to the bits the double keeps: 53, fewer when the result is
    // subnormal (no bit below 2^-1074), so scale2 is exact. Rounding to 53 bits and then again
    // in scale2 could round twice: 0x1.17fffffffffffffp-1070 is below the halfway point.
    int bits = 0;
    for (uint64_t t = m; t; t >>= 1) {
        bits++;
    }
    int32_t shift = bits - 53;
    if (shift < -1074 - e) {
        shift = -1074 - e;
    }
    if (shift > 63) {
        m = 0;  // below 2^-1075: rounds to zero
    } else if (shift > 0) {
        uint64_t rest = m & (((uint64_t)1 << shift) - 1);
        uint64_t half = (uint64_t)1 << (shift - 1);
        m >>= shift;
        e += shift;
        if (rest > half || (rest == half && (dropped || (m & 1)))) {
            m++;
        }
    }
    *out = scale2(m, e);
    return 0;
}

// Exact powers of ten representable in a double.
static const double pow10_exact[] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int parse_decimal(const char *s, double *out) {
    // Up to 19 significant digits in an integer, then one scaling by a power of ten. When the
    // digits fit 53 bits and the power is at most 22 this is correctly rounded; otherwise it is
    // within a few units in the last place, which only hand-written files rely on (the converter
    // writes exact hexadecimal floats).
    uint64_t m = 0;
    int32_t e = 0;
    int digits = 0, point = 0;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            if (point) {
                return -1;
            }
            point = 1;
            continue;
        }
        if (*s < '0' || *s > '9') {
            return -1;
        }
        digits++;
        if (m < 1000000000000000000ull) {
            m = m * 10 + (uint64_t)(*s - '0');
            if (point) {
                e--;
            }
        } else if (!point) {
            e++;
        }
    }
    if (!digits) {
        return -1;
    }
    if (*s == 'e' || *s == 'E') {
        int32_t pe;
        if (ml_parse_int(s + 1, &pe) || pe > 100000 || pe < -100000) {
            return -1;
        }
        e += pe;
    }
    double v = (double)m;
    if (m == 0) {
        *out = 0.0;
        return 0;
    }
    while (e > 22) {
        v *= 1e22;
        e -= 22;
    }
    while (e < -22) {
        v /= 1e22;
        e += 22;
    }
    if (e > 0) {
        v *= pow10_exact[e];
    } else if (e < 0) {
        v /= pow10_exact[-e];
    }
    *out = v;
    return 0;
}

int ml_parse_double(const char *s, double *out) {
    int neg = 0;
    if (*s == '-' || *s == '+') {
        neg = *s++ == '-';
    }
    double v;
    if (same_word(s, "inf") || same_word(s, "infinity")) {
        uint64_t bits = 0x7ff0000000000000ull;
        memcpy(&v, &bits, sizeof(v));
    } else if (same_word(s, "nan")) {
        uint64_t bits = 0x7ff8000000000000ull;
        memcpy(&v, &bits, sizeof(v));
    } else if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (parse_hex(s + 2, &v)) {
            return -1;
        }
    } else if (parse_decimal(s, &v)) {
        return -1;
    }
    *out = neg ? -v : v;
    return 0;
}
