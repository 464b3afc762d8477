"""Secrets at rest: Fernet (AES-128-CBC + HMAC) with a key in a 0600 file of the 0700 data dir.

Passwords and saved browser sessions go through `Vault.seal` before they touch disk, and come
back through `Vault.open_sealed`. Nothing here ever logs or prints a secret.
"""

from __future__ import annotations

import os
from pathlib import Path

from snipe.adapters.paths import create_private, data_dir, ensure_private_dir
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
    def load(cls, home: Path | None = None, create: bool = True,
             sealed_exists: bool = False) -> Vault:
        """The vault of the data dir. The key is created (0600) once, on first use, atomically
        (of several processes starting together, one makes it and all use it); never when
        secrets sealed with a key already exist: that key is missing, and a new one would make
        them unreadable for good."""
        from cryptography.fernet import Fernet

        path = cls.key_path(home)
        if not path.exists():
            if sealed_exists:
                raise missing_key(path)
            if not create:
                raise SecretError(f"no key file at {path}: secrets cannot be read")
            ensure_private_dir(path.parent)
            create_private(path, Fernet.generate_key())
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


def check_key_opens(sample: bytes | None, home: Path | None = None) -> None:
    """Refuse, in one line that says how to mend it, when secrets are sealed (`sample` is one)
    and the key file is missing or does not open them; create nothing."""
    if sample is None:
        return
    path = Vault.key_path(home)
    if not path.exists():
        raise missing_key(path)
    try:
        Vault.load(home, create=False).open_sealed(sample)
    except SecretError:
        raise wrong_key(path) from None


def missing_key(path: Path) -> SecretError:
    return SecretError(
        f"the key file {path} is missing but this store holds sealed passwords: restore it from "
        f"your backup (or point {ENV_KEY_FILE} at it), or remove the accounts and add them again "
        "with `snipe accounts add`")


def wrong_key(path: Path) -> SecretError:
    return SecretError(
        f"the key file {path} does not open the passwords in this store (was it replaced?): "
        f"restore the right one from your backup (or point {ENV_KEY_FILE} at it), or remove the "
        "accounts and add them again with `snipe accounts add`")
