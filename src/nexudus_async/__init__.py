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

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._core.auth import Auth, BasicAuth, BearerToken, PasswordGrant
    from ._core.errors import (
        APIError,
        AuthenticationError,
        FieldError,
        InputError,
        MalformedResponseError,
        NexudusError,
        NotFoundError,
        OutcomeUnknownError,
        PermissionDeniedError,
        RequestTimeoutError,
        ServerError,
        ThrottledError,
        TransportError,
        UnexpectedStatusError,
        UnsuccessfulResponseError,
        ValidationError,
    )
    from ._core.events import (
        Event,
        LimiterFallbackEvent,
        LimiterWaitEvent,
        RequestEvent,
        RetryEvent,
        ThrottleEvent,
    )
    from ._core.limiter import Limiter
    from ._core.pagination import ItemIterator, Page, PageIterator, SortDirection
    from ._core.raw import RawResponse
    from ._core.redis_limiter import RedisRateLimiter
    from ._core.resource import DateRange, WriteResult
    from ._core.retry import RetryPolicy
    from ._core.throttle import RateLimiter, RateLimits, Window
    from ._generated.api.coworker_time_passes import (
        CoworkerTimePassChanges,
        CoworkerTimePasses,
        CoworkerTimePassFields,
        CoworkerTimePassFilters,
    )
    from ._generated.api.product_time_passes import (
        ProductTimePassChanges,
        ProductTimePasses,
        ProductTimePassFields,
        ProductTimePassFilters,
    )
    from ._generated.api.tariff_time_passes import (
        TariffTimePassChanges,
        TariffTimePasses,
        TariffTimePassFields,
        TariffTimePassFilters,
    )
    from ._generated.api.time_passes import (
        TimePassChanges,
        TimePasses,
        TimePassFields,
        TimePassFilters,
    )
    from ._generated.models import (
        Command,
        CommandParameter,
        CommandParameterDescriptor,
        CoworkerTimePass,
        CoworkerTimePassListItem,
        ExpirationType,
        PassRenewalTime,
        ProductTimePass,
        ProductTimePassListItem,
        TariffTimePass,
        TariffTimePassListItem,
    )
    from .client import DEFAULT_BASE_URL, NexudusClient

# Exports load on first use (PEP 562): ``import nexudus_async.testing`` (the
# emulator, also loaded as a pytest plugin into every test run of a user who
# installed the package) must not pull in the client and the generated layer.
_EXPORTS: dict[str, str] = {
    "Command": "._generated.models",
    "CommandParameter": "._generated.models",
    "CommandParameterDescriptor": "._generated.models",
    "CoworkerTimePass": "._generated.models",
    "CoworkerTimePassListItem": "._generated.models",
    "ExpirationType": "._generated.models",
    "PassRenewalTime": "._generated.models",
    "ProductTimePass": "._generated.models",
    "ProductTimePassListItem": "._generated.models",
    "TariffTimePass": "._generated.models",
    "TariffTimePassListItem": "._generated.models",
    "TimePass": "._generated.models",
    "TimePassListItem": "._generated.models",
    "Auth": "._core.auth",
    "BasicAuth": "._core.auth",
    "BearerToken": "._core.auth",
    "PasswordGrant": "._core.auth",
    "DEFAULT_BASE_URL": ".client",
    "NexudusClient": ".client",
    "APIError": "._core.errors",
    "AuthenticationError": "._core.errors",
    "FieldError": "._core.errors",
    "InputError": "._core.errors",
    "MalformedResponseError": "._core.errors",
    "NexudusError": "._core.errors",
    "NotFoundError": "._core.errors",
    "OutcomeUnknownError": "._core.errors",
    "PermissionDeniedError": "._core.errors",
    "RequestTimeoutError": "._core.errors",
    "ServerError": "._core.errors",
    "ThrottledError": "._core.errors",
    "TransportError": "._core.errors",
    "UnexpectedStatusError": "._core.errors",
    "UnsuccessfulResponseError": "._core.errors",
    "ValidationError": "._core.errors",
    "Event": "._core.events",
    "LimiterFallbackEvent": "._core.events",
    "LimiterWaitEvent": "._core.events",
    "RequestEvent": "._core.events",
    "RetryEvent": "._core.events",
    "ThrottleEvent": "._core.events",
    "Limiter": "._core.limiter",
    "RawResponse": "._core.raw",
    "RedisRateLimiter": "._core.redis_limiter",
    "ItemIterator": "._core.pagination",
    "Page": "._core.pagination",
    "PageIterator": "._core.pagination",
    "SortDirection": "._core.pagination",
    "CoworkerTimePassChanges": "._generated.api.coworker_time_passes",
    "CoworkerTimePasses": "._generated.api.coworker_time_passes",
    "CoworkerTimePassFields": "._generated.api.coworker_time_passes",
    "CoworkerTimePassFilters": "._generated.api.coworker_time_passes",
    "DateRange": "._core.resource",
    "ProductTimePassChanges": "._generated.api.product_time_passes",
    "ProductTimePasses": "._generated.api.product_time_passes",
    "ProductTimePassFields": "._generated.api.product_time_passes",
    "ProductTimePassFilters": "._generated.api.product_time_passes",
    "TariffTimePassChanges": "._generated.api.tariff_time_passes",
    "TariffTimePasses": "._generated.api.tariff_time_passes",
    "TariffTimePassFields": "._generated.api.tariff_time_passes",
    "TariffTimePassFilters": "._generated.api.tariff_time_passes",
    "TimePassChanges": "._generated.api.time_passes",
    "TimePasses": "._generated.api.time_passes",
    "TimePassFields": "._generated.api.time_passes",
    "TimePassFilters": "._generated.api.time_passes",
    "WriteResult": "._core.resource",
    "RetryPolicy": "._core.retry",
    "RateLimiter": "._core.throttle",
    "RateLimits": "._core.throttle",
    "Window": "._core.throttle",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "DEFAULT_BASE_URL",
    "APIError",
    "Auth",
    "AuthenticationError",
    "BasicAuth",
    "BearerToken",
    "Command",
    "CommandParameter",
    "CommandParameterDescriptor",
    "CoworkerTimePass",
    "CoworkerTimePassChanges",
    "CoworkerTimePassFields",
    "CoworkerTimePassFilters",
    "CoworkerTimePassListItem",
    "CoworkerTimePasses",
    "DateRange",
    "Event",
    "ExpirationType",
    "FieldError",
    "InputError",
    "ItemIterator",
    "Limiter",
    "LimiterFallbackEvent",
    "LimiterWaitEvent",
    "MalformedResponseError",
    "NexudusClient",
    "NexudusError",
    "NotFoundError",
    "OutcomeUnknownError",
    "Page",
    "PageIterator",
    "PassRenewalTime",
    "PasswordGrant",
    "PermissionDeniedError",
    "ProductTimePass",
    "ProductTimePassChanges",
    "ProductTimePassFields",
    "ProductTimePassFilters",
    "ProductTimePassListItem",
    "ProductTimePasses",
    "RateLimiter",
    "RateLimits",
    "RawResponse",
    "RedisRateLimiter",
    "RequestEvent",
    "RequestTimeoutError",
    "RetryEvent",
    "RetryPolicy",
    "ServerError",
    "SortDirection",
    "TariffTimePass",
    "TariffTimePassChanges",
    "TariffTimePassFields",
    "TariffTimePassFilters",
    "TariffTimePassListItem",
    "TariffTimePasses",
    "ThrottleEvent",
    "ThrottledError",
    "TimePass",
    "TimePassChanges",
    "TimePassFields",
    "TimePassFilters",
    "TimePassListItem",
    "TimePasses",
    "TransportError",
    "UnexpectedStatusError",
    "UnsuccessfulResponseError",
    "ValidationError",
    "Window",
    "WriteResult",
    "__version__",
]
