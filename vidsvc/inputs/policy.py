"""Which input URLs are accepted: the one policy every kind of input goes through.

`s3://` (a bucket in ALLOWED_S3_BUCKETS), `http(s)://` (a host in ALLOWED_URL_HOSTS; internal
addresses only as their exact host:port), `file://` (under a directory in ALLOWED_LOCAL_DIRS,
symlinks counted where they lead). Everything else is refused with INVALID_CLIP_FORMAT
naming the field, before anything is fetched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from vidsvc.config import Settings
from vidsvc.errors import InvalidClipFormat
from vidsvc.inputs.source import Source

_MAX_URL = 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _check_http(parts: SplitResult, src: Source, settings: Settings) -> Source:
    if "@" in parts.netloc:
        raise InvalidClipFormat.at(src.field, "URLs must not carry credentials")
    try:
        port = parts.port or _DEFAULT_PORTS[src.scheme]
    except ValueError:
        raise InvalidClipFormat.at(src.field, "the URL's port is invalid") from None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise InvalidClipFormat.at(src.field, "the URL has no host")
    # aiohttp (which network imports) costs ~170 ms: only http(s) inputs pay for it
    from vidsvc.inputs import network

    if not network.host_rule(host, port, settings.allowed_url_hosts)[0]:
        raise InvalidClipFormat.at(src.field, f"host {host[:100]} is not in ALLOWED_URL_HOSTS")
    try:
        network.check_host(host, port, settings.allowed_url_hosts)
    except network.Refused as exc:
        raise InvalidClipFormat.at(src.field, f"{exc}; list it with its port") from None
    return Source(url=src.url, scheme=src.scheme, field=src.field, host=host, port=port)


def allowed_dir(real: Path, settings: Settings) -> bool:
    return any(real.is_relative_to(os.path.realpath(d)) for d in settings.allowed_local_dirs)


def _check_file(parts: SplitResult, src: Source, settings: Settings) -> Source:
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise InvalidClipFormat.at(src.field, "file URLs are file:///absolute/path, nothing more")
    path = unquote(parts.path)
    if _CONTROL.search(path) or "\\" in path or ".." in path.split("/"):
        raise InvalidClipFormat.at(src.field, "the file path has control characters, '\\' or '..'")
    real = Path(os.path.realpath(path))  # symlinks count where they lead
    if not allowed_dir(real, settings):
        raise InvalidClipFormat.at(
            src.field, "the file is not under a directory in ALLOWED_LOCAL_DIRS"
        )
    return Source(url=src.url, scheme="file", field=src.field, path=real)


def _check_s3(parts: SplitResult, src: Source, settings: Settings) -> Source:
    bucket = parts.netloc
    if not _BUCKET.match(bucket):
        raise InvalidClipFormat.at(
            src.field, "s3 URLs are s3://bucket/key with a valid bucket name"
        )
    if bucket not in settings.allowed_s3_buckets:
        raise InvalidClipFormat.at(src.field, f"bucket {bucket} is not in ALLOWED_S3_BUCKETS")
    key = src.url[len(f"s3://{bucket}/") :]  # raw: "?" and "#" are legal in keys
    for form in (key, unquote(key)):  # encoded dots and slashes are refused too
        segments = form.split("/")
        if not form or "" in segments or "." in segments or ".." in segments:
            raise InvalidClipFormat.at(
                src.field, "the s3 key is empty or has empty, '.' or '..' segments"
            )
        if _CONTROL.search(form) or "\\" in form or len(form.encode()) > 1024:
            raise InvalidClipFormat.at(
                src.field, "the s3 key has control characters or '\\', or is too long"
            )
    return src


_CHECKS = {"file": _check_file, "http": _check_http, "https": _check_http, "s3": _check_s3}


def _form_problem(url: str) -> str | None:
    if not url:
        return "the URL is empty"
    if len(url) > _MAX_URL:
        return f"the URL is longer than {_MAX_URL} characters"
    if _CONTROL.search(url):
        return "the URL contains control characters"
    if url.startswith("-") or url != url.strip():
        return "the URL starts with '-' or has surrounding whitespace"
    if "\\" in url:
        return "the URL contains a backslash"
    return None


def checked(url: str, settings: Settings, field: str) -> Source:
    if problem := _form_problem(url):
        raise InvalidClipFormat.at(field, problem)
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidClipFormat.at(field, "the URL cannot be parsed") from None
    scheme = parts.scheme.lower()
    if scheme not in _CHECKS:
        shown = f"scheme {scheme[:16]!r}" if scheme else "a URL without a scheme"
        raise InvalidClipFormat.at(
            field, f"{shown} is not accepted (use s3://, http(s):// or file://)"
        )
    if url[len(scheme) : len(scheme) + 3] != "://":
        raise InvalidClipFormat.at(field, f"{scheme} URLs start with {scheme}://")
    return _CHECKS[scheme](parts, Source(url=url, scheme=scheme, field=field), settings)


def check_url(url: str, settings: Settings, *, field: str) -> None:
    """Refuse (InvalidClipFormat naming `field`) a URL the input policy does not accept."""
    checked(url, settings, field)
