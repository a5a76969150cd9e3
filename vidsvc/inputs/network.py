"""Which network addresses count as internal, and DNS answers pinned for aiohttp.

One rule for every outbound connection (input downloads, callback delivery): an internal
address (loopback, private, link-local, metadata) is reached only when its exact "host:port"
is listed. Hosts are resolved once, every answer is checked, and the connection goes only to
those answers (PinnedResolver), so a DNS rebind between the check and the connect cannot
reach an internal address (docs/reliability.md A2.7). Callers turn `Refused` into their own error.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Names that always mean this machine or a cloud metadata service.
INTERNAL_NAMES = frozenset({"localhost", "metadata.google.internal", "metadata"})
_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")  # 127.1, 2130706433, 0x7f000001, 0177.1


def literal_ip(host: str) -> IPAddress | None:
    """The address a host names literally, including the short forms connect() accepts."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_internal(ip: IPAddress) -> bool:
    """Loopback, private, link-local (metadata), CGNAT, multicast, reserved: not the internet."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and int(ip) < 1 << 32:  # IPv4-compatible ::a.b.c.d
            embedded = ipaddress.IPv4Address(int(ip))
        if embedded is not None:
            return is_internal(embedded)
    return not ip.is_global or ip.is_multicast or ip.is_reserved


def is_internal_host(host: str) -> bool:
    """True for internal names and internal literal addresses (no DNS)."""
    ip = literal_ip(host)
    return host in INTERNAL_NAMES or (ip is not None and is_internal(ip))


def _entry(raw: str) -> tuple[str, int | None] | None:
    parts = urlsplit("//" + raw.strip().lower())
    try:
        return (parts.hostname or "").rstrip("."), parts.port
    except ValueError:  # not a port: the entry matches nothing
        return None


def host_rule(host: str, port: int, entries: Sequence[str]) -> tuple[bool, bool]:
    """(listed at all, listed as this exact host:port) among "host" / "host:port" entries.

    A bare "host" allows any port; internal addresses need their exact "host:port".
    """
    listed = exact = False
    for entry in map(_entry, entries):
        if entry is not None and entry[0] == host:
            listed = listed or entry[1] in (None, port)
            exact = exact or entry[1] == port
    return listed, exact


async def resolve(host: str, port: int) -> list[ResolveResult]:
    """Every TCP address of host:port (OSError when there is none)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    answers: list[ResolveResult] = [
        {
            "hostname": host,
            "host": str(sockaddr[0]),
            "port": port,
            "family": family,
            "proto": proto,
            "flags": socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
        }
        for family, _, proto, _, sockaddr in infos
    ]
    return answers


def any_internal(answers: list[ResolveResult]) -> bool:
    return any(is_internal(ipaddress.ip_address(a["host"].partition("%")[0])) for a in answers)


class Refused(Exception):
    """The host or one of its addresses is internal and not listed as its exact host:port."""


def check_host(host: str, port: int, listed: Sequence[str]) -> None:
    """Static (no DNS): refuse an internal name or literal address not listed exactly."""
    if is_internal_host(host) and not host_rule(host, port, listed)[1]:
        raise Refused(f"{host[:100]} is an internal address")


async def resolve_checked(host: str, port: int, listed: Sequence[str]) -> list[ResolveResult]:
    """Resolve once and refuse if ANY answer is internal (unless host:port is listed exactly);
    OSError when the name does not resolve. Connect only to these answers (PinnedResolver)."""
    answers = await resolve(host, port)
    if any_internal(answers) and not host_rule(host, port, listed)[1]:
        raise Refused(f"{host[:100]} resolves to an internal address")
    return answers


class PinnedResolver(AbstractResolver):
    """Answers aiohttp with addresses that were already checked: connect where we looked."""

    def __init__(self, answers: list[ResolveResult]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return self.answers

    async def close(self) -> None:
        return None
