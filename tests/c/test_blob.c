// Tests of the binary model container (core/ml_blob.c): a well-formed container opens and
// gives its sections; every kind of damage is refused with a message saying what is wrong.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ml_blob.h"

#define KIND ML_BLOB_KIND_NN
#define ID_A ML_BLOB_ID('a', 'a', 'a', 'a')
#define ID_B ML_BLOB_ID('b', 'b', 'b', 'b')

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

// A container with two sections: 'aaaa' of 6 bytes, 'bbbb' of 8 bytes. Returns its size.
static uint32_t make(uint8_t *buf) {
    memset(buf, 0, 96);
    memcpy(buf, "MLRN", 4);
    put16(buf + 4, 1);
    put16(buf + 6, KIND);
    put16(buf + 16, 1);
    put16(buf + 18, 2);
    put32(buf + 24, ID_A);
    put32(buf + 28, 48);
    put32(buf + 32, 6);
    put32(buf + 36, ID_B);
    put32(buf + 40, 56);
    put32(buf + 44, 8);
    memcpy(buf + 48, "abcdef", 6);
    for (int i = 0; i < 8; i++) {
        buf[56 + i] = (uint8_t)(i + 1);
    }
    put32(buf + 8, 64);
    return 64;
}

// Recomputes the checksum after a change, so that the check under test is the one reached.
static void seal(uint8_t *buf, uint32_t size) {
    put32(buf + 12, ml_crc32(0, buf + 16, size - 16));
}

static int opens(const uint8_t *buf, size_t len, ml_error_t *err) {
    ml_blob_t b;
    return ml_blob_open(&b, buf, len, KIND, 1, err) == ML_OK;
}

static int has(const ml_error_t *err, const char *text) {
    return strstr(err->msg, text) != NULL;
}

int main(void) {
    static uint64_t store[16];  // 8-byte aligned
    uint8_t *buf = (uint8_t *)store;
    ml_error_t err;

    // zlib's check value.
    CHECK(ml_crc32(0, "123456789", 9) == 0xcbf43926u, "crc32");
    CHECK(ml_crc32(ml_crc32(0, "1234", 4), "56789", 5) == 0xcbf43926u, "crc32 in pieces");

    uint32_t size = make(buf);
    seal(buf, size);
    // The same container as host/microlearn/blob.py writes it:
    // blob.pack(blob.NN, 1, [(b"aaaa", b"abcdef"), (b"bbbb", bytes(range(1, 9)))]).
    static const char python_hex[] = "4d4c524e0100020040000000ce958d8e0100020000000000616161613000"
        "00000600000062626262380000000800000061626364656600000102030405060708";
    for (uint32_t i = 0; i < size; i++) {
        unsigned v;
        sscanf(python_hex + 2 * i, "%2x", &v);
        CHECK(buf[i] == v, "byte %u: C %02x, Python %02x", (unsigned)i, buf[i], v);
    }
    ml_blob_t b;
    CHECK(ml_blob_open(&b, buf, size, KIND, 1, &err) == ML_OK, "open: %s", err.msg);
    CHECK(b.n_sections == 2 && b.kind_version == 1, "header fields");
    const void *p;
    uint32_t n;
    CHECK(ml_blob_section(&b, ID_A, 1, 1, 100, &p, &n, &err) == ML_OK && n == 6
        && memcmp(p, "abcdef", 6) == 0, "section a");
    CHECK(ml_blob_section(&b, ID_B, 4, 2, 2, &p, &n, &err) == ML_OK && n == 2
        && ml_blob_u32(p) == 0x04030201u, "section b as 2 uint32");
    CHECK(ml_blob_section(&b, ID_A, 4, 0, 100, &p, &n, &err) == ML_E_FORMAT
        && has(&err, "'aaaa'") && has(&err, "6 bytes"), "not whole elements: %s", err.msg);
    CHECK(ml_blob_section(&b, ID_B, 4, 3, 9, &p, &n, &err) == ML_E_FORMAT, "too few");
    CHECK(ml_blob_section(&b, ID_B, 4, 0, 1, &p, &n, &err) == ML_E_FORMAT, "too many");
    CHECK(ml_blob_section(&b, ML_BLOB_ID('z', 'z', 'z', 'z'), 1, 1, 9, &p, &n, &err)
        == ML_E_FORMAT && has(&err, "'zzzz' is missing"), "missing: %s", err.msg);
    CHECK(ml_blob_section(&b, ML_BLOB_ID('z', 'z', 'z', 'z'), 1, 0, 9, &p, &n, &err) == ML_OK
        && p == NULL && n == 0, "optional section absent");
    uint32_t total;
    CHECK(ml_blob_peek_size(buf, 16, &total, &err) == ML_OK && total == 64, "peek");
    CHECK(ml_blob_is_blob(buf, 4) && !ml_blob_is_blob("MLR", 3), "is_blob");

    // Damage, one kind at a time.
    CHECK(!opens(buf, size - 1, &err) && has(&err, "truncated") && has(&err, "64"),
        "short buffer: %s", err.msg);
    CHECK(!opens(buf, 10, &err) && has(&err, "truncated"), "shorter than the header");
    CHECK(!opens(buf + 4, size - 4, &err), "misaligned or not a blob");
    CHECK(!opens((const uint8_t *)"hello world, this is text", 25, &err)
        && has(&err, "not a microlearn binary model"), "text: %s", err.msg);
    buf[60] ^= 1;
    CHECK(!opens(buf, size, &err) && has(&err, "checksum"), "bit flip: %s", err.msg);
    buf[60] ^= 1;
    CHECK(opens(buf, size, &err), "restored");
    ml_blob_t nb;
    CHECK(ml_blob_open(&nb, buf, size, ML_BLOB_KIND_TREES, 1, &err) == ML_E_FORMAT
        && has(&err, "nn model") && has(&err, "expected trees"), "kind: %s", err.msg);
    CHECK(ml_blob_open(&nb, buf, size, KIND, 0, &err) == ML_E_FORMAT
        && has(&err, "version 1 is not supported"), "kind version: %s", err.msg);

    struct { int at, bits; uint32_t value; const char *msg; } cases[] = {
        { 4, 16, 2, "container version 2" },
        { 20, 32, 1, "reserved" },
        { 18, 16, 40, "do not fit" },
        { 28, 32, 44, "out of place" },    // a overlaps the table
        { 28, 32, 52, "out of place" },    // a not aligned
        { 40, 32, 48, "out of place" },    // b overlaps a
        { 44, 32, 9, "out of place" },     // b past the end
        { 44, 32, 0xfffffff8u, "out of place" },  // offset + size wraps in 32 bits
        { 36, 32, ID_A, "appears twice" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        make(buf);
        if (cases[i].bits == 16) {
            put16(buf + cases[i].at, cases[i].value);
        } else {
            put32(buf + cases[i].at, cases[i].value);
        }
        seal(buf, size);
        CHECK(!opens(buf, size, &err) && has(&err, cases[i].msg), "case %d: %s", (int)i,
            err.msg);
    }
    // A header size below the header itself.
    make(buf);
    put32(buf + 8, 20);
    CHECK(ml_blob_peek_size(buf, 16, &total, &err) == ML_E_FORMAT, "peek tiny size");
    return check_summary("test_blob");
}
