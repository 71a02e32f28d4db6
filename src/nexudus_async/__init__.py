"""asyncio client for the Nexudus billing time-pass API.

::

    from nexudus_async import NexudusClient, PasswordGrant

    async with NexudusClient(auth=PasswordGrant(email, password)) as client:
        tp = await client.coworker_time_passes.get(123)
        page = await client.coworker_time_passes.list(coworker=42, size=100)
        async for tp in client.coworker_time_passes.iter(time_pass=7, max_items=500):
            ...
        created = await client.coworker_time_passes.create(
            coworker_id=42, business_id=1, time_pass_id=7, create_multiple=5
        )
        await client.coworker_time_passes.update(created.id, notes="moved")

Dates and times are the space's local wall-clock time, as naive datetimes: the
API writes them with a literal ``Z`` that is not a real UTC marker, and the
client reads and writes them without shifting.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__

# The one list of exports is the TYPE_CHECKING block below: type checkers read
# it, and at run time it is parsed into a lazy table (the stub idea of
# scientific-python's lazy_loader), so ``import nexudus_async.testing`` (the
# emulator, also a pytest plugin in every test run of a user) pulls in neither
# the client nor the models until a name is used (PEP 562).
if TYPE_CHECKING:
    from ._core.auth import (
        Auth as Auth,
        BasicAuth as BasicAuth,
        BearerToken as BearerToken,
        PasswordGrant as PasswordGrant,
    )
    from ._core.errors import (
        APIError as APIError,
        AuthenticationError as AuthenticationError,
        FieldError as FieldError,
        FieldsClearedWarning as FieldsClearedWarning,
        InputError as InputError,
        MalformedResponseError as MalformedResponseError,
        NexudusError as NexudusError,
        NotFoundError as NotFoundError,
        OutcomeUnknownError as OutcomeUnknownError,
        PermissionDeniedError as PermissionDeniedError,
        ProxyError as ProxyError,
        RequestTimeoutError as RequestTimeoutError,
        ServerError as ServerError,
        ThrottledError as ThrottledError,
        TLSError as TLSError,
        TransportError as TransportError,
        UnexpectedStatusError as UnexpectedStatusError,
        UnsuccessfulResponseError as UnsuccessfulResponseError,
        ValidationError as ValidationError,
    )
    from ._core.events import (
        Event as Event,
        LimiterFallbackEvent as LimiterFallbackEvent,
        LimiterWaitEvent as LimiterWaitEvent,
        RequestEvent as RequestEvent,
        RetryEvent as RetryEvent,
        ThrottleEvent as ThrottleEvent,
    )
    from ._core.limiter import Limiter as Limiter
    from ._core.local_limiter import (
        LimiterStoreError as LimiterStoreError,
        LocalRateLimiter as LocalRateLimiter,
    )
    from ._core.pagination import (
        ItemIterator as ItemIterator,
        Page as Page,
        PageIterator as PageIterator,
        SortDirection as SortDirection,
    )
    from ._core.raw import RawResponse as RawResponse
    from ._core.redis_limiter import RedisRateLimiter as RedisRateLimiter
    from ._core.resource import DateRange as DateRange, WriteResult as WriteResult
    from ._core.retry import RetryPolicy as RetryPolicy
    from ._core.throttle import (
        RateLimiter as RateLimiter,
        RateLimits as RateLimits,
        Window as Window,
    )
    from ._generated.api.coworker_time_passes import (
        CoworkerTimePassChanges as CoworkerTimePassChanges,
        CoworkerTimePasses as CoworkerTimePasses,
        CoworkerTimePassFields as CoworkerTimePassFields,
        CoworkerTimePassFilters as CoworkerTimePassFilters,
    )
    from ._generated.api.product_time_passes import (
        ProductTimePassChanges as ProductTimePassChanges,
        ProductTimePasses as ProductTimePasses,
        ProductTimePassFields as ProductTimePassFields,
        ProductTimePassFilters as ProductTimePassFilters,
    )
    from ._generated.api.tariff_time_passes import (
        TariffTimePassChanges as TariffTimePassChanges,
        TariffTimePasses as TariffTimePasses,
        TariffTimePassFields as TariffTimePassFields,
        TariffTimePassFilters as TariffTimePassFilters,
    )
    from ._generated.api.time_passes import (
        TimePassChanges as TimePassChanges,
        TimePasses as TimePasses,
        TimePassFields as TimePassFields,
        TimePassFilters as TimePassFilters,
    )
    from ._generated.models import (
        Command as Command,
        CommandParameter as CommandParameter,
        CommandParameterDescriptor as CommandParameterDescriptor,
        CoworkerTimePass as CoworkerTimePass,
        CoworkerTimePassListItem as CoworkerTimePassListItem,
        ExpirationType as ExpirationType,
        PassRenewalTime as PassRenewalTime,
        ProductTimePass as ProductTimePass,
        ProductTimePassListItem as ProductTimePassListItem,
        TariffTimePass as TariffTimePass,
        TariffTimePassListItem as TariffTimePassListItem,
        TimePass as TimePass,
        TimePassListItem as TimePassListItem,
    )
    from .client import DEFAULT_BASE_URL as DEFAULT_BASE_URL, NexudusClient as NexudusClient


def _exports() -> dict[str, str]:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            return {
                alias.name: "." * imp.level + (imp.module or "")
                for imp in node.body
                if isinstance(imp, ast.ImportFrom)
                for alias in imp.names
            }
    raise ImportError("nexudus_async: the TYPE_CHECKING export block is missing")


_EXPORTS = _exports()
__all__ = sorted([*_EXPORTS, "__version__"])


if not TYPE_CHECKING:  # hidden from type checkers, which would type every unknown name as Any

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value  # later look-ups skip this function
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
