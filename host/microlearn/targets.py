"""Run MicroPython scripts on the unix port or on emulated boards.

Every target sees the same things: the `microlearn` package of native modules built for its
architecture, the device-side helper modules of `device/`, and files the caller sends, readable
by their name from the current directory.

- `unix`, `x86`: the unix port (x64, and built 32-bit), one process per script in a scratch
  directory.
- `cortex-m0`, `cortex-m3`, `cortex-m4f`, `cortex-m7`, `riscv32`: the qemu port on
  `qemu-system-arm` / `qemu-system-riscv32` (boards MICROBIT, MPS2_AN385, and tools/boards/
  MPS2_AN386, MPS2_AN500, VIRT_RV32), driven over a pty with MicroPython's own
  tools/pyboard.py, like a real board on a serial line.
  The boards have no filesystem, so files are written over the raw REPL into spare RAM outside
  the MicroPython heap and served by a small filesystem mounted at /flash: as on a real board,
  a model file does not take heap until it is loaded.
  qemu runs with `-icount shift=0`: one instruction takes 1 ns of virtual time, so timings read
  from the board's hardware timer or instruction counter (device/mlclock.py) are repeatable
  instruction counts.

    with targets.get("cortex-m3").session() as s:
        s.put("model.bin", data)
        result = s.exec(script)
"""

import base64
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import paths


@dataclass
class RunResult:
    output: str  # everything the script printed (with the traceback, if it raised)
    error: str  # the traceback if the script raised, else ""
    returncode: int

    @property
    def ok(self):
        return self.returncode == 0


class TargetError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    name: str
    arch: str  # native module architecture (.mpy)
    description: str
    machine: str = ""  # qemu machine, empty for the unix port
    qemu_system: str = "qemu-system-arm"
    board: str = ""  # qemu port BOARD
    qemu_args: tuple = ()
    # qemu boards: spare RAM outside the firmware's memory that holds the files (start, size)
    files_region: tuple = None
    # unix port: the binary, relative to ports/unix; microlearn built in instead of .mpy files
    unix_binary: str = "build-standard/micropython"
    builtin: bool = False

    @property
    def is_qemu(self):
        return bool(self.machine)

    def natmod_dir(self):
        return paths.natmod() / self.arch

    def firmware(self):
        if self.is_qemu:
            return paths.micropython() / "ports/qemu" / f"build-{self.board}" / "firmware.elf"
        return paths.micropython() / "ports/unix" / self.unix_binary

    def check_built(self):
        for p in (self.firmware(), *(() if self.builtin else (self.natmod_dir() / "microlearn",))):
            if not p.exists():
                raise TargetError(f"target {self.name}: {p} is missing; run `make` first")

    def session(self, files=None, timeout=600):
        """A running MicroPython with `files` ({name: bytes}) readable from its current
        directory. On the qemu boards these are in place when it boots, like files already in
        flash; `put` adds more later, over the serial line (slower: about 13 kB/s)."""
        self.check_built()
        cls = QemuSession if self.is_qemu else UnixSession
        return cls(self, dict(files or {}), timeout)

    def run(self, script, files=(), timeout=600, stream=None):
        """Runs `script` (source text) with `files` (host paths) readable by base name.

        `stream`, if given, is called with each piece of output as it arrives.
        """
        data = {}
        for f in map(Path, files):
            if not f.is_file():
                raise TargetError(f"file to send to {self.name} not found: {f}")
            data[f.name] = f.read_bytes()
        with self.session(data, timeout) as s:
            return s.exec(script, stream=stream)


TARGETS = {
    t.name: t
    for t in (
        Target("unix", "x64", "MicroPython unix port, x64"),
        # The same port built with -m32, running the x86 native modules.
        Target("x86", "x86", "MicroPython unix port, 32-bit x86",
               unix_binary="build-x86/micropython"),
        # The same port with microlearn compiled in as a user C module (no .mpy files).
        Target("unix-cmodule", "x64", "MicroPython unix port, x64, microlearn built in",
               unix_binary="build-microlearn/micropython-microlearn", builtin=True),
        Target(
            "cortex-m3", "armv7m", "qemu mps2-an385, Cortex-M3, soft float",
            machine="mps2-an385", board="MPS2_AN385",
            files_region=(0x21000000, 8 << 20),  # the board's PSRAM
        ),
        Target(
            "cortex-m0", "armv6m", "qemu microbit (nRF51), Cortex-M0, soft float",
            machine="microbit", board="MICROBIT",
            # The firmware is larger than a real nRF51's 256k flash / 16k RAM, and links for
            # 256k of RAM: RAM above that holds the files (1.75 MB: the modules and the largest
            # test models, e.g. a 413 kB RBF SVC on digits, together).
            qemu_args=("-global", "nrf51-soc.flash-size=1048576",
                       "-global", "nrf51-soc.sram-size=2097152"),
            files_region=(0x20040000, 1792 << 10),
        ),
        # Boards defined in tools/boards: hardware floating point on (armv7emsp, armv7emdp).
        Target(
            "cortex-m4f", "armv7emsp", "qemu mps2-an386, Cortex-M4 with single-precision FPU",
            machine="mps2-an386", board="MPS2_AN386",
            files_region=(0x21000000, 8 << 20),  # the board's PSRAM
        ),
        Target(
            "cortex-m7", "armv7emdp", "qemu mps2-an500, Cortex-M7 with double-precision FPU",
            machine="mps2-an500", board="MPS2_AN500",
            files_region=(0x60000000, 8 << 20),  # the AN500's PSRAM
        ),
        Target(
            "riscv32", "rv32imc", "qemu virt, RV32IMAC (rv32imc native modules), soft float",
            machine="virt", board="VIRT_RV32", qemu_system="qemu-system-riscv32",
            qemu_args=("-bios", "none"),
            # The firmware uses 0x80000000..0x80610000 of the machine's 128 MB of RAM.
            files_region=(0x80800000, 8 << 20),
        ),
    )
}


def get(name):
    try:
        return TARGETS[name]
    except KeyError:
        raise TargetError(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}") from None


def device_modules():
    """Device-side helper modules (device/*.py), compiled with mpy-cross, cached in build/."""
    out = paths.device_mpy()
    out.mkdir(parents=True, exist_ok=True)
    mpy_cross = paths.micropython() / "mpy-cross/build/mpy-cross"
    result = []
    for src in sorted((paths.root() / "device").glob("*.py")):
        dst = out / (src.stem + ".mpy")
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            subprocess.run([str(mpy_cross), "-o", str(dst), str(src)], check=True)
        result.append(dst)
    return result


def _package_files(target):
    """(device path, host path) of the modules every script can import."""
    files = [] if target.builtin else [
        (f"lib/microlearn/{p.name}", p)
        for p in sorted((target.natmod_dir() / "microlearn").iterdir())
        if p.suffix in (".mpy", ".py")]
    files += [(f"lib/{p.name}", p) for p in device_modules()]
    return files


def _traceback(text):
    idx = text.rfind("Traceback (most recent call last)")
    return text[idx:] if idx >= 0 else text[-2000:]


# --------------------------------------------------------------------------------------------
# unix port


class UnixSession:
    def __init__(self, target, files, timeout):
        self.target = target
        self.timeout = timeout
        self.dir = Path(tempfile.mkdtemp(prefix="microlearn-unix-"))
        lib = self.dir / ".lib"
        for name, path in _package_files(target):
            dst = self.dir / ("." + name)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
        for name, data in files.items():
            self.put(name, data)
        self.env = dict(os.environ, MICROPYPATH=str(lib))

    def put(self, name, data):
        (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
        (self.dir / name).write_bytes(data)

    def get(self, name):
        return (self.dir / name).read_bytes()

    def remove(self, name):
        (self.dir / name).unlink()

    def exec(self, script, stream=None):
        (self.dir / ".main.py").write_text(script)
        proc = subprocess.Popen(
            [str(self.target.firmware()), ".main.py"], cwd=self.dir, env=self.env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        chunks = []
        try:
            _pump(proc, chunks, stream, self.timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        text = b"".join(chunks).decode(errors="replace")
        error = _traceback(text) if proc.returncode != 0 else ""
        return RunResult(text, error, proc.returncode)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _pump(proc, chunks, stream, timeout):
    import selectors

    deadline = time.monotonic() + timeout
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            proc.kill()
            raise TargetError(f"script timed out after {timeout} s")
        if not sel.select(min(left, 1.0)):
            continue
        data = os.read(proc.stdout.fileno(), 65536)
        if not data:
            return
        chunks.append(data)
        if stream:
            stream(data.decode(errors="replace"))


# --------------------------------------------------------------------------------------------
# qemu port over a pty

# Runs on the board first: the filesystem mounted at /flash, the current directory. Its files
# live in spare RAM outside the heap, like flash on a real board:
# - the files of the session arrive before boot as a ROMFS image (qemu's loader device, like
#   flashing a filesystem image), read through MicroPython's own VfsRom: native, zero-copy file
#   objects, as on a board;
# - a file the host sends later is a one-file ROMFS image written over the serial line;
# - a file the device writes is appended to the same region and read back with the small Python
#   file object below.
_FLASHFS = r"""
import sys, os, vfs, io, binascii, uctypes
class _File(io.IOBase):
    def __init__(s, fs, e, text, writing):
        s.fs, s.e, s.t, s.w, s.off = fs, e, text, writing, 0
    def read(s, n=-1):
        end = s.e[1] if n is None or n < 0 else min(s.e[1], s.off + n)
        b = bytes(uctypes.bytearray_at(s.e[0] + s.off, end - s.off)) if end > s.off else b""
        s.off = max(s.off, end)
        return b.decode() if s.t else b
    def readinto(s, buf):
        b = s.read(len(buf))
        buf[:len(b)] = b
        return len(b)
    def write(s, b):
        if not s.w:
            raise OSError(9)
        if isinstance(b, str):
            b = b.encode()
        if s.e[0] + s.e[1] + len(b) > s.fs.end:
            raise OSError(28)  # ENOSPC
        uctypes.bytearray_at(s.e[0] + s.e[1], len(b))[:] = b
        s.e[1] += len(b)
        return len(b)
    def seek(s, off, whence=0):
        s.off = off if whence == 0 else (s.off + off if whence == 1 else s.e[1] + off)
        return s.off
    def tell(s):
        return s.off
    def flush(s):
        pass
    def close(s):
        if s.w:
            s.fs.top = (s.e[0] + s.e[1] + 3) & ~3
            s.w = 0
    def ioctl(s, req, arg):
        return 0 if req == 4 else -1
    def __enter__(s):
        return s
    def __exit__(s, *a):
        s.close()
class _FlashFS:
    def __init__(s, rom, start, end):
        # rom: the boot image; files: {path: VfsRom of one file, or [address, size] written here}
        s.rom, s.files, s.dirs, s.cwd = rom, {}, {""}, ""
        s.top, s.end, s.spans = start, end, {}
    def _p(s, path):
        if not path.startswith("/"):
            path = s.cwd + "/" + path
        parts = []
        for x in path.split("/"):
            if x == "..":
                parts and parts.pop()
            elif x and x != ".":
                parts.append(x)
        return "/".join(parts)
    def mount(s, readonly, mkfs):
        pass
    def umount(s):
        pass
    def chdir(s, path):
        s.cwd = s._p(path)
    def getcwd(s):
        return "/" + s.cwd
    def stat(s, path):
        p = s._p(path)
        e = s.files.get(p)
        if isinstance(e, list):
            return (0x8000, 0, 0, 0, 0, 0, e[1], 0, 0, 0)
        if e is not None:
            return e.stat("f")
        if p in s.dirs:
            return (0x4000, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        return s.rom.stat("/" + p)
    def ilistdir(s, path):
        p = s._p(path)
        pre = p + "/" if p else ""
        seen = set()
        for d in s.dirs:
            if d.startswith(pre) and d != p and "/" not in d[len(pre):]:
                seen.add(d[len(pre):])
                yield (d[len(pre):], 0x4000, 0)
        for f in s.files:
            if f.startswith(pre) and "/" not in f[len(pre):]:
                seen.add(f[len(pre):])
                yield (f[len(pre):], 0x8000, 0, s.stat("/" + f)[6])
        try:
            for e in s.rom.ilistdir("/" + p):
                if e[0] not in seen:
                    yield e
        except OSError:
            pass
    def mkdir(s, path):
        p = s._p(path)
        if "/" in p:
            s.mkdir("/" + p.rsplit("/", 1)[0])
        s.dirs.add(p)
    def rmdir(s, path):
        s.dirs.discard(s._p(path))
    def remove(s, path):
        p = s._p(path)
        s.files.pop(p)
        # Files removed last-put-first give their space back (put, run, remove, repeat).
        a, n = s.spans.pop(p, (0, 0))
        if n and (a + n + 3) & ~3 == s.top:
            s.top = a
    def rename(s, a, b):
        s.files[s._p(b)] = s.files.pop(s._p(a))
    def statvfs(s, path):
        return (512, 512, 0, 0, 0, 0, 0, 0, 0, 255)
    def open(s, path, mode):
        p = s._p(path)
        if "w" in mode or "a" in mode:
            e = s.files.get(p)
            if not ("a" in mode and isinstance(e, list) and e[0] + e[1] == s.top):
                e = s.files[p] = [s.top, 0]
            s.top = s.end  # the file being written may grow to the end; close() settles it
            return _File(s, e, "b" not in mode, 1)
        e = s.files.get(p)
        if e is None:
            return s.rom.open("/" + p, mode)
        if isinstance(e, list):
            return _File(s, e, "b" not in mode, 0)
        return e.open("f", mode)
    def put(s, path, size):
        # Called by the host: a ROMFS image of `size` bytes arrives in base64 chunks.
        p = s._p(path)
        if "/" in p:
            s.mkdir("/" + p.rsplit("/", 1)[0])
        if s.top + size > s.end:
            raise OSError(28)
        s._img = (p, s.top, size)
        s.spans[p] = (s.top, size)
        s.top = (s.top + size + 3) & ~3
    def chunk(s, off, b64):
        b = binascii.a2b_base64(b64)
        uctypes.bytearray_at(s._img[1] + off, len(b))[:] = b
    def done(s):
        p, a, n = s._img
        s.files[p] = vfs.VfsRom(uctypes.bytearray_at(a, n))
_fs = _FlashFS(vfs.VfsRom(uctypes.bytearray_at({rom}, {rom_size})), {start}, {end})
vfs.mount(_fs, "/flash")
os.chdir("/flash")
sys.path.insert(0, "/flash/lib")
"""

_CHUNK = 3072  # bytes per raw-REPL transfer (base64 grows it to 4 KiB)


def _romfs_image(files):
    """A ROMFS image of {path: bytes}, its file data 8-byte aligned (microlearn.romfs), as a
    board's flash would hold it: a binary model in it is used in place."""
    from . import romfs

    return romfs.build(files)


def _pyboard():
    tools = str(paths.micropython() / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    import pyboard

    return pyboard


class QemuSession:
    def __init__(self, target, files, timeout):
        self.target = target
        self.timeout = timeout
        pyboard = _pyboard()
        self._error_type = pyboard.PyboardError
        boot = {name: path.read_bytes() for name, path in _package_files(target)}
        boot.update(files)
        image = _romfs_image(boot)
        self._image = tempfile.NamedTemporaryFile(prefix="microlearn-romfs-", suffix=".img")
        self._image.write(image)
        self._image.flush()
        start, size = target.files_region
        if len(image) > size:
            raise TargetError(f"{target.name}: the files ({len(image)} bytes) do not fit the "
                              f"{size} bytes of storage")
        # qemu lives in its own session (pyboard.py starts it so): if this process dies without
        # closing, setpriv makes the kernel stop qemu too, rather than leave it spinning.
        guard = ["setpriv", "--pdeathsig", "KILL"] if shutil.which("setpriv") else []
        cmd = [
            *guard, target.qemu_system, "-machine", target.machine, *target.qemu_args,
            "-icount", "shift=0", "-nographic", "-monitor", "null", "-semihosting",
            "-device", f"loader,file={self._image.name},addr={start:#x},force-raw=on",
            "-serial", "pty", "-kernel", str(target.firmware()),
        ]
        try:
            self.board = pyboard.Pyboard("execpty:" + " ".join(cmd))
        except (Exception, SystemExit) as e:  # qemu did not start, or printed no pty
            self._image.close()
            raise TargetError(f"could not start {target.name} ({' '.join(cmd)}): {e}") from e
        self.board.serial = _Pushback(self.board.serial)
        try:
            self.board.enter_raw_repl()
            free = (start + len(image) + 0xfff) & ~0xfff
            self._exec_quiet(_FLASHFS.replace("{rom}", str(start))
                             .replace("{rom_size}", str(len(image)))
                             .replace("{start}", str(free)).replace("{end}", str(start + size)))
        except BaseException:
            self.close()
            raise

    def _exec_quiet(self, code):
        try:
            self.board.exec_(code)
        except self._error_type as e:
            raise TargetError(f"{self.target.name}: {e}") from e

    def put(self, name, data):
        image = _romfs_image({"f": data})
        self._exec_quiet(f"_fs.put({name!r}, {len(image)})")
        for i in range(0, len(image), _CHUNK):
            b64 = base64.b64encode(image[i:i + _CHUNK]).decode()
            self._exec_quiet(f"_fs.chunk({i}, {b64!r})")
        self._exec_quiet("_fs.done()")

    def get(self, name):
        out = self.board.exec_(
            f"import binascii\nwith open({name!r}, 'rb') as f:\n"
            f"    while True:\n        b = f.read(768)\n        if not b: break\n"
            f"        print(binascii.b2a_base64(b).decode().strip())")
        return b"".join(base64.b64decode(line) for line in out.split())

    def remove(self, name):
        self._exec_quiet(f"_fs.remove({name!r})")

    def exec(self, script, stream=None):
        self._exec_quiet("import gc\ngc.collect()")
        self.board.exec_raw_no_follow(script)
        out, error = _follow(self.board, self.timeout, stream)
        if error and stream:
            stream(error)
        return RunResult(out + error, error, 1 if error else 0)

    def close(self):
        try:
            self.board.close()
        except Exception:
            pass
        self._image.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Pushback:
    """The board's serial line, with bytes read too far given back for pyboard.py to read."""

    def __init__(self, serial):
        self.serial = serial
        self.pending = b""

    def inWaiting(self):
        return len(self.pending) + self.serial.inWaiting()

    def read(self, n=1):
        head, self.pending = self.pending[:n], self.pending[n:]
        return head + (self.serial.read(n - len(head)) if n > len(head) else b"")

    def __getattr__(self, name):
        return getattr(self.serial, name)


def _follow(board, timeout, stream):
    """Reads a raw-REPL reply: output, 0x04, error output, 0x04. Returns both as text.

    Reads whatever has arrived in one go (pyboard.py reads byte by byte); `timeout` is the
    longest silence accepted.
    """
    parts = [bytearray(), bytearray()]
    which = 0
    last = time.monotonic()
    while True:
        n = board.serial.inWaiting()
        if not n:
            if time.monotonic() - last > timeout:
                raise TargetError(f"no output for {timeout} s: the script hangs")
            time.sleep(0.002)
            continue
        last = time.monotonic()
        data = board.serial.read(n)
        while data:
            i = data.find(b"\x04")
            piece, data = (data, b"") if i < 0 else (data[:i], data[i + 1:])
            parts[which] += piece
            if which == 0 and stream and piece:
                stream(piece.decode(errors="replace").replace("\r\n", "\n"))
            if i >= 0:
                which += 1
                if which == 2:
                    board.serial.pending = data + board.serial.pending  # the next prompt
                    return tuple(bytes(p).decode(errors="replace").replace("\r\n", "\n")
                                 for p in parts)
