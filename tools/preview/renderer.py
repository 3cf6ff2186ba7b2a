"""The embedded preview renderer: draws the recipe's scene with numpy/PIL and composites the product.

No weights, no network: studio sweeps, gradients, textured tabletops, skies with a time of day,
interiors, light colour, props and a contact shadow are all drawn from the recipe's fields, and the
product goes back with `composite_product`, so its pixels are never repainted. The same recipe
(seed included) always gives the same pixels; another seed gives another arrangement.

This module is the engine: load → set up the canvas → draw the scene → light → shadow → composite.
The backdrops are drawn in backdrops.py and outdoors.py, the props in props.py, on the shared
canvas of canvas.py, with the numpy helpers of paint.py (all in this package).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.catalog import Catalog, ScenePreset, load_catalog
from sceneshop.tools.composite import composite_product, framing_fill
from sceneshop.tools.errors import check_cancel
from sceneshop.tools.inputs import check_inputs
from sceneshop.tools.preview.backdrops import draw_scene
from sceneshop.tools.preview.canvas import Canvas
from sceneshop.tools.preview.paint import Rgb, blur, col_coords, hex_rgb, mix, radial, row_coords
from sceneshop.tools.preview.props import draw_props
from sceneshop.tools.preview.staging import ground, stage_product
from sceneshop.tools.preview.words import colour_of, contrast_step, things_in
from sceneshop.tools.wording import description_parts

STAGES = ("layout", "backdrop", "props", "light", "product")
FEATHER = 2
NEUTRAL_KELVIN = 5500  # the default softbox: no tint at this temperature
# A lens that asks for a blurred background (the last of the vocabulary's `blur_lenses`, which "blurrier"
# steps to) blurs the drawn backdrop and its props by this sigma, a share of the canvas width.
BLURRED_LENS, BACKDROP_BLUR = "background blur", 0.006


class EmbeddedRenderer:
    """Engine that draws a preview of the scene from the recipe, offline and in well under a second.

    Canvas and framing: with a marketplace preset (`recipe.output.preset`) the canvas is its
    width x height; a preset with a background colour (amazon_main) gives exactly that colour
    everywhere outside the product (no shadow, tint or vignette) and the preset's fill. Other
    presets use their fill unless the framing is explicitly close or wide. Without a preset the
    canvas is recipe.width x recipe.height and the fill follows the framing — except that when that
    canvas equals the photo's size and the framing is "medium", the photo's own framing is kept
    (fill=None: the product stays where and as large as it was, pixel for pixel). The rule is
    sceneshop.tools.composite.framing_fill, shared with the diffusion engine.

    Modes: replace_background (the scene around the product), text_to_image or no image (the
    scene alone), restyle (the photo is kept and only its background is graded towards the
    scene's colours and light; the product stays exact), inpaint (the mask marks the area to
    repaint: the scene is drawn there, the rest of the photo is kept).
    """

    name = "embedded preview renderer"
    draws_people = False  # dress_model shows the garment in the scene and says people need a model

    def __init__(self, reason: str = "no diffusion model configured", catalog: Catalog | None = None):
        self.reason = reason
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog

    def render(self, recipe, image: Image.Image | None, mask: Image.Image | None, *,
               progress=None, cancel=None) -> list[Image.Image]:
        """Returns recipe.output.count images; image i uses seed recipe.seed + i."""
        image, mask = check_inputs(recipe, image, mask, cancel=cancel)
        check_cancel(cancel)
        count = int(getattr(recipe.output, "count", 1) or 1)
        total = count * len(STAGES)
        done = 0

        def step() -> None:
            nonlocal done
            check_cancel(cancel)
            done += 1
            if progress is not None:
                progress(done, total)

        mode = recipe.mode
        if mode == "dress_model":  # people need an image model: the preview shows the garment's scene
            mode = "replace_background"
        if image is not None:
            image = image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image
        check_cancel(cancel)
        setup = _setup(recipe, self.catalog, image.size if image is not None else None)
        placement = None
        if image is not None and mode == "replace_background":
            placement = self._stage(recipe, setup, image, mask)
            if setup.background is None:
                # Only pixels outside the mask change: the placed product itself stays exact.
                placement = replace(placement, product=bleed_edges(placement.product, placement.mask))
        check_cancel(cancel)  # placing a large photo is a stage of its own
        results = []
        for i in range(count):
            seed = (int(recipe.seed) + i) % 2**32
            results.append(_render_one(recipe, setup, seed, mode, image, mask, placement, step))
        return results

    def _stage(self, recipe, setup: _Setup, image: Image.Image, mask: Image.Image):
        """The product on its surface line (staging.py); a fixed-colour marketplace keeps it centred."""
        return stage_product(recipe, self.catalog, setup.scene, image, mask, setup.width, setup.height,
                             setup.fill, stand=setup.background is None)

    def placement(self, recipe, image: Image.Image, mask: Image.Image | None = None):
        """The product layer as `render` places it on the canvas in replace_background (and
        dress_model): its pixels in the output equal this layer's inside the mask's core."""
        image, mask = check_inputs(recipe, image, mask)
        return self._stage(recipe, _setup(recipe, self.catalog, image.size), image, mask)

    def product_mask(self, recipe, image: Image.Image | None, mask: Image.Image | None) -> Image.Image | None:
        """Where the product lies in the rendered picture (L, 255 = product), for the steps after
        the engine (text layer, harmonizing); None when the picture has no product of its own."""
        mode = "replace_background" if recipe.mode == "dress_model" else recipe.mode
        if image is None or mode in ("text_to_image", "inpaint"):
            return None
        if mode == "restyle":
            setup = _setup(recipe, self.catalog, image.size)
            image, mask = check_inputs(recipe, image, mask)
            return _cover(image, mask, setup.width, setup.height)[1]
        return self.placement(recipe, image, mask).mask


def bleed_edges(image: Image.Image, mask: Image.Image, reach: float = 3.0) -> Image.Image:
    """Returns the photo (RGB) with the pixels just outside the mask recoloured from the product's
    own edge. The compositor blends a thin band around the mask edge; without this, that band
    would carry the old backdrop (a white fringe from a white sweep, black from a transparent
    PNG's hidden pixels). Pixels inside the mask (>= 128) are untouched."""
    rgb = np.asarray(image.convert("RGB"))
    hard = np.asarray(mask.convert("L")) >= 128
    rows, cols = np.flatnonzero(hard.any(axis=1)), np.flatnonzero(hard.any(axis=0))
    if rows.size == 0 or hard.all():
        return image.convert("RGB")
    margin = int(4 * reach) + 2
    y0, y1 = max(0, rows[0] - margin), min(hard.shape[0], rows[-1] + 1 + margin)
    x0, x1 = max(0, cols[0] - margin), min(hard.shape[1], cols[-1] + 1 + margin)
    sub = rgb[y0:y1, x0:x1].astype(np.float32)
    inside = hard[y0:y1, x0:x1].astype(np.float32)
    # Normalised convolution: the average product colour near each outside pixel.
    weight = cv2.GaussianBlur(inside, (0, 0), reach)
    spread = cv2.GaussianBlur(sub * inside[..., None], (0, 0), reach) / np.maximum(weight, 1e-6)[..., None]
    near = (weight > 1e-3) & (inside == 0)
    out = rgb.copy()
    patch = out[y0:y1, x0:x1]
    patch[near] = np.clip(np.rint(spread[near]), 0, 255).astype(np.uint8)
    return Image.fromarray(out, "RGB")


# ---------------------------------------------------------------- setup: canvas, fill, scene


@dataclass(frozen=True)
class _Setup:
    width: int
    height: int
    fill: float | None
    background: tuple[int, int, int] | None  # a marketplace's fixed colour
    shadow: bool
    scene: ScenePreset
    time: str | None


def _setup(recipe, catalog: Catalog, image_size: tuple[int, int] | None) -> _Setup:
    preset = getattr(recipe.output, "preset", None)
    market = catalog.marketplace(preset) if preset else None
    if market is not None:
        width, height = market.width, market.height
    else:
        width, height = int(recipe.width), int(recipe.height)
    background = _hex_bytes(market.background) if market and market.background else None
    shadow = background is None and (market is None or market.shadow)
    fill = framing_fill(recipe, market, image_size, (width, height))
    scene = _scene_preset(recipe, catalog)
    time = getattr(recipe, "time_of_day", None) or scene.time
    if scene.kind == "outdoor" and time is None:
        time = "day"
    return _Setup(width, height, fill, background, shadow, scene, time)


def _scene_preset(recipe, catalog: Catalog) -> ScenePreset:
    name = recipe.scene.preset
    if name != "custom":
        return catalog.scene(name)
    # A custom scene: a neutral studio sweep in the first colour the description asks for. Only
    # what it asks to show counts: "no red" does not ask for red.
    shown = ", ".join(description_parts(recipe.scene.description or "")[0])
    colour = colour_of(shown)
    base = catalog.scene("studio_grey") if colour is None else None
    if base is not None:
        return replace(base, name="custom", description=shown)
    c = hex_rgb(colour)
    palette = {"top": _to_hex(mix(c, np.ones(3, np.float32), 0.25)), "bottom": _to_hex(c),
               "floor": _to_hex(mix(c, np.ones(3, np.float32), 0.1)), "accent": _to_hex(c * 0.7)}
    return ScenePreset(name="custom", description=shown, keywords=(), kind="studio", palette=palette)


# ---------------------------------------------------------------- one image


def _render_one(recipe, setup: _Setup, seed: int, mode: str, image, mask, placement, step) -> Image.Image:
    # Separate streams, so fewer props change only the props, not the texture or the dither.
    rng, prop_rng, dither = (np.random.default_rng([seed, k]) for k in range(3))
    width, height = setup.width, setup.height
    step()  # layout

    if setup.background is not None and placement is not None:
        plain = Image.new("RGB", (width, height), setup.background)
        for _ in STAGES[1:-1]:
            step()
        out = composite_product(plain, placement.product, placement.mask, feather=FEATHER)
        step()
        return out
    if setup.background is not None:
        for _ in STAGES[1:]:
            step()
        return Image.new("RGB", (width, height), setup.background)

    if placement is not None:
        box = placement.box
    else:
        # No product: reserve the middle where it would stand, so props keep to the sides.
        bw, bh = int(0.4 * width), int(0.5 * height)
        box = ((width - bw) // 2, int(0.82 * height) - bh, (width + bw) // 2, int(0.82 * height))
    # What the details are picked from: only what the recipe asks to show. The negated clauses of the
    # description ("no snow, no trees") are what the diffusion prompt sends to its negative prompt.
    shown, _ = description_parts(recipe.scene.description or "")
    words = " ".join([setup.scene.name.replace("_", " "), setup.scene.description, *shown,
                      *recipe.scene.props]).lower()
    # Restyle only grades the photo's own background: props would show as ghosts there. The things the
    # merchant's words add ("add a croissant") come first, so a busy scene never crowds them out.
    props = [] if mode == "restyle" else list(dict.fromkeys([*things_in(shown), *recipe.scene.props]))
    ctx = Canvas(width, height, rng, prop_rng, setup.scene, setup.time, box, box[3], words,
              float(recipe.scene.clutter), props)

    bg = draw_scene(ctx)
    step()  # backdrop
    bg = draw_props(bg, ctx)
    if BLURRED_LENS in recipe.camera.lens:
        bg = blur(bg, BACKDROP_BLUR * width)
    step()  # props
    light = recipe.lighting
    bg = _apply_light(bg, ctx, int(light.kelvin), float(light.exposure), str(light.direction or ""))
    if placement is not None and setup.shadow:
        bg = ground(bg, ctx, placement)  # reflection, cast and contact shadow (staging.py)
    bg = _grade_contrast(bg, contrast_step(shown))
    step()  # light

    if image is None or mode == "text_to_image":
        out = Image.fromarray(_to_bytes(bg, dither), "RGB")
    elif mode == "replace_background":
        out = composite_product(Image.fromarray(_to_bytes(bg, dither), "RGB"), placement.product,
                                placement.mask, feather=FEATHER)
    else:
        photo, photo_mask = _cover(image, mask, width, height)
        if mode == "inpaint":
            scene = Image.fromarray(_to_bytes(bg, dither), "RGB")
            out = composite_product(photo, scene, photo_mask, feather=FEATHER)
        else:  # restyle: grade the photo's background towards the scene, keep the product
            own = np.asarray(photo, np.float32) / 255.0
            luma = own.mean(axis=2, keepdims=True)
            own = _apply_light(own, ctx, int(light.kelvin), float(light.exposure), "", vignette=0.0)
            # Keep the photo's detail (its luminance) but pull its colours half way to the (already
            # lit) scene's.
            graded = own * 0.5 + bg * 0.5 * (0.5 + luma)
            out = composite_product(Image.fromarray(_to_bytes(graded, dither), "RGB"), photo, photo_mask,
                                    feather=FEATHER)
    step()  # product
    return out


def _grade_contrast(bg: np.ndarray, step: int) -> np.ndarray:
    """"More contrast": the scene's tones spread from its mean and its colours from grey, by a quarter
    a step (-1 pulls them in); the product, composited after, keeps its own pixels."""
    if step == 0:
        return bg
    amount = 1.0 + 0.25 * step
    mean = bg.mean(axis=(0, 1), keepdims=True)
    bg = mean + (bg - mean) * amount
    grey = bg.mean(axis=2, keepdims=True)
    return np.clip(grey + (bg - grey) * amount, 0.0, 1.0)


def _cover(image: Image.Image, mask: Image.Image, width: int, height: int):
    """The photo (and mask) scaled to cover the canvas and centre-cropped; untouched if same size."""
    image = image.convert("RGB")
    mask = mask.convert("L")
    if image.size == (width, height):
        return image, mask
    scale = max(width / image.width, height / image.height)
    size = (max(width, round(image.width * scale)), max(height, round(image.height * scale)))
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    crop = (left, top, left + width, top + height)
    return (image.resize(size, Image.Resampling.LANCZOS).crop(crop),
            mask.resize(size, Image.Resampling.LANCZOS).crop(crop))


# ---------------------------------------------------------------- light and shadow


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """The colour of a black body at `kelvin` (Tanner Helland's fit), as 0..1 RGB."""
    t = np.clip(kelvin, 1000, 40000) / 100.0
    r = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    if t <= 66:
        g = 99.4708025861 * math.log(t) - 161.1195681661
    else:
        g = 288.1221695283 * (t - 60) ** -0.0755148492
    if t >= 66:
        b = 255.0
    elif t <= 19:
        b = 0.0
    else:
        b = 138.5177312231 * math.log(t - 10) - 305.0447927307
    return np.clip(np.array([r, g, b], np.float32), 0, 255) / 255.0


def light_tint(kelvin: float, strength: float = 0.45) -> np.ndarray:
    """Multiplier that shifts neutral light (5500 K) to `kelvin`, at equal brightness."""
    ratio = kelvin_to_rgb(kelvin) / kelvin_to_rgb(NEUTRAL_KELVIN)
    ratio = ratio / float(ratio @ np.array([0.2126, 0.7152, 0.0722], np.float32))
    return (1.0 + strength * (ratio - 1.0)).astype(np.float32)


def _apply_light(bg: np.ndarray, ctx: Canvas, kelvin: int, exposure: float, direction: str,
                 vignette: float | None = None) -> np.ndarray:
    """Colour temperature, exposure, the light's direction and a vignette, as one multiplier."""
    h, w = bg.shape[:2]
    colour = light_tint(kelvin) * np.float32(2.0 ** (0.8 * exposure))
    direction = direction.lower()
    y, x = row_coords(h)[:, None] / h, col_coords(w)[None, :] / w
    gain = np.ones((h, w), np.float32)
    if "right" in direction:
        gain *= 1 + 0.14 * (x - 0.5)
    elif "left" in direction or "side" in direction:
        gain *= 1 + 0.14 * (0.5 - x)
    elif "top" in direction:
        gain *= 1 + 0.12 * (0.5 - y)
    elif "back" in direction:
        cx, cy = (ctx.box[0] + ctx.box[2]) / 2, (ctx.box[1] + ctx.box[3]) / 2
        gain += 0.16 * radial(h, w, cx, cy, 0.45 * max(h, w))
    if vignette is None:
        vignette = {"studio": 0.08, "gradient": 0.16, "surface": 0.15, "outdoor": 0.12,
                    "interior": 0.22}.get(ctx.scene.kind, 0.12)
    if vignette:
        r2 = (y - 0.5) ** 2 + (x - 0.5) ** 2
        gain *= 1 - vignette * (r2 / 0.5) ** 1.1
    bg *= gain[..., None] * colour
    return bg


# ---------------------------------------------------------------- small helpers


def _hex_bytes(value: str) -> tuple[int, int, int]:
    return tuple(int(round(v * 255)) for v in hex_rgb(value))  # type: ignore[return-value]


def _to_hex(colour: Rgb) -> str:
    return "#" + "".join(f"{int(round(v)):02x}" for v in np.clip(colour * 255, 0, 255))


def _to_bytes(bg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Quantises to 8 bit with a little shared dither, so smooth gradients show no banding."""
    h, w = bg.shape[:2]
    dither = rng.random((h, w, 1), dtype=np.float32)
    return np.clip(np.floor(bg * 255.0 + dither), 0, 255).astype(np.uint8)
