"""Account settings: how the emulated account answers where the vendor's pages disagree.

Each setting is a field of :class:`~nexudus_async.testing.EmulatorConfig` whose
default is the documented answer (the observed one where only that is known).
``nexudus-async probe`` names the same settings in its JSON report
(``"profile"``), so a report loads as an emulator profile
(``nexudus-async emulator --profile report.json``, :func:`load_profile_file`),
and the admin API reads and changes them (``GET``/``PUT /_emulator/profile``).
This table is the one list of them: the command-line options, the admin API's
checks and the profile loader all read it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    from .config import EmulatorConfig

__all__ = [
    "SETTINGS",
    "AccountSetting",
    "check_config",
    "load_profile_file",
    "parse_profile",
    "parse_setting_text",
    "profile_of",
    "with_profile",
]

Kind = Literal["choice", "page_size", "names"]
MAX_NAMES = 200


@attrs.frozen
class AccountSetting:
    name: str
    help: str
    choices: tuple[Any, ...] = ()
    """The values a ``choice`` setting takes (the first is the default)."""
    kind: Kind = "choice"

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


SETTINGS: tuple[AccountSetting, ...] = (
    AccountSetting("throttle_status", "status of a throttled answer", (409, 429)),
    AccountSetting(
        "dir_encoding",
        "the `dir` spelling understood: ascending/descending, 1/-1 or 0/1",
        ("words", "one_minus_one", "zero_one"),
    ),
    AccountSetting(
        "range_precision",
        "From_/To_ date ranges compare by minute (documented: YYYY-MM-DDTHH:mm, seconds "
        "given are dropped) or second",
        ("minute", "second"),
    ),
    AccountSetting(
        "max_page_size", "largest `size` of a list ('none': no maximum)", (), "page_size"
    ),
    AccountSetting("oversize_page", "a larger `size`: refused (400) or capped", ("refuse", "cap")),
    AccountSetting("ids_forms", "get-by-ids parameters understood", ("both", "entity_id", "id")),
    AccountSetting(
        "ids_answer",
        "get-by-ids answer: by_form (Entity_Id envelope, id array), or one shape for both",
        ("by_form", "envelope", "array"),
    ),
    AccountSetting("not_found_body", "body of a 404", ("envelope", "string")),
    AccountSetting("ignored_filters", "filter parameters ignored (comma-separated)", (), "names"),
    AccountSetting("record_omits", "property names left out of records", (), "names"),
    AccountSetting("record_extras", "undocumented property names added to records", (), "names"),
    AccountSetting("unknown_enum_values", "GET answers 0 in enum fields", (False, True)),
    AccountSetting(
        "token_json_body", "a JSON body to /api/token: refused or accepted", ("refused", "accepted")
    ),
    AccountSetting(
        "create_multiple_system_id", "CreateMultiple copies SystemId to", ("all", "first", "none")
    ),
    AccountSetting(
        "create_multiple_answer_id", "CreateMultiple answers the Id of the", ("first", "last")
    ),
    AccountSetting("offset_dates", "a date sent with an offset is", ("shift", "keep")),
    AccountSetting("put_omitted", "a PUT without a field", ("clear", "keep")),
)
BY_NAME: dict[str, AccountSetting] = {s.name: s for s in SETTINGS}


def _check_names(setting: AccountSetting, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_NAMES:
        raise ValueError(f"{setting.name}: must be a list of at most {MAX_NAMES} names")
    for item in value:
        if not isinstance(item, str) or not 0 < len(item) <= 100:
            raise ValueError(f"{setting.name}: {item!r} is not a name of 1 to 100 characters")
    return tuple(value)


def check_value(name: str, value: Any) -> Any:
    """The setting's value as the config holds it; ValueError naming the setting."""
    setting = BY_NAME.get(name)
    if setting is None:
        raise ValueError(f"{name}: not an account setting; known: {', '.join(BY_NAME)}")
    if setting.kind == "names":
        return _check_names(setting, value)
    if setting.kind == "page_size":
        if value is None:
            return None
        if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
            value = int(value)  # JSON's 500.0 is an integer too
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1_000_000:
            raise ValueError(f"{name}: must be a whole number from 1 to 1000000, or null")
        return value
    for choice in setting.choices:  # == would let True pass for 1
        if type(choice) is type(value) and choice == value:
            return value
    shown = ", ".join(json.dumps(c) for c in setting.choices)
    raise ValueError(f"{name}: {json.dumps(value, default=repr)} is not one of {shown}")


def check_config(config: EmulatorConfig) -> None:
    for setting in SETTINGS:
        check_value(setting.name, getattr(config, setting.name))


def profile_of(config: EmulatorConfig) -> dict[str, Any]:
    """Every account setting of ``config``, as JSON values."""
    out: dict[str, Any] = {}
    for setting in SETTINGS:
        value = getattr(config, setting.name)
        out[setting.name] = list(value) if setting.kind == "names" else value
    return out


def parse_profile(data: Any, where: str) -> dict[str, Any]:
    """Settings from a JSON object: a probe report (its ``"profile"``) or the settings alone."""
    if isinstance(data, dict) and isinstance(data.get("profile"), dict):
        data = data["profile"]
    if not isinstance(data, dict):
        raise ValueError(f"{where}: must be a JSON object of account settings (or a probe report)")
    out: dict[str, Any] = {}
    for key, value in data.items():
        try:
            out[key] = check_value(key, value)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return out


def load_profile_file(path: str | Path) -> dict[str, Any]:
    """The settings in a profile file (a ``nexudus-async probe --json`` report)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from None
    return parse_profile(data, str(path))


def with_profile(config: EmulatorConfig, settings: Mapping[str, Any]) -> EmulatorConfig:
    """``config`` with these (checked) account settings."""
    checked = {name: check_value(name, value) for name, value in settings.items()}
    return attrs.evolve(config, **checked)


def parse_setting_text(setting: AccountSetting, text: str) -> Any:
    """A command-line value (``--ids-forms id``, ``--record-omits Notes,Price``)."""
    if setting.kind == "names":
        return check_value(setting.name, [p.strip() for p in text.split(",") if p.strip()])
    if setting.kind == "page_size":
        if text.strip().lower() == "none":
            return None
        if not text.strip().isdigit():
            raise ValueError(f"{setting.name}: {text!r} is not a whole number or 'none'")
        return check_value(setting.name, int(text))
    for choice in setting.choices:
        if str(choice).lower() == text.strip().lower():
            return choice
    shown = ", ".join(str(c).lower() for c in setting.choices)
    raise ValueError(f"{setting.name}: {text!r} is not one of {shown}")
