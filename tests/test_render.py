"""Tests for the embedded preview renderer (sceneshop.tools.preview): it draws the recipe and never
repaints the product."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from PIL import Image

from sceneshop.agent.recipe import Recipe
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.composite import mask_box, place_product, product_core
from sceneshop.tools.errors import Cancelled, InputError
from sceneshop.tools.imageio import save_png
from sceneshop.tools.preview.renderer import EmbeddedRenderer, kelvin_to_rgb

FEATHER = 2


def recipe(**fields) -> Recipe:
    fields.setdefault("seed", 11)
    fields.setdefault("width", 512)
    fields.setdefault("height", 512)
    return Recipe(**fields)


def rgb(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB")).astype(np.int32)


def red_blue(pixels: np.ndarray) -> float:
    return float(pixels[..., 0].mean() / max(1.0, pixels[..., 2].mean()))


def far_from(mask: Image.Image, distance: int) -> np.ndarray:
    """Pixels more than `distance` px away from the mask (a square dilation, so conservative)."""
    hard = (np.asarray(mask.convert("L")) >= 128).astype(np.uint8)
    return cv2.dilate(hard, np.ones((2 * distance + 1, 2 * distance + 1), np.uint8)) == 0


# ---------------------------------------------------------------- the product is never repainted


@pytest.mark.parametrize("preset, time", [
    ("studio_white", None), ("beach", "sunset"), ("marble", None), ("city_street_night", None),
    ("flat_lay", None), ("festive", None), ("podium", None),
])
def test_product_pixels_are_bit_exact_after_placement(renderer, coffee, coffee_mask, preset, time):
    r = recipe(scene={"preset": preset, "props": ["ceramic dish", "small plant"], "clutter": 0.8},
               time_of_day=time)
    out = renderer.render(r, coffee, coffee_mask)[0]
    assert out.size == (512, 512) and out.mode == "RGB"
    placed = renderer.placement(r, coffee, coffee_mask)
    core = product_core(placed.mask, FEATHER)
    assert core.sum() > 0.2 * 512 * 512
    assert np.array_equal(rgb(out)[core], rgb(placed.product)[core])


def test_photo_framing_kept_when_canvas_is_the_photo_size(renderer, coffee, coffee_mask):
    """Canvas = photo size, no marketplace, framing medium -> fill=None: the product keeps its size
    and column, and is only moved down onto the scene's surface line: a whole-pixel shift, so the
    output equals the photo's own pixels inside the product."""
    photo = Image.new("RGB", (600, 400), (90, 120, 150))
    photo.paste(coffee.resize((240, 160)), (300, 40))
    mask = Image.new("L", (600, 400), 0)
    mask.paste(coffee_mask.resize((240, 160)), (300, 40))
    r = recipe(width=600, height=400, scene={"preset": "beach"}, time_of_day="sunset")
    out = renderer.render(r, photo, mask)[0]
    assert out.size == (600, 400)
    placed = renderer.placement(r, photo, mask)
    assert placed.scale == 1.0
    before = mask_box(mask)
    dy = placed.box[1] - before[1]
    assert dy > 0 and placed.box[0] == before[0]
    core = product_core(placed.mask, FEATHER)
    shifted = np.roll(rgb(photo), dy, axis=0)
    assert np.array_equal(rgb(out)[core], shifted[core])


def test_product_too_tall_for_the_surface_line_is_scaled_to_fit(renderer, coffee, coffee_mask):
    r = recipe(width=600, height=400, scene={"preset": "marble"})
    placed = renderer.placement(r, coffee, coffee_mask)
    assert placed.scale < 1.0
    assert placed.box[1] >= 0.05 * 400 - 1
    out = renderer.render(r, coffee, coffee_mask)[0]
    core = product_core(placed.mask, FEATHER)
    assert np.array_equal(rgb(out)[core], rgb(placed.product)[core])


def test_explicit_framing_rescales_the_product(renderer, coffee, coffee_mask):
    close_recipe = recipe(width=600, height=400, camera={"framing": "close"})
    wide_recipe = recipe(width=600, height=400, camera={"framing": "wide"})
    close = renderer.render(close_recipe, coffee, coffee_mask)[0]
    wide = renderer.render(wide_recipe, coffee, coffee_mask)[0]
    close_box = renderer.placement(close_recipe, coffee, coffee_mask).box
    wide_box = renderer.placement(wide_recipe, coffee, coffee_mask).box
    assert close_box[2] - close_box[0] > wide_box[2] - wide_box[0]
    for out, r in ((close, close_recipe), (wide, wide_recipe)):
        placed = renderer.placement(r, coffee, coffee_mask)
        core = product_core(placed.mask, FEATHER)
        assert np.array_equal(rgb(out)[core], rgb(placed.product)[core])


# ---------------------------------------------------------------- marketplace presets


def test_amazon_main_is_pure_white_and_fills_the_frame(renderer, coffee, coffee_mask):
    r = recipe(scene={"preset": "beach", "props": ["seashells"], "clutter": 1.0}, time_of_day="sunset",
               lighting={"kelvin": 2500, "exposure": -0.5}, output={"preset": "amazon_main"})
    out = renderer.render(r, coffee, coffee_mask)[0]
    assert out.size == (2000, 2000)
    placed = place_product(coffee, coffee_mask, 2000, 2000, load_catalog().marketplace("amazon_main").fill)
    pixels = rgb(out)
    away = far_from(placed.mask, 3 * FEATHER + 3)
    assert away.sum() > 0.1 * 2000 * 2000
    assert (pixels[away] == 255).all()  # no scene, shadow, tint or vignette
    left, top, right, bottom = Image.fromarray((pixels != 255).any(axis=2).astype(np.uint8) * 255).getbbox()
    assert max(right - left, bottom - top) >= 0.85 * 2000
    core = product_core(placed.mask, FEATHER)
    assert np.array_equal(pixels[core], rgb(placed.product)[core])


def test_marketplace_size_and_fill(renderer, coffee, coffee_mask):
    story = renderer.render(recipe(output={"preset": "instagram_story"}), coffee, coffee_mask)[0]
    assert story.size == (1080, 1920)
    # An explicit framing wins over the preset's fill; "medium" (the default) does not.
    etsy_close = recipe(output={"preset": "etsy"}, camera={"framing": "close"})
    close = renderer.render(etsy_close, coffee, coffee_mask)[0]
    placed = renderer.placement(etsy_close, coffee, coffee_mask)
    framed = place_product(coffee, coffee_mask, 2000, 1500, 0.8)
    assert placed.box[2] - placed.box[0] == framed.box[2] - framed.box[0]  # the framing's size
    core = product_core(placed.mask, FEATHER)
    assert close.size == (2000, 1500)
    assert np.array_equal(rgb(close)[core], rgb(placed.product)[core])


# ---------------------------------------------------------------- the scene follows the recipe


def beach(renderer, time: str) -> np.ndarray:
    r = recipe(mode="text_to_image", scene={"preset": "beach"}, time_of_day=time)
    return rgb(renderer.render(r, None, None)[0])


def test_sunset_sky_is_redder_than_day(renderer):
    day, sunset, night = beach(renderer, "day"), beach(renderer, "sunset"), beach(renderer, "night")
    sky = slice(0, 200)  # the upper part of a 512 px frame is sky
    assert red_blue(sunset[sky]) > 1.3 * red_blue(day[sky])
    assert night[sky].mean() < 0.5 * day[sky].mean()


def test_each_time_of_day_lights_the_city_street_its_own_way(renderer):
    def street(time: str) -> np.ndarray:
        r = recipe(mode="text_to_image", width=256, height=256, scene={"preset": "city_street_day"},
                   time_of_day=time)
        return rgb(renderer.render(r, None, None)[0])

    pictures = {time: street(time) for time in ("sunrise", "day", "sunset", "night")}
    sky = slice(0, 80)  # above the buildings' tops
    assert red_blue(pictures["sunset"][sky]) > 1.3 * red_blue(pictures["day"][sky])
    assert red_blue(pictures["sunrise"][sky]) > 1.1 * red_blue(pictures["day"][sky])
    assert pictures["night"].mean() < 0.4 * pictures["day"].mean()
    assert pictures["sunset"].mean() < pictures["sunrise"].mean() < pictures["day"].mean()


def test_negated_words_draw_nothing(renderer):
    """"no snow, no trees" goes to the diffusion engine's negative prompt; the preview must not draw
    snowfall or trees for it either: the same picture as without those words."""
    def beach(description: str) -> np.ndarray:
        r = recipe(mode="text_to_image", width=256, height=256,
                   scene={"preset": "beach", "description": description})
        return rgb(renderer.render(r, None, None)[0])

    plain = beach("beach")
    assert np.array_equal(beach("beach, no snow, no trees"), plain)
    assert not np.array_equal(beach("beach, snow"), plain)  # the words themselves do draw
    # A custom scene takes its colour from what the words ask for, not from what they exclude.
    def custom(description: str) -> np.ndarray:
        r = recipe(mode="text_to_image", width=256, height=256,
                   scene={"preset": "custom", "description": description})
        return rgb(renderer.render(r, None, None)[0])

    assert np.array_equal(custom("a studio backdrop, no red"), custom("a studio backdrop"))
    assert np.array_equal(custom("a blue backdrop, not red"), custom("a blue backdrop"))


def test_lower_kelvin_gives_a_warmer_background(renderer, coffee, coffee_mask):
    outside = far_from(renderer.placement(recipe(scene={"preset": "studio_grey"}), coffee, coffee_mask).mask,
                       12)
    ratios = []
    for kelvin in (2800, 5500, 8500):
        r = recipe(scene={"preset": "studio_grey"}, lighting={"kelvin": kelvin})
        ratios.append(red_blue(rgb(renderer.render(r, coffee, coffee_mask)[0])[outside]))
    assert ratios[0] > ratios[1] > ratios[2]


def test_exposure_brightens(renderer):
    dark = renderer.render(recipe(mode="text_to_image", scene={"preset": "studio_grey"},
                                  lighting={"exposure": -0.8}), None, None)[0]
    bright = renderer.render(recipe(mode="text_to_image", scene={"preset": "studio_grey"},
                                    lighting={"exposure": 0.8}), None, None)[0]
    assert rgb(bright).mean() > rgb(dark).mean() + 40


def test_interior_is_darker_at_night(renderer):
    day = renderer.render(recipe(mode="text_to_image", scene={"preset": "living_room"}), None, None)[0]
    night = renderer.render(
        recipe(mode="text_to_image", scene={"preset": "living_room"}, time_of_day="night"), None, None
    )[0]
    assert rgb(night).mean() < 0.7 * rgb(day).mean()


def test_less_busy_draws_fewer_props(renderer, coffee, coffee_mask):
    def changed_pixels(**scene) -> int:
        empty = rgb(renderer.render(recipe(scene={"preset": "marble", "props": [], "clutter": 0.0}),
                                    coffee, coffee_mask)[0])
        busy = rgb(renderer.render(recipe(scene={"preset": "marble", **scene}), coffee, coffee_mask)[0])
        return int((np.abs(busy - empty).max(axis=2) > 6).sum())

    busy = changed_pixels(props=["ceramic dish", "eucalyptus sprig", "linen napkin"], clutter=1.0)
    calmer = changed_pixels(props=["ceramic dish"], clutter=0.3)
    bare = changed_pixels(props=[], clutter=0.0)
    assert busy > calmer > bare == 0


def test_things_the_merchant_adds_in_words_are_drawn(renderer, coffee, coffee_mask):
    """'add a croissant' puts the words in scene.description, not in the preset's props: the preview
    draws them all the same, even in a scene busy with the preset's own props."""
    def drawn(description: str, props=("linen napkin", "dried flowers")) -> np.ndarray:
        r = recipe(scene={"preset": "wood_table", "props": list(props), "clutter": 0.4,
                          "description": description})
        return rgb(renderer.render(r, coffee, coffee_mask)[0])

    plain = drawn("")
    for words in ("croissant", "a few seashells", "dried orange slices and cinnamon sticks around it"):
        assert (np.abs(drawn(words) - plain).max(axis=2) > 10).sum() > 500, words
    # Words that name no thing, or a thing only as a modifier ("orange light"), add no shape.
    for words in ("library with old bookshelves", "orange light"):
        assert not (np.abs(drawn(words, props=()) - drawn("", props=())).max(axis=2) > 10).any(), words


def test_contrast_words_grade_the_scene_and_never_the_product(renderer, planner, coffee, coffee_mask):
    base = planner.plan("my cup in a cafe", image_size=coffee.size)
    crisp = planner.plan("more contrast", base, image_size=coffee.size)
    muted = planner.plan("less contrast", base, image_size=coffee.size)
    placed = renderer.placement(base, coffee, coffee_mask)
    outside, inside = far_from(placed.mask, 12), product_core(placed.mask, FEATHER)
    a, b, c = (rgb(renderer.render(r, coffee, coffee_mask)[0]) for r in (base, crisp, muted))
    assert b[outside].std() > 1.1 * a[outside].std() > 1.1 * 1.1 * c[outside].std()
    assert np.array_equal(a[inside], b[inside]) and np.array_equal(a[inside], c[inside])


def test_a_thing_named_with_a_colour_is_painted_that_colour(renderer, coffee, coffee_mask):
    def towels(colour: str) -> np.ndarray:
        r = recipe(scene={"preset": "bathroom_spa", "props": [], "clutter": 0.4,
                          "description": f"{colour} towels"})
        return rgb(renderer.render(r, coffee, coffee_mask)[0])

    white, navy = towels("white"), towels("navy")
    differ = np.abs(white - navy).max(axis=2) > 40
    assert differ.sum() > 500
    assert white[differ].mean() > navy[differ].mean() + 60


def test_a_background_blur_lens_blurs_the_backdrop_and_never_the_product(renderer, coffee, coffee_mask):
    def detail(image: Image.Image, where: np.ndarray) -> float:  # how much the backdrop changes px to px
        grey = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2GRAY).astype(np.float32)
        return float(np.abs(cv2.Laplacian(grey, cv2.CV_32F))[where].mean())

    kitchen = {"preset": "kitchen"}
    sharp = recipe(scene=kitchen, camera={"lens": "50mm, everything in focus"})
    blurred = recipe(scene=kitchen, camera={"lens": "85mm telephoto, creamy background blur"})
    placed = renderer.placement(sharp, coffee, coffee_mask)
    outside = far_from(placed.mask, 12)
    a, b = (renderer.render(r, coffee, coffee_mask)[0] for r in (sharp, blurred))
    assert detail(b, outside) < 0.6 * detail(a, outside)
    inside = product_core(placed.mask, FEATHER)
    assert np.array_equal(rgb(a)[inside], rgb(b)[inside])


# ---------------------------------------------------------------- seeds, variations, determinism


def test_same_recipe_gives_identical_png_bytes(renderer, coffee, coffee_mask, tmp_path):
    r = recipe(scene={"preset": "terrazzo", "props": ["vase"], "clutter": 0.7})
    first = renderer.render(r, coffee, coffee_mask)[0]
    again = EmbeddedRenderer().render(Recipe.from_json(r.to_json()), coffee, coffee_mask)[0]
    save_png(first, tmp_path / "a.png", {"sceneshop:recipe": r.to_json()})
    save_png(again, tmp_path / "b.png", {"sceneshop:recipe": r.to_json()})
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()


def test_another_seed_is_another_variation(renderer, coffee, coffee_mask):
    a = renderer.render(recipe(scene={"preset": "wood_table", "props": ["cup"], "clutter": 0.6}, seed=1),
                        coffee, coffee_mask)[0]
    b = renderer.render(recipe(scene={"preset": "wood_table", "props": ["cup"], "clutter": 0.6}, seed=2),
                        coffee, coffee_mask)[0]
    differ = np.abs(rgb(a) - rgb(b)).max(axis=2) > 10
    assert differ.mean() > 0.05


def test_count_gives_consecutive_seeds(renderer):
    r = recipe(mode="text_to_image", scene={"preset": "concrete"}, output={"count": 2}, width=256, height=256)
    first, second = renderer.render(r, None, None)
    assert not np.array_equal(rgb(first), rgb(second))
    alone = renderer.render(r.child("next", seed=r.seed + 1, output={"count": 1}), None, None)[0]
    assert np.array_equal(rgb(second), rgb(alone))


# ---------------------------------------------------------------- progress, cancel, modes


def test_progress_counts_up_to_the_total(renderer):
    seen = []
    renderer.render(recipe(mode="text_to_image", output={"count": 2}, width=256, height=256), None, None,
                    progress=lambda step, total: seen.append((step, total)))
    assert seen == [(i, 10) for i in range(1, 11)]


def test_cancel_before_start_raises(renderer, coffee, coffee_mask):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled, match="cancelled"):
        renderer.render(recipe(), coffee, coffee_mask, cancel=cancel)


def test_cancel_between_stages_raises(renderer):
    cancel = threading.Event()
    steps = []

    def progress(step, total):
        steps.append(step)
        if step == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        renderer.render(recipe(mode="text_to_image"), None, None, progress=progress, cancel=cancel)
    assert steps == [1, 2]


def test_text_to_image_draws_only_the_scene(renderer, coffee, coffee_mask):
    r = recipe(mode="text_to_image", scene={"preset": "studio_pastel_pink"}, width=256, height=256)
    with_photo = renderer.render(r, coffee, coffee_mask)[0]
    without = renderer.render(r, None, None)[0]
    assert np.array_equal(rgb(with_photo), rgb(without))
    assert red_blue(rgb(without)) > 1.05  # pink, not grey


def test_restyle_grades_background_and_keeps_product(renderer, coffee, coffee_mask):
    r = recipe(mode="restyle", width=600, height=400, scene={"preset": "gradient_ocean"})
    out = rgb(renderer.render(r, coffee, coffee_mask)[0])
    core = product_core(coffee_mask, FEATHER)
    assert np.array_equal(out[core], rgb(coffee)[core])
    outside = far_from(coffee_mask, 8)
    assert red_blue(out[outside]) < red_blue(rgb(coffee)[outside])  # pulled towards the blue scene


def test_inpaint_repaints_only_the_mask(renderer, coffee):
    area = Image.new("L", coffee.size, 0)
    area.paste(255, (0, 0, 200, 400))  # the left third
    r = recipe(mode="inpaint", width=600, height=400, scene={"preset": "studio_pastel_blue"})
    out = rgb(renderer.render(r, coffee, area)[0])
    keep = far_from(area, 8)
    assert np.array_equal(out[keep], rgb(coffee)[keep])
    assert not np.array_equal(out[:, :190], rgb(coffee)[:, :190])


def test_missing_inputs_are_refused_with_the_shared_wording(renderer, coffee, coffee_mask):
    with pytest.raises(InputError, match="mode 'replace_background' needs a product photo"):
        renderer.render(recipe(), None, None)
    with pytest.raises(InputError, match="inpaint needs a mask of the area to repaint"):
        renderer.render(recipe(mode="inpaint"), coffee, None)
    with pytest.raises(InputError, match="mask size"):
        renderer.render(recipe(), coffee, coffee_mask.resize((300, 200)))


def test_missing_mask_is_found_by_segmentation(renderer):
    photo = Image.new("RGB", (512, 512), (255, 255, 255))
    photo.paste((20, 90, 200), (180, 150, 330, 420))
    r = recipe(width=512, height=512, scene={"preset": "studio_black"})
    out = rgb(renderer.render(r, photo, None)[0])
    assert (out[300, 250] == (20, 90, 200)).all()
    assert out[20, 20].mean() < 80  # the white backdrop became the black studio


def test_cutout_edges_do_not_show_the_hidden_backdrop(renderer):
    """A transparent PNG hides black RGB under alpha 0; the feathered edge must blend with the
    product's own colour, not with that hidden black."""
    alpha = Image.new("L", (512, 512), 0)
    alpha.paste(255, (150, 120, 360, 430))
    cutout = Image.new("RGB", (512, 512), (0, 0, 0))
    cutout.paste((210, 40, 40), (150, 120, 360, 430))
    cutout.putalpha(alpha)
    out = rgb(renderer.render(recipe(scene={"preset": "studio_white"}), cutout, alpha)[0])
    ring = far_from(alpha, 0) & ~far_from(alpha, 3)  # the 3 px just outside the product
    ring[380:] = False  # the contact shadow darkens the floor below it on purpose
    assert ring.sum() > 1000
    assert out[ring][:, 0].min() > 170  # red stays high: no dark fringe


# ---------------------------------------------------------------- every preset, and the engine itself


def test_every_catalog_scene_renders(renderer, coffee, coffee_mask):
    catalog = load_catalog()
    for name, scene in catalog.scenes.items():
        r = recipe(width=256, height=256, scene={"preset": name, "props": list(scene.props), "clutter": 0.7})
        out = renderer.render(r, coffee, coffee_mask)[0]
        assert out.size == (256, 256), name
        assert rgb(out).std() > 3, name  # not a blank frame


def test_custom_scene_uses_colour_words(renderer):
    r = recipe(mode="text_to_image", width=256, height=256,
               scene={"preset": "custom", "description": "a soft green backdrop"})
    green = rgb(renderer.render(r, None, None)[0])
    assert green[..., 1].mean() > green[..., 0].mean() + 10


def test_engine_identity():
    engine = EmbeddedRenderer()
    assert engine.name == "embedded preview renderer"
    assert engine.reason == "no diffusion model configured"
    assert EmbeddedRenderer(reason="diffusers model not found offline").reason.startswith("diffusers")


def test_kelvin_colours():
    warm, cool = kelvin_to_rgb(2800), kelvin_to_rgb(9000)
    assert warm[0] > warm[2] and cool[2] > cool[0]
