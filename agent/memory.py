"""Recipe memory: a per-user ChromaDB store of the recipes that worked, searched by the meaning of
their requests and consulted by the planners ("like last time", "my sunset look", a near-repeat).

How the Studio uses it (see `RecipeMemory.resolve`)::

    recall = memory.resolve(user, request)          # None: memory has nothing to say
    parent = recall.recipe if recall else None      # a remembered recipe to start from, or None
    recipe = planner.plan(request, parent, image_size=...)
    if recall is not None:
        if recall.avoid is not None:
            recipe = recall.avoid.steer(recipe)     # drop disliked LoRAs, never repeat that picture
        recipe.notes.insert(0, recall.reason)       # tell the user what memory did

Storage: ChromaDB's embedded client under <data_dir>/memory with one collection per user, named by
a hash of the user id, plus a marker collection that carries the store's schema version. A user's
operations only ever open that user's collection, and every record read is checked to belong to
the user. (One shared collection filtered with where={"user": ...} was measured first: Chroma's
filtered vector search costs about 7 µs per matching record, 70 ms for a user with 10 000 entries,
which rules out the 100 000-recipe latency target; per-user collections need no filter.)
Thumbnails live under <data_dir>/thumbnails/<hash of user>/<entry id>.png.

ChromaDB's embedded client is not safe for several processes: each keeps its own in-memory HNSW
index and writes it back over the others' (measured here: 2 writers x 1500 adds lost 5 vectors; with
frequent index flushes a writer failed with "Error finding id"). So every operation holds an flock on
<data_dir>/memory.lock (shared to read, exclusive to write), and a process reopens its client when
another process wrote since its last access (each write leaves a new random token in the lock file).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import chromadb
import chromadb.errors
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function
from PIL import Image

from agent.recipe import Recipe, new_seed
from tools.errors import InputError, RecipeError, SceneshopError
from tools.imageio import write_atomic

# Version 1 is the layout written by this module: a collection per user (see _collection_name),
# entries as in _metadata, the version in the MARKER collection's metadata and on every entry.
# Version 0 was the prototype's: one collection "recipes" for everyone, entries with user_id,
# recipe_json, rating accepted|rejected|saved, created_at (ISO text) and label, and no "schema"
# anywhere. Opening a version-0 store splits it into per-user collections (_Store._migrate_v0).
SCHEMA_VERSION = 1
MARKER = "sceneshop-store"
V0_COLLECTION = "recipes"
Rating = Literal["saved", "liked", "disliked"]
RATINGS: tuple[str, ...] = ("saved", "liked", "disliked")
POSITIVE: tuple[str, ...] = ("saved", "liked")

# Cosine similarities of request texts under all-MiniLM-L6-v2, measured with
# `python bench/memory.py --calibrate`: rewordings of the same look score 0.83-0.97 ("this dress on
# a sunset beach" vs "put this dress on a beach at sunset" 0.91), different looks that share most
# words up to 0.84 ("city street at night" vs "neon city street at night"; white vs black background
# for amazon 0.81), paraphrases with no shared words only ~0.70 ("seaside at dusk" vs "beach at
# sunset": search finds those, resolve does not start from them). At 0.85 no different look got
# through and 6 of 10 rewordings did; the reply always says where planning started.
SIMILAR_THRESHOLD = 0.85
AVOID_THRESHOLD = 0.85
# Same scene, light, time and LoRAs and nearly the same words: the same look saved again.
DUPLICATE_THRESHOLD = 0.95

THUMBNAIL_SIZE = 256
EXPORT_FORMAT = "sceneshop-memory"
MAX_IMPORT_BYTES = 64 * 2**20
MAX_K = 100

_USER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_LAST_TIME_RE = re.compile(
    r"\b(?:(?:like|as) (?:the )?last time|same (?:as|like) (?:before|last time|usual|always)"
    r"|like before|as usual|the usual|same again)\b",
    re.IGNORECASE,
)
_V0_RATINGS = {"accepted": "liked", "rejected": "disliked", "saved": "saved"}


# ------------------------------------------------------------------------------ embedding function


@register_embedding_function
class SceneshopEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's handle on agent.embeddings.embed (the shared offline MiniLM model). Registered by
    name so a reopened collection rebuilds this function, never Chroma's downloading default."""

    def __init__(self) -> None:
        pass  # stateless: the model itself is loaded once per process by agent.embeddings

    def __call__(self, input: Documents) -> Embeddings:
        from agent.embeddings import embed

        return list(embed(list(input)))

    @staticmethod
    def name() -> str:
        return "sceneshop-all-minilm-l6-v2"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> SceneshopEmbeddingFunction:
        return SceneshopEmbeddingFunction()

    def default_space(self) -> str:
        return "cosine"  # vectors are unit length; similarity = 1 - distance

    def supported_spaces(self) -> list[str]:
        return ["cosine", "ip", "l2"]

    def is_legacy(self) -> bool:
        return False


# ------------------------------------------------------------------------------------ the records


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


@dataclass(frozen=True)
class Avoid:
    """A disliked result for a request like this one: what to steer away from."""

    entry_id: str
    request: str
    similarity: float
    scene_preset: str
    lighting_preset: str
    time_of_day: str | None
    loras: tuple[str, ...]  # disliked LoRAs (minus any the recalled good recipe also uses)
    seed: int | None
    # The recalled liked recipe has this same scene, light and time: the look itself is wanted.
    look_liked: bool = False

    def describe(self) -> str:
        parts = []
        if self.loras:
            parts.append("its LoRAs (" + ", ".join(self.loras) + ")")
        look = ", ".join(p for p in (self.scene_preset, self.lighting_preset, self.time_of_day) if p)
        parts.append("repeating its exact picture" + ("" if self.look_liked else f" ({look})"))
        return (
            f"you disliked the result for a similar request ('{_short(self.request)}', "
            f"{self.similarity:.2f}), so I avoid " + " and ".join(parts)
        )

    def steer(self, recipe: Recipe) -> Recipe:
        """A copy of the planned `recipe` moved away from the disliked one: its LoRAs are dropped,
        and if its seed is the disliked one, or scene, lighting and time match it (unless a liked
        recipe of that same look was recalled), the seed is changed so that picture is not made
        again. The scene the user asked for is never changed; each change is noted for the reply."""
        out = recipe.model_copy(deep=True)
        dropped = [c.name for c in out.loras if c.name in self.loras]
        if dropped:
            out.loras = [c for c in out.loras if c.name not in self.loras]
            out.notes.append(
                f"left out LoRA {', '.join(dropped)}: you disliked a result that used it "
                f"('{_short(self.request)}')"
            )
        same_look = _look(out) == (self.scene_preset, self.lighting_preset, self.time_of_day)
        if (same_look and not self.look_liked) or out.seed == self.seed:
            out.seed = new_seed()
            out.notes.append(
                f"same scene and light as a result you disliked ('{_short(self.request)}'): "
                "new seed; say what to change (light, props, time of day) if it is still not right"
            )
        return out


@dataclass(frozen=True)
class Recall:
    """What memory contributes to planning one request.

    kind: "last_time" (the user's most recent liked/saved recipe, asked for with "like last time",
    "the usual", "same as before"), "named" (a saved name appears in the request), "similar" (a
    liked/saved recipe for a near-identical request), "avoid" (only a disliked near-match: plan
    from scratch, then steer), "not_found" (the user referred to a previous recipe, and there is none).
    """

    kind: Literal["last_time", "named", "similar", "avoid", "not_found"]
    reason: str
    entry: MemoryEntry | None = None
    similarity: float | None = None
    avoid: Avoid | None = None

    @property
    def recipe(self) -> Recipe | None:
        """The remembered recipe to pass to the planner as `parent`, or None."""
        return self.entry.recipe if self.entry is not None else None


# ---------------------------------------------------------------------------------- input checks


def check_user(user: object) -> str:
    """The user id, or InputError: 1-64 of letters, digits and . _ @ + -, starting alphanumeric."""
    if not isinstance(user, str) or not _USER_RE.fullmatch(user):
        raise InputError(
            f"user id {user!r} is not valid: use 1-64 letters, digits or . _ @ + - "
            "(starting with a letter or digit)"
        )
    return user


def _check_id(entry_id: object) -> str:
    if not isinstance(entry_id, str) or not _ID_RE.fullmatch(entry_id):
        raise InputError(
            f"{entry_id!r} is not a memory entry id; `sceneshop memory list` shows the ids"
        )
    return entry_id


def _check_rating(rating: object) -> str:
    if rating not in RATINGS:
        raise InputError(f"rating {rating!r} is not one of {', '.join(RATINGS)}")
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


def _user_dir(user: str) -> str:
    # Hashed so that a user id never becomes a path component (and names no one on disk).
    return hashlib.sha256(user.encode()).hexdigest()[:20]


def _collection_name(user: str) -> str:
    return "u-" + hashlib.sha256(user.encode()).hexdigest()[:32]


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
            f"a memory entry has schema {version!r}, newer than this Sceneshop understands "
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


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


# ----------------------------------------------------------------------- the store (per process)


def _unreadable(path: Path, why: str) -> SceneshopError:
    return SceneshopError(
        f"memory store at {path} cannot be read ({why}); move it aside or restore a backup "
        "— it was not modified"
    )


@contextmanager
def _chroma_errors(path: Path, writing: bool) -> Iterator[None]:
    """ChromaDB's and the OS's failures -> one clear SceneshopError; our own errors pass through."""
    try:
        yield
    except SceneshopError:
        raise
    except (chromadb.errors.ChromaError, OSError, sqlite3.Error) as exc:
        raise _store_error(path, exc, writing) from None
    except BaseException as exc:
        # A damaged index file can make ChromaDB's Rust core panic (not an Exception subclass).
        if type(exc).__name__ != "PanicException":
            raise
        raise _store_error(path, exc, writing) from None


def _store_error(path: Path, exc: BaseException, writing: bool) -> SceneshopError:
    detail = _short(str(exc) or type(exc).__name__, 200)
    if writing:
        return SceneshopError(
            f"memory store at {path} could not be written ({detail}); check free disk space and "
            "permissions, then try again"
        )
    return _unreadable(path, detail)


class _Store:
    """One ChromaDB client per store folder per process, shared by every RecipeMemory on it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "memory"
        self.refs = 0
        # One operation at a time in this process. Not reentrant on purpose: a nested access
        # would turn this process's exclusive flock into a shared one and then release it.
        self.lock = threading.Lock()
        self.client: Any = None
        self.collections: dict[str, Any] = {}
        self.seen: str | None = None  # the lock file's token after our last access
        self.ef = SceneshopEmbeddingFunction()
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            self.lock_file = open(data_dir / "memory.lock", "a+", encoding="ascii")  # noqa: SIM115
        except OSError as exc:
            raise _unreadable(self.path, f"{exc.strerror or exc}: {data_dir}") from None

    @contextmanager
    def access(self, write: bool) -> Iterator[_Store]:
        """This store, with the cross-process lock held (exclusive to write, shared to read),
        freshly reopened if another process wrote since this one last looked."""
        with self.lock:
            fd = self.lock_file.fileno()
            fcntl.flock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH)
            try:
                if self.client is None or self._token() != self.seen:
                    if not write:
                        fcntl.flock(fd, fcntl.LOCK_EX)  # opening may create or migrate
                    self._reopen()
                    self.seen = self._token()
                if write:
                    # Before the write: if it fails half way, others still reload.
                    self.seen = secrets.token_hex(8)
                    self.lock_file.seek(0)
                    self.lock_file.truncate()
                    self.lock_file.write(self.seen)
                    self.lock_file.flush()
                with _chroma_errors(self.path, write):
                    yield self
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def collection(self, user: str, create: bool) -> Any:
        """The user's collection; None when the user has none yet and `create` is false."""
        col = self.collections.get(user)
        if col is not None:
            return col
        name = _collection_name(user)
        try:
            col = self.client.get_collection(name, embedding_function=self.ef)
        except chromadb.errors.NotFoundError:
            if not create:
                return None
            col = self.client.create_collection(
                name,
                embedding_function=self.ef,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"schema": SCHEMA_VERSION, "app": "sceneshop", "user": user},
            )
        except ValueError as exc:  # Chroma's "embedding function conflict"
            raise _unreadable(self.path, f"it was made with another embedding model: {exc}") from None
        meta = col.metadata or {}
        if meta.get("user") != user:
            raise _unreadable(self.path, f"collection {name} does not belong to this user")
        self._check_version(meta.get("schema"), f"collection {name}")
        self.collections[user] = col
        return col

    def _token(self) -> str:
        self.lock_file.seek(0)
        return self.lock_file.read(64)

    def _check_version(self, version: object, what: str) -> None:
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise SceneshopError(
                f"memory store at {self.path} ({what}) has schema {version!r}, newer than this "
                f"Sceneshop understands ({SCHEMA_VERSION}); upgrade Sceneshop — the store was not modified"
            )

    def _reopen(self) -> None:
        self._close_client()
        with _chroma_errors(self.path, writing=False):
            self._check_files()
            self.client = chromadb.PersistentClient(
                path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False)
            )
            self._check_schema()

    def _check_files(self) -> None:
        """Refuses a store ChromaDB could not read or might rewrite: nothing is touched here, and
        ChromaDB is never handed a file that is not its own."""
        path = self.path
        if path.exists() and not path.is_dir():
            raise _unreadable(path, "it is a file, not a folder")
        db = path / "chroma.sqlite3"
        if not db.exists():
            if path.exists() and any(p.is_dir() for p in path.iterdir()):
                raise _unreadable(path, "index folders without chroma.sqlite3")
            return
        try:
            with open(db, "rb") as handle:
                header = handle.read(16)
        except OSError as exc:
            raise _unreadable(path, f"{exc.strerror or exc}: {db.name}") from None
        if header != b"SQLite format 3\x00":
            raise _unreadable(path, "chroma.sqlite3 is not an SQLite database")
        try:
            con = sqlite3.connect(db.as_uri() + "?mode=ro", uri=True)
            try:
                tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            finally:
                con.close()
        except sqlite3.Error as exc:
            raise _unreadable(path, f"chroma.sqlite3: {exc}") from None
        if "collections" not in tables:
            raise _unreadable(path, "chroma.sqlite3 is not a ChromaDB store")
        if not (os.access(db, os.R_OK | os.W_OK) and os.access(path, os.R_OK | os.W_OK | os.X_OK)):
            raise _unreadable(path, "permission denied; the store must be readable and writable")

    def _check_schema(self) -> None:
        """The marker says the store's version; without one the store is new or of version 0."""
        try:
            marker = self.client.get_collection(MARKER, embedding_function=self.ef)
        except chromadb.errors.NotFoundError:
            marker = None
        if marker is not None:
            self._check_version((marker.metadata or {}).get("schema"), "marker")
            return  # (a future version 2 would migrate version-1 stores here)
        try:
            old = self.client.get_collection(V0_COLLECTION, embedding_function=self.ef)
        except chromadb.errors.NotFoundError:
            old = None
        if old is not None:
            self._migrate_v0(old)
        self.client.create_collection(
            MARKER, embedding_function=self.ef, metadata={"schema": SCHEMA_VERSION, "app": "sceneshop"}
        )

    def _migrate_v0(self, old: Any) -> None:
        """Copies every version-0 entry into its user's collection in the current layout (same id,
        text and vector), then renames the old collection to "recipes-v0" as a backup. Safe to
        interrupt: until the marker exists, the next open copies again (upsert) and finishes."""
        ids = old.get(include=[])["ids"]
        for start in range(0, len(ids), 500):
            got = old.get(ids=ids[start : start + 500], include=["embeddings", "documents", "metadatas"])
            by_user: dict[str, list[tuple[str, Any, str, dict[str, Any]]]] = {}
            for i, vector, doc, meta in zip(
                got["ids"], got["embeddings"], got["documents"], got["metadatas"], strict=True
            ):
                new = _upgrade_metadata(meta or {})
                if _USER_RE.fullmatch(new["user"]):  # no valid owner: stays in the backup only
                    by_user.setdefault(new["user"], []).append((i, vector, doc or "", new))
            for user, rows in by_user.items():
                self.collection(user, create=True).upsert(
                    ids=[r[0] for r in rows], embeddings=[r[1] for r in rows],
                    documents=[r[2] for r in rows], metadatas=[r[3] for r in rows],
                )
        names = {c.name for c in self.client.list_collections()}
        backup = "recipes-v0" if "recipes-v0" not in names else f"recipes-v0-{int(time.time())}"
        old.modify(name=backup)

    def _close_client(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # closing a client on a broken store must not hide the real error
                pass
        self.client = None
        self.collections = {}

    def close(self) -> None:
        with self.lock:
            self._close_client()
            self.lock_file.close()


_STORES: dict[tuple[int, Path], _Store] = {}
_STORES_LOCK = threading.Lock()


def _acquire_store(data_dir: Path) -> _Store:
    # Keyed by pid too: a forked child must not use its parent's client.
    key = (os.getpid(), data_dir.resolve())
    with _STORES_LOCK:
        store = _STORES.get(key)
        if store is None:
            store = _STORES[key] = _Store(data_dir)
        store.refs += 1
        return store


def _release_store(store: _Store) -> None:
    with _STORES_LOCK:
        store.refs -= 1
        if store.refs <= 0:
            for key, value in list(_STORES.items()):
                if value is store:
                    del _STORES[key]
            store.close()


# --------------------------------------------------------------------------------- the memory


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
        self._thumbnail_path(user, entry.id).unlink(missing_ok=True)
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
        with self._store.access(write=False) as store:
            got = self._get(store.collection(user, create=False), where=where)
        return sorted(self._entries(user, got), key=lambda e: (-e.updated, e.id))

    def find_by_name(self, user: str, name: str) -> MemoryEntry | None:
        user = check_user(user)
        key = _name_key(_clean_name(name))
        if not key:
            return None
        with self._store.access(write=False) as store:
            got = self._get(store.collection(user, create=False), where={"name_key": key})
        entries = self._entries(user, got)
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
        named = self._named_in(user, text)
        if named is not None:
            return Recall("named", f"using your saved recipe '{named.name}'", named)
        if _LAST_TIME_RE.search(text):
            latest = self._latest(user)
            if latest is None:
                return Recall(
                    "not_found",
                    "you have no liked or saved recipe yet, so I planned from your words; "
                    "say 'save this' when you like a result",
                )
            return Recall(
                "last_time",
                f"using your most recent {latest.rating} recipe {latest.label} ({_when(latest.updated)})",
                latest,
            )
        # One unfiltered look-up serves both questions (a rating filter would cost more than it saves).
        hits = self._search_vector(user, self._embed([text])[0], 10, None)
        liked = next(((e, s) for e, s in hits if e.rating in POSITIVE and _parses(e)), None)
        disliked = next(((e, s) for e, s in hits if e.rating == "disliked" and _parses(e)), None)
        liked = liked if liked is not None and liked[1] >= SIMILAR_THRESHOLD else None
        disliked = disliked if disliked is not None and disliked[1] >= AVOID_THRESHOLD else None
        avoid = self._avoid(*disliked, liked[0] if liked else None) if disliked else None
        if liked is not None:
            entry, similarity = liked
            what = f"your saved recipe '{entry.name}'" if entry.name else f"your {entry.rating} recipe"
            reason = f"starting from {what} (similar request '{_short(entry.request)}', {similarity:.2f})"
            if avoid is not None:
                reason += "; " + avoid.describe()
            return Recall("similar", reason, entry, similarity, avoid)
        if avoid is not None:
            return Recall("avoid", avoid.describe(), None, avoid.similarity, avoid)
        return None

    # ----------------------------------------------------------------------- export / import

    def export(self, user: str, path: Path | str) -> int:
        """Writes the user's entries (with thumbnails) to a JSON file; returns how many."""
        entries = self.list(user)
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
            self._write_thumbnail(user, entry_id, thumbnail)
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

    def _named_in(self, user: str, text: str) -> MemoryEntry | None:
        """The entry whose saved name appears in `text` (the longest, if several do)."""
        with self._store.access(write=False) as store:
            got = self._get(store.collection(user, create=False), where={"named": 1})
        folded = text.casefold()
        found = [
            e for e in self._entries(user, got)
            if e.name and re.search(rf"(?<!\w){re.escape(_name_key(e.name))}(?!\w)", folded)
        ]
        return max(found, key=lambda e: (len(e.name or ""), e.updated), default=None)

    def _latest(self, user: str) -> MemoryEntry | None:
        """The most recently updated liked/saved entry; searched in widening time windows so a
        user with thousands of entries costs a handful of rows, not all of them."""
        now = time.time()
        for days in (1, 7, 31, 366, None):
            where = {"updated": {"$gte": _ms(now - days * 86400)}} if days is not None else None
            with self._store.access(write=False) as store:
                got = self._get(store.collection(user, create=False), where=where)
            usable = [e for e in self._entries(user, got) if e.rating in POSITIVE and _parses(e)]
            if usable:
                return max(usable, key=lambda e: (e.updated, e.id))
        return None

    def _avoid(self, entry: MemoryEntry, similarity: float, liked: MemoryEntry | None) -> Avoid:
        recipe = entry.recipe
        good = liked.recipe if liked is not None else None
        kept = {c.name for c in good.loras} if good is not None else set()
        look_liked = good is not None and _look(good) == _look(recipe)
        return Avoid(
            entry_id=entry.id,
            request=entry.request,
            similarity=similarity,
            scene_preset=recipe.scene.preset,
            lighting_preset=recipe.lighting.preset,
            time_of_day=recipe.time_of_day,
            loras=tuple(c.name for c in recipe.loras if c.name not in kept),
            seed=recipe.seed,
            look_liked=look_liked,
        )

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
        thumb = self._thumbnail_path(user, entry_id) if meta.get("thumbnail") else None
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

    def _thumbnail_path(self, user: str, entry_id: str) -> Path:
        _check_id(entry_id)
        return self.data_dir / "thumbnails" / _user_dir(user) / f"{entry_id}.png"

    def _write_thumbnail(self, user: str, entry_id: str, image: Image.Image) -> None:
        from tools.imageio import save_png

        if not isinstance(image, Image.Image):
            raise InputError(f"thumbnail must be a PIL image, not {type(image).__name__}")
        small = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        save_png(small, self._thumbnail_path(user, entry_id))


# ------------------------------------------------------------------------------------ helpers


def _look(recipe: Recipe) -> tuple[str, str, str | None]:
    return recipe.scene.preset, recipe.lighting.preset, recipe.time_of_day


def _parses(entry: MemoryEntry) -> bool:
    try:
        _ = entry.recipe
    except RecipeError:
        return False
    return True


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _read_export(path: Path) -> list[dict[str, Any]]:
    """The checked entries of an export file: recipe, rating, name, tags, thumbnail, times."""
    from tools.imageio import load_image

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
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT or not isinstance(
        data.get("entries"), list
    ):
        raise InputError(f"{path} is not a Sceneshop memory export (no \"format\": \"{EXPORT_FORMAT}\")")
    if not isinstance(data.get("schema"), int) or data["schema"] > SCHEMA_VERSION:
        raise InputError(
            f"{path} was written by a newer Sceneshop (schema {data.get('schema')!r}); upgrade to import it"
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
