// emlearn_standin: a stand-in for emlearn-micropython's tree module, for the benchmarks only.
//
// The tree evaluator is emlearn's own published C code (eml_trees.h, shipped in the emlearn
// package on PyPI, included unchanged). The MicroPython side is written here, after what
// emlearn-micropython's binding does: the arrays of a model are allocated up front for a given
// number of trees, nodes and leaves, then filled one record of emlearn's tree CSV at a time
// (emlearn_standin.py reads the file), and `predict(x, out)` takes int16 features and fills
// one float per class with eml_trees_predict_proba (majority voting: the fraction of trees
// whose leaf is each class). It is not emlearn-micropython's module itself, which is not
// published on PyPI.
#include "py/dynruntime.h"

#define EML_TREES_REGRESSION_ENABLE 0
#include <eml_trees.h>

// A native module links no C library: the compiler's own calls go to MicroPython's.
void *memset(void *s, int c, size_t n) {
    return mp_fun_table.memset_(s, c, n);
}
void *memcpy(void *d, const void *s, size_t n) {
    return mp_fun_table.memmove_(d, s, n);
}

typedef struct {
    mp_obj_base_t base;
    EmlTrees trees;
    int32_t max_nodes, max_trees, max_leaves;
} standin_obj_t;

mp_obj_full_type_t standin_type;

// new(max_trees, max_nodes, max_leaves): an empty model with room for that many records.
static mp_obj_t standin_new(mp_obj_t trees_in, mp_obj_t nodes_in, mp_obj_t leaves_in) {
    standin_obj_t *o = mp_obj_malloc(standin_obj_t, (mp_obj_type_t *)&standin_type);
    o->max_trees = mp_obj_get_int(trees_in);
    o->max_nodes = mp_obj_get_int(nodes_in);
    o->max_leaves = mp_obj_get_int(leaves_in);
    o->trees.nodes = m_new(EmlTreesNode, o->max_nodes);
    o->trees.tree_roots = m_new(int32_t, o->max_trees);
    o->trees.leaves = m_new(uint8_t, o->max_leaves);
    o->trees.n_nodes = o->trees.n_trees = o->trees.n_leaves = 0;
    o->trees.leaf_bits = 0;
    o->trees.n_features = 0;
    o->trees.n_classes = -1;
    return MP_OBJ_FROM_PTR(o);
}
static MP_DEFINE_CONST_FUN_OBJ_3(standin_new_obj, standin_new);

// setdata(n_features, n_classes, leaf_bits)
static mp_obj_t standin_setdata(size_t n_args, const mp_obj_t *args) {
    standin_obj_t *o = MP_OBJ_TO_PTR(args[0]);
    o->trees.n_features = (int8_t)mp_obj_get_int(args[1]);
    o->trees.n_classes = (int8_t)mp_obj_get_int(args[2]);
    o->trees.leaf_bits = (int8_t)mp_obj_get_int(args[3]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(standin_setdata_obj, 4, 4, standin_setdata);

// addnode(left, right, feature, value)
static mp_obj_t standin_addnode(size_t n_args, const mp_obj_t *args) {
    standin_obj_t *o = MP_OBJ_TO_PTR(args[0]);
    if (o->trees.n_nodes >= o->max_nodes) {
        mp_raise_ValueError(MP_ERROR_TEXT("too many nodes"));
    }
    mp_int_t feature = mp_obj_get_int(args[3]);
    if (feature < 0 || feature > 127) {
        mp_raise_ValueError(MP_ERROR_TEXT("feature out of range"));
    }
    EmlTreesNode *n = &o->trees.nodes[o->trees.n_nodes++];
    n->left = (int16_t)mp_obj_get_int(args[1]);
    n->right = (int16_t)mp_obj_get_int(args[2]);
    n->feature = (int8_t)feature;
    n->value = (int16_t)mp_obj_get_int(args[4]);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(standin_addnode_obj, 5, 5, standin_addnode);

static mp_obj_t standin_addroot(mp_obj_t self_in, mp_obj_t root_in) {
    standin_obj_t *o = MP_OBJ_TO_PTR(self_in);
    if (o->trees.n_trees >= o->max_trees) {
        mp_raise_ValueError(MP_ERROR_TEXT("too many trees"));
    }
    o->trees.tree_roots[o->trees.n_trees++] = mp_obj_get_int(root_in);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(standin_addroot_obj, standin_addroot);

static mp_obj_t standin_addleaf(mp_obj_t self_in, mp_obj_t leaf_in) {
    standin_obj_t *o = MP_OBJ_TO_PTR(self_in);
    if (o->trees.n_leaves >= o->max_leaves) {
        mp_raise_ValueError(MP_ERROR_TEXT("too many leaves"));
    }
    mp_int_t c = mp_obj_get_int(leaf_in);
    if (c < 0 || c >= o->trees.n_classes) {
        mp_raise_ValueError(MP_ERROR_TEXT("leaf class out of range"));
    }
    o->trees.leaves[o->trees.n_leaves++] = (uint8_t)c;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(standin_addleaf_obj, standin_addleaf);

static mp_obj_t standin_outputs(mp_obj_t self_in) {
    standin_obj_t *o = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int(o->trees.n_classes);
}
static MP_DEFINE_CONST_FUN_OBJ_1(standin_outputs_obj, standin_outputs);

// predict(x, out): x an array('h') of n_features, out an array('f') of n_classes.
static mp_obj_t standin_predict(mp_obj_t self_in, mp_obj_t x_in, mp_obj_t out_in) {
    standin_obj_t *o = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t x, out;
    mp_get_buffer_raise(x_in, &x, MP_BUFFER_READ);
    if (x.typecode != 'h') {
        mp_raise_ValueError(MP_ERROR_TEXT("expecting an int16 (h) array"));
    }
    mp_get_buffer_raise(out_in, &out, MP_BUFFER_RW);
    if (out.typecode != 'f') {
        mp_raise_ValueError(MP_ERROR_TEXT("expecting a float (f) array"));
    }
    int32_t n = (int32_t)(x.len / sizeof(int16_t));
    if (n != o->trees.n_features) {
        mp_raise_ValueError(MP_ERROR_TEXT("wrong number of features"));
    }
    EmlError err = eml_trees_predict_proba(&o->trees, x.buf, (int8_t)n, out.buf,
        (int32_t)(out.len / sizeof(float)));
    if (err != EmlOk) {
        mp_raise_ValueError(MP_ERROR_TEXT("eml_trees_predict_proba failed"));
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(standin_predict_obj, standin_predict);

mp_map_elem_t standin_locals_table[6];
static MP_DEFINE_CONST_DICT(standin_locals, standin_locals_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY

    standin_type.base.type = (void *)&mp_fun_table.type_type;
    standin_type.flags = MP_TYPE_FLAG_NONE;
    standin_type.name = MP_QSTR_EmlTrees;
    standin_locals_table[0] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_predict), MP_OBJ_FROM_PTR(&standin_predict_obj) };
    standin_locals_table[1] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_addnode), MP_OBJ_FROM_PTR(&standin_addnode_obj) };
    standin_locals_table[2] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_addroot), MP_OBJ_FROM_PTR(&standin_addroot_obj) };
    standin_locals_table[3] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_addleaf), MP_OBJ_FROM_PTR(&standin_addleaf_obj) };
    standin_locals_table[4] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_setdata), MP_OBJ_FROM_PTR(&standin_setdata_obj) };
    standin_locals_table[5] = (mp_map_elem_t){ MP_OBJ_NEW_QSTR(MP_QSTR_outputs), MP_OBJ_FROM_PTR(&standin_outputs_obj) };
    MP_OBJ_TYPE_SET_SLOT(&standin_type, locals_dict, (void *)&standin_locals, 6);
    mp_store_global(MP_QSTR_new, MP_OBJ_FROM_PTR(&standin_new_obj));

    MP_DYNRUNTIME_INIT_EXIT
}
