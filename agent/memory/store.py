"""Where recipe memory lives on disk: ChromaDB collections per user under <data_dir>/memory, kept safe
across processes and schema versions, and thumbnails under <data_dir>/thumbnails."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import secrets
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import chromadb
import chromadb.errors
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.config import Settings as ChromaSettings
from chromadb.utils.embedding_functions import register_embedding_function
from PIL import Image

from sceneshop.agent.memory.entry import _USER_RE, SCHEMA_VERSION, _check_id, _short, _upgrade_metadata
from sceneshop.tools.echo import capped
from sceneshop.tools.errors import InputError, SceneshopError

# ChromaDB's embedded client under <data_dir>/memory holds one collection per user, named by a hash
# of the user id, plus a marker collection that carries the store's schema version. A user's
# operations only ever open that user's collection, and every record read is checked to belong to
# the user. (One shared collection filtered with where={"user": ...} was measured first: Chroma's
# filtered vector search costs about 7 µs per matching record, 70 ms for a user with 10 000 entries,
# which rules out the 100 000-recipe latency target; per-user collections need no filter.)
MARKER = "sceneshop-store"
V0_COLLECTION = "recipes"
THUMBNAIL_SIZE = 256


# ------------------------------------------------------------------------------ embedding function


@register_embedding_function
class SceneshopEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma's handle on sceneshop.agent.embeddings.embed (the shared offline MiniLM model). Registered by
    name so a reopened collection rebuilds this function, never Chroma's downloading default."""

    def __init__(self) -> None:
        pass  # stateless: the model itself is loaded once per process by sceneshop.agent.embeddings

    def __call__(self, input: Documents) -> Embeddings:
        from sceneshop.agent.embeddings import embed

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


# ------------------------------------------------------------------------------------ naming


def _user_dir(user: str) -> str:
    # Hashed so that a user id never becomes a path component (and names no one on disk).
    return hashlib.sha256(user.encode()).hexdigest()[:20]


def _collection_name(user: str) -> str:
    return "u-" + hashlib.sha256(user.encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------------ errors


def _unreadable(path: Path, why: str, untouched: bool = True) -> SceneshopError:
    """A store Sceneshop cannot use. `untouched`: refused before ChromaDB opened it, so not one byte
    changed (ChromaDB writes chroma.sqlite3 even to read, so only then can the message say so)."""
    promise = " It was not modified." if untouched else ""
    return SceneshopError(
        f"memory store at {path} cannot be read ({why}).{promise} To go on, move it aside "
        f"(mv {path} {path}.broken) and run again to start an empty memory, then restore your "
        "recipes with `sceneshop memory import` and your last export, if you have one"
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
    if not writing:
        return _unreadable(path, detail, untouched=False)
    cause = _write_cause(exc)
    if cause is not None:
        return SceneshopError(f"memory store at {path} could not be written ({detail}): {cause}")
    return SceneshopError(
        f"memory store at {path} could not be written ({detail}); try again, and if it keeps "
        f"failing, move it aside (mv {path} {path}.broken) and restore your recipes with "
        "`sceneshop memory import` and your last export"
    )


def _write_cause(exc: BaseException) -> str | None:
    """What to fix when a write failed for lack of space or permission, from the errno or from
    SQLite's own words (ChromaDB passes those on as text); None for any other failure, which must
    not be blamed on the disk."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in text or "no space left" in text:
        return "the disk is full; free some space on that drive and try again"
    if (
        code in (errno.EACCES, errno.EPERM, errno.EROFS)
        or "readonly database" in text
        or "read-only file system" in text
        or "permission denied" in text
    ):
        return "no permission to write there; make the folder writable, or set SCENESHOP_DATA_DIR"
    return None


# ----------------------------------------------------------------------- the store (per process)


class _Store:
    """One ChromaDB client per store folder per process, shared by every RecipeMemory on it.

    ChromaDB's embedded client is not safe for several processes: each keeps its own in-memory HNSW
    index and writes it back over the others' (measured here: 2 writers x 1500 adds lost 5 vectors;
    with frequent index flushes a writer failed with "Error finding id"). So every operation holds
    an flock on <data_dir>/memory.lock (shared to read, exclusive to write), and a process reopens
    its client when another process wrote since its last access (each write leaves a new random
    token in the lock file)."""

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
        self.checked = False  # chroma.sqlite3 passed quick_check in this process
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
                f"memory store at {self.path} ({what}) has schema {capped(version)}, newer than this "
                f"Sceneshop understands ({SCHEMA_VERSION}); upgrade Sceneshop to use it (this one "
                "changed none of its recipes)"
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
            tables, problems = _inspect_sqlite(db, full=not self.checked)
        except sqlite3.Error as exc:
            raise _unreadable(path, f"chroma.sqlite3: {exc}") from None
        except OSError as exc:
            raise _unreadable(path, f"{exc.strerror or exc}: {db.name}") from None
        if "collections" not in tables:
            raise _unreadable(path, "chroma.sqlite3 is not a ChromaDB store")
        if problems:
            raise _unreadable(path, f"chroma.sqlite3 is damaged: {_short('; '.join(problems), 160)}")
        self.checked = True
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


def _inspect_sqlite(db: Path, full: bool) -> tuple[set[str], list[str]]:
    """The tables of `db` and, when `full`, what PRAGMA quick_check finds wrong, without changing a
    byte of it. A damaged page deep in the file passes a look at the tables alone: ChromaDB would
    then open the file, write to it, and only fail afterwards. quick_check reads every page (O(size):
    it skips integrity_check's index cross-checks), so a process runs it on its first open only."""
    side = [db.with_name(db.name + suffix) for suffix in ("-journal", "-wal")]
    if any(p.exists() and p.stat().st_size > 0 for p in side):
        # A save interrupted by a crash (kill -9) leaves a hot journal; rolling it back is a write,
        # which a read-only connection refuses ("attempt to write a readonly database"). So the
        # check runs on a copy, and ChromaDB does the rollback when it opens the store itself.
        with tempfile.TemporaryDirectory(prefix="sceneshop-check-") as tmp:
            for source in (db, *side):
                if source.exists():
                    shutil.copyfile(source, Path(tmp) / source.name)
            return _query_sqlite(f"file:{Path(tmp) / db.name}", full)
    # Read-only: this connection cannot change a byte, whatever it finds.
    return _query_sqlite(db.as_uri() + "?mode=ro", full)


def _query_sqlite(uri: str, full: bool) -> tuple[set[str], list[str]]:
    con = sqlite3.connect(uri, uri=True)
    try:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        problems = [row[0] for row in con.execute("PRAGMA quick_check(3)") if row[0] != "ok"] if full else []
    finally:
        con.close()
    return tables, problems


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


# ------------------------------------------------------------------------------------ thumbnails


def _thumbnail_path(data_dir: Path, user: str, entry_id: str) -> Path:
    _check_id(entry_id)
    return data_dir / "thumbnails" / _user_dir(user) / f"{entry_id}.png"


def _write_thumbnail(data_dir: Path, user: str, entry_id: str, image: Image.Image) -> None:
    from sceneshop.tools.imageio import save_png

    if not isinstance(image, Image.Image):
        raise InputError(f"thumbnail must be a PIL image, not {type(image).__name__}")
    small = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    small.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
    save_png(small, _thumbnail_path(data_dir, user, entry_id))
