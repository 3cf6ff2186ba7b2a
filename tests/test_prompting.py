"""compose_prompt: the one renderer of prompt text from a recipe's fields."""

import re
import shutil

import pytest

from sceneshop.agent.planner.prompt import compose_prompt, load_vocabulary
from sceneshop.agent.recipe import LoraChoice, Recipe
from sceneshop.tools.catalog import load_catalog


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def beach_recipe(**changes) -> Recipe:
    recipe = Recipe(
        request="put this dress on a beach at sunset with a red umbrella",
        subject={"description": "red summer dress", "category": "apparel"},
        scene={"preset": "beach", "description": "with a red umbrella", "props": ["seashells", "driftwood"],
               "clutter": 0.4},
        lighting={"preset": "golden_hour", "direction": "side", "kelvin": 3200},
        time_of_day="sunset",
    )
    for key, value in changes.items():
        setattr(recipe, key, value)
    return recipe


def count(text: str, phrase: str) -> int:
    return len(re.findall(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE))


def test_prompt_has_every_part_of_the_recipe(catalog):
    prompt, negative = compose_prompt(beach_recipe(), catalog)
    assert "red summer dress" in prompt
    assert catalog.scene("beach").description in prompt
    assert "with a red umbrella" in prompt  # the user's own words, verbatim
    assert "seashells" in prompt and "driftwood" in prompt
    assert catalog.light("golden_hour").description in prompt
    assert "3200K" in prompt
    assert "at sunset" in prompt
    assert "eye level" in prompt and "medium shot" in prompt and "50mm" in prompt
    for word in load_vocabulary()["quality"]:
        assert word in prompt
    for word in ["deformed product", "altered logo", "extra objects", "text", "watermark", "blurry",
                 "lowres"]:
        assert count(negative, word) == 1


def test_prompt_is_deterministic_and_ignores_identity_fields(catalog):
    a = beach_recipe()
    b = a.child("another variation", seed=(a.seed + 1) % 2**32)
    assert compose_prompt(a, catalog) == compose_prompt(a, catalog) == compose_prompt(b, catalog)


def test_props_only_when_clutter_allows(catalog):
    bare = beach_recipe()
    bare.scene.clutter = 0.1
    prompt, negative = compose_prompt(bare, catalog)
    assert "seashells" not in prompt
    assert "cluttered" in negative and "busy background" in negative
    busy = beach_recipe()
    busy.scene.clutter = 0.8
    prompt, negative = compose_prompt(busy, catalog)
    assert "seashells" in prompt and "many props" in prompt
    assert "cluttered" not in negative


def test_each_lora_trigger_exactly_once(catalog):
    recipe = beach_recipe()
    recipe.loras = [LoraChoice(name="film_grain", weight=0.5), LoraChoice(name="cinematic", weight=0.6)]
    prompt, _ = compose_prompt(recipe, catalog)
    for name in ("film_grain", "cinematic"):
        for trigger in catalog.lora(name).trigger:
            assert count(prompt, trigger) == 1, trigger


def test_trigger_already_in_the_scene_text_is_not_repeated(catalog):
    # The podium preset's own description says "3d render", render_3d's trigger.
    recipe = beach_recipe()
    recipe.scene.preset = "podium"
    recipe.time_of_day = None
    recipe.loras = [LoraChoice(name="render_3d", weight=0.6)]
    prompt, _ = compose_prompt(recipe, catalog)
    assert count(prompt, "3d render") == 1
    assert count(prompt, "octane render") == 1


def test_shared_trigger_of_two_loras_once(catalog):
    recipe = beach_recipe()
    recipe.loras = [LoraChoice(name="product_photo_xl", weight=0.7),
                    LoraChoice(name="product_photo_sd15", weight=0.7)]
    prompt, _ = compose_prompt(recipe, catalog)
    assert count(prompt, "product photography") == 1


def test_no_lora_no_trigger(catalog):
    prompt, _ = compose_prompt(beach_recipe(), catalog)
    for entry in catalog.loras.values():
        for trigger in entry.trigger:
            assert count(prompt, trigger) == 0, trigger


def test_a_lora_at_weight_zero_adds_no_trigger(catalog):
    # Weight 0 switches the adapter off; its trigger words alone would still change the picture.
    off = beach_recipe()
    off.loras = [LoraChoice(name="film_grain", weight=0.0), LoraChoice(name="cinematic", weight=0.6)]
    prompt, _ = compose_prompt(off, catalog)
    for trigger in catalog.lora("film_grain").trigger:
        assert count(prompt, trigger) == 0, trigger
    for trigger in catalog.lora("cinematic").trigger:
        assert count(prompt, trigger) == 1, trigger
    only = beach_recipe()
    only.loras = [LoraChoice(name="cinematic", weight=0.6)]
    assert prompt == compose_prompt(only, catalog)[0]


def test_negative_clauses_of_the_description_go_to_the_negative_prompt(catalog):
    recipe = beach_recipe()
    recipe.scene.description = "with a red umbrella, no people, without seagulls"
    prompt, negative = compose_prompt(recipe, catalog)
    assert "with a red umbrella" in prompt
    assert "people" not in prompt and "seagulls" not in prompt
    assert "people" in negative and "seagulls" in negative


def test_a_negated_thing_leaves_only_its_part_of_the_presets_words(catalog):
    rooftop = Recipe(request="on a rooftop", scene={"preset": "rooftop", "description": "no skyline"})
    prompt, negative = compose_prompt(rooftop, catalog)
    assert "rooftop terrace" in prompt and "skyline" not in prompt and "skyline" in negative
    street = Recipe(request="a street at night",
                    scene={"preset": "city_street_night", "description": "no neon"})
    prompt, _ = compose_prompt(street, catalog)
    assert "city street at night with glowing bokeh lights" in prompt and "neon signs" not in prompt


def test_white_marketplace_and_exposure_words(catalog):
    recipe = beach_recipe()
    recipe.scene.preset = "studio_white"
    recipe.time_of_day = None
    recipe.output.preset = "amazon_main"
    recipe.lighting.exposure = 0.3
    prompt, negative = compose_prompt(recipe, catalog)
    assert "pure white background" in prompt
    assert "shadow" in negative and "coloured background" in negative
    assert "bright airy exposure" in prompt and "underexposed" in negative
    recipe.lighting.exposure = -0.3
    recipe.output.preset = "instagram_story"
    prompt, negative = compose_prompt(recipe, catalog)
    assert "darker exposure" in prompt and "overexposed" in negative
    assert "pure white" not in prompt


def test_no_time_words_without_time_and_custom_scene_has_no_preset_text(catalog):
    recipe = beach_recipe()
    recipe.time_of_day = None
    recipe.scene.preset = "custom"
    recipe.scene.description = "on a lake jetty"
    prompt, _ = compose_prompt(recipe, catalog)
    assert "sunset" not in prompt and "daytime" not in prompt
    assert catalog.scene("beach").description not in prompt
    assert "on a lake jetty" in prompt


def test_prompt_stays_within_the_recipe_limits(catalog):
    recipe = beach_recipe()
    recipe.scene.description = ", ".join(["a very long description of a scene"] * 28)[:1000]
    recipe.subject.description = "x" * 200
    recipe.loras = [LoraChoice(name=n, weight=0.5) for n in ("film_grain", "cinematic", "watercolor",
                                                            "render_3d", "pixel_art")]
    prompt, negative = compose_prompt(recipe, catalog)
    assert len(prompt) <= 4000 and len(negative) <= 2000
    recipe.prompt, recipe.negative_prompt = prompt, negative  # validates against the field limits


def test_vocabulary_falls_back_to_the_shipped_one(tmp_path):
    for name in ("scenes.yaml", "lighting.yaml", "loras.yaml", "marketplaces.yaml"):
        shutil.copy(load_catalog().folder / name, tmp_path / name)
    vocab = load_vocabulary(tmp_path)
    assert vocab["time_words"]["sunset"]
    prompt, _ = compose_prompt(beach_recipe(), load_catalog(tmp_path))
    assert "with a red umbrella" in prompt
