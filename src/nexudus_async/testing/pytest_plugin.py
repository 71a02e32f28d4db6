"""pytest plugin (registered as ``pytest11``): Nexudus emulator fixtures.

Installed with the package, so any project that ``pip install``s
nexudus-async gets, in its own tests:

- ``nexudus_emulator``: a running :class:`EmulatorServer` per test, with
  throttling ON at the published limits but ``time_scale=0.01`` (1 request
  per 1 ms, 120 per 0.6 s, 60 writes per 0.6 s), 409 throttling, no faults.
  Override per test with ``@pytest.mark.nexudus_emulator(time_scale=1.0, ...)``
  (keyword arguments of :class:`EmulatorConfig`). ``tls=True`` serves
  ``https://`` with a certificate for 127.0.0.1 signed by a fresh authority
  (needs trustme); ``nexudus_emulator.ca_bundle`` is the file to trust.
- ``nexudus_emulator_factory``: ``async with nexudus_emulator_factory(config or
  **kwargs) as emu:`` starts more emulators (or ``emu = await factory(...)``,
  stopped at teardown).
- ``nexudus_emulator_process``: the emulator in its own process (127.0.0.1, a
  free port, ``--time-scale 0.01``), for code under test that runs in other
  processes: ``.url`` and ``.admin`` (a client of ``/_emulator/``). CLI options
  per test: ``@pytest.mark.nexudus_emulator_process("--no-throttle", ...)``.
  Stopped at teardown (SIGTERM, a bounded wait, then kill). Synchronous: needs
  no pytest-asyncio.
- ``nexudus_replay``: a cassette recorded with ``--proxy URL --record DIR``
  replayed in-process (:class:`~nexudus_async.testing.replay.ReplayServer`, its
  ``base_url``): ``@pytest.mark.nexudus_replay("cassettes/import", fallthrough=True)``
  (a relative folder is found next to the test file; ``fallthrough``: requests
  with no recording go to a stateful emulator instead of a 501).

The fixtures are async and need pytest-asyncio (``asyncio_mode = "auto"``,
or mark tests ``@pytest.mark.asyncio``). This module must import cleanly
without it: every pytest run of a project with nexudus-async installed loads it.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from .config import EmulatorConfig, ThrottleLimits
from .process import EmulatorProcess
from .replay import ReplayServer, run_replay
from .server import EmulatorServer
from .tls import ServerCertificate, make_local_certificate

__all__ = ["DEFAULT_FIXTURE_CONFIG", "DEFAULT_PROCESS_ARGS", "EmulatorFactory"]

#: The ``nexudus_emulator`` fixture's configuration.
DEFAULT_FIXTURE_CONFIG = EmulatorConfig(limits=ThrottleLimits(), time_scale=0.01)

#: The ``nexudus_emulator_process`` fixture's options (marker arguments come after).
DEFAULT_PROCESS_ARGS = ("--time-scale", "0.01")

_MARKER = "nexudus_emulator"
_PROCESS_MARKER = "nexudus_emulator_process"
_REPLAY_MARKER = "nexudus_replay"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**kwargs): EmulatorConfig overrides for the nexudus_emulator fixture",
    )
    config.addinivalue_line(
        "markers",
        f"{_PROCESS_MARKER}(*args, admin_token=None): command-line options of the "
        "nexudus_emulator_process fixture",
    )
    config.addinivalue_line(
        "markers",
        f"{_REPLAY_MARKER}(folder, fallthrough=False, **config): the cassette the "
        "nexudus_replay fixture replays",
    )


def _replay_folder(request: pytest.FixtureRequest) -> tuple[Path, bool, dict[str, Any]]:
    marker = request.node.get_closest_marker(_REPLAY_MARKER)
    if marker is None or not marker.args:
        raise pytest.UsageError(
            f'the nexudus_replay fixture needs @pytest.mark.{_REPLAY_MARKER}("cassette folder")'
        )
    folder = Path(marker.args[0])
    if not folder.is_absolute():
        folder = Path(request.node.path).parent / folder
    kwargs = dict(marker.kwargs)
    fallthrough = bool(kwargs.pop("fallthrough", False))
    return folder, fallthrough, kwargs


@pytest.fixture
def nexudus_emulator_process(request: pytest.FixtureRequest) -> Iterator[EmulatorProcess]:
    """The emulator in a child process; ``.url`` and ``.admin`` (see the module docs)."""
    marker = request.node.get_closest_marker(_PROCESS_MARKER)
    args = tuple(marker.args) if marker is not None else ()
    token = marker.kwargs.get("admin_token") if marker is not None else None
    process = EmulatorProcess(*DEFAULT_PROCESS_ARGS, *args, admin_token=token)
    process.start()
    try:
        yield process
    finally:
        process.stop()


class _Started:
    """What the factory returns: ``async with`` it, or ``await`` it (stopped at teardown)."""

    def __init__(self, server: EmulatorServer, started: list[EmulatorServer]) -> None:
        self._server = server
        self._started = started

    async def _start(self) -> EmulatorServer:
        await self._server.start()
        self._started.append(self._server)
        return self._server

    def __await__(self) -> Generator[Any, None, EmulatorServer]:
        return self._start().__await__()

    async def __aenter__(self) -> EmulatorServer:
        return await self._start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.stop()


def _certificate(tls: bool | ServerCertificate | None, stack: contextlib.ExitStack) -> Any:
    """``tls=True``: a certificate made for this machine, its files kept until teardown."""
    if tls is True:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="nexudus-tls-"))
        return make_local_certificate(folder)
    return tls or None


class EmulatorFactory:
    """``factory(config=None, *, tls=None, **overrides)``; starts from the fixture's default
    config; ``tls=True`` (or a ``ServerCertificate``) serves https."""

    def __init__(self, base: EmulatorConfig) -> None:
        self._base = base
        self._started: list[EmulatorServer] = []
        self._files = contextlib.ExitStack()

    def __call__(
        self,
        config: EmulatorConfig | None = None,
        *,
        tls: bool | ServerCertificate | None = None,
        **overrides: Any,
    ) -> _Started:
        cert = _certificate(tls, self._files)
        return _Started(EmulatorServer(config or self._base, tls=cert, **overrides), self._started)

    async def aclose(self) -> None:
        try:
            while self._started:
                await self._started.pop().stop()
        finally:
            self._files.close()


def _marker_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(_MARKER)
    return dict(marker.kwargs) if marker is not None else {}


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - depends on the user's environment
    _NEEDS = "the nexudus_emulator fixtures need pytest-asyncio: pip install pytest-asyncio"

    @pytest.fixture
    def nexudus_emulator() -> Any:
        pytest.fail(_NEEDS)

    @pytest.fixture
    def nexudus_emulator_factory() -> Any:
        pytest.fail(_NEEDS)

    @pytest.fixture
    def nexudus_replay() -> Any:
        pytest.fail(_NEEDS)

else:

    @pytest_asyncio.fixture
    async def nexudus_emulator(  # type: ignore[misc]
        request: pytest.FixtureRequest,
    ) -> AsyncIterator[EmulatorServer]:
        """A running emulator for one test (see the module docs for its configuration)."""
        overrides = _marker_overrides(request)
        with contextlib.ExitStack() as files:
            tls = _certificate(overrides.pop("tls", None), files)
            server = EmulatorServer(DEFAULT_FIXTURE_CONFIG, tls=tls, **overrides)
            await server.start()
            try:
                yield server
            finally:
                await server.stop()

    @pytest_asyncio.fixture
    async def nexudus_replay(  # type: ignore[misc]
        request: pytest.FixtureRequest,
    ) -> AsyncIterator[ReplayServer]:
        """A cassette replayed in-process (``@pytest.mark.nexudus_replay(folder, ...)``)."""
        folder, fallthrough, overrides = _replay_folder(request)
        config = EmulatorConfig(**{"limits": ThrottleLimits.off(), **overrides})
        async with run_replay(folder, fallthrough=fallthrough, config=config) as server:
            yield server

    @pytest_asyncio.fixture
    async def nexudus_emulator_factory() -> AsyncIterator[  # type: ignore[misc]
        Callable[..., _Started]
    ]:
        """Start emulators with any configuration; all are stopped at teardown."""
        factory = EmulatorFactory(DEFAULT_FIXTURE_CONFIG)
        try:
            yield factory
        finally:
            await factory.aclose()
