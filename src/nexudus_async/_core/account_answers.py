"""What a namespace learned about how its account answers where the vendor's pages disagree.

No configuration: the first list that needs a fact finds it out from the
answers and the namespace remembers it (``nexudus-async probe`` reports the
same facts).

- ``dir``: the reference spells it ``ascending``/``descending``, other versions
  ``1``/``-1`` or ``0``/``1``, and an account ignores a spelling it does not
  know (the list comes back ascending). Ascending needs nothing (``ascending``
  is ignored or understood, either way ascending). The first descending page
  whose records can tell (two distinct values of the ordered property) is
  checked: if it came back ascending, the same page is asked again with the
  next spelling until one comes back descending, which is remembered. An
  account that understands ``descending`` costs no request more.
- get by ids: 003 documents ``Entity_Id=[..]``, newer pages ``id=[..]``; an
  account that ignores the form answers its plain list (more records than
  asked, or others), and the lookup is asked again in the other form.
- page size: see :func:`~nexudus_async._core.pagination.refused_size` and
  :func:`~nexudus_async._core.pagination.served_size`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from .transport import HttpRequest

__all__ = [
    "DESCENDING_SPELLINGS",
    "AccountAnswers",
    "Rewrite",
    "is_descending",
    "rename_param",
    "respell_dir",
]

DESCENDING_SPELLINGS = ("descending", "-1", "1")
"""Tried in this order: the reference's, then "1 ascending, -1 descending", then "0/1"."""

Rewrite = Callable[[HttpRequest], HttpRequest]


@attrs.define
class AccountAnswers:
    """Facts learned from one account's answers (per namespace)."""

    page_size: int | None = None
    """The largest page the account served (after refusing or capping a larger one)."""
    descending: str | None = None
    """The ``dir`` spelling it sorts descending by."""
    ids_param: str | None = None
    """The get-by-ids parameter it understands, when not the entity's own."""


def is_descending(values: Sequence[Any]) -> bool | None:
    """Whether these values (of the ordered property) are in descending order; None when
    they cannot tell (fewer than two distinct ones, or values that do not compare)."""
    present = [v for v in values if v is not None]
    try:
        if len(set(present)) < 2:
            return None
        return present == sorted(present, reverse=True)
    except TypeError:
        return None


def respell_dir(spelling: str) -> Rewrite:
    """Send ``dir=descending`` as ``spelling`` instead."""

    def rewrite(request: HttpRequest) -> HttpRequest:
        params = tuple(
            (k, spelling if k == "dir" and v == "descending" else v) for k, v in request.params
        )
        return request.evolve(params=params)

    return rewrite


def rename_param(old: str, new: str) -> Rewrite:
    """Send query parameter ``old`` under the name ``new``."""

    def rewrite(request: HttpRequest) -> HttpRequest:
        params = tuple((new if k == old else k, v) for k, v in request.params)
        return request.evolve(params=params)

    return rewrite
