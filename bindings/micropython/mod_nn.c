// microlearn.nn: neural networks (int8 exactly as TensorFlow Lite computes them, and float32)
// for MicroPython (C core: core/ml_nn*.c).
//
//   from microlearn import nn
//   model = nn.load("model.nn")        # a path or file: read once into one exact-size block
//   model = nn.load(buffer)            # bytes, a ROMFS file's memoryview, an .mpy bytes
//                                      # constant: used in place, nothing copied
//   model.run(x, out)                  # x, out: arrays of the input and output types
//   model.predict(x)                   # the index of the largest output (its label for a
//                                      #  converted scikit-learn classifier: model.classes)
//   model.quantize(xf, xq)             # float32 -> the input's int8, with its scale and zero
//   model.dequantize(yq, yf)           # the output's int8 -> float32
//   model.input_shape, .output_shape, .input_type, .output_type, .input_scale,
//   .input_zero_point, .output_scale, .output_zero_point, .memory, .arena
//
// x and out are array('b') for int8, array('B') for uint8, array('f') for float32 (or any
// buffer with that typecode). Nothing is allocated by run, predict, quantize or dequantize.
#include <string.h>

#include "mod_common.h"
#include "ml_nn.h"

typedef struct {
    mp_obj_base_t base;
    ml_nn_t model;
    ml_blob_load_t load;  // the file's block (if copied) and the caller's buffer (if in place)
    void *arena;
    size_t arena_size;
} nn_obj_t;

#if MICROPY_ENABLE_DYNRUNTIME
mp_obj_full_type_t nn_type;
#else
static const mp_obj_type_t nn_type;
#endif

static const char *type_name(uint8_t type) {
    return type == ML_NN_INT8 ? "int8" : type == ML_NN_UINT8 ? "uint8" : "float32";
}

static mp_obj_t type_str(uint8_t type) {
    const char *s = type_name(type);
    return mp_obj_new_str(s, type == ML_NN_FLOAT32 ? 7 : type == ML_NN_UINT8 ? 5 : 4);
}

static char typecode(uint8_t type) {
    return type == ML_NN_INT8 ? 'b' : type == ML_NN_UINT8 ? 'B' : 'f';
}

// ---------------------------------------------------------------------------------------------
// load

static mp_obj_t nn_load(mp_obj_t source) {
    ml_blob_load_t load;
    ml_blob_load(source, ML_BLOB_KIND_NN, ML_NN_FORMAT_VERSION, &load);
    ml_nn_t model;
    ml_error_t err = { ML_OK, 0, "" };
    const void *data = load.block ? load.block : load.blob.data;
    size_t len = load.block ? load.block_size : load.blob.size;
    if (ml_nn_open(&model, data, len, &err) != ML_OK) {
        if (load.block) {
            ml_free(load.block, load.block_size);
        }
        ml_raise_value("%s: %s", mp_obj_is_str(source) ? mp_obj_str_get_str(source)
            : "model", err.msg);
    }
    size_t arena_size = ml_nn_arena_size(&model);
    void *arena = ml_malloc_maybe(arena_size);
    if (!arena) {
        if (load.block) {
            ml_free(load.block, load.block_size);
        }
        ml_raise_value("model: its arena of %lu bytes does not fit in the free memory",
            (unsigned long)arena_size);
    }
    memset(arena, 0, arena_size);
    nn_obj_t *self = mp_obj_malloc(nn_obj_t, (const mp_obj_type_t *)&nn_type);
    self->model = model;
    self->load = load;
    self->arena = arena;
    self->arena_size = arena_size;
    ml_nn_set_arena(&self->model, arena);
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_1(nn_load_obj, nn_load);

// ---------------------------------------------------------------------------------------------
// run, predict

// The buffer of an array argument of tensor t's type and size.
static void *tensor_arg(mp_obj_t obj, const char *name, const ml_nn_tensor_t *t, bool writable) {
    char codes[2] = { typecode(t->type), 0 };
    ml_array_t a;
    ml_get_array(obj, name, codes, writable, &a);
    if (a.len != t->count) {
        ml_raise_value("%s has %lu values, expected %lu (%s)", name, (unsigned long)a.len,
            (unsigned long)t->count, writable ? "output_shape" : "input_shape");
    }
    return a.buf;
}

static void run_input(nn_obj_t *self, mp_obj_t x_in) {
    const ml_nn_tensor_t *t = ml_nn_input_tensor(&self->model);
    const void *x = tensor_arg(x_in, "x", t, false);
    memcpy(ml_nn_input(&self->model), x, ml_nn_tensor_bytes(t));
    ml_error_t err;
    if (ml_nn_run(&self->model, &err) != ML_OK) {
        ml_raise_error(&err, 0);
    }
}

static mp_obj_t nn_run(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    nn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const ml_nn_tensor_t *t = ml_nn_output_tensor(&self->model);
    void *out = tensor_arg(out_in, "out", t, true);
    run_input(self, x_in);
    memcpy(out, ml_nn_output(&self->model), ml_nn_tensor_bytes(t));
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(nn_run_obj, nn_run);

static mp_obj_t nn_predict(mp_obj_t self_in, mp_obj_t x_in) {
    nn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    run_input(self, x_in);
    const ml_nn_tensor_t *t = ml_nn_output_tensor(&self->model);
    const void *y = ml_nn_output(&self->model);
    uint32_t best = 0;
    for (uint32_t i = 1; i < t->count; i++) {
        int better;
        if (t->type == ML_NN_INT8) {
            better = ((const int8_t *)y)[i] > ((const int8_t *)y)[best];
        } else if (t->type == ML_NN_UINT8) {
            better = ((const uint8_t *)y)[i] > ((const uint8_t *)y)[best];
        } else {
            better = ((const float *)y)[i] > ((const float *)y)[best];
        }
        best = better ? i : best;
    }
    if (self->model.n_labels) {
        return mp_obj_new_int(self->model.labels[best]);  // a converted classifier's label
    }
    return MP_OBJ_NEW_SMALL_INT(best);
}
static MP_DEFINE_CONST_FUN_OBJ_2(nn_predict_obj, nn_predict);

// ---------------------------------------------------------------------------------------------
// quantize, dequantize

static mp_obj_t nn_quantize(mp_obj_t self_in, mp_obj_t xf_in, mp_obj_t xq_in) {
    nn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const ml_nn_tensor_t *t = ml_nn_input_tensor(&self->model);
    if (t->type != ML_NN_INT8) {
        ml_raise_type("quantize: the model's input is %s, not int8", type_name(t->type));
    }
    ml_array_t xf, xq;
    ml_get_array(xf_in, "xf", "f", false, &xf);
    ml_get_array(xq_in, "xq", "b", true, &xq);
    if (xf.len != xq.len) {
        ml_raise_value("xq has %lu values, xf has %lu", (unsigned long)xq.len,
            (unsigned long)xf.len);
    }
    ml_nn_quantize(xf.buf, xq.buf, xf.len, t->scale, t->zero_point);
    return xq_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(nn_quantize_obj, nn_quantize);

static mp_obj_t nn_dequantize(mp_obj_t self_in, mp_obj_t yq_in, mp_obj_t yf_in) {
    nn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    const ml_nn_tensor_t *t = ml_nn_output_tensor(&self->model);
    if (t->type != ML_NN_INT8) {
        ml_raise_type("dequantize: the model's output is %s, not int8", type_name(t->type));
    }
    ml_array_t yq, yf;
    ml_get_array(yq_in, "yq", "b", false, &yq);
    ml_get_array(yf_in, "yf", "f", true, &yf);
    if (yq.len != yf.len) {
        ml_raise_value("yf has %lu values, yq has %lu", (unsigned long)yf.len,
            (unsigned long)yq.len);
    }
    ml_nn_dequantize(yq.buf, yf.buf, yq.len, t->scale, t->zero_point);
    return yf_in;
}
static MP_DEFINE_CONST_FUN_OBJ_3(nn_dequantize_obj, nn_dequantize);

// ---------------------------------------------------------------------------------------------
// attributes

static mp_obj_t shape_tuple(const ml_nn_tensor_t *t) {
    mp_obj_t items[4];
    for (int i = 0; i < t->ndim; i++) {
        items[i] = MP_OBJ_NEW_SMALL_INT(t->dims[i]);
    }
    return mp_obj_new_tuple(t->ndim, items);
}

static void nn_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    nn_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;  // read-only
    }
    const ml_nn_tensor_t *in = ml_nn_input_tensor(&self->model);
    const ml_nn_tensor_t *out = ml_nn_output_tensor(&self->model);
    if (attr == MP_QSTR_input_shape) {
        dest[0] = shape_tuple(in);
    } else if (attr == MP_QSTR_output_shape) {
        dest[0] = shape_tuple(out);
    } else if (attr == MP_QSTR_input_type) {
        dest[0] = type_str(in->type);
    } else if (attr == MP_QSTR_output_type) {
        dest[0] = type_str(out->type);
    } else if (attr == MP_QSTR_input_scale) {
        dest[0] = mp_obj_new_float_from_f(in->scale);
    } else if (attr == MP_QSTR_input_zero_point) {
        dest[0] = mp_obj_new_int(in->zero_point);
    } else if (attr == MP_QSTR_output_scale) {
        dest[0] = mp_obj_new_float_from_f(out->scale);
    } else if (attr == MP_QSTR_output_zero_point) {
        dest[0] = mp_obj_new_int(out->zero_point);
    } else if (attr == MP_QSTR_classes && self->model.n_labels) {
        mp_obj_tuple_t *t = MP_OBJ_TO_PTR(mp_obj_new_tuple(self->model.n_labels, NULL));
        for (uint32_t k = 0; k < self->model.n_labels; k++) {
            t->items[k] = mp_obj_new_int(self->model.labels[k]);
        }
        dest[0] = MP_OBJ_FROM_PTR(t);
    } else if (attr == MP_QSTR_arena) {
        dest[0] = mp_obj_new_int(self->arena_size);
    } else if (attr == MP_QSTR_memory) {
        // What loading took: the arena, the copied file if any, and this object.
        dest[0] = mp_obj_new_int(self->arena_size + (self->load.block ? self->load.block_size
            : 0) + sizeof(nn_obj_t));
    } else {
        dest[1] = MP_OBJ_SENTINEL;  // continue with the methods
    }
}

// ---------------------------------------------------------------------------------------------
// module

#if MICROPY_ENABLE_DYNRUNTIME

mp_map_elem_t nn_locals_table[4];
static MP_DEFINE_CONST_DICT(nn_locals, nn_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    nn_type.base.type = (void *)&mp_type_type;
    nn_type.flags = MP_TYPE_FLAG_NONE;
    nn_type.name = MP_QSTR_NN;
    nn_locals_table[0] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_run), MP_OBJ_FROM_PTR(&nn_run_obj) };
    nn_locals_table[1] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict), MP_OBJ_FROM_PTR(&nn_predict_obj) };
    nn_locals_table[2] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_quantize), MP_OBJ_FROM_PTR(&nn_quantize_obj) };
    nn_locals_table[3] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_dequantize), MP_OBJ_FROM_PTR(&nn_dequantize_obj) };
    MP_OBJ_TYPE_SET_SLOT(&nn_type, attr, nn_attr, 0);
    MP_OBJ_TYPE_SET_SLOT(&nn_type, locals_dict, (void *)&nn_locals, 1);

    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&nn_load_obj));
    mp_store_global(MP_QSTR_NN, MP_OBJ_FROM_PTR(&nn_type));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_NN_FORMAT_VERSION));

    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t nn_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_run), MP_ROM_PTR(&nn_run_obj) },
    { MP_ROM_QSTR(MP_QSTR_predict), MP_ROM_PTR(&nn_predict_obj) },
    { MP_ROM_QSTR(MP_QSTR_quantize), MP_ROM_PTR(&nn_quantize_obj) },
    { MP_ROM_QSTR(MP_QSTR_dequantize), MP_ROM_PTR(&nn_dequantize_obj) },
};
static MP_DEFINE_CONST_DICT(nn_locals, nn_locals_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    nn_type,
    MP_QSTR_NN,
    MP_TYPE_FLAG_NONE,
    attr, nn_attr,
    locals_dict, &nn_locals
    );

static const mp_rom_map_elem_t nn_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_nn) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&nn_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_NN), MP_ROM_PTR(&nn_type) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_NN_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(nn_module_globals, nn_module_table);

const mp_obj_module_t ml_nn_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&nn_module_globals,
};

#endif
