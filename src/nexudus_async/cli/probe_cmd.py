"""``nexudus-async probe``: what the account does where the vendor's pages disagree.

Argument parsing and printing only; the checks live in :mod:`nexudus_async.probe`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from .._core.argtypes import positive_number
from .._core.auth import BearerToken
from .._core.environment import ENV_PASSWORD
from .._core.errors import NexudusError
from .._core.transport import SendError
from ..probe.run import CHECK_NAMES, ProbeOptions, run_probe
from ..probe.writes import MARK, STATE_FILE, WriteTargets
from .connect import (
    Connection,
    CredentialsError,
    add_connection_options,
    connection_from,
    published_limits,
)
from .failures import EXIT_UNREACHABLE, EXIT_USAGE, failure_line

__all__ = ["add_probe_parser"]

INT32_MAX = 2_147_483_647


class UsageError(Exception):
    """A bad option: one line, exit 2, nothing sent."""


def _positive_id(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= INT32_MAX:
        raise argparse.ArgumentTypeError(f"{text!r} is not an Id (1 to {INT32_MAX})")
    return int(text)


def add_probe_parser(sub: Any) -> None:
    p = sub.add_parser(
        "probe",
        help="check how your account answers where the API's pages disagree (read-only)",
        description="Ask your account, in a few dozen paced requests, what the vendor's "
        "pages disagree on (page size, sort direction, get by ids, 404 bodies, filters, "
        "fields, enum values, the token endpoint, the throttled answer) and say whether "
        "the client copes. Exit 0: as the client assumes; 1: the account differs.",
    )
    add_connection_options(p)
    p.add_argument(
        "--time-scale",
        type=positive_number,
        default=1.0,
        help="scale of the rate limits' clock (an emulator's --time-scale); default 1",
    )
    p.add_argument(
        "--json",
        metavar="FILE",
        help="write every finding as JSON (an emulator "
        "profile: nexudus-async emulator --profile FILE)",
    )
    p.add_argument(
        "--checks",
        metavar="NAME,...",
        help=f"run only these read checks: {', '.join(CHECK_NAMES)}",
    )
    w = p.add_argument_group(
        "writes (--write: two passes made, read back, changed and deleted; their SystemId "
        f"and Notes start with {MARK!r}, so a rerun deletes what an interrupted run left)"
    )
    w.add_argument("--write", action="store_true", help="also run the write checks")
    w.add_argument("--coworker", type=_positive_id, metavar="ID", help="customer of the passes")
    w.add_argument("--business", type=_positive_id, metavar="ID", help="their business")
    w.add_argument("--time-pass", type=_positive_id, metavar="ID", help="their time pass")
    w.add_argument(
        "--state",
        metavar="FILE",
        default=STATE_FILE,
        help=f"where an unfinished write run notes what to clean up (default {STATE_FILE})",
    )
    p.set_defaults(handler=run_probe_command)


def _checks(args: argparse.Namespace) -> tuple[str, ...] | None:
    if args.checks is None:
        return None
    names = tuple(n.strip() for n in args.checks.split(",") if n.strip())
    unknown = [n for n in names if n not in CHECK_NAMES]
    if unknown or not names:
        raise UsageError(
            f"--checks: {', '.join(unknown) or 'empty'} not a check; "
            f"one of {', '.join(CHECK_NAMES)}"
        )
    return names


def _targets(args: argparse.Namespace) -> WriteTargets | None:
    given = {
        "--coworker": args.coworker,
        "--business": args.business,
        "--time-pass": args.time_pass,
    }
    if not args.write:
        if any(v is not None for v in given.values()):
            raise UsageError("--coworker/--business/--time-pass: only with --write")
        return None
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise UsageError(f"--write needs {', '.join(missing)} (Ids you set aside for the probe)")
    return WriteTargets(args.coworker, args.business, args.time_pass, Path(args.state))


def _options(args: argparse.Namespace, conn: Connection) -> ProbeOptions:
    credentials = None
    if not isinstance(conn.auth, BearerToken):
        password = args.password or os.environ.get(ENV_PASSWORD, "")
        credentials = (conn.user, password)
    return ProbeOptions(
        conn.base_url,
        conn.auth,
        conn.user,
        published_limits(args.time_scale),
        credentials,
        _targets(args),
        _checks(args),
        conn.insecure_http,
    )


def _write_json(path: str, text: str) -> None:
    target = Path(path)
    target.write_text(text, encoding="utf-8")


def run_probe_command(args: argparse.Namespace) -> int:
    err = sys.stderr
    try:
        conn = connection_from(args)
        options = _options(args, conn)
    except (CredentialsError, UsageError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    print(f"probing {conn.describe()} ...", file=err, flush=True)
    try:
        report = asyncio.run(run_probe(options))
    except NexudusError as exc:
        code, line = failure_line(exc, conn, resumable=False)
        print(conn.auth.redact(line), file=err)
        return code
    except (SendError, OSError, TimeoutError) as exc:
        what = conn.auth.redact(str(exc) or type(exc).__name__)
        print(f"error: cannot reach {conn.base_url}: {what}", file=err)
        return EXIT_UNREACHABLE
    print(report.text(), end="")
    if args.json:
        try:
            _write_json(args.json, report.json_text())
        except OSError as exc:
            print(f"error: --json {args.json}: cannot write: {exc.strerror}", file=err)
            return EXIT_USAGE
        print(f"findings written to {args.json}", file=err)
    return report.exit_code
