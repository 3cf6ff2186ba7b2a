"""Rules for merchant phrasing an unseen set (l8, 2026-12-03) failed: chat hedges ("tho", "ngl"), a
bare verdict before a request ("better!"), harsh light, where the idea came from ("i saw this on
pinterest"), a colour for a thing in the scene rather than the product, a shape said with a
marketplace ("square for instagram"). Each is tested with sentences of its own besides the set's."""

from __future__ import annotations

import pytest

PHOTO = (600, 400)


@pytest.fixture(scope="module")
def garden(planner):
    return planner.plan("espresso cup on grass in a garden", image_size=PHOTO)


@pytest.mark.parametrize("said", ["warmer, like golden hour tho", "warmer ngl", "a bit warmer imo",
                                  "warmer rn please", "better! a bit warmer", "much better, now warmer",
                                  "way better. warmer though"])
def test_chat_hedges_and_a_bare_verdict_never_reach_the_prompt(planner, garden, said):
    warmer = planner.plan(said, garden, image_size=PHOTO)
    assert warmer.lighting.kelvin < garden.lighting.kelvin
    for word in ("tho", "ngl", "imo", "rn", "better", "though"):
        assert word not in warmer.prompt.split(", ")
        assert f" {word} " not in f" {warmer.scene.description} "


@pytest.mark.parametrize("said", ["ugh the lighting is weird, kinda harsh. make it softer pls", "less harsh",
                                  "the light is too harsh", "the shadows are too hard", "soften the light"])
def test_harsh_light_is_softened_in_words_and_the_place_keeps_its_light(planner, garden, said, vocab):
    softer = planner.plan(said, garden, image_size=PHOTO)
    assert vocab["light_quality_words"]["soft"] in softer.scene.description
    assert "harsh" not in softer.prompt and "hard" not in softer.scene.description
    assert softer.lighting.preset == garden.lighting.preset  # a garden's daylight, softened
    harder = planner.plan("stronger shadows", softer, image_size=PHOTO)
    assert vocab["light_quality_words"]["hard"] in harder.scene.description
    assert vocab["light_quality_words"]["soft"] not in harder.scene.description


@pytest.mark.parametrize("aside", ["i saw this on pinterest", "got the idea from a competitors listing",
                                   "saw something like it on tiktok lol", "found this on etsy"])
def test_where_the_idea_came_from_draws_nothing(planner, aside):
    recipe = planner.plan(f"serum bottle on marble with water droplets, {aside}", image_size=PHOTO)
    assert recipe.scene.preset == "marble" and "water droplets" in recipe.scene.description
    for word in ("pinterest", "tiktok", "idea", "listing", "saw", "found", "etsy"):
        assert word not in recipe.scene.description
    assert recipe.output.preset is None  # "on etsy" here is where it was seen, not a listing size


def test_a_thing_seen_in_the_picture_is_not_an_aside(planner, garden):
    removed = planner.plan("i saw a spoon behind it, remove it", garden, image_size=PHOTO)
    assert "spoon" in removed.negative_prompt and "spoon" not in removed.prompt


def test_a_colour_for_a_thing_in_the_scene_recolours_that_thing_and_never_asks(session):
    session.send("on grass in a garden, maybe a tennis ball nearby")
    turn = session.send("can the ball be yellow? looks kinda green rn")
    assert turn.kind == "result" and "yellow tennis ball" in turn.recipe.scene.description
    assert "Changed: the tennis ball nearby now yellow." in turn.reply
    spa = session.send("now in a spa bathroom")
    assert "rolled towels" in spa.recipe.scene.props
    towels = session.send("make the towels white")
    assert "white rolled towels" in towels.recipe.scene.props
    assert "rolled towels" not in towels.recipe.scene.props
    assert "the rolled towels now white" in towels.reply
    again = session.send("the towels in beige please")  # a colour it had is replaced
    assert "beige rolled towels" in again.recipe.scene.props
    assert not any("white" in p for p in again.recipe.scene.props)
    # the product itself: its pixels are kept, so the studio asks
    assert session.send("can the cup be white").kind == "clarify"


@pytest.mark.parametrize(("said", "preset"), [
    ("make it square for instagram", "instagram_square"), ("instagram post but square", "instagram_square"),
    ("square for insta pls", "instagram_square"), ("for instagram", "instagram_post"),
    ("square", "shopify_square"), ("etsy but square", "etsy"),
    ("instagram story, vertical", "instagram_story"),
])
def test_a_shape_said_with_a_platform_picks_its_preset_of_that_shape(planner, garden, said, preset):
    recipe = planner.plan(said, garden, image_size=PHOTO)
    assert recipe.output.preset == preset
    market = planner.catalog.marketplace(preset)
    assert (recipe.width, recipe.height) == (market.width - market.width % 8,
                                             market.height - market.height % 8)
