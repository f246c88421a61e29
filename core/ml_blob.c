#include "ml_blob.h"

static const char magic[4] = { 'M', 'L', 'R', 'N' };

int ml_blob_is_blob(const void *data, size_t len) {
    const uint8_t *p = data;
    return len >= 4 && p[0] == magic[0] && p[1] == magic[1] && p[2] == magic[2]
           && p[3] == magic[3];
}

const char *ml_blob_kind_name(uint16_t kind) {
    switch (kind) {
        case ML_BLOB_KIND_TREES:
            return "trees";
        case ML_BLOB_KIND_NN:
            return "nn";
        case ML_BLOB_KIND_LINEAR:
            return "linear_model";
        case ML_BLOB_KIND_SVM:
            return "svm";
        case ML_BLOB_KIND_NEIGHBORS:
            return "neighbors";
        case ML_BLOB_KIND_NAIVE_BAYES:
            return "naive_bayes";
        case ML_BLOB_KIND_MIXTURE:
            return "mixture";
        case ML_BLOB_KIND_CLUSTER:
            return "cluster";
        case ML_BLOB_KIND_ISOLATION:
            return "ensemble";
        case ML_BLOB_KIND_COVARIANCE:
            return "covariance";
        default:
            return "unknown";
    }
}

// A nibble table: 64 bytes instead of 1 kB, two lookups per byte.
uint32_t ml_crc32(uint32_t crc, const void *data, size_t len) {
    static const uint32_t table[16] = {
        0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158,
        0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4,
        0xa00ae278, 0xbdbdf21c,
    };
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ table[crc & 15];
        crc = (crc >> 4) ^ table[crc & 15];
    }
    return ~crc;
}

// The id as text for messages: 'node', or its number when not printable.
static const char *id_text(uint32_t id, char buf[16]) {
    for (int i = 0; i < 4; i++) {
        char c = (char)(id >> (8 * i));
        if (c < 0x20 || c > 0x7e) {
            ml_format(buf, 16, "%lu", (unsigned long)id);
            return buf;
        }
        buf[1 + i] = c;
    }
    buf[0] = '\'';
    buf[5] = '\'';
    buf[6] = 0;
    return buf;
}

ml_status_t ml_blob_peek_size(const void *head, size_t len, uint32_t *total, ml_error_t *err) {
    if (len < 16 || !ml_blob_is_blob(head, len)) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "not a microlearn binary model (expected 'MLRN' at the start)");
    }
    *total = ml_blob_u32((const uint8_t *)head + 8);
    if (*total < ML_BLOB_HEADER_SIZE) {
        return ml_error_set(err, ML_E_FORMAT, 0, "header: size %lu is smaller than the header",
            (unsigned long)*total);
    }
    return ML_OK;
}

ml_status_t ml_blob_open(ml_blob_t *b, const void *data, size_t len, uint16_t kind,
    uint16_t max_kind_version, ml_error_t *err) {
    const uint8_t *p = data;
    if ((uintptr_t)p & 3) {
        return ml_error_set(err, ML_E_VALUE, 0, "the model's address is not 4-byte aligned");
    }
    if (len < ML_BLOB_HEADER_SIZE || !ml_blob_is_blob(p, len)) {
        if (ml_blob_is_blob(p, len)) {
            return ml_error_set(err, ML_E_TRUNCATED, 0,
                "truncated: %lu bytes, shorter than the %d-byte header", (unsigned long)len,
                ML_BLOB_HEADER_SIZE);
        }
        return ml_error_set(err, ML_E_FORMAT, 0,
            "not a microlearn binary model (expected 'MLRN' at the start)");
    }
    uint16_t version = ml_blob_u16(p + 4);
    if (version != ML_BLOB_VERSION) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "container version %u is not supported (expected %d)", version, ML_BLOB_VERSION);
    }
    uint16_t got_kind = ml_blob_u16(p + 6);
    if (got_kind != kind) {
        return ml_error_set(err, ML_E_FORMAT, 0, "this is a %s model (kind %u), expected %s",
            ml_blob_kind_name(got_kind), got_kind, ml_blob_kind_name(kind));
    }
    uint32_t total = ml_blob_u32(p + 8);
    if (total != len) {
        return ml_error_set(err, total > len ? ML_E_TRUNCATED : ML_E_FORMAT, 0,
            "%s: the header says %lu bytes, got %lu", total > len ? "truncated" : "size mismatch",
            (unsigned long)total, (unsigned long)len);
    }
    uint32_t crc = ml_crc32(0, p + 16, total - 16);
    if (crc != ml_blob_u32(p + 12)) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "checksum mismatch: the model is corrupted (CRC-32 %lx, header says %lx)",
            (unsigned long)crc, (unsigned long)ml_blob_u32(p + 12));
    }
    uint16_t kind_version = ml_blob_u16(p + 16);
    if (kind_version == 0 || kind_version > max_kind_version) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "%s format version %u is not supported (this module reads 1 to %u)",
            ml_blob_kind_name(kind), kind_version, max_kind_version);
    }
    if (ml_blob_u32(p + 20) != 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "header: reserved field is not 0");
    }
    uint32_t n = ml_blob_u16(p + 18);
    uint64_t table_end = ML_BLOB_HEADER_SIZE + (uint64_t)n * ML_BLOB_SECTION_SIZE;
    if (table_end > total) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "section table: %lu sections do not fit in %lu bytes", (unsigned long)n,
            (unsigned long)total);
    }
    uint64_t prev_end = table_end;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *s = p + ML_BLOB_HEADER_SIZE + i * ML_BLOB_SECTION_SIZE;
        uint32_t id = ml_blob_u32(s), off = ml_blob_u32(s + 4), size = ml_blob_u32(s + 8);
        char buf[16];
        if (off % ML_BLOB_ALIGN || off < prev_end || (uint64_t)off + size > total) {
            return ml_error_set(err, ML_E_FORMAT, 0,
                "section %s: offset %lu size %lu is out of place (expected a multiple of %d "
                "from %lu, ending by %lu)", id_text(id, buf), (unsigned long)off,
                (unsigned long)size, ML_BLOB_ALIGN, (unsigned long)prev_end,
                (unsigned long)total);
        }
        for (uint32_t j = 0; j < i; j++) {
            if (ml_blob_u32(p + ML_BLOB_HEADER_SIZE + j * ML_BLOB_SECTION_SIZE) == id) {
                return ml_error_set(err, ML_E_FORMAT, 0, "section %s appears twice",
                    id_text(id, buf));
            }
        }
        prev_end = (uint64_t)off + size;
    }
    b->data = p;
    b->size = total;
    b->kind = kind;
    b->kind_version = kind_version;
    b->n_sections = n;
    return ML_OK;
}

ml_status_t ml_blob_section(const ml_blob_t *b, uint32_t id, size_t elem_size,
    uint32_t min_count, uint32_t max_count, const void **ptr, uint32_t *count, ml_error_t *err) {
    char buf[16];
    for (uint32_t i = 0; i < b->n_sections; i++) {
        const uint8_t *s = b->data + ML_BLOB_HEADER_SIZE + i * ML_BLOB_SECTION_SIZE;
        if (ml_blob_u32(s) != id) {
            continue;
        }
        uint32_t size = ml_blob_u32(s + 8);
        uint32_t n = (uint32_t)(size / elem_size);
        if (size % elem_size || n < min_count || n > max_count) {
            return ml_error_set(err, ML_E_FORMAT, 0,
                "section %s: %lu bytes, expected %lu to %lu entries of %lu bytes",
                id_text(id, buf), (unsigned long)size, (unsigned long)min_count,
                (unsigned long)max_count, (unsigned long)elem_size);
        }
        *ptr = n ? b->data + ml_blob_u32(s + 4) : NULL;
        *count = n;
        return ML_OK;
    }
    if (min_count) {
        return ml_error_set(err, ML_E_FORMAT, 0, "section %s is missing", id_text(id, buf));
    }
    *ptr = NULL;
    *count = 0;
    return ML_OK;
}
