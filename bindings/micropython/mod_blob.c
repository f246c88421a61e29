// Binary models (core/ml_blob.h) for the MicroPython modules: in place from a buffer, or read
// once into a block of exactly their size. Linked only into the modules that read them.
#include <string.h>

#include "mod_common.h"

// Opens out->block (when set) or out->blob.data; frees the block on failure.
static ml_status_t blob_open(ml_blob_load_t *out, uint16_t kind, uint16_t max_version,
    ml_error_t *err) {
    const void *data = out->block ? out->block : out->blob.data;
    size_t len = out->block ? out->block_size : out->blob.size;
    if (ml_blob_open(&out->blob, data, len, kind, max_version, err) != ML_OK) {
        if (out->block) {
            ml_free(out->block, out->block_size);
            out->block = NULL;
        }
        return err->code;
    }
    return ML_OK;
}

// readinto(buf[len]) of the source's stream: bytes read, 0 at the end.
static size_t read_into(ml_source_t *src, void *buf, size_t len) {
    mp_obj_t arg = mp_obj_new_bytearray_by_ref(len, buf);
    mp_obj_t got = mp_call_function_n_kw(src->readinto, 1, 0, &arg);
    mp_int_t n = got == mp_const_none ? 0 : mp_obj_get_int(got);
    return n <= 0 ? 0 : (size_t)n > len ? len : (size_t)n;
}

ml_status_t ml_blob_load_rest(ml_source_t *src, size_t have, uint16_t kind,
    uint16_t max_version, ml_blob_load_t *out, ml_error_t *err) {
    out->block = NULL;
    out->buffer = MP_OBJ_NULL;
    // The header's first 16 bytes give the size; a stream may deliver them in pieces.
    size_t n;
    while (have < 16 && (n = read_into(src, src->chunk + have, ML_CHUNK - have)) > 0) {
        have += n;
    }
    uint32_t total;
    if (ml_blob_peek_size(src->chunk, have, &total, err) != ML_OK) {
        return err->code;
    }
    out->block_size = total;
    out->block = m_malloc(total);
    size_t pos = have < total ? have : total;
    memcpy(out->block, src->chunk, pos);
    while (pos < total && (n = read_into(src, (uint8_t *)out->block + pos, total - pos)) > 0) {
        pos += n;
    }
    // Bytes after the stated size mean a damaged or wrong file, as much as missing ones.
    int longer = have > total || (pos == total && ml_source_read(src) > 0);
    if (pos < total || longer) {
        ml_free(out->block, out->block_size);
        out->block = NULL;
        return ml_error_set(err, longer ? ML_E_FORMAT : ML_E_TRUNCATED, 0,
            "%s: the header says %lu bytes, the file has %s%lu", longer ? "size mismatch"
            : "truncated", (unsigned long)total, longer ? "more than " : "", (unsigned long)pos);
    }
    return blob_open(out, kind, max_version, err);
}

void ml_blob_load(mp_obj_t source, uint16_t kind, uint16_t max_version, ml_blob_load_t *out) {
    ml_error_t err = { ML_OK, 0, "" };
    mp_buffer_info_t info;
    if (!mp_obj_is_str(source) && mp_get_buffer(source, &info, MP_BUFFER_READ)) {
        out->block = NULL;
        out->buffer = MP_OBJ_NULL;
        if ((uintptr_t)info.buf & 3) {
            // Not aligned for the model's 32-bit fields: one copy, as for a file.
            out->block_size = info.len;
            out->block = m_malloc(info.len ? info.len : 1);
            memcpy(out->block, info.buf, info.len);
        } else {
            out->buffer = source;
            out->blob.data = info.buf;
            out->blob.size = info.len > 0xffffffffu ? 0xffffffffu : (uint32_t)info.len;
        }
        if (blob_open(out, kind, max_version, &err) != ML_OK) {
            ml_raise_value("model buffer: %s", err.msg);
        }
        return;
    }
    ml_source_t src;
    ml_source_open(&src, source);
    ml_status_t status = ml_blob_load_rest(&src, ml_source_read(&src), kind, max_version, out,
        &err);
    ml_source_close(&src);
    if (status != ML_OK) {
        ml_raise_model_error(&src, &err);
    }
}
