"""The studio web server's guards around the routes Gradio serves: a sign-in throttle (`/login`), a
bound on the upload cache (`/gradio_api/upload`), and, with logins, each user's files for that user
only (`/gradio_api/file=…`). One ASGI middleware applies them; Gradio's routes are left as they are.

app.py builds one `Guard` per studio from its settings, lays the page out in `GuardedBlocks` (which
tells the guard which files each event handed to which signed-in user) and passes `middleware(guard)`
to launch(). Imported by app.py, after it has told Gradio not to phone home."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder
from gradio_client.utils import is_file_obj_with_meta, is_http_url_like
from starlette.formparsers import MultiPartException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse

API = "/gradio_api"
FILE_ROUTES = (f"{API}/file=", f"{API}/file/")
FORM_LIMIT = 64 * 1024  # a sign-in form is a name and a password
MULTIPART_SLACK = 64 * 1024  # the multipart framing around one uploaded file
ADDRESS_FACTOR = 4  # an address gets 4x a name's free attempts: several people may share one


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(path)))


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# ------------------------------------------------------------------------------------ sign-ins


class LoginThrottle:
    """Exponential backoff of sign-ins per name and per client address. `attempts` wrong passwords
    for a name (ADDRESS_FACTOR times as many from an address) within `window_s` are answered at once;
    after that an attempt waits `backoff_s` after the last failure, doubling with each further
    failure, at most `window_s`. Attempts being checked count as failures until they are answered,
    so a burst of parallel guesses gets no more than a sequence would. A right password clears its
    name's failures (not its address's: one account of one's own must not reset the guessing of
    others'); a refused attempt is not checked at all, right or wrong."""

    def __init__(self, attempts: int, window_s: float, backoff_s: float, clock=time.monotonic):
        self.attempts, self.window_s, self.backoff_s = attempts, window_s, backoff_s
        self._clock = clock
        self._failures: dict[tuple[str, str], list[float]] = {}
        self._checking: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def begin(self, name: str, address: str) -> float:
        """0 when an attempt may be checked now (it is then counted until `end`); otherwise the
        seconds to wait."""
        keys = (("name", name), ("address", address))
        with self._lock:
            now = self._clock()
            if len(self._failures) > 10_000:  # names nobody signs in with must not pile up
                self._prune(now)
            wait = max(
                self._wait(keys[0], self.attempts, now),
                self._wait(keys[1], self.attempts * ADDRESS_FACTOR, now),
            )
            if wait > 0:
                return wait
            for key in keys:
                self._checking[key] = self._checking.get(key, 0) + 1
            return 0.0

    def end(self, name: str, address: str, ok: bool | None) -> None:
        """The answer to an attempt `begin` let through: True (signed in), False (wrong password)
        or None (neither, e.g. a malformed form)."""
        keys = (("name", name), ("address", address))
        with self._lock:
            now = self._clock()
            for key in keys:
                left = self._checking.get(key, 0) - 1
                if left > 0:
                    self._checking[key] = left
                else:
                    self._checking.pop(key, None)
                if ok is False:
                    self._failures.setdefault(key, []).append(now)
            if ok is True:
                self._failures.pop(keys[0], None)

    def _wait(self, key: tuple[str, str], allowance: int, now: float) -> float:
        times = [t for t in self._failures.get(key, ()) if now - t < self.window_s]
        if times:
            self._failures[key] = times
        else:
            self._failures.pop(key, None)
        checking = self._checking.get(key, 0)
        if len(times) + checking < allowance:
            return 0.0
        if checking:
            return self.backoff_s  # the last free attempt is being checked right now
        delay = min(self.backoff_s * 2 ** min(len(times) - allowance, 40), self.window_s)
        return max(0.0, times[-1] + delay - now)

    def _prune(self, now: float) -> None:
        for key in [k for k, times in self._failures.items() if now - times[-1] >= self.window_s]:
            del self._failures[key]


# ------------------------------------------------------------------------------------- uploads


@dataclass
class _Upload:
    path: str  # as Gradio named it (its upload set holds this string)
    size: int
    owners: set = field(default_factory=set)  # login names; None without logins


class UploadCache:
    """The uploads this studio accepted, oldest first, bounded in total: an upload that would not
    fit first deletes the oldest ones (uploads are read by the turn that follows them, so the oldest
    are the ones no turn still needs); when even that is not enough (parallel uploads in flight),
    it is refused. Gradio's `delete_cache` removes uploads by age besides."""

    def __init__(self, limit_bytes: int, request_limit: int):
        self.limit_bytes, self.request_limit = limit_bytes, request_limit
        self.used = 0  # bytes of the uploads below
        self.pending = 0  # bytes of uploads admitted and still arriving
        self._files: OrderedDict[str, _Upload] = OrderedDict()  # real path -> upload
        self._lock = threading.Lock()
        self.evicted = 0  # uploads deleted to make room, since start

    def reserve(self, length: int, blocks: gr.Blocks | None) -> bool:
        """Makes room for an upload of `length` bytes (deleting the oldest uploads if needed) and
        counts it as arriving; False when there is no room even so."""
        with self._lock:
            if self.used + self.pending + length > self.limit_bytes:
                self._forget_deleted()
            while self.used + self.pending + length > self.limit_bytes and self._files:
                self._evict(next(iter(self._files)), blocks)
            if self.used + self.pending + length > self.limit_bytes:
                return False
            self.pending += length
            return True

    def release(self, length: int) -> None:
        with self._lock:
            self.pending -= length

    def add(self, paths: list[str], owner: str | None) -> None:
        """Records the files one upload request stored (as Gradio answered it)."""
        with self._lock:
            for path in paths:
                real = _real(path)
                try:
                    size = os.stat(real).st_size
                except OSError:
                    continue
                upload = self._files.get(real)
                if upload is None:
                    upload = self._files[real] = _Upload(path, size)
                    self.used += size
                self._files.move_to_end(real)  # the same bytes again: fresh
                upload.owners.add(owner)

    def uploaded_by(self, path: str, owner: str | None) -> bool:
        """Whether `path` is an upload this studio accepted from `owner` (None: without logins)."""
        with self._lock:
            upload = self._files.get(_real(path))
            return upload is not None and owner in upload.owners

    def _forget_deleted(self) -> None:
        for real in [r for r in self._files if not os.path.exists(r)]:
            self.used -= self._files.pop(real).size

    def _evict(self, real: str, blocks: gr.Blocks | None) -> None:
        upload = self._files.pop(real)
        self.used -= upload.size
        self.evicted += 1
        Path(real).unlink(missing_ok=True)
        try:
            os.rmdir(os.path.dirname(real))  # Gradio keeps each upload in a folder of its own
        except OSError:
            pass
        if blocks is not None:
            blocks.upload_file_set.discard(upload.path)


# ------------------------------------------------------------------------------- files per user


class FileAccess:
    """With logins: which files in Gradio's cache each user was handed (or uploaded). The file routes
    serve a user those and the files of their own results folder, nothing else of anyone's."""

    def __init__(self):
        self._owners: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._prune_at = 4096

    def grant(self, user: str, paths: list[str]) -> None:
        with self._lock:
            for path in paths:
                self._owners.setdefault(_real(path), set()).add(user)
            if len(self._owners) > self._prune_at:  # the cache drops files; so does this
                for real in [r for r in self._owners if not os.path.exists(r)]:
                    del self._owners[real]
                self._prune_at = max(4096, 2 * len(self._owners))

    def granted(self, user: str, path: str) -> bool:
        with self._lock:
            return user in self._owners.get(_real(path), ())


# ----------------------------------------------------------------------------------- the guard


class Guard:
    """One studio's guards and what they need to know about it: `logins` (whether users sign in),
    and its per-user areas, each a root folder with `folder_of(login name)` (that user's folder in
    it): the results folder, and the work store's files (kept sessions, batch downloads)."""

    def __init__(self, settings, areas: list[tuple[Path, Callable[[str], Path]]]):
        self.logins = bool(settings.users)
        self.areas = areas
        self.throttle = LoginThrottle(
            settings.login_attempts, settings.login_window_s, settings.login_backoff_s
        )
        # launch()'s max_file_size: twice the photo limit (app.launch_kwargs says why).
        self.max_file_bytes = int(2 * settings.max_upload_mb * 2**20)
        limit = int(settings.upload_cache_mb * 2**20)
        self.uploads = UploadCache(limit, self.max_file_bytes + MULTIPART_SLACK)
        self.files = FileAccess()
        # Gradio's delete_cache: (how often to look, age at which a file goes), in seconds.
        keep = int(settings.cache_keep_s)
        self.cache_schedule = (max(1, min(600, keep // 4)), keep)
        self.blocks: gr.Blocks | None = None

    def may_fetch(self, user: str, path: str) -> bool | None:
        """Whether signed-in `user` may fetch `path` through a file route; None: not a file of any
        user's (Gradio's own rules decide)."""
        real = _real(path)
        for root, folder_of in self.areas:
            if _inside(real, _real(root)):
                return _inside(real, _real(folder_of(user)))
        if _inside(real, _real(get_upload_folder())):
            return self.files.granted(user, real) or self.uploads.uploaded_by(real, user)
        return None

    def handed_out(self, user: str, data) -> None:
        """Grants `user` the files in one event's output (Gradio's cache copies)."""
        paths: list[str] = []

        def walk(value) -> None:
            if is_file_obj_with_meta(value):
                if isinstance(value.get("path"), str) and not is_http_url_like(value["path"]):
                    paths.append(value["path"])
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)

        walk(data)
        if paths:
            self.files.grant(user, paths)


class GuardedBlocks(gr.Blocks):
    """gr.Blocks that cleans its cache on `guard`'s schedule and, with logins, tells the guard which
    files each event handed to which user (the only place where Gradio's output paths and the
    signed-in name meet)."""

    def __init__(self, guard: Guard, **kwargs):
        super().__init__(delete_cache=guard.cache_schedule, **kwargs)
        self.guard = guard
        guard.blocks = self

    async def process_api(self, *args, **kwargs):
        result = await super().process_api(*args, **kwargs)
        request = kwargs.get("request", args[3] if len(args) > 3 else None)
        user = getattr(request, "username", None)
        if self.guard.logins and user and isinstance(result, dict):
            self.guard.handed_out(user, result.get("data"))
        return result


# ------------------------------------------------------------------------------ the middleware


def middleware(guard: Guard) -> Middleware:
    """The argument for launch(app_kwargs={"middleware": [...]})."""
    return Middleware(GuardMiddleware, guard=guard)


class GuardMiddleware:
    """ASGI middleware: sign-ins through the throttle, uploads through the cache bound, file
    fetches of signed-in users through their own files; every other request untouched."""

    def __init__(self, app, guard: Guard):
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope["path"], scope["method"]
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :]
        if method == "POST" and path in ("/login", "/login/") and self.guard.logins:
            return await self._login(scope, receive, send)
        if method == "POST" and path == f"{API}/upload":
            return await self._upload(scope, receive, send)
        if method in ("GET", "HEAD") and path.startswith(FILE_ROUTES) and self.guard.logins:
            return await self._file(scope, receive, send, path[len(FILE_ROUTES[0]) :])
        return await self.app(scope, receive, send)

    # ---- /login

    async def _login(self, scope, receive, send):
        body = await _read_body(receive, FORM_LIMIT)
        if body is None:
            return await JSONResponse({"detail": "Sign-in form too large."}, 413)(scope, receive, send)
        try:
            form = await Request(scope, _replay(body, receive)).form()
        except MultiPartException:
            form = {}  # Gradio answers a form it cannot read; no name to count it against
        name = str(form.get("username") or "").strip()
        address = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.guard.throttle.begin(name, address)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            return await JSONResponse(
                {"detail": f"Too many failed sign-ins; try again in {seconds} s."},
                429,
                headers={"Retry-After": str(seconds)},
            )(scope, receive, send)
        status = None

        async def watch(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, _replay(body, receive), watch)
        finally:
            self.guard.throttle.end(name, address, {200: True, 400: False}.get(status))

    # ---- /gradio_api/upload

    async def _upload(self, scope, receive, send):
        uploads = self.guard.uploads
        owner = _login_name(scope)
        if self.guard.logins and owner is None:
            # Gradio refuses it (401) before reading a byte; it must not make room first.
            return await self.app(scope, receive, send)
        length = _content_length(scope)
        if length is None:
            answer = PlainTextResponse("An upload needs a Content-Length header.", 411)
            return await answer(scope, receive, send)
        if length > uploads.request_limit:
            mb = uploads.request_limit / 2**20
            return await PlainTextResponse(f"An upload is at most {mb:.1f} MB.", 413)(scope, receive, send)
        if not uploads.reserve(length, self.guard.blocks):
            full = "The studio's upload space is full; try again in a minute."
            answer = PlainTextResponse(full, 503, headers={"Retry-After": "60"})
            return await answer(scope, receive, send)
        status, chunks = None, []

        async def keep(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and status == 200:
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, keep)
        finally:
            uploads.release(length)
        if status == 200:
            try:
                paths = json.loads(b"".join(chunks))
            except ValueError:
                return
            if isinstance(paths, list):
                uploads.add([p for p in paths if isinstance(p, str)], owner)

    # ---- /gradio_api/file=…

    async def _file(self, scope, receive, send, target: str):
        user = _login_name(scope)
        if user is not None and not is_http_url_like(target):
            allowed = self.guard.may_fetch(user, target)
            if allowed is False:
                # Not found rather than forbidden: whether another user's file exists is not said.
                return await PlainTextResponse("Not found.", 404)(scope, receive, send)
        return await self.app(scope, receive, send)


def _login_name(scope) -> str | None:
    """The signed-in name of a request, as Gradio's own routes find it (its access-token cookie)."""
    app = scope.get("app")
    cookie_id = getattr(app, "cookie_id", None)
    if cookie_id is None:
        return None
    cookies = Request(scope).cookies
    token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
    return app.tokens.get(token) if token else None


def _content_length(scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_body(receive, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive):
    """A receive channel that gives `body` once, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
