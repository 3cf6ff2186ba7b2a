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
from sceneshop.agent.commands import read_message
from sceneshop.agent.llm.planner import LLMPlanner
from sceneshop.agent.llm.scripted import ScriptedChatModel, call
from sceneshop.agent.llm.toolbox import ToolTurn, run_call, tools_for
from sceneshop.agent.memory.memory import RecipeMemory
from sceneshop.agent.session import Session
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.agent.studio import Studio
from sceneshop.agent.wording import CUTOUT_HOW

# Fields a variation may not touch: all but identity, the request and the notes.
IDENTITY = {"id", "parent_id", "request", "notes"}
GREEN_QUESTION = (
    "I can't change the colour of your product: its pixels are kept exactly as photographed. "
    "Shall I make the background green to match?"
)


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


def test_compare_the_last_two_says_what_changed_in_plain_words_with_both_pictures(session):
    a = session.send("put it on a beach at sunset")
    b = session.send("make it warmer and closer")
    turn = session.send("what's different between these two?")
    assert turn.kind == "info" and len(turn.images) == 2
    assert same_pixels(turn.images[0], a.images[0]) and same_pixels(turn.images[1], b.images[0])
    assert turn.reply.startswith("Version 1 → version 2: ")
    assert "warmer light" in turn.reply and "closer (close-up)" in turn.reply
    assert "kelvin" not in turn.reply and "framing" not in turn.reply and "K" not in turn.reply.split()
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
    assert declined.kind == "info" and "nothing changed" in declined.reply and len(session.versions) == 2

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
        return message.kind, message.versions, message.words

    assert read("compare the last two") == ("compare", (None, None), "")
    assert read("compare version 1 and version 3") == ("compare", (1, 3), "")
    assert read("what changed?") == ("compare", (None, None), "")
    assert read("on a beach")[0] == "request"
    assert read("start over with the same product") == ("start_over", (None, None), "")
    assert read("let's start over: marble counter") == ("start_over", (None, None), "marble counter")
    assert read("start over but keep it square")[0] == "start_over"
    assert read_message("start over but keep it square").keep == ("size",)
    assert read("warmer")[0] == "request"


# ------------------------------------------------------- every message is read once, and classified


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hello there", "question"),
        ("thanks, love it", "question"),
        ("what size is this?", "question"),
        ("do you need my product photo first", "question"),
        ("can you put it on a beach", "feedback"),
        ("what about a beach?", "feedback"),
        ("no text and no people", "feedback"),
        ("the outline around the strap looks jagged", "cutout"),
        ("you cut off the bottom of the bottle", "cutout"),
        ("a piece of my desk is stuck to the side", "cutout"),
        ("have a model hold it", "cannot"),
        ("write SUMMER SALE across the top", "cannot"),
        ("fix the shadow", "cannot"),
        ("call this one summer pool", "name"),
        ("save it", "save"),
        ("start fresh: a cafe", "start_over"),
        ("let's compare them", "compare"),
        ("ugh, undo that", "undo"),
        ("the warm one was better", "go_back"),
        ("two versions back please", "go_back"),
        ("could you explain the lighting?", "question"),
        ("there's a white halo around the bottle", "cutout"),
        ("can a hand hold the bottle", "cannot"),
        ("hand cream on marble", "feedback"),
    ],
)
def test_each_message_is_read_into_one_kind(text, kind):
    assert read_message(text, has_picture=True).kind == kind


def test_what_a_message_asks_is_read_with_it():
    assert read_message("hmm, not sure... maybe warmer?", has_picture=True).words == "maybe warmer"
    ref = read_message("nah the second one was nicer, but closer", has_picture=True)
    assert (ref.kind, ref.reference.number, ref.words) == ("go_back", 2, "closer")
    assert read_message("go back to the cozy one").reference.words == "cozy"
    assert read_message("do it like the one I made yesterday").reference.days == (1, 1)
    assert read_message("use my beach look again").reference.saved
    fresh = read_message("start over but keep it square: a kitchen")
    assert (fresh.words, fresh.keep) == ("kitchen", ("size",))
    assert read_message("we need a pic of the product for what?").kind == "request"  # not a question form
    assert read_message("put my brand name across the top", has_picture=True).cannot == ("text",)


def test_a_greeting_or_question_is_answered_in_words_and_renders_nothing(planner, renderer):
    session = Session(Studio(planner=planner, engine=renderer))
    hello = session.send("hey, what can you do?")
    assert hello.kind == "answer" and not hello.images and not session.versions
    assert "photo" in hello.reply and "preview renderer" in hello.reply
    session.send("a candle on a wooden table for etsy")
    size = session.send("how big is that picture?")
    assert size.kind == "answer" and "2000×1500" in size.reply and "landscape" in size.reply
    assert session.send("thanks, that's lovely").kind == "answer" and len(session.versions) == 1


def test_a_cut_out_complaint_opens_the_cut_out_step_and_its_words_stay_out(session):
    first = session.send("my mug on a beige background")
    turn = session.send("the edges around the handle look all jaggy, and my old curtain is stuck to it")
    assert turn.kind == "cutout" and not turn.images and len(session.versions) == 1
    assert CUTOUT_HOW in turn.reply  # what to click, in the cut-out step's own words
    assert session.recipe.id == first.recipe.id
    assert "curtain" not in session.recipe.prompt and session.recipe.scene.preset == "studio_beige"


def test_what_no_engine_can_do_is_said_plainly_and_the_rest_is_done(session):
    session.send("my scarf laid on linen")
    person = session.send("could you show it on a mannequin?")
    assert person.kind == "refuse" and len(session.versions) == 1 and "scarf" in person.reply
    # A dismissal before it ("nvm.") asks nothing of its own: the whole message is still refused.
    person = session.send("nvm. could you put it on a model's neck, like a person wearing it")
    assert person.kind == "refuse" and len(session.versions) == 1
    # Words on the picture are the text layer's (either engine), never the image model's prompt.
    text = session.send("sale banner with the headline SUMMER SALE")
    assert text.kind == "result" and text.recipe.text.layout == "banner" and len(session.versions) == 2
    assert "SUMMER SALE" in text.recipe.text.title + text.recipe.text.subtitle
    assert "summer sale" not in text.recipe.prompt.lower()
    both = session.send("the shadow looks fake, and it's too dark")
    assert both.kind == "result" and both.recipe.lighting.exposure > 0
    assert both.reply.startswith("I can't move or redraw the shadow")
    assert "fake" not in both.recipe.prompt and "shadow looks" not in both.recipe.prompt


def test_a_style_the_preview_renderer_cannot_draw_is_refused(session):
    first = session.send("on a wooden table")
    turn = session.send("can you make it look like an old film photo?")
    assert turn.kind == "refuse" and "preview renderer" in turn.reply and "style" in turn.reply
    assert session.recipe.id == first.recipe.id and len(session.versions) == 1


def test_recolouring_the_photographed_product_is_refused_with_an_offer(session):
    session.send("put my bag on a grey background")
    turn = session.send("can I get the bag in red?")
    assert turn.kind == "clarify" and "can't change the colour of your bag" in turn.reply
    assert turn.reply.endswith("Shall I make the background red to match?")
    assert session.send("yes please").recipe.scene.preset == "studio_red"


def test_a_noun_in_the_background_is_never_the_product(session):
    session.send("my floor lamp in a bright living room")
    turn = session.send("there's a stool in the corner that's distracting, get rid of it")
    recipe = turn.recipe
    assert recipe.subject.description == "floor lamp" and recipe.scene.preset == "living_room"
    assert "stool" not in recipe.prompt and "stool" in recipe.negative_prompt


def test_go_back_by_position_attribute_and_time_inside_a_sentence(session):
    session.send("on a beach at sunset")
    session.send("in a snowy landscape")
    session.send("on a rooftop, cooler please")
    first = session.send("honestly the first one was nicer, let's use that")
    assert (first.kind, first.version, len(session.versions)) == ("result", 1, 3)
    session.send("version 3")
    ago = session.send("show me the one from two versions back")
    assert ago.version == 1
    snowy = session.send("the snow one please")
    assert snowy.version == 2 and session.recipe.scene.preset == "snow"
    coolest = session.send("go back to the coolest one")
    assert coolest.version == 3  # the one made cooler
    warmest = session.send("the warmest one")  # beach and snow share the same sunset light
    assert warmest.kind == "clarify" and [c.version for c in warmest.choices] == [1, 2]


def test_an_ambiguous_reference_asks_with_the_candidates_as_choices(session):
    session.send("on a beach at sunset")
    session.send("in a forest")
    session.send("back on the beach but at noon")
    question = session.send("take me back to the beach one")
    assert question.kind == "clarify" and question.reply.endswith("?") and len(session.versions) == 3
    assert [c.version for c in question.choices] == [1, 3] and len(question.images) == 2
    assert "sunset" in question.reply and "daylight" in question.reply
    chosen = session.send("the sunset one")
    assert (chosen.kind, chosen.version) == ("result", 1)


def test_saved_looks_by_name_and_time_go_onto_this_product(planner, renderer, coffee, coffee_mask, tmp_path):
    with RecipeMemory(tmp_path / "memory") as memory:
        candle = planner.plan("my candle on white marble with soft window light", image_size=coffee.size)
        memory.save("ann", candle, "saved", "marble morning")
        session = Session(Studio(planner=planner, engine=renderer, memory=memory), user="ann")
        session.set_product(coffee, coffee_mask)
        turn = session.send("do my marble morning look for my espresso cup")
        recipe = turn.recipe
        assert turn.kind == "result" and recipe.scene.preset == "marble"
        assert recipe.lighting.preset == candle.lighting.preset and recipe.time_of_day == candle.time_of_day
        assert recipe.subject.description == "espresso cup" and "candle" not in recipe.prompt
        assert "morning" not in recipe.scene.description and "Using your saved look" not in turn.reply[:0]
        again = Session(Studio(planner=planner, engine=renderer, memory=memory), user="ann")
        again.set_product(coffee, coffee_mask)
        today = again.send("same as last time")
        assert today.kind == "result" and today.recipe.scene.preset == "marble"
        assert today.recipe.subject.description == "product"  # the candle's name stays with the candle
        assert again.send("like the one from last month").kind == "info"  # nothing saved back then


def test_start_over_resets_unless_something_is_kept(session):
    session.send("on linen, square for shopify, closer")
    session.send("start over")
    fresh = session.send("a plain grey background")
    assert fresh.recipe.parent_id is None and fresh.recipe.output.preset is None
    assert fresh.recipe.camera.framing == "medium"
    session.send("square format please")
    kept = session.send("start over but keep it square")
    assert kept.kind == "info" and "size" in kept.reply
    square = session.send("on a wooden table")
    assert square.recipe.parent_id is None and square.recipe.width == square.recipe.height


def test_saved_looks_get_a_readable_name_that_chat_can_change(
    planner, renderer, coffee, coffee_mask, tmp_path
):
    with RecipeMemory(tmp_path / "memory") as memory:
        session = Session(Studio(planner=planner, engine=renderer, memory=memory), user="bo")
        session.set_product(coffee, coffee_mask)
        session.send("on a beach at sunset, warmer")
        saved = session.send("save this")
        name = memory.find_by_recipe("bo", session.recipe.id).name
        assert saved.reply == f"Saved as '{name}'." and name == "beach sunset golden warm"
        renamed = session.send("rename it to summer shore")
        assert renamed.kind == "info"
        assert memory.find_by_name("bo", "summer shore").recipe.id == session.recipe.id
        answer = session.send("what have I saved?")
        assert answer.kind == "answer" and "summer shore" in answer.reply and "sandy beach" in answer.reply


def test_replies_speak_plain_words(session):
    session.send("luxury editorial look on marble for etsy")
    turn = session.send("warmer, closer")
    for internal in ("K,", "kelvin", "LoRA", "seed", "luxury_editorial", "scene.", "0.6", "window_light"):
        assert internal not in turn.reply
    assert "luxury-editorial style at medium strength" in turn.reply and "warmer light" in turn.reply


# ------------------------------------------------------------- the same commands with the LLM


def test_with_the_llm_the_session_commands_never_reach_the_model(planner, renderer, coffee, coffee_mask):
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
    studio = Studio(planner=LLMPlanner(model, fallback=planner), engine=renderer)
    session = Session(studio)
    session.set_product(coffee, coffee_mask)

    first = session.send("put it on a beach at sunset")
    assert first.reply.startswith("Here it is on the beach.\nVersion 1: a sandy beach by the sea at sunset")
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


def test_with_the_llm_every_message_is_classified_before_the_model(planner, renderer, coffee, coffee_mask):
    model = ScriptedChatModel(
        script=[
            call("plan_recipe", {"scene_preset": "studio_beige", "subject": "mug"}),
            call("plan_recipe", {"scene_preset": "beach"}),  # a greeting: a picture is never made of it
            call("edit_recipe", {"kelvin": 4700}),
            call("edit_recipe", {"loras": [{"name": "film_grain"}]}),  # a style only: the preview can't
        ]
    )
    session = Session(Studio(planner=LLMPlanner(model, fallback=planner), engine=renderer))
    session.set_product(coffee, coffee_mask)
    first = session.send("my mug on a beige background")
    asked = len(model.calls)
    assert session.send("the edges around the handle look jaggy").kind == "cutout"
    assert session.send("could you show it in a woman's hand?").kind == "refuse"
    assert session.send("make the mug red").kind == "clarify"
    assert session.send("compare them").kind == "info" and len(model.calls) == asked  # none reached it
    hello = session.send("hi, what can you do?")
    assert hello.kind == "answer" and len(session.versions) == 1 and "photo" in hello.reply
    warmer = session.send("hmm, not sure... maybe a bit warmer?")
    assert model.calls[-1]["messages"][1].content.endswith("Request: maybe a bit warmer")
    assert warmer.recipe.parent_id == first.recipe.id and warmer.recipe.lighting.kelvin == 4700
    styled = session.send("give it a film look")
    assert styled.kind == "refuse" and len(session.versions) == 2


def test_with_the_llm_a_worded_answer_makes_no_version(planner, renderer):
    model = ScriptedChatModel(
        script=[call("list_scenes", {}), AIMessage("I can do beaches, studios and more.")]
    )
    session = Session(Studio(planner=LLMPlanner(model, fallback=planner), engine=renderer))
    turn = session.send("what can you do?")
    assert (turn.kind, turn.reply, turn.images) == ("answer", "I can do beaches, studios and more.", [])
    assert not session.versions


def test_text_to_image_without_a_product(planner, renderer):
    session = Session(Studio(planner=planner, engine=renderer))
    turn = session.send("a cozy cafe table, warm light")
    assert turn.kind == "result" and turn.recipe.mode == "text_to_image" and turn.images
    assert session.send("make it green").kind == "result"  # nothing to protect: no question


def test_with_the_llm_save_and_recall_use_the_real_memory(planner, renderer, coffee, coffee_mask, tmp_path):
    model = ScriptedChatModel(
        script=[
            call("plan_recipe", {"scene_preset": "pool", "scene_description": "by the pool"}),
            call("save_recipe", {"name": "pool day", "tags": ["summer"], "rating": "liked"}),
            call("recall_recipes", {"query": "summer pool look"}),
            AIMessage("You saved 'pool day'."),
        ]
    )
    with RecipeMemory(tmp_path / "memory") as memory:
        studio = Studio(planner=LLMPlanner(model, fallback=planner), engine=renderer, memory=memory)
        session = Session(studio, user="alice")
        session.set_product(coffee, coffee_mask)
        first = session.send("put it by the pool")
        saved = session.send("this is the one for summer, please remember it for later")
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
        embedded_session = Session(Studio(planner=planner, engine=renderer, memory=memory), user="alice")
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


def test_inpaint_never_uses_a_guessed_product_mask(planner, renderer, coffee):
    model = ScriptedChatModel(script=[call("plan_recipe", {"scene_preset": "marble", "mode": "inpaint"})])
    session = Session(Studio(planner=LLMPlanner(model, fallback=planner), engine=renderer))
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


def test_open_product_reads_files_and_a_new_photo_starts_a_new_chain(planner, renderer, photos, coffee_mask):
    session = Session(Studio(planner=planner, engine=renderer))
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


def test_open_product_refuses_an_unusable_file_and_keeps_the_product(planner, renderer, photos, tmp_path):
    settings = Settings(data_dir=tmp_path / "data", max_pixels=300_000)  # the rocket's 0.27 MP pass
    session = Session(Studio(settings, planner=planner, engine=renderer))
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
    desk = ToolTurn(session.studio.catalog, "warmer", parent=parent, image_size=session.image.size)
    args = {"kelvin": 2600, "framing": "wide", "marketplace": "amazon_main"}
    observation = run_call(desk, {"name": "edit_recipe", "id": "1", "args": args}, tools_for(desk))
    assert observation.ok, observation.text
    by_inspector = session.edit(kelvin=2600, framing="wide", marketplace="amazon_main").recipe
    fields = IDENTITY | {"prompt"}  # the prompt carries the request's words
    assert by_inspector.model_dump(exclude=fields) == desk.recipe.model_dump(exclude=fields)
    assert by_inspector.output.preset == "amazon_main" and by_inspector.lighting.kelvin == 2600


def test_ratings_and_save_this_write_the_same_memory_entry(planner, renderer, coffee, coffee_mask, memory):
    session = Session(Studio(planner=planner, engine=renderer, memory=memory), user="alice")
    session.set_product(coffee, coffee_mask)
    nothing = session.rate("liked")
    assert (nothing.reply, nothing.version) == ("Make a picture first, then rate it.", None)
    first = session.send("put it on a beach at sunset")

    liked = session.rate("liked")
    assert liked.kind == "info" and liked.version == 1
    assert liked.reply.startswith("👍 Saved version 1 to your looks (a sandy beach by the sea at sunset")
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

    without = Session(Studio(planner=planner, engine=renderer), user="alice")
    without.set_product(coffee, coffee_mask)
    without.send("white background")
    refused = without.rate("liked")
    assert (refused.reply, refused.version) == ("Recipe memory is not available in this studio.", None)
    assert without.looks() == [] and without.forget(entry.id) is None


def test_apply_look_renders_a_saved_look_on_another_product(planner, renderer, photos, memory):
    studio = Studio(planner=planner, engine=renderer, memory=memory)
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
    # the rocket's first picture starts its own chain (undo never brings back the cup); the note and
    # applied.look say where the look came from
    assert r.parent_id is None and r.notes[-1] == "your saved recipe, applied unchanged"
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
    assert said.startswith("Understanding: the built-in offline planner")
    assert "preview renderer: scenes are drawn, not photographed" in said and "SCENESHOP_" not in said
    saved = [line.removeprefix("saved ") for line in said.splitlines() if line.startswith("saved ")]
    names = ["v1-1.png", "v2-1.png", "v1-1.png", "compare-1-1.png", "compare-1-2.png"]
    assert [os.path.basename(p) for p in saved] == names
    assert sorted(p.name for p in out.iterdir()) == sorted(set(names))
    assert "Undone. Back to version 1" in said and GREEN_QUESTION in said and "not read" not in said
