"""Signals during a bulk job: the first SIGINT or SIGTERM stops it, the second aborts.

A stop lets the requests in flight finish and be journaled, so the rerun of
the same command resumes; the exit code says which signal it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Any, TextIO

from .failures import EXIT_SIGINT, EXIT_SIGTERM

__all__ = ["Stopper", "stop_on_signals"]


class Stopper:
    """The job's stop flag and the signal that set it (for the exit code)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signal: signal.Signals | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_SIGTERM if self.signal == signal.SIGTERM else EXIT_SIGINT


@contextlib.contextmanager
def stop_on_signals(stopper: Stopper, task: asyncio.Task[Any], err: TextIO) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop after the requests in flight; second: abort."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    stop = stopper.event

    def on_signal(sig: signal.Signals) -> None:
        if not stop.is_set():
            stop.set()
            stopper.signal = sig
            what = (
                "stopping (signal again to abort)"
                if sig == signal.SIGTERM
                else "interrupted: stopping (Ctrl-C again to abort now)"
            )
            print(f"\n{what}: finishing the requests in flight", file=err, flush=True)
        else:
            task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
