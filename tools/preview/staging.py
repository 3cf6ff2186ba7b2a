"""Stands the product in the preview's scene: its lowest pixels on the preset's surface line at the
framing's scale, a contact shadow and a cast shadow that follow the recipe's light, and a faint
reflection on glossy surfaces.

The backdrops (backdrops.py, outdoors.py) draw their floor, table edge or horizon relative to the
product's base (`Canvas.base`), so putting the base on the preset's surface line is what makes the
product stand on the floor rather than float in front of the wall. Moving the product is a whole-
pixel shift (its pixels stay as they are); it is resampled only when the framing asks for another
size, or when it would not fit between the line and the top of the picture.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.catalog import Catalog, ScenePreset
from sceneshop.tools.composite import FRAMING_FILL, Placement, mask_box, place_product
from sceneshop.tools.preview.canvas import Canvas
from sceneshop.tools.preview.paint import blur

# Where the product stands, as a fraction of the picture's height from the top, per kind of scene:
# low enough that the floor or tabletop shows in front of it, high enough to leave it some depth.
SURFACE_LINE = {"studio": 0.86, "gradient": 0.86, "surface": 0.88, "interior": 0.89, "outdoor": 0.88}
PODIUM_LINE = 0.74  # the plinth is drawn under the product: leave room for its drum
TOP_ROOM = 0.05  # the product's top keeps at least this much of the height free
# Room the text layer needs (recipe.text): a cover's masthead (or a banner over an upright picture)
# takes the top quarter; a banner on a wide picture takes the left part, the product the rest.
TEXT_TOP_ROOM = 0.27
BANNER_SIDE = 0.42
GLOSSY_WORDS = ("glass", "mirror", "glossy", "lacquer", "polished", "wet", "water", "reflective")


@dataclass(frozen=True)
class Staged(Placement):
    """A placement that stands on the scene's surface, with what the shadows need to know."""

    line: int | None = None  # the surface row the product's lowest pixels lie on (None: seen from above)
    direction: str = "front"  # where the light comes from (recipe.lighting.direction)
    softness: float = 0.5  # of the lighting preset: 0 hard … 1 soft
    long_shadows: bool = False  # low sun (sunrise, sunset)
    glossy: bool = False


def surface_line(scene: ScenePreset, height: int) -> int | None:
    """The row the product stands on for a scene preset; None for overhead (flat-lay) scenes."""
    if scene.overhead:
        return None
    fraction = PODIUM_LINE if scene.podium else SURFACE_LINE.get(scene.kind, 0.86)
    return min(height - 1, int(round(fraction * height)))


def staging_scene(recipe, catalog: Catalog) -> ScenePreset:
    """The preset whose surface the product stands on: the recipe's, or for a "custom" scene the
    studio sweep the preview renderer draws one as (so both engines use the same line)."""
    name = recipe.scene.preset
    return catalog.scene(name if name != "custom" else "studio_grey")


def is_glossy(scene: ScenePreset, words: str) -> bool:
    return scene.glossy or any(re.search(rf"\b{w}\b", words) for w in GLOSSY_WORDS)


def stage_product(recipe, catalog: Catalog, scene: ScenePreset, image: Image.Image, mask: Image.Image,
                  width: int, height: int, fill: float | None, stand: bool = True) -> Staged:
    """The product placed at the framing's scale (sceneshop.tools.composite.place_product) and
    moved so that its lowest row lies on the scene's surface line; scaled down only when it would
    not fit under the room the text layer and TOP_ROOM leave (and then, if it kept the photo's own
    framing, framed as recipe.camera.framing says instead: it is resampled either way).
    Horizontally it stays where place_product put it, unless a banner needs the left part.
    `stand=False` (a fixed-colour marketplace) keeps place_product's centred placement."""
    placed = place_product(image, mask, width, height, fill)
    light = recipe.lighting
    softness = catalog.light(light.preset).softness
    words = " ".join([scene.description, recipe.scene.description or ""]).lower()
    extra = dict(direction=str(light.direction or "front").lower(), softness=float(softness),
                 long_shadows=getattr(recipe, "time_of_day", None) in ("sunrise", "sunset"),
                 glossy=is_glossy(scene, words))
    line = surface_line(scene, height) if stand else None
    if line is None:
        return Staged(placed.product, placed.mask, placed.box, placed.scale, line=None, **extra)
    top_room, side = text_room(recipe, width, height)
    room_h, room_w = line + 1 - top_room, width - side - round(TOP_ROOM * width)
    box = placed.box
    factor = min(1.0, room_h / (box[3] - box[1]), room_w / (box[2] - box[0]))
    if factor < 1.0 and fill is None:
        # The photo's own framing cannot be kept pixel for pixel anyway: frame it as the recipe says.
        placed = place_product(image, mask, width, height, FRAMING_FILL[recipe.camera.framing])
        box = placed.box
        factor = min(1.0, room_h / (box[3] - box[1]), room_w / (box[2] - box[0]))
    if factor < 1.0:
        placed = _rescaled(image, mask, width, height, placed, factor)
    dy = line - _lowest_row(placed.mask)
    left, top, right, bottom = placed.box
    dx = 0
    if side:  # centred in the part the text leaves free
        dx = round(side + (width - side) / 2 - (left + right) / 2)
    product = Image.new("RGB", (width, height))
    layer = Image.new("L", (width, height), 0)
    product.paste(placed.product, (dx, dy))
    layer.paste(placed.mask, (dx, dy))
    return Staged(product, layer, (left + dx, top + dy, right + dx, bottom + dy), placed.scale, line=line,
                  **extra)


def text_room(recipe, width: int, height: int) -> tuple[int, int]:
    """(rows kept free above the product, columns kept free on its left) for the recipe's text."""
    text = getattr(recipe, "text", None)
    layout = getattr(text, "layout", "none")
    top = round(TOP_ROOM * height)
    if layout == "banner" and width >= 1.3 * height:
        return top, round(BANNER_SIDE * width)
    if layout in ("cover", "banner") and text.title and text.place == "top":
        return round(TEXT_TOP_ROOM * height), 0
    return top, 0


def _lowest_row(mask: Image.Image) -> int:
    return mask_box(mask)[3] - 1


def _rescaled(image: Image.Image, mask: Image.Image, width: int, height: int, placed: Placement,
              factor: float) -> Placement:
    """place_product's result scaled by `factor` about its bottom centre (from the photo, so the
    product is resampled once)."""
    box = mask_box(mask.convert("L"))
    scale = placed.scale * factor
    bw, bh = box[2] - box[0], box[3] - box[1]
    size = (max(1, round(bw * scale)), max(1, round(bh * scale)))
    crop_img = image.convert("RGB").crop(box).resize(size, Image.Resampling.LANCZOS)
    crop_mask = mask.convert("L").crop(box).resize(size, Image.Resampling.LANCZOS)
    cx = (placed.box[0] + placed.box[2]) / 2
    left = int(round(cx - size[0] / 2))
    top = placed.box[3] - size[1]
    product = Image.new("RGB", (width, height))
    layer = Image.new("L", (width, height), 0)
    product.paste(crop_img, (left, top))
    layer.paste(crop_mask, (left, top))
    return Placement(product, layer, (left, top, left + size[0], top + size[1]), scale)


# ---------------------------------------------------------------- shadows and reflection


def shadow_geometry(direction: str) -> tuple[float, float, float]:
    """(sx, sy, depth) of a cast shadow for a light direction: sx = +1 falls to the right (light
    from the left, or "side": the house convention), -1 to the left, 0 straight; sy = +1 towards
    the camera (light from behind), -1 away from it; depth = how far it reaches along the floor per
    unit of the product's height (the floor is seen at a grazing angle, so little)."""
    d = direction.lower()
    sx = -1.0 if "right" in d else (1.0 if ("left" in d or "side" in d) else 0.0)
    if "back" in d or "behind" in d or "rim" in d:
        return sx, 1.0, 0.3
    if "top" in d or "above" in d or "overhead" in d:
        return sx, -1.0, 0.08
    if "front" in d:
        return sx, -1.0, 0.22
    return sx, -1.0, 0.18


def cast_shadow(mask: np.ndarray, line: int, direction: str, softness: float,
                long: bool = False) -> np.ndarray:
    """The cast shadow's darkness (0..1, before strength) on the floor: the silhouette projected
    away from the light and blurred by the light's softness. `mask` is float 0..1, canvas-sized."""
    h, w = mask.shape
    sx, sy, depth = shadow_geometry(direction)
    rows = np.flatnonzero(mask.max(axis=1) > 0.5)
    height = float(rows[-1] - rows[0] + 1) if rows.size else 1.0
    reach = (0.55 if long else 0.35) * abs(sx)  # horizontal lean per unit of height
    depth *= 1.3 if long else 1.0
    # A point at height (line - y) lands at x + sx*reach*(line - y), line + sy*depth*(line - y).
    affine = np.float32([[1, -sx * reach, sx * reach * line],
                         [0, -sy * depth, line * (1 + sy * depth)]])
    cast = cv2.warpAffine(mask.astype(np.float32), affine, (w, h), flags=cv2.INTER_LINEAR)
    # Soft light spreads the shadow: from a crisp 0.4 % of the product's height to 5 %.
    return blur(cast, max(0.8, (0.004 + 0.046 * softness) * height))


def contact_shadow(mask: np.ndarray, line: int) -> np.ndarray:
    """The dark line where the product touches the surface: its lowest part, squashed to a thin
    band on the line and softened a little."""
    h, w = mask.shape
    rows = np.flatnonzero(mask.max(axis=1) > 0.5)
    if rows.size == 0:
        return np.zeros_like(mask, np.float32)
    height = float(rows[-1] - rows[0] + 1)
    y = np.arange(h, dtype=np.float32)[:, None]
    near = mask * np.exp(-np.clip(line - y, 0, None) / max(1.0, 0.04 * height))  # the feet
    squash = 0.06
    affine = np.float32([[1, 0, 0], [0, squash, line * (1 - squash) + 0.01 * height]])
    band = cv2.warpAffine(near.astype(np.float32), affine, (w, h), flags=cv2.INTER_LINEAR)
    return np.clip(blur(band, max(1.0, 0.012 * height)) * 1.6, 0, 1)


def reflection(bg: np.ndarray, staged: Staged) -> np.ndarray:
    """A faint mirror image of the product below its base line, fading with distance (glossy
    surfaces only; drawn on the scene before the product goes on top)."""
    h, w = bg.shape[:2]
    line = staged.line
    m = np.asarray(staged.mask, np.float32) / 255.0
    prod = np.asarray(staged.product, np.float32) / 255.0
    top = staged.box[1]
    height = max(1, line - top + 1)
    below = min(h - line - 1, height)
    if below <= 0:
        return bg
    src = slice(line, line - below, -1)  # rows line, line-1, … mirrored to line+1, line+2, …
    mirrored_m = m[src][:below]
    mirrored_p = prod[src][:below]
    fade = (0.22 * np.exp(-np.arange(below, dtype=np.float32) / (0.3 * height)))[:, None]
    alpha = blur(mirrored_m, 1.2) * fade
    seg = bg[line + 1: line + 1 + below]
    seg += (blur(mirrored_p, 1.2) - seg) * alpha[..., None]
    return bg


def ground(bg: np.ndarray, ctx: Canvas, staged: Placement) -> np.ndarray:
    """Reflection (glossy surfaces), cast shadow and contact shadow under a staged product."""
    m = np.asarray(staged.mask, np.float32) / 255.0
    if not isinstance(staged, Staged) or staged.line is None:
        return _overhead_shadow(bg, ctx, m, getattr(staged, "direction", "front"))
    line = staged.line
    if staged.glossy:
        bg = reflection(bg, staged)
    hard = 1.0 - staged.softness
    strength = (0.22 + 0.3 * hard) * (0.75 if ctx.time == "night" else 1.0)
    cast = cast_shadow(m, line, staged.direction, staged.softness, staged.long_shadows)
    contact = contact_shadow(m, line)
    total = np.clip(strength * cast + 0.6 * contact, 0, 0.8)
    return bg * (1 - total[..., None])


def _overhead_shadow(bg: np.ndarray, ctx: Canvas, m: np.ndarray, direction: str) -> np.ndarray:
    """Seen from above the shadow is the product's own outline, offset away from the light."""
    h, w = ctx.height, ctx.width
    sx, _, _ = shadow_geometry(direction)
    shift = np.float32([[1, 0, (0.012 * (sx or 1.0)) * w], [0, 1, 0.018 * h]])
    drop = blur(cv2.warpAffine(m, shift, (w, h)), 0.012 * max(w, h))
    return bg * (1 - 0.38 * drop[..., None])
