"""The studio's HTTP API through gradio_client against a real server on 127.0.0.1: chat turns with
pictures and downloads, inspector re-renders, likes and the memory browser, per-user separation,
upload limits answered in the chat, Stop during a render, and Gradio login users."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
from gradio_client import Client
from PIL import Image

from sceneshop.simulate import message, outputs, product_photo, start_studio
from sceneshop.tools.errors import Cancelled
from sceneshop.tools.preview.renderer import EmbeddedRenderer

CHAT, RECIPE, FILES = "Studio chat", "Recipe JSON", "Current version: PNG + recipe JSON"
MEMORY_TABLE, MEMORY_TEXT = "Saved recipes", "Memory"
UPLOAD_MB = 0.25  # small limits so the tests can cross them with small files
MAX_PIXELS = 1_000_000


class PausableRenderer(EmbeddedRenderer):
    """The preview renderer, optionally preceded by `steps` slow steps so that Stop can land."""

    steps = 0

    def render(self, recipe, image, mask, *, progress=None, cancel=None):
        for step in range(self.steps):
            if cancel is not None and cancel.is_set():
                raise Cancelled("stopped by the user")
            time.sleep(0.05)
            if progress is not None:
                progress(step + 1, self.steps)
        return super().render(recipe, image, mask, progress=progress, cancel=cancel)


@pytest.fixture(scope="module")
def engine():
    return PausableRenderer(reason="the test's preview renderer")


@pytest.fixture(scope="module")
def studio(tmp_path_factory, engine):
    running = start_studio(
        tmp_path_factory.mktemp("studio"), engine=engine, max_upload_mb=UPLOAD_MB, max_pixels=MAX_PIXELS
    )
    yield running
    running.close()


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return product_photo(tmp_path_factory.mktemp("photos") / "bottle.png", (200, 30, 40))


def texts(chat) -> list[str]:
    return [part["text"] for m in chat for part in m["content"] if part.get("type") == "text"]


def pictures(chat) -> list[str]:
    return [
        part["file"]["path"] if isinstance(part["file"], dict) else part["file"]
        for m in chat
        for part in m["content"]
        if part.get("type") == "file"
    ]


def turn(client, text, photo=None) -> dict:
    got = outputs(client, "/respond", client.predict(message(text, photo), api_name="/respond"))
    got["recipe"] = json.loads(got[RECIPE]) if got[RECIPE] else None
    return got


def test_the_api_names_every_action(studio):
    api = Client(studio.url, verbose=False).view_api(return_format="dict", print_info=False)
    names = set(api["named_endpoints"])
    assert {"/respond", "/rerender", "/apply", "/like", "/dislike", "/undo", "/stop", "/memories"} <= names
    returns = [r["label"] for r in api["named_endpoints"]["/respond"]["returns"]]
    assert {CHAT, RECIPE, FILES, "Scene", "Kelvin", "Seed", "Marketplace"} <= set(returns)


def test_chat_turns_give_pictures_recipes_and_downloads(studio, photo):
    client = Client(studio.url, verbose=False)
    first = turn(client, "put it on a beach at sunset", photo)
    recipe = first["recipe"]
    assert recipe["scene"]["preset"] == "beach" and recipe["time_of_day"] == "sunset"
    assert first["Scene"] == "beach" and first["Kelvin"] == recipe["lighting"]["kelvin"]
    assert any("Version 1:" in t for t in texts(first[CHAT]))
    chat_pictures = pictures(first[CHAT])
    assert len(chat_pictures) == 2  # the product as uploaded, then the result
    png, recipe_file = sorted(first[FILES], key=lambda p: p.endswith(".json"))
    with Image.open(png) as image:
        assert image.size == (recipe["width"], recipe["height"])
        assert json.loads(image.text["sceneshop:recipe"])["id"] == recipe["id"]
        # The product is kept pixel-exact: its colour is in the picture.
        assert (np.asarray(image.convert("RGB")) == (200, 30, 40)).all(axis=2).mean() > 0.05
    assert json.loads(open(recipe_file).read()) == recipe

    second = turn(client, "warmer")
    assert second["recipe"]["parent_id"] == recipe["id"]
    assert second["recipe"]["lighting"]["kelvin"] < recipe["lighting"]["kelvin"]
    assert any("Version 2:" in t for t in texts(second[CHAT]))

    undone = outputs(client, "/undo", client.predict(api_name="/undo"))
    assert json.loads(undone[RECIPE])["id"] == recipe["id"]
    # Files land under the data folder's results/, in one folder for this user, named by the app.
    folders = [p for p in (studio.data_dir / "results").iterdir() if any(p.glob("v002-*.png"))]
    assert len(folders) == 1 and not any("beach" in p.name for p in folders[0].iterdir())


def test_the_inspector_renders_its_edits_as_a_child_version(studio, photo):
    client = Client(studio.url, verbose=False)
    base = turn(client, "put it on a beach at sunset", photo)["recipe"]
    edits = {
        "scene": "studio_grey",
        "lighting": "softbox",
        "kelvin": 4100,
        "time_of_day": "none",
        "framing": "close",
        "lora_1": "film_grain",
        "lora_1_weight": 0.4,
        "lora_2": "none",
        "lora_2_weight": 0,
        "lora_3": "none",
        "lora_3_weight": 0,
        "seed": 1234,
        "seed_lock": True,
        "market": "none",
    }
    got = outputs(client, "/rerender", client.predict(*edits.values(), api_name="/rerender"))
    recipe = json.loads(got[RECIPE])
    assert recipe["parent_id"] == base["id"]
    assert recipe["scene"]["preset"] == "studio_grey" and recipe["time_of_day"] is None
    assert recipe["lighting"] == {**recipe["lighting"], "preset": "softbox", "kelvin": 4100}
    assert recipe["camera"]["framing"] == "close" and recipe["seed"] == 1234
    assert recipe["loras"] == [{"name": "film_grain", "weight": 0.4}]
    assert "4100K" in recipe["prompt"] and "beach" not in recipe["prompt"]  # the prompt follows the fields
    assert any("Version 2:" in t for t in texts(got[CHAT]))

    # Unlocking the seed draws a new one; nothing else changes.
    again = outputs(
        client, "/rerender", client.predict(*{**edits, "seed_lock": False}.values(), api_name="/rerender")
    )
    newer = json.loads(again[RECIPE])
    assert newer["parent_id"] == recipe["id"] and newer["seed"] != 1234
    assert {**newer, "id": 0, "parent_id": 0, "seed": 0, "request": "", "notes": []} == {
        **recipe,
        "id": 0,
        "parent_id": 0,
        "seed": 0,
        "request": "",
        "notes": [],
    }


def test_the_inspector_edits_the_text_layer_and_retouch_and_keeps_refused_words(studio, photo):
    client = Client(studio.url, verbose=False)
    base = turn(client, "put it on a beach at sunset", photo)["recipe"]
    kept = {"scene": "beach", "lighting": base["lighting"]["preset"], "kelvin": base["lighting"]["kelvin"],
            "time_of_day": "sunset", "framing": base["camera"]["framing"],
            "lora_1": "none", "lora_1_weight": 0, "lora_2": "none", "lora_2_weight": 0,
            "lora_3": "none", "lora_3_weight": 0,
            "seed": base["seed"], "seed_lock": True, "market": "none"}
    cover = {"text_layout": "cover", "title": "STAY HYDRATED", "subtitle": "summer essentials",
             "lines": "10 bottles we love\n\nSPF guide", "badge": "-20%", "price": "", "title_place": "top",
             "straighten": False, "harmonize": True, "harmonize_strength": 0.4}
    got = outputs(client, "/rerender", client.predict(*kept.values(), *cover.values(), api_name="/rerender"))
    recipe = json.loads(got[RECIPE])
    assert recipe["parent_id"] == base["id"]
    assert recipe["text"] == {"layout": "cover", "title": "STAY HYDRATED", "subtitle": "summer essentials",
                              "lines": ["10 bottles we love", "SPF guide"], "badge": "-20%", "price": "",
                              "place": "top"}
    assert recipe["retouch"] == {"straighten": False, "harmonize": 0.4}
    assert "STAY HYDRATED" not in recipe["prompt"]  # drawn over the picture, never asked of the engine
    assert got["Title (masthead / headline)"] == "STAY HYDRATED" and got["Strength"] == 0.4
    assert got["Cover lines (one per line, up to 4)"] == "10 bottles we love\nSPF guide"

    # Too long and too many: refused in plain words, no new version, and what was typed stays.
    bad = {**cover, "title": "THE LONGEST SUMMER OF HYDRATION EVER WRITTEN", "lines": "a\nb\nc\nd\ne"}
    refused = outputs(client, "/rerender",
                      client.predict(*kept.values(), *bad.values(), api_name="/rerender"))
    assert json.loads(refused[RECIPE])["id"] == recipe["id"]
    said = texts(refused[CHAT])[-1]
    assert "the title is 44 characters; it fits at most 40 — shorten it" in said
    assert "there are 5 cover lines; a cover has at most 4 — remove some" in said
    assert refused["Title (masthead / headline)"] != "STAY HYDRATED"  # not reset to the recipe's

    # Layout none keeps the badge and the price; matching the light off is strength 0.
    plain = {**cover, "text_layout": "none", "title": "", "subtitle": "", "lines": "", "price": "€24.90",
             "harmonize": False}
    done = json.loads(outputs(client, "/rerender",
                              client.predict(*kept.values(), *plain.values(), api_name="/rerender"))[RECIPE])
    assert done["text"] == {**recipe["text"], "layout": "none", "title": "", "subtitle": "", "lines": [],
                            "price": "€24.90"}
    assert done["retouch"]["harmonize"] == 0.0


def test_likes_fill_this_users_memory_only_and_apply_reuses_the_recipe(studio, photo, tmp_path):
    alice, bob = Client(studio.url, verbose=False), Client(studio.url, verbose=False)
    liked = turn(alice, "put it on a beach at sunset", photo)["recipe"]
    got = outputs(alice, "/like", alice.predict(api_name="/like"))
    assert any("Saved version 1" in t for t in texts(got[CHAT]))
    rows = got[MEMORY_TABLE]["data"]
    assert len(rows) == 1 and rows[0][1] == "liked" and "beach" in rows[0][0]
    entry_id = rows[0][3]

    # Another browser session is another user: nothing of Alice's, and her id is not found.
    theirs = outputs(bob, "/memories", bob.predict("", api_name="/memories"))
    assert theirs[MEMORY_TABLE]["data"] in ([], [["", "", "", ""]])
    other = product_photo(tmp_path / "blue.png", (40, 60, 190))
    turn(bob, "marble countertop", other)
    stolen = outputs(bob, "/apply", bob.predict(entry_id, api_name="/apply"))
    assert any("no recipe with id" in t for t in texts(stolen[CHAT]))

    # Alice applies her look to a new product: the same recipe fields, rendered as a new version.
    turn(alice, "", other)
    applied = outputs(alice, "/apply", alice.predict(entry_id, api_name="/apply"))
    recipe = json.loads(applied[RECIPE])
    # the new product's first picture starts its own chain (undo never brings back the old product)
    assert recipe["parent_id"] is None and recipe["notes"][-1] == "your saved recipe, applied unchanged"
    assert (recipe["scene"], recipe["lighting"], recipe["seed"]) == (
        liked["scene"],
        liked["lighting"],
        liked["seed"],
    )
    png = next(p for p in applied[FILES] if p.endswith(".png"))
    assert (np.asarray(Image.open(png).convert("RGB")) == (40, 60, 190)).all(axis=2).mean() > 0.05

    found = outputs(alice, "/memories", alice.predict("seaside at dusk", api_name="/memories"))
    assert [row[3] for row in found[MEMORY_TABLE]["data"]] == [entry_id]
    disliked = outputs(alice, "/dislike", alice.predict(api_name="/dislike"))
    assert any("Noted" in t for t in texts(disliked[CHAT]))


def test_upload_limits_are_answered_in_the_chat(studio, photo, tmp_path):
    client = Client(studio.url, verbose=False)
    huge = tmp_path / "huge.png"
    Image.new("RGB", (1200, 1000), "white").save(huge)  # 1.2 MP > 1 MP, yet a tiny file
    reply = texts(turn(client, "on a beach", huge)[CHAT])[-1]
    assert "huge.png" in reply and "megapixels" in reply and "downscale" in reply
    assert "/tmp" not in reply  # the server's upload path is not shown

    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (320, 320, 3), np.uint8)).save(noise)
    assert UPLOAD_MB * 2**20 < noise.stat().st_size < 2 * UPLOAD_MB * 2**20
    reply = texts(turn(client, "on a beach", noise)[CHAT])[-1]
    assert "noise.png" in reply and "limit" in reply

    fake = tmp_path / "fake.png"
    fake.write_text("not a picture at all")
    got = turn(client, "on a beach", fake)
    assert "not an image" in texts(got[CHAT])[-1] and got["recipe"] is None

    # Far over the limit, Gradio refuses the upload itself (the browser shows its own message).
    giant = tmp_path / "giant.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (700, 700, 3), np.uint8)).save(giant)
    with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a plain exception for HTTP 413
        client.predict(message("on a beach", giant), api_name="/respond")

    # The session is still usable after every refusal.
    assert turn(client, "on a beach", photo)["recipe"]["scene"]["preset"] == "beach"


def test_stop_cancels_a_running_render_and_progress_is_reported(studio, engine, photo):
    client = Client(studio.url, verbose=False)
    first = turn(client, "put it on a beach at sunset", photo)["recipe"]
    engine.steps = 600  # 30 s unless stopped
    try:
        job = client.submit(message("warmer"), api_name="/respond")
        deadline = time.monotonic() + 60
        while not (job.status().progress_data or []) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.status().progress_data, "the render's progress never reached the client"
        client.predict(api_name="/stop")
        got = outputs(client, "/respond", job.result(timeout=60))
    finally:
        engine.steps = 0
    assert "Cancelled" in texts(got[CHAT])[-1]
    assert json.loads(got[RECIPE])["id"] == first["id"]  # the previous version is still current


def test_login_users_each_have_their_own_memory(tmp_path, photo):
    running = start_studio(tmp_path / "studio", users="alice:sesame,bob:hunter2")
    try:
        with pytest.raises(Exception):  # noqa: B017 - no login, no studio
            Client(running.url, verbose=False)
        alice = Client(running.url, auth=("alice", "sesame"), verbose=False)
        turn(alice, "put it on a beach at sunset", photo)
        alice.predict(api_name="/like")
        # A new session of the same login finds the same memory; another login does not.
        again = Client(running.url, auth=("alice", "sesame"), verbose=False)
        rows = outputs(again, "/memories", again.predict("", api_name="/memories"))[MEMORY_TABLE]["data"]
        assert len(rows) == 1 and "beach" in rows[0][0]
        assert running.memory.list("alice")[0].id == rows[0][3]
        bob = Client(running.url, auth=("bob", "hunter2"), verbose=False)
        rows = outputs(bob, "/memories", bob.predict("", api_name="/memories"))[MEMORY_TABLE]["data"]
        assert rows in ([], [["", "", "", ""]])
    finally:
        running.close()
