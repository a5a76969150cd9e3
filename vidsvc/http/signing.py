"""Signed, expiring URLs for blobs the app serves itself (local disk mode).

`/files/{key}?expires=<unix s>&signature=<hex>`, where the signature is HMAC-SHA256 over the key
and the expiry. The key is SIGNING_KEY, or else a random one generated once and kept in
DATA_DIR/signing.key (mode 0600) so that links survive a restart.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

from vidsvc.config import Settings
from vidsvc.errors import ConfigError, Forbidden

KEY_FILE = "signing.key"


def load_key(settings: Settings) -> bytes:
    """SIGNING_KEY, else DATA_DIR/signing.key, created (0600) by whichever process is first."""
    if settings.signing_key:
        return settings.signing_key.encode()
    path = Path(settings.data_dir) / KEY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            # O_EXCL: two processes starting together must not each write a different key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        key = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"DATA_DIR={str(settings.data_dir)!r}: {path}: {exc.strerror}") from exc
    if len(key) < 32:
        raise ConfigError(f"DATA_DIR: {path} holds no usable key (delete it to make a new one)")
    return key.encode()


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, blob_key: str, expires: int) -> str:
        message = f"{blob_key}\n{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def query(self, blob_key: str, ttl_s: int) -> dict[str, str]:
        """The query string that makes `/files/{blob_key}` readable for ttl_s seconds."""
        expires = int(time.time()) + ttl_s
        return {"expires": str(expires), "signature": self._mac(blob_key, expires)}

    def check(self, blob_key: str, expires: str, signature: str) -> None:
        """Raise Forbidden unless the signature is ours and has not expired."""
        # isascii: "²".isdigit() is true but int() refuses it; compare_digest refuses non-ASCII str
        if not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
            raise Forbidden("the download link is malformed")
        mac = self._mac(blob_key, int(expires)).encode()
        if not hmac.compare_digest(mac, signature.encode("utf-8", "surrogateescape")):
            raise Forbidden("the download link's signature is not valid")
        if int(expires) < time.time():
            raise Forbidden("the download link has expired; ask /download for a new one")
