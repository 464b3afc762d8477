"""The root Typer application, global options, and the one way errors reach the user."""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console

from snipe.errors import SnipeError

app = typer.Typer(
    name="snipe",
    help="Book popular gym slots the instant they unlock, across several accounts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _console(stderr: bool) -> Console:
    """Rich's console; when piped (no terminal to measure), wide enough for our tables."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 120
    return Console(stderr=stderr, width=width)


@dataclass
class Context:
    """Passed to every command: where the data lives, how to print, whether to debug."""

    db_url: str | None = None
    debug: bool = False
    console: Console = field(default_factory=lambda: _console(stderr=False))
    err: Console = field(default_factory=lambda: _console(stderr=True))
    _services: Any = None
    _key_checked: bool = False

    def settings(self, **changes: Any) -> Any:
        from snipe.adapters.paths import data_dir
        from snipe.settings import Settings

        return Settings(home=data_dir(create=False), db_url=self.db_url, debug=self.debug
                        ).with_(**changes)

    def services(self, *, check_key: bool = True, **settings: Any) -> Any:
        """The use cases' context (store, clock, drivers, notifier), built once per command.
        Passwords sealed with a key file that is missing or another one stop the command here,
        in one line (`check_key=False`: the commands that help mend that)."""
        if self._services is None:
            from snipe.bootstrap import bootstrap

            self._services = bootstrap(self.settings(**settings))
        if check_key and not self._key_checked:
            self._services.extras["store"].check_key()
            self._key_checked = True
        return self._services

    def reader(self) -> Any:
        """A read-only way into the store, without creating one: the standard library's
        sqlite3 when it can answer (fast), else the full store; None when there is no store."""
        from snipe.adapters.db.lite import lite_reader, sqlite_file

        path = sqlite_file(self.db_url, self.settings().home)
        if path is not None:
            if not path.exists():
                return None
            probe = lite_reader(path)
            if probe is not None:
                from snipe.adapters.secrets import check_key_opens

                with probe:
                    check_key_opens(probe.sealed_sample(), self.settings().home)
                return lambda: lite_reader(path)
        return self.services().reader

    def clock(self) -> Any:
        from snipe.adapters.clock import default_clock

        return default_clock()

    def run(self, coroutine: Any) -> Any:
        """Run a use case that talks to a site, closing its drivers afterwards."""
        import asyncio

        async def go() -> Any:
            try:
                return await coroutine
            finally:
                if self._services is not None:
                    await self._services.drivers.close()

        return asyncio.run(go())

    def close(self) -> None:
        if self._services is not None:
            from snipe.bootstrap import close

            close(self._services)


def ctx_of(ctx: typer.Context) -> Context:
    obj = ctx.find_root().obj
    if obj is None:  # a command invoked without the root callback (tests calling it directly)
        obj = Context()
        ctx.find_root().obj = obj
    return obj


def abort(message: str, code: int = 1) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    Console(stderr=True).print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="SNIPE_DB", help="Database file or SQLAlchemy URL."),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="SNIPE_DEBUG", help="Show tracebacks and debug logs.")
    ] = False,
) -> None:
    ctx.obj = Context(db_url=db, debug=debug)
    ctx.call_on_close(ctx.obj.close)
    if debug:
        logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(message)s")


def _register() -> None:
    from snipe.cli import sandbox

    app.add_typer(sandbox.app, name="sandbox")
    for module in ("schedule", "status", "daemon", "accounts", "jobs", "bookings",
                   "log", "book", "doctor", "notify", "stats", "monitor", "simulate", "demo",
                   "probe", "slots", "calendar", "web"):
        __import__(f"snipe.cli.{module}")


_register()


def _click_errors() -> tuple[type[BaseException], ...]:
    """Click's exception classes as Typer raises them (it may bundle its own click)."""
    import click

    found: list[type[BaseException]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException

        found.append(ClickException)
    except ImportError:  # a Typer that uses click itself
        pass
    return tuple(found)


def _usage(exc: BaseException) -> bool:
    """A usage problem (unknown command, bad option value, missing argument): one line naming
    it, and exit 2. Help asked for by giving no arguments is shown as help."""
    if not isinstance(exc, _click_errors()):
        return False
    if type(exc).__name__ == "NoArgsIsHelpError":
        return True  # Typer has printed the command's help
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    command = getattr(getattr(exc, "ctx", None), "command_path", "snipe") or "snipe"
    Console(stderr=True).print(f"[bold red]error:[/] {message} (see `{command} --help`)",
                               highlight=False, soft_wrap=True)
    return True


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning our errors into one clear line and a non-zero exit."""
    debug = "--debug" in (argv or sys.argv) or os.environ.get("SNIPE_DEBUG") in {"1", "true"}
    try:
        # Outside standalone mode, click hands an Exit's code back instead of exiting.
        code = app(args=argv, standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except SnipeError as exc:
        if debug:
            raise
        err = Console(stderr=True)
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        for path, problem in getattr(exc, "problems", []) if getattr(exc, "listed", False) \
                else ():
            err.print(f"  {path}: {problem}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        Console(stderr=True).print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # click usage errors and anything unexpected
        if _usage(exc):
            sys.exit(2)
        if debug:
            raise
        Console(stderr=True).print(
            f"[bold red]error:[/] unexpected {type(exc).__name__}: {exc} (rerun with --debug)",
            highlight=False, soft_wrap=True,
        )
        sys.exit(1)
