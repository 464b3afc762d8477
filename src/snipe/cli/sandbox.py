"""`snipe sandbox ...`: run the local replica of the booking site."""

from __future__ import annotations

import typer

app = typer.Typer(help="Run the local replica of the booking site (for demos and tests).",
                  no_args_is_help=True)
