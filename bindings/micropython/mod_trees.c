// microlearn.trees: tree ensembles (scikit-learn trees, forests, gradient boosting) for MicroPython.
//
//   from microlearn import trees
//   model = trees.load("model.csv")        # a path or an open file (any object with readinto)
//   model.predict(x)                        # class label (int), or regression value (float)
//   model.predict(x, proba)                 # the label, and the probabilities into proba
//   model.predict_proba(x, out)             # out: array('f', n_classes); returns out
//   model.predict_many(X, out)              # X: N samples back to back; out: N results
//
// x is array('f') or array('h') (or any buffer of those), of n_features values.
// Built as a native .mpy (dynruntime) or into firmware as a user C module, from the same source.
#include <string.h>

#include "mod_common.h"
#include "py/objarray.h"
#include "ml_trees.h"

// The sums of a prediction (8 bytes per output) are on the C stack for models of up to
// STACK_SUMS outputs: every call that evaluates points the model at its own (so a model used in
// place takes no RAM beyond its object, and a call that raises leaves nothing that a later one
// reads: each sets the pointer again before evaluating). A model of more outputs keeps them in
// its heap block: a binary model after its object, a text model in its block.
#define STACK_SUMS (32)

// One heap block: the object, then the model's cold part (when model.cold is not NULL: text
// models, and binary ones with node arrays, labels or a baseline; a forest has none, its
// missing-value sides are read again from its data for a sample with NaN), then a binary
// model's sums past STACK_SUMS outputs.
typedef struct {
    mp_obj_base_t base;
    // What the model's data lies in ("the data"): the block a text or binary model was read
    // into, the buffer object a binary model is used in place from, or for a file of a ROMFS
    // image (whose data is not in the heap: nothing to keep alive) its address / 4 as a small
    // int (None where that does not fit one; the model then keeps its cold part, which has the
    // counts). When the class labels are objects (not all small ints), a tuple of them (predict
    // returns its items: no allocation) with the data as one more item.
    mp_obj_t keep;
    ml_trees_t model;
    uint64_t tail[];
} trees_obj_t;

#define COLD_WORDS ((sizeof(ml_trees_cold_t) + 7) / 8)

// Points the model at the sums of this call (stack[STACK_SUMS], in the caller's frame). The
// pointer outlives the call on purpose (clearing it would cost every call a store): no path
// reads it before setting it again.
// (the warning is about the callers, where this is inlined: off until after predict_many)
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
static inline void use_sums(trees_obj_t *self, uint64_t *stack) {
    if (self->model.h.n_outputs <= STACK_SUMS) {
        self->model.acc = (double *)(void *)stack;
    }
}

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t trees_type;
#else
static const mp_obj_type_t trees_type;
#endif

// ---------------------------------------------------------------------------------------------
// load

// Whether v is a small int of the port (an object that takes no memory): it survives the trip.
#define SMALL_INT_FITS(v) (MP_OBJ_SMALL_INT_VALUE(MP_OBJ_NEW_SMALL_INT(v)) == (v))

// Whether every label is a small int: then predict makes them as it returns them, and the model
// keeps no tuple of them.
static bool small_int_labels(const ml_trees_t *m) {
    if (m->label_kind == ML_TREES_LABELS_INDEX) {
        return true;
    }
    if (m->label_kind != ML_TREES_LABELS_INT32) {
        return false;
    }
    for (uint32_t k = 0; k < m->h.n_classes; k++) {
        if (!SMALL_INT_FITS((int32_t)ml_blob_u32((const uint8_t *)m->cold->labels + 4 * k))) {
            return false;
        }
    }
    return true;
}

// The class labels as objects, from the model's label table; with data (not MP_OBJ_NULL), as
// one more item.
static mp_obj_t make_classes(const ml_trees_t *m, mp_obj_t data) {
    const uint32_t n = m->h.n_classes;
    mp_obj_tuple_t *t = MP_OBJ_TO_PTR(mp_obj_new_tuple(n + (data != MP_OBJ_NULL), NULL));
    const uint8_t *p = m->cold ? m->cold->labels : NULL;
    for (uint32_t k = 0; k < n; k++) {
        mp_obj_t v;
        switch (m->label_kind) {
            case ML_TREES_LABELS_INT32:
                v = mp_obj_new_int((int32_t)ml_blob_u32(p + 4 * k));
                break;
            case ML_TREES_LABELS_INT64: {
                // hi * 2^32 + lo, built from parts (a port without big integers raises
                // OverflowError for a label that does not fit its small ones)
                int32_t hi = (int32_t)ml_blob_u32(p + 8 * k + 4);
                uint32_t lo = ml_blob_u32(p + 8 * k);
                v = mp_binary_op(MP_BINARY_OP_LSHIFT, mp_obj_new_int(hi), MP_OBJ_NEW_SMALL_INT(16));
                v = mp_binary_op(MP_BINARY_OP_LSHIFT, v, MP_OBJ_NEW_SMALL_INT(16));
                v = mp_binary_op(MP_BINARY_OP_OR, v, mp_obj_new_int_from_uint(lo));
                break;
            }
            case ML_TREES_LABELS_FLOAT64: {
                double d;
                memcpy(&d, p + 8 * k, sizeof(d));
                v = mp_obj_new_float_from_d(d);
                break;
            }
            case ML_TREES_LABELS_STR: {
                uint32_t text = 4 * (n + 1), a = ml_blob_u32(p + 4 * k), b = ml_blob_u32(p + 4 * k + 4);
                v = mp_obj_new_str((const char *)p + text + a, b - a);
                break;
            }
            case ML_TREES_LABELS_BOOL:
                v = p[k] ? mp_const_true : mp_const_false;
                break;
            default:
                v = MP_OBJ_NEW_SMALL_INT(k);
                break;
        }
        t->items[k] = v;
    }
    if (data != MP_OBJ_NULL) {
        t->items[n] = data;
    }
    return MP_OBJ_FROM_PTR(t);
}

// The object, for the model m (and its cold part, if any), its labels as objects if they are
// not small ints, and room for n_sums sums after the rest.
static trees_obj_t *new_model(const ml_trees_t *m, size_t n_sums, mp_obj_t data) {
    const size_t n_cold = m->cold ? COLD_WORDS : 0;
    mp_obj_t keep = small_int_labels(m) ? data : make_classes(m, data);
    trees_obj_t *self = mp_obj_malloc_var(trees_obj_t, tail, uint64_t, n_cold + n_sums,
        (const mp_obj_type_t *)&trees_type);
    self->keep = keep;
    self->model = *m;
    if (n_cold) {
        ml_trees_cold_t *cold = (ml_trees_cold_t *)(void *)self->tail;
        *cold = *m->cold;
        self->model.cold = cold;
    }
    if (m->tree_node != NULL) {
        // a binary model: its sums past STACK_SUMS outputs
        ml_trees_set_workspace(&self->model, n_sums ? self->tail + n_cold : NULL);
    }
    return self;
}

// The data of the model (see keep).
static mp_obj_t data_of(const trees_obj_t *self) {
    if (small_int_labels(&self->model)) {
        return self->keep;
    }
    const mp_obj_tuple_t *t = MP_OBJ_TO_PTR(self->keep);
    return t->items[t->len - 1];
}

// Whether the model's arrays lie in a block the binding read a binary model into (which starts
// with the container; a buffer object starts with its type): not in place.
static bool binary_in_block(const trees_obj_t *self) {
    mp_obj_t data = data_of(self);
    return self->model.tree_node != NULL && mp_obj_is_obj(data)
        && ml_blob_is_blob(MP_OBJ_TO_PTR(data), 4);
}

// The cold part of a binary model without one, from its data (which ml_trees_open checked).
static void cold_from_data(const trees_obj_t *self, ml_trees_cold_t *cold) {
    mp_obj_t data = data_of(self);
    const void *blob;
    if (mp_obj_is_small_int(data)) {
        blob = (const void *)((uintptr_t)MP_OBJ_SMALL_INT_VALUE(data) << 2);
    } else if (ml_blob_is_blob(MP_OBJ_TO_PTR(data), 4)) {
        blob = MP_OBJ_TO_PTR(data);
    } else {
        mp_buffer_info_t info;
        mp_get_buffer_raise(data, &info, MP_BUFFER_READ);
        blob = info.buf;
    }
    ml_trees_blob_cold(blob, cold);
}

// The counts of the model's nodes and leaves: in its cold part, or else in its data.
static void model_counts(const trees_obj_t *self, uint32_t *n_nodes, uint32_t *n_leaves) {
    ml_trees_cold_t cold;
    const ml_trees_cold_t *c = self->model.cold;
    if (c == NULL) {
        cold_from_data(self, &cold);
        c = &cold;
    }
    *n_nodes = c->n_nodes;
    *n_leaves = c->n_leaves;
}

// model.memory: the block the model was read into (if any), and the sums kept in the heap.
static size_t model_memory(const trees_obj_t *self) {
    const ml_trees_t *m = &self->model;
    if (m->tree_node == NULL) {
        // a text model: its block, sums included
        return ml_trees_memory_size(&m->h, m->cold->n_nodes, m->cold->n_leaves);
    }
    size_t sums = m->h.n_outputs > STACK_SUMS ? ml_trees_workspace_size(&m->h) : 0;
    if (binary_in_block(self)) {
        sums += ml_blob_u32((const uint8_t *)MP_OBJ_TO_PTR(data_of(self)) + 8);  // its size
    }
    return sums;
}

// A binary model: checked, then used where it lies (bl->block NULL: the caller's buffer, kept
// as bl->buffer) or in the block it was read into; its sums are the only other RAM.
static mp_obj_t open_binary(ml_blob_load_t *bl, const char *where) {
    ml_trees_t m;
    ml_trees_cold_t cold;
    ml_error_t err = { ML_OK, 0, "" };
    const void *data = bl->block ? bl->block : bl->blob.data;
    if (ml_trees_open(&m, &cold, data, bl->blob.size, &err) != ML_OK) {
        if (bl->block) {
            ml_free(bl->block, bl->block_size);
        }
        ml_raise_value("%s: %s", where, err.msg);
    }
    mp_obj_t keep = bl->block ? MP_OBJ_FROM_PTR(bl->block) : bl->buffer;
    if (m.cold && m.node_layout == ML_TREES_NODES_RECORDS && !cold.labels && !cold.baseline) {
        // Missing-value sides alone: not kept (a sample with NaN reads them again, eval_nan).
        m.cold = NULL;
    }
    if (keep == mp_const_none) {
        // a file of a ROMFS image: its address, to read the counts from when asked
        mp_int_t a = (mp_int_t)((uintptr_t)data >> 2);
        if (SMALL_INT_FITS(a)) {
            keep = MP_OBJ_NEW_SMALL_INT(a);
        } else {
            m.cold = &cold;  // (its data could not be found again)
        }
    }
    size_t n_sums = m.h.n_outputs > STACK_SUMS ? m.h.n_outputs : 0;
    return MP_OBJ_FROM_PTR(new_model(&m, n_sums, keep));
}

// A text model file (ours or emlearn's), streamed through the chunk of src. `have` bytes of the
// first chunk are already read.
static mp_obj_t load_text(ml_source_t *src, size_t have) {
    ml_trees_loader_t ld;
    ml_trees_loader_init(&ld);
    ml_error_t err = { ML_OK, 0, "" };
    void *memory = NULL;
    size_t memory_size = 0;
    int status = ML_OK;

    for (size_t n = have;; n = ml_source_read(src)) {
        if (n == 0) {
            status = ml_trees_loader_finish(&ld, &err);
            if (status != ML_TREES_REWIND) {
                break;
            }
            // emlearn CSV: sizes are known after a first pass; read again to fill.
            memory_size = ml_trees_loader_memory_size(&ld);
            memory = m_malloc(memory_size);
            ml_trees_loader_set_memory(&ld, memory);
            ml_source_rewind(src);
            continue;
        }
        size_t done = 0;
        while (done < n) {
            size_t used;
            status = ml_trees_loader_feed(&ld, src->chunk + done, n - done, &used, &err);
            done += used;
            if (status == ML_TREES_NEED_MEMORY) {
                memory_size = ml_trees_loader_memory_size(&ld);
                memory = m_malloc(memory_size);
                ml_trees_loader_set_memory(&ld, memory);
                status = ML_OK;
            } else if (status != ML_OK) {
                break;
            }
        }
        if (status != ML_OK) {
            break;
        }
    }
    ml_source_close(src);
    if (status != ML_OK) {
        // Nothing half-built survives: the partial block is freed before raising.
        if (memory) {
            ml_free(memory, memory_size);
        }
        ml_raise_model_error(src, &err);
    }
    return MP_OBJ_FROM_PTR(new_model(ml_trees_loader_model(&ld), 0, MP_OBJ_FROM_PTR(memory)));
}

// A source that can be read as a buffer in place: a bytes object, a memoryview, a file of a
// ROMFS image (whose read-only data is mapped in memory).
static bool in_place_buffer(mp_obj_t obj, mp_buffer_info_t *info) {
    return !mp_obj_is_str(obj) && mp_get_buffer(obj, info, MP_BUFFER_READ);
}

// trees.load(source): a path, an open file, or a buffer holding a model (binary or text).
static mp_obj_t trees_load(mp_obj_t source) {
    mp_buffer_info_t info;
    if (in_place_buffer(source, &info)) {
        if (ml_blob_is_blob(info.buf, info.len)) {
            ml_blob_load_t bl;
            ml_blob_load(source, ML_BLOB_KIND_TREES, ML_TREES_BLOB_VERSION, &bl);
            return open_binary(&bl, "model buffer");
        }
        // Text in a buffer: read it through a stream over (a copy of) the buffer.
        mp_obj_t name = MP_OBJ_NEW_QSTR(MP_QSTR_io);
        mp_obj_t io = mp_call_function_n_kw(mp_load_global(MP_QSTR___import__), 1, 0, &name);
        source = mp_call_function_n_kw(mp_load_attr(io, MP_QSTR_BytesIO), 1, 0, &source);
    }
    ml_source_t src;
    ml_source_open(&src, source);
    size_t n = ml_source_read(&src);
    if (n >= 4 && ml_blob_is_blob(src.chunk, n)) {
        // A binary model file. In a ROMFS image the file's data is mapped: use it in place.
        if (in_place_buffer(src.stream, &info) && !((uintptr_t)info.buf & 3)
            && ml_blob_is_blob(info.buf, info.len)) {
            ml_blob_load_t bl;
            ml_error_t err = { ML_OK, 0, "" };
            bl.block = NULL;
            bl.block_size = 0;
            // The image's data is not in the heap: nothing to keep (a file object would only
            // hold a pointer into it).
            bl.buffer = mp_const_none;
            if (ml_blob_open(&bl.blob, info.buf, info.len, ML_BLOB_KIND_TREES,
                ML_TREES_BLOB_VERSION, &err) != ML_OK) {
                ml_source_close(&src);
                ml_raise_model_error(&src, &err);
            }
            mp_obj_t model = open_binary(&bl, src.path != MP_OBJ_NULL
                ? mp_obj_str_get_str(src.path) : "model file");
            ml_source_close(&src);
            return model;
        }
        ml_blob_load_t bl;
        ml_error_t err = { ML_OK, 0, "" };
        ml_status_t r = ml_blob_load_rest(&src, n, ML_BLOB_KIND_TREES, ML_TREES_BLOB_VERSION,
            &bl, &err);
        ml_source_close(&src);
        if (r != ML_OK) {
            ml_raise_model_error(&src, &err);
        }
        return open_binary(&bl, src.path != MP_OBJ_NULL ? mp_obj_str_get_str(src.path)
            : "model file");
    }
    return load_text(&src, n);
}
static MP_DEFINE_CONST_FUN_OBJ_1(trees_load_obj, trees_load);

// ---------------------------------------------------------------------------------------------
// predict

// An evaluation's error, and what a second try needs: eval_sample keeps them in its frame (two
// stores), so that its call keeps as few registers as before.
typedef struct {
    ml_error_t err;
    const trees_obj_t *self;
    const ml_features_t *x;
} eval_error_t;

// After an evaluation of sample i failed: raises its error, unless it is a float32 sample with
// NaN for a forest whose cold part (its missing-value sides) the object does not keep; a copy
// of the model with it, from the data, then evaluates it (the sums land where the model's do).
static void __attribute__((noinline)) eval_failed(eval_error_t *e, size_t i) {
    const trees_obj_t *self = e->self;
    if (e->err.code == ML_E_STATE && self->model.cold == NULL && e->x->typecode == 'f') {
        const size_t nf = self->model.h.n_features;
        ml_trees_t m = self->model;
        ml_trees_cold_t cold;
        cold_from_data(self, &cold);
        m.cold = &cold;
        if (ml_trees_eval_f32(&m, (const float *)e->x->buf + i * nf, nf, &e->err) == ML_OK) {
            return;
        }
    }
    ml_raise_error(&e->err, i);
}

// Evaluates the model on sample i of the buffer x.
static void eval_sample(trees_obj_t *self, const ml_features_t *x, size_t i) {
    eval_error_t e;
    e.self = self;
    e.x = x;
    const size_t nf = self->model.h.n_features;
    ml_status_t r = x->typecode == 'f'
        ? ml_trees_eval_f32(&self->model, (const float *)x->buf + i * nf, nf, &e.err)
        : ml_trees_eval_i16(&self->model, (const int16_t *)x->buf + i * nf, nf, &e.err);
    if (r != ML_OK) {
        eval_failed(&e, i);
    }
}

// The class index of float32 sample i of the buffer x (a classifier), as eval_sample then
// ml_trees_class_index give it; a forest may stop at a majority of its vote.
static uint32_t class_f32(trees_obj_t *self, const ml_features_t *x, size_t i) {
    eval_error_t e;
    e.self = self;
    e.x = x;
    const size_t nf = self->model.h.n_features;
    uint32_t k;
    if (ml_trees_predict_class_f32(&self->model, (const float *)x->buf + i * nf, nf, &k, &e.err)
        != ML_OK) {
        eval_failed(&e, i);  // (raises, or evaluates every tree with the cold part)
        k = ml_trees_class_index(&self->model);
    }
    return k;
}

// x as features: the common case checked in a few instructions, anything else by
// ml_get_features, which raises the error saying what is wrong (inlined: a call of its own
// would cost predict more than the check).
ML_TREES_INLINE void get_x(mp_obj_t obj, const char *name, ml_features_t *x) {
    mp_buffer_info_t info;
    if (mp_get_buffer(obj, &info, MP_BUFFER_READ) && info.len
        && (info.typecode == 'f' || info.typecode == 'h')) {
        x->buf = info.buf;
        x->typecode = (char)info.typecode;
        x->len = info.len / (info.typecode == 'f' ? 4 : 2);
        return;
    }
    ml_get_features(obj, name, x);
}

// The label of class k (inlined: it is most of what predict does after the core's call). Small
// ints are made in place (no allocation, no call): the indices, or int32 labels that fit;
// other labels are items of the tuple that keep is then (new_model made it for any label that
// is not a small int).
ML_TREES_INLINE mp_obj_t label_of(const trees_obj_t *self, uint32_t k) {
    const uint8_t kind = self->model.label_kind;
    if (kind == ML_TREES_LABELS_INDEX) {
        return MP_OBJ_NEW_SMALL_INT(k);
    }
    if (kind == ML_TREES_LABELS_INT32) {
        const mp_int_t v = ((const int32_t *)self->model.cold->labels)[k];
        if (SMALL_INT_FITS(v)) {
            return MP_OBJ_NEW_SMALL_INT(v);
        }
    }
    const mp_obj_tuple_t *t = MP_OBJ_TO_PTR(self->keep);
    return t->items[k];
}

// What tells an array.array, a bytearray or a memoryview: the buffer function their types share
// (py/objarray.c; such an object has mp_obj_array_t's layout), and memoryview's name. A native
// module reads them from bytearray's type when imported; the firmware has them in ROM.
#if MICROPY_ENABLE_DYNRUNTIME
struct trees_arrays {
    mp_buffer_fun_t buffer;
    qstr memoryview;
} trees_arrays;  // (not static: a native module's data must be global)
#define ARRAYS_BUFFER (trees_arrays.buffer)
#define ARRAYS_MEMORYVIEW (trees_arrays.memoryview)
#else
#define ARRAYS_BUFFER (MP_OBJ_TYPE_GET_SLOT(&mp_type_bytearray, buffer))
#define ARRAYS_MEMORYVIEW (MP_QSTR_memoryview)
#endif

// x where it is an array.array or a memoryview of n items, else NULL. Their items are read from
// the object itself: predict(x) of small_rf (benchmarks) takes 44 fewer instructions on the
// Cortex-M3 and 50 fewer on x64 than by asking x's type for its buffer.
ML_TREES_INLINE const mp_obj_array_t *array_of(mp_obj_t x, size_t n) {
    if (mp_obj_is_obj(x)) {
        const mp_obj_array_t *a = MP_OBJ_TO_PTR(x);
        const mp_obj_type_t *t = a->base.type;
        if (MP_OBJ_TYPE_HAS_SLOT(t, buffer) && MP_OBJ_TYPE_GET_SLOT(t, buffer) == ARRAYS_BUFFER
            && a->len == n) {
            return a;
        }
    }
    return NULL;
}

// The offset of a's items in its buffer, in items: a memoryview keeps it in `free` (an array
// keeps its room to grow there).
ML_TREES_INLINE size_t items_offset(const mp_obj_array_t *a) {
    return a->base.type->name == ARRAYS_MEMORYVIEW ? a->free : 0;
}

// predict(x[, proba]) of any sample: the label (or value); with proba, also the class
// probabilities, from the same evaluation. (Apart from the paths of trees_predict_call for
// arrays, whose frame it would burden.)
static mp_obj_t __attribute__((noinline)) predict_any(trees_obj_t *self, mp_obj_t x_in,
    mp_obj_t proba_in) {
    ml_features_t x;
    get_x(x_in, "x", &x);
    if (x.len != self->model.h.n_features) {
        ml_raise_length("x", x.len, self->model.h.n_features, "values (n_features)");
    }
    float *proba = NULL;
    if (proba_in != MP_OBJ_NULL) {
        if (!self->model.h.n_classes) {
            mp_raise_TypeError(MP_ERROR_TEXT("predict: a regressor has no probabilities"));
        }
        proba = ml_get_float_out(proba_in, "proba", self->model.h.n_classes,
            "values (n_classes)");
    }
    eval_sample(self, &x, 0);
    if (proba) {
        ml_trees_proba(&self->model, proba);
    }
    if (self->model.h.n_classes) {
        return label_of(self, ml_trees_class_index(&self->model));
    }
    return mp_obj_new_float_from_d(ml_trees_value(&self->model));
}

// model.predict(x[, proba]), which is model(x[, proba]) (as a Keras model is called): the
// attribute predict is the model itself, so the call is the type's, with none of a bound
// method's steps (with the items of x read from the object, array_of: the stump's predict(x)
// on x64 took 471 instructions as a method asking x's type for its buffer, 290 so). The sums
// of the call, and the int16 sample of a classifier in one call into the core.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
// (each path with its own call and return: no jumps into a shared tail)
__attribute__((optimize("no-crossjumping")))
#endif
static mp_obj_t trees_predict_call(mp_obj_t self_in, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if ((n_kw << 2) + n_args - 1u > 1u) {  // (keywords, or other than 1 or 2 arguments: one test)
        ml_raise_type("predict takes x and optionally proba, by position: got %u arguments%s",
            (unsigned)n_args, n_kw ? " and keywords" : "");
    }
    uint64_t sums[STACK_SUMS];
    use_sums(self, sums);
    if (n_args == 1 && self->model.h.n_classes) {
        // predict(x) of a classifier, x an array or a memoryview of n_features items
        const size_t nf = self->model.h.n_features;
        const mp_obj_array_t *a = array_of(args[0], nf);
        if (a) {
            const size_t tc = a->typecode & 0x7f;  // (0x80: a writable memoryview)
            if (tc == 'h') {
                // The label alone, of an int16 sample: one call into the core.
                const int16_t *xi = (const int16_t *)a->items + items_offset(a);
                return label_of(self, ml_trees_predict_class_i16(&self->model, xi));
            }
            if (tc == 'f') {
                const ml_features_t x = { (const float *)a->items + items_offset(a), nf, 'f' };
                return label_of(self, class_f32(self, &x, 0));
            }
        }
    }
    // (any other buffer, proba, a regressor, and every error)
    return predict_any(self, args[0], n_args > 1 ? args[1] : MP_OBJ_NULL);
}

static mp_obj_t trees_predict_proba(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->model.h.n_classes) {
        mp_raise_TypeError(MP_ERROR_TEXT("predict_proba: this model is a regressor"));
    }
    uint64_t sums[STACK_SUMS];
    use_sums(self, sums);
    ml_features_t x;
    get_x(x_in, "x", &x);
    ml_check_length("x", x.len, self->model.h.n_features, "values (n_features)");
    float *out = ml_get_float_out(out_in, "out", self->model.h.n_classes, "values (n_classes)");
    eval_sample(self, &x, 0);
    ml_trees_proba(&self->model, out);
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(trees_predict_proba_obj, trees_predict_proba);

static mp_obj_t trees_predict_many(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const ml_trees_t *m = &self->model;
    const size_t nf = m->h.n_features;
    ml_features_t x;
    get_x(x_in, "X", &x);
    if (x.len % nf != 0) {
        ml_raise_length("X", x.len, nf, "a multiple of n_features");
    }
    if (m->h.n_classes && m->label_kind != ML_TREES_LABELS_INT32
        && m->label_kind != ML_TREES_LABELS_INDEX) {
        ml_raise_value("predict_many writes integer labels into out, and this model's class "
            "labels are not 32-bit integers: use predict(x), which returns them (model.classes "
            "lists them)");
    }
    size_t n = x.len / nf;
    ml_output_t out;
    ml_get_output(out_in, "out", n, m->h.n_classes ? ML_OUT_INT_OR_FLOAT : ML_OUT_FLOAT, &out);
    if (m->h.n_classes) {
        // the labels written are 0 .. n_classes - 1, or the model's int32 labels
        int64_t lo = 0, hi = (int64_t)m->h.n_classes - 1;
        if (m->label_kind == ML_TREES_LABELS_INT32) {
            const uint8_t *labels = m->cold->labels;
            lo = hi = (int32_t)ml_blob_u32(labels);
            for (uint32_t k = 1; k < m->h.n_classes; k++) {
                int32_t v = (int32_t)ml_blob_u32(labels + 4 * k);
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        }
        ml_check_output_range(&out, "out", lo, hi, "the labels");
    }
    // Results are written sample by sample while X is still being read.
    ml_check_no_overlap("X", x.buf, x.len * (x.typecode == 'f' ? 4 : 2), "out", out.buf,
        n * out.size);
    uint64_t sums[STACK_SUMS];
    use_sums(self, sums);
    // int16 samples of a classifier: the label alone, as predict(x) finds it
    const int labels_i16 = m->h.n_classes && x.typecode == 'h';
    const uint8_t *labels = m->label_kind == ML_TREES_LABELS_INT32 ? m->cold->labels : NULL;
    for (size_t i = 0; i < n; i++) {
        if (labels_i16) {
            uint32_t k = ml_trees_predict_class_i16(m, (const int16_t *)x.buf + i * nf);
            ml_output_set_int(&out, i, labels ? (int32_t)ml_blob_u32(labels + 4 * k) : (int32_t)k);
            continue;
        }
        if (m->h.n_classes) {
            // (float32 samples here: int16 ones went above)
            const uint32_t k = class_f32(self, &x, i);
            ml_output_set_int(&out, i, labels ? (int32_t)ml_blob_u32(labels + 4 * k) : (int32_t)k);
        } else {
            eval_sample(self, &x, i);
            ml_output_set_float(&out, i, ml_trees_value(m));
        }
    }
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(trees_predict_many_obj, trees_predict_many);
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

// ---------------------------------------------------------------------------------------------
// attributes: n_features, n_classes, n_outputs, n_trees, n_nodes, n_leaves, memory, classes,
// in_place

static void trees_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const ml_trees_header_t *h = &self->model.h;
    if (dest[0] != MP_OBJ_NULL) {
        return;  // attributes are read-only
    }
    if (attr == MP_QSTR_predict) {
        dest[0] = self_in;  // model.predict(x) is model(x): see trees_predict_call
        return;
    }
    mp_int_t v;
    uint32_t n_nodes, n_leaves;
    if (attr == MP_QSTR_n_features) {
        v = h->n_features;
    } else if (attr == MP_QSTR_n_classes) {
        v = h->n_classes;
    } else if (attr == MP_QSTR_n_outputs) {
        v = h->n_classes ? h->n_classes : h->n_outputs;
    } else if (attr == MP_QSTR_n_trees) {
        v = h->n_trees;
    } else if (attr == MP_QSTR_n_nodes || attr == MP_QSTR_n_leaves) {
        model_counts(self, &n_nodes, &n_leaves);
        v = attr == MP_QSTR_n_nodes ? n_nodes : n_leaves;
    } else if (attr == MP_QSTR_memory) {
        v = model_memory(self);
    } else if (attr == MP_QSTR_classes) {
        if (small_int_labels(&self->model)) {
            dest[0] = make_classes(&self->model, MP_OBJ_NULL);
        } else {
            // the labels of keep's tuple, without its last item
            const mp_obj_tuple_t *t = MP_OBJ_TO_PTR(self->keep);
            dest[0] = mp_obj_new_tuple(t->len - 1, t->items);
        }
        return;
    } else if (attr == MP_QSTR_in_place) {
        // a binary model that holds no block
        dest[0] = mp_obj_new_bool(self->model.tree_node != NULL && !binary_in_block(self));
        return;
    } else {
        dest[1] = MP_OBJ_SENTINEL;  // continue with the methods
        return;
    }
    dest[0] = mp_obj_new_int(v);
}

// ---------------------------------------------------------------------------------------------
// module

#if MICROPY_ENABLE_DYNRUNTIME

mp_map_elem_t trees_locals_table[2];
static MP_DEFINE_CONST_DICT(trees_locals, trees_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    trees_arrays.buffer = MP_OBJ_TYPE_GET_SLOT(&mp_type_bytearray, buffer);
    trees_arrays.memoryview = MP_QSTR_memoryview;
    trees_type.base.type = (void *)&mp_type_type;
    trees_type.flags = MP_TYPE_FLAG_NONE;
    trees_type.name = MP_QSTR_Trees;
    trees_locals_table[0] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict_proba), MP_OBJ_FROM_PTR(&trees_predict_proba_obj) };
    trees_locals_table[1] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict_many), MP_OBJ_FROM_PTR(&trees_predict_many_obj) };

    MP_OBJ_TYPE_SET_SLOT(&trees_type, attr, trees_attr, 0);
    MP_OBJ_TYPE_SET_SLOT(&trees_type, locals_dict, (void *)&trees_locals, 1);
    MP_OBJ_TYPE_SET_SLOT(&trees_type, call, trees_predict_call, 2);

    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&trees_load_obj));
    mp_store_global(MP_QSTR_Trees, MP_OBJ_FROM_PTR(&trees_type));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_TREES_FORMAT_VERSION));

    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t trees_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_predict_proba), MP_ROM_PTR(&trees_predict_proba_obj) },
    { MP_ROM_QSTR(MP_QSTR_predict_many), MP_ROM_PTR(&trees_predict_many_obj) },
};
static MP_DEFINE_CONST_DICT(trees_locals, trees_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    trees_type,
    MP_QSTR_Trees,
    MP_TYPE_FLAG_NONE,
    attr, trees_attr,
    call, trees_predict_call,
    locals_dict, &trees_locals
    );

static const mp_rom_map_elem_t trees_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_trees) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&trees_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_Trees), MP_ROM_PTR(&trees_type) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_TREES_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(trees_module_globals, trees_module_table);

const mp_obj_module_t ml_trees_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&trees_module_globals,
};

#endif
