"""check_url: every URL form of RELIABILITY B3, S4, S7 and S10, refused or accepted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.runner.inputs import check_url

FIELD = "clips[3].url"
ALLOWED = "{allowed}"  # replaced by the allowed directory of each test


@pytest.fixture
def allowed(tmp_path: Path) -> Path:
    path = tmp_path / "allowed"
    path.mkdir()
    (path / "escape.mp4").symlink_to("/etc/passwd")
    return path


@pytest.fixture
def settings(allowed: Path) -> Settings:
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
def test_refused(template: str, settings: Settings, allowed: Path) -> None:
    with pytest.raises(InvalidClipFormat) as caught:
        check_url(_url(template, allowed), settings, field=FIELD)
    assert caught.value.code == "INVALID_CLIP_FORMAT"
    assert caught.value.details == {"field": FIELD}
    assert caught.value.message.startswith(f"{FIELD}: ")
    assert "\n" not in caught.value.message and str(allowed) not in caught.value.message


@pytest.mark.parametrize("template", ACCEPTED)
def test_accepted(template: str, settings: Settings, allowed: Path) -> None:
    check_url(_url(template, allowed), settings, field=FIELD)


def test_nothing_is_allowed_by_default(allowed: Path) -> None:
    for url in (
        "s3://ok-bucket/a.mp4",
        "https://media.example.com/a.mp4",
        f"file://{allowed}/a.mp4",
    ):
        with pytest.raises(InvalidClipFormat):
            check_url(url, Settings(), field=FIELD)


def test_a_symlinked_allowed_dir_is_compared_by_real_path(tmp_path: Path, allowed: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(allowed)
    settings = Settings(allowed_local_dirs=(alias,))
    check_url(f"file://{allowed}/a.mp4", settings, field=FIELD)
    check_url(f"file://{alias}/a.mp4", settings, field=FIELD)


def test_realpath_is_what_counts(tmp_path: Path, allowed: Path) -> None:
    inside = allowed / "inside.mp4"
    (tmp_path / "outside.mp4").write_bytes(b"x")
    inside.symlink_to(allowed / "real.mp4")  # dangling but inside: fine statically
    settings = Settings(allowed_local_dirs=(allowed,))
    check_url(f"file://{inside}", settings, field=FIELD)
    os.remove(inside)
    inside.symlink_to(tmp_path / "outside.mp4")
    with pytest.raises(InvalidClipFormat):
        check_url(f"file://{inside}", settings, field=FIELD)
