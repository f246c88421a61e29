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
#include "mod_common.h"
#include "ml_trees.h"

typedef struct {
    mp_obj_base_t base;
    ml_trees_t model;  // its arrays point into memory
    void *memory;
    size_t memory_size;
} trees_obj_t;

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t trees_type;
#else
static const mp_obj_type_t trees_type;
#endif

// ---------------------------------------------------------------------------------------------
// load

static mp_obj_t trees_load(mp_obj_t source) {
    ml_source_t src;
    ml_source_open(&src, source);

    ml_trees_loader_t ld;
    ml_trees_loader_init(&ld);
    ml_error_t err = { ML_OK, 0, "" };
    void *memory = NULL;
    size_t memory_size = 0;
    int status = ML_OK;

    for (;;) {
        size_t n = ml_source_read(&src);
        if (n == 0) {
            status = ml_trees_loader_finish(&ld, &err);
            if (status != ML_TREES_REWIND) {
                break;
            }
            // emlearn CSV: sizes are known after a first pass; read again to fill.
            memory_size = ml_trees_loader_memory_size(&ld);
            memory = m_malloc(memory_size);
            ml_trees_loader_set_memory(&ld, memory);
            ml_source_rewind(&src);
            continue;
        }
        size_t done = 0;
        while (done < n) {
            size_t used;
            status = ml_trees_loader_feed(&ld, src.chunk + done, n - done, &used, &err);
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
    ml_source_close(&src);
    if (status != ML_OK) {
        // Nothing half-built survives: the partial block is freed before raising.
        if (memory) {
            ml_free(memory, memory_size);
        }
        ml_raise_model_error(&src, &err);
    }

    trees_obj_t *self = mp_obj_malloc(trees_obj_t, (const mp_obj_type_t *)&trees_type);
    self->model = *ml_trees_loader_model(&ld);
    self->memory = memory;
    self->memory_size = memory_size;
    return MP_OBJ_FROM_PTR(self);
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

// predict(x[, proba]): the label (or value); with proba, also the class probabilities, from the
// same evaluation.
static mp_obj_t trees_predict(size_t n_args, const mp_obj_t *args) {
    trees_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    ml_features_t x;
    ml_get_features(args[1], "x", &x);
    ml_check_length("x", x.len, self->model.h.n_features, "values (n_features)");
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
        return mp_obj_new_int(ml_trees_class_label(&self->model));
    }
    return mp_obj_new_float_from_d(ml_trees_value(&self->model));
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(trees_predict_obj, 2, 3, trees_predict);

static mp_obj_t trees_predict_proba(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!self->model.h.n_classes) {
        mp_raise_TypeError(MP_ERROR_TEXT("predict_proba: this model is a regressor"));
    }
    ml_features_t x;
    ml_get_features(x_in, "x", &x);
    ml_check_length("x", x.len, self->model.h.n_features, "values (n_features)");
    float *out = ml_get_float_out(out_in, "out", self->model.h.n_classes, "values (n_classes)");
    eval_sample(self, &x, 0);
    ml_trees_proba(&self->model, out);
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(trees_predict_proba_obj, trees_predict_proba);

static mp_obj_t trees_predict_many(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    trees_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const size_t nf = self->model.h.n_features;
    ml_features_t x;
    ml_get_features(x_in, "X", &x);
    if (x.len % nf != 0) {
        ml_raise_length("X", x.len, nf, "a multiple of n_features");
    }
    size_t n = x.len / nf;
    ml_output_t out;
    ml_get_output(out_in, "out", n, self->model.h.n_classes ? ML_OUT_INT_OR_FLOAT : ML_OUT_FLOAT,
        &out);
    if (self->model.h.n_classes) {
        int64_t lo = self->model.labels[0], hi = lo;
        for (uint32_t k = 1; k < self->model.h.n_classes; k++) {
            lo = self->model.labels[k] < lo ? self->model.labels[k] : lo;
            hi = self->model.labels[k] > hi ? self->model.labels[k] : hi;
        }
        ml_check_output_range(&out, "out", lo, hi, "the labels");
    }
    // Results are written sample by sample while X is still being read.
    ml_check_no_overlap("X", x.buf, x.len * (x.typecode == 'f' ? 4 : 2), "out", out.buf,
        n * out.size);
    for (size_t i = 0; i < n; i++) {
        eval_sample(self, &x, i);
        if (self->model.h.n_classes) {
            ml_output_set_int(&out, i, ml_trees_class_label(&self->model));
        } else {
            ml_output_set_float(&out, i, ml_trees_value(&self->model));
        }
    }
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(trees_predict_many_obj, trees_predict_many);

// ---------------------------------------------------------------------------------------------
// attributes: n_features, n_classes, n_outputs, n_trees, n_nodes, n_leaves, memory, classes

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
        v = self->memory_size;
    } else if (attr == MP_QSTR_classes) {
        mp_obj_tuple_t *t = MP_OBJ_TO_PTR(mp_obj_new_tuple(h->n_classes, NULL));
        for (uint32_t k = 0; k < h->n_classes; k++) {
            t->items[k] = mp_obj_new_int(self->model.labels[k]);
        }
        dest[0] = MP_OBJ_FROM_PTR(t);
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
