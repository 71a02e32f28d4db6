"""The local limiter's store check where files cannot be locked (`_core/local_limiter.py`)."""

from __future__ import annotations

import errno
import fcntl
from pathlib import Path

import pytest

from nexudus_async._core.local_limiter import LimiterStoreError, LocalRateLimiter


def test_a_directory_whose_files_cannot_be_locked_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A network filesystem without locks answers flock with ENOLCK: the store cannot work there.
    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(LimiterStoreError) as info:
        LocalRateLimiter.check_directory(tmp_path)
    expected = f"{tmp_path}/limits: cannot use the shared rate-limit store (No locks available)"
    assert str(info.value) == expected
    assert info.value.__cause__ is None
