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

__version__ = "0.1.0"

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
