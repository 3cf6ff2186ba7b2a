"""The conversation: versions and lineage, undo / go back / compare / start over / clarify with the
real embedded planner and renderer, the same commands with the LLM planner, and `sceneshop chat`
reading piped lines."""

from __future__ import annotations

import os
import threading

import pytest
from click.testing import CliRunner
from fake_openai_server import ScriptedChatModel, call
from langchain_core.messages import AIMessage

from sceneshop.agent.cli.chat import chat
from sceneshop.agent.commands import read_message
from sceneshop.agent.llm.planner import LLMPlanner
from sceneshop.agent.memory.memory import RecipeMemory
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.session import Session, recipe_differences
from sceneshop.agent.settings import get_settings
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
    message = read_message(text)
    assert (message.kind, message.version) == (("go_back", number) if number else ("request", None))


def test_compare_and_start_over_phrases():
    def read(text):
        message = read_message(text)
        return message.kind, message.versions, message.rest

    assert read("compare the last two") == ("compare", (None, None), "")
    assert read("compare version 1 and version 3") == ("compare", (1, 3), "")
    assert read("what changed?") == ("compare", (None, None), "")
    assert read("on a beach")[0] == "request"
    assert read("start over with the same product") == ("start_over", (None, None), "")
    assert read("let's start over: marble counter") == ("start_over", (None, None), "marble counter")
    assert read("warmer")[0] == "request"


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
