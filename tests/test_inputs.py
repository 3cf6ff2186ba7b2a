"""check_inputs: the one check of a render's photo and mask, at the top of both engines' render
(the diffusion engine's own cases are in test_diffusion.py, the preview's in test_render.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from sceneshop.agent.recipe import Recipe
from sceneshop.tools.errors import InputError
from sceneshop.tools.inputs import MODES, check_inputs, check_photo
from sceneshop.tools.segment import segment


def test_text_to_image_ignores_photo_and_mask(coffee, coffee_mask):
    assert check_inputs(Recipe(mode="text_to_image"), coffee, coffee_mask) == (None, None)
    assert check_inputs(Recipe(mode="text_to_image"), None, None) == (None, None)


@pytest.mark.parametrize("mode", ["replace_background", "restyle", "inpaint"])
def test_every_photo_mode_needs_the_photo(mode, coffee_mask):
    with pytest.raises(InputError, match=f"mode '{mode}' needs a product photo; upload one"):
        check_inputs(Recipe(mode=mode), None, coffee_mask)


def test_a_given_mask_is_used_as_it_is(coffee, coffee_mask):
    for mode in ("replace_background", "restyle", "inpaint"):
        image, mask = check_inputs(Recipe(mode=mode), coffee, coffee_mask)
        assert image is coffee and mask is coffee_mask


@pytest.mark.parametrize("mode", ["replace_background", "restyle"])
def test_without_a_mask_the_product_is_segmented(mode, coffee):
    _, mask = check_inputs(Recipe(mode=mode), coffee, None)
    assert np.array_equal(np.asarray(mask), np.asarray(segment(coffee)))


def test_inpaint_never_guesses_the_area_to_repaint(coffee):
    with pytest.raises(InputError, match=r"inpaint needs a mask of the area to repaint \(white = repaint\)"):
        check_inputs(Recipe(mode="inpaint"), coffee, None)


def test_a_mask_of_another_size_is_refused(coffee, coffee_mask):
    with pytest.raises(InputError, match=r"mask size \(300, 200\) differs from image size \(600, 400\)"):
        check_inputs(Recipe(), coffee, coffee_mask.resize((300, 200)))


def test_an_inpaint_mask_over_the_whole_photo_is_refused(coffee):
    everything = Image.new("L", coffee.size, 255)
    with pytest.raises(InputError, match="covers the whole photo; use restyle or text_to_image"):
        check_inputs(Recipe(mode="inpaint"), coffee, everything)
    everything.putpixel((0, 0), 0)  # one pixel kept is enough
    assert check_inputs(Recipe(mode="inpaint"), coffee, everything)[1] is everything


def test_check_photo_is_the_planning_time_half_of_the_same_rule():
    for mode in MODES:
        check_photo(mode, True)
    check_photo("text_to_image", False)
    with pytest.raises(InputError, match="mode 'restyle' needs a product photo"):
        check_photo("restyle", False)
    with pytest.raises(InputError, match="mode 'paint' is not one of replace_background"):
        check_inputs(SimpleNamespace(mode="paint"), None, None)
