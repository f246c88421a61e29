"""`make demo`: train, convert and run on the embedded default, with the figures that matter.

Part 1, gesture recognition end to end: train on the accelerometer recordings (all but one
recording of each gesture), convert, deploy the model and the device application to the unix
port and to an emulated Cortex-M3, replay the held-out recordings through the simulated
sensor, and report accuracy, agreement with the host pipeline, latency, RAM and model size.

Part 2, image classification: a small Keras CNN trained on 8,000 MNIST digits (data/mnist,
trained once and cached in build/), quantized to int8 and converted, run on the unix port and the
emulated Cortex-M3 and Cortex-M0 on the 2,000 held-out digits; every output byte must equal
TensorFlow Lite's reference kernels and every label TensorFlow Lite's own.

Part 3, spoken digits: `microlearn audio train --quick` on 6 recordings of each digit and
speaker of data/fsdd (leave-one-speaker-out accuracy, int8), 10 held-out recordings through
the device's front end and network on the unix port and the emulated Cortex-M3, and events
detected in a stream of held-out recordings joined with silence (a quick model: the figures of
the full one are in docs/sound.md).

Part 4, the classic check: a RandomForest on scikit-learn's digits (10 trees,
max_leaf_nodes=100), converted and run on the same targets; every test sample's label must
equal scikit-learn's.
"""

import sys
import time

import numpy as np

from . import convert, paths, verify

TARGETS = ("unix", "cortex-m3")


def step(i, n, text):
    print(f"[{i}/{n}] {text}", flush=True)


def digits_forest(targets=TARGETS):
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    n = 2 + len(targets)
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    step(1, n, "training RandomForestClassifier(n_estimators=10, max_leaf_nodes=100) on digits "
               f"({len(Xtr)} train / {len(Xte)} test samples)")
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=0)
    est.fit(Xtr, ytr)
    print(f"      scikit-learn test accuracy: {est.score(Xte.astype(np.float32), yte):.3f}")

    step(2, n, "converting")
    model = convert(est)
    out = paths.build() / "demo"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "digits_rf.bin"
    model.save(file=str(path))
    print(f"      {path.relative_to(paths.root())}: {path.stat().st_size} bytes of file, "
          f"{model.memory_size('bin')} bytes of RAM when loaded from a file, "
          f"{model.memory_size('bin', in_place=True)} in place from flash ({model.n_trees} "
          f"trees, {model.n_nodes} decision nodes, {model.n_leaves} distinct leaves)")

    ok = True
    for i, target in enumerate(targets, 3):
        step(i, n, f"running on {target}: every test sample through predict and predict_proba")
        t0 = time.monotonic()
        rep = verify.verify(est, model, Xte.astype(np.float32), target)
        ok &= rep.ok()
        print(f"      agreement with scikit-learn: {rep.agree}/{rep.n} labels identical, "
              f"probabilities within {rep.worst:.1g}")
        print(f"      time per prediction: {rep.predict_time:.1f} {rep.unit}"
              + (" (emulated: instructions, repeatable)" if rep.unit == "instr" else "")
              + f"; predict allocates {rep.predict_alloc} bytes; took {time.monotonic() - t0:.0f} s")
        print(f"      model RAM: {rep.model_bytes} bytes ("
              + ("the file used in place, from the board's ROMFS image" if rep.in_place
                 else "the file read into the heap") + ")")
    return ok


def mnist_cnn(targets=("unix", "cortex-m3", "cortex-m0")):
    from . import mnist

    n = 2 + len(targets)
    (Xtr, ytr), (Xte, yte) = mnist.split()
    step(1, n, f"training the Keras CNN on {len(Xtr):,} MNIST digits (data/mnist; cached in "
               f"build/mnist-cnn after the first run) and quantizing it to int8")
    t0 = time.monotonic()
    trained = mnist.train_cnn(log=lambda s: print("      " + s, flush=True))
    model = convert(trained["tflite"])
    print(f"      Keras float32 accuracy on the {len(Xte):,} test digits: "
          f"{trained['keras_accuracy']:.4f} ({trained['seconds']:.0f} s of training"
          f"{'' if time.monotonic() - t0 > trained['seconds'] else ', cached'})")
    out = paths.build() / "demo"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "mnist_cnn.nn"
    model.save(file=str(path))
    data = path.read_bytes()
    weights = sum(t.nbytes for t in model.tensors if t.storage == 1 and t.type == 1)
    print(f"      {path.relative_to(paths.root())}: {len(data):,} bytes (int8 weights "
          f"{weights:,} B, all constants {model.weights_size:,} B); arena {model.arena_size:,} B; "
          f"{sum(op.macs for op in model.ops if op.code in (1, 2, 3)):,} MACs per image")

    step(2, n, "TensorFlow Lite on the test digits: reference kernels (BUILTIN_REF) and default")
    X = mnist.int8_inputs(model, Xte)
    ref = mnist.tflite_outputs(trained["tflite"], X)
    tfl_labels = mnist.tflite_outputs(trained["tflite"], X, reference=False).argmax(1)
    print(f"      TFLite int8 accuracy: {np.mean(ref.argmax(1) == yte):.4f}")
    ok = True
    for i, target in enumerate(targets, 3):
        step(i, n, f"running every test digit on {target}")
        t0 = time.monotonic()
        r = mnist.run_on_target(data, X, target)
        labels = r["outputs"].argmax(1)
        same_bytes = int(np.all(r["outputs"] == ref, axis=1).sum())
        same_labels = int((labels == tfl_labels).sum())
        ok &= same_bytes == len(X) and same_labels == len(X)
        mpy = paths.natmod() / targets_arch(target) / "microlearn" / "nn.mpy"
        print(f"      accuracy {np.mean(labels == yte):.4f}; labels identical to TFLite int8: "
              f"{same_labels}/{len(X)}; every output byte identical to its reference kernels: "
              f"{same_bytes}/{len(X)}")
        unit = "instructions (emulated, repeatable)" if r["unit"] == "instr" else "µs"
        print(f"      time per image: {r['time']:,.0f} {unit}; RAM: {r['memory_in_place']:,} B "
              f"with the model in place in flash (arena {r['arena']:,} B and the object), "
              f"{r['memory']:,} B loaded from a file; flash: model {len(data):,} B + nn.mpy "
              f"{mpy.stat().st_size:,} B; took {time.monotonic() - t0:.0f} s")
    return ok


def targets_arch(name):
    from . import targets

    return targets.get(name).arch


def gestures(targets=TARGETS):
    from . import har

    data = paths.gestures()
    out = paths.build() / "demo" / "har"
    print(f"Gesture recognition: recordings in {data}")
    recordings, skipped = har.load_dataset(data, log=lambda s: None)
    print(f"      {len(recordings)} readable recordings; skipped {len(skipped)} broken files: "
          + ", ".join(name for name, _ in skipped))
    # Hold out the last recording of each gesture: the board sees them for the first time.
    held = {r.label: r for r in recordings}
    train_dir, held_dir = out / "train", out / "held-out"
    for d in (train_dir, held_dir):
        if d.exists():
            for f in d.iterdir():
                f.unlink()
        d.mkdir(parents=True, exist_ok=True)
    for r in recordings:
        dst = (held_dir if held[r.label] is r else train_dir) / r.path.name
        dst.write_bytes(r.path.read_bytes())
    print(f"      held out for the board: " + ", ".join(r.path.name for r in held.values()))
    print("Training (microlearn har train):")
    acc, _, meta = har.train(train_dir, out / "model", log=lambda s: print("  " + s))
    held_recs, _ = har.load_dataset(held_dir, log=lambda s: None)
    ok = True
    for target in targets:
        print(f"Deploying to {target} and replaying the held-out recordings through the "
              "simulated sensor (microlearn har run):", flush=True)
        run = har.run_device(out / "model", held_dir, target, recordings=held_recs,
                             log=lambda s: None)
        har.report_run(run, log=lambda s: print("      " + s))
        ok &= run.agree == run.windows and run.steady_alloc == 0
    return ok


def spoken_digits(targets=TARGETS):
    import shutil

    from . import audio, wav

    data = audio.fsdd_dir()
    out = paths.build() / "demo" / "sound"
    shutil.rmtree(out, ignore_errors=True)
    train_dir, held_dir = out / "train", out / "held-out"
    train_dir.mkdir(parents=True)
    held_dir.mkdir()
    files = sorted(data.glob("*.wav"))
    held, labels = [], set()
    for f in files:
        index, label = int(f.stem.split("_")[-1]), f.stem.split("_")[0]
        if index < audio.QUICK["per_class_group"]:
            shutil.copy(f, train_dir / f.name)
        elif index >= 10 and label not in labels:
            labels.add(label)
            shutil.copy(f, held_dir / f.name)
            held.append(f)
    print(f"Spoken digits: recordings in {data}; training (microlearn audio train --quick):")
    audio.train(train_dir, out / "model", quick=True, log=lambda s: print("  " + s))
    ok = True
    for target in targets:
        print(f"Deploying to {target}: the held-out recordings through the device front end "
              "and network (microlearn audio run):", flush=True)
        run = audio.run_device(out / "model", held_dir, target, log=lambda s: None)
        audio.report_run(run, log=lambda s: print("      " + s))
        ok &= run.agree == run.files and run.steady_alloc == 0
    utts, _ = audio.load_dataset(held_dir, log=lambda s: None)
    stream, truth = audio.build_stream(utts, 8000, np.random.default_rng(0))
    wav.write(out / "stream.wav", stream, 8000)
    print(f"Events in a stream of the held-out recordings ({len(stream) / 8000:.0f} s) on "
          f"{targets[-1]} (microlearn audio detect):", flush=True)
    d = audio.detect(out / "model", out / "stream.wav", targets[-1])
    audio.report_detection(d, log=lambda s: print("      " + s))
    p, r, f1 = audio.score_events(d.events, truth)
    print(f"      precision {p:.2f}, recall {r:.2f}, F1 {f1:.2f} (label and onset within 200 ms)")
    return ok and d.agree == d.host_segments == d.segments and d.steady_alloc == 0


def main():
    print(f"microlearn demo on MicroPython {paths.micropython_version()}")
    print("=" * 78)
    ok = gestures()
    print("=" * 78)
    print("Image classification: a Keras CNN on MNIST, int8, on the boards:")
    ok &= mnist_cnn()
    print("=" * 78)
    print("Spoken digits:")
    ok &= spoken_digits()
    print("=" * 78)
    print("Digits, the classic check:")
    ok &= digits_forest()
    print("=" * 78)
    print("demo:", "OK: device and host agree on every window, image, recording and sample" if ok
          else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
