"""What a measure is, and what measures in one run share.

A measure asks one question and answers it with one or more results sections. Its options
have a default for the full run and, for `--quick`, smaller values (fewer runs, shorter
media, a faster preset): a smoke test of the same work, not a number to quote. Options named
in SHARED are set for every measure at once (`--runs 5`); the others belong to one measure
(`--concurrency-jobs 3`). A measure that compares with another's numbers `needs` it: asking
for it alone runs that one first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.api import Group, ServiceRuns
from bench.harness.reference import prepare
from bench.harness.timing import Contender

Value = int | float | str | tuple[int, ...] | tuple[float, ...] | tuple[str, ...]
#: Options with one flag for every measure that has them: --runs, --preset, --server-jobs.
SHARED = ("runs", "preset", "server_jobs")


@dataclass(frozen=True)
class Section:
    """One measure's part of a results file, replaced in place on every run."""

    key: str  #: the heading starts with it (`## key: title`); unique within its file
    title: str
    lines: list[str]
    file: str = "results.md"  #: within the results directory
    missed: tuple[str, ...] = ()  #: the targets this run did not meet (for --check)


@dataclass(frozen=True)
class Options:
    """A measure's options for this run: defaults, then --quick's, then the command line."""

    values: Mapping[str, Value]

    def integer(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int), (name, value)
        return value

    def number(self, name: str) -> float:
        value = self.values[name]
        assert isinstance(value, int | float), (name, value)
        return float(value)

    def text(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str), (name, value)
        return value

    def integers(self, name: str) -> tuple[int, ...]:
        value = self.values[name]
        assert isinstance(value, tuple) and all(isinstance(v, int) for v in value)
        return tuple(int(v) for v in value)

    def numbers(self, name: str) -> tuple[float, ...]:
        value = self.values[name]
        assert isinstance(value, tuple) and all(isinstance(v, int | float) for v in value)
        return tuple(float(v) for v in value)

    def texts(self, name: str) -> tuple[str, ...]:
        value = self.values[name]
        assert isinstance(value, tuple) and all(isinstance(v, str) for v in value)
        return tuple(str(v) for v in value)


@dataclass
class Baseline:
    """What `overhead` measured, for the measures that compare with it."""

    preset: str
    raw: Contender  #: the hand-written command, its walls and CPU
    service: ServiceRuns  #: the reference through the service


@dataclass
class Context:
    """One `python -m bench` run: where things go, and what measures hand on to later ones."""

    out: Path  #: work directory (media, logs, outputs): bench/out
    quick: bool
    force_media: bool = False  #: regenerate the reference media (once per run)
    baseline: Baseline | None = None
    groups: list[Group] = field(default_factory=list)  #: service jobs, for the estimator

    def reference(self, preset: str) -> Path:
        """The reference media, text files and ref.json in `out`: the spec's path."""
        spec = prepare(self.out, preset, force_media=self.force_media)
        self.force_media = False
        return spec

    def need_baseline(self) -> Baseline:
        if self.baseline is None:
            raise RuntimeError("overhead has not run in this process")
        return self.baseline


@dataclass(frozen=True)
class Measure:
    name: str
    question: str  #: what it asks: the heading of its section
    takes: str  #: how long the full run takes on the 2-core development VM
    quick_note: str  #: what --quick does and how long it takes
    run: Callable[[Context, Options], list[Section]]
    defaults: Mapping[str, Value]
    quick: Mapping[str, Value] = field(default_factory=dict)
    needs: tuple[str, ...] = ()

    def options(self, given: Mapping[str, Value | None], *, quick: bool) -> Options:
        """Defaults, then --quick's values, then what the command line gave (`given` is keyed
        by SHARED names and by `<measure>_<option>`)."""
        values = dict(self.defaults)
        if quick:
            values |= self.quick
        for name in values:
            flag = name if name in SHARED else f"{self.name}_{name}"
            if (value := given.get(flag)) is not None:
                values[name] = value
        return Options(values)
