"""Values both command lines take (``nexudus-async`` and the emulator's), as argparse types.

Here, below both, so that the CLI and ``testing`` share them without one
importing the other.
"""

from __future__ import annotations

import argparse
import math

__all__ = ["positive_number"]


def positive_number(text: str) -> float:
    """A finite number above 0 (a time scale): ``argparse``'s ``type=``."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value
