"""The embedded planner: paraphrases, keywords, feedback edits of a parent recipe, input checks."""

import os
import shutil

import pytest
import yaml

from sceneshop.agent.commands import read_message
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.recipe import Recipe, check_against_catalog
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import InputError

PHOTO = (1200, 1600)
# Fields that only identify a version or describe it; every other field is compared in edits.
IDENTITY = {"id", "parent_id", "request", "notes", "prompt", "negative_prompt"}


@pytest.fixture(scope="module")
def beach(planner):
    return planner.plan("put this dress on a beach at sunset with a red umbrella", image_size=PHOTO)


def changed_fields(parent: Recipe, child: Recipe) -> set[str]:
    """Dotted names of the fields that differ (scene.props, lighting.kelvin, seed...)."""
    a, b = parent.model_dump(), child.model_dump()
    out = set()
    for key in a:
        if key in IDENTITY:
            continue
        if isinstance(a[key], dict):
            out |= {f"{key}.{k}" for k in a[key] if a[key][k] != b[key][k]}
        elif a[key] != b[key]:
            out.add(key)
    return out


def edit(planner, parent, request):
    child = planner.plan(request, parent)
    assert child.parent_id == parent.id and child.id != parent.id
    assert child.request == request
    return child


# --- paraphrases and keywords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_text", "scene", "time"),
    [
        ("seaside at dusk", "beach", "sunset"),
        ("sneakers by the pool", "pool", "day"),
        ("mug in a cosy coffee shop", "cafe", None),
        ("serum bottle on a marble countertop", "marble", None),
        ("in a blooming flower meadow", "garden", "day"),
        ("a lush meadow", "garden", "day"),  # no keyword at all: sentence similarity
        ("nostalgic analog film vibe in a diner", "cafe", None),  # similarity
        ("on a mossy log among tall pine trees", "forest", "day"),
        ("in the middle of the sahara", "desert", "day"),
        ("handbag in the city at night", "city_street_night", "night"),
        ("neon street for the headset", "city_street_night", "night"),
        ("ceramic bowl on a terrazzo countertop", "terrazzo", None),
        ("on a wooden table in a cafe", "cafe", None),
        ("headphones on a concrete surface, urban look", "concrete", None),
        ("christmas themed shot for this scarf", "festive", "night"),
        ("on a rooftop terrace", "rooftop", "sunset"),
        ("make the background green", "studio_green", None),
        ("gold ring on a blush pink backdrop", "studio_pastel_pink", None),
        ("headphones on a gradient blue background", "gradient_ocean", None),
        ("sneekers by the poool at sunest", "pool", "sunset"),  # typos
    ],
)
def test_scene_and_time_from_words(planner, request_text, scene, time):
    recipe = planner.plan(request_text, image_size=PHOTO)
    assert (recipe.scene.preset, recipe.time_of_day) == (scene, time)


def test_similarity_is_noted_and_keyword_beats_similarity(planner):
    by_similarity = planner.plan("a lush meadow", image_size=PHOTO)
    assert any(n.startswith("scene garden (similar to") for n in by_similarity.notes)
    # "meadow" would pick the garden by similarity, but "marble" is an explicit keyword.
    keyword = planner.plan("on marble, in a lush meadow mood", image_size=PHOTO)
    assert keyword.scene.preset == "marble"
    assert any(n == "scene marble (from 'marble')" for n in keyword.notes)


def test_below_the_similarity_threshold_the_scene_stays(planner, beach):
    fresh = planner.plan("protein powder in a gym", image_size=PHOTO)
    assert fresh.scene.preset == "studio_white"
    assert "in a gym" in fresh.scene.description  # not understood as a preset, still not dropped
    child = edit(planner, beach, "craft")
    assert child.scene.preset == "beach"


def test_longest_keyword_wins(planner):
    assert planner.plan("city at night").scene.preset == "city_street_night"
    assert planner.plan("sand colored background").scene.preset == "studio_beige"
    assert planner.plan("among sand dunes").scene.preset == "desert"


@pytest.mark.parametrize(
    ("words", "time"),
    [("at dusk", "sunset"), ("at sunset", "sunset"), ("evening golden light", "sunset"),
     ("at dawn", "sunrise"), ("at sunrise", "sunrise"), ("in the morning", "sunrise"),
     ("at night", "night"), ("at midnight", "night"), ("neon", "night"),
     ("at noon", "day"), ("at midday", "day"), ("in the daytime", "day")],
)
def test_time_words(planner, words, time):
    assert planner.plan(f"sneakers on a beach {words}").time_of_day == time


def test_default_time_outdoor_and_studio(planner):
    assert planner.plan("dress on a beach").time_of_day == "day"
    assert planner.plan("dress on a white background").time_of_day is None
    assert planner.plan("dress in a cafe").time_of_day is None


def test_lighting_rules(planner, catalog=None):
    catalog = planner.catalog
    assert planner.plan("beach at sunset").lighting.preset == "golden_hour"
    assert planner.plan("city street at night").lighting.preset == "neon_night"
    assert planner.plan("forest at night").lighting.preset == "moonlight"
    assert planner.plan("cafe at night").lighting.preset == "warm_tungsten"
    assert planner.plan("mug on marble").lighting.preset == catalog.scene("marble").lighting
    explicit = planner.plan("beach at sunset with soft window light")
    assert explicit.lighting.preset == "window_light"
    assert explicit.lighting.kelvin == catalog.light("window_light").kelvin
    golden = planner.plan("desert at golden hour")
    assert (golden.lighting.preset, golden.time_of_day) == ("golden_hour", "sunset")
    assert golden.lighting.kelvin == catalog.light("golden_hour").kelvin


@pytest.mark.parametrize(
    ("words", "lora"),
    [("vintage film look", "film_grain"), ("luxury feel", "luxury_editorial"),
     ("watercolor style", "watercolor"), ("pixel art background", "pixel_art"),
     ("3d render style", "render_3d"), ("cinematic shot", "cinematic")],
)
def test_lora_keywords_at_catalog_default_weight(planner, words, lora):
    recipe = planner.plan(f"{words}, perfume on a podium", image_size=PHOTO)
    assert [(c.name, c.weight) for c in recipe.loras] == [(lora, planner.catalog.lora(lora).weight_default)]


def test_common_words_do_not_pick_a_lora(planner):
    assert planner.plan("clean white background for my shop").loras == []
    assert planner.plan("render it on a beach").loras == []


def test_loras_only_from_the_catalog(tmp_path):
    folder = load_catalog().folder
    for name in ("scenes.yaml", "lighting.yaml", "marketplaces.yaml", "vocabulary.yaml"):
        shutil.copy(folder / name, tmp_path / name)
    loras = yaml.safe_load((folder / "loras.yaml").read_text())
    del loras["film_grain"]
    (tmp_path / "loras.yaml").write_text(yaml.safe_dump(loras))
    catalog = load_catalog(tmp_path)
    recipe = EmbeddedPlanner(catalog).plan("vintage film look, dress on a beach", image_size=PHOTO)
    assert recipe.loras == []
    assert recipe.scene.preset == "beach"


def test_loras_of_one_family(planner):
    both = planner.plan("quick draft of the mug")  # lcm_sd15 and lcm_sdxl share the keyword
    assert [c.name for c in both.loras] == ["lcm_sdxl"]
    assert (both.steps, both.guidance) == (6, 1.5)
    sd15 = EmbeddedPlanner(lora_family="sd15").plan("vintage film look with dreamy bokeh")
    assert [c.name for c in sd15.loras] == ["bokeh_dreamy"]
    assert any("film_grain left out" in n for n in sd15.notes)


@pytest.mark.parametrize(
    ("words", "preset", "size"),
    [("for Amazon", "amazon_main", (2000, 2000)), ("for my Shopify store", "shopify_square", (2048, 2048)),
     ("instagram story", "instagram_story", (1080, 1920)), ("for Etsy", "etsy", (2000, 1500)),
     ("square please", "shopify_square", (2048, 2048)), ("9:16", "instagram_story", (1080, 1920)),
     ("website banner", "web_banner", (1920, 1080))],
)
def test_marketplace_and_aspect(planner, words, preset, size):
    recipe = planner.plan(f"sneakers on concrete, {words}", image_size=PHOTO)
    assert recipe.output.preset == preset
    # The recipe holds the generation size (a multiple of 8: Etsy's 1500 -> 1496); the engines
    # deliver the marketplace's exact size.
    assert (recipe.width, recipe.height) == (size[0] - size[0] % 8, size[1] - size[1] % 8)


def test_amazon_forces_white_studio(planner):
    recipe = planner.plan("beach at sunset but for amazon", image_size=PHOTO)
    assert (recipe.scene.preset, recipe.output.preset, recipe.width, recipe.height) == (
        "studio_white", "amazon_main", 2000, 2000)
    assert recipe.time_of_day is None
    assert recipe.lighting.preset == "softbox"


@pytest.mark.parametrize(
    ("words", "subject", "category"),
    [("put this dress on a beach", "dress", "apparel"), ("sneakers by the pool", "sneakers", "footwear"),
     ("serum bottle on marble", "serum bottle", "beauty"), ("mug in a cafe", "mug", "home"),
     ("a red summer dress on a beach", "red summer dress", "apparel"),
     ("watch on marble", "watch", "jewelry"), ("headphones on concrete", "headphones", "electronics"),
     ("a tray of cookies on a table", "tray of cookies", "food"),
     ("on a picnic blanket in the park", "product", "general"), ("lipstick on pink", "lipstick", "beauty")],
)
def test_subject_and_category(planner, words, subject, category):
    recipe = planner.plan(words, image_size=PHOTO)
    assert (recipe.subject.description, recipe.subject.category) == (subject, category)


def test_mode(planner, beach):
    assert planner.plan("dress on a beach", image_size=PHOTO).mode == "replace_background"
    assert planner.plan("dress on a beach").mode == "text_to_image"
    assert edit(planner, beach, "at night").mode == "replace_background"
    restyled = planner.plan("restyle the whole photo as a watercolor painting", image_size=PHOTO)
    assert restyled.mode == "restyle"
    assert edit(planner, beach, "make it look like a painting on the whole image").mode == "restyle"


def test_size(planner):
    assert (lambda r: (r.width, r.height))(planner.plan("dress", image_size=(1203, 1605))) == (1200, 1600)
    assert (lambda r: (r.width, r.height))(planner.plan("dress")) == (1024, 1024)
    big = planner.plan("dress", image_size=(8000, 6000))
    assert (big.width, big.height) == (4096, 3072)
    assert any("outside the 256-4096" in n for n in big.notes)


def test_users_words_reach_the_prompt(planner, beach):
    assert beach.scene.description == "with a red umbrella"
    assert "with a red umbrella" in beach.prompt
    cosy = planner.plan("mug in a cosy coffee shop", image_size=PHOTO)
    assert "in a cosy coffee shop" in cosy.prompt
    filler = planner.plan("please put this on a beach", image_size=PHOTO)
    assert filler.scene.description == ""


def test_fresh_recipes_have_a_concrete_random_seed(planner):
    seeds = {planner.plan("dress on a beach").seed for _ in range(3)}
    assert len(seeds) == 3


def test_notes_say_what_was_understood(planner):
    notes = planner.plan("seaside at dusk", image_size=PHOTO).notes
    assert "scene beach (from 'seaside')" in notes
    assert "time sunset (from 'dusk')" in notes


# --- feedback edits of a parent recipe -------------------------------------------------------------


def test_warmer_and_cooler(planner, beach):
    warmer = edit(planner, beach, "make it warmer")
    assert warmer.lighting.kelvin == beach.lighting.kelvin - 800
    assert "warm tones" in warmer.scene.description and "with a red umbrella" in warmer.scene.description
    assert changed_fields(beach, warmer) == {"lighting.kelvin", "scene.description"}
    assert f"warmer: {beach.lighting.kelvin}K -> {warmer.lighting.kelvin}K" in warmer.notes
    cooler = edit(planner, warmer, "cooler please")
    assert cooler.lighting.kelvin == beach.lighting.kelvin
    assert "cool tones" in cooler.scene.description and "warm tones" not in cooler.scene.description
    for _ in range(12):
        cooler = planner.plan("cooler", cooler)
    assert cooler.lighting.kelvin == 10000  # clamped


@pytest.mark.parametrize("said", ["can you make the background a little blurrier", "blur the background",
                                  "I'd like the backdrop out of focus", "a bit more blur please"])
def test_blurrier_steps_the_lens_to_more_background_blur_and_sharper_steps_back(planner, beach, said):
    blurred = edit(planner, beach, said)
    assert blurred.camera.lens == "85mm telephoto, creamy background blur"
    assert changed_fields(beach, blurred) == {"camera.lens"}  # no "blurrier" in the scene's words
    sharper = edit(planner, blurred, "less blur")
    assert sharper.camera.lens == beach.camera.lens == "50mm, shallow depth of field"
    assert edit(planner, sharper, "background in focus please").camera.lens == "50mm, everything in focus"


@pytest.mark.parametrize(("request_", "kept_out"), [
    ("my notebook on an office desk", "notebook"), ("espresso cup in a cafe", "coffee cup"),
    ("serum bottle on a kitchen counter", "olive oil bottle"), ("scented candles in a spa", "candles")])
def test_a_scene_never_brings_a_prop_of_the_products_own_kind(planner, request_, kept_out):
    recipe = planner.plan(request_, image_size=PHOTO)
    preset = planner.catalog.scene(recipe.scene.preset)
    assert kept_out in preset.props and kept_out not in recipe.scene.props
    assert len(recipe.scene.props) == 2  # another of the preset's props takes its place
    assert kept_out not in planner.plan("busier", recipe).scene.props


def test_brighter_and_darker(planner, beach):
    brighter = edit(planner, beach, "brighter")
    assert brighter.lighting.exposure == pytest.approx(0.3)
    assert changed_fields(beach, brighter) == {"lighting.exposure"}
    darker = edit(planner, beach, "a bit darker")
    assert darker.lighting.exposure == pytest.approx(-0.3)
    assert changed_fields(beach, darker) == {"lighting.exposure"}


def test_less_and_more_busy(planner, beach):
    calmer = edit(planner, beach, "less busy")
    assert calmer.scene.clutter == pytest.approx(beach.scene.clutter - 0.3)
    assert calmer.scene.props == []
    assert changed_fields(beach, calmer) == {"scene.clutter", "scene.props"}
    busier = edit(planner, beach, "busier, more props")
    assert busier.scene.clutter == pytest.approx(beach.scene.clutter + 0.3)
    assert len(busier.scene.props) > len(beach.scene.props)
    assert changed_fields(beach, busier) == {"scene.clutter", "scene.props"}


def test_closer_and_wider(planner, beach):
    closer = edit(planner, beach, "closer")
    assert closer.camera.framing == "close"
    assert changed_fields(beach, closer) == {"camera.framing"}
    wider = edit(planner, beach, "zoom out")
    assert wider.camera.framing == "wide"
    assert edit(planner, wider, "wider").camera.framing == "wide"  # already the widest


@pytest.mark.parametrize("words", ["another variation", "new variation", "try again", "different one",
                                   "keep everything, new variation"])
def test_variation_changes_only_the_seed(planner, beach, words):
    child = edit(planner, beach, words)
    assert changed_fields(beach, child) == {"seed"}
    assert child.prompt == beach.prompt and child.negative_prompt == beach.negative_prompt


def test_change_time_of_day(planner, beach):
    night = edit(planner, beach, "make it night")
    assert (night.time_of_day, night.lighting.preset) == ("night", "moonlight")
    assert night.scene.preset == "beach" and night.subject == beach.subject
    assert changed_fields(beach, night) <= {"time_of_day", "lighting.preset", "lighting.kelvin",
                                            "lighting.direction"}
    city = planner.plan("handbag on a city street", image_size=PHOTO)
    city_night = edit(planner, city, "make it night")
    assert (city_night.scene.preset, city_night.lighting.preset) == ("city_street_night", "neon_night")
    sunrise = edit(planner, planner.plan("dress on a beach", image_size=PHOTO), "at sunrise")
    assert (sunrise.time_of_day, sunrise.lighting.preset) == ("sunrise", "golden_hour")


def test_change_marketplace(planner, beach):
    story = edit(planner, beach, "now for instagram story")
    assert (story.output.preset, story.width, story.height) == ("instagram_story", 1080, 1920)
    assert changed_fields(beach, story) == {"output.preset", "width", "height"}
    square = edit(planner, story, "square please")
    assert (square.output.preset, square.width, square.height) == ("shopify_square", 2048, 2048)


def test_change_scene_keeps_subject_marketplace_and_loras(planner):
    parent = planner.plan("vintage film look, dress on a beach at sunset, for etsy", image_size=PHOTO)
    forest = edit(planner, parent, "now in a forest")
    assert forest.scene.preset == "forest"
    assert forest.subject == parent.subject
    assert forest.output == parent.output and (forest.width, forest.height) == (parent.width, parent.height)
    assert forest.loras == parent.loras and forest.seed == parent.seed
    assert forest.scene.props == list(planner.catalog.scene("forest").props[:2])
    assert forest.time_of_day == "sunset"  # the user chose sunset; it survives the move


def test_amazon_as_feedback(planner):
    pool = planner.plan("sneakers by the pool", image_size=PHOTO)
    amazon = edit(planner, pool, "for amazon")
    assert (amazon.scene.preset, amazon.output.preset, amazon.width, amazon.height) == (
        "studio_white", "amazon_main", 2000, 2000)
    assert amazon.subject == pool.subject


def test_a_place_after_an_amazon_picture_leaves_amazon_and_white_keeps_it(planner):
    amazon = planner.plan("white background for amazon", image_size=PHOTO)
    # Amazon's main image is pure white: kept, the beach would have been painted over in white
    beach = planner.plan("put it on a beach at sunset", amazon, image_size=PHOTO)
    assert (beach.scene.preset, beach.time_of_day, beach.output.preset) == ("beach", "sunset", None)
    assert (beach.width, beach.height) == PHOTO  # the photo's own size again, as for a first picture
    assert "output: no longer amazon_main (its plain background would hide the place asked for)" in (
        beach.notes)
    assert "pure white" not in beach.prompt
    bakery = planner.plan("maybe try a bakery", amazon, image_size=PHOTO)  # a place no preset holds
    assert bakery.output.preset is None and "bakery" in bakery.prompt
    for same in ("closer", "white background, a bit warmer", "another one"):
        kept = planner.plan(same, amazon, image_size=PHOTO)
        assert (kept.scene.preset, kept.output.preset, kept.width) == (
            "studio_white", "amazon_main", 2000), same
    both = planner.plan("beach at sunset but for amazon", amazon, image_size=PHOTO)  # Amazon said again
    assert (both.scene.preset, both.output.preset) == ("studio_white", "amazon_main")
    instagram = planner.plan("now for instagram", beach, image_size=PHOTO)
    assert instagram.output.preset == "instagram_post"
    assert planner.plan("on marble", instagram, image_size=PHOTO).output.preset == "instagram_post"


def test_add_remove_and_strengthen_loras(planner, beach):
    cinematic = edit(planner, beach, "more cinematic")
    assert [(c.name, c.weight) for c in cinematic.loras] == [("cinematic", 0.6)]
    assert changed_fields(beach, cinematic) == {"loras"}
    film = planner.plan("vintage film look, dress on a beach", image_size=PHOTO)
    no_film = edit(planner, film, "no film grain")
    assert no_film.loras == [] and changed_fields(film, no_film) == {"loras"}
    water = planner.plan("watercolor style backdrop with flowers", image_size=PHOTO)
    stronger = edit(planner, water, "stronger watercolor")
    assert [(c.name, c.weight) for c in stronger.loras] == [("watercolor", 0.8)]
    for _ in range(3):
        stronger = planner.plan("stronger watercolor", stronger)
    assert stronger.loras[0].weight == planner.catalog.lora("watercolor").weight_max


def test_undo_is_a_command_read_from_the_message():
    for words in ("undo", "go back", "undo that please"):
        assert read_message(words).kind == "undo"
    assert read_message("go back to the beach").kind == "go_back"  # a reference to a beach picture
    assert read_message("make it warmer").kind == "request"


@pytest.mark.parametrize(("words", "colour"), [
    ("make it green", "green"), ("change the dress to blue", "blue"), ("green instead of red", "green"),
    ("the same dress in red please", "red")])
def test_product_colour_is_never_repainted(planner, beach, words, colour):
    assert read_message(words).product_colour == colour
    child = edit(planner, beach, words)
    assert changed_fields(beach, child) == set()
    assert any(n.startswith("product colour is kept:") for n in child.notes)
    assert any(f"{colour} background" in n for n in child.notes)


def test_background_colour_is_not_a_product_colour(planner, beach):
    assert read_message("make the background green").colour is None
    assert read_message("a red dress on a pink backdrop").colour is None
    child = edit(planner, beach, "make the background green")
    assert child.scene.preset == "studio_green"


def test_generated_product_can_change_colour(planner):
    parent = planner.plan("a red summer dress on a beach")
    child = planner.plan("make it green", parent)
    assert child.mode == "text_to_image"
    assert child.subject.description == "green summer dress"


def test_remove_and_add_words(planner, beach):
    removed = edit(planner, beach, "remove the umbrella")
    assert "umbrella" not in removed.scene.description
    no_shells = edit(planner, beach, "remove the seashells")
    assert "seashells" not in no_shells.scene.props
    added = edit(planner, beach, "add some eucalyptus leaves")
    assert added.scene.description == "with a red umbrella, eucalyptus leaves"
    assert changed_fields(beach, added) == {"scene.description"}
    assert "eucalyptus leaves" in added.prompt
    people = edit(planner, beach, "without people")
    assert "people" in people.negative_prompt and "people" not in people.prompt


def test_feedback_on_a_custom_scene(planner, beach):
    # Another planner (the LLM one) may write scene "custom"; the embedded one still edits it.
    custom = beach.child("on a lake jetty", scene={"preset": "custom", "description": "on a lake jetty",
                                                   "props": [], "clutter": 0.4})
    warmer = edit(planner, custom, "warmer and busier")
    assert warmer.scene.preset == "custom" and warmer.lighting.kelvin < custom.lighting.kelvin
    assert "on a lake jetty" in warmer.prompt
    assert edit(planner, custom, "now in a forest").scene.preset == "forest"


def test_unknown_feedback_changes_nothing_and_says_so(planner, beach):
    child = edit(planner, beach, "hmm")
    assert changed_fields(beach, child) == set()
    assert any(n.startswith("nothing to change understood") for n in child.notes)


# --- input checks and validity ---------------------------------------------------------------------


@pytest.mark.parametrize("request_text", ["", "   \n\t "])
def test_empty_request(planner, request_text):
    with pytest.raises(InputError, match="the request is empty; describe a scene, e.g."):
        planner.plan(request_text)


def test_huge_request(planner):
    with pytest.raises(InputError, match=r"20,000 characters; the limit is 2,000"):
        planner.plan("beach " * 3333 + "xx")
    assert planner.plan("beach " * 330).scene.preset == "beach"  # 1980 characters is fine


def test_bad_image_size(planner):
    with pytest.raises(InputError, match="image_size"):
        planner.plan("beach", image_size=(0, 100))


@pytest.mark.parametrize(
    "request_text",
    ["asdfghjkl qwerty", "🌴🌅👗", "1234 5678", "!!!", "no no no", "beach beach beach at night at noon",
     "put it in a gym in space on the moon underwater", "Ünïcödé façade café", "with", "new", "ok",
     "warmer cooler brighter darker closer wider", "a" * 1999],
)
def test_every_recipe_is_valid(planner, beach, request_text):
    catalog = planner.catalog
    for recipe in (planner.plan(request_text, image_size=PHOTO), planner.plan(request_text, beach)):
        check_against_catalog(Recipe.from_json(recipe.to_json()), catalog)
        assert recipe.scene.preset in catalog.scenes
        assert recipe.lighting.preset in catalog.lighting
        assert all(c.name in catalog.loras for c in recipe.loras)
        assert recipe.output.preset is None or recipe.output.preset in catalog.marketplaces
        assert recipe.prompt and recipe.negative_prompt


# --- the prompt holds only words that describe the picture ------------------------------------------


@pytest.mark.parametrize(
    ("words", "kept", "left_out"),
    [
        ("actually I'd like it in a hotel lobby", ["hotel lobby"], ["actually", "I'd", "like"]),
        ("can you add fresh herbs and some garlic around it?", ["fresh herbs", "garlic"],
         ["can you", "it", "?"]),
        ("ugh the shadow looks wrong, it's way too dark", [], ["ugh", "wrong", "looks", "way", "it's"]),
        ("hmm not sure... maybe a lemon slice or two", ["lemon slice"], ["hmm", "not sure", "maybe"]),
        ("my customers love a basketball court vibe", [], ["customers", "love"]),
        ("I didn't want a bedroom", [], ["didn't", "want", "bedroom"]),
        ("I was thinking maybe some fresh lemons next to it", ["fresh lemons"], ["thinking", "maybe"]),
        ("some pine cones would look nice, so it pops", ["pine cones"], ["would", "nice", "pops"]),
        ("the towel looks cheap, swap it for a wool throw", ["wool throw"], ["swap", "cheap", "towel"]),
    ],
)
def test_the_prompt_holds_only_picture_words(planner, beach, words, kept, left_out):
    child = planner.plan(read_message(words, has_picture=True), beach)
    for phrase in kept:
        assert phrase in child.prompt
    for phrase in left_out:
        assert f" {phrase.lower()} " not in f" {child.prompt.lower().replace(',', ' ')} "
    if not kept:  # a complaint, hedge or negated place asks for no new scene
        assert child.scene.preset == "beach"


def test_content_words_no_preset_covers_reach_the_prompt(planner):
    court = planner.plan("put my basketball shoes on a basketball court", image_size=PHOTO)
    assert "basketball court" in court.prompt and court.subject.description == "basketball shoes"


def test_a_negated_thing_is_drawn_nowhere(planner):
    street = planner.plan("my sneakers on a city street in daylight", image_size=PHOTO)
    assert "passers-by" in street.prompt
    quiet = planner.plan("no people in the background please", street)
    assert "people" in quiet.negative_prompt
    assert "passers" not in quiet.prompt and "no people" not in quiet.prompt
    garden = planner.plan("picnic basket in a garden", image_size=PHOTO)
    bare = planner.plan("without any flowers pls, my customers are allergic lol", garden)
    assert "flowers" not in bare.prompt and "blossoms" not in bare.prompt and "allergic" not in bare.prompt
    assert bare.scene.preset == "garden" and "lush green garden" in bare.prompt
    assert "no shadow" not in planner.plan("white background for amazon").prompt  # "shadowless" instead


def test_a_complaint_about_something_in_the_picture_takes_it_out(planner):
    marble = planner.plan("my perfume on marble", image_size=PHOTO)
    child = planner.plan("the eucalyptus thing next to the bottle is way too big", marble)
    assert not any("eucalyptus" in p for p in child.scene.props) and "eucalyptus" not in child.prompt
    assert child.subject.description == "perfume"


# --- the product is what the photo shows and what the merchant calls it -----------------------------


@pytest.mark.parametrize(
    ("request_text", "product"),
    [
        ("my latte cup on a wooden table please", "latte cup"),
        ("lemonade bottle by a pool", "lemonade bottle"),
        ("my tea tin on a pastel pink background", "tea tin"),
        ("here's my yoga mat, pls put it in a bright white studio", "yoga mat"),
        ("there's a chair in the picture, put it on a beach", "product"),
    ],
)
def test_the_product_is_what_the_merchant_calls_it(planner, request_text, product):
    assert planner.plan(request_text, image_size=PHOTO).subject.description == product


def test_on_an_edit_a_new_product_must_be_named_as_the_merchants(planner, beach):
    added = planner.plan("add a chair and a bench next to it", beach)
    assert added.subject.description == beach.subject.description
    assert planner.plan("now my new mug on marble", beach).subject.description == "mug"
    assert planner.plan("near a big tree with a bench", beach).scene.preset == "beach"


# --- loading: keywords need no embedding model; the scene vectors are cached on disk -----------------


def test_a_keyword_request_loads_no_embedding_model_and_no_memory_library(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sceneshop.agent.cli.group import main\n"
        "assert main(['plan', 'white background for amazon']) == 0\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'chromadb', 'cv2') if m in sys.modules]\n"
        "print('loaded:', heavy)\n"
    )
    env = {**os.environ, "SCENESHOP_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout and "scene: studio_white" in done.stdout


def test_scene_vectors_are_cached_on_disk_by_catalog_content(tmp_path, monkeypatch):
    import sceneshop.agent.planner.embedded as embedded

    calls = []
    real = embedded.embed

    def counted(texts):
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(embedded, "embed", counted)
    monkeypatch.setattr(embedded, "_TEXT_VECTORS", {})
    texts = ["a sunny beach", "a quiet forest"]
    first = embedded._vectors(texts, tmp_path)
    files = list(tmp_path.glob("scene-vectors-*.npy"))
    assert calls == [2] and len(files) == 1
    monkeypatch.setattr(embedded, "_TEXT_VECTORS", {})  # a new process: only the file is left
    again = embedded._vectors(texts, tmp_path)
    assert calls == [2] and (again == first).all()
    monkeypatch.setattr(embedded, "_TEXT_VECTORS", {})
    embedded._vectors(["a sunny beach", "a snowy peak"], tmp_path)  # another catalog: another file
    assert calls == [2, 2] and len(list(tmp_path.glob("scene-vectors-*.npy"))) == 2
