"""What a running emulator holds (store, users, limits, faults, counters) and how it resets.

The API handlers (handlers.py) and the admin API (admin.py) both work on it; it
imports neither.
"""

from __future__ import annotations

from typing import Any

import attrs
from aiohttp import web

from .auth import Auth
from .config import EmulatorConfig, UserSpec
from .faults import FaultInjector
from .journal import RequestJournal
from .profile import with_profile
from .stats import Stats
from .store import Store
from .throttle import Throttle

__all__ = ["STATE_KEY", "EmulatorState"]


class EmulatorState:
    """Everything a running emulator holds; the control API works on this."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.initial_config = config  # what reset() returns to
        self.config = config
        self.store = Store(first_id=config.first_id, catalogues=config.catalogues)
        self.auth = Auth(self._users(), config.token_ttl, config.time_scale)
        self.throttle = Throttle(config.limits, config.time_scale)
        self.faults = FaultInjector(config.faults, config.seed)
        self.stats = Stats()
        self.journal = RequestJournal()
        self._seed_store()

    def _seed_store(self) -> None:
        for collection, records in self.config.seed_records.items():
            for record in records:
                self.store.insert(collection, record)

    def _users(self) -> list[UserSpec]:
        admin = UserSpec(self.config.admin_email, self.config.admin_password)
        return [admin, *self.config.users]

    def reset(self) -> None:
        self.config = config = self.initial_config
        self.store.clear()
        self._seed_store()
        self.auth.reset(self._users())
        self.auth.set_time_scale(config.time_scale)
        self.throttle = Throttle(config.limits, config.time_scale)
        self.faults = FaultInjector(config.faults, config.seed)
        self.stats.reset()
        self.journal.clear()

    def set_settings(self, **settings: Any) -> None:
        """Change account settings (profile.py's table) from now on; ``reset()``
        restores the configured ones. ValueError names a bad setting or value."""
        self.config = with_profile(self.config, settings)

    def set_time_scale(self, time_scale: float) -> None:
        """Scale throttle windows, waits and new tokens' lifetime from now on."""
        self.config = attrs.evolve(self.config, time_scale=time_scale)
        self.throttle.set_time_scale(time_scale)
        self.auth.set_time_scale(time_scale)


#: Where the application keeps the state its handlers (API and admin) work on.
STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("nexudus_emulator_state")
