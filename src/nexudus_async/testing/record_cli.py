"""The emulator command's recording and replay options (``--proxy``, ``--record``,
``--replay``, ``--replay-fallthrough``) and running those two modes."""

from __future__ import annotations

import argparse
import asyncio
import urllib.parse
from pathlib import Path

import attrs

from .admin import ADMIN_PREFIX
from .appserver import AppServer
from .cassette import DRIFT_FILE, Cassette, load_cassette
from .config import EmulatorConfig
from .proxy import RecordingProxy, build_proxy_app
from .replay import ReplayServer

__all__ = ["RecordMode", "add_record_options", "record_mode", "serve_mode"]


@attrs.frozen
class RecordMode:
    """``proxy`` (the service to forward to, ``record`` the cassette folder or None), or
    ``replay`` (a cassette folder, ``fallthrough`` to the stateful emulator)."""

    proxy: str | None = None
    record: Path | None = None
    replay: Path | None = None
    fallthrough: bool = False
    upstream_timeout: float = 120.0


def add_record_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("record and replay (see the testing README)")
    g.add_argument(
        "--proxy",
        metavar="URL",
        help="forward every request to URL (the real service, e.g. https://spaces.nexudus.com) "
        "and answer its answers; each exchange is checked against the API document "
        "(drift on stderr)",
    )
    g.add_argument(
        "--record",
        metavar="DIR",
        help=f"with --proxy: write each exchange, redacted, to DIR (and DIR/{DRIFT_FILE})",
    )
    g.add_argument(
        "--replay", metavar="DIR", help="answer the requests recorded in DIR as recorded"
    )
    g.add_argument(
        "--replay-fallthrough",
        action="store_true",
        help="with --replay: requests with no recording go to the stateful emulator (not 501)",
    )
    g.add_argument(
        "--upstream-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="with --proxy: how long one forwarded request may take (default 120)",
    )


def record_mode(args: argparse.Namespace) -> RecordMode | None:
    """The mode the options ask for (None: the stateful emulator); ValueError names a bad one."""
    if args.record and not args.proxy:
        raise ValueError("--record: needs --proxy URL (the service to record)")
    if args.replay_fallthrough and not args.replay:
        raise ValueError("--replay-fallthrough: needs --replay DIR")
    if args.proxy and args.replay:
        raise ValueError("--replay: cannot be combined with --proxy (record first, then replay)")
    stateless = bool(args.proxy) or (bool(args.replay) and not args.replay_fallthrough)
    for given, option in ((args.fault, "--fault"), (args.seed_file, "--seed-file")):
        if given and stateless:
            raise ValueError(
                f"{option}: applies to the stateful emulator, which --proxy (and --replay "
                "without --replay-fallthrough) does not run"
            )
    if not 0 < args.upstream_timeout < float("inf"):
        raise ValueError(f"--upstream-timeout: {args.upstream_timeout!r} is not a positive number")
    if args.proxy:
        url = urllib.parse.urlsplit(args.proxy)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"--proxy: {args.proxy!r} is not an http(s) URL")
        if url.username or url.password:
            raise ValueError("--proxy: give credentials to the client, not in the URL")
        record = Path(args.record) if args.record else None
        return RecordMode(proxy=args.proxy, record=record, upstream_timeout=args.upstream_timeout)
    if args.replay:
        try:
            load_cassette(args.replay)
        except ValueError as exc:  # names the folder or the bad file
            raise ValueError(f"--replay {exc}") from None
        return RecordMode(replay=Path(args.replay), fallthrough=args.replay_fallthrough)
    return None


def _server(mode: RecordMode, config: EmulatorConfig) -> tuple[AppServer, list[str]]:
    """The server of a mode, and the lines that say what it does."""
    if mode.proxy is not None:
        try:
            cassette = Cassette(mode.record) if mode.record is not None else None
        except OSError as exc:
            raise ValueError(f"--record {mode.record}: {exc.strerror or exc}") from None
        proxy = RecordingProxy(mode.proxy, cassette, timeout=mode.upstream_timeout)
        where = f"recording to {mode.record}/" if mode.record else "not recording"
        lines = [
            f"  Proxy:    every request goes to {mode.proxy}; {where}",
            "  Drift:    mismatches with the API document on stderr"
            + (f" and in {mode.record / DRIFT_FILE}" if mode.record else ""),
        ]
        return AppServer(build_proxy_app(proxy), config.host, config.port), lines
    assert mode.replay is not None
    server = ReplayServer(
        mode.replay,
        fallthrough=mode.fallthrough,
        config=config,
        host=config.host,
        port=config.port,
    )
    other = "the stateful emulator answers" if mode.fallthrough else "answered 501"
    lines = [
        f"  Replay:   {server.replayer.count} exchanges from {mode.replay}; "
        f"unrecorded requests: {other}"
    ]
    return server, lines


async def serve_mode(mode: RecordMode, config: EmulatorConfig, stop: asyncio.Event) -> None:
    """Run the proxy or the replay until ``stop`` is set; the first line printed is the URL."""
    server, lines = _server(mode, config)
    await server.start()
    try:
        print(f"Nexudus emulator listening on {server.base_url}", flush=True)
        for line in lines:
            print(line)
        print(f"  Document: {server.base_url}{ADMIN_PREFIX}/api-openapi.json")
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
    finally:
        await server.stop()
