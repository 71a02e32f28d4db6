"""``python -m nexudus_async.testing`` (or ``nexudus-async emulator``): run the emulator
until Ctrl-C or SIGTERM. Bad options and seed files are one line on stderr, exit 2."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import ssl
import sys
import tempfile
from collections.abc import Iterator, Sequence
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
from .record_cli import RecordMode, add_record_options, record_mode, serve_mode
from .server import EmulatorServer, serve
from .tls import ServerCertificate, TLSUnavailableError, make_local_certificate

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


#: ``--limit NAME=N``: the ThrottleLimits fields that count requests.
LIMIT_NAMES = ("per_minute", "per_hour", "per_day", "writes_per_minute", "writes_per_day")


def _limit(text: str) -> tuple[str, int | None]:
    """``NAME=N`` (``writes_per_day=2500``) or ``NAME=off``."""
    name, sep, value = (part.strip() for part in text.partition("="))
    name = name.replace("-", "_")
    if not sep or name not in LIMIT_NAMES:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected NAME=N with NAME one of {', '.join(LIMIT_NAMES)}"
        )
    if value.lower() == "off":
        return name, None
    if not value.isascii() or not value.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: {name} must be a whole number or off")
    return name, int(value)


def _add_limit_option(p: argparse.ArgumentParser) -> None:
    """The published limits as numbers (the vendor's pages have changed them)."""
    p.add_argument(
        "--limit",
        type=_limit,
        action="append",
        default=[],
        metavar="NAME=N",
        help="change one published limit, repeatable: "
        + ", ".join(LIMIT_NAMES)
        + " (e.g. writes_per_day=2500, the older page's; N or off)",
    )


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
    _add_limit_option(p)
    _add_account_options(p)
    add_record_options(p)
    _add_tls_options(p)
    return p


def _add_tls_options(p: argparse.ArgumentParser) -> None:
    tls = p.add_argument_group("TLS (serve https://)")
    tls.add_argument(
        "--tls",
        action="store_true",
        help="serve https:// with a certificate for localhost/127.0.0.1 signed by an "
        "authority made at start; its file is printed (clients trust it with --ca-bundle "
        "FILE or NEXUDUS_CA_BUNDLE). Needs pip install 'nexudus-async[emulator-tls]'",
    )
    tls.add_argument("--cert", metavar="PEM", help="serve https:// with this certificate chain")
    tls.add_argument("--key", metavar="PEM", help="the private key of --cert")


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


@contextlib.contextmanager
def _certificate(args: argparse.Namespace) -> Iterator[ServerCertificate | None]:
    """The certificate the options ask for (a made one lives in a temporary directory
    until the emulator stops); ValueError names a bad option."""
    if args.tls and (args.cert or args.key):
        raise ValueError("--tls makes its own certificate: give either --tls or --cert/--key")
    if bool(args.cert) != bool(args.key):
        raise ValueError("--cert and --key go together")
    if args.cert:
        cert = ServerCertificate(args.cert, args.key)
        try:
            cert.server_context()
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"--cert/--key: cannot be used ({exc})") from None
        yield cert
    elif args.tls:
        with tempfile.TemporaryDirectory(prefix="nexudus-emulator-tls-") as folder:
            try:
                yield make_local_certificate(folder)
            except TLSUnavailableError as exc:
                raise ValueError(f"--tls: {exc}") from None
    else:
        yield None


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    """The configuration the options describe; ValueError names a bad one."""
    limits = ThrottleLimits.off() if args.no_throttle else ThrottleLimits()
    limits = attrs.evolve(limits, **dict(args.limit))
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
    if server.ca_bundle is not None:
        print(
            f"  CA:       {server.ca_bundle}  (trust it: --ca-bundle FILE, "
            "NEXUDUS_CA_BUNDLE or ca_bundle=)"
        )
    seeded = sum(len(records) for records in cfg.seed_records.values())
    if seeded:
        print(f"  Seeded:   {seeded} records")
    print("Press Ctrl-C to stop.", flush=True)


async def _run(
    config: EmulatorConfig, tls: ServerCertificate | None, mode: RecordMode | None = None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
    if mode is not None:  # --proxy or --replay
        await serve_mode(mode, config, stop)
        return
    await serve(config, ready=_announce, stop=stop, tls=tls)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    p = parser(prog or DEFAULT_PROG)
    args = p.parse_args(argv)
    with contextlib.ExitStack() as stack:
        try:
            config = build_config(args)
            mode = record_mode(args)
            if mode is not None and (args.tls or args.cert):
                raise ValueError("--tls/--cert serve the emulator itself, not --proxy or --replay")
            tls = stack.enter_context(_certificate(args))
        except ValueError as exc:
            p.exit(2, f"{p.prog}: error: {exc}\n")
        try:
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(_run(config, tls, mode))
        except ValueError as exc:  # a --record folder that cannot be made
            p.exit(2, f"{p.prog}: error: {exc}\n")
        except OSError as exc:  # the address is taken or not ours
            p.exit(2, f"{p.prog}: error: cannot listen on {config.host}:{config.port}: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
