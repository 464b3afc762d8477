"""The `snipe` command line. Commands are thin: parse, call a service, render."""

from __future__ import annotations

from snipe.cli.app import app, main

__all__ = ["app", "main"]
