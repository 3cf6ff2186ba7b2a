"""One remembered recipe: MemoryEntry, the checks on what a user may store, and the metadata each
entry is stored with (schema versions 0 and 1)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from sceneshop.agent.recipe import Recipe
from sceneshop.tools.echo import capped
from sceneshop.tools.errors import InputError, RecipeError, SceneshopError

# Version 1 is the layout written by Sceneshop now: a collection per user (see
# memory_store._collection_name), entries as in _metadata, the version in the MARKER collection's
# metadata and on every entry. Version 0 was the prototype's: one collection "recipes" for everyone,
# entries with user_id, recipe_json, rating accepted|rejected|saved, created_at (ISO text) and label,
# and no "schema" anywhere. Opening a version-0 store splits it into per-user collections
# (memory_store._Store._migrate_v0).
SCHEMA_VERSION = 1
Rating = Literal["saved", "liked", "disliked"]
RATINGS: tuple[str, ...] = ("saved", "liked", "disliked")
POSITIVE: tuple[str, ...] = ("saved", "liked")

_USER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_V0_RATINGS = {"accepted": "liked", "rejected": "disliked", "saved": "saved"}


@dataclass(frozen=True)
class MemoryEntry:
    """One remembered recipe of one user."""

    id: str
    user: str
    request: str
    recipe_json: str = field(repr=False)
    category: str
    rating: str
    name: str | None
    tags: tuple[str, ...]
    thumbnail: Path | None
    created: float
    updated: float
    schema: int = SCHEMA_VERSION

    @property
    def recipe(self) -> Recipe:
        return Recipe.from_json(self.recipe_json)

    @property
    def label(self) -> str:
        """How replies name it: its name, or the request that made it."""
        return f"'{self.name}'" if self.name else f"for '{_short(self.request)}'"


# ---------------------------------------------------------------------------------- input checks


def check_user(user: object) -> str:
    """The user id, or InputError: 1-64 of letters, digits and . _ @ + -, starting alphanumeric."""
    if not isinstance(user, str) or not _USER_RE.fullmatch(user):
        raise InputError(
            f"user id {capped(user)} is not valid: use 1-64 letters, digits or . _ @ + - "
            "(starting with a letter or digit)"
        )
    return user


def _check_id(entry_id: object) -> str:
    if not isinstance(entry_id, str) or not _ID_RE.fullmatch(entry_id):
        raise InputError(
            f"{capped(entry_id)} is not a memory entry id; `sceneshop memory list` shows the ids"
        )
    return entry_id


def _check_rating(rating: object) -> str:
    if rating not in RATINGS:
        raise InputError(f"rating {capped(rating)} is not one of {', '.join(RATINGS)}")
    return str(rating)


def _check_ratings(rating: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if rating is None:
        return None
    values = (rating,) if isinstance(rating, str) else tuple(rating)
    return tuple(_check_rating(r) for r in values)


def _clean_name(name: object) -> str | None:
    """A look's name with whitespace collapsed, or None for no name."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise InputError(f"a recipe name must be text, not {type(name).__name__}")
    text = " ".join(name.split())
    if not text:
        return None
    if len(text) > 80 or _CONTROL_RE.search(text):
        raise InputError(
            f"recipe name {_short(text)!r} is too long or has control characters; use ≤ 80 characters"
        )
    return text


def _name_key(name: str | None) -> str:
    return name.casefold() if name else ""


def _clean_tags(tags: Iterable[str] | str | None) -> tuple[str, ...]:
    if tags is None:
        return ()
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise InputError(f"tags must be text, not {type(tag).__name__}")
        text = " ".join(tag.split())
        if not text:
            continue
        if len(text) > 40 or _CONTROL_RE.search(text):
            raise InputError(
                f"tag {_short(text)!r} is too long or has control characters; use ≤ 40 characters"
            )
        if text not in out:
            out.append(text)
    if len(out) > 20:
        raise InputError(f"{len(out)} tags is too many; keep it to 20")
    return tuple(out)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _document(recipe: Recipe) -> str:
    """The text that is embedded: the user's words, or the scene when a recipe has none."""
    scene = f"{recipe.scene.preset.replace('_', ' ')} {recipe.scene.description}"
    return recipe.request.strip() or scene.strip()


# ----------------------------------------------------------------------------- metadata layouts


def _recipe_fields(recipe_json: str) -> dict[str, Any]:
    """The recipe facts kept beside its JSON for filtering (category) and duplicate detection."""
    try:
        recipe = Recipe.from_json(recipe_json)
    except RecipeError:
        return {"recipe_id": "", "category": "general", "scene": "", "lighting": "", "time": "", "loras": ""}
    return {
        "recipe_id": recipe.id,
        "category": recipe.subject.category.strip().lower() or "general",
        "scene": recipe.scene.preset,
        "lighting": recipe.lighting.preset,
        "time": recipe.time_of_day or "",
        "loras": ",".join(sorted(c.name for c in recipe.loras)),
    }


def _metadata(
    user: str, recipe_json: str, rating: str, name: str | None, tags: tuple[str, ...],
    has_thumbnail: bool, created: float, updated: float,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "user": user,
        "recipe": recipe_json,
        **_recipe_fields(recipe_json),
        "rating": rating,
        "name": name or "",
        "name_key": _name_key(name),
        "named": 1 if name else 0,  # an int: Chroma indexes ints, and `$ne ""` scans every entry
        "tags": json.dumps(list(tags)),
        "thumbnail": has_thumbnail,
        # Whole milliseconds: Chroma keeps ints exactly (a float came back a few ulps off).
        "created": _ms(created),
        "updated": _ms(updated),
    }


def _upgrade_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """An entry of any known layout in the current one (version 0 -> 1; current ones unchanged)."""
    version = meta.get("schema", 0)
    if version == SCHEMA_VERSION:
        return meta
    if version != 0:
        raise SceneshopError(
            f"a memory entry has schema {capped(version)}, newer than this Sceneshop understands "
            f"({SCHEMA_VERSION}); upgrade Sceneshop"
        )
    created = _parse_time(meta.get("created_at"))
    return _metadata(
        user=str(meta.get("user_id", "")),
        recipe_json=str(meta.get("recipe_json", "{}")),
        rating=_V0_RATINGS.get(str(meta.get("rating")), "saved"),
        name=_clean_name(meta.get("label")) if isinstance(meta.get("label"), str) else None,
        tags=(),
        has_thumbnail=False,
        created=created,
        updated=created,
    )


def _parse_time(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return 0.0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _seconds(stored: object) -> float:
    return stored / 1000 if isinstance(stored, int) else float(stored)  # type: ignore[arg-type]
