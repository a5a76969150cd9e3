"""Ports for the servers tests start: one allocator, so two of them never pick the same one.

Asking the kernel for a free port (bind to 0, close, hand the number to a child that binds it
seconds later) races: the kernel hands the same ephemeral ports to the other xdist worker's
servers and to every outgoing connection, and a server that loses the race exits with
"address already in use" while its test talks to someone else's server on that port. So ports
come from below the kernel's ephemeral range (32768-60999 on Linux), a block of its own per
xdist worker, in turn: a port comes back only after the whole block went round.
"""

from __future__ import annotations

import itertools
import os
import socket

FIRST = 20000  #: below ip_local_port_range, so no outgoing connection or bind(0) takes these
BLOCK = 1500  #: ports per xdist worker: gw0 has 20000-21499, gw1 21500-22999, …


def _worker() -> int:
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3"; unset without xdist
    return int(name.removeprefix("gw") or 0)


_start = FIRST + BLOCK * _worker()
_turns = itertools.cycle(range(_start, _start + BLOCK))


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on now and no other test of this session will be given soon."""
    for _ in range(BLOCK):
        port = next(_turns)
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port in {_start}-{_start + BLOCK - 1}")
