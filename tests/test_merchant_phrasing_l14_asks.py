"""Rules for merchant phrasing two unseen sets (l14, l15, 2026-12-04) failed, round twelve, the asks:
questions about the service, the last change, the settings or the product's own colour (answered in
words, never rendered); a recolour said with a shade ("neon green") or beside a later clause; a person
the product cannot be put on, or put beside it, refused without planning the person (no model mode
left behind); words to write on the picture (the text layer draws them); "ok no worries then"; a
cut-out "cut out badly". Each class is tested with sentences of its own besides the set's, and with
near-misses that must keep their old reading."""

from __future__ import annotations

import pytest

from sceneshop.agent.commands import find_product_colour, read_message
from sceneshop.agent.planner.lexicon import normalise
from sceneshop.agent.planner.text import read_text

PHOTO = (600, 400)


# ------------------------------------------------------------------ questions answered in words

@pytest.mark.parametrize(("said", "topic"), [
    ("what settings did u use? i wanna reuse them for my other soaps", "settings"),
    ("which settings did you use? i want to use the same for my candles", "settings"),
    ("Hello again, may I ask, will the colour of the lipstick stay exactly as it is in my photo? It is very "
     "important for my brand.", "product_kept"),
    ("quick question, will my mug stay the same as in my photo?", "product_kept"),
    ("hi what can u do? i sell sunglasses on amazon", "capabilities"),
    ("hello what can you do? we make candles", "capabilities"),
    ("what did u change? explain simple pls im not techy", "changed"),
    ("Could you please tell me what you changed from my photo? I want to be sure the power bank itself was "
     "not altered, my nephew who helps with the shop is very particular.", "changed"),
    ("can you tell me what you changed? my boss wants to know", "changed"),
])
def test_a_question_with_its_reasons_beside_it_is_answered(said, topic):
    message = read_message(said, has_picture=True)
    assert (message.kind, message.topic) == ("question", topic)


@pytest.mark.parametrize("said", [
    "would it be possible to add a candle?",  # asked politely, still a change
    "what did you change? make it warmer too, it looks cold",
    "hi, can you put it on a beach",
    "i want to reuse the beach look for this one",
])
def test_a_request_beside_or_inside_a_question_is_still_a_request(said):
    assert read_message(said, has_picture=True).kind != "question"


def test_would_it_be_possible_to_explain_is_a_question():
    assert read_message("would it be possible to explain the lighting?", has_picture=True).kind == "question"


def test_the_settings_and_the_products_colour_are_answered_in_words(session):
    first = session.send("my coffee bag on a marble counter")
    turn = session.send("what settings did u use? i wanna reuse them for my other coffees")
    assert turn.kind == "answer" and session.current.number == first.version
    assert "save this as" in turn.reply
    turn = session.send("will the colour of the bag stay exactly as it is in my photo?")
    assert turn.kind == "answer" and "exactly as in your photo" in turn.reply


@pytest.mark.parametrize(("said", "product"), [
    ("hi what can u do? i sell sunglasses on amazon", "sunglasses"),
    ("how does this work? i sell scented candles on etsy", "candle"),
])
def test_the_product_named_beside_a_question_names_the_first_picture(session, said, product):
    assert session.send(said).kind == "answer"
    assert product in session.send("white background pls").recipe.subject.description


def test_what_changed_from_my_photo_says_the_product_is_kept(session):
    session.send("my coffee bag on a marble counter")
    turn = session.send("Could you please tell me what you changed from my photo?")
    assert turn.kind == "answer" and "kept exactly as in your photo" in turn.reply


def test_what_can_you_do_says_words_can_go_over_the_picture(session):
    turn = session.send("hi what can u do?")
    assert turn.kind == "answer" and "title" in turn.reply and "add text" not in turn.reply


# ------------------------------------------------------------------ a recolour said with a shade

@pytest.mark.parametrize(("said", "colour"), [
    ("can u make the shoes neon green instead of blue?? neon sells way better lol", "green"),
    ("make the runners electric blue", "blue"),
    ("could you make the bag bright red", "red"),
    ("make it green?? neon looks cool", "green"),
])
def test_a_shade_before_the_colour_is_still_a_recolour(vocab, said, colour):
    found = find_product_colour(normalise(said), vocab)
    assert found is not None and found[0] == colour


@pytest.mark.parametrize("said", ["make the lights neon pink", "make the background neon green",
                                  "add neon green lights", "make the shoes neon"])
def test_neon_of_the_scene_is_no_recolour(vocab, said):
    assert find_product_colour(normalise(said), vocab) is None


def test_a_recolour_question_says_colour(session):
    session.send("my coffee bag on a marble counter")
    turn = session.send("can you make the bag sage green instead of brown?")
    assert turn.kind == "clarify" and "colour" in turn.reply


# ------------------------------------------------------------------ a person, refused and not planned

@pytest.mark.parametrize("said", [
    "could you put a girl next to it watering it, like a lifestyle shot",
    "add a man reading a newspaper beside it",
    "can you put a woman behind it",
    "have a kid holding it",
])
def test_one_person_put_into_the_scene_cannot_be_drawn_by_the_preview(said):
    message = read_message(said, has_picture=True)
    assert message.kind == "cannot" and message.cannot[0] in ("person", "person_in_scene")


@pytest.mark.parametrize("said", ["add a kids toy next to it", "a desk with a model of a ship",
                                  "put it in a girls bedroom", "add some people in the background"])
def test_a_thing_named_after_a_person_or_a_crowd_is_still_drawn(said):
    assert read_message(said, has_picture=True).kind == "feedback"


@pytest.mark.parametrize("said", [
    "ooh nice!! can you put them on a model ear?? my customers always ask how big they are",
    "Thank you. Lastly, could the bag be shown being held in a hand? Customers like to see the size.",
    "could you put a girl next to it holding a cup, like a lifestyle shot",
])
def test_a_refused_person_draws_nothing_and_leaves_no_model_mode(session, said):
    first = session.send("my coffee bag on a marble counter")
    turn = session.send(said)
    assert turn.kind == "refuse" and session.current.number == first.version
    after = session.send("a bit warmer please")
    assert after.recipe.mode == first.recipe.mode and "person" not in after.recipe.prompt


def test_no_people_takes_a_person_out_of_the_scene_words(planner):
    room = planner.plan("my plant in a bright living room", image_size=PHOTO)
    girl = planner.plan("with a girl next to it watering it", room, image_size=PHOTO)
    assert "girl" in girl.prompt  # an image model can paint one; the planner keeps the words
    gone = planner.plan("ok no people then", girl, image_size=PHOTO)
    assert "girl" not in gone.prompt


# ------------------------------------------------------------------ words on the picture

@pytest.mark.parametrize(("said", "title", "place"), [
    ("ok no people then. add text at the top saying SPRING SALE 20% OFF", "SPRING SALE 20% OFF", "top"),
    ("add text at the bottom reading NEW IN", "NEW IN", "bottom"),
    ("That is lovely. Would it be possible to write 'SALE 20% OFF' across the top in a nice font?",
     "SALE 20% OFF", "top"),
    ("write 'Summer Drop' at the bottom in a bold serif font", "Summer Drop", "bottom"),
    ("print FREE SHIPPING across the top", "FREE SHIPPING", "top"),
])
def test_words_to_write_are_the_title(said, title, place):
    rest, edit = read_text(said)
    assert edit.fields.get("title") == title and edit.place == place
    assert "saying" not in rest and "font" not in rest and title not in rest


@pytest.mark.parametrize("said", ["it's the shop's best mug, on a table",
                                  "a sign saying OPEN on a cafe table",
                                  "write a nice description for me", "remove the text"])
def test_no_words_to_write_sets_no_title(said):
    assert "title" not in read_text(said)[1].fields


def test_the_written_words_are_drawn_not_prompted(session):
    first = session.send("my coffee bag on a marble counter")
    turn = session.send("add text at the top saying SPRING SALE 20% OFF")
    assert turn.kind == "result" and turn.recipe.parent_id == first.recipe.id
    assert turn.recipe.text.title == "SPRING SALE 20% OFF" and "SALE" not in turn.recipe.prompt


# ------------------------------------------------------------------ "no worries", a cut-out done badly

@pytest.mark.parametrize("said", ["ok no worries then. just make it a bit warmer",
                                  "I understand, not to worry. Could you just make it a bit warmer",
                                  "no problem, make it a bit warmer"])
def test_a_worry_waved_away_is_no_negation(planner, said):
    words = read_message(said, has_picture=True).words
    assert "worr" not in words and "problem" not in words
    bag = planner.plan("coffee bag on a marble counter", image_size=PHOTO)
    warmer = planner.plan(said, bag, image_size=PHOTO)
    assert "worr" not in warmer.negative_prompt and "problem" not in warmer.negative_prompt


def test_no_thing_is_still_a_negation(planner):
    bag = planner.plan("coffee bag on a marble counter with flowers", image_size=PHOTO)
    assert "flowers" in planner.plan("no flowers then", bag, image_size=PHOTO).negative_prompt


@pytest.mark.parametrize("said", [
    "theres a white line around the rim of the vase, looks jagged, like it was cut out badly",
    "the handle looks like it was cut out poorly",
    "it was cut out sloppily, theres grey around the lid",
])
def test_cut_out_badly_is_a_cutout_complaint(said):
    assert read_message(said, has_picture=True).kind == "cutout"


@pytest.mark.parametrize("said", ["cut out the clutter", "make the light less harsh, its done badly"])
def test_badly_alone_is_no_cutout_complaint(said):
    assert read_message(said, has_picture=True).kind != "cutout"


# --- a wh-question with only words beside it (l16, after round twelve) ---------------------------


@pytest.mark.parametrize("said", [
    "what settings did you use for this? want to do the same for my other bags next week",
    "hello, im not very techy. what can i do here?",
    "what kinda styles can you do? like filters or looks",
    "how long does one take? got a lot of bags to do",
])
def test_a_wh_question_with_words_beside_it_is_answered(session, said):
    first = session.send("my coffee bag on a marble counter")
    turn = session.send(said)
    assert turn.kind == "answer" and session.current.number == first.version


@pytest.mark.parametrize("said", ["what about a rustic barn door?", "how about a concrete floor?",
                                  "can you put it on a barn door?",
                                  "what settings did you use? make it warmer"])
def test_a_suggestion_or_a_change_beside_a_question_is_still_drawn(session, said):
    session.send("my coffee bag on a marble counter")
    assert session.send(said).kind == "result"
