"""Pure compiler from a composition (and probed inputs) to one FFmpeg argv. No I/O.

timeline.plan(composition, durations, limits, heard) -> Timeline
build.build(timeline, composition, sources, fonts) -> Graph
compile.compile_command(graph, encoding) -> Command
"""

from __future__ import annotations

from vidsvc.graph.compile import Command, Encoding, compile_command, output_name
from vidsvc.graph.model import FontFace, Graph, GraphError, Source
from vidsvc.graph.narration import Heard
from vidsvc.graph.render_graph import build
from vidsvc.graph.timeline import Limits, Timeline, check, plan

__all__ = [
    "Command",
    "Encoding",
    "FontFace",
    "Graph",
    "GraphError",
    "Heard",
    "Limits",
    "Source",
    "Timeline",
    "build",
    "check",
    "compile_command",
    "output_name",
    "plan",
]
