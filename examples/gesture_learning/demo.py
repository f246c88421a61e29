# The board learns the gestures from recordings in its current directory
# (<anything>_<gesture>.npy, as in data/gestures): it enrols each gesture from its first
# `n_enrol` recordings, the `new` one last (a gesture added to a board that knows the others),
# then recognises every other recording. Run on the board:  import demo; demo.main()
import os

from gesture_learning import GestureLearner, Recording


def recordings():
    """{gesture: [file names]} of the readable recordings; a damaged one is reported."""
    by = {}
    for name in sorted(os.listdir()):
        if not name.endswith(".npy") or "_" not in name:
            continue
        try:
            Recording(name).close()
        except ValueError as e:
            print("skipped", e)
            continue
        gesture = name[name.rindex("_") + 1:-4]
        by.setdefault(gesture, []).append(name)
    return by


def main(n_enrol=2, new="wave", capacity=160):
    app = GestureLearner(capacity=capacity)
    print("memory", app.memory, "bytes for", capacity, "windows")
    by = recordings()
    order = [g for g in sorted(by) if g != new] + [new]
    for gesture in order:
        n = 0
        for name in by[gesture][:n_enrol]:
            s = Recording(name)
            n += app.enrol(s, gesture)
            s.close()
        print("enrolled", gesture, "from", by[gesture][:n_enrol], n, "windows")
    labels = bytearray(64)
    right = total = 0
    for gesture in order:
        for name in by[gesture][n_enrol:]:
            s = Recording(name)
            got = app.recognise(s, labels)
            s.close()
            windows = (s.total - app.length) // app.hop + 1
            print("recognised", name, "as", got, "windows",
                  " ".join(str(labels[i]) for i in range(min(windows, len(labels)))))
            right += got == gesture
            total += 1
    print("names", " ".join(app.names))
    print("recognised %d of %d recordings" % (right, total))
    return app
