"""Alembic owns the schema; this applies it on first use without paying Alembic's import cost
on every command (the head revision is checked with one query first)."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

log = logging.getLogger(__name__)

# Keep in step with the newest file in alembic/versions (a test checks it).
HEAD = "0003"


def script_location() -> Path:
    """The migrations folder: inside the installed wheel, or the repository's top-level alembic/."""
    packaged = resources.files("snipe") / "_migrations"
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[4] / "alembic"
    if repo.is_dir():
        return repo
    raise FileNotFoundError("snipe's migrations are missing from this installation")


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(script_location()))
    # configparser reads '%' as interpolation: a path with '(' or ':' is URL-quoted into '%28'.
    cfg.set_main_option("sqlalchemy.url",
                        engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def ensure_schema(engine: Engine) -> None:
    if current_revision(engine) == HEAD:
        return
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    log.info("database schema upgraded to %s", HEAD)
