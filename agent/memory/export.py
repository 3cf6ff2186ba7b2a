"""The file `sceneshop memory export` writes and `sceneshop memory import` reads back, checked entry by
entry."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from sceneshop.agent.memory.entry import (
    SCHEMA_VERSION,
    MemoryEntry,
    _check_rating,
    _clean_name,
    _clean_tags,
    _parse_time,
    _short,
)
from sceneshop.agent.memory.store import THUMBNAIL_SIZE
from sceneshop.agent.recipe import Recipe
from sceneshop.tools.echo import capped
from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import write_atomic

EXPORT_FORMAT = "sceneshop-memory"
MAX_IMPORT_BYTES = 64 * 2**20


def _write_export(path: Path | str, entries: list[MemoryEntry]) -> int:
    """Writes `entries` (with thumbnails) to a JSON file; returns how many."""
    records = []
    for e in entries:
        record: dict[str, Any] = {
            "request": e.request,
            "recipe": json.loads(e.recipe_json) if _is_json(e.recipe_json) else e.recipe_json,
            "category": e.category,
            "rating": e.rating,
            "name": e.name,
            "tags": list(e.tags),
            "created": e.created,
            "updated": e.updated,
        }
        if e.thumbnail is not None:
            record["thumbnail_png"] = base64.b64encode(e.thumbnail.read_bytes()).decode("ascii")
        records.append(record)
    data = {"format": EXPORT_FORMAT, "schema": SCHEMA_VERSION, "exported": time.time()}
    data["entries"] = records
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputError(f"{target} is a folder; give a file name, e.g. {target / 'memory.json'}")
    write_atomic(target, json.dumps(data, indent=1).encode("utf-8"))
    return len(records)


def _read_export(path: Path) -> list[dict[str, Any]]:
    """The checked entries of an export file: recipe, rating, name, tags, thumbnail, times."""
    from sceneshop.tools.imageio import load_image

    try:
        size = path.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise InputError(
                f"{path} is {size // 2**20} MB; an export file is at most {MAX_IMPORT_BYTES // 2**20} MB"
            )
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path} does not exist; give the file `sceneshop memory export` wrote") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise InputError(
            f"{path} is not a Sceneshop memory export (not JSON: {_short(str(exc), 80)})"
        ) from None
    except RecursionError:
        raise InputError(
            f"{path} is not a Sceneshop memory export (its JSON is nested far deeper than an export)"
        ) from None
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or not isinstance(
        data.get("entries"), list
    ):
        raise InputError(f"{path} is not a Sceneshop memory export (no \"format\": \"{EXPORT_FORMAT}\")")
    if not isinstance(data.get("schema"), int) or data["schema"] > SCHEMA_VERSION:
        raise InputError(
            f"{path} was written by a newer Sceneshop (schema {capped(data.get('schema'))}); upgrade to "
            "import it"
        )
    items = []
    for n, raw in enumerate(data["entries"], start=1):
        where = f"{path.name}, entry {n}"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: not an object")
        try:
            recipe_data = raw.get("recipe")
            if isinstance(recipe_data, str):
                recipe = Recipe.from_json(recipe_data)
            else:
                recipe = Recipe.from_dict(recipe_data)
            thumbnail = None
            if raw.get("thumbnail_png"):
                png = base64.b64decode(str(raw["thumbnail_png"]), validate=True)
                thumbnail = load_image(png, max_pixels=4 * THUMBNAIL_SIZE**2, max_bytes=2**20)
            items.append({
                "recipe": recipe,
                "rating": _check_rating(raw.get("rating", "saved")),
                "name": _clean_name(raw.get("name")),
                "tags": _clean_tags(raw.get("tags") or ()),
                "thumbnail": thumbnail,
                "created": _parse_time(raw.get("created", 0.0)),
                "updated": _parse_time(raw.get("updated", raw.get("created", 0.0))),
            })
        except (SceneshopError, ValueError) as exc:
            raise InputError(f"{where}: {exc}; nothing was imported") from None
    return items


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
