"""The entities the command line offers, from the spec's one entity table."""

from __future__ import annotations

from .._core.entity import Entity
from .._generated.api import ENTITIES

__all__ = ["ENTITY_CHOICES"]

ENTITY_CHOICES: dict[str, Entity] = {
    # --entity coworker, product, tariff (the time-pass links), time_passes ...
    (e.attribute.removesuffix("_time_passes") or e.attribute): e
    for e in ENTITIES
}
