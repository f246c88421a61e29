"""The `microlearn` command line.

    microlearn convert model.pkl -o model.csv        # a pickled/joblib scikit-learn estimator
    microlearn convert model.pkl -o model.bin        # the binary form (usable in place)
    microlearn convert model.tflite -o model.bin     # a TensorFlow Lite network
    microlearn romfs models/ -o models.romfs         # a ROMFS image for `mpremote romfs deploy`
    microlearn verify model.pkl X.npy --target cortex-m3   # --format csv: the text form
    microlearn verify model.tflite X.npy --target cortex-m3
    microlearn run --target cortex-m0 --file model.bin script.py
"""

import argparse
import sys
from pathlib import Path


def _load_estimator(path):
    import joblib

    try:
        return joblib.load(path)
    except Exception as e:
        raise SystemExit(f"microlearn: cannot read an estimator from {path}: {e}")


def _fail(command, message):
    """A command that cannot do its job says why in one line (no traceback), status 2."""
    print(f"microlearn {command}: {message}", file=sys.stderr)
    return 2


def _os_error(e):
    return f"{e.filename}: {e.strerror}" if e.filename else str(e)


def cmd_run(args):
    from . import targets

    try:
        target = targets.get(args.target)
        script = Path(args.script).read_text()
    except targets.TargetError as e:
        return _fail("run", e)
    except OSError as e:
        return _fail("run", f"cannot read the script: {_os_error(e)}")
    try:
        result = target.run(script, files=args.file, timeout=args.timeout,
                            stream=lambda s: (sys.stdout.write(s), sys.stdout.flush()))
    except targets.TargetError as e:
        print(f"microlearn run: {e}", file=sys.stderr)
        return 2
    return 0 if result.ok else 1


def _is_tflite(path):
    return str(path).endswith(".tflite")


def _is_network(model):
    from .nn import NNModel

    return isinstance(model, NNModel)


def cmd_convert_nn(args, model=None):
    from .nn import ConversionError, convert_tflite

    try:
        model = model or convert_tflite(args.model)
    except (ConversionError, OSError) as e:
        print(f"microlearn convert: {e}", file=sys.stderr)
        return 2
    fmt = args.format or ("c" if args.output.endswith((".h", ".c")) else "bin")
    if fmt == "csv":
        return _fail("convert", "a network is written as a binary model file or a C header "
                                "(.h), not csv")
    try:
        model.save(file=args.output, name=args.name, format=fmt)
    except OSError as e:
        return _fail("convert", f"cannot write the model: {_os_error(e)}")
    except ValueError as e:
        return _fail("convert", e)
    print(model.summary())
    print(f"{args.output}: {Path(args.output).stat().st_size} bytes of file, "
          f"{model.memory_size()} bytes of RAM with the file in place "
          f"({model.memory_size(in_place=False)} loaded from a file)")
    return 0


def cmd_convert(args):
    from . import convert
    from .trees import ConversionError

    if _is_tflite(args.model):
        return cmd_convert_nn(args)
    est = _load_estimator(args.model)
    try:
        model = convert(est)
    except ConversionError as e:
        print(f"microlearn convert: {e}", file=sys.stderr)
        return 2
    if _is_network(model):  # an MLP: a float32 network for microlearn.nn
        return cmd_convert_nn(args, model)
    binary = hasattr(model, "to_bytes")  # the scikit-learn families' binary model file
    # trees: .csv (text), .bin (binary), .py (binary as a bytes constant), .h (C header)
    fmt = args.format or ("c" if args.output.endswith((".h", ".c")) else
                          "bin" if binary else None)
    if binary and fmt in ("csv", "py"):
        return _fail("convert", f"{model.name} is written as a binary model file or a C "
                                f"header (.h), not {fmt}")
    try:
        model.save(file=args.output, name=args.name, format=fmt)
    except ConversionError as e:
        return _fail("convert", e)
    except OSError as e:
        return _fail("convert", f"cannot write the model: {_os_error(e)}")
    size = Path(args.output).stat().st_size
    if binary:
        print(f"{args.output}: {model.describe()}, {size} bytes of file, "
              f"{model.memory_size()} bytes of RAM when loaded from a file "
              f"({model.work_size()} when used in place); load it with "
              f"microlearn.{model.module}.load")
        return 0
    suffix = Path(args.output).suffix.lower()
    tree_bin = (fmt or model.FORMATS.get(suffix, "csv")) in ("bin", "py")
    ram = (f"{model.memory_size('bin')} bytes of RAM when loaded from a file, "
           f"{model.memory_size('bin', in_place=True)} in place" if tree_bin
           else f"{model.memory_size()} bytes of RAM when loaded")
    print(f"{args.output}: {type(est).__name__}, {model.n_trees} trees, {model.n_nodes} nodes, "
          f"{model.n_leaves} leaves, {size} bytes of file, {ram}")
    return 0


def cmd_romfs(args):
    from . import romfs

    folder = Path(args.folder)
    if not folder.is_dir():
        return _fail("romfs", f"{folder} is not a folder")
    image = romfs.build_dir(folder)
    try:
        Path(args.output).write_bytes(image)
    except OSError as e:
        return _fail("romfs", f"cannot write the image: {_os_error(e)}")
    n = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"{args.output}: {n} files, {len(image)} bytes (file data 8-byte aligned); "
          f"deploy with: mpremote romfs deploy {args.output}")
    return 0


def cmd_verify_nn(args):
    import numpy as np

    from .nn import ConversionError, convert_tflite
    from .nn.verify import TOLERANCE, verify

    X = np.load(args.X)
    if args.limit:
        X = X[:args.limit]
    try:
        model = convert_tflite(args.model)
        print(f"verify: {args.model} ({model.input_type} {model.input_shape} -> "
              f"{model.output_type} {model.output_shape}, {model.macs():,} MACs) on {len(X)} "
              f"samples, target {args.target}")
        rep = verify(model, X, args.target)
    except (ConversionError, ValueError, RuntimeError, OSError) as e:
        print(f"microlearn verify: {e}", file=sys.stderr)
        return 2
    if rep.quantized:
        print(f"outputs identical to TFLite (reference kernels): {rep.agree}/{rep.n}"
              + ("" if rep.agree == rep.n else f", largest difference {rep.worst:g} steps"))
    else:
        print(f"outputs within {TOLERANCE:g} of TFLite (relative to the largest output): "
              f"{rep.agree}/{rep.n}, largest relative difference {rep.worst:.2g}")
    print(f"labels (largest output) identical: {rep.labels}/{rep.n} "
          f"({rep.labels / max(rep.n, 1):.2%})")
    for i, got, want, diff in rep.mismatches:
        print(f"  sample {i}: device label {got}, TFLite label {want}, difference {diff:g}")
    per_mac = ""
    if rep.macs and rep.unit == "instr":  # instructions on the emulated boards
        per_mac = f" ({rep.time / rep.macs:.2f} per MAC)"
    print(f"time per inference: {rep.time:,.1f} {rep.unit}{per_mac}, mean of {rep.repeats}")
    print(f"RAM: arena {rep.arena:,} bytes; model {rep.model_bytes:,} bytes loaded from a file "
          f"(in place from a buffer: arena + object); allocated by run and predict: "
          f"{rep.alloc} bytes")
    ok = rep.ok()
    print("verify:", "OK" if ok else "MISMATCH")
    return 0 if ok else 1


def cmd_verify(args):
    import numpy as np

    from . import convert, targets, verify
    from .trees import ConversionError

    if _is_tflite(args.model):
        return cmd_verify_nn(args)
    est = _load_estimator(args.model)
    try:
        X = np.load(args.X, allow_pickle=False)
    except OSError as e:
        return _fail("verify", f"cannot read samples: {_os_error(e)}")
    except ValueError as e:  # a truncated or foreign file
        return _fail("verify", f"{args.X} is not a readable .npy file ({e})")
    n_features = getattr(est, "n_features_in_", None)
    if X.ndim != 2 or X.dtype.kind not in "iuf" or (n_features and X.shape[1] != n_features):
        return _fail("verify", f"{args.X} holds {X.dtype} samples of shape {X.shape}, expected "
                               f"numbers of shape (n_samples, {n_features or 'n_features'})")
    if X.dtype != np.int16:
        X = X.astype(np.float32)
    if args.limit is not None:
        if args.limit < 1:
            return _fail("verify", f"--limit is {args.limit}, expected at least 1")
        X = X[:args.limit]
    try:
        model = convert(est)
        if _is_network(model):
            return _verify_mlp(est, model, X, args.target)
        form = ""
        kw = {}
        if not hasattr(model, "to_bytes"):  # a tree model: its binary or text form
            form = f", {'binary' if args.format == 'bin' else 'text'} model file"
            kw["format"] = args.format
        print(f"verify: {type(est).__name__} on {len(X)} samples, target {args.target}{form}")
        rep = verify.verify(est, model, X, args.target, **kw)
    except (ConversionError, targets.TargetError) as e:
        print(f"microlearn verify: {e}", file=sys.stderr)
        return 2
    what = "labels identical" if rep.is_classifier else "values within 1e-5 (relative)"
    if rep.scores_compared:
        what = "predictions identical and every score, probability or distance within 1e-5"
    print(f"{what}: {rep.agree}/{rep.n} ({rep.agreement:.2%})")
    if rep.scores_compared:
        print(f"scores: max relative difference {rep.worst:.2g}")
    elif rep.is_classifier:
        print(f"probabilities: max |difference| {rep.worst:.2g}")
    else:
        print(f"values: max relative difference {rep.worst:.2g}")
    for i, got, want in rep.mismatches:
        print(f"  sample {i}: device {got}, original {want}")
    print(f"predict_many agrees: {rep.batch_agree}/{rep.n}")
    print(f"time per prediction: {rep.predict_time:.1f} {rep.unit} (predict), "
          f"{rep.many_time:.1f} {rep.unit} per sample (predict_many)")
    print(f"model RAM: {rep.model_bytes} bytes; heap growth of load: {rep.load_bytes} bytes; "
          f"allocated by predict calls: {rep.predict_alloc} bytes")
    ok = rep.ok()
    print("verify:", "OK" if ok else "MISMATCH")
    return 0 if ok else 1


def _verify_mlp(est, model, X, target):
    """A scikit-learn MLP converted to a network: the board's outputs against predict_proba
    (or predict), its labels against predict."""
    from .nn.verify import TOLERANCE, sklearn_expected, verify

    print(f"verify: {model.estimator} as a float32 network ({model.macs():,} MACs) on "
          f"{len(X)} samples, target {target}")
    expected, labels = sklearn_expected(est, model, X)
    rep = verify(model, X, target, expected=expected, labels=labels)
    what = "probabilities" if labels is not None else "predictions"
    print(f"{what} within {TOLERANCE:g} of scikit-learn's (relative to the largest, at least "
          f"1): {rep.agree}/{rep.n}, largest difference {rep.worst:.2g}")
    if labels is not None:
        print(f"labels identical: {rep.labels}/{rep.n} ({rep.labels / max(rep.n, 1):.2%})")
    for i, got, want, diff in rep.mismatches:
        print(f"  sample {i}: device {got}, scikit-learn {want}, difference {diff:g}")
    print(f"time per inference: {rep.time:,.1f} {rep.unit}, mean of {rep.repeats}")
    print(f"RAM: arena {rep.arena:,} bytes; model {rep.model_bytes:,} bytes loaded from a file; "
          f"allocated by run and predict: {rep.alloc} bytes")
    ok = rep.ok()
    print("verify:", "OK" if ok else "MISMATCH")
    return 0 if ok else 1


TARGET_HELP = "unix, x86, cortex-m0, cortex-m3, cortex-m4f, cortex-m7 or riscv32"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="microlearn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run a MicroPython script on a target")
    p.add_argument("--target", default="unix", help=TARGET_HELP)
    p.add_argument("--file", action="append", default=[],
                   help="a file the script can open by its base name (repeatable)")
    p.add_argument("--timeout", type=float, default=600, help="longest silence, seconds")
    p.add_argument("script")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("convert", help="convert a trained model into a microlearn model file")
    p.add_argument("model", help="a fitted estimator saved with joblib.dump or pickle, or a "
                                 ".tflite file")
    p.add_argument("-o", "--output", required=True,
                   help="model file: for trees .csv (text), .bin (binary) or .py (binary as a "
                        "bytes constant); .bin for networks and the other families; or a C "
                        "header (.h)")
    p.add_argument("--format", choices=["csv", "bin", "py", "c"],
                   help="default: from the output's suffix")
    p.add_argument("--name", help="C identifier for --format c (default: the file's stem)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("romfs", help="a ROMFS image of a folder, its files 8-byte aligned "
                                     "(binary models in it are used in place)")
    p.add_argument("folder")
    p.add_argument("-o", "--output", required=True, help="image file (.romfs or .img)")
    p.set_defaults(func=cmd_romfs)

    p = sub.add_parser("verify", help="run a converted model on a target, compare with the "
                                      "original")
    p.add_argument("model", help="a fitted estimator saved with joblib.dump or pickle, or a "
                                 ".tflite file (compared with TFLite's reference kernels)")
    p.add_argument("X", help="samples, a .npy file (float or int16; for networks float, "
                             "quantized with the input's scale, or of the input's type)")
    p.add_argument("--target", default="unix", help=TARGET_HELP)
    p.add_argument("--limit", type=int, help="use only the first N samples")
    p.add_argument("--format", choices=["bin", "csv"], default="bin",
                   help="tree models: the model file the board is given, binary (default) or "
                        "text")
    p.set_defaults(func=cmd_verify)

    from . import har

    p = sub.add_parser("har", help="gesture and activity recognition: train, run, tune")
    hsub = p.add_subparsers(dest="har_command", required=True)
    q = hsub.add_parser("train", help="train a classifier from a folder of recordings")
    q.add_argument("dataset", nargs="?", help="folder of <anything>_<label>.npy or .csv "
                   "recordings (default: $MICROLEARN_GESTURES, else the shipped data/gestures)")
    q.add_argument("--out", required=True, help="model folder to write")
    q.add_argument("--model", default="randomforest", choices=har.MODELS)
    q.add_argument("--window", type=int, default=har.WINDOW, help="frames per window")
    q.add_argument("--hop", type=int, default=har.HOP, help="frames between windows")
    q.add_argument("--anomaly", nargs="?", const="kmeans", choices=har.ANOMALY,
                   help="also train an anomaly detector on the same features (default kmeans: "
                        "distance to the nearest k-means centre)")
    q.add_argument("--novel", action="append", metavar="LABEL",
                   help="leave this gesture out of training, to measure how the detector "
                        "flags it (repeatable)")
    q.set_defaults(func=har.main_train)
    q = hsub.add_parser("run", help="replay recordings through the device application")
    q.add_argument("model_dir")
    q.add_argument("--data", help="folder of recordings (default: as for train)")
    q.add_argument("--target", default="unix", help=TARGET_HELP)
    q.set_defaults(func=har.main_run)
    q = hsub.add_parser("tune", help="the procedure that chose the default settings")
    q.add_argument("dataset", nargs="?", help="folder of recordings (default: as for train)")
    q.set_defaults(func=har.main_tune)

    from . import audio

    audio.add_commands(sub, TARGET_HELP)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
