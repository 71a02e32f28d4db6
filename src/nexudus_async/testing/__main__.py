"""``python -m nexudus_async.testing`` (or ``nexudus-async emulator``): run the emulator
until Ctrl-C or SIGTERM. Bad options and seed files are one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import attrs

from .admin import ADMIN_PREFIX, AdminError, is_loopback, load_seed_file
from .config import FAULT_KINDS, EmulatorConfig, FaultRule, ThrottleLimits
from .profile import (
    SETTINGS,
    AccountSetting,
    load_profile_file,
    parse_setting_text,
    profile_of,
    with_profile,
)
from .server import EmulatorServer, serve

__all__ = ["ADMIN_TOKEN_ENV", "build_config", "main", "parser"]

ADMIN_TOKEN_ENV = "NEXUDUS_EMULATOR_ADMIN_TOKEN"
DEFAULT_PROG = "python -m nexudus_async.testing"


class _Parser(argparse.ArgumentParser):
    """One line per mistake (no usage dump): ``PROG: error: --port: ...``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def _fault(text: str) -> FaultRule:
    """``KIND[,METHOD[,PATH[,PROBABILITY[,LATENCY]]]]``: ``error500,POST,/api/billing/*,0.1``."""
    parts = [p.strip() for p in text.split(",")]
    if not 1 <= len(parts) <= 5 or not parts[0]:
        raise argparse.ArgumentTypeError("expected KIND[,METHOD[,PATH[,PROBABILITY[,LATENCY]]]]")
    kw: dict[str, Any] = {"kind": parts[0]}
    for name, value in zip(("method", "path"), parts[1:3], strict=False):
        if value:
            kw[name] = value
    try:
        if len(parts) > 3 and parts[3]:
            kw["probability"] = float(parts[3])
        if len(parts) > 4 and parts[4]:
            kw["latency"] = float(parts[4])
        return FaultRule(**kw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def parser(prog: str = DEFAULT_PROG) -> argparse.ArgumentParser:
    p = _Parser(
        prog=prog,
        description="Run the local Nexudus billing API emulator. Its admin API is "
        f"under {ADMIN_PREFIX}/ (document: {ADMIN_PREFIX}/openapi.json).",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1); any other than loopback needs --admin-token",
    )
    p.add_argument(
        "--port",
        type=_port,
        default=8080,
        help="0 picks a free port; the URL is the last word of the first line printed",
    )
    p.add_argument(
        "--time-scale",
        type=_positive,
        default=1.0,
        help="multiply every time window (0.01: 100x faster throttling)",
    )
    p.add_argument("--no-throttle", action="store_true", help="switch throttling off")
    p.add_argument("--throttle-status", type=int, choices=(409, 429), default=None)
    p.add_argument("--seed", type=int, default=None, help="seed of the fault RNG")
    p.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="KIND[,METHOD[,PATH[,PROB[,LATENCY]]]]",
        help="inject faults, repeatable; kinds: "
        + ", ".join(FAULT_KINDS)
        + " (e.g. error500,POST,/api/billing/*,0.1)",
    )
    p.add_argument(
        "--seed-file",
        metavar="JSON",
        help='records to load at start and on every reset: {"coworkertimepasses": [{...}], ...}',
    )
    p.add_argument(
        "--admin-token",
        metavar="TOKEN",
        help="token the admin API requires (Authorization: Bearer TOKEN); "
        f"default ${ADMIN_TOKEN_ENV}",
    )
    _add_account_options(p)
    return p


def _setting_type(setting: AccountSetting) -> Any:
    def convert(text: str) -> Any:
        try:
            return parse_setting_text(setting, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _add_account_options(p: argparse.ArgumentParser) -> None:
    """``--profile`` and one option per account setting (profile.py's table)."""
    g = p.add_argument_group(
        "account (how the emulated account answers where the vendor's pages disagree)"
    )
    g.add_argument(
        "--profile",
        metavar="JSON",
        help="account settings from a `nexudus-async probe --json` report (or a JSON object "
        "of settings); the options below override it",
    )
    for setting in SETTINGS:
        if setting.option in p._option_string_actions:  # declared above (--throttle-status)
            continue
        shown = "|".join(str(c).lower() for c in setting.choices) or (
            "N|none" if setting.kind == "page_size" else "NAME,..."
        )
        g.add_argument(
            setting.option,
            dest=setting.name,
            type=_setting_type(setting),
            default=argparse.SUPPRESS,  # absent unless given: "none" is a value
            metavar=shown,
            help=setting.help,
        )


def _account_settings(args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if args.profile is not None:
        settings.update(load_profile_file(args.profile))
    given = vars(args)
    for setting in SETTINGS:
        if setting.name in given and (given[setting.name] is not None or setting.kind != "choice"):
            settings[setting.name] = given[setting.name]
    return settings


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    """The configuration the options describe; ValueError names a bad one."""
    limits = ThrottleLimits.off() if args.no_throttle else ThrottleLimits()
    token = args.admin_token if args.admin_token is not None else os.environ.get(ADMIN_TOKEN_ENV)
    if token is not None and not token.strip():
        raise ValueError("--admin-token: must not be empty")
    if not token and not is_loopback(args.host):
        raise ValueError(
            f"--host {args.host}: the admin API of an emulator others can reach needs a "
            f"token: give --admin-token (or ${ADMIN_TOKEN_ENV})"
        )
    seed_records = {}
    if args.seed_file is not None:
        try:
            seed_records = load_seed_file(args.seed_file)
        except AdminError as exc:
            raise ValueError(f"--seed-file {exc.message}") from None
    config = attrs.evolve(
        EmulatorConfig(),
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        limits=limits,
        seed=args.seed,
        faults=tuple(args.fault),
        seed_records=seed_records,
        admin_token=token or None,
    )
    return with_profile(config, _account_settings(args))


def _announce(server: EmulatorServer) -> None:
    cfg = server.config
    throttle = "off" if not cfg.limits.enabled else f"on (time scale {cfg.time_scale:g})"
    print(f"Nexudus emulator listening on {server.base_url}", flush=True)
    print(
        f"  API:      {server.base_url}/api/billing/"
        "coworkertimepasses (and producttimepasses, tarifftimepasses)"
    )
    print(f"  Token:    {server.token_url}")
    print(f"  Login:    {cfg.admin_email} / {cfg.admin_password}  (HTTP Basic or password grant)")
    print(f"  Throttle: {throttle}, status {cfg.throttle_status}")
    changed = {k: v for k, v in profile_of(cfg).items() if v != profile_of(EmulatorConfig())[k]}
    if changed:
        print("  Account:  " + ", ".join(f"{k}={v}" for k, v in changed.items()))
    for rule in cfg.faults:
        print(f"  Fault:    {rule.kind} on {rule.method} {rule.path} (p={rule.probability:g})")
    access = "Authorization: Bearer <admin token>" if cfg.admin_token else "open (loopback only)"
    print(f"  Admin:    {server.base_url}{ADMIN_PREFIX}/ {access}")
    seeded = sum(len(records) for records in cfg.seed_records.values())
    if seeded:
        print(f"  Seeded:   {seeded} records")
    print("Press Ctrl-C to stop.", flush=True)


async def _run(config: EmulatorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
    await serve(config, ready=_announce, stop=stop)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    p = parser(prog or DEFAULT_PROG)
    args = p.parse_args(argv)
    try:
        config = build_config(args)
    except ValueError as exc:
        p.exit(2, f"{p.prog}: error: {exc}\n")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(config))
    except OSError as exc:  # the address is taken or not ours
        p.exit(2, f"{p.prog}: error: cannot listen on {config.host}:{config.port}: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
