"""The entities the command line offers, from the spec's one entity table."""

from __future__ import annotations

import argparse

from .._core.entity import Entity
from .._generated.api import ENTITIES

__all__ = ["DEFAULT_ENTITY", "ENTITY_CHOICES", "add_entity_option"]

ENTITY_CHOICES: dict[str, Entity] = {
    # --entity coworker, product, tariff (the time-pass links), time_passes ...
    (e.attribute.removesuffix("_time_passes") or e.attribute): e
    for e in ENTITIES
}
DEFAULT_ENTITY = "coworker"


def add_entity_option(p: argparse.ArgumentParser, lead: str) -> None:
    """``--entity``, its help listing every choice with the spec's description of it."""
    p.add_argument(
        "--entity", choices=sorted(ENTITY_CHOICES), default=DEFAULT_ENTITY, help=_help(lead)
    )


def _help(lead: str) -> str:
    def what(entity: Entity) -> str:
        text = entity.description.rstrip(".") or entity.name
        return text[:1].lower() + text[1:]

    listed = "; ".join(
        f"{choice}: {what(entity)}" + (" (the default)" if choice == DEFAULT_ENTITY else "")
        for choice, entity in sorted(ENTITY_CHOICES.items())
    )
    return f"{lead}. {listed}".replace("%", "%%")  # argparse formats help with %
