"""What a hostile or broken input gets (issue 14): output paths that are not files, a server that
trickles bytes or sends megabytes, 20 MB arguments, damaged memory stores, deeply nested JSON, a busy
port, cancelled turns and terminal escapes. Each test reproduces one probe; docs/reliability.md lists
them with their figures."""

from __future__ import annotations

import errno
import json
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import ToolMessage
from PIL import Image

from sceneshop.agent.cli.group import main
from sceneshop.agent.llm.planner import LLMPlanner
from sceneshop.agent.llm.scripted import (
    FakeOpenAIServer,
    ScriptedChatModel,
    call,
    completion,
    raw_reply,
    tool_reply,
    trickled,
)
from sceneshop.agent.memory.memory import RecipeMemory
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.agent.studio import Studio
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import Cancelled, CatalogError, InputError, RecipeError
from sceneshop.tools.imageio import save_png, write_atomic
from sceneshop.tools.preview.renderer import EmbeddedRenderer
from sceneshop.tools.segment import segment

BEACH = {
    "scene_preset": "beach",
    "scene_description": "on a beach at sunset",
    "time_of_day": "sunset",
    "lighting_preset": "golden_hour",
}
PLANNED_OFFLINE = "planned offline instead"
MB = 2**20


@pytest.fixture(scope="module")
def offline():
    return EmbeddedPlanner()


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A red bottle on a plain white background, as a file."""
    canvas = np.full((240, 180, 3), 250, np.uint8)
    yy, xx = np.mgrid[:240, :180]
    canvas[((xx - 90) / 35) ** 2 + ((yy - 135) / 75) ** 2 <= 1] = (180, 40, 60)
    path = tmp_path_factory.mktemp("photo") / "bottle.png"
    Image.fromarray(canvas).save(path)
    return path


@pytest.fixture
def cli(capsys):
    def run(*argv):
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def llm_env(monkeypatch):
    """Points the CLI's settings at an LLM endpoint for one test."""

    def point(url: str, **env):
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        monkeypatch.setenv("SCENESHOP_LLM_MODEL", "fake-model")
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


def settings_for(url: str, **kw) -> Settings:
    values = {"openai_api_key": "sk-test", "openai_base_url": url, "llm_model": "fake-model",
              "llm_timeout_s": 5.0, "llm_retries": 2}
    return Settings(**{**values, **kw})


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ------------------------------------------------------------ 1. output paths that are not files


def test_output_to_a_fifo_is_refused_and_the_fifo_left_alone(cli, photo, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    code, _, err = cli("generate", "beach", "--image", str(photo), "-o", str(fifo))
    assert code == 2
    assert one_line(err) == (
        f"error: '{fifo}' is a fifo (named pipe); Sceneshop only replaces regular files — give the path "
        "of a new or existing image file"
    )
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temp file left beside it


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_output_to_a_device_is_refused_as_root(tmp_path, coffee):
    # A private copy of /dev/null (char device 1,3): as root, os.replace swapped a file in for it.
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    with pytest.raises(InputError, match="is a device; Sceneshop only replaces regular files"):
        save_png(coffee, null)
    assert stat.S_ISCHR(os.lstat(null).st_mode)


def test_output_to_a_socket_or_a_folder_is_refused(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(InputError, match="is a socket"):
            write_atomic(path, b"x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    (tmp_path / "folder").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        write_atomic(tmp_path / "folder", b"x")


def test_a_symlink_is_followed_to_its_target_and_stays_a_link(tmp_path):
    target = tmp_path / "renders" / "v3.png"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "latest.png"
    link.symlink_to(target)
    assert write_atomic(link, b"new") == target
    assert link.is_symlink() and target.read_bytes() == b"new"
    # The target obeys the same rule: a link to a fifo is refused, and both stay as they were.
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "to-pipe").symlink_to(tmp_path / "pipe")
    with pytest.raises(InputError, match="is a fifo"):
        write_atomic(tmp_path / "to-pipe", b"x")
    assert (tmp_path / "to-pipe").is_symlink() and stat.S_ISFIFO(os.stat(tmp_path / "pipe").st_mode)


# ------------------------------------------------------------------- 2. the LLM call's deadline


def test_a_server_that_trickles_bytes_cannot_hold_a_turn_past_the_timeout(offline):
    # One space every 50 ms keeps every read under the 1 s read timeout: read by read, this reply
    # would take 20 s and then be used. The whole turn is bounded by the 1 s instead.
    with FakeOpenAIServer() as server:
        server.script(trickled(tool_reply("plan_recipe", BEACH), spaces=400, every_s=0.05))
        planner = LLMPlanner.from_settings(settings_for(server.url, llm_timeout_s=1.0), fallback=offline)
        recipe = planner.plan("put it on a beach at sunset", image_size=(600, 400))
    assert recipe.notes[-1] == (
        f"the language model at {server.url} did not answer within 1 s; check the server, or raise "
        f"SCENESHOP_LLM_TIMEOUT_S — {PLANNED_OFFLINE}"
    )
    assert recipe.scene.preset == "beach" and len(server.requests) == 1


def test_the_timeout_bounds_the_retries_too(offline):
    # Each reply takes 0.6 s and is unusable; with 5 retries that is 3.6 s of a 1 s budget.
    def slow_bad_call(messages):
        time.sleep(0.6)
        return call("plan_recipe", {**BEACH, "scene_preset": "moonbase"})

    model = ScriptedChatModel(script=[slow_bad_call] * 6)
    planner = LLMPlanner(model, retries=5, fallback=offline, timeout_s=1.0, endpoint="http://llm.test/v1")
    recipe = planner.plan("beach at sunset", image_size=(600, 400))
    assert recipe.notes[-1].startswith("the language model at http://llm.test/v1 did not answer within 1 s")
    assert len(model.calls) < 6


# ------------------------------------------------------------------- 3. values echoed in full


def test_a_20_mb_tool_argument_is_echoed_as_80_characters(offline):
    huge = {**BEACH, "scene_description": "x" * 20_000_000}
    model = ScriptedChatModel(script=[call("plan_recipe", huge) for _ in range(3)])
    planner = LLMPlanner(model, retries=2, fallback=offline)
    recipe = planner.plan("beach at sunset", image_size=(600, 400))
    sent_back = [m.content for m in model.calls[-1]["messages"] if isinstance(m, ToolMessage)]
    assert len(sent_back) == 2 and all(len(text) < 400 for text in sent_back)
    assert "(got 'xxxxxxxx" in sent_back[0] and "… (20000000 characters))" in sent_back[0]
    assert recipe.notes[-1].endswith(PLANNED_OFFLINE) and len(recipe.notes[-1]) < 300
    assert len(recipe.to_json()) < 5000  # what goes into the PNG and the memory store


def test_cli_lines_stay_short_when_the_model_sends_a_1_mb_argument(cli, llm_env):
    # (1 MB: under the reply limit, so the argument itself reaches the validation.)
    huge = tool_reply("plan_recipe", {**BEACH, "scene_description": "y" * MB})
    with FakeOpenAIServer() as server:
        server.script(huge, huge, huge)
        llm_env(server.url)
        code, out, err = cli("plan", "put it on a beach at sunset")
    assert code == 0 and PLANNED_OFFLINE in out
    lines = (out + err).splitlines()
    # The prompt line is the recipe's own prompt (at most 4000 characters, 344 here); the note
    # that quotes the argument is 262 characters.
    assert max(len(line) for line in lines if not line.startswith("prompt: ")) <= 300
    assert len(out + err) < 6000
    # What went back to the model in the retries is capped too.
    assert len(server.messages(2)[-1]["content"]) < 400


@pytest.mark.parametrize("declare_length", [True, False])
def test_an_oversized_reply_is_not_read(offline, declare_length):
    # 5 MB of JSON whitespace before a valid completion; with or without a Content-Length header.
    body = b" " * (5 * MB) + json.dumps(completion({"role": "assistant", "content": "x"})).encode()
    with FakeOpenAIServer() as server:
        server.script(raw_reply(body, declare_length=declare_length))
        planner = LLMPlanner.from_settings(settings_for(server.url), fallback=offline)
        recipe = planner.plan("beach at sunset", image_size=(600, 400))
    assert "(a recipe is a few KB; the limit is 2 MB); check the server" in recipe.notes[-1]
    assert len(server.requests) == 1  # read once, not once per retry


def test_every_free_text_field_and_the_notes_are_capped():
    with pytest.raises(RecipeError, match=r"recipe field 'scene.preset': String should have at most 60"):
        Recipe.from_dict({"scene": {"preset": "z" * 10_000_000}})
    with pytest.raises(RecipeError) as err:
        Recipe.from_dict({"scene": {"props": ["p" * 100] * 12}, "id": "i" * 100, "parent_id": "j" * 100})
    assert len(str(err.value)) < 1200 and "and 9 more problems" in str(err.value)
    recipe = Recipe.from_dict({"notes": ["n" * 100_000] * 1000})
    assert len(recipe.notes) == 20 and all(len(n) <= 500 for n in recipe.notes)
    recipe.notes.append("m" * 5_000_000)  # appended after validation, as the planners do
    assert len(recipe.to_json()) < 20_000
    assert len(Recipe.from_json(recipe.to_json()).notes[0]) == 500  # and it reads back
    with pytest.raises(CatalogError) as err:
        load_catalog().scene("s" * 20_000_000)
    assert len(str(err.value)) < 1000


# ------------------------------------------------------------------ 4. damaged memory stores


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def remember(data_dir: Path, n: int = 25) -> None:
    with RecipeMemory(data_dir) as mem:
        for i in range(n):
            words = " ".join(f"word{i * 40 + k}" for k in range(40))  # unlike each other: no duplicates
            mem.save("alice", Recipe(request=f"look {i}: {words}"))


def test_a_store_damaged_deep_inside_is_refused_before_chromadb_writes_to_it(cli, tmp_path):
    remember(tmp_path)
    db = tmp_path / "memory" / "chroma.sqlite3"
    data = bytearray(db.read_bytes())
    data[-4096:] = os.urandom(4096)  # the last page: the header and the table list still read fine
    db.write_bytes(bytes(data))
    before = snapshot(tmp_path / "memory")
    code, _, err = cli("memory", "list", "--user", "alice", "--data-dir", str(tmp_path))
    assert code == 2
    line = one_line(err)
    assert f"memory store at {tmp_path / 'memory'} cannot be read (chroma.sqlite3: " in line
    assert "It was not modified. To go on, move it aside (mv " in line
    assert "`sceneshop memory import` and your last export" in line
    assert snapshot(tmp_path / "memory") == before  # byte for byte, every file


def test_a_store_left_by_kill_9_mid_save_still_opens(tmp_path):
    remember(tmp_path, n=5)
    db = tmp_path / "memory" / "chroma.sqlite3"
    # A writer killed inside a transaction leaves a hot journal that only a write can roll back.
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sqlite3, time
            con = sqlite3.connect({str(db)!r}, isolation_level=None)
            con.execute("PRAGMA cache_size=1")
            con.execute("BEGIN IMMEDIATE")
            con.execute("UPDATE embeddings_queue SET metadata = metadata || '{' ' * 200}'")
            print("ready", flush=True)
            time.sleep(600)
        """)],
        stdout=subprocess.PIPE,
    )
    assert writer.stdout.readline() == b"ready\n"
    writer.kill()
    writer.wait()
    assert (tmp_path / "memory" / "chroma.sqlite3-journal").stat().st_size > 0
    with RecipeMemory(tmp_path) as mem:
        assert len(mem.list("alice")) == 5


def test_a_failed_save_is_blamed_on_the_disk_only_when_the_disk_is_the_cause(tmp_path):
    remember(tmp_path, n=1)
    # A file-size limit (EFBIG): SQLite reports "disk I/O error", which is neither space nor permission.
    script = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        from sceneshop.agent.memory.memory import RecipeMemory
        from sceneshop.agent.recipe import Recipe
        from sceneshop.tools.errors import SceneshopError
        with RecipeMemory({str(tmp_path)!r}) as mem:
            mem.list("alice")
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            files = Path({str(tmp_path / "memory")!r}).rglob("*")
            big = max(p.stat().st_size for p in files if p.is_file())
            resource.setrlimit(resource.RLIMIT_FSIZE, (big + 8192, resource.RLIM_INFINITY))
            try:
                for i in range(300):
                    mem.save("alice", Recipe(request=f"look {{i}} " + "words " * 300))
            except SceneshopError as exc:
                print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300).stdout
    assert "could not be written (" in out and "try again, and if it keeps failing, move it aside" in out
    assert "disk space" not in out and "disk is full" not in out and "permission" not in out

    from sceneshop.agent.memory.store import _store_error  # the same message, for the real causes

    for exc, says in (
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (OSError(errno.EROFS, "Read-only file system"), "no permission to write there"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "no permission to write there"),
    ):
        assert says in str(_store_error(tmp_path, exc, writing=True))


# ---------------------------------------------------------------- 5. nesting, types, busy port


def test_deeply_nested_recipe_json_is_one_line_and_exit_2(cli, photo, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    for argv in (("render", str(deep), "--image", str(photo), "-o", str(tmp_path / "x.png")),
                 ("plan", "warmer", "--parent", str(deep))):
        code, _, err = cli(*argv)
        assert code == 2
        assert one_line(err).startswith("error: recipe JSON is nested far deeper than a recipe")


def test_a_deeply_nested_export_or_llm_reply_is_refused_cleanly(tmp_path, offline):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    with RecipeMemory(tmp_path) as mem, pytest.raises(InputError, match="nested far deeper"):
        mem.import_("alice", deep)
    with FakeOpenAIServer() as server:
        server.script(raw_reply(b"[" * 100_000))
        planner = LLMPlanner.from_settings(settings_for(server.url), fallback=offline)
        recipe = planner.plan("beach at sunset")
    assert "sent a reply Sceneshop cannot read (RecursionError" in recipe.notes[-1]


def test_a_schema_version_of_the_wrong_type_is_a_type_error_naming_the_field():
    for value, got in (("1", "'1', a str"), (True, "True, a bool"), (1.5, "1.5, a float")):
        with pytest.raises(RecipeError) as err:
            Recipe.from_dict({"schema_version": value})
        assert str(err.value) == (
            f"recipe field 'schema_version': must be a whole number such as 1 (got {got}); "
            "write it without quotes"
        )
    with pytest.raises(RecipeError, match="schema_version 2 is newer than this Sceneshop"):
        Recipe.from_dict({"schema_version": 2})


def test_serve_on_a_busy_port_is_one_line_naming_the_port(cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, _, err = cli("serve", "--port", str(port))
    assert code == 2
    assert one_line(err) == (
        f"error: port {port} on 127.0.0.1 is already in use (another `sceneshop serve`?); stop that "
        "server or choose another port with --port or SCENESHOP_PORT"
    )


# ------------------------------------------------------------------------- 10. cancellation


class CancelPressedAt(threading.Event):
    """A real Event that the "user" sets at its n-th check: cancel at a chosen point, deterministically."""

    def __init__(self, n: int):
        super().__init__()
        self.n, self.checks = n, 0

    def is_set(self) -> bool:
        self.checks += 1
        if self.checks >= self.n:
            self.set()
        return super().is_set()


def blank_photo() -> Image.Image:
    return Image.new("RGB", (400, 300), (128, 128, 128))  # segmentation finds nothing in it


def test_cancel_reaches_segmentation_between_its_steps(coffee):
    with pytest.raises(Cancelled):
        segment(coffee, cancel=CancelPressedAt(2))  # pressed after its first step
    # Cancelled before it starts: the photo is never looked at (it would fail: nothing to find).
    with pytest.raises(Cancelled):
        segment(blank_photo(), cancel=CancelPressedAt(1))


def test_a_cancelled_turn_does_not_segment_first(offline):
    cancel = threading.Event()
    cancel.set()
    studio = Studio(planner=offline, engine=EmbeddedRenderer())
    with pytest.raises(Cancelled):
        studio.generate("on a beach at sunset", blank_photo(), cancel=cancel)
    # The renderer segments when it gets no mask: cancel pressed after its first check stops there.
    recipe = offline.plan("beach at sunset", image_size=(400, 300))
    with pytest.raises(Cancelled):
        EmbeddedRenderer().render(recipe, blank_photo(), None, cancel=CancelPressedAt(2))


# --------------------------------------------------------------------- 11. terminal escapes


def test_plan_prints_no_terminal_escapes(cli):
    code, out, err = cli("plan", "beach \x1b[31mred\x07 at sunset\x1b]0;owned\x07")
    assert code == 0 and "beach [31mred" in out
    assert not any(ch in out + err for ch in "\x1b\x07\x9b")


def test_memory_list_and_show_print_no_escapes_from_an_imported_export(cli, tmp_path):
    sneaky = Recipe(request="beach\x1b]0;owned\x07 at sunset \x1b[2J\x9b31m")
    export = tmp_path / "export.json"
    export.write_text(json.dumps({
        "format": "sceneshop-memory", "schema": 1, "exported": 0,
        "entries": [{"request": sneaky.request, "recipe": json.loads(sneaky.to_json()), "rating": "liked"}],
    }))
    common = ("--user", "alice", "--data-dir", str(tmp_path / "data"))
    assert cli("memory", "import", str(export), *common)[0] == 0
    code, out, _ = cli("memory", "list", *common)
    assert code == 0 and "at sunset" in out
    entry_id = out.splitlines()[2].split()[0]
    code, shown, _ = cli("memory", "show", entry_id, *common)
    assert code == 0 and "beach]0;owned at sunset" in shown
    assert not any(ch in out + shown for ch in "\x1b\x07\x9b")
