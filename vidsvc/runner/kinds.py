"""Every kind of work this service does, by JobKind: what the composition root hands the Runner."""

from __future__ import annotations

from vidsvc.jobs import JobKind
from vidsvc.runner.clips import Clips
from vidsvc.runner.compositions import Compositions
from vidsvc.runner.execute import Handlers


def handlers() -> Handlers:
    return {JobKind.COMPOSITION: Compositions(), JobKind.CLIPS: Clips()}
