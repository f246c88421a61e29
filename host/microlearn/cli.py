"""The `microlearn` command line.

    microlearn convert model.pkl -o model.csv        # a pickled/joblib scikit-learn estimator
    microlearn verify model.pkl X.npy --target cortex-m3
    microlearn run --target cortex-m0 --file model.csv script.py
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


def cmd_run(args):
    from . import targets

    target = targets.get(args.target)
    script = Path(args.script).read_text()
    try:
        result = target.run(script, files=args.file, timeout=args.timeout,
                            stream=lambda s: (sys.stdout.write(s), sys.stdout.flush()))
    except targets.TargetError as e:
        print(f"microlearn run: {e}", file=sys.stderr)
        return 2
    return 0 if result.ok else 1


def cmd_convert(args):
    from . import convert
    from .trees import ConversionError

    est = _load_estimator(args.model)
    try:
        model = convert(est)
    except ConversionError as e:
        print(f"microlearn convert: {e}", file=sys.stderr)
        return 2
    fmt = args.format or ("c" if args.output.endswith((".h", ".c")) else "csv")
    model.save(file=args.output, name=args.name, format=fmt)
    print(f"{args.output}: {type(est).__name__}, {model.n_trees} trees, {model.n_nodes} nodes, "
          f"{model.n_leaves} leaves, {Path(args.output).stat().st_size} bytes of file, "
          f"{model.memory_size()} bytes of RAM when loaded")
    return 0


def cmd_verify(args):
    import numpy as np

    from . import convert, targets, verify
    from .trees import ConversionError

    est = _load_estimator(args.model)
    X = np.load(args.X)
    if X.dtype != np.int16:
        X = X.astype(np.float32)
    if args.limit:
        X = X[:args.limit]
    try:
        model = convert(est)
        print(f"verify: {type(est).__name__} on {len(X)} samples, target {args.target}")
        rep = verify.verify(est, model, X, args.target)
    except (ConversionError, targets.TargetError) as e:
        print(f"microlearn verify: {e}", file=sys.stderr)
        return 2
    what = "labels identical" if rep.is_classifier else "values within 1e-5 (relative)"
    print(f"{what}: {rep.agree}/{rep.n} ({rep.agreement:.2%})")
    if rep.is_classifier:
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
    p.add_argument("model", help="a fitted estimator saved with joblib.dump or pickle")
    p.add_argument("-o", "--output", required=True, help="model file (.csv) or C header (.h)")
    p.add_argument("--format", choices=["csv", "c"], help="default: from the output's suffix")
    p.add_argument("--name", help="C identifier for --format c (default: the file's stem)")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("verify", help="run a converted model on a target, compare with the "
                                      "original")
    p.add_argument("model", help="a fitted estimator saved with joblib.dump or pickle")
    p.add_argument("X", help="samples, a .npy file (float or int16)")
    p.add_argument("--target", default="unix", help=TARGET_HELP)
    p.add_argument("--limit", type=int, help="use only the first N samples")
    p.set_defaults(func=cmd_verify)

    from . import har

    p = sub.add_parser("har", help="gesture and activity recognition: train, run, tune")
    hsub = p.add_subparsers(dest="har_command", required=True)
    q = hsub.add_parser("train", help="train a classifier from a folder of recordings")
    q.add_argument("dataset", help="folder of <anything>_<label>.npy or .csv recordings")
    q.add_argument("--out", required=True, help="model folder to write")
    q.add_argument("--model", default="randomforest", choices=har.MODELS)
    q.add_argument("--window", type=int, default=har.WINDOW, help="frames per window")
    q.add_argument("--hop", type=int, default=har.HOP, help="frames between windows")
    q.set_defaults(func=har.main_train)
    q = hsub.add_parser("run", help="replay recordings through the device application")
    q.add_argument("model_dir")
    q.add_argument("--data", required=True, help="folder of recordings")
    q.add_argument("--target", default="unix", help=TARGET_HELP)
    q.set_defaults(func=har.main_run)
    q = hsub.add_parser("tune", help="the procedure that chose the default settings")
    q.add_argument("dataset")
    q.set_defaults(func=har.main_tune)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
