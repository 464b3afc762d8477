"""Secrets at rest: Fernet (AES-128-CBC + HMAC) with a key in a 0600 file of the 0700 data dir.

Passwords and saved browser sessions go through `Vault.seal` before they touch disk, and come
back through `Vault.open_sealed`. Nothing here ever logs or prints a secret.
"""

from __future__ import annotations

import os
from pathlib import Path

from snipe.adapters.paths import data_dir, ensure_private_dir, write_private
from snipe.errors import SecretError

KEY_FILE = "secret.key"
ENV_KEY_FILE = "SNIPE_KEY_FILE"


class Secret(str):
    """A string that never shows itself in reprs, logs or tracebacks."""

    def __repr__(self) -> str:
        return "Secret('***')"

    def reveal(self) -> str:
        return str.__str__(self)


class Vault:
    def __init__(self, key: bytes) -> None:
        from cryptography.fernet import Fernet

        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "Vault(***)"

    @classmethod
    def key_path(cls, home: Path | None = None) -> Path:
        override = os.environ.get(ENV_KEY_FILE)
        if override:
            return Path(override).expanduser()
        return (home or data_dir()) / KEY_FILE

    @classmethod
    def load(cls, home: Path | None = None, create: bool = True) -> Vault:
        """The vault of the data dir; the key is created (0600) on first use."""
        from cryptography.fernet import Fernet

        path = cls.key_path(home)
        if not path.exists():
            if not create:
                raise SecretError(f"no key file at {path}: secrets cannot be read")
            ensure_private_dir(path.parent)
            write_private(path, Fernet.generate_key())
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
            return cls(path.read_bytes().strip())
        except (OSError, ValueError) as exc:
            raise SecretError(f"key file {path} is unreadable or not a key: {exc}") from None

    def seal(self, plain: str | bytes) -> bytes:
        data = plain.encode() if isinstance(plain, str) else plain
        return self._fernet.encrypt(data)

    def open_sealed(self, token: bytes) -> bytes:
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(token)
        except InvalidToken:
            raise SecretError(
                "a stored secret does not match the key file (was the key replaced?)"
            ) from None

    def open_secret(self, token: bytes) -> Secret:
        return Secret(self.open_sealed(token).decode())
