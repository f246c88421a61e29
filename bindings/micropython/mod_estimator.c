// The Python type of the scikit-learn family modules (see mod_estimator.h):
//
//   model = linear_model.load("model.mlb")  # a path, an open file, or a buffer used in place
//   model.predict(x)                        # class label (int), cluster, +1/-1, or value
//   model.predict_many(X, out)              # X: N samples back to back; out: N results
//   model.decision_function(X, out)         # out: N * width values, array('f')
//   model.predict_proba(X, out)             # (and score_samples, transform where the
//                                           #  estimator has them; absent otherwise)
//   model.partial_fit(X, y)                 # learning on the device, where the model can:
//   model.fit(X)                            #  (k-means) from its initial centres
//   model.add(x, label); model.remove(label); model.clear()   # (k-NN) stored samples
//
// x is array('f') or array('h') of n_features values. Nothing is allocated after load.
#include "mod_estimator.h"

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t ml_est_type;
#else
static const mp_obj_type_t ml_est_type;
#endif

static inline ml_est_t *est_of(ml_est_obj_t *self) {
    return (ml_est_t *)self->model;
}

mp_obj_t ml_est_load(mp_obj_t source, const ml_family_t *family) {
    ml_blob_load_t load;
    ml_blob_load(source, family->kind, family->max_version, &load);
    // From here a failure frees what was allocated, so that a failed load leaves nothing.
    ml_est_obj_t *self = m_malloc(sizeof(ml_est_obj_t) + family->model_size);
    self->base.type = (const mp_obj_type_t *)&ml_est_type;
    self->family = family;
    self->load = load;
    self->work = NULL;
    ml_error_t err = { ML_OK, 0, "" };
    if (family->open(self->model, &load.blob, &err) != ML_OK) {
        if (load.block) {
            ml_free(load.block, load.block_size);
        }
        ml_free(self, sizeof(ml_est_obj_t) + family->model_size);
        ml_raise_value("%s: %s", mp_obj_is_str(source) ? mp_obj_str_get_str(source)
            : "model", err.msg);
    }
    self->work_size = ml_est_work_size(est_of(self));
    self->work = m_malloc(self->work_size);
    ml_est_set_work(est_of(self), self->work);
    // Learning changes the model file: allowed in our copy, or a caller's writable buffer.
    mp_buffer_info_t info;
    self->writable = load.block != NULL
        || (load.buffer != MP_OBJ_NULL && mp_get_buffer(load.buffer, &info, MP_BUFFER_WRITE));
    return MP_OBJ_FROM_PTR(self);
}

static bool same_str(const char *a, const char *b) {
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

int ml_get_choice(mp_obj_t obj, const char *name, const char *const *choices) {
    if (!mp_obj_is_str(obj)) {
        ml_raise_type_got(obj, name, "a string");
    }
    const char *s = mp_obj_str_get_str(obj);
    char list[80];
    size_t at = 0;
    for (int i = 0; choices[i]; i++) {
        if (same_str(s, choices[i])) {
            return i;
        }
        for (const char *c = i ? ", " : ""; *c && at < sizeof(list) - 1; c++) {
            list[at++] = *c;
        }
        for (const char *c = choices[i]; *c && at < sizeof(list) - 1; c++) {
            list[at++] = *c;
        }
    }
    list[at] = 0;
    ml_raise_value("%s '%s' is not supported (%s are)", name, s, list);
}

double ml_get_number(mp_obj_t obj, const char *name, double lo, double hi, const char *range) {
    if (!mp_obj_is_int(obj) && mp_obj_get_type(obj) != MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_float))) {
        ml_raise_type_got(obj, name, "a number");
    }
    double v = mp_obj_get_float_to_d(obj);
    if (!(v >= lo && v <= hi)) {
        ml_raise_value("%s must be a finite number %s", name, range);
    }
    return v;
}

ml_est_obj_t *ml_est_new(const ml_family_t *family, size_t memory_size) {
    ml_est_obj_t *self = m_malloc(sizeof(ml_est_obj_t) + family->model_size);
    self->base.type = (const mp_obj_type_t *)&ml_est_type;
    self->family = family;
    self->load.block = NULL;
    self->load.block_size = 0;
    self->load.buffer = MP_OBJ_NULL;
    self->work_size = memory_size;
    self->work = m_malloc(memory_size);
    self->writable = true;
    return self;
}

void ml_est_discard(ml_est_obj_t *self) {
    ml_free(self->work, self->work_size);
    ml_free(self, sizeof(ml_est_obj_t) + self->family->model_size);
}

// Sample i of x through the preprocessing and the family's method; the result is in est->out.
static void run(ml_est_obj_t *self, ml_method_t method, const ml_features_t *x, size_t i) {
    ml_est_t *est = est_of(self);
    size_t nf = est->n_features;
    const void *xi = x->typecode == 'f' ? (const void *)((const float *)x->buf + i * nf)
        : (const void *)((const int16_t *)x->buf + i * nf);
    const double *xin;
    int is_f32;
    ml_error_t err;
    if (ml_est_input(est, xi, x->typecode, &xin, &is_f32, &err) != ML_OK
        || self->family->run(self->model, method, xin, is_f32, &err) != ML_OK) {
        ml_raise_error(&err, i);
    }
}

// The samples of X: a multiple of n_features values.
static size_t get_samples(ml_est_obj_t *self, mp_obj_t obj, const char *name, ml_features_t *x) {
    size_t nf = est_of(self)->n_features;
    ml_get_features(obj, name, x);
    if (x->len % nf != 0) {
        ml_raise_length(name, x->len, nf, "(a multiple of n_features)");
    }
    return x->len / nf;
}

static mp_obj_t predict_result(ml_est_obj_t *self) {
    ml_est_t *est = est_of(self);
    double v = est->out[0];
    if (est->flags & ML_EST_CLASSIFIER) {
        uint32_t k = (uint32_t)v;
        return mp_obj_new_int(est->labels ? est->labels[k] : (mp_int_t)k);
    }
    if (est->flags & ML_EST_INT_PREDICT) {
        return mp_obj_new_int((mp_int_t)v);
    }
    return mp_obj_new_float_from_d(v);
}

static mp_obj_t est_predict(mp_obj_t self_in, mp_obj_t x_in) {
    ml_est_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_features_t x;
    ml_get_features(x_in, "x", &x);
    ml_check_length("x", x.len, est_of(self)->n_features, "values (n_features)");
    run(self, ML_PREDICT, &x, 0);
    return predict_result(self);
}
static MP_DEFINE_CONST_FUN_OBJ_2(est_predict_obj, est_predict);

static mp_obj_t est_predict_many(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    ml_est_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_est_t *est = est_of(self);
    ml_features_t x;
    size_t n = get_samples(self, x_in, "X", &x);
    int is_int = est->flags & (ML_EST_CLASSIFIER | ML_EST_INT_PREDICT);
    ml_output_t out;
    ml_get_output(out_in, "out", n, is_int ? ML_OUT_INT_OR_FLOAT : ML_OUT_FLOAT, &out);
    for (size_t i = 0; i < n; i++) {
        run(self, ML_PREDICT, &x, i);
        if (est->flags & ML_EST_CLASSIFIER) {
            uint32_t k = (uint32_t)est->out[0];
            ml_output_set_int(&out, i, est->labels ? est->labels[k] : (int32_t)k);
        } else if (is_int) {
            ml_output_set_int(&out, i, (int32_t)est->out[0]);
        } else {
            ml_output_set_float(&out, i, est->out[0]);
        }
    }
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(est_predict_many_obj, est_predict_many);

// method(X, out): width values per sample of X into out, array('f') or array('d').
static mp_obj_t method_into(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in,
    ml_method_t method) {
    ml_est_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_est_t *est = est_of(self);
    ml_features_t x;
    size_t n = get_samples(self, x_in, "x", &x);
    uint32_t w = est->width[method];
    mp_buffer_info_t info;
    if (!mp_get_buffer(out_in, &info, MP_BUFFER_WRITE)
        || (info.typecode != 'f' && info.typecode != 'd')) {
        ml_raise_type("out must be a writable array('f') or array('d')");
    }
    size_t size = info.typecode == 'f' ? 4 : 8;
    if (w == 0) {
        run(self, method, &x, 0);  // a learner without samples yet: the family says why
    }
    ml_check_length("out", info.len / size, n * w, n > 1 ? "(n_samples x width)"
        : "(the method's width)");
    for (size_t i = 0; i < n; i++) {
        run(self, method, &x, i);
        for (uint32_t k = 0; k < w; k++) {
            if (size == 4) {
                ((float *)info.buf)[i * w + k] = (float)est->out[k];
            } else {
                ((double *)info.buf)[i * w + k] = est->out[k];
            }
        }
    }
    return out_in;
}

static mp_obj_t est_decision_function(mp_obj_t self, mp_obj_t x, mp_obj_t out) {
    return method_into(self, x, out, ML_DECISION_FUNCTION);
}
static MP_DEFINE_CONST_FUN_OBJ_3(est_decision_function_obj, est_decision_function);

static mp_obj_t est_predict_proba(mp_obj_t self, mp_obj_t x, mp_obj_t out) {
    return method_into(self, x, out, ML_PREDICT_PROBA);
}
static MP_DEFINE_CONST_FUN_OBJ_3(est_predict_proba_obj, est_predict_proba);

static mp_obj_t est_score_samples(mp_obj_t self, mp_obj_t x, mp_obj_t out) {
    return method_into(self, x, out, ML_SCORE_SAMPLES);
}
static MP_DEFINE_CONST_FUN_OBJ_3(est_score_samples_obj, est_score_samples);

static mp_obj_t est_transform(mp_obj_t self, mp_obj_t x, mp_obj_t out) {
    return method_into(self, x, out, ML_TRANSFORM);
}
static MP_DEFINE_CONST_FUN_OBJ_3(est_transform_obj, est_transform);

// ---------------------------------------------------------------------------------------------
// Learning on the device

// The targets of a batch of n samples: an array of numbers, or one number for one sample.
static void get_targets(ml_est_obj_t *self, mp_obj_t y_in, size_t n, ml_batch_t *b,
    int32_t *one_label, double *one_value) {
    ml_est_t *est = est_of(self);
    if (mp_obj_is_int(y_in) && n == 1) {
        *one_label = (int32_t)ml_get_int(y_in, "y", -2147483647 - 1, 2147483647);
        b->y = one_label;
        b->y_type = 'i';
        return;
    }
    if (!(est->flags & ML_EST_CLASSIFIER) && n == 1 && !mp_obj_is_str(y_in)
        && mp_obj_get_type(y_in) == MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_float))) {
        *one_value = mp_obj_get_float_to_d(y_in);
        b->y = one_value;
        b->y_type = 'd';
        return;
    }
    ml_array_t y;
    ml_get_array(y_in, "y", "bBhHiIfd", false, &y);
    ml_check_length("y", y.len, n, "(one per sample of X)");
    b->y = y.buf;
    b->y_type = y.typecode;
}

static mp_obj_t learn(ml_est_obj_t *self, ml_learn_t what, const char *xname, mp_obj_t x_in,
    mp_obj_t y_in) {
    ml_est_t *est = est_of(self);
    if ((est->learn & ML_LEARN_IN_FILE) && !self->writable) {
        ml_raise_value("the model is used in place from a read-only buffer: load it from a file "
            "(or a bytearray) to learn");
    }
    ml_batch_t b = { NULL, 'f', 0, NULL, 'i' };
    ml_features_t x;
    int32_t one_label;
    double one_value;
    if (x_in != MP_OBJ_NULL) {
        size_t n = get_samples(self, x_in, xname, &x);
        if (n > 0x7fffffff) {
            ml_raise_value("%s holds too many samples", xname);
        }
        b.x = x.buf;
        b.x_type = x.typecode;
        b.n = (uint32_t)n;
        if (what == ML_ADD && n != 1) {
            ml_raise_length("x", x.len, est->n_features, "values (n_features)");
        }
    }
    if (y_in != MP_OBJ_NULL) {
        get_targets(self, y_in, what == ML_REMOVE ? 1 : b.n, &b, &one_label, &one_value);
    }
    uint32_t count;
    ml_error_t err;
    if (self->family->learn(self->model, what, &b, &count, &err) != ML_OK) {
        ml_raise_error(&err, 0);
    }
    return mp_obj_new_int(count);
}

static mp_obj_t est_fit(mp_obj_t self_in, mp_obj_t x_in) {
    learn(MP_OBJ_TO_PTR(self_in), ML_FIT, "X", x_in, MP_OBJ_NULL);
    return self_in;
}
static MP_DEFINE_CONST_FUN_OBJ_2(est_fit_obj, est_fit);

static mp_obj_t est_partial_fit(size_t n_args, const mp_obj_t *args) {
    learn(MP_OBJ_TO_PTR(args[0]), ML_PARTIAL_FIT, "X", args[1],
        n_args > 2 ? args[2] : MP_OBJ_NULL);
    return args[0];
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(est_partial_fit_obj, 2, 3, est_partial_fit);

static mp_obj_t est_add(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t label_in) {
    (void)ml_get_int(label_in, "label", -2147483647 - 1, 2147483647);
    learn(MP_OBJ_TO_PTR(self_in), ML_ADD, "x", x_in, label_in);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(est_add_obj, est_add);

static mp_obj_t est_remove(mp_obj_t self_in, mp_obj_t label_in) {
    (void)ml_get_int(label_in, "label", -2147483647 - 1, 2147483647);
    return learn(MP_OBJ_TO_PTR(self_in), ML_REMOVE, NULL, MP_OBJ_NULL, label_in);
}
static MP_DEFINE_CONST_FUN_OBJ_2(est_remove_obj, est_remove);

static mp_obj_t est_clear(mp_obj_t self_in) {
    learn(MP_OBJ_TO_PTR(self_in), ML_CLEAR, NULL, MP_OBJ_NULL, MP_OBJ_NULL);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(est_clear_obj, est_clear);

// ---------------------------------------------------------------------------------------------
// attributes: n_features, n_classes, classes, memory, estimator, widths of the methods as
// n_<method>; a method the estimator does not have is absent, as in scikit-learn.

static void est_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    ml_est_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_est_t *est = est_of(self);
    if (dest[0] != MP_OBJ_NULL) {
        return;  // read-only
    }
    if (self->family->attr) {
        self->family->attr(self_in, self->model, attr, dest);
        if (dest[0] != MP_OBJ_NULL) {
            return;
        }
    }
    uint32_t learns = est->learn;
    if (attr == MP_QSTR_n_features) {
        dest[0] = mp_obj_new_int(est->n_features);
    } else if (attr == MP_QSTR_n_classes) {
        dest[0] = mp_obj_new_int(est->n_classes);
    } else if (attr == MP_QSTR_memory) {
        // RAM the model holds: its work memory, and the file's block unless used in place.
        dest[0] = mp_obj_new_int(self->work_size + (self->load.block ? self->load.block_size : 0));
    } else if (attr == MP_QSTR_estimator) {
        dest[0] = mp_obj_new_str(est->name, est->name_len);
    } else if (attr == MP_QSTR_classes) {
        mp_obj_tuple_t *t = MP_OBJ_TO_PTR(mp_obj_new_tuple(est->n_classes, NULL));
        for (uint32_t k = 0; k < est->n_classes; k++) {
            t->items[k] = mp_obj_new_int(est->labels ? est->labels[k] : (mp_int_t)k);
        }
        dest[0] = MP_OBJ_FROM_PTR(t);
    } else if (attr == MP_QSTR_n_outputs) {
        // values per sample of each method, in the order of ml_method_t
        mp_obj_tuple_t *t = MP_OBJ_TO_PTR(mp_obj_new_tuple(ML_N_METHODS, NULL));
        for (int k = 0; k < ML_N_METHODS; k++) {
            t->items[k] = mp_obj_new_int(est->width[k]);
        }
        dest[0] = MP_OBJ_FROM_PTR(t);
    } else if ((attr == MP_QSTR_decision_function && !est->width[ML_DECISION_FUNCTION])
               || (attr == MP_QSTR_predict_proba && !est->width[ML_PREDICT_PROBA]
                   && !(learns & ML_LEARN_ADD))
               || (attr == MP_QSTR_fit && !(learns & ML_LEARN_FIT))
               || (attr == MP_QSTR_partial_fit && !(learns & ML_LEARN_PARTIAL_FIT))
               || ((attr == MP_QSTR_add || attr == MP_QSTR_remove || attr == MP_QSTR_clear)
                   && !(learns & ML_LEARN_ADD))
               || (attr == MP_QSTR_score_samples && !est->width[ML_SCORE_SAMPLES])
               || (attr == MP_QSTR_transform && !est->width[ML_TRANSFORM])) {
        return;  // AttributeError, as hasattr(estimator, ...) is False in scikit-learn
    } else {
        dest[1] = MP_OBJ_SENTINEL;  // the methods
    }
}

// ---------------------------------------------------------------------------------------------
// the type

#if MICROPY_ENABLE_DYNRUNTIME

mp_map_elem_t ml_est_locals_table[11];
static MP_DEFINE_CONST_DICT(ml_est_locals, ml_est_locals_table);

void ml_est_init_type(void) {
    ml_est_type.base.type = (void *)&mp_type_type;
    ml_est_type.flags = MP_TYPE_FLAG_NONE;
    ml_est_type.name = MP_QSTR_Model;
    ml_est_locals_table[0] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict), MP_OBJ_FROM_PTR(&est_predict_obj) };
    ml_est_locals_table[1] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict_many), MP_OBJ_FROM_PTR(&est_predict_many_obj) };
    ml_est_locals_table[2] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_decision_function), MP_OBJ_FROM_PTR(&est_decision_function_obj) };
    ml_est_locals_table[3] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict_proba), MP_OBJ_FROM_PTR(&est_predict_proba_obj) };
    ml_est_locals_table[4] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_score_samples), MP_OBJ_FROM_PTR(&est_score_samples_obj) };
    ml_est_locals_table[5] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_transform), MP_OBJ_FROM_PTR(&est_transform_obj) };
    ml_est_locals_table[6] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_fit), MP_OBJ_FROM_PTR(&est_fit_obj) };
    ml_est_locals_table[7] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_partial_fit), MP_OBJ_FROM_PTR(&est_partial_fit_obj) };
    ml_est_locals_table[8] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_add), MP_OBJ_FROM_PTR(&est_add_obj) };
    ml_est_locals_table[9] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_remove), MP_OBJ_FROM_PTR(&est_remove_obj) };
    ml_est_locals_table[10] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_clear), MP_OBJ_FROM_PTR(&est_clear_obj) };
    MP_OBJ_TYPE_SET_SLOT(&ml_est_type, attr, est_attr, 0);
    MP_OBJ_TYPE_SET_SLOT(&ml_est_type, locals_dict, (void *)&ml_est_locals, 1);
    mp_store_global(MP_QSTR_Model, MP_OBJ_FROM_PTR(&ml_est_type));
}

#else

static const mp_rom_map_elem_t ml_est_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_predict), MP_ROM_PTR(&est_predict_obj) },
    { MP_ROM_QSTR(MP_QSTR_predict_many), MP_ROM_PTR(&est_predict_many_obj) },
    { MP_ROM_QSTR(MP_QSTR_decision_function), MP_ROM_PTR(&est_decision_function_obj) },
    { MP_ROM_QSTR(MP_QSTR_predict_proba), MP_ROM_PTR(&est_predict_proba_obj) },
    { MP_ROM_QSTR(MP_QSTR_score_samples), MP_ROM_PTR(&est_score_samples_obj) },
    { MP_ROM_QSTR(MP_QSTR_transform), MP_ROM_PTR(&est_transform_obj) },
    { MP_ROM_QSTR(MP_QSTR_fit), MP_ROM_PTR(&est_fit_obj) },
    { MP_ROM_QSTR(MP_QSTR_partial_fit), MP_ROM_PTR(&est_partial_fit_obj) },
    { MP_ROM_QSTR(MP_QSTR_add), MP_ROM_PTR(&est_add_obj) },
    { MP_ROM_QSTR(MP_QSTR_remove), MP_ROM_PTR(&est_remove_obj) },
    { MP_ROM_QSTR(MP_QSTR_clear), MP_ROM_PTR(&est_clear_obj) },
};
static MP_DEFINE_CONST_DICT(ml_est_locals, ml_est_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    ml_est_type,
    MP_QSTR_Model,
    MP_TYPE_FLAG_NONE,
    attr, est_attr,
    locals_dict, &ml_est_locals
    );

#endif
