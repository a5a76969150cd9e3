"""The command line: `vidsvc serve`, `vidsvc render SPEC.json OUT.mp4` (no server; with
`--plan` instead of OUT: the dry run's plan as JSON, nothing rendered) and
`vidsvc submit SPEC.json OUT.mp4 --server URL` (through a server, with vidsvc.client).

The composition root. Exit codes: 0 rendered (or planned), or served and stopped cleanly; 1 the
composition or a render failed (the JSON error envelope is on stderr); 2 bad usage or a bad
setting.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TextIO

from vidsvc import __version__, spec
from vidsvc.config import Settings
from vidsvc.errors import ConfigError, ValidationError, VidsvcError
from vidsvc.schema import parse_composition
from vidsvc.work.compositions.dryrun import local_plan
from vidsvc.work.compositions.render import render

BAR_WIDTH = 30


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vidsvc", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vidsvc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the HTTP API on HOST:PORT (settings: environment)")
    commands.add_parser("migrate", help="apply pending database migrations, then exit")
    one = commands.add_parser("render", help="render one composition to a file, no server")
    one.add_argument("spec", type=Path, help="composition JSON (relative paths: from its folder)")
    one.add_argument(
        "out",
        type=Path,
        nargs="?",
        help="output file (its format's extension); the thumbnail goes beside it (.jpg), "
        "rendition N as OUT with N before the extension",
    )
    one.add_argument("--quiet", action="store_true", help="no progress bar")
    one.add_argument(
        "--plan",
        action="store_true",
        help="print the dry run's plan (JSON) instead of rendering: inputs staged and probed",
    )
    sub = commands.add_parser("submit", help="render one composition on a server, download it")
    sub.add_argument("spec", type=Path, help="composition JSON (absolute paths or URLs only)")
    sub.add_argument("out", type=Path, help="where the finished MP4 is written")
    sub.add_argument("--server", default="http://127.0.0.1:8000", help="the vidsvc base URL")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _local_url(url: str, base: Path) -> str:
    """Relative and absolute paths become file:// URLs (the CLI only; the API needs URLs)."""
    if "://" in url:
        return url
    return (base / url).resolve().as_uri()


def load_composition(path: Path) -> spec.Composition:
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path} is not valid JSON: {exc}") from None
    base = path.resolve().parent
    return parse_composition(document).with_urls(lambda i: _local_url(i.url, base))


def cli_settings(env: Mapping[str, str]) -> Settings:
    """The environment's settings; local files anywhere are fine for one's own command line."""
    return Settings.from_env({"ALLOWED_LOCAL_DIRS": "/", **env})


class Shown(Protocol):
    """A progress as the bar shows it: the server's (`vidsvc render`) or the client's."""

    @property
    def stage(self) -> str: ...
    @property
    def percentage(self) -> float: ...
    @property
    def message(self) -> str: ...


class Bar:
    """A one-line progress bar on a terminal; silent elsewhere."""

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream, self.enabled = stream, enabled

    def __call__(self, progress: Shown) -> None:
        if not self.enabled:
            return
        filled = int(BAR_WIDTH * progress.percentage / 100)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"{progress.percentage:5.1f}% {progress.stage:<11} {progress.message[:40]:<40}"
        self.stream.write(f"\r[{bar}] {line}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def _plan(args: argparse.Namespace, settings: Settings) -> int:
    """`render --plan`: the plan a dry run answers (docs/api.md#dry-run), on stdout."""
    try:
        plan = asyncio.run(local_plan(load_composition(args.spec), settings))
    except VidsvcError as exc:
        sys.stderr.write(json.dumps(exc.envelope(), ensure_ascii=False) + "\n")
        return 1
    print(json.dumps({"plan": plan}, indent=2, ensure_ascii=False))
    return 0


def _render(args: argparse.Namespace, settings: Settings) -> int:
    if args.plan == (args.out is not None):  # both, or neither
        sys.stderr.write("vidsvc render: give either OUT or --plan\n")
        return 2
    if args.plan:
        return _plan(args, settings)
    bar = Bar(sys.stderr, sys.stderr.isatty() and not args.quiet)
    try:
        comp = load_composition(args.spec)
        out = args.out.resolve()
        result = asyncio.run(
            render(
                comp,
                settings,
                video_out=out,
                thumbnail_out=out.with_suffix(".jpg"),
                on_progress=bar,
            )
        )
    except VidsvcError as exc:
        bar.close()
        sys.stderr.write(json.dumps(exc.envelope(), ensure_ascii=False) + "\n")
        return 1
    bar.close()
    for made in result.renditions:  # one without output.renditions
        print(f"{made.video} ({made.width}x{made.height}, {result.duration_ms / 1000:.2f} s), "
              f"thumbnail {made.thumbnail}")  # fmt: skip
    return 0


def _event_loop() -> asyncio.AbstractEventLoop | None:
    """A uvloop loop when uvloop is installed; None lets aiohttp make the default one."""
    try:
        import uvloop
    except ImportError:
        return None
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def _serve(settings: Settings) -> int:
    # Imported here: `vidsvc render` needs neither aiohttp's server nor the stores.
    from vidsvc.http import serve
    from vidsvc.http.logs import configure_logging

    configure_logging(settings.log_level)
    try:
        serve(settings, loop=_event_loop())
    except ConfigError as exc:  # raised while opening the stores, before serving
        sys.stderr.write(f"vidsvc: {exc}\n")
        return 2
    return 0


def _migrate(settings: Settings) -> int:
    """Opening the stores applies pending migrations (serve does the same on start)."""
    from vidsvc.store import open_stores

    async def run() -> None:
        async with open_stores(settings):
            pass

    try:
        asyncio.run(run())
    except (ConfigError, VidsvcError) as exc:
        sys.stderr.write(f"vidsvc: {exc}\n")
        return 2
    print("migrations applied; the database is up to date")
    return 0


def _submit(args: argparse.Namespace) -> int:
    # Imported here: the client needs none of the server's modules (nor they it).
    from vidsvc.client.cli import report, submit_file

    bar = Bar(sys.stderr, sys.stderr.isatty() and not args.quiet)
    try:
        out = asyncio.run(submit_file(args.spec, args.out.resolve(), args.server, bar))
    except Exception as exc:  # report() re-raises what it does not know
        bar.close()
        return report(exc)
    bar.close()
    print(out)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "submit":
        return _submit(args)
    try:
        # The server takes the environment as it is; the CLI may read local files anywhere.
        if args.command in ("serve", "migrate"):
            settings = Settings.from_env(os.environ)
        else:
            settings = cli_settings(os.environ)
    except ConfigError as exc:
        sys.stderr.write(f"vidsvc: {exc}\n")
        return 2
    if args.command == "serve":
        return _serve(settings)
    if args.command == "migrate":
        return _migrate(settings)
    return _render(args, settings)


if __name__ == "__main__":
    sys.exit(main())
