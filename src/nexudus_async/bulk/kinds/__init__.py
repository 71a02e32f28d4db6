"""Planning the bulk jobs beyond import: update, delete, apply and undo.

Each planner is pure: the records it compares against come in already read
(:mod:`.read` reads them, in pages of 1,000 or by ids, 100 a request) and it
returns a :class:`Planned`: a :class:`~nexudus_async.bulk.ops.JobPlan` for
the engine, the problems found (line and field; nothing is sent while there
is one), and the requests by kind (:class:`RequestEstimate`).
"""

from .apply import COUNT_COLUMN, ApplyKey, parse_key, plan_apply, plan_apply_counts
from .common import Kept, Planned, RequestEstimate
from .delete import delete_ids, plan_delete
from .undo import UndoGroup, plan_undo
from .update import check_set, plan_update, update_rows

__all__ = [
    "COUNT_COLUMN",
    "ApplyKey",
    "Kept",
    "Planned",
    "RequestEstimate",
    "UndoGroup",
    "check_set",
    "delete_ids",
    "parse_key",
    "plan_apply",
    "plan_apply_counts",
    "plan_delete",
    "plan_undo",
    "plan_update",
    "update_rows",
]
