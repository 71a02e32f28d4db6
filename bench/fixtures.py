"""Canned, realistic JSON bodies for the benchmarks.

Built from the examples in shared/api-docs (003: the CoworkerTimePass
reference), with the empty example values filled in the way a live space
fills them: some passes used, some priced, some with an expiry date or a
product link. Deterministic, so every run measures the same bytes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

_NS = uuid.UUID("6f1d3c2a-8b7e-4d5f-9a1b-2c3d4e5f6a7b")


def _uuid(kind: str, n: int) -> str:
    return str(uuid.uuid5(_NS, f"{kind}-{n}"))


def _date(n: int, hour: int = 9) -> str:
    # local wall-clock time with a literal Z, as the API writes it
    return f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T{hour:02d}:{n % 60:02d}:00Z"


def list_record(record_id: int) -> dict[str, Any]:
    """One list-shaped CoworkerTimePass (the shape of 003's search example)."""
    n = record_id
    used = n % 3 == 0
    return {
        "Id": record_id,
        "Coworker": 12_000_000 + n % 500,
        "Business": 87_654_321,
        "TimePass": 1_100 + n % 4,
        "Notes": "Imported from the spring campaign" if n % 5 == 0 else None,
        "Used": used,
        "CheckedIn": used and n % 2 == 0,
        "UsedDate": _date(n, 14) if used else None,
        "RemainingUses": None if used else 1,
        "TotalUses": 1,
        "Free": n % 7 == 0,
        "Price": None if n % 7 == 0 else 12.5,
        "CreateMultiple": 1,
        "ExpireDate": _date(n + 3, 23) if n % 2 == 0 else None,
        "Invoiced": n % 4 == 0,
        "InvoiceDate": _date(n + 1, 10) if n % 4 == 0 else None,
        "IsFromTariff": False,
        "CoworkerProductUniqueId": _uuid("product", n) if n % 3 == 1 else None,
        "CoworkerTimePassTimePassName": "Day pass",
        "CoworkerTimePassTimePassCurrency_Code": "EUR",
        "CreatedOn": _date(n, 6),
        "UpdatedOn": _date(n + 2, 21),
        "UpdatedBy": "System",
        "UniqueId": _uuid("ctp", n),
        "SystemId": "{ metadata: { id: 887766, processed: true } }",
    }


def single_record(record_id: int) -> dict[str, Any]:
    """One full CoworkerTimePass (the shape of 003's get-by-id example)."""
    n = record_id
    return {
        "Id": record_id,
        "BusinessId": 87_654_321,
        "CheckedIn": False,
        "CoworkerId": 12_000_000 + n % 500,
        "CoworkerProductUniqueId": _uuid("product", n),
        "CoworkerContractUniqueId": None,
        "TariffTimePassUniqueId": None,
        "CreateMultiple": 1,
        "ExpireDate": _date(n + 3, 23),
        "Free": False,
        "Invoiced": True,
        "InvoiceDate": _date(n + 1, 10),
        "IsFromTariff": False,
        "IsPayAsYouGo": False,
        "Notes": "Notes",
        "PurchaseOrder": "PO-2025-0042",
        "Price": 12.5,
        "RemainingUses": 1,
        "TimePassId": 1_100 + n % 4,
        "TotalUses": 1,
        "Used": False,
        "UsedDate": None,
        "CreatedOn": "2018-07-03T06:23:01Z",
        "UpdatedOn": "2020-01-01T21:57:21Z",
        "UpdatedBy": "System",
        "UniqueId": _uuid("ctp", n),
        "SystemId": "{ metadata: { id: 887766, processed: true } }",
    }


def page(page_no: int, size: int, total: int) -> dict[str, Any]:
    """The list envelope for one page of ``size`` records out of ``total``."""
    total_pages = max(1, -(-total // size))
    first = (page_no - 1) * size + 1
    last = min(total, page_no * size)
    records = [list_record(i) for i in range(first, last + 1)] if first <= total else []
    return {
        "Records": records,
        "CurrentPageSize": size,
        "CurrentPage": page_no,
        "CurrentOrderField": "Id",
        "CurrentSortDirection": 1,
        "FirstItem": first if records else 0,
        "HasNextPage": page_no < total_pages,
        "HasPreviousPage": page_no > 1,
        "LastItem": last if records else 0,
        "PageNumber": page_no,
        "PageSize": size,
        "TotalItems": total,
        "TotalPages": total_pages,
    }


def create_ok(new_id: int = 12_354_678) -> dict[str, Any]:
    """The success envelope of a create (003), with the fields NOTES.md lists."""
    return {
        "Status": 200,
        "Message": "Record 'Day pass' has been succesfully created.",
        "Value": {"Id": new_id},
        "WasSuccessful": True,
        "Errors": None,
        "OpenInDialog": False,
        "OpenInWindow": False,
        "RedirectURL": None,
        "JavaScript": None,
        "UpdatedOn": "2025-03-04T10:30:00Z",
        "UpdatedBy": "bench@example.com",
    }


CREATE_BODY: dict[str, Any] = {
    "CoworkerId": 12_000_001,
    "BusinessId": 87_654_321,
    "TimePassId": 1_101,
    "CreateMultiple": 1,
    "Notes": "Notes",
    "Free": False,
    "Price": 12.5,
}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
