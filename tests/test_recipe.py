"""The recipe contract: fields, lineage, JSON round trip, schema version, validation messages."""

import json

import pytest

from sceneshop.agent.recipe import SCHEMA_VERSION, LoraChoice, Recipe, check_against_catalog
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import CatalogError, RecipeError

DESIGN_FIELDS = {
    "id",
    "parent_id",
    "request",
    "mode",
    "subject",
    "scene",
    "lighting",
    "time_of_day",
    "camera",
    "loras",
    "prompt",
    "negative_prompt",
    "width",
    "height",
    "steps",
    "guidance",
    "strength",
    "seed",
    "scheduler",
    "output",
    "schema_version",
}


def test_has_every_design_field_and_round_trips():
    recipe = Recipe(
        request="beach at sunset", time_of_day="sunset", loras=[LoraChoice(name="film_grain", weight=0.4)]
    )
    assert DESIGN_FIELDS <= set(Recipe.model_fields)
    assert Recipe.from_json(recipe.to_json()) == recipe
    assert isinstance(recipe.seed, int)


def test_child_keeps_fields_and_links_parent():
    parent = Recipe(request="beach")
    child = parent.child("warmer", lighting=parent.lighting.model_copy(update={"kelvin": 4000}))
    assert child.parent_id == parent.id and child.id != parent.id
    assert child.seed == parent.seed and child.lighting.kelvin == 4000 and child.request == "warmer"


def test_newer_schema_is_refused_with_upgrade_hint():
    data = json.loads(Recipe().to_json())
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(RecipeError, match="newer.*upgrade"):
        Recipe.from_dict(data)


@pytest.mark.parametrize(
    "field, value, name",
    [
        ("steps", 500, "steps"),
        ("guidance", -1, "guidance"),
        ("width", 10, "width"),
        ("mode", "paint", "mode"),
    ],
)
def test_out_of_range_values_name_the_field(field, value, name):
    data = json.loads(Recipe().to_json())
    data[field] = value
    with pytest.raises(RecipeError, match=f"'{name}'"):
        Recipe.from_dict(data)


def test_nested_field_error_names_the_path():
    data = json.loads(Recipe().to_json())
    data["lighting"]["kelvin"] = 99999
    with pytest.raises(RecipeError, match="lighting.kelvin"):
        Recipe.from_dict(data)


def test_malformed_json_is_a_recipe_error():
    with pytest.raises(RecipeError, match="not valid JSON"):
        Recipe.from_json("{not json")


def test_size_rounds_down_to_multiple_of_8():
    assert Recipe(width=1001, height=1023).width == 1000


def test_catalog_check_clamps_lora_weight_and_notes_it():
    recipe = check_against_catalog(Recipe(loras=[LoraChoice(name="film_grain", weight=1.9)]), load_catalog())
    assert recipe.loras[0].weight == load_catalog().lora("film_grain").weight_max
    assert any("clamped" in note for note in recipe.notes)


def test_unknown_lora_lists_known_names():
    with pytest.raises(CatalogError, match="beach_sunset_v2.*known:.*film_grain"):
        check_against_catalog(Recipe(loras=[LoraChoice(name="beach_sunset_v2", weight=0.5)]), load_catalog())


def test_unknown_scene_preset_is_refused():
    recipe = Recipe()
    recipe.scene.preset = "moon_base"
    with pytest.raises(CatalogError, match="moon_base"):
        check_against_catalog(recipe, load_catalog())


def test_catalog_sizes():
    catalog = load_catalog()
    assert len(catalog.scenes) >= 30 and len(catalog.lighting) >= 10 and len(catalog.loras) >= 12
    assert {"amazon_main", "shopify_square", "instagram_post", "instagram_story", "etsy"} <= set(
        catalog.marketplaces
    )
    amazon = catalog.marketplace("amazon_main")
    assert amazon.background == "#ffffff" and amazon.fill >= 0.85 and max(amazon.width, amazon.height) >= 1600
    story = catalog.marketplace("instagram_story")
    assert story.width * 16 == story.height * 9
    etsy = catalog.marketplace("etsy")
    assert etsy.width * 3 == etsy.height * 4


def test_malformed_catalog_entry_names_the_file_and_entry(tmp_path):
    import shutil

    import yaml

    from sceneshop.tools.catalog import default_folder

    folder = tmp_path / "prompts"
    shutil.copytree(default_folder(), folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    lighting = yaml.safe_load((folder / "lighting.yaml").read_text())
    del lighting["softbox"]["kelvin"]
    (folder / "lighting.yaml").write_text(yaml.safe_dump(lighting))
    with pytest.raises(CatalogError, match="lighting.yaml: entry 'softbox' is malformed.*kelvin"):
        load_catalog(folder)
