"""What a split render's rows carry (parts/orders.py) and a part's FFmpeg time limit."""

from __future__ import annotations

from tests.support.jobs import make_job
from vidsvc.config import Settings
from vidsvc.graph.split import Part, Sizing, Split
from vidsvc.jobs import JobKind
from vidsvc.work.compositions.parts.orders import SOUND, VIDEO, Order, as_job, blob_key, ids
from vidsvc.work.compositions.parts.work import timed

PARTS = (Part(index=0, first=0, end=300), Part(index=1, first=300, end=6000))
SPLIT = Split(fps=10, frames=6000, gop=20, parts=PARTS)


def order(role: str = VIDEO, index: int = 0) -> Order:
    parent = make_job(attempts=2)
    return Order(parent=parent.id, parent_token="t" * 32, role=role, index=index,
                 plan="ab" * 32, facts={"ffmpeg": "ffmpeg version 5.1"}, split=SPLIT.to_dict(),
                 duration_ms=600_000, chunk_ms=30_000, max_parts=6, slots=4,
                 siblings=ids(parent, 2), cache_key=None)  # fmt: skip


def test_an_order_survives_its_row() -> None:
    o = order()
    assert Order.of(o.to_payload()) == o
    assert o.plan_split == SPLIT
    # every instance plans the parts the parent asked for, with the slots it counted
    assert Order.of(o.to_payload()).sizing == Sizing(chunk_ms=30_000, max_parts=6, slots=4)


def test_rows_are_named_by_the_parent_and_its_attempt() -> None:
    parent = make_job(attempts=2)
    rows = ids(parent, 2)
    stem = f"part_{parent.id.removeprefix('comp_')}_2"
    assert rows == (f"{stem}_v0", f"{stem}_v1", f"{stem}_s")
    o = order()
    job = as_job(rows[0], o, parent)
    assert job.kind is JobKind.PART and job.created_at == parent.created_at
    assert o.join_id.endswith("_j") and o.video_ids == o.siblings[:-1]


def test_a_parts_file_is_keyed_by_plan_and_lease_token() -> None:
    o = order()
    assert (
        blob_key(o, "part0.mp4", "f" * 32) == f"parts/{o.parent}/{'ab' * 8}/{'f' * 16}-part0.mp4"
    )
    assert blob_key(o, "part0.mp4", "f" * 32) != blob_key(o, "part0.mp4", "e" * 32)


def test_a_part_gets_its_share_of_the_job_timeout() -> None:
    settings = Settings(job_timeout=1200)
    assert timed(settings, order(VIDEO, 1)).job_timeout == 1200 * 5700 / 6000
    assert timed(settings, order(VIDEO, 0)).job_timeout == 60  # 5 % of 1200 s is under the floor
    assert timed(settings, order(SOUND)).job_timeout == 1200  # the whole mix
    assert timed(Settings(job_timeout=30), order(VIDEO, 0)).job_timeout == 30
