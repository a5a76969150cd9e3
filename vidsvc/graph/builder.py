"""GraphBuilder: allocates pad labels in call order (so snapshots are stable) and collects filters.

Pure: imports only vidsvc.graph.model.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator

from vidsvc.graph.model import Filter, Graph, Input

Arg = str | int | float


def fmt(value: Arg) -> str:
    """Numbers as FFmpeg reads them: integers bare, floats without exponent or noise."""
    if isinstance(value, float):
        text = f"{value:.6f}".rstrip("0").rstrip(".")
        return text or "0"
    return str(value)


class GraphBuilder:
    def __init__(self) -> None:
        self._inputs: list[Input] = []
        self._filters: list[Filter] = []
        self._files: dict[str, str] = {}
        self._links: dict[str, str] = {}
        self._count = {"v": 0, "a": 0}
        #: inside sharing(): the inputs opened before it, by what they are, next reused first
        self._earlier: dict[Input, deque[int]] | None = None
        self._readers = 1

    def input(self, path: str, options: tuple[str, ...] = (), *, raw: bool = False) -> int:
        """Add an input file; returns its index (pads are `{index}:v` and `{index}:a`)."""
        item = Input(path=path, options=options, raw=raw)
        if self._earlier is not None and self._earlier.get(item):
            return self._earlier[item].popleft()
        self._inputs.append(item)
        return len(self._inputs) - 1

    @contextlib.contextmanager
    def sharing(self) -> Iterator[None]:
        """Inputs opened inside read the same inputs as those opened before, in the same
        order: one more rendition's chains over the first one's decoded frames. FFmpeg hands
        one decoder's frames to every filter that reads its pad, so each input is demuxed and
        decoded once however many shapes are made of it; the readers of a pad advance
        together (every rendition has the same timeline), so few frames wait between them.
        The k-th identical input inside maps to the k-th before (a looped clip opens one
        input per repeat, each read at its own time: never one pad for all of them)."""
        earlier: dict[Input, deque[int]] = {}
        for index, item in enumerate(self._inputs):
            earlier.setdefault(item, deque()).append(index)
        self._earlier = earlier
        self._readers += 1
        try:
            yield
        finally:
            self._earlier = None

    def side_file(self, name: str, text: str) -> str:
        """Register a side file (written into the workspace before FFmpeg runs); returns its
        workspace-relative name, which is all the graph string ever holds of it."""
        if name in self._files:
            raise ValueError(f"side file {name} registered twice")
        self._files[name] = text
        return name

    def link_file(self, name: str, target: str) -> str:
        """Register a workspace-relative link to an existing file (a resolved font)."""
        self._links[name] = target
        return name

    def _label(self, kind: str) -> str:
        self._count[kind] += 1
        return f"{kind}{self._count[kind] - 1}"

    def add_many(
        self,
        name: str,
        inputs: tuple[str, ...] | list[str],
        kinds: str,
        /,
        *positional: Arg,
        **args: Arg,
    ) -> tuple[str, ...]:
        """Add one filter with len(kinds) outputs ('v'/'a' each); returns their labels."""
        outputs = tuple(self._label(k) for k in kinds)
        pairs = tuple(("", fmt(v)) for v in positional)
        pairs += tuple((k, fmt(v)) for k, v in args.items())
        self._filters.append(Filter(name=name, inputs=tuple(inputs), outputs=outputs, args=pairs))
        return outputs

    def add(
        self, name: str, inputs: tuple[str, ...] | list[str], /, *pos: Arg, **args: Arg
    ) -> str:
        """Add a video filter with one output."""
        return self.add_many(name, inputs, "v", *pos, **args)[0]

    def add_audio(
        self, name: str, inputs: tuple[str, ...] | list[str], /, *pos: Arg, **args: Arg
    ) -> str:
        """Add an audio filter with one output."""
        return self.add_many(name, inputs, "a", *pos, **args)[0]

    def chain(self, pad: str, *steps: tuple[str, dict[str, Arg]]) -> str:
        """Apply filters one after another, each fed by the previous output."""
        for name, args in steps:
            pad = self.add_many(name, (pad,), pad[0] if ":" not in pad else pad[-1], **args)[0]
        return pad

    def finish(
        self, *outputs: str, feeds: tuple[Graph, ...] = (), sound: Graph | None = None
    ) -> Graph:
        graph = Graph(
            feeds=feeds,
            sound=sound,
            inputs=tuple(self._inputs),
            filters=tuple(self._filters),
            outputs=outputs,
            files=dict(self._files),
            links=dict(self._links),
            readers=self._readers,
        )
        graph.check()
        return graph
