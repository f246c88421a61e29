"""The binary form of a tree model (docs/model-format.md, "Binary tree models"): the container of
blob.py, kind TREES, with an encoding chosen from the model to be small and fast to walk, and
exactly the model of the text form (core/ml_trees.c reads both into one representation).

Choices, each made only where it is exact:
- thresholds as 2 t (integers) when every threshold is a multiple of 1/2 (models trained on
  integer data), else as float32 order keys; through a table of the distinct ones when that is
  smaller;
- child references local to each tree, in the fewest bytes that hold the tree's nodes and leaves;
- per tree, a list of the leaves it uses; a forest's pure leaves (probability 1 for one class,
  most leaves of a forest) need no table entry at all;
- a forest classifier's other leaves as (class, value) entries for their non-zero values: spans
  of class bytes with their own values, each leaf list entry's span ending where the next one's
  starts; or runs of (class, value index) byte pairs, or sparse entries packed in bits, the
  values in a table of the distinct ones;
- leaf values as int32 multiples of 2^-s when a forest's sums are exact that way (they then add
  as integers on the device, giving the same sums as the double additions of the text form).
"""

import struct

import numpy as np

from . import blob

VERSION = 1

LEAF_DENSE, LEAF_SPARSE, LEAF_RUNS, LEAF_SPANS, LEAF_PAIRS = 0, 1, 2, 3, 4
LABELS_INDEX, LABELS_INT32, LABELS_INT64, LABELS_FLOAT64, LABELS_STR, LABELS_BOOL = range(6)

# The 'head' section: these as uint32, then HEAD_BYTES as uint8.
HEAD_WORDS = ("n_features", "n_classes", "n_outputs", "n_trees", "n_nodes", "n_leaves",
              "leaf_width", "record_bits", "n_pure")
HEAD_BYTES = ("aggregate", "link", "flags", "feature_bytes", "child_bytes", "thr_index_bytes",
              "leaf_kind", "value_fixed", "value_shift", "list_bits", "entry_bits", "label_kind")
MAX_BITS = 24
PAD_BYTES = 256  # what padding sparse entries to 16 bits (or leaf lists to 8 or 16) may add
RUN_BYTES = 256  # what leaf spans of class bytes may add to a model over sparse entries
PAIR_SHARE = 5   # pairs may add a fifth to the sparse leaves' bytes (or RUN_BYTES)


def pack_bits(values, bits):
    """values (each below 2**bits) packed least significant first, and 3 bytes of padding (the
    device reads every entry with one 4-byte load: ml_trees_bits_at)."""
    acc = 0
    for i, v in enumerate(values):
        acc |= int(v) << (i * bits)
    return acc.to_bytes((len(values) * bits + 7) // 8 + 3, "little")


def float_key(f32):
    """The int32 order key of float32 values (as key_from_bits in core/ml_trees.c)."""
    b = np.asarray(f32, dtype=np.float32).view(np.uint32).astype(np.int64)
    return np.where(b & 0x80000000, b ^ 0x7FFFFFFF, b).astype(np.uint32).view(np.int32)


def float_parts(v):
    """(mant, exp) with v == mant * 2**exp and mant odd, or (0, 0), for a float32 v."""
    v = float(np.float32(v))
    if v == 0.0:
        return 0, 0
    m, e = np.frexp(v)  # v = m * 2**e, 0.5 <= |m| < 1
    mant, exp = int(m * (1 << 24)), int(e) - 24
    while mant % 2 == 0:
        mant //= 2
        exp += 1
    return mant, exp


def fixed_plan(values, n_trees, one_too):
    """(mode, s): how a forest's values sum exactly in int64 units of 2^-s (fixed_plan in
    core/ml_trees.c): mode 1 stores them as int32 units, mode 3 as uint32 units (non-negative
    values of 32 bits, whatever a pure leaf's 1.0 needs: it is added apart), mode 2 keeps
    float32 values and turns them into units as they are added; mode 0: not exact (a partial sum
    could need more than the 53 bits of a double)."""
    parts = [float_parts(v) for v in np.ravel(values)]
    s = max([0] + [-e for m, e in parts if m])
    vbits = max([0] + [abs(m).bit_length() + e + s for m, e in parts if m])
    bits = max(vbits, int(one_too))
    if one_too:
        bits = max(bits, 1 + s)
    if bits + int(n_trees).bit_length() > 53 or s > 200:
        return 0, 0
    if bits <= 31:
        return 1, s
    return (3 if vbits <= 32 and all(m >= 0 for m, e in parts) else 2), s


def _uint(width):
    return {1: "<u1", 2: "<u2", 4: "<u4"}[width]


def _width(n):
    """Bytes of the smallest unsigned integer holding values below n."""
    return 1 if n <= 0x100 else 2 if n <= 0x10000 else 4


def label_kind(classes):
    """(kind, section bytes) of a list of class labels, or raise ValueError."""
    if classes is None:
        return LABELS_INDEX, b""
    vals = list(classes)
    if all(isinstance(v, (bool, np.bool_)) for v in vals):
        return LABELS_BOOL, bytes(int(bool(v)) for v in vals)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
           for v in vals):
        ints = [int(v) for v in vals]
        if all(-2**31 <= v < 2**31 for v in ints):
            return LABELS_INT32, struct.pack(f"<{len(ints)}i", *ints)
        if all(-2**63 <= v < 2**63 for v in ints):
            return LABELS_INT64, struct.pack(f"<{len(ints)}q", *ints)
        raise ValueError("class labels beyond 64-bit integers are not supported")
    if all(isinstance(v, (float, np.floating)) for v in vals):
        if any(v != v for v in vals):
            raise ValueError("a class label is NaN")
        return LABELS_FLOAT64, struct.pack(f"<{len(vals)}d", *map(float, vals))
    if all(isinstance(v, str) for v in vals):
        texts = [v.encode("utf-8") for v in vals]
        offsets = np.cumsum([0] + [len(t) for t in texts])
        return LABELS_STR, struct.pack(f"<{len(offsets)}I", *map(int, offsets)) + b"".join(texts)
    kinds = sorted({type(v).__name__ for v in vals})
    raise ValueError(f"class labels of types {', '.join(kinds)} are not supported (integers, "
                     "floats, booleans or strings, all of one kind, are)")


class Encoding:
    """The arrays of the binary form of a TreesModel, and their sizes."""

    def __init__(self, model, runs=None):
        """runs: how a forest's impure leaves are stored: spans when cheap (None), sparse
        entries (False), "pairs" (spans of (class, value index) bytes where they fit), or "ended"
        (leaf kind 2, runs ended by a bit, as older converters wrote them)."""
        m = model
        self.model = m
        nd = m.nodes
        n_nodes = m.n_nodes
        thr = np.asarray(nd["threshold"], dtype=np.float32)
        keys = float_key(thr)
        distinct, index = np.unique(keys, return_inverse=True)
        self.thresholds, self.thr_index = distinct, index
        # For int16 features: x <= t exactly when x <= floor(t) (t32 is t rounded down to a
        # float, and every integer of int16 is a float). Kept when the thresholds lie on the
        # grid of halves, as those of a model trained on integer data do.
        t_sorted = np.sort(np.unique(thr)).astype(np.float64)
        dthr = distinct.view(np.int32)
        t_of_key = np.where(dthr < 0, dthr.astype(np.int64) ^ 0x7FFFFFFF, dthr).astype(
            np.uint32).view(np.float32).astype(np.float64)
        self.threshold16 = np.clip(np.floor(t_of_key), -32769, 32767).astype(np.int64) \
            if np.all(t_sorted * 2 == np.round(t_sorted * 2)) else None
        ib = _width(len(distinct)) if len(distinct) <= 0x10000 else 0
        self.thr_index_bytes = ib if ib and ib < 4 and \
            len(distinct) * 4 + n_nodes * ib < n_nodes * 4 else 0

        # Trees: the node ranges (each tree's nodes are consecutive, root first) and leaves.
        roots = [r for r, _ in m.trees]
        first = []
        nxt = 0
        for r in roots:
            first.append(nxt)
            if r >= 0:
                if r != nxt:
                    raise ValueError("tree nodes are not in tree order")
                # the tree's nodes: every node reachable from r is consecutive from r
                nxt = r + self._count(nd, r)
        if nxt != n_nodes:
            raise ValueError("tree nodes are not in tree order")
        self.tree_node = first + [n_nodes]

        leaves = np.asarray(m.leaves, dtype=np.float32)
        forest_classifier = m.aggregate == "mean" and m.n_classes > 0 and m.leaf_width > 1
        pure_class = np.full(len(leaves), -1)
        if forest_classifier:
            one_hot = (leaves == 1.0).sum(1) == 1
            zeros = (leaves == 0.0).sum(1) == m.leaf_width - 1
            pure_class[one_hot & zeros] = np.argmax(leaves[one_hot & zeros], axis=1)
        # A tree that is a single leaf starts at its first slot, so its leaf needs an entry.
        for r in roots:
            if r < 0:
                pure_class[-1 - r] = -1
        self.n_pure = m.n_classes if forest_classifier else 0

        # Values: fixed point when exact (forests), then the leaf layout.
        # (over the values stored: a pure leaf's 1.0 is added apart)
        stored = leaves[pure_class < 0]
        self.value_fixed, self.value_shift = fixed_plan(stored[stored != 0], m.n_trees,
                                                        self.n_pure > 0) \
            if m.aggregate == "mean" else (0, 0)

        def value_of(v):
            if self.value_fixed in (1, 3):
                mant, exp = float_parts(v)
                return mant << (exp + self.value_shift) if mant else 0
            return float(v)

        mixed = [j for j in range(len(leaves)) if pure_class[j] < 0]
        if forest_classifier and mixed:
            self.leaf_kind = LEAF_SPARSE
            nz = leaves[mixed][leaves[mixed] != 0]
            vals = np.unique(nz) if len(nz) else np.zeros(1, np.float32)
            class_bits = (m.leaf_width - 1).bit_length()
            self.entry_bits = 1 + class_bits + max(1, (len(vals) - 1).bit_length())
            # 9 to 15 bits are padded to 16 (a wider value index field) when that costs at most
            # PAD_BYTES: the device reads them as halfwords, in about two thirds of the
            # instructions of unpacking bits. (Small forests gain the most; the digits forest of
            # issue 13 would grow by 320 bytes, past its RAM budget.)
            n_entries = sum(max(1, int(np.count_nonzero(leaves[j]))) for j in mixed)
            if 8 < self.entry_bits < 16 and n_entries * (16 - self.entry_bits) <= 8 * PAD_BYTES:
                self.entry_bits = 16
            if self.entry_bits > MAX_BITS:
                raise ValueError("too many classes and distinct leaf values for sparse leaves")
            entries, leaf_id = [], {}
            for j in mixed:
                leaf_id[j] = len(entries)
                ks = [k for k in range(m.leaf_width) if leaves[j, k] != 0] or [0]
                for n, k in enumerate(ks):
                    v = int(np.searchsorted(vals, leaves[j, k]))
                    entries.append((v << (1 + class_bits)) | (k << 1) | int(n == len(ks) - 1))
            self.entries = entries
            self.values = [value_of(v) for v in vals]
            self.n_leaves = len(entries)
            # Spans of class bytes with their own 32-bit units add in a third of the
            # instructions of sparse entries: kept when they cost at most RUN_BYTES more (small
            # forests, whose leaves share few values); else (class, value index) byte pairs,
            # when the table has at most 256 values and they cost at most a fifth more (the
            # digits forest of issue 13). Spans and pairs start with their leaf's top class.
            sparse_size = (len(entries) * self.entry_bits + 7) // 8 + 4 * len(vals)
            pair_size = 2 * len(entries) + 4 * len(vals)

            def ordered(j):
                ks = [k for k in range(m.leaf_width) if leaves[j, k] != 0] or [0]
                top = max(ks, key=lambda k: (leaves[j, k], -k))
                return [top] + [k for k in ks if k != top]

            ints = self.value_fixed in (1, 3)
            if runs is None and ints and m.leaf_width <= 256 \
                    and 5 * len(entries) <= sparse_size + RUN_BYTES:
                # (laid out in leaf list order once the lists are known)
                self.leaf_kind = LEAF_SPANS
                self.entry_bits = 8
                self.spans = {j: [(k, leaves[j, k]) for k in ordered(j)] for j in mixed}
            elif runs is not False and ints and m.leaf_width <= 128 and (
                    runs == "ended" or (len(vals) <= 256 and (runs == "pairs" or pair_size
                                       <= sparse_size + max(RUN_BYTES, sparse_size // PAIR_SHARE)))):
                pairs = runs != "ended"
                self.leaf_kind = LEAF_PAIRS if pairs else LEAF_RUNS
                self.entry_bits = 16 if pairs else 8
                entries, values = [], []
                for j in mixed:
                    leaf_id[j] = len(entries)
                    ks = ordered(j)
                    for n, k in enumerate(ks):
                        e = (k << 1) | int(n == len(ks) - 1)
                        if pairs:
                            e |= int(np.searchsorted(vals, leaves[j, k])) << 8
                        else:
                            values.append(value_of(leaves[j, k]))
                        entries.append(e)
                self.entries = entries
                if not pairs:
                    self.values = values
        else:
            self.leaf_kind = LEAF_DENSE
            self.entry_bits = 0
            self.entries = []
            keep = mixed if forest_classifier else list(range(len(leaves)))
            leaf_id = {j: i for i, j in enumerate(keep)}
            self.values = [value_of(v) for v in leaves[keep].ravel()]
            self.n_leaves = len(keep)

        # Per tree: its leaves (a list, or the global leaf ids), and local references.
        def tree_leaves(t):
            lo, hi = self.tree_node[t], self.tree_node[t + 1]
            refs = np.concatenate([nd["left"][lo:hi], nd["right"][lo:hi]]) if hi > lo else \
                np.array([roots[t]])
            return sorted({-1 - int(r) for r in refs if r < 0})

        with_lists, total_list = [], 0
        for t in range(m.n_trees):
            ls = [j for j in tree_leaves(t) if pure_class[j] < 0]
            with_lists.append(ls)
            total_list += len(ls)
        # Lists cost 2-4 bytes per entry but make references local and narrow; a forest
        # classifier needs them for its pure leaves.
        span_l = max(self.tree_node[t + 1] - self.tree_node[t] + len(with_lists[t]) + self.n_pure
                     for t in range(m.n_trees))
        span_g = max(self.tree_node[t + 1] - self.tree_node[t] for t in range(m.n_trees)) \
            + self.n_leaves
        if self.leaf_kind == LEAF_SPANS:
            # a list entry per tree's leaf (a leaf of two trees twice), and one where the last
            # span ends: the entries, in list order
            self.n_leaves = sum(len(self.spans[j]) for ls in with_lists for j in ls)
            lb = max(1, self.n_leaves.bit_length())
        else:
            lb = max(1, (self.n_leaves - 1).bit_length())
        if lb > MAX_BITS:
            raise ValueError("too many leaves for leaf lists")
        cost_l = 2 * n_nodes * _width(span_l) + total_list * lb / 8 + 4 * (m.n_trees + 1)
        cost_g = 2 * n_nodes * _width(span_g)
        single = any(r < 0 for r in roots)  # a single-leaf tree's leaf is slot 0 of its list
        fbits = (m.n_features - 1).bit_length()
        tbits = (len(distinct) - 1).bit_length()

        def records_fit(span):
            return fbits + tbits + 2 * max(1, (span - 1).bit_length()) <= 32

        # Lists also when they let the nodes be records (speed before a few bytes).
        self.lists = self.n_pure > 0 or single or cost_l < cost_g or (
            records_fit(span_l) and not records_fit(span_g))
        self.child_bytes = _width(span_l if self.lists else span_g)
        # Lists of 8 or 16 bits are read as bytes or halfwords: kept when that costs little.
        for wide in (8, 16):
            if lb < wide and total_list * (wide - lb) <= 8 * PAD_BYTES:
                lb = wide
                break
        self.list_bits = lb if self.lists else 0
        # Node records (one 32-bit load per node) when feature, threshold index and children
        # fit: in 8-bit fields (the fastest), else in the fields' own widths.
        cbits = max(1, ((span_l if self.lists else span_g) - 1).bit_length())
        if fbits <= 8 and tbits <= 8 and cbits <= 8:
            self.record_bits = (8, 8, 8)
        elif fbits + tbits + 2 * cbits <= 32:
            self.record_bits = (fbits, tbits, cbits)
        else:
            self.record_bits = None
        if self.record_bits is None:
            self.threshold16 = None

        left = np.zeros(n_nodes, dtype=np.int64)
        right = np.zeros(n_nodes, dtype=np.int64)
        tree_list, lists = [0], []
        for t in range(m.n_trees):
            lo, hi = self.tree_node[t], self.tree_node[t + 1]
            n_local = hi - lo
            slot = {}
            if self.lists:
                for s, j in enumerate(with_lists[t]):
                    slot[j] = s
                    lists.append(leaf_id[j])
                tree_list.append(len(lists))
                n_list = len(with_lists[t])

            def local(r):
                if r >= 0:
                    return int(r) - lo
                j = -1 - int(r)
                if not self.lists:
                    return n_local + leaf_id[j]
                if pure_class[j] >= 0:
                    return n_local + n_list + int(pure_class[j])
                return n_local + slot[j]

            if n_local == 0:
                if local(roots[t]) != 0:
                    raise ValueError("a single-leaf tree's leaf must be its first slot")
            for i in range(lo, hi):
                left[i], right[i] = local(nd["left"][i]), local(nd["right"][i])
        self.left, self.right = left, right
        self.tree_list = tree_list if self.lists else None
        self.leaf_list = lists
        if self.leaf_kind == LEAF_SPANS:
            entries, values, starts = [], [], []
            for ls in with_lists:
                for j in ls:
                    starts.append(len(entries))
                    for k, v in self.spans[j]:
                        entries.append(k)
                        values.append(value_of(v))
            starts.append(len(entries))
            self.entries = entries
            self.leaf_list = starts
            self.values = values

    @staticmethod
    def _count(nd, r):
        """Nodes of the subtree at r (its node indices are r .. r + count - 1)."""
        n, stack = 0, [r]
        while stack:
            i = stack.pop()
            n += 1
            for c in (nd["left"][i], nd["right"][i]):
                if c >= 0:
                    stack.append(int(c))
        return n

    def labels(self):
        """The labels to store, or None when they are the class indices 0 .. n - 1."""
        c = self.model.classes
        if c is None or (all(type(v) is int for v in c) and c == list(range(len(c)))):
            return None
        return c

    def head(self):
        m = self.model
        label, _ = label_kind(self.labels())
        fields = dict(
            n_features=m.n_features, n_classes=m.n_classes, n_outputs=m.n_outputs,
            n_trees=m.n_trees, n_nodes=m.n_nodes, n_leaves=self.n_leaves,
            leaf_width=m.leaf_width, aggregate={"mean": 0, "sum": 1}[m.aggregate],
            link={"none": 0, "sigmoid": 1, "softmax": 2}[m.link],
            flags=(m.flags & ~8) | (8 if self.labels() is not None else 0),
            record_bits=0 if self.record_bits is None else
            self.record_bits[0] | self.record_bits[1] << 8 | self.record_bits[2] << 16,
            feature_bytes=1 if m.n_features <= 256 else 2,
            child_bytes=self.child_bytes, thr_index_bytes=self.thr_index_bytes,
            leaf_kind=self.leaf_kind, value_fixed=int(self.value_fixed),
            value_shift=self.value_shift, list_bits=self.list_bits,
            entry_bits=self.entry_bits, n_pure=self.n_pure, label_kind=label)
        return struct.pack(f"<{len(HEAD_WORDS)}I{len(HEAD_BYTES)}B",
                           *[fields[f] for f in HEAD_WORDS + HEAD_BYTES])

    def sections(self):
        m = self.model
        head = self.head()
        out = [(b"head", head)]
        if self.labels() is not None:
            out.append((b"labl", label_kind(self.labels())[1]))
        if m.aggregate == "sum":
            out.append((b"base", np.asarray(m.baseline, dtype="<f8").tobytes()))
        out.append((b"tnod", np.array(self.tree_node, dtype="<u4").tobytes()))
        if self.lists:
            out.append((b"tlst", np.array(self.tree_list, dtype="<u4").tobytes()))
        if m.leaf_width == 1 and m.n_outputs > 1:
            out.append((b"tout", np.array([o for _, o in m.trees], dtype="<u4").tobytes()))
        direct = self.record_bits is None and not self.thr_index_bytes
        if m.n_nodes and self.record_bits is not None:
            fb, tb, cb = self.record_bits
            w = (np.asarray(m.nodes["feature"], np.uint64) | (self.thr_index.astype(np.uint64) << fb)
                 | (self.left.astype(np.uint64) << (fb + tb))
                 | (self.right.astype(np.uint64) << (fb + tb + cb)))
            out.append((b"node", w.astype("<u4").tobytes()))
        elif m.n_nodes:
            out.append((b"feat", np.asarray(m.nodes["feature"]).astype(
                "<u1" if m.n_features <= 256 else "<u2").tobytes()))
            if self.thr_index_bytes:
                out.append((b"thri", self.thr_index.astype(_uint(self.thr_index_bytes))
                            .tobytes()))
        keys = self.thresholds[self.thr_index] if direct else self.thresholds
        out.append((b"thrk", np.asarray(keys, dtype="<i4").tobytes()))
        if self.threshold16 is not None and m.n_nodes:
            out.append((b"thrs", self.threshold16.astype("<i4").tobytes()))
        if m.n_nodes and self.record_bits is None:
            cb = _uint(self.child_bytes)
            out.append((b"left", self.left.astype(cb).tobytes()))
            out.append((b"rght", self.right.astype(cb).tobytes()))
        if m.n_nodes and m.flags & 1:
            out.append((b"miss", np.packbits(np.asarray(m.nodes["missing_left"], bool),
                                             bitorder="little").tobytes()))
        if self.lists and self.leaf_list:
            out.append((b"list", pack_bits(self.leaf_list, self.list_bits)))
        if self.entries:
            out.append((b"entr", pack_bits(self.entries, self.entry_bits)))
        if self.values:
            dt = {1: "<i4", 3: "<u4"}.get(self.value_fixed, "<f4")
            out.append((b"valu", np.array(self.values, dtype=dt).tobytes()))
        return out

    def to_bytes(self):
        return blob.pack(blob.TREES, VERSION, self.sections())


# The MicroPython binding keeps the sums of a prediction on the C stack up to this many outputs
# (STACK_SUMS in bindings/micropython/mod_trees.c), in the model's heap block beyond.
STACK_SUMS = 32


def workspace_size(n_outputs):
    """RAM of a prediction (ml_trees_workspace_size): the sums, 8 bytes per output."""
    return 8 * n_outputs


def heap_sums_size(n_outputs):
    """Bytes of the sums a model loaded by the MicroPython binding keeps in the heap: none up to
    STACK_SUMS outputs (they are on the C stack during a call), else its workspace."""
    return workspace_size(n_outputs) if n_outputs > STACK_SUMS else 0
