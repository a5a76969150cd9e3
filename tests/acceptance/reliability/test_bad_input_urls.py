"""RELIABILITY.md group B (B3, B4) with S4 and S10's URL forms: the input URL policy and the
probe's refusals of non-media (see test_bad_input.py for the codes).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.inputs.policy import check_url
from vidsvc.media.probe import probe

PROBE_FIELD = "clips[1].url"

pytestmark = pytest.mark.B
Client = TestClient[web.Request, web.Application]


# -- the real app (real Runner, SQLite, disk) --------------------------------------------------
# -- B3, S4, S10: the URL policy --------------

POLICY_FIELD = "clips[3].url"
ALLOWED = "{allowed}"  # replaced by the allowed directory of each test


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    path = tmp_path / "allowed"
    path.mkdir()
    (path / "escape.mp4").symlink_to("/etc/passwd")
    return path


@pytest.fixture
def policy_settings(allowed: Path) -> Settings:
    return Settings(
        allowed_s3_buckets=("ok-bucket", "allowed"),
        allowed_url_hosts=(
            "media.example.com",
            "cdn.example.com:8443",
            "127.0.0.1:9000",
            "169.254.169.254",
            "[::1]:8080",
            "metadata.google.internal",
        ),
        allowed_local_dirs=(allowed,),
    )


REFUSED = [
    # schemes and protocol tricks (B3)
    "ftp://media.example.com/a.mp4",
    "gopher://media.example.com/",
    "data:video/mp4;base64,AAAA",
    "concat:a.mp4|b.mp4",
    "subfile,,start,0,end,100,,:/etc/passwd",
    "file:/etc/passwd",
    "file:relative.mp4",
    "relative/clip.mp4",
    "/absolute/clip.mp4",
    "",
    "s3://ok-bucket/" + "k" * 5000,
    # argv and control characters (S4)
    "-i",
    "-f lavfi",
    " s3://ok-bucket/x.mp4",
    "s3://ok-bucket/x.mp4 ",
    "s3://ok-bucket/x\nfile '/etc/passwd'",
    "s3://ok-bucket/x\r.mp4",
    "s3://ok-bucket/x\x00.mp4",
    "s3://ok-bucket/x%00.mp4",
    "s3://ok-bucket/x\u2028.mp4",
    "https://media.example.com/a\n.mp4",
    # s3 (B3, S10)
    "s3:/ok-bucket/key.mp4",
    "s3://ok-bucket",
    "s3://ok-bucket/",
    "s3://not-allowed/x.mp4",
    "s3://Ok-Bucket/x.mp4",
    "s3://user@ok-bucket/x.mp4",
    "s3://ok-bucket:443/x.mp4",
    "s3://allowed/../other/x.mp4",
    "s3://allowed/a/../../b.mp4",
    "s3://allowed/./b.mp4",
    "s3://allowed/%2e%2e/x.mp4",
    "s3://allowed/%2E%2E/x.mp4",
    "s3://allowed/a%2f..%2fb.mp4",
    "s3://allowed//etc/passwd",
    "s3://allowed/a//b.mp4",
    "s3://allowed/a\\b.mp4",
    "s3://allowed/a%5c..%5cb.mp4",
    # http hosts (S7 forms, minus callbacks)
    "http://evil.example.org/a.mp4",
    "http://user:pass@media.example.com/a.mp4",
    "http://user@media.example.com/a.mp4",
    "http://media.example.com:99999/a.mp4",
    "http://media.example.com:port/a.mp4",
    "https://cdn.example.com/x.mp4",  # listed for 8443 only
    "http:///a.mp4",
    "http://127.0.0.1/a.mp4",
    "http://127.0.0.1:9001/a.mp4",
    "http://127.1:9000/a.mp4",
    "http://2130706433:9000/a.mp4",
    "http://0x7f000001:9000/a.mp4",
    "http://localhost:9000/a.mp4",
    "http://169.254.169.254/latest/meta-data/",  # listed, but internal without a port
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[::1]/a.mp4",
    "http://[::ffff:127.0.0.1]:9000/a.mp4",
    "http://[fe80::1%25eth0]/a.mp4",
    # local files (B3)
    "file:///etc/passwd",
    "file://otherhost" + ALLOWED + "/a.mp4",
    "file://" + ALLOWED + "/../../etc/passwd",
    "file://" + ALLOWED + "/%2e%2e/x.mp4",
    "file://" + ALLOWED + "/escape.mp4",  # a symlink out of the allowed directory
    "file://" + ALLOWED + "/a.mp4?x=1",
    "file://" + ALLOWED + "/a%00.mp4",
    "file://" + ALLOWED + "-sibling/a.mp4",
]

ACCEPTED = [
    "s3://ok-bucket/clip.mp4",
    "s3://ok-bucket/-i",
    "s3://ok-bucket/a b -f lavfi.mp4",
    "s3://ok-bucket/it's a clip.mp4",
    "s3://allowed/deep/er/clip.mov",
    "https://media.example.com/a.mp4",
    "http://media.example.com:8080/a.mp4?sig=abc#t=1",
    "HTTPS://MEDIA.EXAMPLE.COM/a.mp4",
    "https://media.example.com./a.mp4",
    "https://cdn.example.com:8443/x.mp4",
    "http://127.0.0.1:9000/a.mp4",
    "http://[::1]:8080/a.mp4",
    "file://" + ALLOWED + "/a.mp4",
    "file://localhost" + ALLOWED + "/sub/a%20b.mp4",
]


def _url(template: str, allowed: Path) -> str:
    return template.replace(ALLOWED, str(allowed))


@pytest.mark.parametrize("template", REFUSED)
def test_refused(template: str, policy_settings: Settings, allowed: Path) -> None:
    """B3, S4, S10: every refused URL form, INVALID_CLIP_FORMAT naming the field, no path
    echoed (moved, with the rest of this section, from tests/runner/test_input_policy.py)."""
    with pytest.raises(InvalidClipFormat) as caught:
        check_url(_url(template, allowed), policy_settings, field=POLICY_FIELD)
    assert caught.value.code == "INVALID_CLIP_FORMAT"
    assert caught.value.details == {"field": POLICY_FIELD}
    assert caught.value.message.startswith(f"{POLICY_FIELD}: ")
    assert "\n" not in caught.value.message and str(allowed) not in caught.value.message


@pytest.mark.parametrize("template", ACCEPTED)
def test_accepted(template: str, policy_settings: Settings, allowed: Path) -> None:
    """B3, S4: option-like and quoted keys are fine: they never reach argv (test_security)."""
    check_url(_url(template, allowed), policy_settings, field=POLICY_FIELD)


def test_nothing_is_allowed_by_default(allowed: Path) -> None:
    for url in (
        "s3://ok-bucket/a.mp4",
        "https://media.example.com/a.mp4",
        f"file://{allowed}/a.mp4",
    ):
        with pytest.raises(InvalidClipFormat):
            check_url(url, Settings(), field=POLICY_FIELD)


def test_a_symlinked_allowed_dir_is_compared_by_real_path(tmp_path: Path, allowed: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(allowed)
    settings = Settings(allowed_local_dirs=(alias,))
    check_url(f"file://{allowed}/a.mp4", settings, field=POLICY_FIELD)
    check_url(f"file://{alias}/a.mp4", settings, field=POLICY_FIELD)


def test_realpath_is_what_counts(tmp_path: Path, allowed: Path) -> None:
    inside = allowed / "inside.mp4"
    (tmp_path / "outside.mp4").write_bytes(b"x")
    inside.symlink_to(allowed / "real.mp4")  # dangling but inside: fine statically
    settings = Settings(allowed_local_dirs=(allowed,))
    check_url(f"file://{inside}", settings, field=POLICY_FIELD)
    os.remove(inside)
    inside.symlink_to(tmp_path / "outside.mp4")
    with pytest.raises(InvalidClipFormat):
        check_url(f"file://{inside}", settings, field=POLICY_FIELD)


@pytest.mark.ffmpeg
@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("text.mp4", "Invalid data found when processing input"),
        # jpeg.mp4 is a still since issue 12 (tests/render/test_stills_inputs.py); a GIF
        # stays refused there
        ("archive.mp4", "Invalid data found when processing input"),
        ("hls.mp4", "is not accepted"),
        ("concat.mov", "format concat is not accepted"),
        ("dash.mp4", "Invalid data found when processing input"),
        ("truncated.mp4", "moov atom not found"),
    ],
)
async def test_non_media_is_refused(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings], name: str, reason: str
) -> None:
    """B4, B7: non-media in disguise and a truncated MP4 are INVALID_CLIP_FORMAT at the
    probe, with no path in the message."""
    with pytest.raises(InvalidClipFormat) as caught:
        await probe(probe_media[name], runner_settings(), field=PROBE_FIELD)
    err = caught.value
    assert err.code == "INVALID_CLIP_FORMAT" and err.details == {"field": PROBE_FIELD}
    assert err.message.startswith(f"{PROBE_FIELD}: not a decodable video or audio file (")
    assert reason in err.message
    assert str(probe_media[name].parent) not in err.message and "/" not in err.message


@pytest.mark.ffmpeg
async def test_validation_off_still_refuses_non_media(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings]
) -> None:
    """B4: the allow-lists hold even with RUN_FFPROBE_VALIDATION off."""
    relaxed = runner_settings(run_ffprobe_validation=False)
    for name in ("hls.mp4", "truncated.mp4"):
        with pytest.raises(InvalidClipFormat):
            await probe(probe_media[name], relaxed, field=PROBE_FIELD)


@pytest.mark.ffmpeg
@pytest.mark.S
async def test_a_file_named_like_an_option(
    probe_media: dict[str, Path], runner_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    """S4: a staged file named like an option is probed as a file."""
    odd = tmp_path / "-i:x.mp4"
    odd.write_bytes(probe_media["av.mp4"].read_bytes())
    assert (await probe(odd, runner_settings(), field=PROBE_FIELD)).has_video
