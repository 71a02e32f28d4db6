"""``nexudus-async``: the console script.

Commands:

- ``import FILE``: create time passes from CSV or JSON Lines, resumable.
- ``update``, ``delete``, ``apply FILE``, ``undo JOURNAL``: the other bulk jobs, with
  import's options, journal, signals and exit codes.
- ``export``: write time passes as CSV (through the pagination iterator).
- ``probe``: check how the account answers where the API's pages disagree.
- ``emulator``: run the local emulator (``python -m nexudus_async.testing``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import traceback
from collections.abc import Sequence

from .. import __version__
from .apply_cmd import add_apply_parser
from .delete_cmd import add_delete_parser
from .export_cmd import add_export_parser
from .failures import EXIT_INTERNAL, EXIT_SIGINT
from .import_cmd import add_import_parser
from .log_lines import setup_cli_logging
from .probe_cmd import add_probe_parser
from .undo_cmd import add_undo_parser
from .update_cmd import add_update_parser

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nexudus-async",
        description="Nexudus billing time passes from the command line.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_import_parser(sub)
    add_update_parser(sub)
    add_delete_parser(sub)
    add_apply_parser(sub)
    add_undo_parser(sub)
    add_export_parser(sub)
    add_probe_parser(sub)
    sub.add_parser(
        "emulator",
        help="run the local Nexudus emulator (options: nexudus-async emulator --help)",
        add_help=False,
    )
    return p


def _setup_logging(verbose: bool) -> None:
    setup_cli_logging(verbose)  # a retry: one short line with -v, nothing without


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # The emulator parses its own options: hand it everything after the word
    # (global options before it, like -v, are parsed here).
    global_opts = list(itertools.takewhile(lambda a: a.startswith("-"), args_list))
    if args_list[len(global_opts) : len(global_opts) + 1] == ["emulator"]:
        from ..testing.__main__ import main as emulator_main

        head = build_parser().parse_args([*global_opts, "emulator"])
        _setup_logging(head.verbose)
        return emulator_main(args_list[len(global_opts) + 1 :], prog="nexudus-async emulator")
    args = build_parser().parse_args(args_list)
    _setup_logging(args.verbose)
    try:
        code: int = args.handler(args)
    except BrokenPipeError:
        # The reader went away (``nexudus-async export | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_SIGINT
    except Exception as exc:
        # No traceback reaches a user; -v shows it for a bug report.
        if args.verbose:
            traceback.print_exc()
        hint = "" if args.verbose else " (run with -v for the traceback)"
        print(f"error: unexpected {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        return EXIT_INTERNAL
    return code


if __name__ == "__main__":
    sys.exit(main())
