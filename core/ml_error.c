#include "ml_error.h"

// Appends one character if there is room, always counting it.
static void put_char(char *buf, size_t size, size_t *pos, char c) {
    if (*pos + 1 < size) {
        buf[*pos] = c;
    }
    (*pos)++;
}

static void put_str(char *buf, size_t size, size_t *pos, const char *s) {
    while (*s) {
        put_char(buf, size, pos, *s++);
    }
}

static void put_uint(char *buf, size_t size, size_t *pos, unsigned long v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n) {
        put_char(buf, size, pos, digits[--n]);
    }
}

size_t ml_vformat(char *buf, size_t size, const char *fmt, va_list ap) {
    size_t pos = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put_char(buf, size, &pos, *fmt);
            continue;
        }
        fmt++;
        int is_long = 0;
        if (*fmt == 'l') {
            is_long = 1;
            fmt++;
        }
        switch (*fmt) {
            case 's': {
                const char *s = va_arg(ap, const char *);
                put_str(buf, size, &pos, s ? s : "(null)");
                break;
            }
            case 'd': {
                long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
                if (v < 0) {
                    put_char(buf, size, &pos, '-');
                    put_uint(buf, size, &pos, 0ul - (unsigned long)v, 10);
                } else {
                    put_uint(buf, size, &pos, (unsigned long)v, 10);
                }
                break;
            }
            case 'u':
            case 'x': {
                unsigned long v = is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
                put_uint(buf, size, &pos, v, *fmt == 'x' ? 16 : 10);
                break;
            }
            case 'c':
                put_char(buf, size, &pos, (char)va_arg(ap, int));
                break;
            case '%':
                put_char(buf, size, &pos, '%');
                break;
            case '\0':
                fmt--;
                break;
            default:
                put_char(buf, size, &pos, '?');
                break;
        }
    }
    if (size) {
        buf[pos < size ? pos : size - 1] = '\0';
    }
    return pos;
}

size_t ml_format(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    size_t n = ml_vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

ml_status_t ml_error_vset(ml_error_t *err, ml_status_t code, uint32_t line, const char *fmt,
    va_list ap) {
    if (err) {
        err->code = code;
        err->line = line;
        ml_vformat(err->msg, sizeof(err->msg), fmt, ap);
    }
    return code;
}

ml_status_t ml_error_set(ml_error_t *err, ml_status_t code, uint32_t line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ml_error_vset(err, code, line, fmt, ap);
    va_end(ap);
    return code;
}
