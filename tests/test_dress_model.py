"""Mannequin to model (mode dress_model) on tiny local SD1.5-style pipelines: the garment stays
bit-exact, the mask handed to the inpainting pipeline covers the person area, LoRAs apply."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from sceneshop.agent.recipe import LoraChoice, Output, Recipe
from sceneshop.tools.composite import product_core
from sceneshop.tools.diffusion.dress import dress_layers
from sceneshop.tools.diffusion.engine import DiffusionEngine
from sceneshop.tools.diffusion.tiny import build_sd15, save_lora
from sceneshop.tools.errors import InputError

W, H = 64, 48


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()  # see test_diffusion.py: toy models run faster on one thread
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    root = tmp_path_factory.mktemp("dress")
    save_lora(root / "loras", "neon_glow", "sd15", seed=1)
    base = build_sd15(root / "sd15")
    inpaint = build_sd15(root / "sd15_inpaint", seed=1, inpainting=True)
    return {"base": DiffusionEngine(str(base), lora_dir=root / "loras"),
            "inpaint": DiffusionEngine(str(base), inpaint_model=str(inpaint), lora_dir=root / "loras")}


@pytest.fixture(scope="module")
def mannequin():
    """A beige mannequin (head, torso, legs) on grey, wearing a striped red dress; the mask is the
    dress alone. Returns (photo, garment mask, mannequin-without-dress area)."""
    photo = Image.new("RGB", (W, H), (120, 120, 125))
    body = Image.new("L", (W, H), 0)
    dress = Image.new("L", (W, H), 0)
    for layer, colour in ((photo, (225, 205, 180)), (body, 255)):
        d = ImageDraw.Draw(layer)
        d.ellipse((27, 2, 37, 12), fill=colour)  # head
        d.rectangle((24, 12, 40, 32), fill=colour)  # torso
        d.rectangle((26, 32, 30, 46), fill=colour)  # legs
        d.rectangle((34, 32, 38, 46), fill=colour)
    for layer, colour in ((photo, (200, 20, 30)), (dress, 255)):
        ImageDraw.Draw(layer).polygon([(24, 14), (40, 14), (44, 36), (20, 36)], fill=colour)
    for y in range(16, 36, 4):
        ImageDraw.Draw(photo).line((22, y, 42, y), fill=(250, 240, 10))
    person = (np.asarray(body) > 0) & (np.asarray(dress) == 0)
    return photo, dress, person


def recipe(**changes) -> Recipe:
    base = Recipe(mode="dress_model", person="a woman in her 30s, natural make-up",
                  prompt="full-body fashion photo of a person wearing the dress, a woman in her 30s",
                  negative_prompt="mannequin", steps=2, seed=3, guidance=5.0)
    return base.model_copy(update={"width": W, "height": H, **changes})


@pytest.mark.parametrize("which", ["base", "inpaint"])
def test_the_garment_stays_exact_and_the_mannequin_is_painted_over(engines, mannequin, which):
    photo, dress, person = mannequin
    out = engines[which].render(recipe(), photo, dress)[0]
    assert out.size == (W, H)
    core = product_core(dress)
    assert core.sum() > 200
    pixels, before = np.asarray(out, np.int16), np.asarray(photo, np.int16)
    assert np.array_equal(pixels[core], before[core])
    assert np.abs(pixels[person] - before[person]).mean() > 5  # the mannequin is gone


def test_the_mask_handed_to_the_pipeline_covers_the_person_area(engines, mannequin):
    photo, dress, person = mannequin
    job = engines["base"]._prepare(recipe(), photo, dress)  # the job `render` hands to the pipeline
    assert job.task == "inpaint" and job.strength == 1.0
    repaint = np.asarray(job.repaint)
    assert (repaint[person] == 255).all()  # every mannequin pixel is repainted
    assert (repaint[product_core(dress)] == 0).all()  # no garment pixel is
    assert (repaint[np.asarray(dress) == 0] == 255).all()
    product, kept, again = dress_layers(photo, dress, (W, H))
    assert np.array_equal(np.asarray(again), repaint) and np.array_equal(np.asarray(kept), np.asarray(dress))
    # The text layer and harmonizing see the garment where it is in the picture.
    assert np.array_equal(np.asarray(engines["base"].product_mask(recipe(), photo, dress)), np.asarray(dress))


def test_a_new_canvas_outpaints_around_the_garment_at_its_own_size(engines, mannequin):
    photo, dress, _ = mannequin
    out = engines["base"].render(recipe(output=Output(preset="instagram_post")), photo, dress)[0]
    assert out.size == (1080, 1350)
    product, kept, _ = dress_layers(photo, dress, (1080, 1350))
    core = product_core(kept)
    assert core.sum() == product_core(dress).sum()  # scale 1: the garment's pixels, not a resampling
    assert np.array_equal(np.asarray(out)[core], np.asarray(product)[core])


def test_loras_apply_as_usual(engines, mannequin):
    photo, dress, person = mannequin
    plain = np.asarray(engines["base"].render(recipe(), photo, dress)[0], np.int16)
    styled = np.asarray(engines["base"].render(recipe(loras=[LoraChoice(name="neon_glow", weight=1.0)]),
                                               photo, dress)[0], np.int16)
    assert np.abs(plain[person] - styled[person]).mean() > 1
    core = product_core(dress)
    assert np.array_equal(plain[core], styled[core])


def test_dress_model_needs_a_garment_mask(engines, mannequin):
    photo, _, _ = mannequin
    with pytest.raises(InputError, match="garment's mask"):
        engines["base"].render(recipe(), photo, None)
