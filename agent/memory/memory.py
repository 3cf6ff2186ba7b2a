"""The per-user recipe memory callers use: RecipeMemory saves, searches, names, deletes, exports and
imports the recipes that worked, and tells the planners what a new request should start from."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from sceneshop.agent.memory.entry import (
    POSITIVE,
    RATINGS,
    SCHEMA_VERSION,
    MemoryEntry,
    Rating,
    _check_id,
    _check_rating,
    _check_ratings,
    _clean_name,
    _clean_tags,
    _document,
    _metadata,
    _ms,
    _name_key,
    _recipe_fields,
    _seconds,
    _upgrade_metadata,
    check_user,
)
from sceneshop.agent.memory.export import EXPORT_FORMAT, MAX_IMPORT_BYTES, _read_export, _write_export
from sceneshop.agent.memory.recall import (
    AVOID_THRESHOLD,
    SIMILAR_THRESHOLD,
    Avoid,
    Recall,
    asks_for_last_time,
    can_start_from,
    named_in,
    recall_last_time,
    recall_named,
    recall_similar,
)
from sceneshop.agent.memory.store import (
    MARKER,
    THUMBNAIL_SIZE,
    V0_COLLECTION,
    SceneshopEmbeddingFunction,
    _acquire_store,
    _release_store,
    _thumbnail_path,
    _write_thumbnail,
)
from sceneshop.agent.recipe import Recipe
from sceneshop.tools.errors import InputError

# The names callers import from here, wherever they are defined.
__all__ = [
    "AVOID_THRESHOLD", "DUPLICATE_THRESHOLD", "EXPORT_FORMAT", "MARKER", "MAX_IMPORT_BYTES", "MAX_K",
    "POSITIVE", "RATINGS", "SCHEMA_VERSION", "SIMILAR_THRESHOLD", "THUMBNAIL_SIZE", "V0_COLLECTION",
    "Avoid", "Looks", "MemoryEntry", "Rating", "Recall", "RecipeMemory", "SceneshopEmbeddingFunction",
    "check_user",
]

# Same scene, light, time and LoRAs and nearly the same words: the same look saved again.
DUPLICATE_THRESHOLD = 0.95
MAX_K = 100


def _where(*conditions: dict[str, Any]) -> dict[str, Any] | None:
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": list(conditions)}


def _filters(category: str | None, ratings: tuple[str, ...] | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if category:
        out.append({"category": category.strip().lower()})
    if ratings:
        out.append({"rating": ratings[0]} if len(ratings) == 1 else {"rating": {"$in": list(ratings)}})
    return out


@dataclass(frozen=True)
class Looks:
    """A user's remembered looks for a listing: the ones to reuse apart from the disliked ones."""

    saved: list[MemoryEntry]  # liked and saved, most recently updated first
    disliked: list[MemoryEntry]  # kept only to steer away from; never offered as a look to reuse


class RecipeMemory:
    """The user's remembered recipes. Every method takes the user id first and only ever sees that
    user's entries; an id or name of someone else's entry behaves exactly like an unknown one."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir).expanduser()
        self._store = _acquire_store(self.data_dir)
        self._ef = SceneshopEmbeddingFunction()
        try:
            with self._store.access(write=False):
                pass  # open now, so a broken store is reported at start-up, not mid-chat
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._store is not None:
            _release_store(self._store)
            self._store = None  # type: ignore[assignment]

    def __enter__(self) -> RecipeMemory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------- writing

    def save(
        self,
        user: str,
        recipe: Recipe,
        rating: Rating = "saved",
        name: str | None = None,
        tags: Iterable[str] = (),
        thumbnail: Image.Image | None = None,
    ) -> MemoryEntry:
        """Remembers `recipe` for `user`. The same look saved again (same recipe id, or same scene,
        lighting, time and LoRAs with a near-identical request) updates that entry: its recipe,
        rating, time, and name/tags when given. A name must be unused among the user's other entries."""
        user = check_user(user)
        if not isinstance(recipe, Recipe):
            raise InputError(f"save() needs a Recipe, not {type(recipe).__name__}")
        rating = _check_rating(rating)
        name = _clean_name(name)
        tags = _clean_tags(tags)
        vector = self._embed([_document(recipe)])[0]
        now = time.time()
        with self._store.access(write=True) as store:
            col = store.collection(user, create=True)
            return self._save_locked(col, user, recipe, vector, rating, name, tags, thumbnail, now, now)

    def rename(self, user: str, entry_id: str, name: str | None) -> MemoryEntry:
        """Gives the entry a new name (None or "" removes it)."""
        user = check_user(user)
        entry_id = _check_id(entry_id)
        name = _clean_name(name)
        with self._store.access(write=True) as store:
            col = store.collection(user, create=False)
            entry = self._get_locked(col, user, entry_id)
            if name:
                self._check_name_free(col, user, name, entry.id)
            meta = _metadata(
                user, entry.recipe_json, entry.rating, name, entry.tags, entry.thumbnail is not None,
                entry.created, time.time(),
            )
            col.update(ids=[entry.id], metadatas=[meta])
            return self._entry(user, entry.id, entry.request, meta)

    def delete(self, user: str, entry_id: str) -> MemoryEntry:
        """Forgets one entry (and its thumbnail); returns what was deleted."""
        user = check_user(user)
        entry_id = _check_id(entry_id)
        with self._store.access(write=True) as store:
            col = store.collection(user, create=False)
            entry = self._get_locked(col, user, entry_id)
            col.delete(ids=[entry.id])
        _thumbnail_path(self.data_dir, user, entry.id).unlink(missing_ok=True)
        return entry

    # ------------------------------------------------------------------------------- reading

    def get(self, user: str, entry_id: str) -> MemoryEntry:
        user = check_user(user)
        entry_id = _check_id(entry_id)
        with self._store.access(write=False) as store:
            return self._get_locked(store.collection(user, create=False), user, entry_id)

    def list(
        self, user: str, category: str | None = None, rating: str | Iterable[str] | None = None
    ) -> list[MemoryEntry]:
        """The user's entries, most recently updated first."""
        user = check_user(user)
        where = _where(*_filters(category, _check_ratings(rating)))
        return sorted(self._find(user, where), key=lambda e: (-e.updated, e.id))

    def looks(self, user: str) -> Looks:
        """The user's looks, the disliked ones listed apart from the ones to reuse."""
        entries = self.list(user)
        saved = [e for e in entries if e.rating in POSITIVE]
        return Looks(saved, [e for e in entries if e.rating == "disliked"])

    def find_by_recipe(self, user: str, recipe_id: str) -> MemoryEntry | None:
        """The entry that holds the recipe with this id, if the user saved it."""
        user = check_user(user)
        entries = self._find(user, {"recipe_id": str(recipe_id)})
        return entries[0] if entries else None

    def find_by_name(self, user: str, name: str) -> MemoryEntry | None:
        user = check_user(user)
        key = _name_key(_clean_name(name))
        if not key:
            return None
        entries = self._find(user, {"name_key": key})
        return entries[0] if entries else None

    def search(
        self,
        user: str,
        text: str,
        k: int = 5,
        category: str | None = None,
        rating: str | Iterable[str] | None = None,
    ) -> list[tuple[MemoryEntry, float]]:
        """The user's entries whose requests mean the most like `text`, best first, with cosine
        similarity (1 = same meaning, ~0.7 = a paraphrase, < 0.3 = unrelated)."""
        user = check_user(user)
        if not isinstance(text, str) or not text.strip():
            raise InputError("search needs some words, e.g. 'beach at sunset'")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InputError(f"k must be between 1 and {MAX_K} (got {k!r})")
        ratings = _check_ratings(rating)
        vector = self._embed([text.strip()])[0]
        return self._search_vector(user, vector, k, _where(*_filters(category, ratings)))

    # -------------------------------------------------------------------------- planning aid

    def resolve(self, user: str, request: str) -> Recall | None:
        """What memory says about a new request (None: nothing). In order:
        1. a saved name in the request ("do my sunset look for these bags") -> that recipe;
        2. "like last time" / "the usual" / "same as before" -> the most recent liked/saved recipe
           (or kind "not_found" with a reason, when there is none);
        3. a liked/saved recipe whose request is at least SIMILAR_THRESHOLD alike -> start from it;
        and, for 3 and when nothing matched, a disliked recipe at least AVOID_THRESHOLD alike is
        returned as `avoid` (kind "avoid" when it is all there is) for `Avoid.steer`.
        Call it for a new request without a current recipe; mid-conversation, the user's edits
        apply to the current recipe. The Studio plans with `parent=recall.recipe`, applies
        `recall.avoid.steer()` to the planned recipe when set, and shows `recall.reason`."""
        user = check_user(user)
        text = " ".join(str(request or "").split())
        if not text:
            return None
        named = named_in(text, self._find(user, {"named": 1}))
        if named is not None:
            return recall_named(named)
        if asks_for_last_time(text):
            return recall_last_time(self._latest(user))
        if not self._has_entries(user):
            return None  # nothing to compare with: no need to load the embedding model
        # One unfiltered look-up serves both questions (a rating filter would cost more than it saves).
        return recall_similar(self._search_vector(user, self._embed([text])[0], 10, None))

    # ----------------------------------------------------------------------- export / import

    def export(self, user: str, path: Path | str) -> int:
        """Writes the user's entries (with thumbnails) to a JSON file; returns how many."""
        return _write_export(path, self.list(user))

    def import_(self, user: str, path: Path | str) -> int:
        """Adds the entries of an export file to `user`'s memory, whoever exported them: new ids,
        owned by `user`; an entry of the same look updates the existing one; a name the user
        already uses gets " (2)". The whole file is checked first: nothing is added if any entry
        is invalid. Returns how many entries were added or updated."""
        user = check_user(user)
        items = _read_export(Path(path).expanduser())
        vectors: list[Any] = []
        for start in range(0, len(items), 256):
            vectors += self._embed([_document(it["recipe"]) for it in items[start : start + 256]])
        now = time.time()
        with self._store.access(write=True) as store:
            col = store.collection(user, create=True)
            for it, vector in zip(items, vectors, strict=True):
                self._save_locked(
                    col, user, it["recipe"], vector, it["rating"], it["name"], it["tags"], it["thumbnail"],
                    min(it["created"], now), min(it["updated"], now), rename_clash=True,
                )
        return len(items)

    # ----------------------------------------------------------------------------- internals

    def _embed(self, texts: list[str]) -> list[Any]:
        return self._ef(texts)

    def _search_vector(
        self, user: str, vector: Any, k: int, where: dict[str, Any] | None
    ) -> list[tuple[MemoryEntry, float]]:
        with self._store.access(write=False) as store:
            col = store.collection(user, create=False)
            if col is None:
                return []
            got = col.query(
                query_embeddings=[vector], n_results=k, where=where,
                include=["metadatas", "documents", "distances"],
            )
        hits = []
        for i, d, m, dist in zip(
            got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
        ):
            entry = self._entry(user, i, d, m)
            if entry is not None:
                hits.append((entry, 1.0 - float(dist)))
        return hits

    def _has_entries(self, user: str) -> bool:
        with self._store.access(write=False) as store:
            col = store.collection(user, create=False)
            return col is not None and col.count() > 0

    def _get(self, col: Any, **kwargs: Any) -> dict[str, Any]:
        if col is None:
            return {"ids": [], "documents": [], "metadatas": []}
        return col.get(include=["metadatas", "documents"], **kwargs)

    def _save_locked(
        self, col: Any, user: str, recipe: Recipe, vector: Any, rating: str, name: str | None,
        tags: tuple[str, ...], thumbnail: Image.Image | None, created: float, updated: float,
        rename_clash: bool = False,
    ) -> MemoryEntry:
        existing = self._duplicate_of(col, user, recipe, vector)
        entry_id = existing.id if existing else secrets.token_hex(8)
        if name:
            if rename_clash:
                name = self._free_name(col, user, name, entry_id)
            else:
                self._check_name_free(col, user, name, entry_id)
        has_thumbnail = False
        if existing is not None:
            created = min(created, existing.created)
            name = name or existing.name
            tags = existing.tags + tuple(t for t in tags if t not in existing.tags)
            has_thumbnail = existing.thumbnail is not None
        if thumbnail is not None:
            _write_thumbnail(self.data_dir, user, entry_id, thumbnail)
            has_thumbnail = True
        meta = _metadata(user, recipe.model_dump_json(), rating, name, tags, has_thumbnail, created, updated)
        document = _document(recipe)
        col.upsert(ids=[entry_id], embeddings=[vector], documents=[document], metadatas=[meta])
        return self._entry(user, entry_id, document, meta)

    def _duplicate_of(self, col: Any, user: str, recipe: Recipe, vector: Any) -> MemoryEntry | None:
        same_id = self._entries(user, self._get(col, where={"recipe_id": recipe.id}, limit=1))
        if same_id:
            return same_id[0]
        look = _recipe_fields(recipe.model_dump_json())
        keys = ("scene", "lighting", "time", "loras")
        got = col.query(
            query_embeddings=[vector], n_results=10, include=["metadatas", "documents", "distances"]
        )
        for i, d, m, dist in zip(
            got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
        ):
            if 1.0 - dist < DUPLICATE_THRESHOLD:
                break
            entry = self._entry(user, i, d, m)
            if entry is not None and all(m.get(key) == look[key] for key in keys):
                return entry
        return None

    def _check_name_free(self, col: Any, user: str, name: str, entry_id: str) -> None:
        others = [e for e in self._entries(user, self._get(col, where={"name_key": _name_key(name)}))
                  if e.id != entry_id]
        if others:
            raise InputError(
                f"you already have a recipe named '{others[0].name}' (id {others[0].id}); pick another "
                "name, or rename or delete that one first"
            )

    def _free_name(self, col: Any, user: str, name: str, entry_id: str) -> str:
        candidate, n = name, 1
        while True:
            got = self._entries(user, self._get(col, where={"name_key": _name_key(candidate)}))
            if not [e for e in got if e.id != entry_id]:
                return candidate
            n += 1
            candidate = f"{name[:74]} ({n})"

    def _get_locked(self, col: Any, user: str, entry_id: str) -> MemoryEntry:
        entries = self._entries(user, self._get(col, ids=[entry_id]))
        if not entries:
            raise InputError(
                f"there is no recipe with id {entry_id} in your memory; "
                "`sceneshop memory list` shows your ids"
            )
        return entries[0]

    def _find(self, user: str, where: dict[str, Any] | None) -> list[MemoryEntry]:
        """The user's entries matching `where` (all of them for None), in no particular order."""
        with self._store.access(write=False) as store:
            got = self._get(store.collection(user, create=False), where=where)
        return self._entries(user, got)

    def _latest(self, user: str) -> MemoryEntry | None:
        """The most recently updated liked/saved entry; searched in widening time windows so a
        user with thousands of entries costs a handful of rows, not all of them."""
        now = time.time()
        for days in (1, 7, 31, 366, None):
            where = {"updated": {"$gte": _ms(now - days * 86400)}} if days is not None else None
            usable = [e for e in self._find(user, where) if can_start_from(e)]
            if usable:
                return max(usable, key=lambda e: (e.updated, e.id))
        return None

    def _entries(self, user: str, got: dict[str, Any]) -> list[MemoryEntry]:
        entries = (
            self._entry(user, i, d, m)
            for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        )
        return [e for e in entries if e is not None]

    def _entry(
        self, user: str, entry_id: str, document: str | None, meta: dict[str, Any]
    ) -> MemoryEntry | None:
        """The record as an entry of `user`, or None if it is anyone else's (a second check behind
        the per-user collections: a misfiled record is never shown)."""
        meta = _upgrade_metadata(meta or {})
        if meta.get("user") != user:
            return None
        thumb = _thumbnail_path(self.data_dir, user, entry_id) if meta.get("thumbnail") else None
        try:
            tags = tuple(str(t) for t in json.loads(meta.get("tags") or "[]"))
        except (ValueError, TypeError):
            tags = ()
        return MemoryEntry(
            id=entry_id,
            user=user,
            request=document or "",
            recipe_json=str(meta["recipe"]),
            category=str(meta.get("category", "general")),
            rating=str(meta.get("rating", "saved")),
            name=str(meta.get("name") or "") or None,
            tags=tags,
            thumbnail=thumb if thumb is not None and thumb.is_file() else None,
            created=_seconds(meta.get("created", 0)),
            updated=_seconds(meta.get("updated", 0)),
            schema=int(meta.get("schema", SCHEMA_VERSION)),
        )
