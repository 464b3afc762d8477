"""The store: SQLAlchemy 2 models, the engine with SQLite pragmas, units of work, migrations."""
