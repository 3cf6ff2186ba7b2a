"""Finds the product in a photo offline (alpha channel, plain-background keying, or GrabCut)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.errors import InputError, check_cancel

Box = tuple[int, int, int, int]

NOTHING_FOUND = "no product found; draw a box hint around the product or upload a mask"

# GrabCut's cost grows with pixel count; its mask is upscaled afterwards, so this side suffices.
GRABCUT_SIDE = 320
GRABCUT_ITERATIONS = 4
DEFAULT_MARGIN = 0.06  # default GrabCut box: the image minus this fraction on every side
MIN_AREA = 0.002  # fraction of the image: anything smaller is noise, not a product


def segment(image: Image.Image, box: Box | None = None, *, cancel=None) -> Image.Image:
    """Returns an "L" mask of the product (255 product, 0 background), the size of `image`.

    Tried in order: (a) a meaningful alpha channel is the mask; (b) a plain background (border
    pixels of one colour, any colour) is keyed out, cleaned, and interior holes filled so a white
    label on a product shot on white stays product; (c) otherwise GrabCut, initialised with
    `box` (left, top, right, bottom) or a default centre box. `box` also limits (a) and (b).
    An alpha channel is returned as is (soft edge and holes kept); (b) and (c) give 0/255.
    Raises InputError when nothing is found, and Cancelled between steps once `cancel` (a
    threading.Event) is set."""
    check_cancel(cancel)
    if image.width < 8 or image.height < 8:
        raise InputError(f"the photo is {image.width}x{image.height}; it must be at least 8x8 pixels")
    box = _check_box(box, image.size)
    alpha = _meaningful_alpha(image)
    if alpha is not None:
        # The cut-out is the user's (or their tool's) explicit answer: use it as is, holes included.
        alpha = _clip(alpha, box)
        if np.count_nonzero(alpha >= 128) < MIN_AREA * alpha.size:
            raise InputError(NOTHING_FOUND)
        return Image.fromarray(alpha, "L")
    rgb = np.asarray(image.convert("RGB"))
    check_cancel(cancel)
    keyed = _key_plain_background(rgb)
    check_cancel(cancel)
    if keyed is not None:
        return _finish(_clip(keyed, box))
    mask = _grabcut(rgb, box)
    check_cancel(cancel)
    return _finish(mask)


# ---------------------------------------------------------------- (a) alpha


def _meaningful_alpha(image: Image.Image) -> np.ndarray | None:
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        return None
    alpha = np.asarray(image.convert("RGBA").getchannel("A"))
    transparent = np.count_nonzero(alpha < 128) / alpha.size
    # A fully opaque alpha (a JPEG saved as PNG) says nothing; a fully transparent one is empty.
    if transparent < 0.005:
        return None
    if transparent > 0.999:
        raise InputError(f"the photo's alpha channel is fully transparent; {NOTHING_FOUND}")
    return alpha


# ---------------------------------------------------------------- (b) plain background


def _key_plain_background(rgb: np.ndarray) -> np.ndarray | None:
    """Mask of everything that differs from a plain background colour, or None if the border
    pixels do not agree on one colour."""
    h, w = rgb.shape[:2]
    band = max(2, round(0.015 * min(h, w)))
    border = np.concatenate([
        rgb[:band].reshape(-1, 3), rgb[-band:].reshape(-1, 3),
        rgb[:, :band].reshape(-1, 3), rgb[:, -band:].reshape(-1, 3),
    ]).astype(np.float32)
    colour = np.median(border, axis=0)
    dist = np.linalg.norm(border - colour, axis=1)
    # The product may touch an edge, so 80% agreement is enough to call the background plain.
    spread = float(np.percentile(dist, 80))
    if spread > 14.0:
        return None
    tolerance = float(np.clip(3.0 * np.percentile(dist, 95) + 10.0, 18.0, 48.0))
    smooth = cv2.medianBlur(rgb, 3).astype(np.float32)  # removes sensor noise, keeps edges
    diff = np.linalg.norm(smooth - colour, axis=2)
    mask = (diff > tolerance).astype(np.uint8) * 255
    k = max(3, round(0.004 * min(h, w)) | 1)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((2 * k + 1, 2 * k + 1), np.uint8))
    if np.count_nonzero(mask) > 0.97 * mask.size:
        return None  # "plain" border but everything differs: keying is not the right tool
    return mask


# ---------------------------------------------------------------- (c) GrabCut


def _grabcut(rgb: np.ndarray, box: Box | None) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = min(1.0, GRABCUT_SIDE / max(h, w))
    small = rgb if scale == 1.0 else cv2.resize(
        rgb, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    sh, sw = small.shape[:2]
    if box is None:
        mx, my = round(DEFAULT_MARGIN * sw), round(DEFAULT_MARGIN * sh)
        rect = (mx, my, sw - 2 * mx, sh - 2 * my)
    else:
        left, top = int(box[0] * scale), int(box[1] * scale)
        right, bottom = int(np.ceil(box[2] * scale)), int(np.ceil(box[3] * scale))
        # GrabCut needs some certain-background pixels outside the rectangle.
        left, top = max(1, left), max(1, top)
        right, bottom = min(sw - 1, right), min(sh - 1, bottom)
        rect = (left, top, max(2, right - left), max(2, bottom - top))
    labels = np.zeros((sh, sw), np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: make it repeatable
    try:
        cv2.grabCut(
            cv2.cvtColor(small, cv2.COLOR_RGB2BGR), labels, rect, bgd, fgd,
            GRABCUT_ITERATIONS, cv2.GC_INIT_WITH_RECT,
        )
    except cv2.error:
        raise InputError(NOTHING_FOUND) from None
    fg = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).astype(np.float32)
    if scale != 1.0:
        # Upscale the soft mask and threshold it so edges are smooth, not blocky.
        fg = cv2.resize(cv2.GaussianBlur(fg, (0, 0), 0.7), (w, h), interpolation=cv2.INTER_LINEAR)
    mask = (fg >= 0.5).astype(np.uint8) * 255
    k = max(3, round(0.004 * min(h, w)) | 1)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))


# ---------------------------------------------------------------- shared cleanup


def _check_box(box: Box | None, size: tuple[int, int]) -> Box | None:
    if box is None:
        return None
    try:
        left, top, right, bottom = (int(round(float(v))) for v in box)
    except (TypeError, ValueError):
        raise InputError(
            f"box hint {box!r} must be four numbers: left, top, right, bottom (in pixels)"
        ) from None
    w, h = size
    left, top = max(0, left), max(0, top)
    right, bottom = min(w, right), min(h, bottom)
    if right - left < 4 or bottom - top < 4:
        raise InputError(
            f"box hint {tuple(box)} does not cover any of the {w}x{h} photo; give left, top, right, "
            "bottom in pixels with left < right and top < bottom"
        )
    return left, top, right, bottom


def _clip(mask: np.ndarray, box: Box | None) -> np.ndarray:
    if box is None:
        return mask
    clipped = np.zeros_like(mask)
    clipped[box[1]:box[3], box[0]:box[2]] = mask[box[1]:box[3], box[0]:box[2]]
    return clipped


def _finish(mask: np.ndarray) -> Image.Image:
    """Keeps the main connected components (a pair of shoes is two), fills interior holes, and
    raises when nothing product-sized is left."""
    h, w = mask.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats((mask >= 128).astype(np.uint8), 8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    if count <= 1 or areas.max() < MIN_AREA * h * w:
        raise InputError(NOTHING_FOUND)
    keep = np.flatnonzero(areas >= max(0.08 * areas.max(), MIN_AREA * h * w)) + 1
    return Image.fromarray(_fill_holes(np.isin(labels, keep).astype(np.uint8) * 255), "L")


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Sets every background region that does not touch the image border to product."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 255)
    holes = flood[1:-1, 1:-1] == 0
    return np.where(holes, 255, mask).astype(np.uint8)
