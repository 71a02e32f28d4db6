"""``python -m nexudus_async.testing``: run the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

import attrs

from .config import EmulatorConfig, ThrottleLimits
from .server import EmulatorServer, serve

__all__ = ["build_config", "main", "parser"]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m nexudus_async.testing",
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
    print("Press Ctrl-C to stop.", flush=True)


async def _run(config: EmulatorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    await serve(config, ready=_announce, stop=stop)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(build_config(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
