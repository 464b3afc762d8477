"""Alembic environment for snipe. Used both by `alembic` on the command line (configured in
pyproject.toml's [tool.alembic]) and by snipe itself on first use."""

from __future__ import annotations

from alembic import context

from snipe.adapters.db.models import Base

config = context.config
target_metadata = Base.metadata

# APScheduler keeps its own table in the same database; it is not ours to migrate.
EXCLUDED_TABLES = {"apscheduler_jobs"}


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    return not (type_ == "table" and name in EXCLUDED_TABLES)


def database_url() -> str:
    """The URL given to Alembic, else snipe's own: $SNIPE_DB, or the data dir's file."""
    given = config.get_main_option("sqlalchemy.url")
    if given:
        return given
    import os

    from snipe.adapters.db.store import resolve_url
    from snipe.adapters.paths import data_dir

    return resolve_url(os.environ.get("SNIPE_DB"), data_dir())


def run_migrations_offline() -> None:
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from snipe.adapters.db.store import make_engine

        url = database_url()
        # snipe's own engine: a SQLite file is created 0600 in an existing folder (the data
        # dir is made private), with the pragmas snipe uses; any other URL as given.
        engine = make_engine(url, create_folder=not config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run(conn)
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
