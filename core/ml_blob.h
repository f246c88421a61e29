// The binary model container: one layout shared by every binary model file (trees, neural
// networks, the other model families), made to be used in place, from a buffer in flash or
// RAM, without copying.
//
//   offset  size
//   0       4     magic "MLRN"
//   4       2     container version (1)
//   6       2     model kind (ML_BLOB_KIND_*)
//   8       4     total size in bytes, this header included
//   12      4     CRC-32 (IEEE 802.3, as zlib.crc32) of bytes 16 .. total
//   16      2     version of the model kind's own layout
//   18      2     number of sections
//   20      4     reserved, 0
//   24      12 x number of sections: id, offset, size (uint32 each)
//   ...           the sections, each starting at a multiple of 8 from the start
//
// Integers are little-endian (every target microlearn builds for is). Sections are in
// increasing offset order, do not overlap and have distinct ids; what a section holds is up to
// the model kind. Opening checks all of this, and the checksum, so that a truncated or
// corrupted file is an error rather than a wrong answer; the model kind then checks what its
// sections hold. The container is written by host/microlearn/blob.py.
#ifndef MICROLEARN_ML_BLOB_H
#define MICROLEARN_ML_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "ml_error.h"

#define ML_BLOB_VERSION (1)
#define ML_BLOB_HEADER_SIZE (24)
#define ML_BLOB_SECTION_SIZE (12)
#define ML_BLOB_ALIGN (8)

// Model kinds. A new kind takes the next number here and in host/microlearn/blob.py.
enum {
    ML_BLOB_KIND_TREES = 1,
    ML_BLOB_KIND_NN = 2,
    // scikit-learn's other families (ml_estimator.h), one kind per MicroPython module
    ML_BLOB_KIND_LINEAR = 3,       // microlearn.linear_model
    ML_BLOB_KIND_SVM = 4,          // microlearn.svm
    ML_BLOB_KIND_NEIGHBORS = 5,    // microlearn.neighbors
    ML_BLOB_KIND_NAIVE_BAYES = 6,  // microlearn.naive_bayes
    ML_BLOB_KIND_MIXTURE = 7,      // microlearn.mixture
    ML_BLOB_KIND_CLUSTER = 8,      // microlearn.cluster
    ML_BLOB_KIND_ISOLATION = 9,    // microlearn.ensemble (IsolationForest)
    ML_BLOB_KIND_COVARIANCE = 10,  // microlearn.covariance (EllipticEnvelope)
};

// A section id: four characters, e.g. ML_BLOB_ID('n','o','d','e'); errors print it as 'node'.
#define ML_BLOB_ID(a, b, c, d) \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

typedef struct {
    const uint8_t *data;  // the whole container, 4-byte aligned
    uint32_t size;
    uint16_t kind;
    uint16_t kind_version;
    uint32_t n_sections;
} ml_blob_t;

// True when data starts with the container's magic (len >= 4).
int ml_blob_is_blob(const void *data, size_t len);

// The total size a container states in its first 16 bytes (to read a file into a block of
// exactly that size). Errors: not a container, or a size below the header's.
ml_status_t ml_blob_peek_size(const void *head, size_t len, uint32_t *total, ml_error_t *err);

// Validates the container in data[len] (4-byte aligned) and its section table: magic, version,
// kind (must be `kind`), kind version (at most max_kind_version), len equal to the stated
// size, checksum, sections in bounds, aligned, in order, not overlapping, distinct ids.
ml_status_t ml_blob_open(ml_blob_t *b, const void *data, size_t len, uint16_t kind,
    uint16_t max_kind_version, ml_error_t *err);

// Section `id` as an array of elem_size-byte elements: *ptr and *count. Its size must be a
// whole number of elements, from min_count to max_count. A missing section is an error,
// unless min_count is 0 (then *ptr is NULL and *count 0).
ml_status_t ml_blob_section(const ml_blob_t *b, uint32_t id, size_t elem_size,
    uint32_t min_count, uint32_t max_count, const void **ptr, uint32_t *count, ml_error_t *err);

// Little-endian reads at any alignment, for parsing section contents.
static inline uint16_t ml_blob_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t ml_blob_u32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

// CRC-32 (IEEE 802.3, zlib's): crc = ml_crc32(0, data, len), or continued over pieces.
uint32_t ml_crc32(uint32_t crc, const void *data, size_t len);

// "trees", "nn", ... or "unknown".
const char *ml_blob_kind_name(uint16_t kind);

#endif
