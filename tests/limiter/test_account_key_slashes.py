"""Only trailing slashes are dropped from the URL an account key is made of."""

from __future__ import annotations

import hashlib

from nexudus_async._core.limiter import account_key


def test_a_base_url_ending_in_a_letter_keeps_it_in_the_key() -> None:
    # a proxy path ending in "X" is another account than the bare host
    key = account_key("https://proxy.test/NX/", "ops@example.com")
    assert key == hashlib.sha256(b"https://proxy.test/NX\0ops@example.com").hexdigest()[:24]
    assert key != account_key("https://proxy.test/N", "ops@example.com")
