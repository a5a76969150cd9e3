"""The one report writer: each measure's section of a results file, replaced in place.

A results file is a `# title`, a short preamble, and one `## key: title` section per measure
(subsections are `###`). Writing a section replaces the one with the same key, or appends it,
and leaves the others as they were: sections can come from different runs, and each says
when, on what machine and under what load it ran.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from bench.harness.machine import LoadSampler, Machine
from bench.harness.measure import Section

BENCH_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BENCH_DIR / "results"
PREAMBLES = {
    "results.md": (
        "# Benchmark results",
        "Written by `python -m bench` (`make bench`). Each measure replaces its own section; "
        "each section says when and on what it ran. What each measure asks and how to read "
        "it: bench/README.md.",
    ),
    "sound.md": (
        "# Finished sound: cost on the reference (30.5 s, 720p30)",
        "Written by `python -m bench sound`; bench/README.md says how to read it.",
    ),
    "clips.md": (
        "# Render memory against the clip count",
        "Written by `python -m bench memory`; bench/README.md says how to read it.",
    ),
}


def write_section(path: Path, heading: str, lines: list[str], key: str | None = None) -> None:
    """Replace the `## heading` section of a Markdown file with `lines` (the section found by
    its heading, or by a heading `## key` or `## key: …`), or append it."""
    text = path.read_text() if path.exists() else ""
    body = f"## {heading}\n\n" + "\n".join(lines).rstrip() + "\n"
    pattern = re.escape(heading if key is None else key)
    found = re.search(rf"^## {pattern}(:[^\n]*)?\n", text, flags=re.MULTILINE)
    if found is None:
        text = text.rstrip() + ("\n\n" if text else "") + body
    else:
        end = text.find("\n## ", found.end() - 1)
        rest = text[end + 1 :] if end != -1 else ""
        text = text[: found.start()] + body + ("\n" + rest if rest else "")
    path.write_text(text)


def run_lines(machine: Machine, loads: LoadSampler, argv: list[str]) -> list[str]:
    """A section's first lines: the command, the machine, the load before, during and after."""
    command = shlex.join([Path(sys.executable).name, "-m", "bench", *argv])
    return [
        f"- run: `{command}`, {machine.date}",
        f"- machine: {machine.cores} cores ({machine.cpu}), {machine.ram_gib:.1f} GiB RAM, "
        f"{machine.system}; {machine.ffmpeg}; Python {machine.python}",
        *loads.lines(),
        "",
    ]


def write(section: Section, directory: Path, first: list[str]) -> Path:
    """Put `section` (after its `first` lines) into its file in `directory`."""
    path = directory / section.file
    directory.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        title, about = PREAMBLES.get(section.file, (f"# {section.file}", ""))
        path.write_text(f"{title}\n\n{about}\n".replace("\n\n\n", "\n\n"))
    heading = f"{section.key}: {section.title}"
    write_section(path, heading, [*first, *section.lines], key=section.key)
    return path


def met(good: bool) -> str:
    """A results table's "met" cell: a missed target stands out."""
    return "yes" if good else "**no**"
