"""The command line: a thin layer over the library. Each module here adds its commands to the `bir` group.

Commands parse options, call one library function, pick a reporter and return an exit code:
0 clean, 1 problems found, 2 usage or configuration error, 3 internal error.
"""

from __future__ import annotations

import errno
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from bir import __version__
from bir.base.problems import UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


# Each command and the module here that adds it: a command's module is imported only when it runs, so a run
# of `bir validate` does not build every other command (`tests/test_clidoc.py` checks this table).
COMMAND_MODULES: dict[str, str] = {
    "assign": "operations", "audit": "operations", "change": "change", "export": "exchange", "feed": "report",
    "history": "change", "import": "exchange", "init": "authoring", "log": "change", "new": "authoring",
    "notify": "notify", "reconcile": "exchange", "report": "report", "return": "operations", "set": "authoring",
    "site": "site", "transition": "authoring", "validate": "validate",
}


class _Commands(click.Group):
    """The `bir` group, loading each command's module when the command is asked for (help lists them all)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(f"{__name__}.{module}")
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        load_commands()
        return super().list_commands(ctx)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="bir")
def cli() -> None:
    """bir: the register of the managed infrastructure, as code."""


def root_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--root", "root", type=click.Path(file_okay=False, path_type=Path), default=None,
                        help="The register's folder (default: the register containing the current folder).")(fn)


def resolve_root(root: Path | None) -> Path:
    from bir.read.config import find_root

    return find_root(root if root is not None else Path.cwd())


def load_commands() -> None:
    """Import every command's module (for help and the generated reference)."""
    for module in sorted(set(COMMAND_MODULES.values())):
        importlib.import_module(f"{__name__}.{module}")


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"bir: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: no traceback reaches a user; each failure is one sentence and an exit code."""
    from bir.read.config import ConfigError

    try:
        code = cli.main(args=argv, prog_name="bir", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        for p in exc.problems:
            click.echo(f"{p.path}:{p.line}:{p.column}: {p.severity.value}: {p.message} [{p.rule}]", err=True)
            if p.hint:
                click.echo(f"    hint: {p.hint}", err=True)
        _fail(f"configuration error: {exc}", EXIT_USAGE)
    except UsageError as exc:
        for p in getattr(exc, "problems", None) or ():  # a malformed schema, say: each problem where it is
            click.echo(f"{p.path}:{p.line}:{p.column}: {p.severity.value}: {p.message} [{p.rule}]", err=True)
            if p.hint:
                click.echo(f"    hint: {p.hint}", err=True)
        _fail(f"error: {exc}", EXIT_USAGE)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except OSError as exc:
        from bir.base.atomic import ENVIRONMENT_ERRNOS

        if exc.errno not in ENVIRONMENT_ERRNOS or os.environ.get("BIR_DEBUG"):
            _internal(exc)
        _fail(f"error: {environment_message(exc)}", EXIT_USAGE)
    except RecursionError:  # input nested past what any reader takes: never a bug report's traceback
        if os.environ.get("BIR_DEBUG"):
            raise
        _fail("error: the input is nested too deeply to be read; flatten it", EXIT_USAGE)
    except Exception as exc:  # the promise: never a traceback, unless asked for
        _internal(exc)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def run() -> NoReturn:
    """The console entry point (`bir`, `python -m bir`): `main`, then an end of the process that skips
    tearing its heap down object by object.

    When `main` returns, a command has closed and renamed everything it wrote; what a normal exit still does
    is free every object and run the collector over what is left, about 3 s after a site build of 100,000
    records. Here the exit does what matters of it, in its order: it waits for threads that are not daemons
    and runs the exit handlers (child processes, finalizers: `threading._shutdown` and
    `atexit._run_exitfuncs`, the two the interpreter itself calls), flushes the standard streams, and ends.
    Tests call `main`, which exits normally."""
    import atexit
    import threading

    try:
        main()
        code = EXIT_OK
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or EXIT_OK
        else:  # sys.exit("text"): printed, status 1, as the interpreter does
            print(exc.code, file=sys.stderr)
            code = 1
    for step in (getattr(threading, "_shutdown", None), getattr(atexit, "_run_exitfuncs", None)):
        try:
            if step is not None:
                step()
        except BaseException:  # noqa: S110 - Ctrl-C while exiting: end as the interpreter would, quietly
            pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`bir ... | head`): nothing more can reach it
            pass
    os._exit(code)


def _internal(exc: BaseException) -> NoReturn:
    if os.environ.get("BIR_DEBUG"):
        raise exc
    text = str(exc)
    if len(text) > 300:
        text = text[:299] + "…"
    _fail(f"internal error ({type(exc).__name__}: {text}); this is a bug in bir: please report it "
          "with the command you ran (set BIR_DEBUG=1 to see the traceback)", EXIT_INTERNAL)


_ENVIRONMENT_HINTS = {
    errno.EROFS: "the file system is mounted read-only; run the command where the register can be written",
    errno.ENOSPC: "the disk is full; free some space and run the command again",
    errno.EDQUOT: "the disk quota is used up; free some space and run the command again",
    errno.EACCES: "permission denied; check the owner and mode of that path",
    errno.EPERM: "the operation is not permitted there; check the owner and mode of that path",
}


def environment_message(exc: OSError) -> str:
    """An error of the environment (not of bir) in one sentence that names the path."""
    where = exc.filename if exc.filename is not None else ""
    path = os.fsdecode(where) if isinstance(where, (str, bytes)) else str(where)
    reason = _ENVIRONMENT_HINTS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
    return f"{path}: {reason}" if path else reason
