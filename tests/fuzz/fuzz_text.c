// libFuzzer harness of the model-file tokenizer and number parsers (core/ml_text.c).
//
// Arbitrary bytes go through ml_fields_push one at a time; every completed field must be a
// trimmed, NUL-terminated string without separators, numbered consistently. Each field is then
// parsed as an integer and as a number and checked against the C library:
//   - ml_parse_int against a plain grammar check and strtoll: same acceptance, same value;
//   - hexadecimal floats: bit-identical (the parser claims exactness) to an exact reference
//     below, and to strtod where the result is normal (glibc 2.36's strtod misrounds some
//     subnormal hex floats: "0x0.8000000000000cp-1022" gives 0x0.8p-1022, not ...01p-1022);
//   - decimals against strtod: accepted alike, and within 1e-14 relative in the normal range
//     (the parser is documented as a few ulp off there, not exact);
//   - anything else must be rejected.
// Any difference abort()s.
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_text.h"

#define REQUIRE(cond, s) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed for '%s'\n", __FILE__, __LINE__, #cond, s); \
            abort(); \
        } \
} while (0)

// The exponent bound of ml_parse_double: larger magnitudes are rejected (values are 0 or inf).
#define EXP_LIMIT 100000

// The whole input is also parsed as one string, up to this length.
#define WHOLE_MAX 128

static int is_digits(const char *s, const char *end) {
    if (s == end) {
        return 0;
    }
    for (; s < end; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

// Checks an exponent "[+-]?digits" (s to the end): 1 if well-formed; *big when beyond EXP_LIMIT.
static int exponent_ok(const char *s, int *big) {
    if (*s == '+' || *s == '-') {
        s++;
    }
    const char *end = s + strlen(s);
    if (!is_digits(s, end)) {
        return 0;
    }
    while (*s == '0' && s + 1 < end) {
        s++;
    }
    *big = end - s > 6 || atol(s) > EXP_LIMIT;
    return 1;
}

// 'h' hexadecimal float, 'd' decimal, 'w' inf/infinity/nan, 0 none; *big: exponent too large.
static int number_kind(const char *s, int *big) {
    *big = 0;
    if (*s == '+' || *s == '-') {
        s++;
    }
    if (!strcasecmp(s, "inf") || !strcasecmp(s, "infinity") || !strcasecmp(s, "nan")) {
        return 'w';
    }
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex) {
        s += 2;
    }
    int digits = 0, point = 0;
    for (; *s; s++) {
        if (*s == '.' && !point) {
            point = 1;
        } else if (hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s)) {
            digits++;
        } else {
            break;
        }
    }
    if (!digits) {
        return 0;
    }
    if (*s == '\0') {
        return hex ? 'h' : 'd';
    }
    if ((hex && (*s == 'p' || *s == 'P')) || (!hex && (*s == 'e' || *s == 'E'))) {
        return exponent_ok(s + 1, big) ? (hex ? 'h' : 'd') : 0;
    }
    return 0;
}

static uint64_t bits_of(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

static int hex_value(char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

// Exact reference for a hexadecimal float that number_kind accepted: the value's bits, each with
// its binary exponent, rounded once (to nearest even) at the lowest bit a double keeps: 53 bits
// below the leading one, and never below 2^-1074.
static double hex_reference(const char *s) {
    int neg = *s == '-';
    s += (*s == '+' || *s == '-') + 2;
    uint8_t bit[WHOLE_MAX * 4];
    long nbits = 0, point = -1;
    for (; *s && *s != 'p' && *s != 'P'; s++) {
        if (*s == '.') {
            point = nbits;
            continue;
        }
        int d = hex_value(*s);
        for (int k = 3; k >= 0; k--) {
            bit[nbits++] = (uint8_t)((d >> k) & 1);
        }
    }
    long exp = *s ? strtol(s + 1, NULL, 10) : 0;
    if (point < 0) {
        point = nbits;
    }
    // Bit i has exponent exp + point - 1 - i.
    #define BIT_AT(e) (point - 1 - ((e) - exp) >= 0 && point - 1 - ((e) - exp) < nbits \
    ? bit[point - 1 - ((e) - exp)] : 0)
    long lead = 0;
    while (lead < nbits && !bit[lead]) {
        lead++;
    }
    if (lead == nbits) {
        return neg ? -0.0 : 0.0;
    }
    long lead_exp = exp + point - 1 - lead;
    long low = lead_exp - 52 < -1074 ? -1074 : lead_exp - 52;
    uint64_t m = 0;
    for (long e = lead_exp; e >= low; e--) {
        m = (m << 1) | BIT_AT(e);
    }
    int round = BIT_AT(low - 1);
    int sticky = 0;
    long first = point - 1 - (low - 1 - exp) + 1;  // the bit after the rounding bit
    for (long i = first < 0 ? 0 : first; i < nbits; i++) {
        sticky |= bit[i];
    }
    #undef BIT_AT
    if (round && (sticky || (m & 1))) {
        m++;
    }
    double v = ldexp((double)m, (int)(low < -2000 ? -2000 : low > 2000 ? 2000 : low));
    return neg ? -v : v;
}

static void check_int(const char *s) {
    int32_t v = 12345;
    int r = ml_parse_int(s, &v);
    const char *d = s + (*s == '+' || *s == '-');
    if (!is_digits(d, d + strlen(d))) {
        REQUIRE(r == -1, s);
        return;
    }
    errno = 0;
    long long want = strtoll(s, NULL, 10);
    if (errno == ERANGE || want < INT32_MIN || want > INT32_MAX) {
        REQUIRE(r == -1, s);
        return;
    }
    REQUIRE(r == 0 && v == want, s);
}

static void check_double(const char *s) {
    double v = 0.0;
    int r = ml_parse_double(s, &v);
    int big;
    int kind = number_kind(s, &big);
    if (kind == 0 || big) {
        REQUIRE(r == -1, s);
        return;
    }
    REQUIRE(r == 0, s);
    char *end;
    double want = strtod(s, &end);
    REQUIRE(*end == '\0', s);
    if (kind == 'w') {
        REQUIRE(isnan(want) ? isnan(v) : bits_of(v) == bits_of(want), s);
    } else if (kind == 'h') {
        double exact = hex_reference(s);
        if (bits_of(v) != bits_of(exact)) {
            fprintf(stderr, "hex float '%s': ml_parse_double %a, exact %a, strtod %a\n", s, v,
                exact, want);
        }
        REQUIRE(bits_of(v) == bits_of(exact), s);
        if (fabs(exact) >= 0x1p-1022) {
            REQUIRE(bits_of(v) == bits_of(want), s);
        }
    } else {
        // Decimal: the sign always, the value to 1e-14 where neither over- nor underflows.
        REQUIRE(signbit(v) == signbit(want), s);
        double a = fabs(want);
        if (a > 1e-300 && a < 1e300) {
            REQUIRE(fabs(v - want) <= 1e-14 * a, s);
        } else if (a == 0.0) {
            REQUIRE(v == 0.0 || fabs(v) < 1e-300, s);
        }
    }
}

static void check_field(const ml_fields_t *f, ml_field_event_t ev, uint32_t *line, uint32_t *index) {
    const char *s = f->text;
    size_t n = strnlen(s, sizeof(f->text));
    REQUIRE(n < sizeof(f->text), "(unterminated)");
    REQUIRE(!f->too_long || n <= ML_FIELD_MAX, s);
    REQUIRE(strchr(s, ',') == NULL && strchr(s, '\n') == NULL && strchr(s, '\r') == NULL, s);
    if (n) {
        REQUIRE(s[0] != ' ' && s[0] != '\t', s);
        REQUIRE(s[n - 1] != ' ' && s[n - 1] != '\t', s);
    }
    // Fields of a line are numbered 0, 1, ...; lines only go forward.
    REQUIRE(f->index == *index, s);
    REQUIRE(f->line >= *line, s);
    if (f->index > 0) {
        REQUIRE(f->line == *line, s);
    }
    REQUIRE(f->index != 0 || s[0] != '#', s);
    *line = f->line;
    *index = ev == ML_FIELD_LAST ? 0 : f->index + 1;
    if (ev == ML_FIELD_LAST) {
        (*line)++;
    }
    check_int(s);
    check_double(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ml_fields_t f;
    ml_fields_init(&f);
    uint32_t line = 1, index = 0;
    for (size_t i = 0; i < size; i++) {
        ml_field_event_t ev = ml_fields_push(&f, (char)data[i]);
        if (ev != ML_FIELD_NONE) {
            check_field(&f, ev, &line, &index);
        }
    }
    ml_field_event_t ev = ml_fields_end(&f);
    if (ev != ML_FIELD_NONE) {
        REQUIRE(ev == ML_FIELD_LAST, f.text);
        check_field(&f, ev, &line, &index);
    }
    // The whole input, as one string (NUL-terminated copy), through both parsers too.
    char buf[WHOLE_MAX];
    size_t n = size < sizeof(buf) - 1 ? size : sizeof(buf) - 1;
    memcpy(buf, data, n);
    buf[n] = '\0';
    check_int(buf);
    check_double(buf);
    return 0;
}
