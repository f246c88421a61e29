# mltrees_py: microlearn tree model files ("microlearn-trees,1", docs/model-format.md) in plain
# MicroPython, without the native module. It is the baseline of the benchmarks: what a user
# could write instead of installing microlearn.trees. It predicts what the C core predicts
# (on a port with double floats exactly; with single floats, as the qemu boards have, the sums
# round to float32, which can only matter for near-ties).
#
#   import mltrees_py
#   m = mltrees_py.load("model.csv")
#   m.predict(x)                     # class label (int), or value (regressor)
#   m.predict_proba(x)               # list of n_classes probabilities (or fills `out`)
#
# x is any sequence of n_features numbers (array('f'), array('h'), list). The model lives in
# typed arrays (4 bytes per threshold and per leaf value, 1-2 bytes per feature index, 2 or 4
# per child), sized from the header before the nodes are read.
#
# Unlike the C core it checks nothing per sample (a NaN, for a model trained without missing
# values, goes right instead of raising), reads only "microlearn-trees" files, and stores a
# threshold as the nearest float32 (the converter writes float32 values, so this only matters
# for a decimal threshold written by hand, which the C core rounds down).
import array
import math

_NAN, _BINARY_GE = 1, 4


def _float(s):
    """A decimal or C99 hexadecimal ('-0x1.8p-3') float: MicroPython has no float.fromhex."""
    h = s.find("x")
    if h < 0:
        h = s.find("X")
        if h < 0:
            return float(s)
    s = s.lower()
    p = s.find("p")
    e = int(s[p + 1:]) if p > 0 else 0
    m = s[h + 1:p] if p > 0 else s[h + 1:]
    d = m.find(".")
    if d >= 0:
        e -= 4 * (len(m) - d - 1)
        m = m[:d] + m[d + 1:]
    v = math.ldexp(float(int(m, 16)), e)
    return -v if s[0] == "-" else v


def _typed(code, n):
    return array.array(code, bytes(n * {"B": 1, "H": 2, "h": 2, "i": 4, "f": 4}[code]))


class Model:
    def predict(self, x):
        acc = self._eval(x)
        if not self.n_classes:
            return acc[0]
        return self.labels[self._index(acc)]

    def predict_proba(self, x, out=None):
        acc = self._eval(x)
        n = self.n_classes
        if out is None:
            out = [0.0] * n
        if self.link == "sigmoid":
            p = 1.0 / (1.0 + math.exp(-acc[0]))
            out[0] = 1.0 - p
            out[1] = p
        elif self.link == "softmax":
            top = max(acc)
            s = 0.0
            for k in range(n):
                s += math.exp(acc[k] - top)
            for k in range(n):
                out[k] = math.exp(acc[k] - top) / s
        else:
            for k in range(n):
                out[k] = acc[k]
        return out

    def _index(self, acc):
        if self.link == "sigmoid":
            return int(acc[0] >= 0.0 if self.flags & _BINARY_GE else acc[0] > 0.0)
        best = 0
        for k in range(1, len(acc)):
            if acc[k] > acc[best]:
                best = k
        return best

    def _eval(self, x):
        F, T, L, R, V = self.feature, self.threshold, self.left, self.right, self.leaf
        M = self.missing_left
        w = self.leaf_width
        outs = self.tree_output
        acc = list(self.baseline)
        t = 0
        for i in self.tree_root:
            if M is None:
                while i >= 0:
                    if x[F[i]] <= T[i]:
                        i = L[i]
                    else:
                        i = R[i]
            else:
                while i >= 0:
                    v = x[F[i]]
                    if v <= T[i] or (v != v and M[i]):
                        i = L[i]
                    else:
                        i = R[i]
            j = (-1 - i) * w
            if w == 1:
                acc[outs[t]] += V[j]
            else:
                for k in range(w):
                    acc[k] += V[j + k]
            t += 1
        if self.mean:
            n = len(self.tree_root)
            for k in range(len(acc)):
                acc[k] /= n
        return acc


def load(path):
    m = Model()
    with open(path) as f:
        tree = node = leaf = 0
        header = False
        for line in f:
            line = line.strip()
            if not line or line[0] == "#":
                continue
            r = line.split(",")
            k = r[0]
            if k == "n":
                m.feature[node] = int(r[1])
                m.threshold[node] = _float(r[2])
                m.left[node] = int(r[3])
                m.right[node] = int(r[4])
                if m.missing_left is not None:
                    m.missing_left[node] = int(r[5])
                node += 1
            elif k == "l":
                for v in r[1:]:
                    m.leaf[leaf] = _float(v)
                    leaf += 1
            elif k == "t":
                m.tree_root[tree] = int(r[1])
                m.tree_output[tree] = int(r[2])
                tree += 1
            elif k == "h":
                nf, nc, no, nt, nn, nl, lw = [int(v) for v in r[1:8]]
                m.n_features, m.n_classes, m.n_outputs, m.leaf_width = nf, nc, no, lw
                m.mean = r[8] == "mean"
                m.link = r[9]
                m.flags = int(r[10])
                m.labels = list(range(nc))
                m.baseline = [0.0] * no
                m.feature = _typed("B" if nf <= 256 else "H", nn)
                m.threshold = _typed("f", nn)
                wide = nn + nl > 32767
                m.left = _typed("i" if wide else "h", nn)
                m.right = _typed("i" if wide else "h", nn)
                m.missing_left = _typed("B", nn) if m.flags & _NAN else None
                m.leaf = _typed("f", nl * lw)
                m.tree_root = _typed("i" if wide else "h", nt)
                m.tree_output = _typed("H", nt)
                header = True
            elif k == "k":
                m.labels = [int(v) for v in r[1:]]
            elif k == "b":
                m.baseline = [_float(v) for v in r[1:]]
            elif k == "microlearn-trees":
                if r[1] != "1":
                    raise ValueError("model format version %s, expected 1" % r[1])
            else:
                raise ValueError("%s: unknown record %r (only microlearn-trees files)" % (path, k))
        if not header or node != len(m.feature) or tree != len(m.tree_root):
            raise ValueError("%s: incomplete model file" % path)
    return m
