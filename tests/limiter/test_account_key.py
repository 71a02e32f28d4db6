"""The name a shared limiter keys an account's state by (`_core/limiter.py`)."""

from __future__ import annotations

import hashlib

from nexudus_async._core.limiter import account_key

BASE = "https://spaces.nexudus.com"


def test_the_key_is_24_hex_digits_of_the_hash_of_url_and_user() -> None:
    # pinned: processes of two releases sharing one Redis must agree on it
    key = account_key(BASE + "/", "ops@example.com")
    assert key == "89c4817cd6a34526a677171d"
    assert key == hashlib.sha256(f"{BASE}\0ops@example.com".encode()).hexdigest()[:24]


def test_a_trailing_slash_or_a_missing_user_names_the_same_account() -> None:
    assert account_key(BASE + "///", None) == account_key(BASE, "") == "54b59e16edd8bb05483369e4"
    assert account_key(BASE, "a@example.com") != account_key(BASE, "b@example.com")
    # the separator keeps "url + user" from reading as another url with another user
    assert account_key(BASE + "/a", "b") != account_key(BASE + "/ab", None)
