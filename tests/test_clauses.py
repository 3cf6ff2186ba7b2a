"""Rules that read a message's clause structure rather than its phrasings (issue 11, second round):
removing verbs and their objects, statements about a thing in the picture, hedges, an undo said among
judgements, ordinals said alone, leftover-photo complaints, product nouns no list knows, a new place
replacing the old one, text-layer changes in replies, and the product name kept over start over and
a restored session. The examples use words the planner's lists do not hold, so that a rule, not a
phrase, is what passes them."""

from __future__ import annotations

import pytest

from sceneshop.agent.commands import read_message
from sceneshop.agent.looks import TextLayer
from sceneshop.agent.planner.clauses import restructure
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.session import Session
from sceneshop.agent.store import WorkStore
from sceneshop.agent.studio import Studio
from sceneshop.agent.wording import changes, text_changes
from sceneshop.tools.preview.renderer import EmbeddedRenderer

PHOTO = (600, 400)


# --------------------------------------------------------------------------- clause structure


@pytest.mark.parametrize(
    ("words", "rewritten"),
    [
        # a removing verb and its object
        ("bin the napkin", "remove napkin"),
        ("nix the wicker basket next to the jar", "remove wicker basket"),
        # a pronoun object is the thing the message just talked about
        ("the vase looks tacky, chuck it", "remove vase"),
        ("there's a teapot behind it that looks silly, axe it", "remove teapot"),
        # a statement about a thing in the picture is a complaint: the thing goes
        ("the candle behind it hogs attention", "remove candle"),
        # ...unless it wishes the thing another colour or material...
        ("the rug should be navy", "navy rug"),
        ("the tray ought to be brass", "brass tray"),
        # ...or praises it
        ("the plant looks gorgeous, warmer", "warmer"),
        # a judgement of the picture's light is the change it names (round seven: harsh light)
        ("the light is too harsh", "less harsh"),
        # what stays is not something to draw
        ("another take, same framing", "another take"),
        ("one more, leave the rest as it is", "one more"),
        # hedges, conditions and other people's opinions are not picture words
        ("umm I suppose a cosy attic with beams, if possible", "a cosy attic with beams"),
        ("a loft with exposed brick, my clients adore brick, they hate clutter",
         "a loft with exposed brick, my clients adore brick"),
    ],
)
def test_clauses_are_rewritten_by_their_structure(vocab, words, rewritten):
    assert restructure(words, vocab, editing=True) == rewritten


@pytest.mark.parametrize(
    "words",
    [
        "the sky is too pink",  # a quality of a thing in the picture: feedback rules read it
        "the sand looks too orange",  # a colour to change, not a thing to take out
        "on a beach at sunset with a red umbrella",  # a description: no rule applies
        "warmer and closer",
        "the same mug on a shelf",  # a noun phrase without a verb is a description, not a statement
    ],
)
def test_clauses_no_rule_reads_are_left_as_written(vocab, words):
    assert restructure(words, vocab, editing=True) == words


@pytest.mark.parametrize(
    ("words", "rewritten"),
    [
        # a verb that dismisses, with a word before it that changes nothing
        ("ok forget the wicker basket", "remove wicker basket"),
        ("nah scratch the parasol", "remove parasol"),
        # a removal joined to another request is two requests; a condition after the thing is no part of it
        ("warmer and bin the coasters if you can", "warmer, remove coasters"),
        ("nix the tray and put it on slate", "remove tray, put it on slate"),
        # a taking-out verb split around a pronoun: the thing just named
        ("the spoon looks daft, take it out", "remove spoon"),
        ("there's a spoon behind it, take it out", "there's a spoon behind it, remove it"),
        # a doubt about a thing is a complaint about it; "them" after it is that thing
        ("I'm on the fence about the ribbon", "remove ribbon"),
        ("not convinced by the driftwood, maybe pull them out?", "remove driftwood"),
        # a doubt about the picture's own qualities names nothing to take out
        ("not sure about the lighting", ""),
        # a statement of the picture's temperature is the edit it asks for
        ("the light is a tad icy", "warmer"),
        ("it came out kinda frosty", "warmer"),
        ("everything's gone a bit brassy", "cooler"),
        ("too amber", "cooler"),
    ],
)
def test_dismissals_doubts_and_temperatures_by_their_structure(vocab, words, rewritten):
    assert restructure(words, vocab, editing=True) == rewritten


@pytest.mark.parametrize(
    "words",
    [
        "it looks cool",  # praise: a neutral temperature word complains only with a word of excess
        "it feels warm and inviting",
        "a frosty window with icicles",  # a description, not a statement about the picture
        "iced coffee on a cold steel counter",
    ],
)
def test_temperature_words_that_describe_or_praise_are_left_as_written(vocab, words):
    assert restructure(words, vocab, editing=True) == words


@pytest.mark.parametrize(
    ("words", "rewritten"),
    [
        # a judgement of the picture is the change its words name...
        ("kinda drab tbh", "more contrast"),
        ("it's gotten a bit gloomy", "brighter"),
        ("way too cluttered now", "less busy"),
        ("seems rather sparse", "busier"),
        # ...or no change at all
        ("the whole thing looks a bit naff", ""),
        # a pronoun after a complaint is the thing complained of
        ("the vase is overkill, trade it for a jug", "remove vase, trade vase for a jug"),
        ("the stools are a bit much, replace them with a bench",
         "remove stools, replace stools with a bench"),
        # a doubting opinion about a thing takes it out; one denying a complaint keeps it
        ("I don't reckon the stool works, lose it", "remove stool"),
        ("not sure the rug belongs", "remove rug"),
        ("I don't think we need the coasters", "remove coasters"),
        ("I don't think the rug is ugly", ""),
        # less of a thing takes it out, and "it's distracting" after it is about it
        ("too many pebbles, it's distracting", "remove pebbles"),
        ("can we have fewer lanterns", "remove lanterns"),
        ("tone the ribbons down", "remove ribbons"),
        ("fewer things around it", "fewer things around it"),  # the planner's "less busy"
        ("thin out the pebbles", "remove pebbles"),
        ("cut down on the clutter", "cut down on the clutter"),  # the planner's "less busy"
        ("swap the jug for a ewer, it's too much", "swap the jug for a ewer, remove jug"),
        # a thing's doing, said with a negation, of a word that is also the picture's light
        ("honestly the lamp doesn't do it for me, drop it", "remove lamp"),
        ("colours look washed out", "more contrast"),  # the picture's own noun, no article
        # what a change should not be draws nothing
        ("add a fern, nothing over the top", "add a fern"),
        ("pop a lantern in, but keep it understated", "pop a lantern in"),
        ("some fairy lights, don't go overboard", "some fairy lights"),
        # a thing offered with a hedge or as a judgement stays offered
        ("meh, perhaps a boathouse?", "perhaps a boathouse"),
        ("an old barn could be nice", "maybe an old barn"),
        # a negative wish is a removal
        ("I'd prefer not to have the tray there", "remove tray"),
    ],
)
def test_judgements_opinions_and_less_of_a_thing_by_their_structure(vocab, words, rewritten):
    assert restructure(words, vocab, editing=True) == rewritten


@pytest.mark.parametrize(
    "words",
    [
        "a bit more light please",  # more of something is asked for, not judged
        "something dramatic",  # a style asked for, not a judgement
        "less harsh",  # a quality, not a thing to have less of
    ],
)
def test_requests_with_judgement_words_are_not_judgements(vocab, words):
    out = restructure(words, vocab, editing=True)
    assert "remove" not in out and out not in ("", "darker", "more contrast")


def test_a_pronoun_taken_out_is_the_thing_just_seen(planner):
    first = planner.plan("on a pantry shelf with a spoon and a sugar bowl", image_size=PHOTO)
    edited = planner.plan("there's a spoon behind it, take it out", first, image_size=PHOTO)
    assert "spoon" not in edited.prompt and "sugar bowl" in edited.prompt


def test_a_statement_is_only_a_complaint_when_there_is_a_picture(vocab):
    assert restructure("the candle behind it hogs attention", vocab, editing=False) != "remove candle"


def test_a_removed_thing_the_preset_describes_leaves_the_prompt(planner):
    desk = planner.plan("headphones on an office desk", image_size=PHOTO)
    assert "laptop" in desk.prompt
    edited = planner.plan("the laptop looks tacky, chuck it", desk, image_size=PHOTO)
    assert "laptop" not in edited.prompt and "laptop" in edited.negative_prompt
    assert edited.scene.preset == desk.scene.preset and edited.subject == desk.subject


def test_a_complaint_about_the_product_never_removes_it(planner):
    mug = planner.plan("my mug on a wooden table", image_size=PHOTO)
    edited = planner.plan("the mug looks tiny, lose it", mug, image_size=PHOTO)
    assert "mug" in edited.prompt and "mug" not in edited.negative_prompt


def test_a_new_place_replaces_the_old_place_words(planner):
    first = planner.plan("my lamp in a wine cellar", image_size=PHOTO)
    assert "wine cellar" in first.prompt
    second = planner.plan("put it in a library instead", first, image_size=PHOTO)
    assert "library" in second.prompt and "cellar" not in second.prompt
    # a thing added beside it is not a place: the place stays
    third = planner.plan("add a globe next to it", second, image_size=PHOTO)
    assert "library" in third.prompt and "globe" in third.prompt


@pytest.mark.parametrize(
    ("request_", "product"),
    [
        ("candle snuffer on marble", "candle snuffer"),  # an unknown head noun after a product word
        ("jar of pesto on a kitchen counter", "jar of pesto"),  # a container's contents
        ("ukulele on a beach", "ukulele"),  # an unknown noun that opens the request
        ("wooden table by a window", "product"),  # a scene said first is not a product
        ("on a beach at sunset", "product"),
    ],
)
def test_the_product_is_the_noun_the_request_is_about(planner, request_, product):
    assert planner.plan(request_, image_size=PHOTO).subject.description == product


def test_a_hyphenated_style_word_is_the_catalog_word(planner):
    base = planner.plan("my scarf on linen", image_size=PHOTO)
    edited = planner.plan("make it water-colour", base, image_size=PHOTO)
    assert [c.name for c in edited.loras] == ["watercolor"]


def test_what_a_style_is_likened_to_is_not_drawn(planner):
    base = planner.plan("my watch on concrete", image_size=PHOTO)
    edited = planner.plan("cinematic like a heist movie", base, image_size=PHOTO)
    assert [c.name for c in edited.loras] == ["cinematic"]
    assert "heist" not in edited.prompt


# ------------------------------------------------------------------------------ message kinds


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("nope, that's uglier - revert it please", "undo"),  # an undo among judgements
        ("meh I don't like it. roll back", "undo"),
        ("undo that and add a candle", "undo"),  # undone, then the candle (Message.words)
        ("bookmark this one", "save"),
        ("trash everything: a garden", "start_over"),
        ("part of my sofa still shows round the lid", "cutout"),  # the old photo still seen
        ("my desk lamp from the old photo is poking through", "cutout"),
        ("light coming through the window", "feedback"),  # a description, not a leftover
        ("remove all the flowers", "feedback"),  # one thing out, not everything
        ("you missed a sliver of my worktop by the spout", "cutout"),  # a piece of "my" room left
        ("it kept part of our shelf round the jar", "cutout"),
        ("add a bit of my brand colour to the wall", "feedback"),  # "my" thing asked for, not left
        ("bang on, that's just what I pictured", "question"),  # praise
        ("what if the jug came in teal?", "feedback"),  # a product recolour (Message.colour)
    ],
)
def test_message_kinds_by_clause_structure(text, kind):
    assert read_message(text, has_picture=True).kind == kind


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("bring back the third again", 3),
        ("the original was nicer", 1),
        ("the very first, please", 1),
    ],
)
def test_an_ordinal_said_alone_is_a_reference(text, number):
    message = read_message(text, has_picture=True)
    assert (message.kind, message.reference.number) == ("go_back", number)


def test_a_time_of_day_alone_greets_before_there_is_a_picture():
    assert read_message("afternoon all 👋").kind == "question"
    assert read_message("evening", has_picture=True).kind == "feedback"  # with a picture: that light
    assert read_message("morning light on a shelf").kind == "request"


def test_a_bare_time_word_before_a_description_is_the_pictures_time():
    assert "evening" in read_message("evening, on a pier").words  # when the picture is
    assert "evening" not in read_message("good evening, on a pier").words  # a hello
    assert "evening" not in read_message("evening! on a pier").words
    assert read_message("morning, first time here").words == "first time here"


@pytest.mark.parametrize("text", ["pull up my beach day look", "load my rainy window look please"])
def test_a_verb_of_loading_a_saved_look_is_no_picture_word(text):
    message = read_message(text, has_picture=True)
    assert message.kind == "go_back" and message.reference.saved and message.words == ""


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("the marble looked way better honestly", "marble"),
        ("teal was nicer", "teal"),
        ("I preferred the linen", "linen"),
        ("teal was nicer than the navy", "teal"),
    ],
)
def test_a_preference_for_what_an_earlier_picture_showed_is_a_reference(text, words):
    message = read_message(text, has_picture=True)
    assert message.kind == "go_back" and message.reference.words == words, text


def test_a_preference_without_what_it_showed_is_not_a_reference():
    assert read_message("the light was nicer", has_picture=True).kind != "go_back"  # the picture's own
    assert read_message("it was nicer before", has_picture=True).kind == "undo"
    assert read_message("teal was nicer").kind != "go_back"  # no picture yet: nothing to go back to


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("could the vase itself be teal?", "teal"),
        ("would it look better in olive", "olive"),
        ("might the bottle too be navy instead", "navy"),
    ],
)
def test_a_colour_wished_for_the_product_itself_is_a_product_colour(text, colour):
    message = read_message(text, has_picture=True)
    assert message.kind == "feedback" and message.product_colour == colour, text
    assert read_message("could the wall itself be teal?", has_picture=True).colour is None


def test_a_change_suggested_as_a_question_is_a_request():
    assert read_message("would it look classier on slate?", has_picture=True).kind == "feedback"
    assert read_message("would it be better if it was square?", has_picture=True).kind == "question"


def test_sameness_said_of_a_look_is_the_latest_look():
    message = read_message("here's the candle, matching vibe please")
    assert message.kind == "go_back" and message.reference.same


def test_an_ordinal_with_a_noun_is_a_thing():
    assert read_message("add the second candle", has_picture=True).kind == "feedback"


def test_start_over_after_discarding_all_keeps_only_the_new_words():
    message = read_message("ditch it all, fresh start: a snowy cabin", has_picture=True)
    assert (message.kind, message.words) == ("start_over", "snowy cabin")


# ------------------------------------------------------------------------------------ replies


def test_text_layer_changes_are_named_in_plain_words(planner):
    assert text_changes(TextLayer(layout="cover", title="HELLO"), TextLayer(layout="cover", title="BYE")) == [
        "the title now “BYE”"]
    assert text_changes(TextLayer(title="HELLO"), TextLayer()) == ["the text taken off"]
    cover = planner.plan("magazine cover with the title FRESH DROP", image_size=PHOTO)
    renamed = planner.plan("change the title to NEW DROP", cover, image_size=PHOTO)
    said = changes(cover, renamed, planner.catalog)
    assert any("title" in line and "NEW DROP" in line for line in said)


def test_every_mode_change_is_named(planner):
    """The reply names a change of mode, dress_model (a person painted around the garment) included."""
    scarf = planner.plan("my scarf laid on linen", image_size=PHOTO)
    for mode in ("restyle", "text_to_image", "inpaint", "dress_model"):
        said = changes(scarf, scarf.model_copy(update={"mode": mode}), planner.catalog)
        assert len(said) == 1 and said[0], mode


def test_removals_are_said_in_one_clause_without_repeats(planner):
    """'no plants and no people' on a rooftop with the preset's potted plants and the merchant's 'a few
    plants': the reply says 'without plants and people', not 'without potted plants; without plants,
    people and a few plants'."""
    first = planner.plan("on a rooftop in the city at sunset with a few plants", image_size=PHOTO)
    assert "potted plants" in first.scene.props
    second = planner.plan("no plants and no people pls", first, image_size=PHOTO)
    said = [line for line in changes(first, second, planner.catalog) if line.startswith("without")]
    assert said == ["without plants and people"]


def test_taking_one_thing_out_of_a_list_names_only_that_thing(planner):
    table = planner.plan("my soap on a rustic wooden table", image_size=PHOTO)
    farm = planner.plan("can you add a honeycomb and some oats?", table, image_size=PHOTO)
    assert changes(table, farm, planner.catalog)[-1] == "with honeycomb and some oats"
    fewer = planner.plan("oats look weird, take them out", farm, image_size=PHOTO)
    assert changes(farm, fewer, planner.catalog) == ["without some oats"]

# ------------------------------------------------------------------------- the product's name


@pytest.fixture(scope="module")
def studio():
    return Studio(planner=EmbeddedPlanner(), engine=EmbeddedRenderer())


def test_start_over_keeps_the_products_name(studio, coffee):
    session = Session(studio, user="alice")
    session.set_product(coffee)
    session.send("my espresso cup on a red backdrop")
    assert session.recipe.subject.description == "espresso cup"
    session.send("scrap all that, fresh start: a snowy cabin")
    assert session.recipe.parent_id is None
    assert session.recipe.subject.description == "espresso cup"


def test_a_restored_session_remembers_the_products_name(tmp_path, studio, coffee):
    before = Session(studio, user="alice")
    before.set_product(coffee)
    before.send("my espresso cup on marble")
    with WorkStore(tmp_path) as store:
        session_id = store.new_session_id()
        store.save_session("alice", session_id, before.to_state(store, session_id))
        after = Session.from_state(studio, store.load_session("alice", session_id), "alice")
    assert after.product is not None and after.product.description == "espresso cup"
    after.start_over()
    after.send("on a wooden table")
    assert after.recipe.subject.description == "espresso cup"


def test_words_in_capitals_or_quotes_with_a_text_noun_are_the_title(planner):
    from sceneshop.agent.planner.text import read_text

    rest, edit = read_text("stick the words SPRING EDIT in bold letters along the bottom")
    assert (edit.fields, edit.place) == ({"title": "SPRING EDIT"}, "bottom")
    assert "SPRING" not in rest and "letters" not in rest and "words" not in rest
    assert read_text('add some lettering saying "Hand made" please')[1].fields == {"title": "Hand made"}
    # a text noun without a literal string asks for nothing to be written
    assert not read_text("the words on the label look blurry")[1]
    base = planner.plan("my candle on marble", image_size=PHOTO)
    edited = planner.plan("put the text SALE TODAY at the top", base, image_size=PHOTO)
    assert edited.text.title == "SALE TODAY" and "sale" not in edited.prompt.lower()


def test_a_place_no_room_preset_is_stays_in_the_merchants_words(planner):
    lobby = planner.plan("my watch in a hotel lobby", image_size=PHOTO)
    assert lobby.scene.preset != "bedroom" and "hotel lobby" in lobby.prompt
    assert planner.plan("my watch in a meadow", image_size=PHOTO).scene.preset == "garden"  # outdoors: broad


def test_this_followed_by_a_place_is_not_a_product_name(planner):
    assert planner.plan("put this in a greenhouse", image_size=PHOTO).subject.description == "product"
    assert planner.plan("my new mug on marble", image_size=PHOTO).subject.description == "mug"


def test_a_definite_noun_names_a_product_that_has_no_name_yet(planner):
    unnamed = planner.plan("on a lilac background", image_size=PHOTO)
    assert planner.plan("and now the hand soap", unnamed, image_size=PHOTO).subject.description == "hand soap"
    for edit in ("put the candle next to it", "remove the candle"):  # a prop, not the product
        assert planner.plan(edit, unnamed, image_size=PHOTO).subject.description == "product"
    named = planner.plan("my mug on a lilac background", image_size=PHOTO)
    assert planner.plan("and now the candle", named, image_size=PHOTO).subject.description == "mug"


def test_what_was_done_then_describes_the_earlier_picture_not_this_one():
    message = read_message("remember the blue one we made for my candle? same for this soap")
    assert message.kind == "go_back" and message.reference.words == "blue"
    assert "candle" not in message.words and "remember" not in message.words and "soap" in message.words
