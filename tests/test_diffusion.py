"""DiffusionEngine on tiny random SD1.5/SDXL-style pipelines saved to disk: modes, LoRAs, product pixels."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw
from safetensors.torch import load_file, save_file

from sceneshop.agent.planner.prompt import compose_prompt
from sceneshop.agent.recipe import Camera, LoraChoice, Output, Recipe
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.composite import place_product, product_core
from sceneshop.tools.diffusion.engine import DiffusionEngine, generation_size
from sceneshop.tools.diffusion.loras import resolve_lora
from sceneshop.tools.diffusion.tiny import build_sd15, build_sdxl, save_lora
from sceneshop.tools.diffusion.weights import check, pick_device, pick_dtype
from sceneshop.tools.errors import Cancelled, CatalogError, EngineError, InputError
from sceneshop.tools.preview.renderer import EmbeddedRenderer
from sceneshop.tools.preview.staging import surface_line
from sceneshop.tools.segment import segment

W, H = 64, 48  # non-square, so a width/height mix-up shows


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # The toy models gain nothing from intra-op threads, and on a shared 2-core machine torch's
    # spinning worker threads made each render 3-6x slower. Restored for the other test modules.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    loras = root / "loras"
    save_lora(loras, "neon_glow", "sd15", seed=1)
    save_lora(loras, "bokeh_dreamy", "sd15", seed=2)
    save_lora(loras, "film_grain", "sdxl", seed=3)
    save_lora(loras, "cinematic", "sdxl", seed=4)
    # An SDXL file filed under an SD 1.5 catalog name: the layer check, not the catalog, must catch it.
    save_lora(loras, "product_photo_sd15", "sdxl", seed=5)
    # An SD 1.5 LoRA with one extra layer the model does not have: a partial match.
    save_lora(loras, "lcm_sd15", "sd15", seed=6)
    weights = load_file(loras / "lcm_sd15.safetensors")
    for key in [k for k in weights if ".mid_block.attentions.0.transformer_blocks.0.attn1.to_q." in k]:
        weights[key.replace("transformer_blocks.0", "transformer_blocks.7")] = weights[key].clone()
    save_file(weights, loras / "lcm_sd15.safetensors")
    return {"sd15": build_sd15(root / "sd15"), "sdxl": build_sdxl(root / "sdxl"),
            "inpaint": build_sd15(root / "sd15_inpaint", seed=1, inpainting=True), "loras": loras}


@pytest.fixture(scope="session")
def engines(folders):
    return {family: DiffusionEngine(str(folders[family]), lora_dir=folders["loras"])
            for family in ("sd15", "sdxl")}


@pytest.fixture(scope="session")
def photo():
    """A striped red 'bottle' on grey, with its mask (255 = product)."""
    image = Image.new("RGB", (W, H), (128, 128, 128))
    mask = Image.new("L", (W, H), 0)
    draw, mdraw = ImageDraw.Draw(image), ImageDraw.Draw(mask)
    draw.rectangle((24, 8, 40, 44), fill=(200, 20, 30))
    for y in range(10, 44, 4):
        draw.line((24, y, 40, y), fill=(250, 240, 10))
    mdraw.rectangle((24, 8, 40, 44), fill=255)
    return image, mask


def recipe(**changes) -> Recipe:
    """A valid recipe shrunk to the tiny models' size (the schema's minimum is 256 px)."""
    base = Recipe(prompt="a bottle on a beach at sunset", negative_prompt="blurry", steps=2, seed=7,
                  guidance=5.0, strength=0.5)
    return base.model_copy(update={"width": W, "height": H, **changes})


def planned(**changes) -> Recipe:
    """recipe() with the prompt a planner writes for it (compose_prompt), LoRA triggers included."""
    r = recipe(**changes)
    r.prompt, r.negative_prompt = compose_prompt(r, load_catalog())
    return r


PREVIEW = EmbeddedRenderer(reason="the placement the preview renderer gives")


def staged(r: Recipe, image: Image.Image, mask: Image.Image):
    """The product layer as the preview renderer stages it: the diffusion engine must agree."""
    return PREVIEW.placement(r, image, mask)


def pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def loras(*pairs) -> list[LoraChoice]:
    return [LoraChoice(name=n, weight=w) for n, w in pairs]


SD15_PAIR = ("neon_glow", "bokeh_dreamy")
SDXL_PAIR = ("film_grain", "cinematic")


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
@pytest.mark.parametrize("mode", ["text_to_image", "restyle", "replace_background", "inpaint"])
def test_every_mode_returns_the_requested_size_and_reports_each_step(engines, photo, family, mode):
    image, mask = photo
    steps = []
    out = engines[family].render(recipe(mode=mode), image, mask, progress=lambda s, n: steps.append((s, n)))
    assert [o.size for o in out] == [(W, H)]
    assert out[0].mode == "RGB"
    # restyle and inpaint run strength 0.5 of 2 steps; text_to_image and replace_background all of them.
    expected = 1 if mode in ("restyle", "inpaint") else 2
    assert steps == [(i + 1, expected) for i in range(expected)]


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_replace_background_keeps_product_pixels_exactly(engines, photo, family):
    image, mask = photo
    # Medium framing on a canvas of the photo's size keeps the photo's scale; the product is moved
    # down onto the surface line by whole pixels, so its pixels are still the input's own.
    r = recipe(mode="replace_background")
    out = engines[family].render(r, image, mask)[0]
    placed = staged(r, image, mask)
    assert placed.scale == 1
    core = product_core(placed.mask)
    assert core.sum() > 100
    assert np.array_equal(pixels(out)[core], pixels(placed.product)[core])
    dy = placed.box[1] - 8
    assert np.array_equal(pixels(placed.product)[8 + dy:45 + dy, 24:41], pixels(image)[8:45, 24:41])
    assert np.abs(pixels(out)[np.asarray(placed.mask) == 0] - 128).mean() > 5  # the background was painted
    # A close framing re-places the product (scaled up): exact to the placed layer.
    close = recipe(mode="replace_background", camera=Camera(framing="close"))
    out = engines[family].render(close, image, mask)[0]
    placed = staged(close, image, mask)
    assert placed.scale > 1
    core = product_core(placed.mask)
    assert np.array_equal(pixels(out)[core], pixels(placed.product)[core])


@pytest.mark.parametrize("scene", ["studio_white", "marble", "beach", "cafe", "podium", "custom"])
def test_the_product_stands_on_the_scene_surface_line_as_in_the_preview(engines, photo, scene):
    image, mask = photo
    r = recipe(mode="replace_background", scene=recipe().scene.model_copy(update={"preset": scene}))
    out = engines["sd15"].render(r, image, mask)[0]
    placed_mask = engines["sd15"].product_mask(r, image, mask)
    line = surface_line(load_catalog().scene(scene if scene != "custom" else "studio_grey"), H)
    opaque = np.flatnonzero((np.asarray(placed_mask) >= 128).any(axis=1))
    assert opaque[-1] == line  # the lowest opaque row lies on the line
    # The same placement as the preview renderer's, and its pixels bit-exact in the output.
    preview = staged(r, image, mask)
    assert np.array_equal(np.asarray(placed_mask), np.asarray(preview.mask))
    core = product_core(preview.mask)
    assert core.sum() > 100 and np.array_equal(pixels(out)[core], pixels(preview.product)[core])
    preview_out = PREVIEW.render(r, image, mask)[0]
    assert np.array_equal(pixels(preview_out)[core], pixels(out)[core])


def test_real_photo_keeps_the_cup_exactly(engines, coffee, coffee_mask):
    r = recipe(mode="replace_background", width=96, height=64)
    out = engines["sd15"].render(r, coffee, coffee_mask)[0]
    assert out.size == (96, 64)
    placed = staged(r, coffee, coffee_mask)
    core = product_core(placed.mask)
    assert core.sum() > 500
    assert np.array_equal(pixels(out)[core], pixels(placed.product)[core])


def test_inpaint_repaints_only_the_masked_region(engines, photo):
    image, _ = photo
    repaint = Image.new("L", (W, H), 0)
    ImageDraw.Draw(repaint).rectangle((0, 0, 20, H), fill=255)
    out = engines["sd15"].render(recipe(mode="inpaint", strength=1.0), image, repaint)[0]
    kept = product_core(Image.eval(repaint, lambda v: 255 - v))
    assert np.array_equal(pixels(out)[kept], pixels(image)[kept])
    assert not np.array_equal(pixels(out)[:, :18], pixels(image)[:, :18])


def test_restyle_with_a_mask_keeps_the_product(engines, photo):
    image, mask = photo
    out = engines["sd15"].render(recipe(mode="restyle", strength=0.9), image, mask)[0]
    core = product_core(mask)
    assert np.array_equal(pixels(out)[core], pixels(image)[core])
    assert not np.array_equal(pixels(out)[~np.asarray(mask, bool)], pixels(image)[~np.asarray(mask, bool)])


def test_marketplace_preset_outpaints_at_native_size_and_keeps_product(engines, photo):
    image, mask = photo
    market = load_catalog().marketplace("instagram_post")
    out = engines["sd15"].render(recipe(mode="replace_background", output=Output(preset="instagram_post")),
                                 image, mask)
    assert [o.size for o in out] == [(1080, 1350)]
    placed = staged(recipe(mode="replace_background", output=Output(preset="instagram_post")), image, mask)
    assert placed.scale == pytest.approx(place_product(image, mask, 1080, 1350, market.fill).scale)
    core = product_core(placed.mask)
    assert np.array_equal(pixels(out[0])[core], pixels(placed.product)[core])
    # The tiny model's native size is 64 px: 1080x1350 is denoised at 56x72 and upscaled.
    assert engines["sd15"].base.native == 64
    assert generation_size(1080, 1350, 64) == (56, 72)


def test_fixed_colour_marketplace_is_pure_white_around_the_exact_product(engines, photo):
    image, mask = photo
    out = engines["sd15"].render(
        recipe(mode="replace_background", output=Output(preset="amazon_main", count=2)), image, mask)
    assert [o.size for o in out] == [(2000, 2000)] * 2
    placed = place_product(image, mask, 2000, 2000, load_catalog().marketplace("amazon_main").fill)
    core = product_core(placed.mask)
    assert np.array_equal(pixels(out[0])[core], pixels(placed.product)[core])
    assert (pixels(out[0])[:, :50] == 255).all()


def test_generation_size_keeps_aspect_and_multiples_of_8():
    assert generation_size(64, 48, 64) == (64, 48)
    assert generation_size(1020, 1020, 1024) == (1016, 1016)
    w, h = generation_size(1920, 1080, 512)
    assert w % 8 == 0 and h % 8 == 0
    assert abs(w / h - 1920 / 1080) < 0.03
    assert w * h <= 1.05 * 512 * 512


@pytest.mark.parametrize("family,pair", [("sd15", SD15_PAIR), ("sdxl", SDXL_PAIR)])
def test_lora_weights_change_the_image_and_zero_equals_the_base_model(engines, family, pair):
    # Planned prompts: a LoRA at weight 0 must add nothing, trigger words included, on the way
    # through the planner's prompt as well as in the engine.
    engine = engines[family]
    loads = engine.loads
    r = planned(mode="text_to_image")
    base = pixels(engine.render(r, None, None)[0])
    a = pixels(engine.render(planned(mode="text_to_image", loras=loras((pair[0], 0.8), (pair[1], 0.3))),
                             None, None)[0])
    b = pixels(engine.render(planned(mode="text_to_image", loras=loras((pair[0], 0.3), (pair[1], 0.8))),
                             None, None)[0])
    zero = pixels(engine.render(planned(mode="text_to_image", loras=loras((pair[0], 0), (pair[1], 0))),
                                None, None)[0])
    again = pixels(engine.render(r, None, None)[0])
    a_again = pixels(engine.render(planned(mode="text_to_image", loras=loras((pair[0], 0.8), (pair[1], 0.3))),
                                   None, None)[0])
    assert np.array_equal(a_again, a)  # switched back on after an empty set
    assert np.abs(a - base).max() > 10 and np.abs(b - base).max() > 10 and np.abs(a - b).max() > 10
    assert np.array_equal(zero, base)
    assert np.array_equal(again, base)  # an empty set switches the adapters off
    assert engine.loads == loads  # never reloaded the base model
    assert set(engine.base.loras.loaded) >= set(pair)


def test_switching_lora_sets_loads_each_file_once_and_never_the_model(engines):
    engine = engines["sd15"]
    for lora_set in [[("neon_glow", 0.5)], [("bokeh_dreamy", 0.5)], [], [("neon_glow", 0.2)]]:
        engine.render(recipe(mode="text_to_image", loras=loras(*lora_set)), None, None)
    loads, file_loads = engine.loads, engine.base.loras.file_loads
    for lora_set in [[("bokeh_dreamy", 0.9)], [("neon_glow", 1.0), ("bokeh_dreamy", 0.1)], []]:
        engine.render(recipe(mode="replace_background", loras=loras(*lora_set)), *_photo())
    assert (engine.loads, engine.base.loras.file_loads) == (loads, file_loads)
    assert engine.loads == 1


def _photo():
    image = Image.new("RGB", (W, H), (90, 90, 90))
    mask = Image.new("L", (W, H), 0)
    ImageDraw.Draw(mask).ellipse((20, 10, 44, 40), fill=255)
    return image, mask


def test_fused_loras_match_unfused_and_unfuse_when_the_set_changes(engines, folders):
    plain = engines["sd15"]
    fused = DiffusionEngine(str(folders["sd15"]), lora_dir=folders["loras"], fuse_loras=True)
    assert fused.base is plain.base  # same cached weights, no second load
    base = pixels(plain.render(recipe(mode="text_to_image"), None, None)[0])
    with_lora = recipe(mode="text_to_image", loras=loras(("neon_glow", 0.7)))
    unfused_out = pixels(plain.render(with_lora, None, None)[0])
    fused_out = pixels(fused.render(with_lora, None, None)[0])
    assert plain.base.loras.fused is not None
    base_after = pixels(fused.render(recipe(mode="text_to_image"), None, None)[0])
    assert plain.base.loras.fused is None
    # Fusing changes only rounding: far below the LoRA's own effect (exact-ish in float32).
    effect = np.abs(unfused_out - base).mean()
    assert np.abs(fused_out - unfused_out).mean() < 0.05 * effect
    assert np.abs(base_after - base).mean() < 0.05 * effect
    if plain.dtype == torch.float32:
        assert np.abs(fused_out - unfused_out).max() <= 2 and np.abs(base_after - base).max() <= 1


@pytest.mark.parametrize("family,lora", [("sd15", "film_grain"), ("sdxl", "neon_glow")])
def test_lora_of_another_family_is_refused_before_anything_runs(engines, photo, family, lora):
    engine = engines[family]
    steps = []
    with pytest.raises(EngineError, match=f"'{lora}' is made for .* but the loaded model") as err:
        engine.render(recipe(loras=loras((lora, 0.5))), *photo, progress=lambda s, n: steps.append(s))
    assert "prompts/loras.yaml" in str(err.value)
    assert steps == [] and lora not in engine.base.loras.loaded


def test_lora_file_that_does_not_fit_the_model_is_an_error_and_leaves_no_trace(engines):
    engine = engines["sd15"]
    base = pixels(engine.render(recipe(mode="text_to_image"), None, None)[0])
    with pytest.raises(EngineError, match="'product_photo_sd15' .* does not fit the model"):
        engine.render(recipe(mode="text_to_image", loras=loras(("product_photo_sd15", 0.5))), None, None)
    with pytest.raises(EngineError, match=r"'lcm_sd15' .* only partly fits .*: 1 of its 33 layers"):
        engine.render(recipe(mode="text_to_image", loras=loras(("lcm_sd15", 0.5))), None, None)
    assert not {"product_photo_sd15", "lcm_sd15"} & set(engine.base.pipes["text_to_image"].get_list_adapters()
                                                         .get("unet", []))
    assert np.array_equal(pixels(engine.render(recipe(mode="text_to_image"), None, None)[0]), base)


def test_unknown_or_missing_lora_names_the_choices_and_the_paths_tried(engines, folders):
    with pytest.raises(CatalogError, match="known: .*neon_glow"):
        engines["sd15"].render(recipe(mode="text_to_image", loras=loras(("beach_sunset_v2", 0.5))),
                               None, None)
    with pytest.raises(EngineError, match="LoRA 'luxury_editorial' has no weights") as err:
        engines["sdxl"].render(recipe(mode="text_to_image", loras=loras(("luxury_editorial", 0.5))),
                               None, None)
    assert str(folders["loras"] / "luxury_editorial.safetensors") in str(err.value)
    with pytest.raises(EngineError, match="hf download latent-consistency/lcm-lora-sdxl"):
        engines["sdxl"].render(recipe(mode="text_to_image", loras=loras(("lcm_sdxl", 0.5))), None, None)


def test_a_weight_outside_the_catalog_range_is_clamped_like_the_recipe_check_does(engines):
    # The recipe contract: weights are clamped to the catalog's range (neon_glow: 0-1), in every layer.
    top = load_catalog().lora("neon_glow").weight_max
    at_top = pixels(engines["sd15"].render(recipe(mode="text_to_image", loras=loras(("neon_glow", top))),
                                           None, None)[0])
    over = pixels(engines["sd15"].render(recipe(mode="text_to_image", loras=loras(("neon_glow", 1.5))),
                                         None, None)[0])
    assert np.array_equal(over, at_top)


def test_lora_file_resolution_order(tmp_path):
    house = {"path": "house/neon_v3.safetensors"}
    entry = dataclasses.replace(load_catalog().lora("neon_glow"), source=house)
    (tmp_path / "house").mkdir()
    (tmp_path / "house" / "neon_v3.safetensors").write_bytes(b"x")
    assert resolve_lora(entry, tmp_path) == tmp_path / "house" / "neon_v3.safetensors"
    (tmp_path / "neon_glow.safetensors").write_bytes(b"x")  # <name>.safetensors wins
    assert resolve_lora(entry, tmp_path) == tmp_path / "neon_glow.safetensors"
    with pytest.raises(EngineError, match="no LoRA folder set.*set SCENESHOP_LORA_DIR"):
        resolve_lora(entry, None)


def test_same_seed_same_images_and_a_batch_gives_different_images(engines):
    engine = engines["sd15"]
    r = recipe(mode="text_to_image", output=Output(count=2))
    first = engine.render(r, None, None)
    second = engine.render(r, None, None)
    assert len(first) == 2
    assert not np.array_equal(pixels(first[0]), pixels(first[1]))
    assert all(np.array_equal(pixels(a), pixels(b)) for a, b in zip(first, second, strict=True))
    other_seed = engine.render(recipe(mode="text_to_image", seed=8), None, None)[0]
    assert not np.array_equal(pixels(other_seed), pixels(first[0]))


@pytest.mark.parametrize("name", ["euler", "euler_a", "dpm++", "ddim", "lcm"])
def test_schedulers_by_name(engines, name):
    out = engines["sd15"].render(recipe(mode="text_to_image", scheduler=name), None, None)
    assert out[0].size == (W, H)
    assert type(engines["sd15"].base.pipes["text_to_image"].scheduler).__name__.lower().startswith(
        {"euler": "eulerdiscrete", "euler_a": "eulerancestral", "dpm++": "dpmsolver", "ddim": "ddim",
         "lcm": "lcm"}[name])


def test_unknown_scheduler_and_missing_inputs_are_refused(engines, photo):
    with pytest.raises(EngineError, match="scheduler 'heun2' is not one of default, euler"):
        engines["sd15"].render(recipe(scheduler="heun2"), *photo)
    with pytest.raises(InputError, match="mode 'restyle' needs a product photo"):
        engines["sd15"].render(recipe(mode="restyle"), None, None)
    with pytest.raises(InputError, match="inpaint needs a mask of the area to repaint"):
        engines["sd15"].render(recipe(mode="inpaint"), photo[0], None)
    with pytest.raises(InputError, match="mask size"):
        engines["sd15"].render(recipe(mode="inpaint"), photo[0], Image.new("L", (10, 10)))
    with pytest.raises(InputError, match="the inpaint mask covers the whole photo"):
        engines["sd15"].render(recipe(mode="inpaint"), photo[0], Image.new("L", (W, H), 255))


@pytest.mark.parametrize("mode", ["replace_background", "restyle"])
def test_without_a_mask_the_product_is_segmented_and_kept(engines, photo, mode):
    image, _ = photo
    found = segment(image)
    out = engines["sd15"].render(recipe(mode=mode, strength=0.9), image, None)[0]
    assert np.array_equal(pixels(out), pixels(engines["sd15"].render(recipe(mode=mode, strength=0.9),
                                                                     image, found)[0]))
    # replace_background stands the product on the surface line (whole-pixel shift); restyle keeps it.
    kept = staged(recipe(mode=mode), image, found) if mode == "replace_background" else None
    core = product_core(kept.mask if kept else found)
    assert core.sum() > 100
    assert np.array_equal(pixels(out)[core], pixels(kept.product if kept else image)[core])


def test_cancel_stops_within_one_step(engines):
    cancel = threading.Event()
    steps = []

    def progress(step, total):
        steps.append(step)
        if step == 2:
            cancel.set()

    with pytest.raises(Cancelled):
        engines["sd15"].render(recipe(mode="text_to_image", steps=8), None, None, progress=progress,
                               cancel=cancel)
    assert steps == [1, 2]
    steps.clear()
    with pytest.raises(Cancelled):
        engines["sd15"].render(recipe(mode="text_to_image", steps=8), None, None, progress=progress,
                               cancel=cancel)
    assert steps == []


def test_model_that_is_not_available_offline_is_a_clear_engine_error(tmp_path):
    with pytest.raises(EngineError, match="model folder '/nonexistent/sd15' does not exist"):
        DiffusionEngine("/nonexistent/sd15")
    with pytest.raises(EngineError, match="'sceneshop-tests/no-such-model' is not available offline: not a "
                                          "local folder and not in the Hugging Face cache; download it once"):
        DiffusionEngine("sceneshop-tests/no-such-model")
    with pytest.raises(EngineError, match="no model_index.json"):
        DiffusionEngine(str(tmp_path))
    assert check(str(tmp_path)) is not None


def test_a_second_engine_on_the_same_model_loads_nothing(engines, folders):
    again = DiffusionEngine(str(folders["sd15"]), lora_dir=folders["loras"])
    assert again.base is engines["sd15"].base and again.loads == 1
    assert check(str(folders["sd15"])) is None
    assert engines["sd15"].family == "sd15" and engines["sdxl"].family == "sdxl"
    assert "SD 1.5" in engines["sd15"].name and "SDXL" in engines["sdxl"].name
    assert engines["sd15"].reason


def test_dedicated_inpaint_model_paints_the_background_with_loras(folders, photo):
    engine = DiffusionEngine(str(folders["sd15"]), inpaint_model=str(folders["inpaint"]),
                             lora_dir=folders["loras"])
    image, mask = photo
    # A first LoRA that does not fit leaves the fresh model clean and usable.
    with pytest.raises(EngineError, match="does not fit"):
        engine.render(recipe(loras=loras(("product_photo_sd15", 0.5))), image, mask)
    assert engine.render(recipe(mode="replace_background"), image, mask)[0].size == (W, H)
    r = recipe(mode="replace_background", loras=loras(("neon_glow", 0.6)))
    out = engine.render(r, image, mask)[0]
    placed = staged(r, image, mask)
    core = product_core(placed.mask)
    assert np.array_equal(pixels(out)[core], pixels(placed.product)[core])
    assert "neon_glow" in engine.inpainter.loras.loaded and engine.inpainter is not engine.base
    assert engine.inpainter.pipes["inpaint"].unet.config.in_channels == 9


def test_device_and_dtype_choice():
    # What torch itself reports here decides: CUDA first, then Apple MPS, else the CPU.
    found = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert pick_device() == found
    assert pick_device("cpu") == "cpu"
    if found == "cuda":
        assert pick_device("cuda:0") == "cuda:0"
    else:
        with pytest.raises(EngineError, match="device 'cuda' was asked for .* does not see it"):
            pick_device("cuda")
    assert pick_dtype("cpu") == torch.float32
    assert pick_dtype("cuda") == torch.float16
    assert pick_dtype("cpu", "bfloat16") == torch.bfloat16
    with pytest.raises(EngineError, match="float16 is not supported on the CPU"):
        pick_dtype("cpu", "float16")
    with pytest.raises(EngineError, match="dtype 'int8'"):
        pick_dtype("cpu", "int8")
    with pytest.raises(EngineError, match="device 'tpu'"):
        pick_device("tpu")
