"""Signatures on shared caches: the key pair that lets a pull request's check use the verdicts main made.

A cache kept by one machine for itself is sealed with that user's own secret key (`bir.base.atomic.seal`).
A cache handed from one CI job to another cannot be: the job that reads it would need the key that made it,
and a job that holds the key can make any entry. So the cache that main's job shares is *signed* (Ed25519,
by the `cryptography` package): the private key is a secret only main's job holds, the public key is part
of the base branch. A pull request's job verifies with the public key and can make no entry that verifies.

- `BIR_CACHE_SIGNING_KEY=ed25519:<64 hex digits>`: the private key (a CI secret of main's job). Every
  result pack bir writes then gets a `.sig` beside it.
- `BIR_CACHE_TRUSTED_KEY`: the public key, as `ed25519:<64 hex digits>` or the path of a file holding that
  text (in CI: the base branch's `.github/bir-cache.pub`). Only packs whose signature verifies with it are
  read from `BIR_CACHE_SHARED`.

`python -m bir.cache.trust` makes a key pair and prints both halves.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bir.base.problems import UsageError

_PREFIX = "ed25519:"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:  # pragma: no cover -- a dependency; said in one sentence if it is missing anyway
        raise UsageError("signed caches need the `cryptography` package: reinstall bir with its dependencies") from None
    return ed25519


def _key_bytes(text: str, what: str) -> bytes:
    text = text.strip()
    if not text.startswith(_PREFIX):
        raise UsageError(f"{what} is not a key: write it as ed25519:<64 hex digits> (see `python -m bir.cache.trust`)")
    try:
        raw = bytes.fromhex(text[len(_PREFIX):])
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UsageError(f"{what} is not a key: after `ed25519:` come 64 hex digits (32 bytes)")
    return raw


def signing_key() -> Any | None:
    """The private key from BIR_CACHE_SIGNING_KEY (None when unset or empty, as in a job without the secret)."""
    text = os.environ.get("BIR_CACHE_SIGNING_KEY", "")
    if not text.strip():
        return None
    return _crypto().Ed25519PrivateKey.from_private_bytes(_key_bytes(text, "BIR_CACHE_SIGNING_KEY"))


def trusted_key() -> Any | None:
    """The public key from BIR_CACHE_TRUSTED_KEY (the key itself, or a file holding it); None when unset, or
    when it names a file that does not exist (a base branch without a key: nothing shared is trusted)."""
    text = os.environ.get("BIR_CACHE_TRUSTED_KEY", "").strip()
    if not text:
        return None
    what = "BIR_CACHE_TRUSTED_KEY"
    if not text.startswith(_PREFIX):
        path = Path(text)
        if not path.is_file():
            return None
        what = f"the trusted cache key in {path}"
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        # the file may carry comment lines
        text = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    return _crypto().Ed25519PublicKey.from_public_bytes(_key_bytes(text, what))


def sign(key: Any, data: bytes) -> bytes:
    signature: bytes = key.sign(data)
    return signature


def verify(key: Any, data: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def signed_bytes(name: str, data: bytes) -> bytes:
    """What a shared file's signature covers: its name with its bytes, so a signed file copied under another
    name (main's data pack over its facts pack, one kind's validator over another's) does not verify."""
    return name.encode("utf-8") + b"\0" + data


def signature_of(path: Path, data: bytes, key: Any) -> bytes:
    """The signature of the file `path` holding `data` (written beside it as `<name>.sig`)."""
    return sign(key, signed_bytes(path.name, data))


def read_verified(path: Path, public: Any) -> bytes | None:
    """The bytes of the shared file `path` when its `.sig` verifies with `public` (None otherwise, a symbolic
    link or a missing file included: such bytes are never unpacked)."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = path.read_bytes()
        signature = path.with_name(path.name + ".sig").read_bytes()
    except OSError:
        return None
    return data if verify(public, signed_bytes(path.name, data), signature) else None


def keygen() -> tuple[str, str]:
    """A new key pair as text: (private, public)."""
    from cryptography.hazmat.primitives import serialization

    private = _crypto().Ed25519PrivateKey.generate()
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _PREFIX + raw.hex(), _PREFIX + public.hex()


def main() -> int:
    private, public = keygen()
    print("# The private key: store it as the secret BIR_CACHE_SIGNING_KEY of the `bir-cache` environment")
    print("# (Settings -> Environments; deployment branches: main only). Never commit it.")
    print(private)
    print("# The public key: commit it as .github/bir-cache.pub")
    print(public)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
