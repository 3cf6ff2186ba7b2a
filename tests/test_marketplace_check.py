"""The marketplace check on real pixels: a clean Amazon picture from the real preview renderer
passes; an island, an off-white background, a small product or a wrong size each fail and say so."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from sceneshop.agent.planner import EmbeddedPlanner
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.marketplace_check import check_marketplace
from sceneshop.tools.preview import EmbeddedRenderer

AMAZON = load_catalog().marketplaces["amazon_main"]


@pytest.fixture(scope="module")
def amazon_picture(coffee, coffee_mask) -> Image.Image:
    recipe = EmbeddedPlanner().plan("white background for amazon", image_size=coffee.size)
    assert recipe.output.preset == "amazon_main"
    return EmbeddedRenderer().render(recipe, coffee, coffee_mask)[0]


def test_a_clean_amazon_picture_passes(amazon_picture):
    result = check_marketplace(amazon_picture, AMAZON)
    assert result.passed, str(result)
    assert result.fill >= 0.85 and result.islands == 0
    assert str(result) == "Amazon main image check passed"


def test_a_detached_island_fails_and_says_fix_the_cut_out(amazon_picture):
    dirty = amazon_picture.copy()
    draw = ImageDraw.Draw(dirty)
    draw.ellipse((20, 1900, 60, 1940), fill=(120, 100, 80))  # a blob of the old room, apart
    draw.rectangle((1950, 30, 1970, 90), fill=(90, 90, 90))
    result = check_marketplace(dirty, AMAZON)
    assert not result.passed and result.islands == 2
    assert "2 detached regions outside the product — fix the cut-out" in str(result)
    assert str(result).startswith("Amazon main image check failed:")


def test_off_white_background_fails(amazon_picture):
    grey = Image.new("RGB", amazon_picture.size, (250, 250, 250))
    grey.paste(amazon_picture.crop((300, 300, 1700, 1700)), (300, 300))
    result = check_marketplace(grey, AMAZON)
    assert not result.passed and "not pure white" in str(result)


def test_small_product_and_wrong_size_fail():
    canvas = Image.new("RGB", (2000, 2000), "white")
    ImageDraw.Draw(canvas).rectangle((700, 700, 1300, 1300), fill=(200, 40, 40))
    result = check_marketplace(canvas, AMAZON)
    assert not result.passed and "fills 30% of the longer side" in str(result)
    small = check_marketplace(Image.new("RGB", (1000, 1000), "white"), AMAZON)
    assert "size 1000x1000, expected 2000x2000" in str(small) and "no product" in str(small)
    story = load_catalog().marketplaces["instagram_story"]
    assert "aspect" in str(check_marketplace(Image.new("RGB", (1000, 1000)), story))
    assert check_marketplace(Image.new("RGB", (1080, 1920)), story).passed


def test_a_pair_and_print_inside_a_white_label_are_one_product():
    canvas = Image.new("RGB", (2000, 2000), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((80, 200, 960, 1900), fill=(30, 30, 30))  # left shoe
    draw.rectangle((1040, 200, 1920, 1900), fill=(30, 30, 30))  # right shoe
    draw.rectangle((300, 600, 740, 1000), fill=(255, 255, 255))  # a blown-out white label...
    draw.text((420, 780), "LOGO", fill=(0, 0, 0))  # ...with print detached from the outline
    result = check_marketplace(canvas, AMAZON)
    assert result.passed, str(result)


def test_cli_check_exit_codes(tmp_path, amazon_picture):
    from sceneshop.agent.cli import main

    good, bad = tmp_path / "good.png", tmp_path / "bad.png"
    amazon_picture.save(good)
    dirty = amazon_picture.copy()
    ImageDraw.Draw(dirty).ellipse((20, 1900, 60, 1940), fill=(120, 100, 80))
    dirty.save(bad)
    assert main(["check", str(good), "--marketplace", "amazon_main"]) == 0
    assert main(["check", str(bad), "-m", "amazon_main"]) == 1
    assert main(["check", str(good), "-m", "ebay"]) == 2


def test_generate_checks_and_marks_the_picture(tmp_path, coffee, coffee_mask):
    from click.testing import CliRunner

    from sceneshop.agent.cli.group import main_group

    coffee.save(tmp_path / "cup.png")
    coffee_mask.save(tmp_path / "mask.png")
    out = tmp_path / "amazon.png"
    run = CliRunner().invoke(
        main_group,
        ["generate", "white background for amazon", "--image", str(tmp_path / "cup.png"),
         "--mask", str(tmp_path / "mask.png"), "-o", str(out)],
    )
    assert run.exit_code == 0, run.output
    assert f"{out}: Amazon main image check passed" in run.output
    assert Image.open(out).info["sceneshop:check"] == "Amazon main image check passed"
