"""The conversation: versions and lineage, undo / go back / compare / start over / clarify with the
real embedded planner and renderer, the same commands with the LLM planner, the studio's actions
besides the chat (a new photo, inspector edits, saved looks, ratings) with the real memory, and
`sceneshop chat` reading piped lines."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from click.testing import CliRunner
from langchain_core.messages import AIMessage
from PIL import Image
from skimage import data

from sceneshop.agent.cli.chat import chat
from sceneshop.agent.cli.group import main as cli_main
from sceneshop.agent.llm.planner import LLMPlanner
from sceneshop.agent.llm.scripted import ScriptedChatModel, call
from sceneshop.agent.llm.toolbox import Desk, run_call, tools_for
from sceneshop.agent.memory.memory import RecipeMemory
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.session import (
    Session,
    compare_asked,
    recipe_differences,
    start_over_asked,
    version_asked,
)
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.agent.studio import Studio
from sceneshop.tools.preview.renderer import EmbeddedRenderer

# Fields a variation may not touch: all but identity, the request and the notes.
IDENTITY = {"id", "parent_id", "request", "notes"}
GREEN_QUESTION = "Do you mean a green background? The product itself is never repainted."


@pytest.fixture(scope="module")
def embedded():
    return EmbeddedPlanner()


@pytest.fixture(scope="module")
def renderer():
    return EmbeddedRenderer()


@pytest.fixture()
def session(embedded, renderer, coffee, coffee_mask):
    s = Session(Studio(planner=embedded, engine=renderer))
    s.set_product(coffee, coffee_mask)
    return s


def same_pixels(a, b) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


def test_request_feedback_undo_variation_keeps_the_lineage(session):
    first = session.send("put it on a beach at sunset")
    assert first.kind == "result" and first.version == 1 and first.recipe.parent_id is None
    assert first.recipe.scene.preset == "beach" and first.images[0].size == (
        first.recipe.width,
        first.recipe.height,
    )

    warmer = session.send("warmer and less busy")
    assert warmer.version == 2 and warmer.recipe.parent_id == first.recipe.id
    assert warmer.recipe.lighting.kelvin < first.recipe.lighting.kelvin

    undone = session.send("undo")
    assert undone.kind == "result" and undone.version == 1 and undone.recipe.id == first.recipe.id
    assert same_pixels(undone.images[0], first.images[0])
    assert session.recipe.id == first.recipe.id

    variation = session.send("keep everything, new variation")
    assert (
        variation.version == 3 and variation.recipe.parent_id == first.recipe.id
    )  # built on the restored one
    assert variation.recipe.seed != first.recipe.seed
    assert variation.recipe.model_dump(exclude=IDENTITY | {"seed"}) == first.recipe.model_dump(
        exclude=IDENTITY | {"seed"}
    )
    assert [v.recipe.id for v in session.versions] == [first.recipe.id, warmer.recipe.id, variation.recipe.id]


def test_go_back_by_ordinal_and_the_next_turn_builds_on_it(session):
    turns = [session.send(t) for t in ("white background", "on a marble counter", "in a cozy cafe")]
    back = session.send("go back to the second one")
    assert back.version == 2 and back.recipe.id == turns[1].recipe.id
    assert same_pixels(back.images[0], turns[1].images[0])
    assert session.send("version 1").recipe.id == turns[0].recipe.id
    nxt = session.send("softer light")
    assert nxt.recipe.parent_id == turns[0].recipe.id and nxt.version == 4
    assert session.send("version 9").kind == "info"


def test_undo_walks_the_parent_chain_and_stops_at_the_first(session):
    assert session.send("undo").kind == "info"  # nothing yet
    a = session.send("white background")
    b = session.send("closer")
    assert session.send("undo").recipe.id == a.recipe.id
    first = session.send("undo")
    assert first.kind == "info" and "first" in first.reply and session.recipe.id == a.recipe.id
    assert b.recipe.parent_id == a.recipe.id


def test_compare_the_last_two_lists_the_differing_fields_and_both_pictures(session):
    a = session.send("put it on a beach at sunset")
    b = session.send("make it warmer")
    turn = session.send("compare the last two")
    assert turn.kind == "info" and len(turn.images) == 2
    assert same_pixels(turn.images[0], a.images[0]) and same_pixels(turn.images[1], b.images[0])
    expected = recipe_differences(a.recipe, b.recipe)
    assert expected and any(line.startswith("lighting.kelvin: ") for line in expected)
    assert turn.reply.splitlines() == ["Version 1 → version 2:"] + [f"- {line}" for line in expected]
    assert session.recipe.id == b.recipe.id  # comparing changes nothing


def test_start_over_keeps_the_product_and_starts_a_fresh_chain(session, coffee):
    session.send("put it on a beach at sunset")
    session.send("warmer")
    turn = session.send("start over with the same product")
    assert turn.kind == "info" and session.recipe is None
    fresh = session.send("on a marble counter")
    assert fresh.recipe.parent_id is None and fresh.recipe.mode == "replace_background"
    assert fresh.recipe.scene.preset == "marble" and session.image is coffee and fresh.version == 3
    again = session.send("start over: white background for amazon")
    assert again.recipe.parent_id is None and again.recipe.output.preset == "amazon_main"


def test_make_it_green_asks_first_then_yes_changes_the_background(session):
    beach = session.send("put it on a beach")
    question = session.send("make it green")
    assert (question.kind, question.reply) == ("clarify", GREEN_QUESTION)
    assert not question.images and len(session.versions) == 1
    answer = session.send("yes")
    assert answer.kind == "result" and answer.recipe.parent_id == beach.recipe.id
    assert answer.recipe.mode == "replace_background" and "green" in answer.recipe.scene.preset

    session.send("make it red")
    declined = session.send("no")
    assert declined.kind == "info" and "never repainted" in declined.reply and len(session.versions) == 2

    session.send("make it green")
    assert session.send("the background").kind == "result"


def test_an_unrelated_reply_to_a_question_is_a_new_request(session):
    session.send("white background")
    assert session.send("make it green").kind == "clarify"
    turn = session.send("on a wooden table")
    assert turn.kind == "result" and turn.recipe.scene.preset == "wood_table"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("go back to the second one", 2),
        ("version 3", 3),
        ("back to v2", 2),
        ("Let's go back to the first one!", 1),
        ("show me version 4", 4),
        ("the 2nd one please", 2),
        ("put it on the second shelf", None),
        ("a beach at sunset", None),
    ],
)
def test_version_references(text, number):
    assert version_asked(text) == number


def test_compare_and_start_over_phrases():
    assert compare_asked("compare the last two") == (None, None)
    assert compare_asked("compare version 1 and version 3") == (1, 3)
    assert compare_asked("what changed?") == (None, None)
    assert compare_asked("on a beach") is None
    assert start_over_asked("start over with the same product") == ""
    assert start_over_asked("let's start over: marble counter") == "marble counter"
    assert start_over_asked("warmer") is None


# ------------------------------------------------------------- the same commands with the LLM


def test_with_the_llm_the_session_commands_never_reach_the_model(embedded, renderer, coffee, coffee_mask):
    model = ScriptedChatModel(
        script=[
            call(
                "plan_recipe",
                {"scene_preset": "beach", "time_of_day": "sunset", "lighting_preset": "golden_hour"},
                content="Here it is on the beach.",
            ),
            call("edit_recipe", {"kelvin": 2600}),
            call("edit_recipe", {"scene_preset": "studio_green", "scene_description": "green background"}),
            call("generate", {}),
        ]
    )
    studio = Studio(planner=LLMPlanner(model, fallback=embedded), engine=renderer)
    session = Session(studio)
    session.set_product(coffee, coffee_mask)

    first = session.send("put it on a beach at sunset")
    assert first.reply.startswith("Here it is on the beach.\nVersion 1: scene beach")
    second = session.send("warmer")
    assert second.recipe.parent_id == first.recipe.id and second.recipe.lighting.kelvin == 2600
    asked = len(model.calls)

    assert session.send("undo").recipe.id == first.recipe.id
    assert session.send("compare the last two").kind == "info"
    assert session.send("make it green").reply == GREEN_QUESTION
    assert len(model.calls) == asked  # undo, compare and the question were the session's own

    green = session.send("yes")
    assert green.recipe.parent_id == first.recipe.id and green.recipe.scene.preset == "studio_green"
    assert model.calls[-1]["messages"][1].content.endswith("Request: green background")
    variation = session.send("another one")
    assert variation.recipe.parent_id == green.recipe.id and variation.recipe.seed != green.recipe.seed
    assert [v.number for v in session.versions] == [1, 2, 3, 4]


def test_with_the_llm_a_worded_answer_makes_no_version(embedded, renderer):
    model = ScriptedChatModel(
        script=[call("list_scenes", {}), AIMessage("I can do beaches, studios and more.")]
    )
    session = Session(Studio(planner=LLMPlanner(model, fallback=embedded), engine=renderer))
    turn = session.send("what can you do?")
    assert (turn.kind, turn.reply, turn.images) == ("info", "I can do beaches, studios and more.", [])
    assert not session.versions


def test_text_to_image_without_a_product(embedded, renderer):
    session = Session(Studio(planner=embedded, engine=renderer))
    turn = session.send("a cozy cafe table, warm light")
    assert turn.kind == "result" and turn.recipe.mode == "text_to_image" and turn.images
    assert session.send("make it green").kind == "result"  # nothing to protect: no question


def test_with_the_llm_save_and_recall_use_the_real_memory(embedded, renderer, coffee, coffee_mask, tmp_path):
    model = ScriptedChatModel(
        script=[
            call("plan_recipe", {"scene_preset": "pool", "scene_description": "by the pool"}),
            call("save_recipe", {"name": "pool day", "tags": ["summer"], "rating": "liked"}),
            call("recall_recipes", {"query": "summer pool look"}),
            AIMessage("You saved 'pool day'."),
        ]
    )
    with RecipeMemory(tmp_path / "memory") as memory:
        studio = Studio(planner=LLMPlanner(model, fallback=embedded), engine=renderer, memory=memory)
        session = Session(studio, user="alice")
        session.set_product(coffee, coffee_mask)
        first = session.send("put it by the pool")
        saved = session.send("I love it, keep it as pool day")
        assert (saved.kind, saved.reply) == ("info", "Saved as 'pool day'.")
        entry = memory.find_by_name("alice", "pool day")
        assert entry.recipe.id == first.recipe.id and entry.rating == "liked" and entry.thumbnail is not None
        assert memory.find_by_name("bob", "pool day") is None
        offered = {t["function"]["name"] for t in model.calls[1]["tools"]}
        assert {"recall_recipes", "save_recipe", "edit_recipe", "generate"} <= offered
        answer = session.send("what did I save for summer?")
        assert answer.reply == "You saved 'pool day'."
        found = model.calls[-1]["messages"][-1].content
        assert (
            found.startswith("saved recipes, best first") and "'pool day'" in found and "scene pool" in found
        )

        # The session's own "save this as …" works the same with either planner.
        embedded_session = Session(Studio(planner=embedded, engine=renderer, memory=memory), user="alice")
        embedded_session.set_product(coffee, coffee_mask)
        embedded_session.send("white background")
        assert embedded_session.send("save this as plain white").reply == "Saved as 'plain white'."
        assert memory.find_by_name("alice", "plain white") is not None


def test_a_cancelled_render_is_an_error_turn_and_the_session_goes_on(session):
    first = session.send("white background")
    stop = threading.Event()
    stop.set()
    cancelled = session.send("on a beach", cancel=stop)
    assert cancelled.kind == "error" and cancelled.reply.startswith("Cancelled")
    assert len(session.versions) == 1 and session.recipe.id == first.recipe.id
    assert session.send("on a beach").recipe.parent_id == first.recipe.id


def test_inpaint_never_uses_a_guessed_product_mask(embedded, renderer, coffee):
    model = ScriptedChatModel(script=[call("plan_recipe", {"scene_preset": "marble", "mode": "inpaint"})])
    session = Session(Studio(planner=LLMPlanner(model, fallback=embedded), engine=renderer))
    session.set_product(coffee)  # no mask: the product would be segmented for replace_background
    turn = session.send("repaint the table as marble")
    assert turn.kind == "error" and "inpaint needs a mask" in turn.reply and not session.versions


# ------------------------------------------------ the studio's actions besides the chat


@pytest.fixture()
def memory(tmp_path):
    with RecipeMemory(tmp_path / "memory") as memory:
        yield memory


@pytest.fixture()
def photos(tmp_path, coffee, coffee_mask):
    """The coffee photo and its mask as files (as an upload or --image/--mask gives them), and a
    second product: scikit-image's rocket."""
    coffee.save(tmp_path / "cup.png")
    coffee_mask.save(tmp_path / "cup-mask.png")
    Image.fromarray(data.rocket()).save(tmp_path / "rocket.png")
    return tmp_path


def test_open_product_reads_files_and_a_new_photo_starts_a_new_chain(embedded, renderer, photos, coffee_mask):
    session = Session(Studio(planner=embedded, engine=renderer))
    opened = session.open_product(photos / "cup.png", photos / "cup-mask.png")
    assert (opened.kind, opened.reply) == ("info", "New product photo received. What scene would you like?")
    assert session.image.size == (600, 400) and same_pixels(session.mask, coffee_mask)
    first = session.send("white background")
    assert first.recipe.width / first.recipe.height == pytest.approx(1.5, abs=0.05)

    again = session.open_product(photos / "rocket.png")
    assert (
        again.reply == "New product photo received. Starting a new chain for it. What scene would you like?"
    )
    assert session.recipe is None and len(session.versions) == 1 and session.image.size == (640, 427)
    rocket = session.send("on a marble counter")
    assert rocket.version == 2 and rocket.recipe.parent_id is None
    assert session.go_back(1).recipe.id == first.recipe.id  # earlier versions stay reachable


def test_open_product_refuses_an_unusable_file_and_keeps_the_product(embedded, renderer, photos, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", max_pixels=300_000)  # the rocket's 0.27 MP pass
    session = Session(Studio(settings, planner=embedded, engine=renderer))
    session.open_product(photos / "rocket.png")
    kept = session.image
    (tmp_path / "notes.png").write_text("not a picture")
    Image.new("RGB", (800, 600), "white").save(tmp_path / "big.png")  # 0.48 MP
    refused = {
        ("notes.png", "not an image"): session.open_product(tmp_path / "notes.png"),
        ("big.png", "megapixels"): session.open_product(tmp_path / "big.png"),
        ("mask", "640x427"): session.open_product(photos / "rocket.png", photos / "cup-mask.png"),
    }
    for words, turn in refused.items():
        assert turn.kind == "error" and all(w in turn.reply for w in words), turn.reply
    assert session.image is kept and session.send("white background").kind == "result"


def test_edit_renders_only_the_changed_fields_as_a_child_version(session):
    assert session.edit(kelvin=2000).kind == "info"  # nothing to edit yet
    beach = session.send("put it on a beach at sunset").recipe
    warmer = session.edit(kelvin=2000, scene="beach", framing=beach.camera.framing)
    assert warmer.kind == "result" and warmer.version == 2
    r = warmer.recipe
    assert r.parent_id == beach.id and r.request == "inspector: kelvin 2000" and r.lighting.kelvin == 2000
    assert "2000K" in r.prompt.replace(" K", "K")
    changed = IDENTITY | {"prompt", "negative_prompt"}
    assert r.model_dump(exclude=changed)["lighting"] == {**beach.model_dump()["lighting"], "kelvin": 2000}
    assert {k: v for k, v in r.model_dump(exclude=changed).items() if k != "lighting"} == {
        k: v for k, v in beach.model_dump(exclude=changed).items() if k != "lighting"
    }

    grey = session.edit(
        scene="studio_grey", time_of_day="none", framing="close", loras=[("film_grain", 0.4)], seed=1234
    ).recipe
    assert grey.parent_id == r.id and grey.scene.preset == "studio_grey" and grey.time_of_day is None
    assert grey.camera.framing == "close" and grey.seed == 1234
    assert [(c.name, c.weight) for c in grey.loras] == [("film_grain", 0.4)]
    assert "beach" not in grey.prompt and grey.notes[-1] == "seed 1234 set in the inspector"
    assert grey.request.startswith("inspector: scene studio_grey, ") and grey.request.endswith(", seed 1234")

    variation = session.edit(new_seed=True).recipe
    assert variation.seed != 1234 and variation.request == "inspector: new seed"
    assert variation.model_dump(exclude=IDENTITY | {"seed"}) == grey.model_dump(exclude=IDENTITY | {"seed"})
    assert session.edit().recipe.request == "inspector: no change, rendered again"

    versions = len(session.versions)
    for bad in ({"seed": -1}, {"scene": "moon_base"}, {"loras": [("film_grain", 9.0)]}):
        turn = session.edit(**bad)
        assert turn.kind == "error" and len(session.versions) == versions
    assert "outside 0–" in session.edit(seed=-1).reply


def test_the_inspector_and_the_llm_edit_tool_make_the_same_recipe(session):
    """One function edits a recipe from field values: the LLM's edit_recipe call and the inspector
    give the same fields for the same change."""
    parent = session.send("put it on a beach at sunset").recipe
    desk = Desk(session.studio.catalog, "warmer", parent=parent, image_size=session.image.size)
    args = {"kelvin": 2600, "framing": "wide", "marketplace": "amazon_main"}
    observation = run_call(desk, {"name": "edit_recipe", "id": "1", "args": args}, tools_for(desk))
    assert observation.ok, observation.text
    by_inspector = session.edit(kelvin=2600, framing="wide", marketplace="amazon_main").recipe
    fields = IDENTITY | {"prompt"}  # the prompt carries the request's words
    assert by_inspector.model_dump(exclude=fields) == desk.recipe.model_dump(exclude=fields)
    assert by_inspector.output.preset == "amazon_main" and by_inspector.lighting.kelvin == 2600


def test_ratings_and_save_this_write_the_same_memory_entry(embedded, renderer, coffee, coffee_mask, memory):
    session = Session(Studio(planner=embedded, engine=renderer, memory=memory), user="alice")
    session.set_product(coffee, coffee_mask)
    nothing = session.rate("liked")
    assert (nothing.reply, nothing.version) == ("Make a picture first, then rate it.", None)
    first = session.send("put it on a beach at sunset")

    liked = session.rate("liked")
    assert liked.kind == "info" and liked.version == 1
    assert liked.reply.startswith("👍 Saved version 1 to your looks (scene beach, sunset")
    [entry] = memory.list("alice")
    assert (entry.rating, entry.recipe.id) == ("liked", first.recipe.id) and entry.thumbnail is not None

    saved = session.send("save this as beach look")
    assert saved.reply == "Saved as 'beach look'."
    [entry] = memory.list("alice")  # the same look: one entry, now named and rated "saved"
    assert (entry.rating, entry.name) == ("saved", "beach look")

    disliked = session.rate("disliked")
    assert disliked.reply == "👎 Noted: I will steer away from version 1 next time."
    assert [e.rating for e in memory.list("alice")] == ["disliked"]
    assert session.looks("seaside at dusk")[0].id == entry.id and session.look(entry.id).id == entry.id
    assert Session(session.studio, user="bob").looks() == []

    without = Session(Studio(planner=embedded, engine=renderer), user="alice")
    without.set_product(coffee, coffee_mask)
    without.send("white background")
    refused = without.rate("liked")
    assert (refused.reply, refused.version) == ("Recipe memory is not available in this studio.", None)
    assert without.looks() == [] and without.forget(entry.id) is None


def test_apply_look_renders_a_saved_look_on_another_product(embedded, renderer, photos, memory):
    studio = Studio(planner=embedded, engine=renderer, memory=memory)
    alice = Session(studio, user="alice")
    alice.open_product(photos / "cup.png", photos / "cup-mask.png")
    liked = alice.send("put it on a beach at sunset").recipe
    alice.rate("liked")
    [entry] = alice.looks()

    assert alice.apply_look("").reply == "Pick a saved recipe in the Memory tab first."
    photo_less = Session(studio, user="alice").apply_look(entry.id)
    assert photo_less.kind == "info" and photo_less.reply.startswith("Attach a product photo first")
    assert photo_less.look.id == entry.id

    alice.open_product(photos / "rocket.png")
    applied = alice.apply_look(entry.id)
    assert applied.kind == "result" and applied.look.id == entry.id and applied.version == 2
    r = applied.recipe
    assert r.parent_id == liked.id and r.notes[-1] == "your saved recipe, applied unchanged"
    assert (r.scene, r.lighting, r.seed, r.width, r.height) == (
        liked.scene,
        liked.lighting,
        liked.seed,
        liked.width,
        liked.height,
    )
    picture = np.asarray(applied.images[0].convert("RGB"))
    assert not np.array_equal(picture, np.asarray(alice.versions[0].images[0].convert("RGB")))  # the rocket

    bob = Session(studio, user="bob")
    bob.open_product(photos / "rocket.png")
    stolen = bob.apply_look(entry.id)
    assert stolen.kind == "error" and "no recipe with id" in stolen.reply and stolen.look is None
    assert alice.forget(entry.id).id == entry.id and alice.looks() == []


def test_chat_command_names_an_unusable_photo_and_exits_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SCENESHOP_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        code = cli_main(["chat", "--image", str(tmp_path / "missing.png")])
    finally:
        get_settings.cache_clear()
    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: '{tmp_path / 'missing.png'}' does not exist")


# ----------------------------------------------------------------------- the terminal chat


def test_chat_command_reads_piped_lines_and_saves_each_picture(tmp_path, coffee, monkeypatch):
    photo = tmp_path / "cup.png"
    coffee.save(photo)
    out = tmp_path / "out"
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SCENESHOP_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    lines = [
        "put it on a beach at sunset",
        "warmer",
        "",
        "undo",
        "compare the last two",
        "make it green",
        "no",
    ]
    try:
        done = CliRunner().invoke(
            chat, ["--image", str(photo), "--out", str(out)], input="\n".join([*lines, "quit", "not read"])
        )
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    said = done.output
    assert said.startswith("Planner: embedded planner")
    saved = [line.removeprefix("saved ") for line in said.splitlines() if line.startswith("saved ")]
    names = ["v1-1.png", "v2-1.png", "v1-1.png", "compare-1-1.png", "compare-1-2.png"]
    assert [os.path.basename(p) for p in saved] == names
    assert sorted(p.name for p in out.iterdir()) == sorted(set(names))
    assert "Undone. Back to version 1" in said and GREEN_QUESTION in said and "not read" not in said
