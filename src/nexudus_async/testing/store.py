"""The in-memory record store.

Every method is synchronous and does not yield to the event loop, so each
operation is atomic under concurrent requests: a ``CreateMultiple`` of N
records gets N consecutive ids nobody else can interleave with.

Records are kept in the single-record shape (PascalCase, as ``GET /{Id}``
answers them); :meth:`Store.list_record` derives the list shape.
"""

from __future__ import annotations

import contextlib
import copy
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from .._core.decimals import NotADecimal, from_python
from .entities import (
    DEFAULT_TIME_PASSES,
    ENTITIES,
    GENERIC_CURRENCY,
    GENERIC_NAMES,
    CatalogueEntry,
    EntitySpec,
    FieldSpec,
    entity,
)
from .values import format_datetime, now

__all__ = ["Store", "blank_value"]


def blank_value(field: FieldSpec) -> Any:
    """What PUT leaves in a field its body lacks: null, false, 0 or empty text."""
    if field.nullable:
        return None
    return {"bool": False, "int": 0, "enum": 0, "decimal": Decimal(0), "str": ""}.get(field.type)


class Store:
    """Records of the three entities, by entity and Id.

    Entities are named by path (``"coworkertimepasses"``) or by name
    (``"CoworkerTimePass"``). Every read returns copies.
    """

    def __init__(
        self,
        *,
        first_id: int = 1,
        catalogues: Mapping[str, Mapping[int, CatalogueEntry]] | None = None,
    ) -> None:
        self._first_id = first_id
        self._catalogues = catalogues or {}
        self._records: dict[str, dict[int, dict[str, Any]]] = {}
        self._next_id: dict[str, int] = {}
        self.clear()

    # ----------------------------------------------------------- inspection
    def clear(self) -> None:
        """Drop every record; ids start again at ``first_id``."""
        self._records = {e.path: {} for e in ENTITIES}
        self._next_id = {e.path: self._first_id for e in ENTITIES}
        if "timepasses" in self._records:  # the definitions the passes point at
            for record in DEFAULT_TIME_PASSES:
                self.insert("timepasses", record)

    def all(self, entity_name: str | EntitySpec) -> list[dict[str, Any]]:
        """Every record of the entity, in Id order (single-record shape)."""
        table = self._records[entity(entity_name).path]
        return [copy.deepcopy(table[i]) for i in sorted(table)]

    def get(self, entity_name: str | EntitySpec, record_id: int) -> dict[str, Any] | None:
        record = self._records[entity(entity_name).path].get(record_id)
        return copy.deepcopy(record) if record is not None else None

    def count(self, entity_name: str | EntitySpec, **equals: Any) -> int:
        """How many records have all the given field values (``CoworkerId=42``)."""
        table = self._records[entity(entity_name).path]
        return sum(
            1 for record in table.values() if all(record.get(k) == v for k, v in equals.items())
        )

    def insert(
        self, entity_name: str | EntitySpec, record: Mapping[str, Any], *, user: str = "System"
    ) -> dict[str, Any]:
        """Seed a record without validation; missing fields get their blank value.

        ``Id``, ``UniqueId``, ``CreatedOn``, ``UpdatedOn`` and ``UpdatedBy`` are
        filled in unless given. Returns a copy of the stored record.
        """
        spec = entity(entity_name)
        stamp = format_datetime(now())
        row = {f.name: blank_value(f) for f in spec.fields}
        row.update(UniqueId=str(uuid.uuid4()), CreatedOn=stamp, UpdatedOn=stamp, UpdatedBy=user)
        row.update(record)
        for f in spec.fields:  # money is stored as Decimal, as a create would store it
            if f.type == "decimal" and isinstance(row[f.name], int | float):
                with contextlib.suppress(NotADecimal):
                    row[f.name] = from_python(row[f.name])
        table = self._records[spec.path]
        if record.get("Id") is None:
            row["Id"] = self._next_id[spec.path]
        row["Id"] = int(row["Id"])
        self._next_id[spec.path] = max(self._next_id[spec.path], row["Id"] + 1)
        table[row["Id"]] = row
        return copy.deepcopy(row)

    # --------------------------------------------------------------- writes
    def create(
        self, spec: EntitySpec, values: Mapping[str, Any], user: str, count: int = 1
    ) -> list[int]:
        """Create ``count`` records from validated values; returns their (consecutive) ids."""
        ids = []
        for _ in range(count):
            ids.append(self.insert(spec, {**values, "Id": None}, user=user)["Id"])
        return ids

    def replace(self, spec: EntitySpec, values: Mapping[str, Any], user: str) -> bool:
        """PUT: every writable field takes the body's value or is cleared."""
        table = self._records[spec.path]
        row = table.get(values["Id"])
        if row is None:
            return False
        for field in spec.writable:
            row[field.name] = values.get(field.name, blank_value(field))
        self.touch(row, user)
        return True

    def update_fields(
        self, spec: EntitySpec, record_id: int, values: Mapping[str, Any], user: str
    ) -> None:
        row = self._records[spec.path][record_id]
        row.update(values)
        self.touch(row, user)

    def delete(self, spec: EntitySpec, record_id: int) -> bool:
        return self._records[spec.path].pop(record_id, None) is not None

    @staticmethod
    def touch(row: dict[str, Any], user: str) -> None:
        row["UpdatedOn"] = format_datetime(now())
        row["UpdatedBy"] = user

    # ---------------------------------------------------------------- reads
    def rows(self, spec: EntitySpec) -> Iterable[dict[str, Any]]:
        """The live rows (not copies): for the list handler, which copies what it answers."""
        return self._records[spec.path].values()

    def has(self, spec: EntitySpec, record_id: int) -> bool:
        return record_id in self._records[spec.path]

    def catalogue(self, name: str | None, record_id: Any) -> CatalogueEntry | None:
        if name is None or record_id is None:
            return None
        served = self._records.get(name, {}).get(record_id)
        if served is not None:  # a record the emulator serves (a TimePass)
            currency = self.catalogue("currencies", served.get("CurrencyId"))
            return CatalogueEntry(served.get("Name") or "", currency.name if currency else None)
        entry = self._catalogues.get(name, {}).get(record_id)
        if entry is None:
            generic = GENERIC_NAMES.get(name, "{id}").format(id=record_id)
            entry = CatalogueEntry(generic, GENERIC_CURRENCY if name == "timepasses" else None)
        return entry

    def derived_value(self, spec: EntitySpec, row: Mapping[str, Any], list_name: str) -> Any:
        for derived in spec.derived:
            if derived.list_name == list_name:
                source = spec.field_map[derived.source]
                entry = self.catalogue(source.related, row.get(derived.source))
                return None if entry is None else entry.value(derived.attribute)
        raise KeyError(list_name)

    def list_record(self, spec: EntitySpec, row: Mapping[str, Any]) -> dict[str, Any]:
        """The list shape of a record: renamed ids plus flattened related names."""
        out: dict[str, Any] = {}
        for field in spec.fields:
            if field.list_name is not None:
                out[field.list_name] = row.get(field.name)
        for derived in spec.derived:
            out[derived.list_name] = self.derived_value(spec, row, derived.list_name)
        # Keep the documented order: flattened names before the audit fields.
        for tail in ("CreatedOn", "UpdatedOn", "UpdatedBy", "UniqueId", "SystemId"):
            out[tail] = out.pop(tail)
        return out
