"""Schemathesis hooks for the emulator run (loaded through ``SCHEMATHESIS_HOOKS``).

``dir`` is free text for this run: the document lists the reference page's words
(``ascending``/``descending``), but the vendor's pages disagree on the encoding and
an account ignores a value it does not understand (the list comes back ascending,
which is what ``nexudus-async probe`` observes), so a 200 to any other ``dir`` is
right, not a "schema-violating request accepted".

One emulator-only limit is kept out of the generated data: ``CreateMultiple``
above :attr:`EmulatorConfig.max_create_multiple` (the API documents no maximum,
so the OpenAPI document must not invent one; the emulator refuses to allocate
two billion records). A larger value that is still a valid 32-bit integer is
sent as the cap instead; values outside 32 bits stay as they are, so the
negative checks still see them refused.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from nexudus_async.testing import EmulatorConfig

CAP = EmulatorConfig().max_create_multiple
_INT32_MAX = 2**31 - 1


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    operation = case.operation
    body = case.body
    if (
        operation.method.upper() == "POST"
        and operation.path.endswith("/coworkertimepasses")
        and isinstance(body, dict)
    ):
        count = body.get("CreateMultiple")
        if (
            isinstance(count, int | float)
            and not isinstance(count, bool)
            and float(count).is_integer()
            and CAP < count <= _INT32_MAX
        ):
            body["CreateMultiple"] = CAP
    return case


@schemathesis.hook
def before_load_schema(context: Any, raw_schema: dict[str, Any]) -> None:
    schemas = raw_schema["components"]["schemas"]
    assert schemas["SortDirection"]["enum"] == ["ascending", "descending"], "review this hook"
    schemas["SortDirection"] = {
        "type": "string",
        "description": "Any text; not understood: ignored.",
    }
