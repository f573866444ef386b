"""The server's VAPID key pair (RFC 8292): made once by ``doorstep init``, kept in the instance.

Invariants:
- the private key lives only in ``<instance>/vapid_private.pem`` (PKCS#8 PEM, mode 0600);
  it is never written to the repository, logged or sent anywhere;
- creating the key is atomic and idempotent: two processes running ``doorstep init`` at
  once end with one key, and an existing key is never replaced (replacing it would
  silently invalidate every browser subscription, which is bound to the public key);
- the public key is served as the browser's ``applicationServerKey``: the uncompressed
  P-256 point, base64url without padding.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
import tempfile
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

log = logging.getLogger("doorstep.vapid")

KEY_FILE = "vapid_private.pem"


class VapidKeyMissing(RuntimeError):
    """The instance has no VAPID key: run ``doorstep init`` first."""


def key_path(instance_path: str | os.PathLike[str]) -> Path:
    return Path(instance_path) / KEY_FILE


def ensure_vapid_keys(instance_path: str | os.PathLike[str]) -> Path:
    """Create the VAPID private key in the instance folder unless it exists; return its path."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = key_path(folder)
    if path.exists():
        _tighten_mode(path)
        return path
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Write a private temp file (mkstemp makes it 0600), then hard-link it into place:
    # link() fails if the key already exists, so a concurrent init never overwrites it
    # and nobody ever reads a half-written key.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".vapid-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    return path


def _tighten_mode(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("VAPID private key was readable by others; setting mode 0600")
        os.chmod(path, 0o600)


def load_vapid(instance_path: str | os.PathLike[str]) -> Vapid02:
    """The signing key as a py_vapid object (what pywebpush accepts), cached per file."""
    path = key_path(instance_path)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise VapidKeyMissing(
            f"no VAPID key in {Path(instance_path)}; run `doorstep init`"
        ) from exc
    return _load(str(path), mtime)


@lru_cache(maxsize=8)
def _load(path: str, _mtime: int) -> Vapid02:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be an EC P-256 private key")
    return Vapid02(private_key=key)


def public_key_b64url(instance_path: str | os.PathLike[str]) -> str:
    """The applicationServerKey for ``pushManager.subscribe()``: base64url, no padding."""
    return public_key_of(load_vapid(instance_path))


def public_key_of(vapid: Vapid02) -> str:
    raw = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
