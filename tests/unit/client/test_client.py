"""vidsvc.client against a real `vidsvc serve`: submit, wait (socket and polling), download,
cancel, errors with the envelope's code; the sync client; `vidsvc submit` as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.media import probe
from tests.support.server import Server, tiny
from vidsvc.client import (
    AsyncClient,
    Client,
    CompositionFailed,
    Progress,
    VidsvcClientError,
)

pytestmark = pytest.mark.ffmpeg


async def test_submit_wait_download(live: Server, clips: dict[str, Path], tmp_path: Path) -> None:
    seen: list[Progress] = []
    async with AsyncClient(live.url) as api:
        accepted = await api.submit(tiny(clips["short"]))
        assert accepted.composition_id.startswith("comp_") and accepted.status == "queued"
        assert accepted.websocket_url.startswith("ws://")
        done = await api.wait(accepted.composition_id, on_progress=seen.append, timeout=60)
        assert done.status == "completed" and done.output_url
        out = await api.download(accepted.composition_id, tmp_path / "out.mp4")
        meta = await api.metadata(accepted.composition_id)
        listed = await api.list()
    assert seen and seen[-1].percentage == 100
    percentages = [p.percentage for p in seen]
    assert percentages == sorted(percentages)
    assert {p.stage for p in seen} & {"encoding", "validating", "uploading", "completed"}
    info = probe(out)
    assert abs(float(info["format"]["duration"]) - 1.0) < 0.2
    assert [s["height"] for s in info["streams"] if s["codec_type"] == "video"] == [180]
    assert meta["composition_id"] == accepted.composition_id and meta["command"]
    assert listed[0].composition_id == accepted.composition_id


async def test_each_rendition_downloads_by_its_number(
    live: Server, clips: dict[str, Path], tmp_path: Path
) -> None:
    shapes = [{"aspect_ratio": "16:9"}, {"aspect_ratio": "9:16"}]
    async with AsyncClient(live.url) as api:
        accepted = await api.submit(tiny(clips["short"], renditions=shapes))
        done = await api.wait(accepted.composition_id, timeout=60)
        first = await api.download(accepted.composition_id, tmp_path / "wide.mp4")
        second = await api.download(accepted.composition_id, tmp_path / "tall.mp4", rendition=1)
        with pytest.raises(VidsvcClientError) as err:
            await api.download(accepted.composition_id, tmp_path / "none.mp4", rendition=2)
    assert [(o["width"], o["height"]) for o in done.outputs] == [(320, 180), (180, 320)]
    for path, size in ((first, (320, 180)), (second, (180, 320))):
        video = next(s for s in probe(path)["streams"] if s["codec_type"] == "video")
        assert (video["width"], video["height"]) == size
    assert err.value.code == "NOT_FOUND" and not (tmp_path / "none.mp4").exists()


async def test_wait_polls_when_the_socket_cannot_open(
    live: Server, clips: dict[str, Path]
) -> None:
    """The forwarded host makes the server's websocket_url point at a closed port."""
    seen: list[Progress] = []
    async with AsyncClient(live.url, headers={"X-Forwarded-Host": "127.0.0.1:9"}) as api:
        accepted = await api.submit(tiny(clips["short"]))
        assert accepted.websocket_url.startswith("ws://127.0.0.1:9/")
        done = await api.wait(
            accepted.composition_id, on_progress=seen.append, poll_interval=0.1, timeout=60
        )
    assert done.status == "completed" and seen[-1].percentage == 100


async def test_errors_carry_the_envelope_code(live: Server, clips: dict[str, Path]) -> None:
    async with AsyncClient(live.url) as api:
        with pytest.raises(VidsvcClientError) as bad:
            await api.submit({"clips": "none"})
        assert bad.value.code == "VALIDATION_ERROR" and bad.value.status == 400
        with pytest.raises(VidsvcClientError) as missing:
            await api.get("comp_doesnotexist")
        assert missing.value.code == "COMPOSITION_NOT_FOUND" and missing.value.status == 404
        outside = tiny(Path("/etc/hostname"))
        with pytest.raises(VidsvcClientError) as refused:
            await api.submit(outside)
        assert refused.value.code == "INVALID_CLIP_FORMAT"
        assert refused.value.request_id
    async with AsyncClient("http://127.0.0.1:9") as down:
        with pytest.raises(VidsvcClientError) as conn:
            await down.get("comp_x")
        assert conn.value.code == "CONNECTION_ERROR"


async def test_cancel_makes_wait_raise_cancelled(live: Server, clips: dict[str, Path]) -> None:
    spec = tiny(clips["long"], resolution="720p", fps=30, preset="medium")
    async with AsyncClient(live.url) as api:
        accepted = await api.submit(spec)
        after = await api.cancel(accepted.composition_id)
        assert after.status in ("cancelled", "queued", "processing")
        with pytest.raises(CompositionFailed) as ended:
            await api.wait(accepted.composition_id, timeout=60)
    assert ended.value.code == "CANCELLED" and ended.value.composition.status == "cancelled"


def test_the_sync_client(live: Server, clips: dict[str, Path], tmp_path: Path) -> None:
    with Client(live.url) as api:
        accepted = api.submit(tiny(clips["short"]))
        done = api.wait(accepted.composition_id, timeout=60)
        out = api.download(accepted.composition_id, tmp_path / "sync.mp4")
        with pytest.raises(VidsvcClientError) as early:
            api.download("comp_doesnotexist", tmp_path / "none.mp4")
    assert done.status == "completed" and out.stat().st_size > 1000
    assert early.value.code == "COMPOSITION_NOT_FOUND"
    assert not (tmp_path / "none.mp4").exists()


def submit_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vidsvc", "submit", *args],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ},
    )


def test_vidsvc_submit(live: Server, clips: dict[str, Path], tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    document = tiny(clips["short"])
    document["clips"][0]["url"] = str(clips["short"])  # an absolute path becomes file://
    spec.write_text(json.dumps(document))
    out = tmp_path / "cli.mp4"
    done = submit_cli(str(spec), str(out), "--server", live.url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(out)
    assert abs(float(probe(out)["format"]["duration"]) - 1.0) < 0.2


def test_vidsvc_submit_refuses_relative_paths(live: Server, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"clips": [{"url": "clip.mp4"}], "audio": {"music_url": "m.mp3"}}))
    done = submit_cli(str(spec), str(tmp_path / "x.mp4"), "--server", live.url)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "clips[0].url: 'clip.mp4' is a relative path" in lines[0]


def test_vidsvc_submit_reports_the_envelope(live: Server, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"clips": [{"url": "file:///etc/hostname"}]}))
    done = submit_cli(str(spec), str(tmp_path / "x.mp4"), "--server", live.url)
    assert done.returncode == 1
    assert json.loads(done.stderr)["error"]["code"] == "INVALID_CLIP_FORMAT"
