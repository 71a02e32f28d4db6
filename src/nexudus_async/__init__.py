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
    from .auth import Auth, BasicAuth, BearerToken, PasswordGrant
    from .client import DEFAULT_BASE_URL, NexudusClient
    from .errors import (
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
    from .pagination import ItemIterator, Page, PageIterator, SortDirection
    from .resources import (
        CoworkerTimePassChanges,
        CoworkerTimePasses,
        CoworkerTimePassFields,
        CoworkerTimePassFilters,
        DateRange,
        ProductTimePassChanges,
        ProductTimePasses,
        ProductTimePassFields,
        ProductTimePassFilters,
        TariffTimePassChanges,
        TariffTimePasses,
        TariffTimePassFields,
        TariffTimePassFilters,
        WriteResult,
    )
    from .retry import RetryPolicy
    from .throttle import RateLimiter, RateLimits, Window

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
    "Auth": ".auth",
    "BasicAuth": ".auth",
    "BearerToken": ".auth",
    "PasswordGrant": ".auth",
    "DEFAULT_BASE_URL": ".client",
    "NexudusClient": ".client",
    "APIError": ".errors",
    "AuthenticationError": ".errors",
    "FieldError": ".errors",
    "InputError": ".errors",
    "MalformedResponseError": ".errors",
    "NexudusError": ".errors",
    "NotFoundError": ".errors",
    "OutcomeUnknownError": ".errors",
    "PermissionDeniedError": ".errors",
    "RequestTimeoutError": ".errors",
    "ServerError": ".errors",
    "ThrottledError": ".errors",
    "TransportError": ".errors",
    "UnexpectedStatusError": ".errors",
    "UnsuccessfulResponseError": ".errors",
    "ValidationError": ".errors",
    "ItemIterator": ".pagination",
    "Page": ".pagination",
    "PageIterator": ".pagination",
    "SortDirection": ".pagination",
    "CoworkerTimePassChanges": ".resources",
    "CoworkerTimePasses": ".resources",
    "CoworkerTimePassFields": ".resources",
    "CoworkerTimePassFilters": ".resources",
    "DateRange": ".resources",
    "ProductTimePassChanges": ".resources",
    "ProductTimePasses": ".resources",
    "ProductTimePassFields": ".resources",
    "ProductTimePassFilters": ".resources",
    "TariffTimePassChanges": ".resources",
    "TariffTimePasses": ".resources",
    "TariffTimePassFields": ".resources",
    "TariffTimePassFilters": ".resources",
    "WriteResult": ".resources",
    "RetryPolicy": ".retry",
    "RateLimiter": ".throttle",
    "RateLimits": ".throttle",
    "Window": ".throttle",
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
    "ExpirationType",
    "FieldError",
    "InputError",
    "ItemIterator",
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
    "RequestTimeoutError",
    "RetryPolicy",
    "ServerError",
    "SortDirection",
    "TariffTimePass",
    "TariffTimePassChanges",
    "TariffTimePassFields",
    "TariffTimePassFilters",
    "TariffTimePassListItem",
    "TariffTimePasses",
    "ThrottledError",
    "TransportError",
    "UnexpectedStatusError",
    "UnsuccessfulResponseError",
    "ValidationError",
    "Window",
    "WriteResult",
    "__version__",
]
