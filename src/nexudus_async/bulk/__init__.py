"""Bulk jobs: many rows, the fewest requests, nothing lost and nothing doubled.

:mod:`.rows` validates, :mod:`.plan` coalesces rows into ``CreateMultiple``
groups, :mod:`.ops` holds a job's plan (groups and record ops), :mod:`.engine`
runs any job (:func:`run_job`: :mod:`.create_step`, :mod:`.record_step`, every
failure through :mod:`.policy`), :mod:`.journal` makes it resumable,
:mod:`.snapshot` reads the baseline that reconciliation counts against,
:mod:`.executor` is the import's entry (``bulk_create``) and :mod:`.report`
says what happened to every row and op.
"""

from . import executor as _executor
from .executor import *  # noqa: F403 - the public names, listed once in executor.__all__
from .formatted_rows import formatted_rows

__all__ = [*_executor.__all__, "formatted_rows"]
