"""Sound on the host: WAV reading (the device's rules and messages), dataset folders (broken
files reported and skipped, both layouts), and the host twin of the streaming audio front end
against independent computations (dsp.LogMel, scipy's DCT) and against itself streamed in
chunks of any size."""

import struct
import wave

import numpy as np
import pytest
import scipy.fft

from microlearn import audio, dsp, wav


def fsdd():
    d = audio.fsdd_dir()
    assert d.is_dir(), f"the spoken-digit recordings are not at {d}"
    return d


def write_raw(path, channels=1, width=2, rate=8000, frames=b"\x01\x00" * 100):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(frames)


def broken_files(folder):
    """{file name: the message (after "name: ") every reader must give}."""
    good = folder / "good.wav"
    wav.write(good, np.arange(-50, 50, dtype=np.int16), 8000)
    data = good.read_bytes()
    (folder / "text.wav").write_text("these are not the samples you are looking for\n")
    (folder / "empty.wav").write_bytes(b"")
    write_raw(folder / "pcm8.wav", width=1, frames=bytes(100))
    write_raw(folder / "stereo.wav", channels=2, frames=bytes(400))
    (folder / "truncated.wav").write_bytes(data[:100])
    (folder / "nodata.wav").write_bytes(data[:36])
    fmt = struct.pack("<HHIIHH", 3, 1, 8000, 32000, 4, 32)
    (folder / "float.wav").write_bytes(b"RIFF\0\0\0\0WAVEfmt " + struct.pack("<I", 16) + fmt
                                       + b"data" + struct.pack("<I", 8) + bytes(8))
    good.unlink()
    return {
        "text.wav": "not a WAV file (no RIFF/WAVE header)",
        "empty.wav": "empty file",
        "pcm8.wav": "8-bit samples, expected 16-bit",
        "stereo.wav": "2 channels, expected 1 (mono)",
        "truncated.wav": "truncated: the data chunk declares 200 bytes, the file holds 56",
        "nodata.wav": "no data chunk before the end of the file",
        "float.wav": "format 3 (IEEE float), expected 1 (PCM)",
    }


# --------------------------------------------------------------------------------------------
# WAV


def test_wav_read_matches_the_wave_module():
    path = sorted(fsdd().glob("*.wav"))[7]
    x, rate = wav.read(path)
    with wave.open(str(path)) as w:
        ref = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert rate == w.getframerate() == 8000
    assert x.dtype == np.int16 and np.array_equal(x, ref)


def test_wav_write_read_round_trip(tmp_path):
    x = np.array([0, 1, -1, 32767, -32768], dtype=np.int16)
    wav.write(tmp_path / "a.wav", x, 16000)
    y, rate = wav.read(tmp_path / "a.wav")
    assert rate == 16000 and np.array_equal(x, y)
    with wave.open(str(tmp_path / "a.wav")) as w:  # a file other readers read
        assert (w.getnchannels(), w.getsampwidth(), w.getnframes()) == (1, 2, 5)


def test_wav_chunks_and_extensible_format(tmp_path):
    body = np.arange(10, dtype="<i2").tobytes()
    guid = bytes.fromhex("0100000000001000800000aa00389b71")
    fmt = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 8000, 16000, 2, 16, 22, 16, 4) + guid
    data = (b"RIFF\0\0\0\0WAVE" + b"LIST" + struct.pack("<I", 3) + b"abc\0"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", len(body)) + body + b"junk\x04\0\0\0xxxx")
    (tmp_path / "x.wav").write_bytes(data)
    x, rate = wav.read(tmp_path / "x.wav")
    assert rate == 8000 and x.tolist() == list(range(10))


def test_wav_errors_name_the_file(tmp_path):
    for name, msg in broken_files(tmp_path).items():
        with pytest.raises(wav.WavError) as e:
            wav.read(tmp_path / name)
        assert str(e.value) == f"{name}: {msg}"
    with pytest.raises(wav.WavError, match="missing.wav: cannot read"):
        wav.read(tmp_path / "missing.wav")


# --------------------------------------------------------------------------------------------
# Datasets


def test_dataset_broken_files_are_reported_and_skipped(tmp_path):
    expected = broken_files(tmp_path)
    for f in sorted(fsdd().glob("*.wav"))[:6]:
        (tmp_path / f.name).write_bytes(f.read_bytes())
    write_raw(tmp_path / "3_alice_0.wav", rate=16000)
    (tmp_path / "nounderscore.wav").write_bytes((tmp_path / "3_alice_0.wav").read_bytes())
    logged = []
    utts, skipped = audio.load_dataset(tmp_path, log=logged.append)
    assert len(utts) == 6 and all(u.sample_rate == 8000 for u in utts)
    assert utts[0].label == "0" and utts[0].group in ("george", "jackson", "nicolas", "theo",
                                                      "yweweler")
    why = dict(skipped)
    for name, msg in expected.items():
        assert why[name] == msg
    assert why["3_alice_0.wav"] == "sample rate 16000 Hz, the other files have 8000 Hz"
    assert why["nounderscore.wav"] == "the file name is not {label}_{group}_{index}.wav"
    assert len(logged) == len(skipped) == len(expected) + 2


def test_dataset_subfolder_layout(tmp_path):
    for label in ("yes", "no"):
        (tmp_path / label).mkdir()
        for spk in ("a1b2", "c3d4"):
            wav.write(tmp_path / label / f"{spk}_nohash_0.wav", np.zeros(100, np.int16), 16000)
    utts, skipped = audio.load_dataset(tmp_path, log=lambda s: None)
    assert not skipped
    assert sorted((u.label, u.group) for u in utts) == [
        ("no", "a1b2"), ("no", "c3d4"), ("yes", "a1b2"), ("yes", "c3d4")]


def test_shipped_subset():
    utts, skipped = audio.load_dataset(fsdd(), log=lambda s: None)
    assert not skipped
    groups = {u.group for u in utts}
    labels = {u.label for u in utts}
    assert groups == {"george", "jackson", "nicolas", "theo", "yweweler"}
    assert labels == {str(d) for d in range(10)}
    # Every speaker says every digit equally often.
    counts = {(u.group, u.label) for u in utts}
    assert len(counts) == 50 and len(utts) % 50 == 0


# --------------------------------------------------------------------------------------------
# The front end's host twin


def test_logmel_frames_are_logmel_of_scaled_samples():
    x, _ = wav.read(sorted(fsdd().glob("*.wav"))[3])
    cfg = dict(sample_rate=8000, frame_length=256, hop=100, n_mels=32, fmin=20, fmax=3900)
    ref = dsp.LogMel(8000, 256, hop=100, n_mels=32, fmin=20, fmax=3900).spectrogram(
        x.astype(np.float64) / 32768)
    assert np.allclose(dsp.AudioFeatures(fixed_point=False, **cfg).frames_of(x), ref,
                       atol=1e-5, rtol=0)
    # Fixed point: the same within the interpolated log2 (1.3e-4 dB) and its rounding noise,
    # far below the level of the quietest bands of a recording.
    fixed = dsp.AudioFeatures(**cfg).frames_of(x)
    assert np.abs(fixed - ref).max() < 0.05 and np.abs(fixed - ref).mean() < 2e-3
    assert np.all(np.round(fixed * 65536) == fixed * 65536)  # multiples of 2^-16 dB


def test_short_frames_are_zero_padded_and_mfcc_is_the_dct():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(3000) * 3000).astype(np.int16)
    cfg = dsp.AudioConfig(sample_rate=8000, frame_length=200, hop=80, window="hamming",
                          n_mels=30, floor_db=-90, fixed_point=False)
    assert cfg.n_fft == 256
    F = dsp.AudioFeatures(cfg).frames_of(x)
    assert F.shape == (1 + (3000 - 200) // 80, 30)
    # Frame 5 by hand: 200 samples, hamming of 200 points, zero-padded to 256.
    seg = x[400:600].astype(np.float64) / 32768 * (0.54 - 0.46 * np.cos(2 * np.pi *
                                                                         np.arange(200) / 200))
    p = np.abs(np.fft.rfft(seg, 256)) ** 2
    ref = 10 * np.log10(np.maximum(dsp.mel_filterbank(8000, 256, 30) @ p, 1e-9))
    assert np.allclose(F[5], ref, atol=1e-4)
    mf = dsp.AudioFeatures(dsp.AudioConfig(**{**cfg.to_dict(), "n_mfcc": 12})).frames_of(x)
    assert np.allclose(mf, scipy.fft.dct(F.astype(np.float64), type=2, norm="ortho")[:, :12],
                       atol=1e-3)


@pytest.mark.parametrize("fixed_point", [True, False])
def test_streaming_in_any_chunks_gives_the_same_frames(fixed_point):
    x, _ = wav.read(sorted(fsdd().glob("*.wav"))[11])
    fe = dsp.AudioFeatures(sample_rate=8000, frame_length=256, hop=128, n_mfcc=13,
                           fixed_point=fixed_point)
    whole = fe.frames_of(x)
    rng = np.random.default_rng(1)
    for sizes in ([1], [7], [128], [255, 256, 257], list(rng.integers(1, 600, 50))):
        fe.reset()
        out, i, k = [], 0, 0
        while i < len(x):
            n = int(sizes[k % len(sizes)])
            out.append(fe.process(x[i:i + n]))
            i, k = i + n, k + 1
        assert np.array_equal(np.concatenate(out), whole)


def test_fixed_point_at_the_ends_of_the_range():
    """Silence gives the floor; full-scale signals do not overflow (within 0.05 dB of the
    float64 rendering for bands within 90 dB of the loudest, 0.3 dB for FFTs over 512 points)."""
    rng = np.random.default_rng(2)
    signals = [np.zeros(600, np.int16), np.where(np.arange(600) // 8 % 2, 32767, -32768),
               rng.integers(-32768, 32768, 600), np.full(600, -32768)]
    for n_fft in (256, 1024, 4096):
        cfg = dict(sample_rate=8000, frame_length=256, hop=128, n_fft=n_fft, n_mels=40)
        for x in signals:
            x = np.asarray(x, dtype=np.int16)
            ref = dsp.AudioFeatures(fixed_point=False, **cfg).frames_of(x).astype(np.float64)
            got = dsp.AudioFeatures(**cfg).frames_of(x)
            near = ref > ref.max(axis=1, keepdims=True) - 90
            err = np.abs(got - ref)[near].max() if near.any() else 0.0
            assert err < (0.05 if n_fft <= 512 else 0.3), (n_fft, err)
            if not x.any():
                assert np.all(got == -100.0)


def test_config_round_trip_and_errors():
    cfg = dsp.AudioConfig(sample_rate=16000, frame_length=400, hop=160, n_mels=64, fmin=20.5,
                          n_mfcc=20)
    assert cfg.n_fft == 512 and cfg.fmax == 8000 and cfg.n_features == 20
    d = cfg.to_dict()
    assert d["fmin"] == "20.5" and dsp.AudioConfig.from_dict(d) == cfg
    assert dsp.AudioConfig.from_json(cfg.to_json()) == cfg
    assert cfg.n_frames(399) == 0 and cfg.n_frames(400) == 1 and cfg.n_frames(560) == 2
    for kw, msg in [(dict(n_fft=300), "n_fft is 300"), (dict(frame_length=600, n_fft=512),
                    "frame_length is 600, expected 1..512"), (dict(hop=0), "hop is 0"),
                    (dict(n_mels=0), "n_mels is 0"), (dict(fmax=9000), "fmax <= sample_rate"),
                    (dict(n_mfcc=70), "n_mfcc is 70"), (dict(window="kaiser"), "window must"),
                    (dict(floor_db=3), "floor_db is 3")]:
        with pytest.raises(ValueError, match=msg):
            dsp.AudioConfig(**{"sample_rate": 16000, "frame_length": 400, **kw})
    with pytest.raises(TypeError, match="int16"):
        dsp.AudioFeatures().process(np.zeros(10))


def test_center():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((3, 50, 8)) * 30).astype(np.float32)
    c = dsp.center(x)
    assert c.dtype == np.float32 and c.shape == x.shape
    assert np.allclose(c, x - x.astype(np.float64).mean(axis=1, keepdims=True), atol=2e-5)
    assert np.array_equal(dsp.center(x[1]), c[1])
    with pytest.raises(ValueError, match="not finite"):
        dsp.center(np.array([[np.nan]]))


# ------------------------------------------------------------------------------------------------
# The segmenter of `audio detect` (the host twin runs the board's source; tests/device/
# test_sound_flow.py checks that the board decides the same)

HOP, T = 128, audio.WINDOW_FRAMES


def _bursts(spans, n_seconds, noise=30.0, seed=0):
    """Noise at about -61 dB re full scale with harmonic bursts (speech-like, about -25 dB) at
    `spans` (start, end) in seconds."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(n_seconds * 8000)) * noise
    for a, b in spans:
        t = np.arange(int(a * 8000), min(len(x), int(b * 8000)))
        x[t] += sum(1500 / k * np.sin(2 * np.pi * 180 * k * t / 8000) for k in range(1, 6))
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def _segments(x, **settings):
    st = audio.detector_settings({"detector": settings}, HOP)
    return audio.segment_stream(audio.hop_levels(x, HOP, st["sub"]), T, HOP, st)


def test_hop_levels():
    x = np.arange(-300, 300, dtype=np.int16)
    lv = audio.hop_levels(x, HOP, 2)
    assert len(lv) == len(x) // HOP
    assert lv[1] == sum(abs(int(v)) for v in x[HOP:2 * HOP:2])


def test_segments_of_words_in_noise():
    # a 0.3 s burst, a 0.5 s one with a 100 ms gap in it (one word: shorter than `hang`), and
    # a 0.8 s one
    spans = [(1.5, 1.8), (2.6, 2.8), (2.9, 3.2), (4.0, 4.8)]
    segs = _segments(_bursts(spans, 6.0))
    words = [(1.5, 1.8), (2.6, 3.2), (4.0, 4.8)]
    assert len(segs) == len(words), segs
    for (t, on, off), (a, b) in zip(segs, words):
        assert abs(on * HOP / 8000 - a) <= 2 * HOP / 8000 and abs(off * HOP / 8000 - b) <= 0.05
        # the window classified ends at frame t: T frames (T + 1 hops) centred on the segment
        # (within half a hop), or later when the segment ended too late for that
        centred = (on + off) // 2 + T // 2
        assert t == centred or (t > centred and t - audio.DETECTOR["hang"] <= off)
        assert t - T <= on  # the whole word is in the window


def test_no_segments_in_noise_or_silence():
    assert _segments(_bursts([], 5.0)) == []
    assert _segments(np.zeros(40000, np.int16)) == []
    assert _segments(_bursts([], 5.0, noise=300.0)) == []  # a noisier room: a higher floor


def test_segments_of_long_sounds_and_at_the_end_of_the_stream():
    # 3 s of sound: cut every max_hops hops (the whole segment stays in the window), until the
    # floor has risen to its level (after two blocks)
    mx = audio.DETECTOR["max_hops"]
    segs = _segments(_bursts([(1.2, 4.2)], 6.0))
    assert len(segs) == 2
    for t, on, off in segs:
        assert off - on == mx + 1 and t >= on + mx and t - T <= on
    # a word still sounding at the end: classified in the last window
    x = _bursts([(2.0, 2.45)], 2.4)
    segs = _segments(x)
    assert len(segs) == 1 and segs[0][0] == len(x) // HOP - 1
    assert _segments(x, min_hops=40) == []  # too short to be a word
    # a stream shorter than a window: nothing to classify
    assert _segments(_bursts([(0.3, 0.7)], 0.9)) == []


def test_segments_of_spoken_digit_streams():
    # 20 recordings of every speaker of data/fsdd joined as the event benchmark joins them
    # (silence over noise at -70 to -50 dB): a segment per word, starting within 200 ms of it
    # (what the event F1 counts; the previous rule's onsets: 64% of the words on the benchmark)
    utts, _ = audio.load_dataset(fsdd(), log=lambda s: None)
    st = audio.detector_settings({}, HOP)
    segs_n = words = found = 0
    for g in sorted({u.group for u in utts}):
        mine = [u for u in utts if u.group == g]
        rng = np.random.default_rng(1)
        x, truth = audio.build_stream([mine[i] for i in rng.permutation(len(mine))[:20]], 8000,
                                      rng)
        segs = audio.segment_stream(audio.hop_levels(x, HOP, st["sub"]), T, HOP, st)
        segs_n += len(segs)
        words += len(truth)
        found += sum(any(abs(on * HOP / 8000 - w.start) <= 0.2 for _, on, _ in segs)
                     for w in truth)
    assert words == 100 and segs_n == 100 and found >= 97


def test_segments_at_most_every_min_gap_hops():
    # tones of 5 hops every 13: a segment each without min_gap; the network's runs at least
    # min_gap hops apart with it (its worst case of cost)
    x = np.zeros(8000 * 10)
    t = np.arange(len(x))
    x[(t % (13 * HOP) < 5 * HOP) & (t < 8000 * 8)] = 3000  # then 2 s of noise: no segment
    x = _bursts([], 10.0) + x.astype(np.int16)  # left at the end of the stream
    gap = audio.DETECTOR["min_gap"]
    segs = _segments(x)
    assert len(segs) > 15 and min(np.diff([t for t, _, _ in segs])) >= gap
    assert all(t - T <= on for t, on, _ in segs)  # each window still holds its segment's start
    assert len(_segments(x, min_gap=1)) > len(segs)


def test_detector_settings():
    st = audio.detector_settings({}, HOP)
    assert st == audio.DETECTOR
    assert audio.detector_settings({"detector": {"hang": 20}}, HOP)["hang"] == 20
    for bad in ({"on": 0}, {"off": 80, "on": 64}, {"on": 2000}, {"hang": "x"},
                {"min_hops": 60, "max_hops": 56}):
        with pytest.raises(audio.AudioError, match="detector"):
            audio.detector_settings({"detector": bad}, HOP)


def test_segment_events():
    segs = [(80, 10, 30), (200, 150, 170), (300, 240, 280)]
    scores = np.full((3, 4), -128, np.int8)
    scores[0, 2] = 50
    scores[1, 3] = 50  # the background: no event
    scores[2, 0] = 10
    ev = audio.segment_events(segs, scores, ["a", "b", "c"], 0.016)
    assert ev == [audio.Event("c", 0.16, 0.48), audio.Event("a", 3.84, 4.48)]
