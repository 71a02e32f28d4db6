from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..client.conftest import emulator_client
from .redis_server import RedisServer

__all__ = ["emulator_client", "redis_server"]  # emulator_client: a fixture shared with tests/client


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()
