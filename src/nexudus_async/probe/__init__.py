"""``nexudus-async probe``: how a live account answers where the vendor's pages disagree.

The read checks are a table (:data:`~nexudus_async.probe.reads.READ_CHECKS`),
the write checks a fixed order (:mod:`~nexudus_async.probe.writes`); each
finding names the emulator account settings it observed, so the JSON report
loads as an emulator profile.
"""

from .findings import EXPECTED, Finding
from .report import ProbeReport
from .run import CHECK_NAMES, ProbeOptions, run_probe
from .writes import MARK, WriteTargets

__all__ = [
    "CHECK_NAMES",
    "EXPECTED",
    "MARK",
    "Finding",
    "ProbeOptions",
    "ProbeReport",
    "WriteTargets",
    "run_probe",
]
