"""The embedded preview renderer: draws the recipe's scene with numpy/PIL and composites the product.

No weights, no network: studio sweeps, gradients, textured tabletops, skies with a time of day,
interiors, light colour, props and a contact shadow are all drawn from the recipe's fields, and the
product goes back with `composite_product`, so its pixels are never repainted. The same recipe
(seed included) always gives the same pixels; another seed gives another arrangement.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

import cv2
import numpy as np
from PIL import Image, ImageDraw

from tools.catalog import Catalog, ScenePreset, load_catalog
from tools.composite import composite_product, framing_fill, place_product
from tools.errors import Cancelled, InputError
from tools.segment import segment

STAGES = ("layout", "backdrop", "props", "light", "product")
FEATHER = 2
NEUTRAL_KELVIN = 5500  # the default softbox: no tint at this temperature

Rgb = np.ndarray  # float32 (3,), 0..1

# Sky colours from zenith (0) to horizon (1). "day" uses the preset's own palette.
SKY = {
    "sunrise": [(0.0, "#6f84c4"), (0.5, "#d9a0c0"), (0.82, "#f7b3a2"), (1.0, "#ffd6a5")],
    "sunset": [(0.0, "#2b2866"), (0.42, "#a23b7c"), (0.75, "#ee6a3c"), (1.0, "#ffb259")],
    "night": [(0.0, "#02040f"), (0.65, "#0b1233"), (1.0, "#1f2a57")],
}
# Light falling on the ground and distant things at each time of day.
GROUND_LIGHT = {
    "sunrise": (1.0, 0.9, 0.88), "day": (1.0, 1.0, 1.0),
    "sunset": (1.0, 0.88, 0.8), "night": (0.2, 0.23, 0.38),
}
COLOUR_WORDS = {
    "white": "#f4f4f4", "black": "#1a1a1c", "grey": "#a0a3a7", "gray": "#a0a3a7", "red": "#c8383c",
    "orange": "#f08a3c", "yellow": "#f5cd45", "gold": "#d4af5a", "green": "#8fb886", "teal": "#3fa6a0",
    "blue": "#8db6e3", "navy": "#22345e", "purple": "#9a7ac8", "lavender": "#c9b8ea", "pink": "#f1b5c4",
    "beige": "#e2d2b8", "cream": "#f1e8d6", "brown": "#8d6446", "silver": "#c4c7cc",
}
GLOW_WORDS = ("light", "bokeh", "neon", "candle", "lamp", "fairy", "glow", "lantern", "sparkle")
PLANT_WORDS = ("plant", "leaf", "leaves", "monstera", "eucalyptus", "fern", "sprig", "flower", "blossom",
               "herb", "grass", "branch", "pine", "cotton", "palm", "tree", "foliage")
ROUND_WORDS = ("ornament", "shell", "ball", "cone", "rock", "stone", "croissant", "fruit", "orange",
               "lemon", "apple", "bauble", "pebble", "cup", "dish", "bowl", "plate", "candle", "pot")


class EmbeddedRenderer:
    """Engine that draws a preview of the scene from the recipe, offline and in well under a second.

    Canvas and framing: with a marketplace preset (`recipe.output.preset`) the canvas is its
    width x height; a preset with a background colour (amazon_main) gives exactly that colour
    everywhere outside the product (no shadow, tint or vignette) and the preset's fill. Other
    presets use their fill unless the framing is explicitly close or wide. Without a preset the
    canvas is recipe.width x recipe.height and the fill follows the framing — except that when that
    canvas equals the photo's size and the framing is "medium", the photo's own framing is kept
    (fill=None: the product stays where and as large as it was, pixel for pixel). The rule is
    tools.composite.framing_fill, shared with the diffusion engine.

    Modes: replace_background (the scene around the product), text_to_image or no image (the
    scene alone), restyle (the photo is kept and only its background is graded towards the
    scene's colours and light; the product stays exact), inpaint (the mask marks the area to
    repaint: the scene is drawn there, the rest of the photo is kept).
    """

    name = "embedded preview renderer"

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
        _check_cancel(cancel)
        count = int(getattr(recipe.output, "count", 1) or 1)
        total = count * len(STAGES)
        done = 0

        def step() -> None:
            nonlocal done
            _check_cancel(cancel)
            done += 1
            if progress is not None:
                progress(done, total)

        mode = getattr(recipe, "mode", "replace_background")
        if mode == "text_to_image":
            image = mask = None
        if image is not None:
            image = image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image
            if mask is None and mode != "inpaint":
                mask = segment(image)  # the caller gave no mask: find the product ourselves
            if mask is None:
                raise InputError("inpaint needs a mask of the area to repaint; draw one or upload it")
            if mask.size != image.size:
                raise InputError(f"mask size {mask.size} differs from image size {image.size}; "
                                 "use a mask made for this photo")
        setup = _setup(recipe, self.catalog, image.size if image is not None else None)
        placement = None
        if image is not None and mode == "replace_background":
            placement = place_product(image, mask, setup.width, setup.height, setup.fill)
            if setup.background is None:
                # Only pixels outside the mask change: the placed product itself stays exact.
                placement = replace(placement, product=bleed_edges(placement.product, placement.mask))
        results = []
        for i in range(count):
            seed = (int(recipe.seed) + i) % 2**32
            results.append(_render_one(recipe, setup, seed, mode, image, mask, placement, step))
        return results


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
    # A custom scene: a neutral studio sweep in the first colour the description names.
    words = (recipe.scene.description or "").lower()
    colour = next((hex_ for word, hex_ in COLOUR_WORDS.items() if re.search(rf"\b{word}\b", words)), None)
    base = catalog.scene("studio_grey") if colour is None else None
    if base is not None:
        return replace(base, name="custom", description=recipe.scene.description)
    c = _hex(colour)
    palette = {"top": _to_hex(_mix(c, np.ones(3, np.float32), 0.25)), "bottom": _to_hex(c),
               "floor": _to_hex(_mix(c, np.ones(3, np.float32), 0.1)), "accent": _to_hex(c * 0.7)}
    return ScenePreset(name="custom", description=recipe.scene.description, keywords=(),
                       kind="studio", palette=palette)


# ---------------------------------------------------------------- one image


@dataclass
class _Ctx:
    """What the drawing functions share for one image."""

    width: int
    height: int
    rng: np.random.Generator  # the scene's own randomness
    prop_rng: np.random.Generator  # props only
    scene: ScenePreset
    time: str | None
    box: tuple[int, int, int, int]  # the product's box on the canvas (or where it would be)
    base: int  # the floor line: the product's bottom edge
    words: str  # scene name + description + props, for picking details
    clutter: float
    props: list[str]

    def palette(self, key: str, default: str | None = None) -> Rgb:
        value = self.scene.palette.get(key) or default
        if value is None:
            pal = self.scene.palette
            return _mix(_hex(pal["bottom"]), _hex(pal.get("floor", pal["bottom"])), 0.5) * 0.7
        return _hex(value)


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
    words = " ".join([setup.scene.name.replace("_", " "), setup.scene.description,
                      recipe.scene.description or "", *recipe.scene.props]).lower()
    # Restyle only grades the photo's own background: props would show as ghosts there.
    props = [] if mode == "restyle" else list(recipe.scene.props)
    ctx = _Ctx(width, height, rng, prop_rng, setup.scene, setup.time, box, box[3], words,
               float(recipe.scene.clutter), props)

    bg = _draw_scene(ctx)
    step()  # backdrop
    bg = _draw_props(bg, ctx)
    step()  # props
    light = recipe.lighting
    bg = _apply_light(bg, ctx, int(light.kelvin), float(light.exposure), str(light.direction or ""))
    if placement is not None and setup.shadow:
        bg = _apply_shadow(bg, ctx, placement.mask, str(light.direction or ""))
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


# ---------------------------------------------------------------- scenes


def _draw_scene(ctx: _Ctx) -> np.ndarray:
    kind = ctx.scene.kind
    if kind == "gradient":
        return _gradient(ctx)
    if kind == "surface":
        return _surface(ctx)
    if kind == "outdoor":
        return _outdoor(ctx)
    if kind == "interior":
        return _interior(ctx)
    return _studio(ctx)


def _studio(ctx: _Ctx) -> np.ndarray:
    """A seamless sweep: the wall's gradient bends smoothly into the floor behind the product."""
    h, w = ctx.height, ctx.width
    top, bottom = ctx.palette("top"), ctx.palette("bottom")
    floor = ctx.palette("floor", ctx.scene.palette["bottom"])
    bend = int(np.clip(ctx.base - 0.2 * h, 0.35 * h, 0.8 * h))
    y = _rows(h)
    wall = _ramp(y, [(0, top), (bend, bottom)])
    t = _smoothstep(bend - 0.16 * h, bend + 0.1 * h, y)[:, None]
    # The floor catches more light towards the camera.
    floor_col = floor[None, :] * (1.0 + 0.04 * np.clip((y - bend) / h, 0, 1))[:, None]
    column = wall * (1 - t) + floor_col * t
    bg = _fill_columns(column, w)
    # A soft pool of light behind the product, as from a large softbox.
    cx, cy = (ctx.box[0] + ctx.box[2]) / 2, (ctx.box[1] + ctx.base) / 2
    bg *= 1.0 + 0.06 * _radial(h, w, cx, cy, 0.55 * max(h, w))[..., None]
    if ctx.scene.podium:
        bg = _podium(bg, ctx)
    return bg


def _podium(bg: np.ndarray, ctx: _Ctx) -> np.ndarray:
    """A cylinder plinth under the product: top ellipse at the floor line, shaded like a drum."""
    h, w = ctx.height, ctx.width
    left, _, right, _ = ctx.box
    cx = (left + right) / 2
    radius = max(0.6 * (right - left), 0.18 * w)
    ry = 0.16 * radius
    top_y = ctx.base - 0.35 * ry
    colour = ctx.palette("accent", "#f2e6dc")
    y, x = _rows(h)[:, None], _cols(w)[None, :]
    u = (x - cx) / radius
    body = (np.abs(u) <= 1) & (y >= top_y)
    shade = (0.78 + 0.24 * np.sqrt(np.clip(1 - (u + 0.35) ** 2, 0, 1)))  # lit from the left
    cap = ((x - cx) / radius) ** 2 + ((y - top_y) / ry) ** 2 <= 1
    layer = np.where(body[..., None], colour * shade[..., None], 0)
    layer = np.where(cap[..., None], colour * 1.06, layer)
    alpha = (body | cap).astype(np.float32)
    alpha = _blur(alpha, 1.2)  # anti-aliased outline
    return bg * (1 - alpha[..., None]) + np.clip(layer, 0, 1) * alpha[..., None]


def _gradient(ctx: _Ctx) -> np.ndarray:
    h, w = ctx.height, ctx.width
    y, x = _rows(h)[:, None] / h, _cols(w)[None, :] / w
    t = np.clip(0.8 * y + 0.2 * x, 0, 1)
    top, bottom = ctx.palette("top"), ctx.palette("bottom")
    bg = top[None, None, :] * (1 - t[..., None]) + bottom[None, None, :] * t[..., None]
    cx, cy = (ctx.box[0] + ctx.box[2]) / 2, (ctx.box[1] + ctx.base) / 2
    return bg * (1.0 + 0.1 * _radial(h, w, cx, cy, 0.6 * max(h, w))[..., None])


def _surface(ctx: _Ctx) -> np.ndarray:
    """A wall and a textured tabletop in perspective (or, for overhead shots, only the table)."""
    h, w = ctx.height, ctx.width
    texture = ctx.scene.texture or "paper"
    floor = ctx.palette("floor")
    accent = ctx.palette("accent")
    if ctx.scene.overhead:
        return _texture(texture, ctx, h, w, floor, accent)
    edge = int(np.clip(ctx.base - 0.2 * h, 0.4 * h, 0.75 * h))
    y = _rows(h)
    wall = _fill_columns(_ramp(y[:edge], [(0, ctx.palette("top")), (edge, ctx.palette("bottom"))]), w)
    if texture in ("linen", "concrete"):
        # These presets name the backdrop too: the wall carries the same material, softer.
        wall_tex = _texture(texture, ctx, edge, w, ctx.palette("bottom"), accent, strength=0.6)
        wall = wall * 0.5 + wall_tex * 0.5
    table_h = h - edge
    flat = _texture(texture, ctx, int(table_h * 1.6), w, floor, accent)
    table = _perspective(flat, table_h, w)
    # Light falls off towards the back of the table; a thin highlight marks its edge.
    depth = np.linspace(0.9, 1.03, table_h, dtype=np.float32)[:, None, None]
    table = table * depth
    bg = np.concatenate([wall, table], axis=0)
    lip = np.exp(-(((y - edge) / max(1.5, 0.003 * h)) ** 2))[:, None, None]
    bg = bg * (1 + 0.08 * lip)
    # Soft contact between wall and table: a gentle shadow line on the wall just above the edge.
    above = np.clip((y - (edge - 0.05 * h)) / (0.05 * h), 0, 1) * (y < edge)
    return bg * (1 - 0.07 * above[:, None, None] ** 2)


def _perspective(flat: np.ndarray, out_h: int, w: int) -> np.ndarray:
    """Maps a flat texture onto a receding plane: far rows compressed and narrowed."""
    src_h = flat.shape[0]
    d = (np.arange(out_h, dtype=np.float32) + 0.5) / out_h  # 0 = back edge, 1 = camera
    near = 0.55 + 0.45 * d  # horizontal scale of each row
    src_y = (src_h - 1) * (d ** 1.35)
    xs = _cols(w)[None, :]
    map_x = (w / 2 + (xs - w / 2) / near[:, None]).astype(np.float32)
    map_y = np.broadcast_to(src_y[:, None], (out_h, w)).astype(np.float32)
    return cv2.remap(flat, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _texture(kind: str, ctx: _Ctx, h: int, w: int, base: Rgb, accent: Rgb,
             strength: float = 1.0) -> np.ndarray:
    rng = ctx.rng
    y, x = _rows(h)[:, None], _cols(w)[None, :]
    s = max(h, w)
    if kind == "marble":
        # Veins are where a noise-warped diagonal sine crosses zero: sharp cores, soft halos.
        warp = _noise(rng, h, w, 2, octaves=6, gain=0.55)
        fine = _noise(rng, h, w, 4, octaves=5)
        angle = rng.uniform(0.5, 1.1)
        diag = (x * math.cos(angle) + y * math.sin(angle)) / s
        phase = diag * 2 * math.pi * rng.uniform(1.3, 2.2) + 4.5 * warp
        main = np.abs(np.sin(phase))
        thin = np.abs(np.sin(phase * 1.7 + 9.0 * fine))
        veins = np.exp(-main / 0.06) * 0.55 + np.exp(-main / 0.012) * 0.35 + np.exp(-thin / 0.02) * 0.2
        veins += _blur(np.exp(-main / 0.25), 0.012 * s) * 0.15
        cloud = (_noise(rng, h, w, 6, octaves=3) - 0.5) * 0.05
        out = base[None, None, :] * (1 + cloud[..., None])
        return _mix_map(out, accent * 0.95, np.clip(veins, 0, 1) * 0.75 * strength)
    if kind == "wood":
        plank = max(24, int(rng.uniform(0.12, 0.2) * s))
        rows = (y // plank).astype(np.int32)
        tint = rng.uniform(-0.07, 0.07, 64).astype(np.float32)[rows % 64]
        grain_noise = _noise(rng, h, w, 2, octaves=3, aspect=(8.0, 0.5))
        rings = np.sin((y / s) * 2 * math.pi * 55 + grain_noise * 18.0 + x / s * 3.0)
        grain = 0.5 + 0.5 * rings
        knots = _noise(rng, h, w, 6, octaves=2) * 0.06
        out = base[None, None, :] * (1 + tint[..., None] + knots[..., None] - 0.05)
        out = _mix_map(out, accent, (grain ** 3) * 0.45 * strength)
        seam = (y % plank) < max(1, plank // 40)
        return out * np.where(seam, 0.72, 1.0)[..., None]
    if kind == "linen":
        period = max(2.5, 0.0035 * s)
        weave = 0.5 * (np.sin(2 * math.pi * x / period) * np.sin(2 * math.pi * y / period))
        slub = _noise(rng, h, w, 4, octaves=2, aspect=(12.0, 0.8)) - 0.5
        folds = np.sin(x / w * 2 * math.pi * rng.uniform(1.5, 3.0) + _noise(rng, h, w, 2, octaves=2) * 4)
        shade = 1 + (0.025 * weave + 0.05 * slub + 0.05 * folds) * strength
        return base[None, None, :] * shade[..., None]
    if kind == "concrete":
        cloud = _noise(rng, h, w, 5, octaves=6, gain=0.6) - 0.5
        pits = (rng.random((h, w), dtype=np.float32) > 0.997).astype(np.float32)
        pits = _blur(pits, 0.8) * 3.0
        shade = 1 + (0.16 * cloud - 0.25 * np.clip(pits, 0, 1)) * strength
        return _mix_map(base[None, None, :] * shade[..., None], accent, (cloud > 0.22) * 0.15 * strength)
    if kind == "terrazzo":
        out = base[None, None, :] * (1 + 0.03 * (_noise(rng, h, w, 6, octaves=3) - 0.5))[..., None]
        layer = Image.new("RGB", (w, h))
        alpha = Image.new("L", (w, h), 0)
        draw, adraw = ImageDraw.Draw(layer), ImageDraw.Draw(alpha)
        colours = [accent, _mix(accent, np.ones(3, np.float32), 0.45), base * 0.72,
                   _hex("#9fb8b0"), _hex("#e8c27a")]
        for _ in range(int(w * h / (s * s) * 420 * strength)):
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            r = rng.uniform(0.004, 0.016) * s
            pts = [(cx + r * rng.uniform(0.6, 1.2) * math.cos(a),
                    cy + r * rng.uniform(0.5, 1.0) * math.sin(a))
                   for a in np.sort(rng.uniform(0, 2 * math.pi, 6))]
            col = colours[int(rng.integers(len(colours)))]
            draw.polygon(pts, fill=tuple(int(v) for v in np.clip(col * 255, 0, 255)))
            adraw.polygon(pts, fill=255)
        a = _blur(np.asarray(alpha, np.float32) / 255.0, 0.6)[..., None]
        return out * (1 - a) + np.asarray(layer, np.float32) / 255.0 * a
    # paper (and anything unknown): fine fibres and a very soft unevenness
    fibres = _noise(rng, h, w, max(40, s // 12), octaves=2) - 0.5
    soft = _noise(rng, h, w, 2, octaves=2) - 0.5
    return base[None, None, :] * (1 + (0.02 * fibres + 0.03 * soft) * strength)[..., None]


def _interior(ctx: _Ctx) -> np.ndarray:
    """A room: wall, a window's light patch on the lit side, and a floor or counter."""
    h, w = ctx.height, ctx.width
    night = ctx.time == "night"
    edge = int(np.clip(ctx.base - 0.22 * h, 0.45 * h, 0.75 * h))
    y = _rows(h)
    top, bottom, floor = ctx.palette("top"), ctx.palette("bottom"), ctx.palette("floor")
    wall = _ramp(y[:edge], [(0, top), (edge, bottom)])
    room = _fill_columns(np.concatenate([wall, np.broadcast_to(floor, (h - edge, 3))], axis=0), w)
    room[edge:] *= np.linspace(0.88, 1.04, h - edge, dtype=np.float32)[:, None, None]
    room[edge:] *= (1 + 0.05 * (_noise(ctx.rng, h - edge, w, 4, octaves=3) - 0.5))[..., None]
    if "tile" in ctx.words:
        room[:edge] = _tiles(room[:edge], h, w, edge)
    # The window: on the left by default, as window light usually comes from the side.
    side = 1 if re.search(r"\bright\b", ctx.words) else 0
    win_w, win_h = 0.26 * w, 0.42 * edge
    wx = 0.06 * w if side == 0 else w - 0.06 * w - win_w
    wy = 0.12 * edge
    window = np.zeros((h, w), np.float32)
    cv2.rectangle(window, (int(wx), int(wy)), (int(wx + win_w), int(wy + win_h)), 1.0, -1)
    bar = max(2, int(0.012 * w))
    cv2.rectangle(window, (int(wx + win_w / 2 - bar / 2), int(wy)), (int(wx + win_w / 2 + bar / 2),
                  int(wy + win_h)), 0.0, -1)
    cv2.rectangle(window, (int(wx), int(wy + win_h / 2 - bar / 2)), (int(wx + win_w),
                  int(wy + win_h / 2 + bar / 2)), 0.0, -1)
    window = _blur(window, 0.01 * w)
    # Light that came through it: a long soft patch falling across the wall and floor.
    spill = _radial(h, w, wx + win_w * (1.4 if side == 0 else -0.4), edge, 0.55 * w) * 0.12
    if night:
        # Dark room, a dark-blue pane, and the warm glow of a lamp instead.
        room *= 0.38 if ctx.scene.time != "night" else 0.9
        room = _mix_map(room, _hex("#0b1430"), window * 0.9)
        glow = _radial(h, w, w * (0.8 if side == 0 else 0.2), edge * 0.55, 0.5 * w)
        room = room + glow[..., None] * _hex("#ffb35a") * 0.22
    else:
        light = _hex("#fffaf0")
        room = _mix_map(room, light, window * 0.8)
        room = room * (1 + spill[..., None])
    if "bokeh" in ctx.words:
        room = _bokeh(room, ctx, int(6 + 14 * ctx.clutter), top=0.0, bottom=edge / h)
    return room


def _tiles(wall: np.ndarray, h: int, w: int, edge: int) -> np.ndarray:
    """A tiled backsplash on the lower half of the wall."""
    size = max(12, int(0.06 * w))
    y, x = _rows(edge)[:, None], _cols(w)[None, :]
    grout = ((x % size) < max(1, size // 18)) | ((y % (size * 0.6)) < max(1, size // 18))
    splash = (y > edge * 0.45)
    shade = np.where(grout & splash, 0.86, 1.0) * np.where(splash, 1.03, 1.0)
    return wall * shade[..., None]


def _outdoor(ctx: _Ctx) -> np.ndarray:
    """Sky with the time of day, a horizon, the ground, and the preset's landscape features."""
    h, w = ctx.height, ctx.width
    time = ctx.time or "day"
    horizon = int(np.clip(ctx.base - 0.32 * h, 0.3 * h, 0.55 * h))
    words = ctx.words
    y = _rows(h)
    own_night = time == "night" and ctx.scene.time == "night"
    if time == "day" or own_night:
        stops = [(0.0, ctx.palette("top")), (1.0, ctx.palette("bottom"))]
    else:
        stops = [(p, _hex(c)) for p, c in SKY[time]]
    sky = _fill_columns(_ramp(y[:horizon + 1] / max(1, horizon), stops), w)
    sky = _sun_and_moon(sky, ctx, time, horizon)
    if time in ("day", "sunrise", "sunset") and "snow" not in words:
        sky = _clouds(sky, ctx, time, horizon)
    graded = own_night or time == "day"
    light = np.ones(3, np.float32) if graded else np.array(GROUND_LIGHT[time], np.float32)
    horizon_sky = sky[-1].mean(axis=0)

    ground_h = h - horizon - 1
    floor = ctx.palette("floor") * light
    ground = np.broadcast_to(floor, (ground_h, w, 3)).copy()
    ground *= (1 + 0.06 * (_noise(ctx.rng, ground_h, w, 5, octaves=4) - 0.5))[..., None]
    # Haze: the ground nearest the horizon takes on the sky's colour.
    haze = np.exp(-np.arange(ground_h, dtype=np.float32) / max(1.0, 0.08 * h))[:, None, None]
    ground = ground * (1 - 0.45 * haze) + horizon_sky * 0.45 * haze
    bg = np.concatenate([sky, ground], axis=0)

    if ctx.scene.water:
        bg = _water(bg, ctx, horizon, light, horizon_sky, pool="pool" in words)
    if ctx.scene.buildings:
        bg = _buildings(bg, ctx, horizon, time, light, far="rooftop" in words or "skyline" in words)
    elif "mountain" in words or "peak" in words:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.3, 0.18, 0.08), rough=0.7)
    elif "desert" in words or "dune" in words:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.1, 0.06), rough=0.1)
    elif "forest" in words or "tree" in words:
        bg = _trees(bg, ctx, horizon, light)
    elif "garden" in words or "flower" in words:
        bg = _garden(bg, ctx, horizon, light)
    elif "snow" in words:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.12, 0.06), rough=0.5,
                     colour=_hex("#e9f0f7"))
    elif not ctx.scene.water:
        bg = _ridges(bg, ctx, horizon, light, horizon_sky, heights=(0.05,), rough=0.3)
    if "snow" in words:
        bg = _snowfall(bg, ctx)
    if ctx.scene.buildings and "rooftop" in words:
        bg = _railing(bg, ctx, horizon, light)
    return bg


def _sun_and_moon(sky: np.ndarray, ctx: _Ctx, time: str, horizon: int) -> np.ndarray:
    h, w = sky.shape[:2]
    rng = ctx.rng
    side = 0.22 if rng.random() < 0.5 else 0.78
    if time == "night":
        # Stars: a few hundred tiny points, fewer near the horizon glow.
        stars = np.zeros((h, w), np.float32)
        n = int(260 * w * h / (1024 * 512))
        ys = (rng.random(n) ** 1.6 * h).astype(int)
        xs = rng.integers(0, w, n)
        stars[ys, xs] = rng.uniform(0.3, 1.0, n).astype(np.float32)
        stars = _blur(stars, 0.6) * 3.0
        sky = sky + np.clip(stars, 0, 1)[..., None] * 0.9
        cx, cy, r = side * w, 0.22 * horizon + 0.05 * h, 0.035 * max(w, ctx.height)
        moon = _disc(h, w, cx, cy, r, soft=1.2)
        craters = 1 - 0.08 * _noise(rng, h, w, 14, octaves=2)
        sky = _mix_map(sky, _hex("#f3f0e2") * craters[..., None], moon)
        return sky + _radial(h, w, cx, cy, 4 * r)[..., None] * _hex("#8da2d8") * 0.18
    if time == "day":
        cx, cy, r = side * w, 0.18 * horizon, 0.028 * max(w, ctx.height)
        colour, glow, reach = _hex("#fffbe8"), _hex("#fff3c4"), 6 * r
    else:
        cx, cy, r = side * w, horizon - 0.06 * ctx.height, 0.05 * max(w, ctx.height)
        colour = _hex("#fff2c8") if time == "sunrise" else _hex("#ffe0a0")
        glow, reach = _hex("#ffc27a"), 9 * r
    sky = sky + _radial(h, w, cx, cy, reach)[..., None] * glow * 0.35
    return _mix_map(sky, colour, _disc(h, w, cx, cy, r, soft=1.5))


def _clouds(sky: np.ndarray, ctx: _Ctx, time: str, horizon: int) -> np.ndarray:
    h, w = sky.shape[:2]
    n = _noise(ctx.rng, h, w, 3, octaves=5, aspect=(2.0, 0.6))
    amount = _smoothstep(0.58, 0.85, n) * (0.25 + 0.75 * _smoothstep(0, 0.35 * h, _rows(h))[:, None])
    colour = {"day": "#ffffff", "sunrise": "#ffd9d2", "sunset": "#ff9f7a"}[time]
    return _mix_map(sky, _hex(colour), amount * 0.55)


def _water(bg, ctx: _Ctx, horizon: int, light: Rgb, horizon_sky: Rgb, pool: bool) -> np.ndarray:
    """A sea (or pool) band below the horizon with a few wave highlights, then the shore."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    shore = int(horizon + (0.22 if pool else 0.16) * (ctx.base - horizon) + 0.04 * h)
    shore = min(shore, ctx.base - int(0.04 * h)) if ctx.base - horizon > 0.1 * h else horizon + int(0.05 * h)
    band = max(2, shore - horizon)
    accent = ctx.palette("accent")
    d = np.linspace(0, 1, band, dtype=np.float32)[:, None, None]
    far, near = _mix(accent, horizon_sky, 0.45), accent * 0.92
    water = (far * (1 - d) + near * d) * light
    water = np.broadcast_to(water, (band, w, 3)).copy()
    ripple = _noise(rng, band, w, 3, octaves=4, aspect=(6.0, 0.4))
    water *= (1 + 0.08 * (ripple - 0.5))[..., None]
    # Wave highlights: short bright streaks, thinner and denser towards the horizon.
    streaks = np.zeros((band, w), np.float32)
    for _ in range(int(8 + 8 * rng.random())):
        yy = int(band * rng.random() ** 0.7)
        length = int(w * rng.uniform(0.03, 0.1) * (0.4 + yy / band))
        xx = int(rng.uniform(-0.1, 1.0) * w)
        cv2.line(streaks, (xx, yy), (xx + length, yy), 1.0, max(1, int(0.004 * h * (0.3 + yy / band))))
    streaks = _blur(streaks, 1.0)
    sparkle = _hex("#ffffff") if ctx.time == "day" else _mix(horizon_sky, _hex("#ffffff"), 0.4)
    water = _mix_map(water, sparkle * light if ctx.time != "night" else sparkle, streaks * 0.4)
    bg[horizon + 1:horizon + 1 + band] = water[: max(0, min(band, h - horizon - 1))]
    if pool:
        # Pool edge: a white coping stone line and a tiled deck.
        lip = slice(shore, min(h, shore + max(2, int(0.012 * h))))
        bg[lip] = _hex("#f6f6f2") * light
    else:
        # Wet sand just below the waterline, and a wobbling line of foam.
        below = _rows(h)[:, None] - shore
        wet = np.exp(-np.clip(below, 0, None) / (0.025 * h)) * (below >= 0)
        bg = bg * (1 - 0.18 * wet[..., None])
        x = _cols(w)
        wobble = (np.sin(x / w * 2 * math.pi * rng.uniform(2, 4) + rng.uniform(0, 6)) * 0.006 * h
                  + (_noise_1d(rng, w, 8, octaves=2) - 0.5) * 0.01 * h)
        foam_y = shore + wobble
        foam = np.exp(-(((_rows(h)[:, None] - foam_y[None, :]) / max(1.2, 0.004 * h)) ** 2))
        bg = _mix_map(bg, _hex("#ffffff") * np.maximum(light, 0.4), foam * 0.75)
    return bg


def _buildings(bg, ctx: _Ctx, horizon: int, time: str, light: Rgb, far: bool) -> np.ndarray:
    """A skyline of block silhouettes standing on the horizon, with lit windows at night."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    night = time == "night"
    accent = ctx.palette("accent")
    sky_low = bg[max(0, horizon - 2)].mean(axis=0)
    base_colour = _hex("#141427") if night else _mix(accent, sky_low, 0.35) * light
    mask = np.zeros((h, w), np.float32)
    windows = np.zeros((h, w), np.float32)
    x = 0
    tallest = (0.16 if far else 0.38) * h
    while x < w:
        bw = int(rng.uniform(0.05, 0.13) * w * (0.6 if far else 1.0))
        bh = int(rng.uniform(0.25, 1.0) * tallest)
        top = horizon - bh
        cv2.rectangle(mask, (x, top), (x + bw - 2, horizon + 2), 1.0, -1)
        if night or not far:
            step_x, step_y = max(4, int(0.012 * w)), max(5, int(0.018 * h))
            for wy in range(top + step_y // 2, horizon - step_y // 2, step_y):
                for wx in range(x + step_x // 2, x + bw - step_x, step_x):
                    if rng.random() < (0.35 if night else 0.9):
                        cv2.rectangle(windows, (wx, wy), (wx + step_x // 2, wy + step_y // 2), 1.0, -1)
        x += bw + int(rng.uniform(0, 0.02) * w)
    mask = _blur(mask, 0.8)
    bg = _mix_map(bg, base_colour, mask * 0.95)
    window_colour = _hex("#ffd27a") if night else base_colour * 1.25
    bg = _mix_map(bg, window_colour, _blur(windows, 0.6) * mask * (0.9 if night else 0.35))
    if night:
        # Neon: glowing signs on the facades and their smeared reflections in the wet street.
        signs = np.zeros((h, w, 3), np.float32)
        smear = np.zeros((h, w, 3), np.float32)
        colours = [ctx.palette("accent"), _hex("#3fe0ff"), _hex("#b06bff")]
        for _ in range(int(3 + 5 * max(ctx.clutter, 0.3))):
            sx, sy = int(rng.uniform(0, w)), int(horizon - rng.uniform(0.05, 0.9) * tallest)
            sw, sh = int(rng.uniform(0.03, 0.08) * w), max(3, int(rng.uniform(0.008, 0.02) * h))
            col = tuple(float(v) for v in colours[int(rng.integers(len(colours)))])
            cv2.rectangle(signs, (sx, sy), (sx + sw, sy + sh), col, -1)
            cv2.rectangle(smear, (sx, horizon + 2), (sx + sw, min(h - 1, 2 * horizon - sy + int(0.15 * h))),
                          col, -1)
        halo = _blur(signs, 0.02 * w)
        fade = np.clip((_rows(h)[:, None, None] - horizon) / h * 3, 0, 1)
        bg = bg + signs * 0.8 + halo * 1.6 + _blur(smear, 0.012 * w) * 0.35 * fade
    return bg


def _ridges(bg, ctx: _Ctx, horizon: int, light: Rgb, horizon_sky: Rgb, heights, rough: float,
            colour: Rgb | None = None) -> np.ndarray:
    """Distant hills, dunes or mountain ranges: noisy ridge lines, hazier the farther they are."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    y = _rows(h)[:, None]
    near_colour = ctx.palette("accent") if colour is None else colour
    for i, height in enumerate(heights):  # farthest first
        far = (len(heights) - i) / len(heights)
        line = _noise_1d(rng, w, 1.5 + 3 * rough, octaves=2 + int(3 * rough), gain=0.35 + 0.15 * rough)
        if rough > 0.5:
            line = 1 - np.abs(2 * line - 1)  # ridged: sharp summits instead of rounded hills
        peaks = horizon - (0.3 + 0.7 * line) * height * h
        fill = (y >= peaks[None, :]) & (y <= horizon + 2)
        tone = _mix(near_colour * light, horizon_sky, 0.55 * far) * (0.95 + 0.05 * i)
        a = _blur(fill.astype(np.float32), 0.7)
        # Shade: lower part of each layer fades into the haze at its foot.
        foot = np.clip((y - peaks[None, :]) / max(1.0, height * h), 0, 1)
        layer = tone * (1 - 0.12 * foot[..., None]) + horizon_sky * 0.12 * foot[..., None]
        if colour is None and height > 0.15:
            # Snow caps: everything above the snow line on the tall ranges.
            snow_line = horizon - 0.72 * height * h
            cap = _smoothstep(snow_line + 0.01 * h, snow_line - 0.01 * h, y)
            layer = _mix_map(layer, _mix(_hex("#ffffff") * light, horizon_sky, 0.25 * far), cap * 0.9)
        bg = bg * (1 - a[..., None]) + layer * a[..., None]
    return bg


def _trees(bg, ctx: _Ctx, horizon: int, light: Rgb) -> np.ndarray:
    """Trunks at two depths under a dark, leafy canopy: a forest around the product."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    accent = ctx.palette("accent") * light
    haze = bg[horizon].mean(axis=0)
    y = _rows(h)[:, None]
    for depth, count in ((0.5, 12), (1.0, 5)):
        trunks = np.zeros((h, w), np.float32)
        shade = np.ones((h, w), np.float32)
        for k in range(count):
            tw = rng.uniform(0.012, 0.028) * w * (0.5 + depth)
            tx = (k + rng.uniform(0.0, 0.8)) / count * w  # spread across the frame, jittered
            foot = int(horizon + depth * rng.uniform(0.03, 0.1) * h)
            a, c = max(0, int(tx)), min(w, int(tx + tw) + 1)
            if c <= a:
                continue
            trunks[:foot, a:c] = 1.0
            # Round trunks: lit on the left, dark on the right.
            u = (np.arange(a, c, dtype=np.float32) - tx) / tw
            shade[:foot, a:c] = (1.15 - 0.5 * u)[None, :]
        colour = _mix(accent * 0.55, haze, 0.65 * (1 - depth))
        trunks = _blur(trunks, (2.5 - 1.6 * depth) * w / 1024)
        bg = _mix_map(bg, colour * shade[..., None], trunks * (0.75 + 0.25 * depth))
    # The canopy: clumps of dark leaves, densest at the top of the frame.
    leaves = _noise(rng, h, w, 5, octaves=5)
    cover = np.clip((leaves - 0.62 + 0.55 * _smoothstep(0.5 * h, 0.0, y)) * 3.0, 0, 1)
    tone = (0.75 + 0.5 * _noise(rng, h, w, 12, octaves=2))[..., None]
    bg = _mix_map(bg, accent * 0.9 * tone, cover * _smoothstep(0.62 * h, 0.15 * h, y))
    # Dappled light: soft bright spots on the forest floor.
    spots = np.clip((_noise(rng, h, w, 10, octaves=2) - 0.62) * 6, 0, 1) * (y > horizon)
    return bg * (1 + 0.25 * _blur(spots.astype(np.float32), 2.0)[..., None])


def _garden(bg, ctx: _Ctx, horizon: int, light: Rgb) -> np.ndarray:
    """A hedge along the horizon dotted with flowers, on a lawn."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng
    n = _noise(rng, h, w, 6, octaves=4)
    y = _rows(h)[:, None]
    top_line = horizon - (0.08 + 0.12 * _noise_1d(rng, w, 6, octaves=4))[None, :] * h
    hedge = ((y >= top_line) & (y <= horizon + 0.02 * h)).astype(np.float32)
    hedge = _blur(hedge, 1.5)
    green = _hex("#4f7f3e") * light
    bg = _mix_map(bg, green * (0.8 + 0.4 * n[..., None]), hedge * 0.95)
    flowers = np.zeros((h, w), np.float32)
    for _ in range(int(40 + 80 * ctx.clutter)):
        fx, fy = int(rng.uniform(0, w)), int(rng.uniform(horizon - 0.18 * h, horizon + 0.01 * h))
        cv2.circle(flowers, (fx, fy), max(2, int(rng.uniform(0.004, 0.009) * w)), 1.0, -1)
    flowers = _blur(flowers, 1.2) * hedge
    return _mix_map(bg, ctx.palette("accent") * light, flowers * 0.9)


def _snowfall(bg, ctx: _Ctx) -> np.ndarray:
    h, w = ctx.height, ctx.width
    flakes = np.zeros((h, w), np.float32)
    n = int(300 * w * h / 1024**2)
    flakes[ctx.rng.integers(0, h, n), ctx.rng.integers(0, w, n)] = 1.0
    flakes = _blur(cv2.dilate(flakes, np.ones((3, 3), np.uint8)), 1.2)
    return _mix_map(bg, _hex("#ffffff"), np.clip(flakes * 2.0, 0, 0.8))


def _railing(bg, ctx: _Ctx, horizon: int, light: Rgb) -> np.ndarray:
    h, w = ctx.height, ctx.width
    rail = np.zeros((h, w), np.float32)
    top = int(horizon + 0.02 * h)
    thick = max(2, int(0.008 * h))
    cv2.rectangle(rail, (0, top), (w, top + thick), 1.0, -1)
    for x in range(0, w, max(8, int(0.06 * w))):
        cv2.rectangle(rail, (x, top), (x + max(1, thick // 2), top + int(0.09 * h)), 1.0, -1)
    rail = _blur(rail, 1.0)
    return _mix_map(bg, _hex("#3a3f47") * light, rail * 0.8)


def _bokeh(bg, ctx: _Ctx, count: int, top: float, bottom: float, colour: Rgb | None = None,
           rng: np.random.Generator | None = None) -> np.ndarray:
    """Out-of-focus points of light: soft glowing discs, additive."""
    h, w = ctx.height, ctx.width
    rng = ctx.rng if rng is None else rng
    glow = np.zeros((h, w), np.float32)
    for _ in range(count):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(top, bottom) * h)
        r = max(2, int(rng.uniform(0.008, 0.03) * w))
        cv2.circle(glow, (x, y), r, float(rng.uniform(0.35, 1.0)), -1)
    glow = _blur(glow, 0.004 * w + 1)
    colour = _hex("#ffcf7a") if colour is None else colour
    return bg + glow[..., None] * colour * 0.55


# ---------------------------------------------------------------- props


def _prop_count(ctx: _Ctx) -> int:
    if not ctx.props:
        return 0
    return min(10, int(ctx.clutter * (1 + 1.5 * len(ctx.props)) + 0.5))


def _draw_props(bg: np.ndarray, ctx: _Ctx) -> np.ndarray:
    """Soft, out-of-focus prop shapes beside the product: more props and more clutter, more shapes.
    All props are painted sharp into one layer, then blurred once (depth of field) and laid over."""
    n = _prop_count(ctx)
    if n == 0:
        return bg
    h, w = ctx.height, ctx.width
    rng = ctx.prop_rng
    accent = ctx.palette("accent")
    left, _, right, bottom = ctx.box
    pad = 0.03 * w
    slots = [(0.02 * w, left - pad), (right + pad, 0.98 * w)]
    layer = np.zeros((h, w, 3), np.float32)  # premultiplied colour
    alpha = np.zeros((h, w), np.float32)
    shadows = np.zeros((h, w), np.float32)
    glows = 0
    for i in range(n):
        name = ctx.props[i % len(ctx.props)].lower()
        if any(word in name for word in GLOW_WORDS):
            glows += 1
            continue
        lo, hi = slots[i % 2]
        if hi - lo < 0.06 * w:  # no room beside the product: stand behind it, partly hidden
            lo, hi = 0.1 * w, 0.9 * w
        size = rng.uniform(0.07, 0.16) * h * (1.25 if ctx.scene.overhead else 1.0)
        cx = rng.uniform(lo, max(lo + 1, hi))
        if ctx.scene.overhead:
            base = rng.uniform(0.2 * h, 0.95 * h)
        else:
            base = bottom - rng.uniform(0.0, 0.07) * h  # props stand a little behind the product
        tone = np.float32(1.0 + rng.uniform(-0.15, 0.12))
        # Props take the scene's colours: its accent, a deeper floor tone, or a pale accent.
        choice = int(rng.integers(3))
        colour = [accent, ctx.palette("floor") * 0.72, _mix(accent, np.ones(3, np.float32), 0.45)][choice]
        if any(word in name for word in PLANT_WORDS):
            greenish = accent[1] > accent[0] + 0.04 and accent[1] > accent[2] + 0.04
            green = accent if greenish else _hex("#6f9a5c")
            _paint_plant(layer, alpha, rng, cx, base, size * 1.3, green * tone)
        else:
            width = size * rng.uniform(0.6, 1.3)
            round_ = any(word in name for word in ROUND_WORDS)
            _paint_object(layer, alpha, cx, base, width, size, colour * tone, round_)
            cv2.ellipse(shadows, (int(cx), int(base)), (int(width * 0.6), max(2, int(width * 0.08))),
                        0, 0, 360, 1.0, -1)
    blur = 0.006 * w
    if shadows.any():
        bg = bg * (1 - 0.3 * _blur(shadows, blur * 2)[..., None])
    if alpha.any():
        alpha = _blur(alpha, blur)
        layer = _blur(layer, blur)
        bg = bg * (1 - alpha[..., None]) + layer
    if glows:
        bg = _bokeh(bg, ctx, glows * int(5 + 6 * ctx.clutter), 0.05, min(0.9, bottom / h),
                    colour=accent if accent.mean() > 0.55 else None, rng=rng)
    return bg


def _roi(h: int, w: int, x0: float, y0: float, x1: float, y1: float):
    """Integer bounds of a rectangle clipped to the canvas, or None when it is off-canvas."""
    a, b = max(0, int(x0)), max(0, int(y0))
    c, d = min(w, int(math.ceil(x1)) + 1), min(h, int(math.ceil(y1)) + 1)
    return (a, b, c, d) if c > a and d > b else None


def _paint(layer, alpha, roi, shape: np.ndarray, colour: np.ndarray) -> None:
    """Paints `colour` (per pixel or flat) through the ROI-sized `shape` mask, over what is there."""
    a, b, c, d = roi
    m = shape[..., None]
    layer[b:d, a:c] = layer[b:d, a:c] * (1 - m) + np.clip(colour, 0, 1) * m
    alpha[b:d, a:c] = np.maximum(alpha[b:d, a:c] * (1 - shape), shape)


def _paint_object(layer, alpha, cx: float, base: float, bw: float, bh: float, colour: Rgb,
                  round_: bool) -> None:
    h, w = alpha.shape
    roi = _roi(h, w, cx - bw / 2, base - bh, cx + bw / 2, base)
    if roi is None:
        return
    a, b, c, d = roi
    shape = np.zeros((d - b, c - a), np.float32)
    x0, y0, x1, y1 = int(cx - bw / 2) - a, int(base - bh) - b, int(cx + bw / 2) - a, int(base) - b
    if round_:
        cv2.ellipse(shape, ((x0 + x1) // 2, (y0 + y1) // 2), (max(1, (x1 - x0) // 2), max(1, (y1 - y0) // 2)),
                    0, 0, 360, 1.0, -1)
    else:
        r = max(1, int(min(bw, bh) * 0.18))
        cv2.rectangle(shape, (x0 + r, y0), (x1 - r, y1), 1.0, -1)
        cv2.rectangle(shape, (x0, y0 + r), (x1, y1 - r), 1.0, -1)
        for px, py in ((x0 + r, y0 + r), (x1 - r, y0 + r), (x0 + r, y1 - r), (x1 - r, y1 - r)):
            cv2.circle(shape, (px, py), r, 1.0, -1)
    # Lit from the left: a highlight fading into the shaded side.
    xs = (np.arange(c - a, dtype=np.float32) - x0) / max(1.0, bw)
    shade = (1.1 - 0.25 * np.clip(xs, 0, 1))[None, :, None]
    _paint(layer, alpha, roi, shape, colour * shade)


def _paint_plant(layer, alpha, rng, cx: float, base: float, size: float, colour: Rgb) -> None:
    """A sprig of leaves: ellipses fanning upwards from a stem base."""
    h, w = alpha.shape
    roi = _roi(h, w, cx - size, base - size, cx + size, base)
    if roi is None:
        return
    a, b, c, d = roi
    shape = np.zeros((d - b, c - a), np.float32)
    for _ in range(int(rng.integers(5, 9))):
        angle = rng.uniform(-155, -25)  # image y grows downwards: negative angles point up
        length = size * rng.uniform(0.35, 0.6)
        rad = math.radians(angle)
        lx, ly = cx + math.cos(rad) * length * 0.6 - a, base + math.sin(rad) * length * 0.6 - b
        cv2.ellipse(shape, (int(lx), int(ly)), (max(2, int(length * 0.5)), max(2, int(length * 0.15))),
                    angle, 0, 360, 1.0, -1)
        cv2.line(shape, (int(cx - a), int(base - b)), (int(lx), int(ly)), 1.0, max(1, int(size * 0.015)))
    tone = np.where(np.arange(c - a)[None, :] < cx - a, 1.08, 0.92).astype(np.float32)[..., None]
    _paint(layer, alpha, roi, shape, colour * tone)


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


def _apply_light(bg: np.ndarray, ctx: _Ctx, kelvin: int, exposure: float, direction: str,
                 vignette: float | None = None) -> np.ndarray:
    """Colour temperature, exposure, the light's direction and a vignette, as one multiplier."""
    h, w = bg.shape[:2]
    colour = light_tint(kelvin) * np.float32(2.0 ** (0.8 * exposure))
    direction = direction.lower()
    y, x = _rows(h)[:, None] / h, _cols(w)[None, :] / w
    gain = np.ones((h, w), np.float32)
    if "right" in direction:
        gain *= 1 + 0.14 * (x - 0.5)
    elif "left" in direction or "side" in direction:
        gain *= 1 + 0.14 * (0.5 - x)
    elif "top" in direction:
        gain *= 1 + 0.12 * (0.5 - y)
    elif "back" in direction:
        cx, cy = (ctx.box[0] + ctx.box[2]) / 2, (ctx.box[1] + ctx.box[3]) / 2
        gain += 0.16 * _radial(h, w, cx, cy, 0.45 * max(h, w))
    if vignette is None:
        vignette = {"studio": 0.08, "gradient": 0.16, "surface": 0.15, "outdoor": 0.12,
                    "interior": 0.22}.get(ctx.scene.kind, 0.12)
    if vignette:
        r2 = (y - 0.5) ** 2 + (x - 0.5) ** 2
        gain *= 1 - vignette * (r2 / 0.5) ** 1.1
    bg *= gain[..., None] * colour
    return bg


def _apply_shadow(bg: np.ndarray, ctx: _Ctx, mask: Image.Image, direction: str) -> np.ndarray:
    """A soft contact shadow under the product's base, plus a cast shadow away from the light."""
    h, w = ctx.height, ctx.width
    left, top, right, bottom = ctx.box
    bw, bh = right - left, bottom - top
    m = np.asarray(mask, np.float32) / 255.0
    direction = direction.lower()
    if ctx.scene.overhead:
        # Seen from above the shadow is the product's own outline, offset and blurred.
        shift = np.float32([[1, 0, 0.012 * w], [0, 1, 0.018 * h]])
        drop = cv2.warpAffine(m, shift, (w, h))
        drop = _blur(drop, 0.012 * max(w, h))
        return bg * (1 - 0.38 * drop[..., None])
    shade = np.zeros((h, w), np.float32)
    cx = (left + right) / 2
    rx, ry = max(3.0, 0.55 * bw), max(2.0, 0.06 * bw)
    cv2.ellipse(shade, (int(cx), int(bottom - 0.2 * ry)), (int(rx), int(ry)), 0, 0, 360, 1.0, -1)
    contact = _blur(shade, max(1.0, 0.6 * ry))
    core = np.zeros((h, w), np.float32)
    cv2.ellipse(core, (int(cx), int(bottom - 0.1 * ry)), (int(0.8 * rx), max(1, int(0.35 * ry))),
                0, 0, 360, 1.0, -1)
    core = _blur(core, max(1.0, 0.25 * ry))
    # The cast shadow: the product's silhouette squashed onto the floor and sheared away from
    # the light (to the right for light from the left or side, straight back for top/front).
    lean = -0.6 if "right" in direction else (0.6 if ("left" in direction or "side" in direction) else 0.0)
    squash = 0.18
    # Each product point at height (bottom - y) lands squash times as high, shifted by lean times it.
    affine = np.float32([[1, -lean * squash, lean * squash * bottom], [0, squash, bottom * (1 - squash)]])
    cast = cv2.warpAffine(m, affine, (w, h))
    cast = _blur(cast, max(1.5, 0.012 * max(bw, bh)))
    strength = 0.35 if ctx.time != "night" else 0.25
    total = np.clip(0.55 * contact + 0.35 * core + strength * 0.7 * cast, 0, 0.75)
    return bg * (1 - total[..., None])


# ---------------------------------------------------------------- small helpers


def _check_cancel(cancel) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("generation cancelled; nothing was saved — send the request again to restart")


def _hex(value: str) -> Rgb:
    value = value.lstrip("#")
    return np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0


def _hex_bytes(value: str) -> tuple[int, int, int]:
    return tuple(int(round(v * 255)) for v in _hex(value))  # type: ignore[return-value]


def _to_hex(colour: Rgb) -> str:
    return "#" + "".join(f"{int(round(v)):02x}" for v in np.clip(colour * 255, 0, 255))


def _mix(a: Rgb, b: Rgb, t: float) -> Rgb:
    return (a * (1 - t) + b * t).astype(np.float32)


def _mix_map(bg: np.ndarray, colour, amount: np.ndarray) -> np.ndarray:
    """Blends `colour` (RGB or an image) over `bg` by a 2-D `amount` in 0..1, in place, touching
    only the rows where `amount` is non-zero (suns, foam lines and signs are small)."""
    a = np.asarray(amount, np.float32)
    colour = np.asarray(colour, np.float32)
    if a.ndim != 2 or a.shape[0] != bg.shape[0]:
        return bg * (1 - a[..., None]) + colour * a[..., None]
    rows = np.flatnonzero(a.max(axis=1) > 0)
    if rows.size == 0:
        return bg
    r0, r1 = int(rows[0]), int(rows[-1]) + 1
    seg = bg[r0:r1]
    col = colour[r0:r1] if colour.ndim == 3 and colour.shape[0] == bg.shape[0] else colour
    seg += (col - seg) * a[r0:r1, :, None]
    return bg


def _rows(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32)


def _cols(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float32)


def _ramp(y: np.ndarray, stops) -> np.ndarray:
    """(len(y), 3) colours interpolated between (position, colour) stops."""
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.stack([c for _, c in stops]).astype(np.float32)
    return np.stack([np.interp(y, pos, cols[:, i]) for i in range(3)], axis=1).astype(np.float32)


def _fill_columns(column: np.ndarray, w: int) -> np.ndarray:
    return np.repeat(column[:, None, :], w, axis=1)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0, 1)
    return (t * t * (3 - 2 * t)).astype(np.float32)


def _radial(h: int, w: int, cx: float, cy: float, radius: float) -> np.ndarray:
    """1 at (cx, cy) falling smoothly to 0 at `radius` (computed only inside that circle's box)."""
    out = np.zeros((h, w), np.float32)
    x0, x1 = max(0, int(cx - radius)), min(w, int(math.ceil(cx + radius)) + 1)
    y0, y1 = max(0, int(cy - radius)), min(h, int(math.ceil(cy + radius)) + 1)
    if x1 <= x0 or y1 <= y0:
        return out
    y = np.arange(y0, y1, dtype=np.float32)[:, None]
    x = np.arange(x0, x1, dtype=np.float32)[None, :]
    d2 = ((x - cx) ** 2 + (y - cy) ** 2) / (radius * radius)
    out[y0:y1, x0:x1] = np.clip(1 - d2, 0, 1) ** 2
    return out


def _disc(h: int, w: int, cx: float, cy: float, r: float, soft: float = 1.0) -> np.ndarray:
    """A filled circle with an anti-aliased edge `soft` px wide."""
    out = np.zeros((h, w), np.float32)
    reach = r + soft + 1
    x0, x1 = max(0, int(cx - reach)), min(w, int(math.ceil(cx + reach)) + 1)
    y0, y1 = max(0, int(cy - reach)), min(h, int(math.ceil(cy + reach)) + 1)
    if x1 <= x0 or y1 <= y0:
        return out
    y = np.arange(y0, y1, dtype=np.float32)[:, None]
    x = np.arange(x0, x1, dtype=np.float32)[None, :]
    d = np.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    out[y0:y1, x0:x1] = np.clip((r - d) / soft + 0.5, 0, 1)
    return out


def _noise(rng: np.random.Generator, h: int, w: int, cells: float, octaves: int = 4, gain: float = 0.5,
           aspect: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """Fractal value noise in 0..1: random grids upscaled smoothly and summed over octaves.
    `cells` is the feature count along the shorter side; `aspect` stretches (rows, cols)."""
    short = max(1, min(h, w))
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        gy = max(2, int(round(cells * (h / short) * aspect[0] * 2**o)) + 1)
        gx = max(2, int(round(cells * (w / short) * aspect[1] * 2**o)) + 1)
        grid = rng.random((min(gy, h + 1), min(gx, w + 1)), dtype=np.float32)
        total += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        norm += amp
        amp *= gain
    total /= norm
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)


def _blur(arr: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide blurs run on a downscaled copy (the result is smooth either way)."""
    sigma = float(sigma)
    factor = int(min(8, sigma // 3))
    h, w = arr.shape[:2]
    if factor < 2 or min(h, w) < 16 * factor:
        return cv2.GaussianBlur(arr, (0, 0), sigma)
    small = cv2.resize(arr, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _noise_1d(rng: np.random.Generator, n: int, cells: float, octaves: int = 4,
              gain: float = 0.5) -> np.ndarray:
    """Fractal value noise along a line of `n` samples in 0..1 (`cells` features over its length)."""
    total = np.zeros(n, np.float32)
    amp, norm = 1.0, 0.0
    xs = np.linspace(0, 1, n, dtype=np.float32)
    for o in range(octaves):
        k = max(2, int(round(cells * 2**o)) + 1)
        knots = rng.random(k, dtype=np.float32)
        # Cosine interpolation between knots: smooth, with no overshoot.
        pos = xs * (k - 1)
        i = np.minimum(pos.astype(np.int32), k - 2)
        t = (1 - np.cos((pos - i) * math.pi)) / 2
        total += amp * (knots[i] * (1 - t) + knots[i + 1] * t)
        norm += amp
        amp *= gain
    total /= norm
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)


def _to_bytes(bg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Quantises to 8 bit with a little shared dither, so smooth gradients show no banding."""
    h, w = bg.shape[:2]
    dither = rng.random((h, w, 1), dtype=np.float32)
    return np.clip(np.floor(bg * 255.0 + dither), 0, 255).astype(np.uint8)
