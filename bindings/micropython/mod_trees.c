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
#include "ml_trees.h"

// The sums of a prediction (8 bytes per output) are on the C stack for models of up to
// STACK_SUMS outputs: every call that evaluates points the model at its own (so a model used in
// place takes no RAM beyond its object, and a call that raises leaves nothing that a later one
// reads: each sets the pointer again before evaluating). A model of more outputs keeps them in
// its heap block: a binary model after its object, a text model in its block.
#define STACK_SUMS (32)

// One heap block: the object (and a binary model's sums after it, past STACK_SUMS outputs).
typedef struct {
    mp_obj_base_t base;
    mp_obj_t keep;       // what the model's arrays lie in: the block a text or binary model was
                         // read into, or the buffer object a binary model is used in place from
                         // (None: a file of a ROMFS image, whose data is not in the heap)
    mp_obj_t classes;    // tuple of the class labels (predict returns its items: no allocation),
                         // or MP_OBJ_NULL when they are small ints
    ml_trees_t model;
    uint64_t sums[];     // a binary model's sums past STACK_SUMS outputs
} trees_obj_t;

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

// Whether every label is a small int on any port (30 bits and a sign: an object that takes no
// memory): then predict makes them as it returns them, and the model keeps no tuple of them.
#define SMALL_INT_FITS(v) ((v) >= -(1 << 30) && (v) < (1 << 30))
static bool small_int_labels(const ml_trees_t *m) {
    if (m->label_kind == ML_TREES_LABELS_INDEX) {
        return true;
    }
    if (m->label_kind != ML_TREES_LABELS_INT32) {
        return false;
    }
    for (uint32_t k = 0; k < m->h.n_classes; k++) {
        if (!SMALL_INT_FITS((int32_t)ml_blob_u32((const uint8_t *)m->labels + 4 * k))) {
            return false;
        }
    }
    return true;
}

// The class labels as objects, from the model's label table.
static mp_obj_t make_classes(const ml_trees_t *m) {
    const uint32_t n = m->h.n_classes;
    mp_obj_tuple_t *t = MP_OBJ_TO_PTR(mp_obj_new_tuple(n, NULL));
    const uint8_t *p = m->labels;
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
    return MP_OBJ_FROM_PTR(t);
}

// The object, with room for n_sums sums after it.
static trees_obj_t *new_model(const ml_trees_t *m, size_t n_sums, mp_obj_t keep) {
    trees_obj_t *self = mp_obj_malloc_var(trees_obj_t, sums, uint64_t, n_sums,
        (const mp_obj_type_t *)&trees_type);
    self->keep = keep;
    self->classes = MP_OBJ_NULL;
    self->model = *m;
    return self;
}

// Whether the model's arrays lie in a block the binding read a binary model into (which starts
// with the container; a buffer object starts with its type): not in place.
static bool binary_in_block(const trees_obj_t *self) {
    return self->model.tree_node != NULL && self->keep != mp_const_none
        && mp_obj_is_obj(self->keep) && ml_blob_is_blob(MP_OBJ_TO_PTR(self->keep), 4);
}

// model.memory: the block the model was read into (if any), and the sums kept in the heap.
static size_t model_memory(const trees_obj_t *self) {
    const ml_trees_t *m = &self->model;
    if (m->tree_node == NULL) {
        return ml_trees_memory_size(&m->h);  // a text model: its block, sums included
    }
    size_t sums = m->h.n_outputs > STACK_SUMS ? ml_trees_workspace_size(&m->h) : 0;
    if (binary_in_block(self)) {
        sums += ml_blob_u32((const uint8_t *)MP_OBJ_TO_PTR(self->keep) + 8);  // its total size
    }
    return sums;
}

// A binary model: checked, then used where it lies (out->block NULL: the caller's buffer, kept
// as bl->buffer) or in the block it was read into; its sums are the only other RAM.
static mp_obj_t open_binary(ml_blob_load_t *bl, const char *where) {
    ml_trees_t m;
    ml_error_t err = { ML_OK, 0, "" };
    const void *data = bl->block ? bl->block : bl->blob.data;
    if (ml_trees_open(&m, data, bl->blob.size, &err) != ML_OK) {
        if (bl->block) {
            ml_free(bl->block, bl->block_size);
        }
        ml_raise_value("%s: %s", where, err.msg);
    }
    size_t n_sums = m.h.n_outputs > STACK_SUMS ? m.h.n_outputs : 0;
    trees_obj_t *self = new_model(&m, n_sums, bl->block ? MP_OBJ_FROM_PTR(bl->block)
        : bl->buffer);
    ml_trees_set_workspace(&self->model, n_sums ? self->sums : NULL);
    self->classes = small_int_labels(&self->model) ? MP_OBJ_NULL : make_classes(&self->model);
    return MP_OBJ_FROM_PTR(self);
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
    trees_obj_t *self = new_model(ml_trees_loader_model(&ld), 0, MP_OBJ_FROM_PTR(memory));
    self->classes = small_int_labels(&self->model) ? MP_OBJ_NULL : make_classes(&self->model);
    return MP_OBJ_FROM_PTR(self);
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

// Evaluates the model on n samples starting at sample i of the buffer x.
static void eval_sample(trees_obj_t *self, const ml_features_t *x, size_t i) {
    ml_error_t err;
    const size_t nf = self->model.h.n_features;
    ml_status_t r = x->typecode == 'f'
        ? ml_trees_eval_f32(&self->model, (const float *)x->buf + i * nf, nf, &err)
        : ml_trees_eval_i16(&self->model, (const int16_t *)x->buf + i * nf, nf, &err);
    if (r != ML_OK) {
        ml_raise_error(&err, i);
    }
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

// The label of class k (inlined: it is most of what predict does after the core's call).
ML_TREES_INLINE mp_obj_t label_of(const trees_obj_t *self, uint32_t k) {
    if (self->classes == MP_OBJ_NULL) {
        // small ints (checked when loading): made in place, no allocation, no call; int32
        // labels, or none (labels NULL: ML_TREES_LABELS_INDEX, the labels are the indices)
        const int32_t *labels = self->model.labels;
        return MP_OBJ_NEW_SMALL_INT(labels ? (mp_int_t)labels[k] : (mp_int_t)k);
    }
    const mp_obj_tuple_t *t = MP_OBJ_TO_PTR(self->classes);
    return t->items[k];
}

// x's buffer for reading, as mp_get_buffer gives it, asked of an object's type directly (arrays
// and memoryviews have the slot): no call through the runtime's table and no type lookup, a
// fifth of what getting the buffer costs predict.
ML_TREES_INLINE bool x_buffer(mp_obj_t x, mp_buffer_info_t *info) {
    if (mp_obj_is_obj(x)) {
        const mp_obj_type_t *t = ((const mp_obj_base_t *)MP_OBJ_TO_PTR(x))->type;
        if (MP_OBJ_TYPE_HAS_SLOT(t, buffer)) {
            return MP_OBJ_TYPE_GET_SLOT(t, buffer)(x, info, MP_BUFFER_READ) == 0;
        }
    }
    return mp_get_buffer(x, info, MP_BUFFER_READ);
}

// Whether x is an int16 sample of the model's length (then info describes it).
ML_TREES_INLINE bool int16_sample(const trees_obj_t *self, mp_obj_t x, mp_buffer_info_t *info) {
    return mp_get_buffer(x, info, MP_BUFFER_READ) && info->typecode == 'h'
           && info->len == 2 * (size_t)self->model.h.n_features;
}

// predict(x[, proba]) of any sample: the label (or value); with proba, also the class
// probabilities, from the same evaluation. (Apart from the int16 path of trees_predict, whose
// frame it would burden.)
static mp_obj_t __attribute__((noinline)) predict_any(trees_obj_t *self, size_t n_args,
    const mp_obj_t *args) {
    ml_features_t x;
    get_x(args[1], "x", &x);
    if (x.len != self->model.h.n_features) {
        ml_raise_length("x", x.len, self->model.h.n_features, "values (n_features)");
    }
    float *proba = NULL;
    if (n_args > 2) {
        if (!self->model.h.n_classes) {
            mp_raise_TypeError(MP_ERROR_TEXT("predict: a regressor has no probabilities"));
        }
        proba = ml_get_float_out(args[2], "proba", self->model.h.n_classes,
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

// predict(x[, proba]): the sums of the call, and the int16 sample of a classifier in one call
// into the core.
static mp_obj_t trees_predict(size_t n_args, const mp_obj_t *args) {
    trees_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    // (x's buffer info is read before the sums are written: they share the space)
    union {
        mp_buffer_info_t info;
        uint64_t sums[STACK_SUMS];
    } u;
    const uint32_t n_classes = self->model.h.n_classes;
    if (n_args == 2 && n_classes - 1u < STACK_SUMS) {
        // predict(x) of a classifier: its sums are here already (n_outputs <= n_classes), once
        // for both paths below.
        self->model.acc = (double *)(void *)u.sums;
        if (x_buffer(args[1], &u.info)) {
            const size_t nf = self->model.h.n_features;
            if (u.info.typecode == 'h' && u.info.len == 2 * nf) {
                // The label alone, of an int16 sample: one call into the core.
                return label_of(self, ml_trees_predict_class_i16(&self->model, u.info.buf));
            }
            if (u.info.typecode == 'f' && u.info.len == 4 * nf) {
                // a float32 sample (its address taken before the sums are written)
                const ml_features_t x = { u.info.buf, nf, 'f' };
                eval_sample(self, &x, 0);
                return label_of(self, ml_trees_class_index(&self->model));
            }
        }
    } else {
        use_sums(self, u.sums);
        if (n_args == 2 && n_classes && int16_sample(self, args[1], &u.info)) {
            // (more classes than sums on the stack: the sums in the heap)
            return label_of(self, ml_trees_predict_class_i16(&self->model, u.info.buf));
        }
    }
    return predict_any(self, n_args, args);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(trees_predict_obj, 2, 3, trees_predict);

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
            lo = hi = (int32_t)ml_blob_u32(m->labels);
            for (uint32_t k = 1; k < m->h.n_classes; k++) {
                int32_t v = (int32_t)ml_blob_u32((const uint8_t *)m->labels + 4 * k);
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
    for (size_t i = 0; i < n; i++) {
        if (labels_i16) {
            uint32_t k = ml_trees_predict_class_i16(m, (const int16_t *)x.buf + i * nf);
            ml_output_set_int(&out, i, m->label_kind == ML_TREES_LABELS_INT32
                ? (int32_t)ml_blob_u32((const uint8_t *)m->labels + 4 * k) : (int32_t)k);
            continue;
        }
        eval_sample(self, &x, i);
        if (m->h.n_classes) {
            ml_output_set_int(&out, i, ml_trees_class_label(m));
        } else {
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
    mp_int_t v;
    if (attr == MP_QSTR_n_features) {
        v = h->n_features;
    } else if (attr == MP_QSTR_n_classes) {
        v = h->n_classes;
    } else if (attr == MP_QSTR_n_outputs) {
        v = h->n_classes ? h->n_classes : h->n_outputs;
    } else if (attr == MP_QSTR_n_trees) {
        v = h->n_trees;
    } else if (attr == MP_QSTR_n_nodes) {
        v = h->n_nodes;
    } else if (attr == MP_QSTR_n_leaves) {
        v = h->n_leaves;
    } else if (attr == MP_QSTR_memory) {
        v = model_memory(self);
    } else if (attr == MP_QSTR_classes) {
        dest[0] = self->classes != MP_OBJ_NULL ? self->classes : make_classes(&self->model);
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

mp_map_elem_t trees_locals_table[3];
static MP_DEFINE_CONST_DICT(trees_locals, trees_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    trees_type.base.type = (void *)&mp_type_type;
    trees_type.flags = MP_TYPE_FLAG_NONE;
    trees_type.name = MP_QSTR_Trees;
    trees_locals_table[0] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict), MP_OBJ_FROM_PTR(&trees_predict_obj) };
    trees_locals_table[1] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict_proba), MP_OBJ_FROM_PTR(&trees_predict_proba_obj) };
    trees_locals_table[2] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict_many), MP_OBJ_FROM_PTR(&trees_predict_many_obj) };
    MP_OBJ_TYPE_SET_SLOT(&trees_type, attr, trees_attr, 0);
    MP_OBJ_TYPE_SET_SLOT(&trees_type, locals_dict, (void *)&trees_locals, 1);

    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&trees_load_obj));
    mp_store_global(MP_QSTR_Trees, MP_OBJ_FROM_PTR(&trees_type));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_TREES_FORMAT_VERSION));

    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t trees_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_predict), MP_ROM_PTR(&trees_predict_obj) },
    { MP_ROM_QSTR(MP_QSTR_predict_proba), MP_ROM_PTR(&trees_predict_proba_obj) },
    { MP_ROM_QSTR(MP_QSTR_predict_many), MP_ROM_PTR(&trees_predict_many_obj) },
};
static MP_DEFINE_CONST_DICT(trees_locals, trees_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    trees_type,
    MP_QSTR_Trees,
    MP_TYPE_FLAG_NONE,
    attr, trees_attr,
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
