"""A failure to connect in a few words: ``cannot reach 127.0.0.1:9 (connection refused)``.

The command line says what happened in the user's words (refused, no such
host, timed out), never aiohttp's repr of the exception. The transport reads
aiohttp's exceptions (it alone does); this is the command line's name for it.
"""

from __future__ import annotations

from .._core.transport import reach_problem

__all__ = ["reach_problem"]
