"""Event F1 of a trained sound model on streams of speakers it has not heard.

    .venv/bin/python -m benchmarks.sound_events MODEL_DIR [--data DIR] [--per-stream 20]
        [--streams 5] [--target cortex-m3 [--worst-case]] [--detector on=48,off=24,...]
        [--rule steps --step 20 --min-steps 2]

`microlearn audio train` leaves in MODEL_DIR/folds/{group}/ the int8 network of every
leave-one-group-out fold (trained without that group). For each group, its recordings (in a
fixed random order, the same for every model) are joined into streams of `--per-stream`
recordings with 0.4-1.2 s of silence over noise at -70 to -50 dB between them
(`audio.build_stream`), and the fold's model finds the events of every stream as `audio detect`
does (`audio.segment_scores`: segments of sound from the hops' levels, one window centred on
each, classified); they are scored against the true ones (label right, onset within 200 ms:
`audio.score_events`), summed over the streams. The host computes the board's decisions and
outputs bit for bit (the same segmenter source, TFLite's reference kernels on the front end's
twin); with `--target`, the first stream of every group also goes through `audio detect` on that
target, which must take the same decisions and give the same outputs, and prints its cost.
`--rule steps` scores the previous rule instead (host only: a window every `--step` frames,
`--min-steps` steps in a row of a word make an event).
"""

import argparse
import sys

import numpy as np

from microlearn import audio


def stream_events(am, samples, rate, args):
    if args.rule == "steps":
        scores, ends = audio.stream_scores(am, samples)
        return audio.events_from_scores(scores, ends, am.labels, am.cfg.hop / rate,
                                        am.meta["window_frames"], am.meta["step_frames"],
                                        min_steps=args.min_steps)
    segs, scores = audio.segment_scores(am, samples)
    return audio.segment_events(segs, scores, am.labels, am.cfg.hop / rate)


def counts(found, truth, tolerance):
    """(found, true, right) events of one stream, and the words with an event (of any label)
    starting within the tolerance: what the onsets alone get right."""
    onsets = sum(any(abs(e.start - t.start) <= tolerance for e in found) for t in truth)
    return len(found), len(truth), audio.matched_events(found, truth, tolerance), onsets


def _tones(loud_hops, quiet_hops, hop, rate, seconds=10):
    """300 Hz tones of loud_hops hops, quiet_hops apart, over noise at about -61 dB."""
    n = int(seconds * rate)
    t = np.arange(n)
    loud = t % ((loud_hops + quiet_hops) * hop) < loud_hops * hop
    x = np.random.default_rng(0).standard_normal(n) * 30 + loud * 3000 * np.sin(
        2 * np.pi * 300 * t / rate)
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def worst_case(am, model_dir, target, out):
    """The most segments a second, so the most network runs: of the tone patterns (tones of
    min_hops to min_hops + 9 hops, hang to hang + 39 hops apart) the one the host twin segments
    most often, through `audio detect`."""
    from microlearn import wav

    st = audio.detector_settings(am.meta, am.cfg.hop)
    hop, rate, T = am.cfg.hop, am.meta["sample_rate"], am.meta["window_frames"]
    best = max((len(audio.segment_stream(audio.hop_levels(_tones(a, b, hop, rate), hop,
                                                          st["sub"]), T, hop, st)), a, b)
               for a in range(st["min_hops"], st["min_hops"] + 10)
               for b in range(st["hang"], st["hang"] + 40))
    out.mkdir(parents=True, exist_ok=True)
    wav.write(out / "tones.wav", _tones(best[1], best[2], hop, rate), rate)
    det = audio.detect(model_dir, out / "tones.wav", target, model=am)
    print(f"  tones of {best[1]} hops every {best[1] + best[2]} on {target}: "
          f"{det.segments / det.seconds:.2f} segments a second, segments agreeing "
          f"{det.agree}/{det.host_segments}, {det.ticks / det.seconds:,.0f} {det.unit} per "
          f"second of audio, allocated {det.steady_alloc} bytes", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dir")
    ap.add_argument("--data", default=str(audio.fsdd_dir()))
    ap.add_argument("--per-stream", type=int, default=20)
    ap.add_argument("--streams", type=int, default=5, help="streams per group")
    ap.add_argument("--target", help="also run the first stream of every group on this target")
    ap.add_argument("--keep", help="folder to write the streams to (WAV)")
    ap.add_argument("--rule", choices=("segments", "steps"), default="segments",
                    help="events of segments of sound (default, as `audio detect`), or of steps "
                    "in a row (the previous rule, host only)")
    ap.add_argument("--step", type=int, help="--rule steps: classify every STEP frames "
                    "(default: the model's step_frames)")
    ap.add_argument("--min-steps", type=int, default=2, help="--rule steps: steps in a row that "
                    "make an event")
    ap.add_argument("--tolerance", type=float, default=0.2, help="onset tolerance, seconds")
    ap.add_argument("--worst-case", action="store_true", help="with --target: also the cost of "
                    "10 s of the tones the segmenter makes the most segments of")
    ap.add_argument("--detector", default="", help="segmenter settings instead of the model's, "
                    "e.g. on=64,off=32,hang=12 (audio.DETECTOR)")
    args = ap.parse_args(argv)
    try:
        detector = {k: int(v) for k, v in (kv.split("=") for kv in args.detector.split(",") if kv)}
    except ValueError:
        ap.error(f"--detector {args.detector}: expected key=integer,... (audio.DETECTOR's keys)")
    if set(detector) - set(audio.DETECTOR):
        ap.error(f"--detector: unknown {', '.join(sorted(set(detector) - set(audio.DETECTOR)))}")
    if args.target and args.rule != "segments":
        ap.error("--target runs `audio detect`, which finds segments: drop --rule steps")

    from pathlib import Path

    from microlearn import wav

    utts, _ = audio.load_dataset(args.data, log=lambda s: None)
    folds = Path(args.model_dir) / "folds"
    if not folds.is_dir():
        ap.error(f"{folds} is missing: expected the folds of `microlearn audio train`")
    total = np.zeros(4, int)
    for d in sorted(p for p in folds.iterdir() if p.is_dir()):
        am = audio.load_model_dir(d)
        if args.step:
            am.meta["step_frames"] = args.step
        am.meta["detector"] = dict(am.meta.get("detector", {}), **detector)
        g = am.meta.get("held_out_group", d.name)
        rate = am.meta["sample_rate"]
        mine = [u for u in utts if u.group == g]
        rng = np.random.default_rng(0)
        order = rng.permutation(len(mine))
        c = np.zeros(4, int)
        for k in range(args.streams):
            part = [mine[i] for i in order[k * args.per_stream:(k + 1) * args.per_stream]]
            if not part:
                break
            x, truth = audio.build_stream(part, rate, rng)
            found = stream_events(am, x, rate, args)
            c += counts(found, truth, args.tolerance)
            if k == 0 and (args.target or args.keep):
                out = Path(args.keep or "build/sound_events")
                out.mkdir(parents=True, exist_ok=True)
                path = out / f"stream_{g}.wav"
                wav.write(path, x, rate)
            if k == 0 and args.target:
                det = audio.detect(d, path, args.target, model=am)
                p, r, f1 = audio.score_events(det.events, truth, args.tolerance)
                print(f"  {g} on {args.target}: {len(part)} recordings, {det.seconds:.1f} s, "
                      f"segments agreeing {det.agree}/{det.host_segments} (board: "
                      f"{det.segments}), events as the host's: {det.events == found}, "
                      f"precision {p:.2f} recall {r:.2f} F1 {f1:.2f}, "
                      f"{det.ticks / det.seconds:,.0f} {det.unit} per second of audio, "
                      f"allocated {det.steady_alloc} bytes", flush=True)
        p, r, f1 = audio.precision_recall_f1(*c[:3])
        print(f"{g}: {c[1]} words, {c[0]} events, precision {p:.3f} recall {r:.3f} F1 {f1:.3f} "
              f"(words with an onset found: {c[3]})", flush=True)
        total += c
    if args.worst_case and args.target:
        worst_case(am, d, args.target, Path(args.keep or "build/sound_events"))
    p, r, f1 = audio.precision_recall_f1(*total[:3])
    print(f"all: {total[1]} words, {total[0]} events, precision {p:.3f} recall {r:.3f} "
          f"F1 {f1:.3f} (words with an onset found: {total[3]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
