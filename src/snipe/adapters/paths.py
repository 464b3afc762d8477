"""Where snipe keeps its files: one private data directory (0700)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "SNIPE_HOME"


def data_dir(create: bool = True) -> Path:
    """`$SNIPE_HOME`, else the platform's user data directory for snipe."""
    override = os.environ.get(ENV_HOME)
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path("snipe", appauthor=False)
    if create:
        ensure_private_dir(path)
    return path


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by the owner only (0600)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def artifacts_dir() -> Path:
    return ensure_private_dir(data_dir() / "artifacts")


def sessions_dir() -> Path:
    return ensure_private_dir(data_dir() / "sessions")
