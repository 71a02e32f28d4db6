"""The embedded Nexudus emulator: a faithful local stand-in for the billing time-pass API.

Usage::

    from nexudus_async.testing import EmulatorConfig, run_emulator

    async with run_emulator(EmulatorConfig(time_scale=0.01)) as emu:
        emu.base_url      # "http://127.0.0.1:PORT"; /api/token, /api/billing/...
        emu.store.count("coworkertimepasses", CoworkerId=42)

Log in with HTTP Basic or a bearer token for ``DEFAULT_ADMIN_EMAIL`` /
``DEFAULT_ADMIN_PASSWORD``. Standalone: ``python -m nexudus_async.testing``,
controlled over HTTP under ``/_emulator/`` (``EmulatorProcess``, ``AdminClient``).
pytest users get the ``nexudus_emulator`` and ``nexudus_emulator_factory``
fixtures from the package's pytest plugin (needs pytest-asyncio).
``run_proxy`` records the real service (redacted, checked against the API
document) and ``run_replay`` answers from a recording (``nexudus_replay`` fixture).

Imports only aiohttp, attrs and the standard library (never the facade).
Behaviour and the choices the API docs leave open: ``README.md`` in this folder.
"""

from .config import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_PASSWORD,
    FULL_ADMIN_ROLE,
    EmulatorConfig,
    FaultRule,
    ThrottleLimits,
    UserSpec,
)
from .process import AdminClient, AdminClientError, EmulatorProcess
from .proxy import run_proxy
from .replay import ReplayServer, run_replay
from .server import EmulatorServer, run_emulator, serve
from .stats import Stats
from .store import Store

__all__ = [
    "DEFAULT_ADMIN_EMAIL",
    "DEFAULT_ADMIN_PASSWORD",
    "FULL_ADMIN_ROLE",
    "AdminClient",
    "AdminClientError",
    "EmulatorConfig",
    "EmulatorProcess",
    "EmulatorServer",
    "FaultRule",
    "ReplayServer",
    "Stats",
    "Store",
    "ThrottleLimits",
    "UserSpec",
    "run_emulator",
    "run_proxy",
    "run_replay",
    "serve",
]
