# The Python half of the emlearn stand-in (merged into emlearn_standin.mpy with the C half):
# reads emlearn's tree CSV (`emlearn.convert(est, method='loadable').save(format='csv')`) into
# a model made by new(). As a user of emlearn-micropython would, load() passes the numbers of
# trees, nodes and leaves to new(); it counts them in a first reading of the file, so the model
# takes exactly the RAM it needs.


def _records(path):
    with open(path) as f:
        for line in f:
            tok = line.strip().split(",")
            if tok and tok[0]:
                yield tok


def load(path):
    n = {"r": 0, "n": 0, "l": 0}
    for tok in _records(path):
        if tok[0] in n:
            n[tok[0]] += 1
    model = new(n["r"], n["n"], n["l"])  # noqa: F821 (defined by the C half)
    n_features = n_classes = None
    leaf_bits = 0
    ready = False
    for tok in _records(path):
        kind = tok[0]
        if kind == "f":
            n_features = int(tok[1])
        elif kind == "c":
            n_classes = int(tok[1])
        elif kind == "lb":
            leaf_bits = int(tok[1])
        elif kind in ("r", "n", "l"):
            if not ready:
                if n_features is None or n_classes is None or leaf_bits != 0:
                    raise ValueError("emlearn CSV: expected f, c (and lb,0) before the trees")
                model.setdata(n_features, n_classes, leaf_bits)
                ready = True
            if kind == "r":
                model.addroot(int(tok[1]))
            elif kind == "n":
                # emlearn-micropython compares int16 features with int(threshold)
                model.addnode(int(tok[3]), int(tok[4]), int(tok[1]), int(float(tok[2])))
            else:
                model.addleaf(int(tok[1]))
    return model
