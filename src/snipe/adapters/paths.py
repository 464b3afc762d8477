"""Where snipe keeps its files: one private data directory (0700)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import IO, Any

from snipe.errors import StoreError

ENV_HOME = "SNIPE_HOME"


def data_dir(create: bool = True) -> Path:
    """`$SNIPE_HOME`, else the platform's user data directory for snipe."""
    override = os.environ.get(ENV_HOME)
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path("snipe", appauthor=False)
    if path.exists() and not path.is_dir():
        where = f"{ENV_HOME} ({path})" if override else str(path)
        raise StoreError(f"the data folder {where} is a file, not a folder")
    if create:
        ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except FileExistsError:
        raise StoreError(f"{path} is a file, not a folder") from None
    except OSError as exc:
        raise StoreError(f"cannot create the folder {path}: {exc.strerror}") from None
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by the owner only (0600). The temporary file
    has a name of its own (several processes may write at once)."""
    tmp = _written_aside(path, data)
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def _written_aside(path: Path, data: bytes) -> Path:
    """`data` in a new 0600 file beside `path`, under a name no other process uses, synced."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def artifacts_dir() -> Path:
    return ensure_private_dir(data_dir() / "artifacts")


def sessions_dir() -> Path:
    return ensure_private_dir(data_dir() / "sessions")


def create_private(path: Path, data: bytes) -> bool:
    """Create `path` with `data`, 0600, only if it does not exist yet; atomically, so of several
    processes creating it at once exactly one succeeds (True) and the others find it (False)."""
    tmp = _written_aside(path, data)
    try:
        os.link(tmp, path)  # fails if `path` exists: the first writer wins, whole
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def touch_private(path: Path) -> Path:
    """Make sure `path` exists as a file readable by the owner only (0600)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return path


def open_private(path: Path, mode: str = "a+") -> IO[Any]:
    """Open a text file of ours, creating it 0600."""
    touch_private(path)
    return open(path, mode)  # noqa: SIM115 - the caller owns the handle
