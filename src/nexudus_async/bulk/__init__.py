"""Bulk creation: many rows, the fewest requests, nothing lost and nothing doubled.

:mod:`.rows` validates, :mod:`.plan` coalesces rows into ``CreateMultiple``
groups, :mod:`.journal` makes a job resumable, :mod:`.snapshot` reads the
baseline that reconciliation counts against, :mod:`.executor` runs a job and
:mod:`.report` says what happened to every row.
"""

from .executor import (
    BulkGateway,
    BulkInputError,
    BulkProgress,
    BulkReport,
    GroupResult,
    KeyedPage,
    ResourceGateway,
    RowResult,
    SnapshotGateway,
    bulk_create,
    bulk_create_for,
    rows_from_mappings,
    run_bulk,
    since_for,
)

__all__ = [
    "BulkGateway",
    "BulkInputError",
    "BulkProgress",
    "BulkReport",
    "GroupResult",
    "KeyedPage",
    "ResourceGateway",
    "RowResult",
    "SnapshotGateway",
    "bulk_create",
    "bulk_create_for",
    "rows_from_mappings",
    "run_bulk",
    "since_for",
]
