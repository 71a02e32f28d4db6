"""aioresponses on aiohttp 3.14, shared by every unit-test package.

aioresponses 0.7.x builds responses without the ``stream_writer`` that aiohttp
3.14 requires (pnuckowski/aioresponses#289, still open): supply a stand-in for
an already-sent request. Drop this module when a fixed release is out.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
from aioresponses import aioresponses
from yarl import URL


class CompatResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: URL, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class CompatAioresponses(aioresponses):  # type: ignore[misc]
    """``aioresponses`` whose canned answers are :class:`CompatResponse`."""

    def add(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", CompatResponse)
        super().add(*args, **kwargs)
