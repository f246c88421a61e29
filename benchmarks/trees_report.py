"""docs/benchmarks.md and its plots, from the rows benchmarks.trees measured."""

import os
import platform
from pathlib import Path

from . import trees, trees_gen

TARGET_TITLES = {
    "x64-callgrind": "x64, callgrind (instructions)",
    "unix": "unix port, x64 (wall clock)",
    "cortex-m3": "emulated Cortex-M3 (instructions)",
    "cortex-m0": "emulated Cortex-M0 (instructions)",
}
UNIT_TITLES = {"Ir": "instructions", "instr": "instructions", "us": "µs"}
VARIANT_TITLES = {"mpy": ".mpy", "py": ".py (compiled on the device)",
                  "fs": ".mpy from a written file (copied to RAM)", "-": "", "csv": "model file",
                  "frozen": "in place (frozen)"}
ALT = ("emlearn_standin", "mltrees_py", "m2cgen", "everywhereml")
MICRO = ("microlearn", "microlearn_many", "microlearn_i16", "microlearn_many_i16")
DEPLOYED = {"microlearn": "native .mpy + binary model: unix from a file, boards in place (ROMFS)",
            "microlearn_i16": "the same, int16 samples",
            "emlearn_standin": "native .mpy + emlearn CSV (parsed into the heap)"}
# microlearn's model frozen into the unix port (benchmarks.trees.frozen_unix)
DEPLOYED_FROZEN = ("native .mpy + binary model frozen into the unix firmware "
                   "(`MODEL = b'...'`, in place)")


def _n(v, digits=3):
    """A number for a table: 3 significant digits below 1000, thousands separators above."""
    if v is None:
        return "–"
    if isinstance(v, str):
        return v
    if abs(v) >= 999.5:  # (999.6 is "1,000", not "1000")
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.{digits}g}"


def _kb(v):
    if v is None:
        return "–"
    return f"{v / 1024:.1f} kB" if v >= 1024 else f"{v} B"


def _x(v):
    if v is None:
        return "–"
    if v >= 100:
        return f"{v:,.0f}×"
    return f"{v:.1f}×" if v >= 10 else f"{v:.2f}×"


class View:
    def __init__(self, res, ws):
        self.res = res
        self.ws = ws

    def v(self, **kw):
        return self.res.get(**kw)

    def cost(self, target, model, impl):
        return self.v(section="time", target=target, model=model, impl=impl, metric="per_call")

    def rel(self, target, model, impl):
        a = self.cost(target, model, impl)
        m = self.cost(target, model, "microlearn")
        return a / m if a and m else None

    def builtin(self, target, model=None):
        if target == "x64-callgrind":
            return self.v(section="time", target=target, impl="builtin", metric="builtin_call")
        vals = [r["value"] for r in self.res.find(section="time", target=target,
                                                  metric="builtin_call")
                if model is None or r["model"] == model]
        return min(vals) if vals else None

    def unit(self, target):
        r = self.res.find(section="time", target=target, metric="per_call")
        return r[0]["unit"] if r else ""

    def fits(self, target, model, impl, variant):
        rows = self.res.find(section="ram", target=target, model=model, impl=impl,
                             variant=variant, metric="fits")
        if not rows:
            return None, ""
        return rows[0]["value"], rows[0]["note"]

    def load(self, target, model, impl, variant="mpy"):
        return self.v(section="ram", target=target, model=model, impl=impl, variant=variant,
                      metric="load_bytes")

    def has_frozen(self):
        """Whether the run measured the unix port with the models frozen in."""
        return bool(self.res.find(section="ram", target="unix", variant="frozen",
                                  metric="load_bytes"))

    def how_loaded(self, target, model, impl, variant):
        """How microlearn's model was loaded in a run, as the RAM tables say it: the unix
        port reads files (variant mpy) or has the model frozen in; the boards' files come in
        a ROMFS image. model.in_place, where recorded, overrides: a model is copied when its
        buffer is not 4-byte aligned."""
        ip = self.v(section="ram", target=target, model=model, impl=impl, variant=variant,
                    metric="in_place")
        if target == "unix" and variant == "mpy":
            return "from a file"
        where = "frozen" if variant == "frozen" else "ROMFS"
        if ip == 0:
            return f"{where}, copied (not 4-byte aligned)"
        return f"in place ({where})"

    def targets(self):
        seen = {r["target"] for r in self.res.rows if r["section"] == "time"}
        return [t for t in ("x64-callgrind", "unix", "cortex-m3", "cortex-m0") if t in seen]

    def unsupported(self, model, impl):
        rows = self.res.find(section="model", model=model, impl=impl, metric="unsupported")
        return rows[0]["note"] if rows else None


# --------------------------------------------------------------------------------------------
# Plots


def plot_compare(view, models, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tgts = view.targets()
    fig, axes = plt.subplots(1, len(tgts), figsize=(3.6 * len(tgts) + 1, 4.2), sharey=True,
                             squeeze=False)
    colors = {"microlearn_many": "tab:cyan", "mltrees_py": "tab:red", "m2cgen": "tab:orange",
              "everywhereml": "tab:green", "emlearn_standin": "tab:purple"}
    impls = ("microlearn_many",) + ALT
    for ax, t in zip(axes[0], tgts):
        width = 0.8 / len(impls)
        for j, impl in enumerate(impls):
            xs, ys = [], []
            for i, m in enumerate(models):
                r = view.rel(t, m, impl)
                if r:
                    xs.append(i + (j - (len(impls) - 1) / 2) * width)
                    ys.append(r)
            ax.bar(xs, ys, width, color=colors[impl], label=impl.replace("_", " "))
        ax.axhline(1.0, color="tab:blue", lw=1.2, label="microlearn predict")
        ax.set_yscale("log")
        ax.set_xticks(range(len(models)))
        ax.set_xticklabels(models, rotation=30, fontsize=8)
        ax.set_title(TARGET_TITLES[t], fontsize=9)
        ax.grid(True, axis="y", which="both", alpha=0.3)
    axes[0][0].set_ylabel("cost per inference / microlearn predict")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0.07, 1, 0.94))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _log_axes(ax, log_x, xlabel, ylabel):
    import matplotlib.ticker

    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")  # 20, not 2x10^1
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1, 2, 5)))  # 1 2 5 10 20..
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    if log_x:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(plain)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def plot_scaling(view, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    built = view.ws.built
    groups = [("scaling-trees", "number of trees (max_depth=6)", "n_trees"),
              ("scaling-depth", "max_depth (10 trees)", "max_depth")]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    colors = {"microlearn": "tab:blue", "mltrees_py": "tab:red", "m2cgen": "tab:orange"}
    styles = {"x64-callgrind": "-", "cortex-m3": "--", "unix": ":"}
    tgts = [t for t in ("x64-callgrind", "cortex-m3") if t in view.targets()] or ["unix"]
    for col, (group, xlabel, _) in enumerate(groups):
        names = [n for n, b in built.items() if b.spec.group == group]

        def xval(n):
            b = built[n]
            return b.n_trees if group == "scaling-trees" else int(n[len("depth"):])

        names.sort(key=xval)
        ax = axes[0][col]
        for t in tgts:
            for impl in colors:
                pts = [(xval(n), view.cost(t, n, impl) / view.builtin(t, n)) for n in names
                       if view.cost(t, n, impl) and view.builtin(t, n)]
                if pts:
                    ax.plot(*zip(*pts), styles[t], color=colors[impl], marker="o", ms=3,
                            label=f"{impl.replace('_', ' ')} ({t})")
        _log_axes(ax, group == "scaling-trees", xlabel,
                  "cost per inference / builtin call len(x)")
        ax = axes[1][col]
        for impl in colors:
            pts = []
            for n in names:
                imp = view.v(section="ram", target="unix", model=n, impl=impl, variant="mpy",
                             metric="import_bytes")
                load = view.v(section="ram", target="unix", model=n, impl=impl, variant="mpy",
                              metric="load_bytes")
                if imp is not None and load is not None:
                    pts.append((xval(n), (imp + load) / 1024))
            if pts:
                ax.plot(*zip(*pts), "-", color=colors[impl], marker="o", ms=3,
                        label=f"{impl.replace('_', ' ')}: heap after import + load (x64)")
        for impl, m3color in (("microlearn", "tab:blue"), ("mltrees_py", "tab:red")):
            pts = []
            for n in names:
                load = view.v(section="ram", target="cortex-m3", model=n, impl=impl,
                              variant="mpy", metric="load_bytes")
                if load is not None:
                    pts.append((xval(n), load / 1024))
            if pts:
                ax.plot(*zip(*pts), "--", color=m3color, marker="s", ms=3,
                        label=f"{impl.replace('_', ' ')}: heap of load (Cortex-M3)")
        pts = [(xval(n), view.v(section="flash", model=n, impl="m2cgen", variant="mpy",
                                metric="bytes") / 1024) for n in names
               if view.v(section="flash", model=n, impl="m2cgen", variant="mpy", metric="bytes")]
        if pts:
            ax.plot(*zip(*pts), ":", color="tab:orange", marker="^", ms=3,
                    label="m2cgen: .mpy bytes (copied to RAM on import from a filesystem)")
        _log_axes(ax, group == "scaling-trees", xlabel, "kB")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Markdown


def write(res, ws, out, command, version, elapsed, quick):
    view = View(res, ws)
    out = Path(out)
    built = ws.built
    main_models = [n for n, b in built.items() if b.spec.group == "main"]
    ov_models = [n for n, b in built.items() if b.spec.group == "overhead"]
    tgts = view.targets()
    made = f"`{command}`, MicroPython {version}"
    plot_compare(view, main_models + ov_models, out / "benchmarks-compare.png",
                 f"Cost per inference relative to microlearn predict. {command}, "
                 f"MicroPython {version}")
    plot_emlearn(view, main_models + ov_models, out / "benchmarks-emlearn.png",
                 f"microlearn against the emlearn stand-in (int16 samples). {command}, "
                 f"MicroPython {version}")
    plot_scaling(view, out / "benchmarks-scaling.png",
                 f"Scaling (RandomForest on digits). {command}, MicroPython {version}")

    L = []
    L += [
        "# Benchmarks: microlearn against the alternatives",
        "",
        f"Produced by {made} (Debian source package)"
        + (f", in {elapsed:.0f} s" if elapsed == elapsed else "")
        + f" on {platform.machine()} with {os.cpu_count()} cores"
        + (" — **quick mode: reduced models and targets, for CI; not the published figures**"
           if quick else "")
        + ". Raw results: [benchmarks.csv](benchmarks.csv); how they are measured: "
        "`benchmarks/trees.py` (`make bench` runs it).",
        "",
        "Ratios carry the conclusions: absolute figures depend on the machine, ratios measured "
        "in the same run do not (much). The instruction counts (callgrind on x64, qemu "
        "`-icount` on the emulated boards) are repeatable; wall-clock times on the unix port "
        "vary with the machine's load.",
        "",
    ]
    L += ["## Headline", ""] + headline(view, main_models, ov_models) + [""]
    L += compared_section(view, ws, main_models)
    L += emlearn_section(view, main_models + ov_models, made)
    L += agreement_section(view, main_models + ov_models)
    L += time_section(view, main_models + ov_models, made)
    L += ram_section(view, main_models + ov_models)
    L += startup_section(view, main_models + ov_models)
    L += flash_section(view, ws, main_models + ov_models)
    L += scaling_section(view, made)
    L += overhead_section(view, main_models, ov_models)
    L += repeat_section(view)
    L += limits_section(view, ws, main_models)
    L += method_section()
    (out / "benchmarks.md").write_text("\n".join(L) + "\n")


def headline(view, models, ov):
    out = []
    m = "digits_rf" if "digits_rf" in models else (models[0] if models else None)
    if m is None:
        return out
    for impl in ALT:
        parts = []
        for t in view.targets():
            r = view.rel(t, m, impl)
            if r:
                parts.append(f"{_x(r)} ({t})")
        if parts:
            out.append(f"- **{impl}** on `{m}` costs " + ", ".join(parts)
                       + " the time of microlearn's `predict`.")
        elif view.unsupported(m, impl):
            out.append(f"- **{impl}**: {view.unsupported(m, impl)}.")
    # Across models, the smallest and largest speedups on the instruction counts.
    for t in ("x64-callgrind", "cortex-m3"):
        if t not in view.targets():
            continue
        rs = [(view.rel(t, mm, impl), mm, impl) for mm in models for impl in ALT
              if view.rel(t, mm, impl)]
        if rs:
            lo, hi = min(rs), max(rs)
            out.append(f"- Over all models on {t}: the alternatives cost {_x(lo[0])} "
                       f"({lo[2]}, `{lo[1]}`) to {_x(hi[0])} ({hi[2]}, `{hi[1]}`) what "
                       "microlearn does.")
    t = "cortex-m3"
    ram = []
    for impl, var in (("microlearn", "mpy"), ("mltrees_py", "mpy"), ("m2cgen", "fs"),
                      ("everywhereml", "fs")):
        imp = view.v(section="ram", target=t, model=m, impl=impl, variant=var,
                     metric="import_bytes")
        load = view.v(section="ram", target=t, model=m, impl=impl, variant=var,
                      metric="load_bytes")
        if imp is not None and load is not None:
            ram.append(f"{impl} {_kb(imp + load)}")
    inplace = []
    for impl in ("m2cgen", "everywhereml"):
        imp = view.v(section="ram", target=t, model=m, impl=impl, variant="mpy",
                     metric="import_bytes")
        load = view.v(section="ram", target=t, model=m, impl=impl, variant="mpy",
                      metric="load_bytes")
        if imp is not None and load is not None:
            inplace.append(f"{impl} {_kb(imp + load)}")
    if ram:
        ml_load = view.load(t, m, "microlearn")
        out.append(f"- RAM on the Cortex-M3 for `{m}` (heap growth of import + load; the "
                   "generated modules imported from a filesystem, i.e. copied into RAM): "
                   + ", ".join(ram) + ". microlearn's share is its load, the model object "
                   f"with the binary model used in place from the ROMFS image ({_kb(ml_load)}), "
                   "plus its machine code, which a native module keeps in RAM (nothing when "
                   "built into the firmware)."
                   + (" Imported in place from a ROMFS image (MicroPython 1.25, few boards "
                      "yet), the generated modules take only " + ", ".join(inplace) + "."
                      if inplace else ""))
    em = standin_ram_summary(view, sorted({r[0] for r in standin_rows(view, models + ov)},
                                          key=(models + ov).index))
    if em:
        out.append("- RAM of the load against the emlearn stand-in (which parses its CSV into "
                   "the heap; microlearn's binary model "
                   + ("frozen into the unix port's firmware on x64, " if view.has_frozen()
                      else "")
                   + "in the ROMFS image on the boards, and read from a file on x64; "
                   "[details](#side-by-side-with-emlearn-a-stand-in-built-from-its-c-code)):")
        out += ["  " + line for line in em]
    fl = []
    for impl, var in (("m2cgen", "mpy"), ("everywhereml", "mpy")):
        v = view.v(section="flash", model=m, impl=impl, variant=var, metric="bytes")
        if v:
            fl.append(f"{impl} {_kb(v)} of .mpy")
    # (microlearn's deployed model is the binary file: the text form is the larger one)
    mf = view.v(section="flash", model=m, impl="model_file", variant="bin", metric="bytes")
    tm = view.v(section="flash", target="armv7m", impl="microlearn", metric="bytes")
    ec = view.v(section="flash", model=m, impl="emlearn_standin", variant="csv", metric="bytes")
    es = view.v(section="flash", target="armv7m", impl="emlearn_standin", metric="bytes")
    if ec and es:
        fl.insert(0, f"emlearn stand-in {_kb(ec)} of CSV + {_kb(es)} of .mpy")
    if mf:
        out.append(f"- Flash for `{m}`: microlearn {_kb(mf)} of binary model file + "
                   f"{_kb(tm)} of trees.mpy (armv7m, once for all models); "
                   + ", ".join(fl) + " (m2cgen and everywhereml: one module per model).")
    for t in ("x64-callgrind", "cortex-m3", "cortex-m0"):
        a = anatomy(view, t, "microlearn") if t in view.targets() else None
        b = view.ws.built[m]
        if a is None or b.spec.dataset != "digits" or not b.visits:
            continue
        parts = (a["fixed"], a["tree"] * b.n_trees, a["node"] * b.visits)
        tot = sum(parts)
        pc = per_class(view, t)
        s = (f"- Where microlearn's cost is ({t}, `{m}`): {100 * parts[0] / tot:.0f}% fixed "
             f"per call (the call, the input check, the per-class end), "
             f"{100 * parts[1] / tot:.0f}% per tree (adding the leaf's class values), "
             f"{100 * parts[2] / tot:.0f}% walking the nodes")
        if pc and pc > 0:
            s += f"; each of the 10 classes costs {_n(pc)} {UNIT_TITLES[view.unit(t)]} per call"
        out.append(s + ".")
    return out


def standin_rows(view, models):
    """(model, target, microlearn_i16 cost, stand-in cost, microlearn_many cost) measured."""
    out = []
    for m in models:
        for t in view.targets():
            a, e = view.cost(t, m, "microlearn_i16"), view.cost(t, m, "emlearn_standin")
            if a and e:
                out.append((m, t, a, e, view.cost(t, m, "microlearn_many_i16")))
    return out


def plot_emlearn(view, models, path, title):
    rows = standin_rows(view, models)
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ms = sorted({m for m, *_ in rows}, key=models.index)
    tg = [t for t in view.targets() if any(r[1] == t for r in rows)]
    fig, ax = plt.subplots(figsize=(9, 4))
    w = 0.8 / len(tg)
    for j, t in enumerate(tg):
        vals = [next((a / e for mm, tt, a, e, _ in rows if mm == m and tt == t), 0) for m in ms]
        ax.bar([i + j * w for i in range(len(ms))], vals, w, label=t)
    ax.axhline(1.0, color="black", lw=0.8)
    ax.axhline(0.5, color="gray", lw=0.8, ls="--")
    ax.set_xticks([i + w * (len(tg) - 1) / 2 for i in range(len(ms))])
    ax.set_xticklabels(ms)
    ax.set_ylabel("microlearn predict / stand-in predict")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def standin_ram_rows(view, models):
    """(model, target, how microlearn's model is loaded, microlearn load, stand-in load) of
    the int16 runs (the stand-in's comparison), microlearn in place first."""
    out = []
    for m in models:
        for t, var in (("unix", "frozen"), ("unix", "mpy"), ("cortex-m3", "mpy"),
                       ("cortex-m0", "mpy")):
            la = view.load(t, m, "microlearn_i16", var)
            le = view.load(t, m, "emlearn_standin")
            if la is None or le is None:
                continue
            out.append((m, t, view.how_loaded(t, m, "microlearn_i16", var), la, le))
    return out


def stump_note(view):
    """The stump's in-place load against the stand-in's whole model (a one-node tree)."""
    parts = []
    for m, t, how, la, le in standin_ram_rows(view, ["stump"] if "stump" in view.ws.built
                                              else []):
        if how.startswith("in place"):
            parts.append(f"{_kb(la)} against {_kb(le)} on {t}")
    if not parts:
        return ""
    return ("; for the stump, whose whole model in emlearn's CSV is a one-node tree: "
            + ", ".join(parts))


def standin_ram_summary(view, models):
    """Where microlearn's load takes less RAM than the stand-in's, in place and from a file."""
    out = []
    rows = standin_ram_rows(view, models)
    where = ("frozen on the unix port, ROMFS on the boards" if view.has_frozen()
             else "ROMFS on the boards")
    for what, pick in ((f"In place ({where})",
                        lambda how: how.startswith("in place")),
                       ("From a file (unix port)", lambda how: how == "from a file")):
        sel = [r for r in rows if pick(r[2])]
        if not sel:
            continue
        behind = [f"`{m}` on {t} ({_kb(la)} against {_kb(le)})" for m, t, _, la, le in sel
                  if la >= le]
        ahead = len(sel) - len(behind)
        out.append(f"- {what}: microlearn's load is smaller than the stand-in's on {ahead} of "
                   f"{len(sel)} (model, target) pairs"
                   + ("." if not behind else "; not on " + ", ".join(behind) + "."))
    copied = [f"`{m}` on {t}" for m, t, how, _, _ in rows if "copied" in how]
    if copied:
        out.append("- Copied although meant in place (the model's bytes not at a 4-byte "
                   "aligned address, `model.in_place` false): " + ", ".join(copied) + ".")
    return out


def vote_exit_note(view, models):
    """How many trees the forests' timed samples need before a class holds a majority."""
    parts = []
    for m in models:
        timed = view.v(section="model", model=m, metric="majority_timed")
        whole = view.v(section="model", model=m, metric="majority_all")
        n = view.v(section="model", model=m, metric="n_trees")
        if timed is not None and whole is not None and n:
            parts.append(f"`{m}` {timed:.2f} of {n:.0f} trees on the timed samples, "
                         f"{whole:.2f} on the whole test split")
    if not parts:
        return []
    return ["microlearn's `predict` (and `predict_many`) of a forest classifier stops adding "
            "trees once one class's sum is more than half of what all the trees can add (it "
            "looks after a pure leaf, and after a leaf of byte pairs at that leaf's first, "
            "largest, class): no later tree can change the label, so it is still "
            "scikit-learn's; `predict_proba` adds every tree. Its cost per call depends on "
            "the sample: with scikit-learn's tree probabilities, a class holds that majority "
            "after " + "; ".join(parts)
            + " (`majority_trees` in benchmarks/trees_gen.py; microlearn can stop later, "
            "where the deciding leaf is impure and not of pairs). The stand-in always "
            "evaluates every tree."]


def emlearn_section(view, models, made):
    rows = standin_rows(view, models)
    lc = view.v(section="model", model="small_rf", metric="leaf_classes_timed")
    small_leaves = (f" of {lc:.1f} classes each on average over the timed samples, "
                    "`leaf_classes` in benchmarks/trees_gen.py" if lc else "")
    L = ["## Side by side with emlearn (a stand-in built from its C code)", ""]
    if not rows:
        return L + ["Not measured (the stand-in was not built: `make bench-natmod`).", ""]
    L += ["emlearn-micropython's own module is not published on PyPI; the stand-in "
          "(benchmarks/emlearn_standin) is emlearn's published C tree evaluator, `eml_trees.h` "
          "from the emlearn package, in a native module written here after what "
          "emlearn-micropython's binding does. Both take the same int16 samples; the stand-in's "
          "`predict(x, out)` leaves the argmax to the caller (not timed), microlearn's "
          "`predict(x)` returns the label.", "",
          "![microlearn against the emlearn stand-in](benchmarks-emlearn.png)", "",
          f"Plot: {made}; the dashed line is half the stand-in's cost.", "",
          "The floor is what a native function costs that takes the array and returns a small "
          "int doing nothing else (`noop(x)`, a function of the stand-in's module, measured on "
          f"`{trees.FLOOR_MODEL}`'s samples): the call, the buffer and the result. The "
          "stand-in's `predict` is a method: its call adds a bound method's steps to the "
          "floor's. microlearn's `model.predict` is the model object itself, called (its "
          "type's call: no bound method, no function object's argument check), so its "
          "*above the floor* may be less than its model's work (compare the stump's whole "
          "predict, one comparison, with the floor in the table). *Above the floor*: microlearn's "
          "part of each predict over the stand-in's.", "",
          "| model | target | microlearn `predict` | stand-in `predict(x, out)` | ratio | "
          "microlearn `predict_many` per sample | ratio | floor | above the floor: ratio |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for m, t, a, e, many in rows:
        unit = UNIT_TITLES.get(view.unit(t), view.unit(t))
        fl = view.cost(t, trees.FLOOR_MODEL, "native_floor")
        above = f"{(a - fl) / (e - fl):.2f}" if fl and e > fl else "–"
        L.append(f"| `{m}` | {t} | {_n(a)} {unit} | {_n(e)} | {a / e:.2f} | "
                 + (f"{_n(many)} | {many / e:.2f} | " if many else "– | – | ")
                 + f"{_n(fl) if fl else '–'} | {above} |")
    L += [""] + vote_exit_note(view, sorted({r[0] for r in rows}, key=models.index))
    L += ["", "RAM of the load (heap growth, `gc.mem_alloc`) and agreement with scikit-learn "
          "(labels; the stand-in's label is the class with the most votes). The stand-in "
          "always parses its CSV file into heap arrays; microlearn's binary model is used in "
          "place where it lies in memory: on the boards from their ROMFS image"
          + (", on the unix port (x64) from the firmware, frozen in as a module "
             "`MODEL = b'...'` (the port built by the benchmark, "
             "`benchmarks.trees.frozen_unix`)" if view.has_frozen() else
             " (the unix port built with the models frozen in was not run: --no-frozen)")
          + "; read from a file on the unix port it is copied into the heap (rows *from a "
          "file*):", "",
          "| model | target | microlearn's model | microlearn load | stand-in load | "
          "microlearn / stand-in | microlearn agrees | stand-in agrees |",
          "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    sm = sorted({r[0] for r in rows}, key=models.index)
    for m, t, how, la, le in standin_ram_rows(view, sm):
        var = "frozen" if how.endswith("(frozen)") or how.startswith("frozen") else "mpy"
        aa = view.v(section="agree", target=t, model=m, impl="microlearn_i16", variant=var,
                    metric="agree")
        ae = view.v(section="agree", target=t, model=m, impl="emlearn_standin", metric="agree")
        n = view.v(section="agree", target=t, model=m, impl="emlearn_standin", metric="n")
        ratio = f"{la / le:.2f}" if la is not None and le else "–"
        L.append(f"| `{m}` | {t} | {how} | {_kb(la)} | {_kb(le)} | {ratio} | "
                 + (f"{aa}/{n} | {ae}/{n} |" if n else "– | – |"))
    L += [""] + standin_ram_summary(view, sm)
    fl = {r["target"]: r["value"] for r in view.res.find(section="flash",
                                                         impl="emlearn_standin", variant="mpy")}
    ml = {r["target"]: r["value"] for r in view.res.find(section="flash", impl="microlearn",
                                                         metric="bytes")}
    L += ["", "Flash: " + ", ".join(f"{a}: trees.mpy {_kb(ml.get(a))}, emlearn_standin.mpy "
                                     f"{_kb(v)}" for a, v in sorted(fl.items())) + ". Model "
          "files: " + ", ".join(
              f"`{m}` {_kb(view.v(section='flash', model=m, impl='model_file', variant='bin'))} "
              f"binary, {_kb(view.v(section='flash', model=m, impl='emlearn_standin', variant='csv'))} "
              "emlearn CSV" for m in sorted({r[0] for r in rows}, key=models.index)) + ".", "",
          "Used in place (from the boards' ROMFS image, or frozen into the unix port's "
          "firmware), microlearn's load is the model object and the workspace only; read from a "
          "file it is also the binary model, copied into the heap. A native module's machine "
          "code is copied "
          "into RAM when imported (the import column of [RAM](#ram)); microlearn's module reads "
          "both model forms and every scikit-learn tree ensemble, so its code is larger.", "",
          "Where a ratio is above 1, the difference is the work exactness takes. Each of the "
          "stand-in's trees votes: it adds 1 to its leaf's majority class, one operation per "
          "tree whatever the leaf. microlearn adds each leaf's class probabilities, as "
          "scikit-learn averages them: a pure leaf (one class) is one addition too, but an "
          "impure leaf is one exact integer addition per class present in it: on x64 about five "
          "instructions each in a leaf span (a class byte and its 32-bit value, the encoding "
          "the converter picks for small forests), about nine for a pair of bytes (class, "
          "index of a distinct value: `digits_rf`, where spans would cost too much memory), "
          "about eighteen for a packed sparse entry and a call per such leaf (what the converter "
          "keeps where neither fits; "
          "`large_rf`'s leaves are all pure; the instructions of each entry loop in "
          "docs/model-format.md, from `objdump -d`). A single decision "
          "tree, such as the stump, reads the first class of its leaf's entries, where the "
          "converter puts the largest: no sums at all. Forests of "
          "shallow trees (`small_rf`) end mostly in impure leaves with several classes "
          "each, so that part costs a few times the stand-in's vote; it is also why they agree "
          "with scikit-learn and the stand-in does not (agreement table above). The stand-in "
          "counts its votes in floats and divides each class's count by the number of trees: "
          "library calls on the boards, a few instructions with x64's FPU, which is why x64 is "
          "where the stand-in comes closest, most on `small_rf` (the stand-in's 5 votes "
          f"against microlearn's 5 leaves{small_leaves}). Class fractions that "
          "need 32 bits (`small_rf`'s are multiples of 2^-32) are stored as uint32 units, "
          "added as they are (fixed values 3 in docs/model-format.md) into 64-bit sums: "
          "on the Cortex-M3 11 instructions per span entry, against 7 for a 32-bit sum of its "
          "upper halfword (the entry loops of forest_span_i16 and forest_span32_i16 in "
          "`objdump -d` of build/natmod/obj/armv7m/trees, after `make modules-all`). So on "
          "32-bit processors `predict` of a forest of spans adds each value's upper 16 bits "
          "(one halfword load) into 32-bit sums, which fall short of the exact ones by less "
          "than one of their units (2^-16 for `small_rf`) per tree: a class that leads the "
          "others by at least that much is scikit-learn's; otherwise (a near tie) the exact "
          "sums decide "
          "(\"32-bit sums of spans\" in docs/model-format.md). "
          "Loaded from a file, the small forests' binary model holds the leaf values (the "
          "distinct class fractions, the largest part of `small_rf`'s file) that voting drops; "
          "used in place only the model object takes RAM (the sums of a prediction are on the "
          "C stack, up to 32 classes)" + stump_note(view) + ".", "",
          "The x64 counts are the difference between a script with K predictions and the same "
          "script with an empty loop; the two differ by a variable only, so both compile the "
          "same loops and the difference is the predictions alone.", ""]
    return L


def compared_section(view, ws, models):
    L = ["## What is compared", "",
         "Every implementation runs on the same MicroPython build, with the same fitted "
         "scikit-learn estimator and the same test samples (float32 `array('f')`).", "",
         "| implementation | what the user deploys | one inference |",
         "| --- | --- | --- |",
         "| microlearn `predict` | `trees.mpy` (native module) + the binary model file "
         "(`save(file='model.bin')`): on the boards in their ROMFS image, used in place; on "
         "the unix port read from a file (copied into the heap), and for the RAM rows "
         "*in place (frozen)* frozen into the unix port as a module "
         "(`save(file='model_x.py')`, `trees.load(model_x.MODEL)`), used in place | "
         "`model.predict(x)` |",
         f"| microlearn `predict_many` | same | `model.predict_many(X, out)` on {32} samples, "
         "cost per sample |",
         "| microlearn_i16 | same | `model.predict(x)`, x an `array('h')` of the same samples "
         "(the digits are integers: exact) |",
         f"| microlearn_many_i16 | same | `model.predict_many(X, out)` on {32} of those int16 "
         "samples, cost per sample |",
         "| native floor | `noop(x)` of `emlearn_standin.mpy` | a native function taking the "
         "array and returning a small int: what calling a native function costs |",
         f"| emlearn stand-in (emlearn {trees_gen.emlearn_version() or '?'}) | "
         "`emlearn_standin.mpy`: a native module built here from emlearn's published C tree "
         "evaluator (`eml_trees.h`), loading emlearn's tree CSV (from a file, parsed into "
         "heap arrays) the way emlearn-micropython does; not emlearn-micropython's own "
         "module, which is not on PyPI | "
         "`model.predict(x, out)`, x an `array('h')`: per-class votes into `out`, no argmax "
         "(the caller's) |",
         "| plain Python (`device/mltrees_py.py`) | `mltrees_py.mpy` + the same model file | "
         "`model.predict(x)`: the model in typed arrays, walked in Python |",
         f"| m2cgen {trees_gen.m2cgen_version() or '(not installed)'} | the generated module "
         "(.mpy) | `score(x)`, then the index of the largest score |",
         f"| everywhereml {trees_gen.everywhereml_version() or '(not installed)'} | the "
         "generated module (.mpy) | `RandomForestClassifier().predict(x)` |",
         "", "Models (scikit-learn's digits: 64 features, 10 classes; 1347 training and 450 "
         "test samples. `gesture_rf`: the features `microlearn har` computes on the shipped "
         "accelerometer recordings, trained on all but the last recording of each gesture and "
         "tested on the windows of those, as in `make demo`):", "",
         "| model | estimator | trees | decision nodes | depth | model RAM: text file | "
         "binary file | binary in place |",
         "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n in models + [n for n, b in ws.built.items() if b.spec.group == "overhead"]:
        b = ws.built[n]
        L.append(f"| `{n}` | {b.spec.title} | {b.n_trees} | {b.n_nodes} | {b.depth or '–'} | "
                 f"{_kb(b.model_memory_text)} | {_kb(b.model_memory)} | "
                 f"{_kb(b.model_memory_in_place)} |")
    L += ["", "Model RAM is `model.memory` (docs/model-format.md): the text form loaded into one "
          "block; the binary form read from a file into a block of its size, plus the sums of a "
          "prediction (8 bytes per output) past 32 outputs (up to 32 they are on the C stack); "
          "in place only those sums (besides the model object, 80 bytes on 32-bit ports and 128 "
          "on x64, in one heap block)."]
    L.append("")
    return L


def agreement_section(view, models):
    L = ["## Predictions", "",
         "Labels identical to scikit-learn's on the whole test split (checked before anything "
         "is timed). microlearn and mltrees_py also give scikit-learn's probabilities "
         "(tests/device/test_trees_fidelity.py, tests/device/test_mltrees_py.py).", ""]
    tg = [t for t in ("unix", "cortex-m3", "cortex-m0") if t in view.targets()]
    L += ["| model | implementation | " + " | ".join(tg) + " |",
          "| --- | --- | " + " | ".join("---:" for _ in tg) + " |"]
    notes = {}
    for m in models:
        for impl in MICRO + ALT:
            cells = []
            for t in tg:
                a = view.v(section="agree", target=t, model=m, impl=impl, variant="mpy",
                           metric="agree")
                n = view.v(section="agree", target=t, model=m, impl=impl, variant="mpy",
                           metric="n")
                fits, why = view.fits(t, m, impl, "mpy")
                if a is not None:
                    cells.append(f"{a}/{n}" if a == n else f"**{a}/{n}**")
                elif fits == 0:
                    cells.append("does not fit")
                else:
                    cells.append("–")
            if all(c == "–" for c in cells):
                why = view.unsupported(m, impl)
                if why:
                    notes.setdefault(why, []).append(f"`{m}`")
                continue
            L.append(f"| `{m}` | {impl} | " + " | ".join(cells) + " |")
    L.append("")
    for impl in ("emlearn_standin", "m2cgen", "everywhereml"):
        differs = [(r["target"], r["model"]) for r in view.res.find(section="agree", impl=impl,
                                                                    metric="agree")
                   if r["note"] != f"of {r['value']}"]
        note = next((b.gen[impl].disagree_note for b in view.ws.built.values()
                     if impl in b.gen and b.gen[impl].disagree_note), "")
        if differs and note:
            L.append(f"- {impl} differs from scikit-learn on "
                     f"{', '.join(sorted({'`' + m + '`' for _, m in differs}))}: {note}.")
    for why, ms in notes.items():
        L.append(f"- Not exported ({', '.join(ms)}): {why}.")
    L.append("")
    return L


def time_section(view, models, made):
    L = ["## Time per inference", "",
         "![cost relative to microlearn](benchmarks-compare.png)", "",
         f"Plot: {made}.", "",
         "Cost of one inference with the loop's own overhead removed; as a multiple of a "
         "builtin call `len(x)` timed in the same run (also loop overhead removed); and as a "
         "multiple of microlearn's `predict` on the same target.", ""]
    for t in view.targets():
        unit = UNIT_TITLES.get(view.unit(t), view.unit(t))
        each = " (the least over the runs; each ratio uses its own run's)"
        L += [f"### {TARGET_TITLES[t]}", "",
              f"A builtin call `len(x)` costs {_n(view.builtin(t))} {unit}"
              + (each if t != "x64-callgrind" else "") + ".", "",
              f"| model | implementation | {unit} per inference | × builtin call | "
              "× microlearn predict |", "| --- | --- | ---: | ---: | ---: |"]
        for m in models:
            for impl in MICRO + ALT:
                c = view.cost(t, m, impl)
                if c is None:
                    fits, why = view.fits(t, m, impl, "mpy")
                    if fits == 0:
                        L.append(f"| `{m}` | {impl} | does not fit: {why} | | |")
                    continue
                bb = view.builtin(t, m) if t != "x64-callgrind" else view.builtin(t)
                r = view.rel(t, m, impl)
                L.append(f"| `{m}` | {impl} | {_n(c)} | {_x(c / bb) if bb else '–'} | "
                         f"{'' if impl == 'microlearn' else _x(r)} |")
        L.append("")
    return L


def startup_section(view, models):
    """Import and load times: compiling a .py on the device, parsing the model file."""
    tg = [t for t in ("unix", "cortex-m3", "cortex-m0") if t in view.targets()]
    if not tg:
        return []
    L = ["## Start-up: import and load", "",
         "Time of the import (a `.py` is compiled by the device; a `.mpy` is only loaded) and "
         "of the load (microlearn and mltrees_py parse the model file; the generated modules "
         "create their classifier object). unix in µs, the boards in instructions (at about "
         "one instruction per cycle, 64 M instructions take about a second on a 64 MHz "
         "Cortex-M3).", "",
         "| model | implementation | deployed as | " + " | ".join(
             f"{t} import | {t} load" for t in tg) + " |",
         "| --- | --- | --- | " + " | ".join("---: | ---:" for _ in tg) + " |"]
    for m in models:
        for impl in ("microlearn",) + ALT:
            for var in ("mpy", "frozen", "fs", "py"):
                cells = []
                for t in tg:
                    fits, why = view.fits(t, m, impl, var)
                    if fits == 0:
                        cells += ["does not fit", ""]
                        continue
                    i = view.v(section="ram", target=t, model=m, impl=impl, variant=var,
                               metric="import_cost")
                    lo = view.v(section="ram", target=t, model=m, impl=impl, variant=var,
                                metric="load_cost")
                    cells += [_n(i), _n(lo)]
                if all(c in ("–", "") for c in cells):
                    continue
                what = (VARIANT_TITLES[var] if impl not in ("microlearn", "emlearn_standin")
                        else "native .mpy, model frozen in (unix)" if var == "frozen"
                        else "native .mpy")
                L.append(f"| `{m}` | {impl} | {what} | " + " | ".join(cells) + " |")
    L.append("")
    return L


def ram_section(view, models):
    L = ["## RAM", "",
         "Heap growth (`gc.mem_alloc()` after `gc.collect()`) of the import and of the "
         "load/instantiation; *allocates* is the garbage one prediction leaves "
         "(a MicroPython float is a heap object: Python code that computes with floats "
         "allocates on every operation). Smallest heap: the smallest `-X heapsize` of the "
         "unix port at which import + load + one prediction succeed, found by bisection, "
         "minus what the same script needs without them: the peak, with the compiler's and "
         "the loader's transient needs. x64 objects are twice the size of 32-bit ones.", "",
         "On the emulated boards (256 kB heap on the Cortex-M3, 216 kB on the Cortex-M0): a `.mpy` in the board's ROMFS is imported in "
         "place (its bytecode stays in flash; MicroPython 1.25); from a filesystem such as "
         "littlefs or FAT it is copied into RAM (measured by importing a copy the board wrote "
         "itself). A `.py` is compiled by the board on import. The native module's machine "
         "code is always copied into the heap.", "",
         "On the unix port (x64) microlearn reads its binary model from a file (copied into "
         "the heap) or, in the rows *frozen into the unix firmware*, uses it in place: the "
         "benchmark builds the port with every model frozen in as a module holding it as a "
         "bytes constant (`model.save(file='model_x.py')`, a manifest of "
         "`module('model_x.py')` lines; docs/model-format.md), and runs "
         "`import model_x; m = trees.load(model_x.MODEL)`. The import column then includes "
         "the frozen module's object and globals.", ""]
    tg = [t for t in ("cortex-m3", "cortex-m0") if t in view.targets()]
    head = ["model", "implementation", "deployed as", "x64 import + load", "x64 smallest heap",
            "x64 allocates"]
    for t in tg:
        head += [f"{t} import", f"{t} load", f"{t} allocates"]
    L += ["| " + " | ".join(head) + " |", "| --- | --- | --- | " + " | ".join(
        "---:" for _ in head[3:]) + " |"]
    for m in models:
        for impl in ("microlearn",) + ALT:
            for var in ("mpy", "frozen", "fs", "py"):
                have = [r for r in view.res.find(section="ram", model=m, impl=impl, variant=var)]
                if not have:
                    continue

                def g(t, metric):
                    return view.v(section="ram", target=t, model=m, impl=impl, variant=var,
                                  metric=metric)

                ui, ul = g("unix", "import_bytes"), g("unix", "load_bytes")
                ufits, uwhy = view.fits("unix", m, impl, var)
                how = (DEPLOYED_FROZEN if var == "frozen" else
                       DEPLOYED.get(impl, VARIANT_TITLES[var]))
                if var == "frozen" and "copied" in view.how_loaded("unix", m, impl, var):
                    how += "; copied: not 4-byte aligned"
                row = [f"`{m}`", impl, how,
                       _kb(ui + ul) if ui is not None and ul is not None else
                       (f"does not fit the default 2 MB heap: {uwhy}" if ufits == 0 else "–"),
                       _kb(g("unix", "min_heap")), _kb(g("unix", "alloc_per_call"))]
                if var == "fs":
                    row[3:6] = ["(as .mpy)", "", ""]
                for t in tg:
                    fits, why = view.fits(t, m, impl, var)
                    if fits == 0:
                        row += [f"does not fit: {why}", "", ""]
                    elif fits is None:
                        row += ["–", "–", "–"]
                    else:
                        row += [_kb(g(t, "import_bytes")), _kb(g(t, "load_bytes")),
                                _kb(g(t, "alloc_per_call"))]
                L.append("| " + " | ".join(row) + " |")
    L.append("")
    return L


def flash_section(view, ws, models):
    L = ["## Flash", "", "microlearn's native module, once for every model (`make modules-all`"
         "; what `make dist` ships):", "",
         "| architecture | trees.mpy |", "| --- | ---: |"]
    for r in view.res.find(section="flash", impl="microlearn", metric="bytes"):
        L.append(f"| {r['target']} | {_kb(r['value'])} |")
    mp = view.v(section="flash", impl="mltrees_py", variant="py", metric="bytes")
    mm = view.v(section="flash", impl="mltrees_py", variant="mpy", metric="bytes")
    L += ["", f"The plain-Python interpreter: mltrees_py.py {_kb(mp)}, compiled {_kb(mm)}.", "",
          "Per model (a `.mpy` of bytecode is the same for every architecture):", "",
          "| model | microlearn text file | microlearn binary file | emlearn CSV | m2cgen .py | "
          "m2cgen .mpy | everywhereml .py | everywhereml .mpy |",
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    notes = []
    for m in models:
        def f(impl, var):
            return view.v(section="flash", model=m, impl=impl, variant=var, metric="bytes")

        L.append(f"| `{m}` | {_kb(f('model_file', 'csv'))} | {_kb(f('model_file', 'bin'))} | "
                 f"{_kb(f('emlearn_standin', 'csv'))} | {_kb(f('m2cgen', 'py'))} | "
                 f"{_kb(f('m2cgen', 'mpy'))} | {_kb(f('everywhereml', 'py'))} | "
                 f"{_kb(f('everywhereml', 'mpy'))} |")
        for r in view.res.find(section="flash", model=m, variant="mpy", metric="bytes"):
            if r["note"]:
                notes.append(f"- `{m}`, {r['impl']}: {r['note']}.")
    L += [""] + notes + [""]
    return L


def scaling_section(view, made):
    built = view.ws.built
    L = ["## Scaling", "", "![scaling](benchmarks-scaling.png)", "", f"Plot: {made}.", "",
         "RandomForest on digits: 1 to 50 trees at max_depth=6, and max_depth 1 to 12 with 10 "
         "trees. Top: cost per inference in builtin calls (solid: x64 callgrind, dashed: "
         "Cortex-M3). Bottom: RAM.", ""]
    for group, label in (("scaling-trees", "trees"), ("scaling-depth", "max_depth")):
        names = [n for n, b in built.items() if b.spec.group == group]
        if not names:
            continue
        for t in [t for t in ("x64-callgrind", "cortex-m3", "unix") if t in view.targets()][:2]:
            unit = UNIT_TITLES.get(view.unit(t), view.unit(t))
            L += [f"{label}, {t} ({unit} per inference; ratio to microlearn):", "",
                  f"| {label} | nodes | microlearn | mltrees_py | m2cgen | x64 RAM microlearn "
                  "| x64 RAM mltrees_py | x64 RAM m2cgen |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
            for n in names:
                b = built[n]
                xv = b.n_trees if group == "scaling-trees" else n[len("depth"):]
                cells = []
                for impl in ("microlearn", "mltrees_py", "m2cgen"):
                    c = view.cost(t, n, impl)
                    r = view.rel(t, n, impl)
                    if c is None:
                        fits, why = view.fits(t, n, impl, "mpy")
                        cells.append(f"does not fit ({why.split(':')[0]})" if fits == 0
                                     else "–")
                        continue
                    cells.append(_n(c) + (f" ({_x(r)})" if impl != "microlearn" and r
                                          else ""))
                for impl in ("microlearn", "mltrees_py", "m2cgen"):
                    i = view.v(section="ram", target="unix", model=n, impl=impl, variant="mpy",
                               metric="import_bytes")
                    lo = view.v(section="ram", target="unix", model=n, impl=impl, variant="mpy",
                                metric="load_bytes")
                    cells.append(_kb(i + lo) if i is not None and lo is not None else "–")
                L.append(f"| {xv} | {b.n_nodes} | " + " | ".join(cells) + " |")
            L.append("")
    L += scaling_summary(view)
    return L


def scaling_summary(view):
    built = view.ws.built
    out = []
    for group, what in (("scaling-trees", "trees"), ("scaling-depth", "max_depth")):
        ser = sorted(((b.n_trees if group == "scaling-trees" else int(n[len("depth"):])), n)
                     for n, b in built.items() if b.spec.group == group)
        if len(ser) < 2:
            continue
        (x0, a), (x1, z) = ser[0], ser[-1]
        for t in ("x64-callgrind", "cortex-m3"):
            if t not in view.targets():
                continue
            parts = []
            for impl in ("microlearn", "mltrees_py", "m2cgen"):
                ca, cz = view.cost(t, a, impl), view.cost(t, z, impl)
                if ca and cz:
                    s = f"{impl} ×{cz / ca:.1f}"
                    ra, rz = view.rel(t, a, impl), view.rel(t, z, impl)
                    if impl != "microlearn" and ra and rz:
                        s += f" (from {_x(ra)} to {_x(rz)} microlearn's)"
                    parts.append(s)
            if parts:
                out.append(f"- {what} {x0} → {x1}, {t}: cost " + ", ".join(parts) + ".")
    if out:
        out.append("")
    return out


def per_class(view, t, impl="microlearn"):
    """What one more output class costs per call: (stump, 10 classes) - (stump2, 2 classes),
    over 8."""
    a, b = view.cost(t, "stump", impl), view.cost(t, "stump2", impl)
    return (a - b) / 8 if a and b else None


def overhead_section(view, models, ov):
    L = ["## Where the cost is", ""]
    if "stump" not in ov:
        return L
    L += ["`stump` is one tree of depth 1 on the 64 digits features and 10 classes: a "
          "prediction is the call, the argument checks, the conversion of the 64 features into "
          "comparison keys (which also rejects NaN), one comparison, then per class the leaf's "
          "value added to a sum (zeros skipped) and the argmax of the sums (the forest's "
          "mean is divided out only for `predict_proba` and to settle near ties). "
          "`stump2` is the same on 2 classes (the digits 0 and 1). Per target, in its unit:", "",
          "| target | builtin `len(x)` | `stump` predict | `stump` predict_many per sample | "
          "the Python call of predict | one more class | "
          + " | ".join(f"`{m}` predict (stump share)" for m in models) + " |",
          "| --- | ---: | ---: | ---: | ---: | ---: | "
          + " | ".join("---:" for _ in models) + " |"]
    for t in view.targets():
        b = view.builtin(t, "stump") if t != "x64-callgrind" else view.builtin(t)
        sp = view.cost(t, "stump", "microlearn")
        sm = view.cost(t, "stump", "microlearn_many")
        pc = per_class(view, t)
        cells = [_n(b), f"{_n(sp)} ({_x(sp / b) if sp and b else '–'})", _n(sm),
                 _n(sp - sm) if sp and sm else "–",
                 "≈ 0 (below the noise)" if pc is not None and pc <= 0 else _n(pc)]
        for m in models:
            c = view.cost(t, m, "microlearn")
            cells.append(f"{_n(c)} ({100 * sp / c:.0f}%)" if c and sp else "–")
        L.append(f"| {t} | " + " | ".join(cells) + " |")
    L.append("")
    for t in ("x64-callgrind", "cortex-m3", "cortex-m0"):
        if t not in view.targets():
            continue
        b = view.builtin(t)
        sp = view.cost(t, "stump", "microlearn")
        sm = view.cost(t, "stump", "microlearn_many")
        pc = per_class(view, t)
        if not (sp and sm and b):
            continue
        saves = []
        for m in models:
            p, q = view.cost(t, m, "microlearn"), view.cost(t, m, "microlearn_many")
            if p and q:
                saves.append(f"`{m}` {100 * (p - q) / p:.0f}%")
        unit = UNIT_TITLES[view.unit(t)]
        s = (f"- {t}: calling `predict` from Python (arguments, buffer, result) costs "
             f"{_n(sp - sm)} {unit}, {_x((sp - sm) / b)} a builtin call: what `predict_many` "
             f"saves per sample ({', '.join(saves)}).")
        if pc and pc > 0:
            s += (f" Each class costs {_n(pc)} {unit} per call, so the 10 classes are "
                  f"{100 * 10 * pc / sp:.0f}% of the stump's cost.")
        L.append(s)
    L += [""] + decomposition(view, models)
    return L


def anatomy(view, t, impl):
    """From the synthetic models: {fixed, node, tree, zeros} per inference on target t, or
    None. node: one more node walked; tree: one more tree, beyond its node (the step and the
    addition of its leaf's 10 values); zeros: what a tree saves when 9 of its leaf's values are
    zero; fixed: the rest, the cost with no tree at all (the call, the input check, the
    per-class end work)."""
    c = {n: view.cost(t, n, impl) for n in ("chain1", "chain64", "forest64", "forest64_pure")}
    if not all(c.values()):
        return None
    node = (c["chain64"] - c["chain1"]) / 63
    tree = (c["forest64"] - c["chain1"]) / 63 - node
    return {"node": node, "tree": tree, "fixed": c["chain1"] - tree - node,
            "zeros": (c["forest64"] - c["forest64_pure"]) / 64}


def decomposition(view, models):
    L = ["### Fixed cost, per tree, per node", "",
         "Measured on model files written for the purpose (no training; the digits inputs): "
         "`chain1` and `chain64`, one tree whose 1 or 64 nodes every sample walks to the "
         "end; `forest64`, 64 trees of one node; `forest64_pure`, the same with a pure leaf "
         "(one 1 and nine zeros instead of ten non-zero values). One more node is "
         "(chain64 − chain1) / 63; one more tree, beyond its node, (forest64 − chain1) / 63 "
         "− a node: the step to the tree and the addition of its leaf's 10 class values; the "
         "fixed part is what remains of chain1: the call, the conversion of the 64 inputs, "
         "the per-class work at the end.", "",
         "| target | implementation | fixed | per tree | per node walked | a pure leaf "
         "saves per tree | one more class |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    found = {}
    for t in ("x64-callgrind", "cortex-m3", "cortex-m0", "unix"):
        if t not in view.targets():
            continue
        unit = UNIT_TITLES.get(view.unit(t), view.unit(t))
        for impl in ("microlearn", "microlearn_many", "mltrees_py"):
            a = anatomy(view, t, impl)
            if a is None:
                continue
            found[(t, impl)] = a
            pc = per_class(view, t, impl)
            L.append(f"| {t} | {impl} | {_n(a['fixed'])} {unit} | {_n(a['tree'])} | "
                     f"{_n(a['node'])} | {_n(a['zeros'])} | "
                     f"{'≈ 0' if pc is not None and pc <= 0 else _n(pc)} |")
    L.append("")
    for t in ("x64-callgrind", "cortex-m3", "cortex-m0"):
        a, py = found.get((t, "microlearn")), found.get((t, "mltrees_py"))
        if a and py and a["node"] > 0 and a["tree"] > 0:
            L.append(f"- {t}: plain Python pays {_x(py['node'] / a['node'])} what microlearn "
                     f"pays per node walked, {_x(py['tree'] / a['tree'])} per tree, "
                     f"{_x(py['fixed'] / a['fixed'])} per call.")
    for m in models:
        b = view.ws.built[m]
        if not b.visits or b.spec.dataset != "digits" or b.spec.group != "main" or \
                "RandomForest" not in type(b.estimator).__name__:
            continue
        rows = []
        for (t, impl), a in found.items():
            if impl != "microlearn" or t == "unix":
                continue
            parts = {"fixed": a["fixed"], "trees": a["tree"] * b.n_trees,
                     "nodes": a["node"] * b.visits}
            tot = sum(parts.values())
            meas = view.cost(t, m, impl)
            rows.append(f"{t} " + ", ".join(f"{k} {100 * v / tot:.0f}%"
                                            for k, v in parts.items())
                        + (f" (adding up to {_n(tot)}; measured {_n(meas)})" if meas else ""))
        if rows:
            L.append(f"- `{m}` ({b.n_trees} trees, {b.visits:.0f} nodes walked per inference), "
                     "microlearn: " + "; ".join(rows) + ".")
    L += ["", "The sums are those of every tree, each with the synthetic mixed leaf. The "
          "measured costs are lower: a forest's `predict` stops once a class holds a majority "
          "of the vote (how many trees that takes: [the stand-in section](#side-by-side-with-"
          "emlearn-a-stand-in-built-from-its-c-code)), and pure leaves, as deep trees have, "
          "are cheaper to add than the synthetic mixed leaf, most on the soft-float boards."]
    L += ["", "What the binary form changed (issue 13): a node is one 32-bit record (one load); "
          "int16 samples are compared with int16 thresholds without any conversion; a forest's "
          "leaf values add as exact int64 units (the same sums as scikit-learn's double "
          "additions, bit for bit) instead of soft-float double additions; a pure leaf is a "
          "class index with nothing to look up. What remains is mostly the walk itself (a few "
          "instructions a node), the Python call, and, for float32 samples, the conversion of "
          "every feature into a comparison key (which also rejects NaN). Models whose sums are "
          "not exact in 53 bits (boosting, with its float64 baseline) still add doubles. For "
          "small models, batching with `predict_many` removes the Python call. In plain "
          "Python every node is several interpreted steps and float allocations.", ""]
    return L


def repeat_section(view):
    rows = [r for r in view.res.rows if r["section"] == "repeat"]
    if not rows:
        return []
    L = ["## Repeatability on the emulated boards", "",
         "qemu runs with `-icount shift=0`: every instruction advances the virtual clock by "
         "1 ns, and mlclock reads the board's hardware timer (MPS2-AN385: CMSDK timer at "
         "25 MHz, a tick every 40 instructions; nRF51: TIMER0 at 16 MHz, a tick every 62.5 "
         "instructions), so a count is instructions executed, to within one tick per "
         "reading. It is not a cycle count: a real Cortex-M3 takes more than one cycle for "
         "loads, branches and multiplies, and flash wait states add more. The same "
         "measurement in two separate boots of the board:", "",
         "| target | model | implementation | boot 1 (ticks) | boot 2 (ticks) | calls | "
         "difference |", "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    keys = sorted({(r["target"], r["model"], r["impl"]) for r in rows})
    for t, m, i in keys:
        a = view.v(section="repeat", target=t, model=m, impl=i, metric="boot1_ticks")
        b = view.v(section="repeat", target=t, model=m, impl=i, metric="boot2_ticks")
        note = [r["note"] for r in rows if r["target"] == t and r["model"] == m][0]
        if a is None or b is None:
            continue
        L.append(f"| {t} | `{m}` | {i} | {a:,} | {b:,} | {note.split()[0]} | "
                 f"{abs(a - b)} ticks |")
    L.append("")
    return L


def limits_section(view, ws, models):
    L = ["## What could not be measured, and why", ""]
    seen = set()
    for m in models:
        for impl in ("m2cgen", "everywhereml"):
            why = view.unsupported(m, impl)
            if why and why not in seen:
                seen.add(why)
                L.append(f"- {impl} on `{m}`" + (" (and the others of its kind)" if m !=
                                                 models[-1] else "") + f": {why}.")
    for r in view.res.rows:
        if r["section"] == "ram" and r["metric"] == "fits" and r["value"] == 0 and \
                r["note"].startswith("not run"):
            L.append(f"- {r['target']}, `{r['model']}`, {r['impl']} "
                     f"{VARIANT_TITLES[r['variant']]}: {r['note']}.")
    L += [
        "- The emulated boards run the code, not the timing of a real chip: counts are "
        "instructions, not cycles (no wait states, no pipeline effects). Ratios between "
        "implementations on the same board carry over; microseconds on a given board do not.",
        "- The Cortex-M0 board is qemu's micro:bit with its RAM enlarged (a real nRF51 has "
        "16 kB, where none of these models fit with MicroPython); its heap is 216 kB, the "
        "Cortex-M3's 256 kB.",
        "- On the unix port the native module's machine code is not on the MicroPython heap "
        "(it is mapped executable memory), so x64 import figures of microlearn leave it out; "
        "the emulated boards include it.",
        "- everywhereml's module imports `ticks_us`/`ticks_diff` from `time`, which the qemu "
        "port lacks: the emulated boards get a `time.py` binding both to builtins of the same "
        "arity (trees_gen.everywhereml_time_shim), close to what a board's native functions "
        "cost. Its export needs pandas only for an import it does not use: the benchmark "
        "installs it without pandas (requirements-bench.txt) and stands in an empty module.",
        "",
    ]
    return L


def method_section():
    return [
        "## How it is measured", "",
        "- Every timed call cycles through the first 32 test samples (views into one "
        "buffer), and the cost of the same loop without the call is subtracted; "
        "`predict_many` gets the same 32 samples in one call. The builtin call is `len(x)`, "
        "ten to a loop iteration, the loop's cost subtracted.",
        "- Unix port: `mlclock` (µs); the number of calls grows ×4 until a run lasts 10 ms, "
        "best of 5 runs. Code that allocates is timed over at least three garbage collections "
        "of the 2 MB heap (steady state, collections included).",
        "- Emulated boards: the same script, one board boot per implementation and model (a "
        "clean heap each time), runs of at least 25,000 timer ticks and, for code that "
        "allocates, at least three collections of the board's heap.",
        "- x64 callgrind: `valgrind --tool=callgrind` on "
        "`build/micropython/ports/unix/build-standard/micropython` (MICROPYPATH: "
        "`build/natmod/x64`, `build/device-mpy`, the folder of the generated modules), "
        "addresses fixed with `setarch -R`: Ir of a script doing the import, the load and K "
        "predictions minus the same script without the predictions, over K. Each prediction "
        "follows a `gc.collect()` (in the baseline too): the count is that of a prediction "
        "on a clean heap, without the collections and without the allocator's scan past "
        "uncollected garbage, which makes allocating code slower as the heap fills. It is "
        "a lower bound for the Python implementations, exact for microlearn, which "
        "allocates nothing.",
        "- Predictions: every test sample through the implementation as the user calls it, "
        "compared with scikit-learn's `predict` on the same float32 samples.",
        "- RAM: `gc.mem_alloc()` after `gc.collect()`, before and after the import, and after "
        "the load; the unix port's smallest heap by bisection on `-X heapsize` (256 B "
        "resolution).",
        "- Flash: file sizes; `.mpy` files from `build/micropython/mpy-cross/build/mpy-cross`.",
        "",
    ]
