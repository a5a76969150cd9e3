"""A graph cut down to its sound: only the filters and inputs its audio output reads.

The loudness analysis (graph/loudness.py) and a split render's sound part (graph/split.py)
run the mix alone: no picture is decoded, and the parts' pipe (graph/parts.py), which has no
writer there, is not opened.

Pure: imports vidsvc.graph.model only.
"""

from __future__ import annotations

from dataclasses import replace

from vidsvc.graph.model import Graph


def sound_only(graph: Graph) -> Graph:
    """`graph` with only what feeds its audio output (outputs[1]), which is its one output;
    the inputs renumbered."""
    audio = graph.outputs[1]
    needed, kept = {audio}, []
    for f in reversed(graph.filters):
        if needed.intersection(f.outputs):
            kept.append(f)
            needed.update(f.inputs)
    filters = tuple(reversed(kept))
    used = sorted(
        {int(label.split(":")[0]) for f in filters for label in f.inputs if ":" in label}
    )
    number = {old: new for new, old in enumerate(used)}

    def renumbered(label: str) -> str:
        index, sep, stream = label.partition(":")
        return f"{number[int(index)]}:{stream}" if sep else label

    filters = tuple(replace(f, inputs=tuple(renumbered(x) for x in f.inputs)) for f in filters)
    inputs = tuple(graph.inputs[i] for i in used)
    pruned = replace(
        graph, inputs=inputs, filters=filters, outputs=(audio,), files={}, feeds=(), readers=1
    )
    pruned.check()
    return pruned
