"""What a hostile or vanished studio client gets (issue 14, items 6-10), through real HTTP against a
studio on 127.0.0.1: the upload cache is bounded and cleaned, sign-ins are throttled, a signed-in
user gets only their own files, an anonymous browser's id is signed and never kept in clear, and a
client that disconnects mid-render has its job cancelled."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
from gradio_client import Client

from sceneshop.agent.recipe import Recipe
from sceneshop.simulate import message, outputs, product_photo, start_studio
from sceneshop.tools.errors import Cancelled
from sceneshop.tools.preview.renderer import EmbeddedRenderer

CHAT, RECIPE, FILES = "Studio chat", "Recipe JSON", "Current version: PNG + recipe JSON"


class WatchedRenderer(EmbeddedRenderer):
    """The preview renderer, optionally preceded by `steps` slow steps, saying how far it got and
    whether it was stopped; `broken` makes it fail like a bug would."""

    steps = 0
    broken = False

    def __init__(self, **kw):
        super().__init__(**kw)
        self.done = 0
        self.stopped = threading.Event()

    def render(self, recipe, image, mask, *, progress=None, cancel=None):
        if self.broken:
            raise RuntimeError("a bug in the engine")
        for step in range(self.steps):
            if cancel is not None and cancel.is_set():
                self.stopped.set()
                raise Cancelled("stopped")
            time.sleep(0.05)
            self.done = step + 1
            if progress is not None:
                progress(step + 1, self.steps)
        return super().render(recipe, image, mask, progress=progress, cancel=cancel)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return product_photo(tmp_path_factory.mktemp("photos") / "bottle.png", (200, 30, 40))


def upload(url: str, *blobs: bytes, cookies=None) -> httpx.Response:
    files = [("files", (f"upload-{i}.png", blob)) for i, blob in enumerate(blobs)]
    return httpx.post(f"{url}gradio_api/upload", files=files, cookies=cookies, timeout=60)


def fn_index(url: str, *, api_name: str | None = None, trigger: str | None = None, cookies=None) -> int:
    config = httpx.get(f"{url}config", cookies=cookies, timeout=30).json()
    for dep in config["dependencies"]:
        if api_name is not None and dep.get("api_name") == api_name:
            return dep["id"]
        if trigger is not None and any(t[1] == trigger for t in dep["targets"]):
            return dep["id"]
    raise LookupError(api_name or trigger)


def queue_call(url: str, index: int, data: list, session: str, cookies=None) -> list:
    """One event over Gradio's raw queue (as the page sends it, private endpoints included)."""
    with httpx.Client(base_url=url, cookies=cookies, timeout=120) as http:
        body = {"data": data, "fn_index": index, "session_hash": session, "event_data": None}
        http.post("gradio_api/queue/join", json=body).raise_for_status()
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": session}) as stream:
            for line in stream.iter_lines():
                if line.startswith("data:"):
                    msg = json.loads(line[5:])
                    if msg.get("msg") == "process_completed":
                        assert msg.get("success"), msg
                        return msg["output"]["data"]
    raise AssertionError("the event never completed")


def turn(client, text: str, photo=None) -> dict:
    return outputs(client, "/respond", client.predict(message(text, photo), api_name="/respond"))


def chat_of(out: list) -> list:
    """The chat among an event's raw outputs (the list of messages)."""
    return next(v for v in out if isinstance(v, list) and v and isinstance(v[0], dict) and "role" in v[0])


def texts(chat) -> list[str]:
    out = []
    for m in chat:
        content = m["content"]
        for part in content if isinstance(content, list) else [content]:
            if isinstance(part, dict) and part.get("type") == "text":
                out.append(part["text"])
            elif isinstance(part, str):
                out.append(part)
    return out


def file_urls(value) -> list[str]:
    """Every file URL in an output (download_files=False keeps them as the server named them)."""
    if isinstance(value, dict):
        if isinstance(value.get("url"), str) and "/file=" in value["url"]:
            return [value["url"]]
        return [u for v in value.values() for u in file_urls(v)]
    if isinstance(value, list | tuple):
        return [u for v in value for u in file_urls(v)]
    return []


# ------------------------------------------------------------------------- 6. the upload cache


def test_the_upload_cache_is_bounded_and_the_oldest_uploads_go_first(tmp_path, photo):
    running = start_studio(tmp_path / "studio", max_upload_mb=0.25, upload_cache_mb=1.0)
    try:
        # Ten uploads of 300 KB each (any bytes: the upload route does not look at them): 3 MB
        # against a 1 MB cache. Before: all ten kept, for ever.
        rng = os.urandom
        paths = []
        for _ in range(10):
            got = upload(running.url, rng(300_000))
            assert got.status_code == 200, got.text
            paths += got.json()
        kept = [p for p in paths if os.path.exists(p)]
        assert sum(os.path.getsize(p) for p in kept) <= 2**20
        assert kept == paths[-len(kept) :] and len(kept) == 3  # the newest stay, the oldest went
        assert running.demo.sceneshop.guard.uploads.evicted == 7

        # Many files in one request each under the per-file limit (0.5 MB): refused as a whole
        # (before: Gradio took up to 1000 files per request).
        got = upload(running.url, rng(300_000), rng(300_000), rng(300_000))
        assert got.status_code == 413 and "at most" in got.text

        # The studio still works: a photo uploaded now is used by its turn.
        client = Client(running.url, verbose=False)
        assert json.loads(turn(client, "on a beach", photo)[RECIPE])["scene"]["preset"] == "beach"
    finally:
        running.close()
    assert not any(os.path.exists(p) for p in paths)  # a stopping studio deletes its cache files


def test_uploads_are_deleted_after_cache_keep_s_even_rejected_ones(tmp_path):
    running = start_studio(tmp_path / "studio", cache_keep_s=3)
    try:
        stored = upload(running.url, b"not a picture " + os.urandom(1000)).json()[0]
        sent = {"text": "on a beach", "files": [{"path": stored, "meta": {"_type": "gradio.FileData"}}]}
        respond = fn_index(running.url, api_name="respond")
        chat = chat_of(queue_call(running.url, respond, [sent, None], str(uuid.uuid4())))
        assert "not an image" in texts(chat)[-1]  # the studio rejected it; Gradio had stored it
        deadline = time.monotonic() + 60
        while os.path.exists(stored) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not os.path.exists(stored), "the upload was kept past cache_keep_s"  # before: for ever
    finally:
        running.close()


# --------------------------------------------------------------------------- 7. sign-in throttle


def sign_in(url: str, name: str, password: str) -> httpx.Response:
    return httpx.post(f"{url}login", data={"username": name, "password": password}, timeout=60)


def test_wrong_passwords_are_throttled_per_name_and_per_address(tmp_path):
    # A backoff far longer than the test, so that no lock runs out while it guesses.
    running = start_studio(
        tmp_path / "studio", users="alice:sesame,bob:hunter2", login_attempts=5, login_backoff_s=120.0
    )
    try:
        # 60 wrong passwords in a row: 5 answered, 55 refused unchecked (before: 60 answered).
        codes = [sign_in(running.url, "alice", f"guess{i}").status_code for i in range(60)]
        assert codes == [400] * 5 + [429] * 55
        refused = sign_in(running.url, "alice", "sesame")  # the right one is refused too while locked
        assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
        assert 1 <= int(refused.headers["Retry-After"]) <= 120

        # 60 parallel guesses for another name get no more than a sequence would.
        with_threads: list[int] = []

        def guess(i: int) -> None:
            with_threads.append(sign_in(running.url, "bob", f"x{i}").status_code)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(with_threads) == [400] * 5 + [429] * 55

        # Per address: 20 wrong passwords from one address (10 so far), whatever the names.
        codes = [sign_in(running.url, f"nobody{i}", "x").status_code for i in range(11)]
        assert codes == [400] * 10 + [429]
    finally:
        running.close()


def test_the_right_password_works_once_the_backoff_has_passed(tmp_path):
    running = start_studio(tmp_path / "studio", users="alice:sesame", login_attempts=2, login_backoff_s=1.0)
    try:
        assert [sign_in(running.url, "alice", "wrong").status_code for _ in range(2)] == [400, 400]
        deadline = time.monotonic() + 60
        answer = sign_in(running.url, "alice", "sesame")
        while answer.status_code == 429 and time.monotonic() < deadline:
            time.sleep(float(answer.headers["Retry-After"]))
            answer = sign_in(running.url, "alice", "sesame")
        assert answer.status_code == 200 and answer.json() == {"success": True}
        client = Client(running.url, auth=("alice", "sesame"), verbose=False)  # the real login path
        assert "/respond" in client.view_api(return_format="dict", print_info=False)["named_endpoints"]
        # Signed in, the name's failures are forgotten: two more wrong passwords are answered.
        assert [sign_in(running.url, "alice", "wrong").status_code for _ in range(2)] == [400, 400]
    finally:
        running.close()


# ------------------------------------------------------------------------- 8. files per user


def test_a_signed_in_user_gets_only_their_own_files(tmp_path, photo):
    running = start_studio(tmp_path / "studio", users="alice:sesame,bob:hunter2")
    try:
        alice = Client(running.url, auth=("alice", "sesame"), verbose=False, download_files=False)
        bob = Client(running.url, auth=("bob", "hunter2"), verbose=False, download_files=False)
        got = turn(alice, "beach at sunset", photo)
        liked = outputs(alice, "/like", alice.predict(api_name="/like"))
        urls = sorted(set(file_urls([got[CHAT], got[FILES], liked["Your saved recipes"]])))
        # the product, the result PNG, its recipe JSON, the memory thumbnail
        assert len(urls) >= 4 and any(u.endswith(".json") for u in urls)

        for url in urls:
            assert httpx.get(url, cookies=alice.cookies, timeout=30).status_code == 200
            assert httpx.get(url, cookies=bob.cookies, timeout=30).status_code == 404  # before: 200
            assert httpx.get(url, timeout=30).status_code == 401
        # Straight into alice's results folder (an allowed path of the server): hers only.
        result = next(p for p in (running.data_dir / "results").rglob("v001-*.png"))
        direct = f"{running.url}gradio_api/file={result}"
        assert httpx.get(direct, cookies=alice.cookies, timeout=30).status_code == 200
        assert httpx.get(direct, cookies=bob.cookies, timeout=30).status_code == 404
        # ... and into her kept session in the work store (also an allowed path): hers only.
        kept = next(p for p in (running.data_dir / "work" / "files").rglob("*.png"))
        direct = f"{running.url}gradio_api/file={kept}"
        assert httpx.get(direct, cookies=alice.cookies, timeout=30).status_code == 200
        assert httpx.get(direct, cookies=bob.cookies, timeout=30).status_code == 404

        # Bob sends alice's cached result as if it were his upload, over the raw queue: refused.
        alices = next(u for u in file_urls(got[FILES]) if u.endswith(".png")).split("/file=", 1)[1]
        session = str(uuid.uuid4())
        sent = {"path": alices, "meta": {"_type": "gradio.FileData"}}
        data = [{"text": "on a beach", "files": [sent]}, None]
        respond = fn_index(running.url, api_name="respond", cookies=bob.cookies)
        chat = chat_of(queue_call(running.url, respond, data, session, bob.cookies))
        assert "not one of your uploads" in texts(chat)[-1]
        assert file_urls(chat) == []  # nothing of alice's came back
    finally:
        running.close()


# ------------------------------------------------------------------- 9. anonymous browser ids


def page_load(url: str, stored) -> tuple[str, str, list]:
    """A page load over the raw queue with `stored` in the browser's localStorage: its session,
    the id the browser is told to keep, and the saved looks it shows."""
    session = str(uuid.uuid4())
    out = queue_call(url, fn_index(url, trigger="load"), [stored], session)
    kept = next(v for v in out if isinstance(v, str) and len(v) == 65 and v[32] == ".")
    rows = next(v for v in out if isinstance(v, dict) and "look" in (v.get("headers") or ()))
    return session, kept, [r for r in rows["data"] if any(r)]


def test_an_anonymous_browser_id_is_signed_and_never_kept_in_clear(tmp_path, photo, caplog):
    engine = WatchedRenderer(reason="the test's preview renderer")
    running = start_studio(tmp_path / "studio", engine=engine)
    try:
        session, browser_id, looks = page_load(running.url, None)
        token, signature = browser_id.split(".")
        assert len(token) == len(signature) == 32 and looks == []

        # This browser makes and likes a look (in the page's own session, so as the load's user).
        client = Client(running.url, verbose=False)
        client.session_hash = session
        client.predict(message("beach at sunset", photo), api_name="/respond")
        client.predict(api_name="/like")

        # A bug during this browser's turn: the log names the user, never the id.
        engine.broken = True
        with caplog.at_level(logging.ERROR, logger="sceneshop.app"):
            client.predict(message("warmer"), api_name="/respond")
        engine.broken = False
        logged = caplog.text.split("studio action failed for user ", 1)[1].split()[0]
        assert logged.startswith("anon-") and token not in caplog.text and signature not in caplog.text
        assert [e.request for e in running.memory.list(logged)] == ["beach at sunset"]

        # The same browser, next visit: the same id, its look.
        _, again, looks = page_load(running.url, browser_id)
        assert again == browser_id and len(looks) == 1

        # A wrong signature, a made-up token, the name from the log, an unsigned id: each a new,
        # empty user (before: any `web-` + 24 hex id was taken as it came).
        for stored in (f"{token}.{'0' * 32}", f"{'a' * 32}.{signature}", logged, "web-" + token[:24]):
            _, fresh, looks = page_load(running.url, stored)
            assert fresh != browser_id and looks == [], stored
    finally:
        running.close()
    # Nothing the studio wrote (memory store, thumbnails, results) holds the id.
    for path in running.data_dir.rglob("*"):
        if path.is_file() and path.name != "studio-secret":
            data = path.read_bytes()
            assert token.encode() not in data and signature.encode() not in data, path


def test_a_browser_with_an_unsigned_id_from_before_keeps_its_looks_once(tmp_path):
    running = start_studio(tmp_path / "studio")
    try:
        legacy = "web-" + "5a" * 12
        saved = Recipe(request="marble countertop", time_of_day="day")
        running.memory.save(legacy, saved, "liked")

        _, browser_id, looks = page_load(running.url, legacy)
        assert len(looks) == 1 and "marble countertop" in looks[0][0]
        assert running.memory.list(legacy) == []  # moved: the old id, in clear in old logs, is spent
        _, again, looks = page_load(running.url, browser_id)
        assert again == browser_id and len(looks) == 1
        _, other, looks = page_load(running.url, legacy)  # presented again: nothing left to claim
        assert other != browser_id and looks == []
    finally:
        running.close()


# ------------------------------------------------------------------ 10. a client that goes away

CLIENT = """
import sys
from gradio_client import Client
from sceneshop.simulate import message
client = Client(sys.argv[1], verbose=False)
client.submit(message("put it on a beach at sunset", sys.argv[2]), api_name="/respond")
sys.stdin.read()  # until killed
"""


def test_a_client_that_disconnects_mid_render_has_its_job_cancelled(tmp_path, photo):
    engine = WatchedRenderer(reason="the test's preview renderer")
    engine.steps = 1200  # 60 s unless stopped
    running = start_studio(tmp_path / "studio", engine=engine)
    try:
        client = subprocess.Popen(
            [sys.executable, "-c", CLIENT, running.url, str(photo)], stdin=subprocess.PIPE, env=os.environ
        )
        deadline = time.monotonic() + 120
        while engine.done < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.done >= 3, "the render never started"
        client.kill()  # the browser goes away: every connection of the client drops at once
        client.wait()
        at_kill = engine.done
        assert engine.stopped.wait(timeout=55), "the render went on after its client had gone"
        assert at_kill <= engine.done < engine.steps
    finally:
        engine.steps = 0
        running.close()
