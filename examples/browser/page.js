// The page's JavaScript: loads MicroPython (the webassembly port with microlearn built in),
// puts the model files into its filesystem and calls page.py, which does the predictions.
import { loadMicroPython } from "./micropython.mjs";

const $ = (id) => document.getElementById(id);
let page = null; // the page.py module, once MicroPython runs
let digits = null; // digits_test.json: test samples and their true labels
let sampleIndex = -1;

async function fetchBytes(path) {
    const r = await fetch(path);
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
}

async function start() {
    const lines = [];
    const mp = await loadMicroPython({ stdout: (l) => lines.push(l), stderr: (l) => lines.push(l) });
    const files = ["page.py", "mlhar.py", "mlclock.py", "digits_rf.bin",
                   "gestures/model.bin", "gestures/metadata.json"];
    digits = await (await fetch("digits_test.json")).json();
    const recordings = await (await fetch("gestures/recordings.json")).json();
    mp.FS.mkdir("gestures");
    for (const r of recordings) files.push(r.file);
    for (const f of files) mp.FS.writeFile(f, await fetchBytes(f));
    mp.runPython("import sys\nsys.path.append('')\nimport page");
    page = mp.pyimport("page");
    $("version").textContent = mp.pyimport("sys").version;
    for (const [i, r] of recordings.entries()) {
        $("recording").add(new Option(`${r.name} (${r.label})`, i));
    }
    $("recording").recordings = recordings;
    return lines;
}

// --- digits: draw, or pick a test sample ------------------------------------------------

const pad = $("pad");
const ctx = pad.getContext("2d");

function clearPad() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, pad.width, pad.height);
}

// The drawing as scikit-learn's digits see an image: the strokes' bounding box fitted into a
// 32x32 bitmap, then the "on" pixels of each 4x4 block counted (0..16), 8x8 values.
function padToPixels() {
    const img = ctx.getImageData(0, 0, pad.width, pad.height).data;
    let x0 = pad.width, y0 = pad.height, x1 = -1, y1 = -1;
    for (let y = 0; y < pad.height; y++) {
        for (let x = 0; x < pad.width; x++) {
            if (img[4 * (y * pad.width + x)] > 127) {
                x0 = Math.min(x0, x); x1 = Math.max(x1, x);
                y0 = Math.min(y0, y); y1 = Math.max(y1, y);
            }
        }
    }
    const pixels = new Array(64).fill(0);
    if (x1 < 0) return pixels;
    const size = Math.max(x1 - x0, y1 - y0) + 1;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    for (let by = 0; by < 32; by++) {
        for (let bx = 0; bx < 32; bx++) {
            const x = Math.floor(cx + (bx + 0.5 - 16) * size / 32);
            const y = Math.floor(cy + (by + 0.5 - 16) * size / 32);
            if (x >= 0 && y >= 0 && x < pad.width && y < pad.height &&
                img[4 * (y * pad.width + x)] > 127) {
                pixels[(by >> 2) * 8 + (bx >> 2)] += 1;
            }
        }
    }
    return pixels;
}

function showPixels(pixels) {
    const c = $("pixels").getContext("2d");
    for (let i = 0; i < 64; i++) {
        const v = Math.round(pixels[i] * 255 / 16);
        c.fillStyle = `rgb(${v},${v},${v})`;
        c.fillRect((i % 8) * 10, Math.floor(i / 8) * 10, 10, 10);
    }
}

function classify(pixels, truth) {
    showPixels(pixels);
    const [label, proba, us] = page.predict_digit(pixels.join(",")).split(" ");
    $("digit-label").textContent = label;
    $("digit-proba").textContent = (100 * Number(proba)).toFixed(0) + " %";
    $("digit-time").textContent = Number(us).toFixed(1) + " µs";
    $("digit-truth").textContent = truth === undefined ? "(drawn)" : truth;
}

function pickSample() {
    sampleIndex = (sampleIndex + 1) % digits.X.length;
    classify(digits.X[sampleIndex], digits.y[sampleIndex]);
    $("sample-index").textContent = `test sample ${sampleIndex + 1} of ${digits.X.length}`;
}

let drawing = false;
pad.addEventListener("pointerdown", (e) => { drawing = true; draw(e); });
pad.addEventListener("pointermove", (e) => drawing && draw(e));
window.addEventListener("pointerup", () => {
    if (drawing && page) classify(padToPixels());
    drawing = false;
});

function draw(e) {
    const r = pad.getBoundingClientRect();
    ctx.fillStyle = "#fff";
    ctx.beginPath();
    ctx.arc((e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height,
            9, 0, 2 * Math.PI);
    ctx.fill();
}

// --- gestures: replay a recording through the device application --------------------------

function replay() {
    const r = $("recording").recordings[$("recording").value];
    const [us, ...labels] = page.replay_gesture(r.file).split(" ");
    $("gesture-time").textContent = Number(us).toFixed(0) + " µs per window";
    const list = $("windows");
    list.replaceChildren();
    labels.forEach((l, i) => {
        const li = document.createElement("li");
        li.textContent = `window ${i + 1}: ${l}`;
        li.className = l === r.label ? "right" : "wrong";
        list.append(li);
    });
    $("gesture-summary").textContent =
        `${labels.filter((l) => l === r.label).length} of ${labels.length} windows labelled ${r.label}`;
}

// --- self test (?selftest): every test sample and every recording; the results go into the
// page and, as a POST to ./selftest, to the server that a test runs.

function selftest() {
    const out = { digits: page.predict_digits(digits.X.map((x) => x.join(",")).join(";"))
                              .split(" ").map(Number),
                  gestures: {}, shown: {} };
    for (const r of $("recording").recordings) {
        out.gestures[r.name] = page.replay_gesture(r.file).split(" ").slice(1);
    }
    for (const id of ["version", "digit-label", "digit-proba", "digit-time", "digit-truth",
                      "gesture-time", "gesture-summary"]) {
        out.shown[id] = $(id).textContent;
    }
    report(out);
}

function report(out) {
    $("selftest").textContent = JSON.stringify(out);
    if (new URLSearchParams(location.search).has("selftest")) {
        fetch("selftest", { method: "POST", body: JSON.stringify(out) });
    }
}

$("clear").addEventListener("click", clearPad);
$("sample").addEventListener("click", pickSample);
$("replay").addEventListener("click", replay);
clearPad();
start().then(() => {
    $("status").textContent = "ready";
    pickSample();
    replay();
    if (new URLSearchParams(location.search).has("selftest")) selftest();
}).catch((e) => {
    $("status").textContent = "failed: " + e;
    report({ error: String(e.stack || e) });
});
