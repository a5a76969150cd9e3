"""`python -m bench [measure ...] [--quick]`: run measures and write their results sections.

No measure named: all of them, in registry order (`make bench`). A measure that needs
another's numbers runs after it, and asking for it alone runs that one too. `--quick` is a
smoke run (fewer runs, shorter media, a faster preset) whose results go to bench/out/ instead
of bench/results/. `--list` shows every measure, what it asks and how long it takes.
"""

from __future__ import annotations

import argparse
import io
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import aiohttp

from bench.harness import report
from bench.harness.machine import LoadSampler, describe
from bench.harness.measure import SHARED, Context, Measure, Options, Value
from bench.measures import MEASURES

BENCH_DIR = Path(__file__).resolve().parent
#: What a measure that cannot finish raises: it is reported and the others go on.
FAILURES = (RuntimeError, ValueError, OSError, subprocess.SubprocessError, aiohttp.ClientError)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    names = ", ".join(m.name for m in MEASURES)
    p.add_argument("measures", nargs="*", metavar="measure", help=f"{names} (default: all)")
    p.add_argument("--quick", action="store_true", help="a smoke run of the same work")
    p.add_argument("--list", action="store_true", help="list the measures and exit")
    p.add_argument("--check", action="store_true", help="exit 3 when a target is missed")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="work dir (bench/out)")
    p.add_argument("--results-dir", type=Path, help="bench/results; bench/out with --quick")
    p.add_argument("--force-media", action="store_true", help="regenerate the reference media")
    shared = p.add_argument_group("for every measure that has them (default: each its own)")
    shared.add_argument("--runs", type=int, help="rounds of timed runs")
    shared.add_argument("--preset", help="x264 preset")
    shared.add_argument("--server-jobs", type=int, help="the servers' MAX_CONCURRENT_JOBS")
    for m in MEASURES:
        own = [(k, v) for k, v in m.defaults.items() if k not in SHARED]
        group = p.add_argument_group(f"{m.name}", m.question) if own else None
        for key, default in own:
            assert group is not None
            flag = f"--{m.name}-{key.replace('_', '-')}"
            example = default or m.quick.get(key)
            shown = " ".join(map(str, default)) if isinstance(default, tuple) else default
            if isinstance(default, tuple):
                kind = type(example[0]) if isinstance(example, tuple) and example else str
                group.add_argument(flag, type=kind, nargs="*", help=f"({shown})")
            else:
                group.add_argument(flag, type=type(default), help=f"({shown})")
    return p


def select(names: Sequence[str]) -> list[Measure]:
    """The measures asked for (all when none), with what they need, in registry order."""
    by_name = {m.name: m for m in MEASURES}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown measure(s) {', '.join(unknown)}; see python -m bench --list")
    wanted = set(names or by_name)
    while extra := {n for w in wanted for n in by_name[w].needs} - wanted:
        wanted |= extra
    return [m for m in MEASURES if m.name in wanted]


def command(m: Measure, opts: Options, quick: bool) -> list[str]:
    """The arguments that run this measure again as it ran now."""
    argv = [m.name, *(["--quick"] if quick else [])]
    base = {**m.defaults, **(m.quick if quick else {})}
    for key, value in opts.values.items():
        if value != base.get(key):
            name = key if key in SHARED else f"{m.name}_{key}"
            argv.append(f"--{name.replace('_', '-')}")
            argv += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
    return argv


def listing(measures: Iterable[Measure]) -> str:
    lines = []
    for m in measures:
        needs = f" (runs {', '.join(m.needs)} first)" if m.needs else ""
        lines += [f"{m.name}: {m.question}{needs}", f"    full: {m.takes}",
                  f"    --quick: {m.quick_note}"]  # fmt: skip
    return "\n".join(lines)


def _stop(signum: int, frame: object) -> None:
    # SystemExit unwinds through every server's finally, so none outlives the run.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.list:
        print(listing(MEASURES))
        return 0
    signal.signal(signal.SIGTERM, _stop)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    chosen = select(args.measures)
    out: Path = args.out.resolve()
    results: Path = args.results_dir or (out if args.quick else report.RESULTS_DIR)
    ctx = Context(out=out, quick=args.quick, force_media=args.force_media)
    given: dict[str, Value | None] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in vars(args).items()
    }
    failed: list[str] = []
    missed: list[str] = []
    for i, m in enumerate(chosen, 1):
        print(f"== {m.name} ({i}/{len(chosen)}): {m.question}")
        if lost := [n for n in m.needs if n in failed]:
            print(f"skipped: {m.name} needs {', '.join(lost)}, which failed", file=sys.stderr)
            failed.append(m.name)
            continue
        opts = m.options(given, quick=args.quick)
        machine = describe()
        try:
            with LoadSampler() as loads:
                sections = m.run(ctx, opts)
        except FAILURES as exc:
            print(f"error: {m.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(m.name)
            continue
        first = report.run_lines(machine, loads, command(m, opts, args.quick))
        for section in sections:
            path = report.write(section, results, first)
            print(f"wrote the {section.key} section of {path}")
            missed += [f"{m.name}: {what}" for what in section.missed]
    for what in missed:
        print(f"missed: {what}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 3 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
