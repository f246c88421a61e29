"""The `microlearn` command line."""

import argparse
import sys
from pathlib import Path


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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="microlearn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run a MicroPython script on a target")
    p.add_argument("--target", default="unix", help="unix, cortex-m3 or cortex-m0")
    p.add_argument("--file", action="append", default=[],
                   help="a file the script can open by its base name (repeatable)")
    p.add_argument("--timeout", type=float, default=600, help="longest silence, seconds")
    p.add_argument("script")
    p.set_defaults(func=cmd_run)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
