"""``python -m nexudus_async.testing``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from .config import FAULT_KINDS, EmulatorConfig, FaultRule, ThrottleLimits
from .server import EmulatorServer, serve

__all__ = ["build_config", "main", "parser"]


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


def parser(prog: str = "python -m nexudus_async.testing") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
        description="Run the local Nexudus billing API emulator.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply every time window (0.01: 100x faster throttling)",
    )
    p.add_argument("--no-throttle", action="store_true", help="switch throttling off")
    p.add_argument("--throttle-status", type=int, choices=(409, 429), default=409)
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
    return p


def build_config(args: argparse.Namespace) -> EmulatorConfig:
    limits = ThrottleLimits.off() if args.no_throttle else ThrottleLimits()
    return attrs.evolve(
        EmulatorConfig(),
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        limits=limits,
        throttle_status=args.throttle_status,
        seed=args.seed,
        faults=tuple(args.fault),
    )


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
    for rule in cfg.faults:
        print(f"  Fault:    {rule.kind} on {rule.method} {rule.path} (p={rule.probability:g})")
    print("Press Ctrl-C to stop.", flush=True)


async def _run(config: EmulatorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await serve(config, ready=_announce, stop=stop)


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    args = (parser(prog) if prog else parser()).parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(build_config(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
