"""Tiles on the admin home page. Apps register a function returning a tile; the site calls them."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest


@dataclass(frozen=True)
class Tile:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)  # (label, value)
    status: str = "ok"  # ok | warning | failed, colours the tile
    link: str = ""


_providers: list[Callable[[HttpRequest], Tile | None]] = []


def register_tile(provider: Callable[[HttpRequest], Tile | None]) -> Callable[[HttpRequest], Tile | None]:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def tiles_for(request: HttpRequest) -> list[Tile]:
    return [tile for provider in _providers if (tile := provider(request)) is not None]
