"""Which callback URLs may be called: checked at submit and again before every attempt.

A callback_url is a request to make this service connect somewhere, so it gets the same SSRF
policy as inputs (docs/reliability.md S7, S8): a static check (http(s) only, no userinfo, no
literal internal address), a DNS check (every address the host resolves to), and the
connection pinned to the addresses that were checked, so a rebind in between reaches nothing.
ALLOWED_CALLBACK_HOSTS lists the exact host:port pairs allowed to be internal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from vidsvc.config import Settings
from vidsvc.errors import ValidationError
from vidsvc.inputs import network

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

FIELD = "callback_url"


def _target(url: str, field: str) -> tuple[str, int]:
    """(host, port) of a well-formed http(s) URL without userinfo; ValidationError otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError.at(field, "is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError.at(field, "must be an http or https URL")
    if parts.username is not None or parts.password is not None:
        raise ValidationError.at(field, "must not contain credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationError.at(field, "has no host")
    return host, port or (443 if parts.scheme == "https" else 80)


def check_callback_url(url: str, settings: Settings, *, field: str = FIELD) -> None:
    """Static check (no I/O). Raises ValidationError naming `field` when refused."""
    host, port = _target(url, field)
    try:
        network.check_host(host, port, settings.allowed_callback_hosts)
    except network.Refused as exc:
        raise ValidationError.at(field, f"host {exc}") from None


async def checked_answers(
    url: str, settings: Settings, *, field: str = FIELD
) -> list[ResolveResult]:
    """The addresses to connect to: the static check, then every resolved address checked."""
    check_callback_url(url, settings, field=field)
    host, port = _target(url, field)
    try:
        return await network.resolve_checked(host, port, settings.allowed_callback_hosts)
    except OSError:
        raise ValidationError.at(field, f"host {host} cannot be resolved") from None
    except network.Refused as exc:
        raise ValidationError.at(field, f"host {exc}") from None


async def check_callback_resolves(url: str, settings: Settings, *, field: str = FIELD) -> None:
    """Resolve the host; refuse if ANY address is internal (unless host:port is listed)."""
    await checked_answers(url, settings, field=field)
