"""Configuration of the emulator: limits, faults, users; frozen, change with attrs.evolve."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

import attrs

from .entities import DEFAULT_CATALOGUES, CatalogueEntry

__all__ = [
    "DEFAULT_ADMIN_EMAIL",
    "DEFAULT_ADMIN_PASSWORD",
    "DIR_ENCODINGS",
    "FAULT_KINDS",
    "FULL_ADMIN_ROLE",
    "RANGE_PRECISIONS",
    "DirEncoding",
    "EmulatorConfig",
    "FaultKind",
    "FaultRule",
    "RangePrecision",
    "ThrottleLimits",
    "UserSpec",
]

DEFAULT_ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "demo-password"
#: A user holding this role is a full unrestricted administrator.
FULL_ADMIN_ROLE = "Administrator"

FaultKind = Literal[
    "latency",
    "error500",
    "drop_before",
    "drop_after",
    "unsuccessful",
    "malformed",
    "empty",
    "not_json",
    "validation500",
    "server_message500",
    "error500_after",
    "not_found_string",
    "ids_array",
    "unknown_enum",
]
#: Every fault kind, in the order of :data:`FaultKind` (the one list of them).
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)

#: The encodings of the ``dir`` list parameter seen in the vendor's pages:
#: ``words``: ``ascending``/``descending`` (the reference page, 003);
#: ``one_minus_one``: ``1`` ascending, ``-1`` descending; ``zero_one``: ``0``
#: ascending, ``1`` descending.
DirEncoding = Literal["words", "one_minus_one", "zero_one"]
DIR_ENCODINGS: tuple[str, ...] = get_args(DirEncoding)
#: How precisely ``From_``/``To_`` date ranges compare: ``minute`` as documented
#: (``YYYY-MM-DDTHH:mm``; seconds given are dropped), or ``second``.
RangePrecision = Literal["minute", "second"]
RANGE_PRECISIONS: tuple[str, ...] = get_args(RangePrecision)


@attrs.frozen
class ThrottleLimits:
    """The published per-client limits (NOTES.md). Windows are scaled by ``time_scale``.

    ``None`` switches one limit off.
    """

    enabled: bool = True
    #: Minimum time between two requests of one client, in seconds.
    min_interval: float | None = 0.1
    per_minute: int | None = 120
    per_hour: int | None = 5000
    per_day: int | None = 200_000
    #: POST/PUT/DELETE only.
    writes_per_minute: int | None = 60
    writes_per_day: int | None = 5000

    @classmethod
    def off(cls) -> ThrottleLimits:
        return cls(enabled=False)


def _check_kind(_inst: object, _attr: object, value: str) -> None:
    if value not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {value!r}; one of {', '.join(FAULT_KINDS)}")


def _check_probability(_inst: object, _attr: object, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError("probability must be between 0 and 1")


@attrs.frozen
class FaultRule:
    """Inject a failure into matching requests.

    ``method`` is an HTTP method or ``*``; ``path`` is an exact request path or
    a glob (``/api/billing/*``, ``/api/billing/coworkertimepasses/*``).
    Kinds:

    - ``latency``: wait ``latency`` seconds (real seconds, not scaled), then
      answer normally. Combines with one other kind.
    - ``error500``: 500 with the "Ooops!" envelope; the request is not executed.
    - ``drop_before``: close the connection without executing the request.
    - ``drop_after``: execute the request, then close the connection without
      answering (the client cannot tell it from ``drop_before``).
    - ``unsuccessful``: 200 with ``WasSuccessful: false``; not executed.
    - ``malformed``: execute the request, then answer 200 with a body that is
      not valid JSON.
    - ``empty``: execute the request, then answer 200 with an empty body.
    - ``not_json``: execute the request, then answer 200 with an HTML page.
    - ``validation500``: the validation failure of 003, with status 500
      (``Message`` "Field: may not be null or empty", ``Value`` null,
      ``WasSuccessful`` false, one ``Errors`` entry naming the entity's first
      required field); not executed.
    - ``server_message500``: 500 with ``{"Message": "An error has occurred."}``
      (the older reference pages); not executed.
    - ``error500_after``: execute the request, then answer the ``error500``
      answer: a retried PUT or DELETE meets its own effect.
    - ``not_found_string``: 404 with the JSON string ``"Not found"`` (the older
      reference pages); not executed.
    - ``ids_array``: only a get-by-ids list request (``?<Entity>_Id=[1,2]``):
      answered as a bare JSON array of the list records of every id found (the
      newer documented answer) instead of the list envelope.
    - ``unknown_enum``: only a GET of an entity with enum fields
      (``ExpirationType``, ``PassRenewalTime``): every record in the answer
      carries the undocumented value ``0`` there, as the live service was seen
      to send; the store keeps what it holds.

    ``ids_array`` and ``unknown_enum`` rules skip the requests they do not
    apply to (they neither fire nor count towards ``times`` there).
    A rule fires with ``probability`` (drawn from the emulator's RNG, seeded by
    ``EmulatorConfig.seed``) and at most ``times`` times (``None``: no limit).
    Throttled and unauthenticated requests never reach the faults.
    """

    method: str = "*"
    path: str = "*"
    kind: str = attrs.field(default="error500", validator=_check_kind)
    probability: float = attrs.field(default=1.0, validator=_check_probability)
    latency: float = 0.05
    times: int | None = None


@attrs.frozen
class UserSpec:
    """A user the emulator accepts. ``totp``: the six-digit code the password grant needs."""

    email: str
    password: str
    roles: tuple[str, ...] = (FULL_ADMIN_ROLE,)
    totp: str | None = None


@attrs.frozen
class EmulatorConfig:
    """Everything a running emulator starts from; ``reset()`` returns to it."""

    limits: ThrottleLimits = ThrottleLimits()
    #: Multiplies every time window (throttling, token lifetime): 0.01 turns
    #: "1 request per 100 ms, 120 per minute" into "1 per 1 ms, 120 per 0.6 s".
    time_scale: float = 1.0
    #: 409 (documented) or 429 (observed variant, body "Wait N seconds").
    throttle_status: Literal[409, 429] = 409
    #: Access-token lifetime in (unscaled) seconds; ``expires_in`` reports the scaled one.
    token_ttl: int = 604_799
    seed: int | None = None
    faults: tuple[FaultRule, ...] = attrs.field(default=(), converter=tuple)
    host: str = "127.0.0.1"
    port: int = 0
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_password: str = DEFAULT_ADMIN_PASSWORD
    users: tuple[UserSpec, ...] = attrs.field(default=(), converter=tuple)
    #: Observed quirk: answer ``HasNextPage: true`` on every page (the docs'
    #: examples do); a client must paginate on ``TotalPages``.
    has_next_page_quirk: bool = False
    #: Emulator safety cap on ``CreateMultiple`` (the API documents none); above it: 400.
    max_create_multiple: int = 1000
    #: The first Id given to a new record of each entity.
    first_id: int = 1
    catalogues: Mapping[str, Mapping[int, CatalogueEntry]] = DEFAULT_CATALOGUES
    #: Records put in the store at start and by every ``reset()``, per collection
    #: (``{"coworkertimepasses": [{...}]}``), as ``Store.insert`` takes them.
    seed_records: Mapping[str, Sequence[Mapping[str, Any]]] = attrs.field(factory=dict)
    #: Token the admin API (``/_emulator/``) requires as ``Authorization: Bearer``;
    #: ``None``: open, which only a loopback host allows.
    admin_token: str | None = None
    #: :data:`RangePrecision` of ``From_``/``To_`` date range filters.
    range_precision: RangePrecision = "minute"

    # The account's answers where the vendor's pages disagree (see profile.py, which
    # lists them; ``nexudus-async probe`` reports each as one of these values).
    #: Which ``dir`` spelling the account understands; another is ignored (Id ascending).
    dir_encoding: DirEncoding = "words"
    #: The largest ``size`` a list takes (None: no maximum)...
    max_page_size: int | None = 1000
    #: ...and what a larger one gets: 400, or silently the maximum.
    oversize_page: Literal["refuse", "cap"] = "refuse"
    #: Which get-by-ids lookups the account understands (``Entity_Id=[..]``, ``id=[..]``);
    #: the other is ignored like any unknown parameter.
    ids_forms: Literal["both", "entity_id", "id"] = "both"
    #: The lookup's answer: ``by_form`` (``Entity_Id`` the envelope, ``id`` a bare
    #: array, as the pages document each), or the same shape for both.
    ids_answer: Literal["by_form", "envelope", "array"] = "by_form"
    #: A missing record's 404 body: the error envelope, or the JSON string "Not found".
    not_found_body: Literal["envelope", "string"] = "envelope"
    #: Filter parameters the account ignores (answering the unfiltered list).
    ignored_filters: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Property names left out of records (list and single-record shapes).
    record_omits: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Undocumented property names added (null) to every record.
    record_extras: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Every GET answers ``0`` in enum fields (``ExpirationType: 0``, seen live).
    unknown_enum_values: bool = False
    #: A JSON body to ``/api/token``: refused (documented) or taken like the form.
    token_json_body: Literal["refused", "accepted"] = "refused"
    #: Does ``CreateMultiple`` give every pass the ``SystemId``, the first only, or none?
    create_multiple_system_id: Literal["all", "first", "none"] = "all"
    #: Which new Id a ``CreateMultiple`` answer's ``Value.Id`` holds.
    create_multiple_answer_id: Literal["first", "last"] = "first"
    #: A date sent with a UTC offset: shifted to the space's clock (observed), or
    #: its wall-clock fields kept.
    offset_dates: Literal["shift", "keep"] = "shift"
    #: A PUT without a writable field: clears it (documented) or keeps the stored value.
    put_omitted: Literal["clear", "keep"] = "clear"

    def __attrs_post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")
        if self.throttle_status not in (409, 429):
            raise ValueError("throttle_status must be 409 or 429")
        from .profile import check_config  # every account setting, checked once

        check_config(self)
