"""Every kind of work this service does, by JobKind: what the composition root hands the Runner."""

from __future__ import annotations

from vidsvc.jobs import JobKind
from vidsvc.runner.execute import Handlers
from vidsvc.work.clips.handler import Clips
from vidsvc.work.compositions.handler import Compositions
from vidsvc.work.compositions.parts.handler import Parts


def handlers() -> Handlers:
    return {JobKind.COMPOSITION: Compositions(), JobKind.CLIPS: Clips(), JobKind.PART: Parts()}
