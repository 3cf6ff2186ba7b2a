"""Places the product on the canvas and composites it back so its pixels are never repainted.

Every engine (embedded renderer, diffusion) ends with `composite_product`: inside the mask the
output equals the placed product layer bit for bit; only a thin band at the mask edge is blended.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageFilter

from sceneshop.tools.errors import InputError
from sceneshop.tools.segment import decontaminate

# How much of the canvas (longer side) the product fills for each camera framing, when no
# marketplace preset says otherwise. "closer"/"wider" feedback moves between these.
FRAMING_FILL = {"close": 0.8, "medium": 0.62, "wide": 0.42}


def framing_fill(recipe, market, photo_size, canvas_size) -> float | None:
    """The one framing rule every engine uses, so the preview and the diffusion result frame the
    product alike: a fixed-colour marketplace (amazon_main) uses its fill; another marketplace its
    fill unless the framing is explicitly close or wide; no marketplace the recipe's framing, except
    that a medium framing on a canvas of the photo's own size keeps the photo as it is (None: same
    place, same pixels)."""
    framing = recipe.camera.framing
    if market is not None:
        explicit = not market.background and framing in ("close", "wide")
        return FRAMING_FILL[framing] if explicit else market.fill
    if framing == "medium" and tuple(photo_size or ()) == tuple(canvas_size):
        return None
    return FRAMING_FILL[framing]


@dataclass(frozen=True)
class Placement:
    """The product layer on a canvas of the output size."""

    product: Image.Image  # RGB, canvas size; meaningful only where mask > 0
    mask: Image.Image  # L, canvas size, 255 = product
    box: tuple[int, int, int, int]  # product bounding box on the canvas (left, top, right, bottom)
    scale: float  # 1.0 = the photo's own pixels, untouched


def mask_box(mask: Image.Image) -> tuple[int, int, int, int]:
    box = mask.point(lambda v: 255 if v >= 128 else 0).getbbox()
    if box is None:
        raise InputError("the product mask is empty: no product found; give a --mask or a box hint")
    return box


def placement_scale(
    photo_size: tuple[int, int], box: tuple[int, int, int, int], width: int, height: int, fill: float | None
) -> float:
    """How much `place_product` enlarges (> 1) or shrinks the product whose bounding box in the photo
    is `box`, on a `width` x `height` canvas with framing `fill` (see `framing_fill`). Above 1 the
    product is shown beyond its native resolution and looks soft."""
    if fill is None:  # the photo's own framing: never enlarged, shrunk only to fit the canvas
        return min(1.0, width / photo_size[0], height / photo_size[1])
    bw, bh = box[2] - box[0], box[3] - box[1]
    scale = fill * max(width, height) / max(bw, bh)
    if fill >= 0.8:
        return min(scale, fill * width / bw, fill * height / bh)
    return min(scale, 0.95 * width / bw, 0.92 * height / bh)


def place_product(
    image: Image.Image, mask: Image.Image, width: int, height: int, fill: float | None
) -> Placement:
    """Scales the product so its bounding box fills `fill` of the canvas's longer side and centres it
    (standing on a floor line a little below the centre). `fill=None` keeps the photo's own framing:
    scale 1 and the same position when the canvas has the photo's size, so pixels stay identical.
    The mask must have the photo's size (the engines' `check_inputs` makes sure of it)."""
    mask = mask.convert("L")
    image = clean_edges(image.convert("RGB"), mask)
    box = mask_box(mask)
    bw, bh = box[2] - box[0], box[3] - box[1]
    scale = placement_scale(image.size, box, width, height, fill)
    if fill is None and scale == 1.0:
        # Same framing as the photo: offset so the photo's centre lands on the canvas centre.
        dx, dy = (width - image.width) // 2, (height - image.height) // 2
        product = Image.new("RGB", (width, height))
        layer = Image.new("L", (width, height), 0)
        product.paste(image, (dx, dy))
        layer.paste(mask, (dx, dy))
        return Placement(product, layer, (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy), 1.0)
    crop_img = image.crop(box)
    crop_mask = mask.crop(box)
    if scale != 1.0:
        size = (max(1, round(bw * scale)), max(1, round(bh * scale)))
        crop_img = crop_img.resize(size, Image.Resampling.LANCZOS)
        crop_mask = crop_mask.resize(size, Image.Resampling.LANCZOS)
    pw, ph = crop_img.size
    left = (width - pw) // 2
    # Marketplace-tight framings are centred exactly; looser ones stand slightly low, like a shot.
    top = (
        (height - ph) // 2
        if fill is not None and fill >= 0.8
        else min(height - ph, (height - ph) // 2 + int(0.06 * height))
    )
    product = Image.new("RGB", (width, height))
    layer = Image.new("L", (width, height), 0)
    product.paste(crop_img, (left, top))
    layer.paste(crop_mask, (left, top))
    return Placement(product, layer, (left, top, left + pw, top + ph), scale)


def clean_edges(image: Image.Image, mask: Image.Image, feather: int = 2) -> Image.Image:
    """The photo with the old background's colour taken out of the pixels the compositor blends
    (foreground estimation over the mask's soft edge), so no halo of the old room comes along.
    The pixels `composite_product` copies exactly (the mask's core) are left as they are."""
    alpha = np.asarray(mask, np.uint8)
    hard = alpha >= 128
    rows, cols = np.flatnonzero(hard.any(axis=1)), np.flatnonzero(hard.any(axis=0))
    if rows.size == 0:
        return image
    # Only the mask's box plus the estimate's reach matters: the result is the same, much faster.
    reach = max(8, max(alpha.shape) // 20)
    y0, y1 = max(0, rows[0] - reach), min(alpha.shape[0], rows[-1] + 1 + reach)
    x0, x1 = max(0, cols[0] - reach), min(alpha.shape[1], cols[-1] + 1 + reach)
    rgb = np.array(image)
    sub = rgb[y0:y1, x0:x1]
    estimate = decontaminate(sub, alpha[y0:y1, x0:x1])
    keep = _erode(hard[y0:y1, x0:x1], feather) if feather > 0 else hard[y0:y1, x0:x1]
    np.copyto(sub, estimate, where=~keep[..., None])
    return Image.fromarray(rgb, "RGB")


def composite_product(
    background: Image.Image, product: Image.Image, mask: Image.Image, feather: int = 2
) -> Image.Image:
    """Puts the product over the background. Pixels where the mask is 255 and at least `feather`
    pixels from its edge are copied exactly; the edge band is alpha-blended with a soft ramp so
    no halo or hard cut shows. All three images must have the same size."""
    if not (background.size == product.size == mask.size):
        raise InputError(
            f"composite sizes differ: background {background.size}, product {product.size}, "
            f"mask {mask.size}"
        )
    out = np.array(background.convert("RGB"))
    fg = np.asarray(product.convert("RGB"))
    hard = np.asarray(mask.convert("L")) >= 128
    # Only the mask's box plus the blur's reach can change, so the work is limited to it: the
    # result is identical to processing the whole canvas, and much faster on large canvases.
    rows, cols = np.flatnonzero(hard.any(axis=1)), np.flatnonzero(hard.any(axis=0))
    if rows.size == 0:
        return Image.fromarray(out, "RGB")
    reach = 3 * (int(np.ceil(feather)) + 2) + 2
    y0, y1 = max(0, rows[0] - reach), min(hard.shape[0], rows[-1] + 1 + reach)
    x0, x1 = max(0, cols[0] - reach), min(hard.shape[1], cols[-1] + 1 + reach)
    sub_hard = hard[y0:y1, x0:x1]
    sub_fg = fg[y0:y1, x0:x1]
    if feather > 0:
        # Blur the binary mask, then keep the blend only where the blur dropped below 1:
        # that is the band within `feather` px of the edge, inside and out.
        soft = Image.fromarray(sub_hard.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(feather))
        alpha = np.asarray(soft, dtype=np.float32) / 255.0
        core = _erode(sub_hard, feather)
        alpha[core] = 1.0
    else:
        alpha = sub_hard.astype(np.float32)
        core = sub_hard
    sub = out[y0:y1, x0:x1]  # a view: writing to it writes the output
    # Blend only the edge band; where alpha is 0 the background already stands as is.
    band = (alpha > 0) & ~core
    a = alpha[band][:, None]
    blend = sub[band].astype(np.float32) * (1.0 - a) + sub_fg[band].astype(np.float32) * a
    sub[band] = np.clip(np.rint(blend), 0, 255).astype(np.uint8)
    np.copyto(sub, sub_fg, where=core[..., None])  # bit-exact, no float round trip
    return Image.fromarray(out, "RGB")


def _erode(hard: np.ndarray, feather: int) -> np.ndarray:
    """The pixels at least `feather` px inside the mask (same as PIL's MinFilter(2*feather+1),
    edges replicated), via OpenCV because it is ~50x faster."""
    size = 2 * int(feather) + 1
    kernel = np.ones((size, size), np.uint8)
    return cv2.erode(hard.astype(np.uint8), kernel, borderType=cv2.BORDER_REPLICATE) > 0


def product_core(mask: Image.Image, feather: int = 2) -> np.ndarray:
    """Boolean array of the pixels `composite_product` copies exactly (for tests and checks)."""
    hard = np.asarray(mask.convert("L")) >= 128
    return _erode(hard, feather) if feather > 0 else hard
