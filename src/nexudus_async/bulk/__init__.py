"""Bulk creation: many rows, the fewest requests, nothing lost and nothing doubled.

:mod:`.rows` validates, :mod:`.plan` coalesces rows into ``CreateMultiple``
groups, :mod:`.journal` makes a job resumable, :mod:`.snapshot` reads the
baseline that reconciliation counts against, :mod:`.executor` runs a job and
:mod:`.report` says what happened to every row.
"""

from . import executor as _executor
from .executor import *  # noqa: F403 - the public names, listed once in executor.__all__
from .formatted_rows import formatted_rows

__all__ = [*_executor.__all__, "formatted_rows"]
