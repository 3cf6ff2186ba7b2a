"""Finds the product in a photo, offline: a photo in, an "L" alpha mask out (>= 128 = product).

Tried in order:
(a) a meaningful alpha channel is the merchant's own cut-out and is used as it is;
(b) a plain background (border pixels of one colour) is keyed out, when the model agrees;
(c) otherwise the u2netp salient-object model (model.py) refined with the photo (refine.py);
(d) when the model file is missing or corrupt, GrabCut (classical.py), and `model_problem()` says why
    so the studio can tell the merchant once.
A box hint (left, top, right, bottom) limits every path; clicks `(x, y, is_product)` add or remove
regions (on a keyed or modelled cut-out a "remove" click takes the like-coloured region it is on,
never the product's core, and an "add" click seeds the refinement; on an alpha cut-out a "remove"
click drops the region under it).

Measured on the 30-photo product-photo dev set (bench/segment_accuracy.py): unhinted, the model path
scores mIoU 0.90 (raw model 0.87, the earlier GrabCut pipeline 0.70); with a box hint 0.94.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image

from sceneshop.tools.errors import InputError, check_cancel
from sceneshop.tools.segment import classical
from sceneshop.tools.segment.classical import MIN_AREA, NOTHING_FOUND, Box
from sceneshop.tools.segment.model import ModelUnavailable, model_problem, saliency
from sceneshop.tools.segment.refine import decontaminate, refine, sure_product

# Keying's exact edge is trusted when its cut-out and the model's overlap by this IoU and keying keeps
# this share of the model's sure product: on the dev set a book's white pages against a white wall
# keyed away 12% of the model's core at IoU 0.85 with the model (box IoU with the truth 0.85 keyed,
# 0.98 modelled); a studio shot keys away none of it.
KEY_AGREEMENT = 0.8
KEY_KEEPS_CORE = 0.98

Point = tuple[int, int, bool]  # x, y in photo pixels; True = "this is product", False = "remove this"

__all__ = ["Box", "Point", "decontaminate", "describe", "model_problem", "segment"]


def segment(
    image: Image.Image,
    box: Box | None = None,
    points: Sequence[Point] = (),
    cancel: threading.Event | None = None,
) -> Image.Image:
    """The product's alpha mask, the size of `image` (see the module docstring for the order).
    Raises InputError when nothing product-sized is found, Cancelled when `cancel` is set."""
    if image.width < 8 or image.height < 8:
        raise InputError(f"the photo is {image.width}x{image.height}; it must be at least 8x8 pixels")
    box = classical.check_box(box, image.size)
    points = _check_points(points, image.size)
    alpha = classical.meaningful_alpha(image)
    if alpha is not None:
        alpha = _drop_clicked(classical.clip(alpha, box), [p for p in points if not p[2]])
        if np.count_nonzero(alpha >= 128) < MIN_AREA * alpha.size:
            raise InputError(NOTHING_FOUND)
        return Image.fromarray(alpha, "L")
    rgb = np.asarray(image.convert("RGB"))
    keyed = None if points else classical.key_plain_background(rgb)
    check_cancel(cancel)
    try:
        prob = saliency(rgb)
    except ModelUnavailable:
        if keyed is not None:
            return classical.finish(classical.clip(keyed, box))
        return classical.finish(classical.grabcut(rgb, box))
    check_cancel(cancel)
    alpha = refine(rgb, prob, box=box, points=points)
    found = alpha >= 128
    if keyed is not None:
        # Keying is exact on a studio backdrop, but a room photo with a one-colour border (a white
        # wall) keys the furniture too: the keyed cut-out is used only where the model agrees.
        try:
            keyed_mask = classical.finish(classical.clip(keyed, box))
        except InputError:  # keying left nothing product-sized: the model's answer stands
            keyed_mask = None
        if keyed_mask is not None and _keying_agrees(np.asarray(keyed_mask) >= 128, found, prob):
            return keyed_mask
    if np.count_nonzero(found) < MIN_AREA * alpha.size:
        # The model saw nothing (a silver bottle on a grey wall): the colour model may still.
        return classical.finish(classical.grabcut(rgb, box))
    return Image.fromarray(alpha, "L")


def _keying_agrees(keyed: np.ndarray, found: np.ndarray, prob: np.ndarray) -> bool:
    """Whether the keyed cut-out matches the model's (see KEY_AGREEMENT) without biting its core."""
    if (keyed & found).sum() < KEY_AGREEMENT * (keyed | found).sum():
        return False
    core, _ = sure_product(prob, found)
    return (core & keyed).sum() >= KEY_KEEPS_CORE * core.sum()


def describe(mask: Image.Image) -> str:
    """One line for the merchant: "found one product, covers 34% of the photo"."""
    hard = (np.asarray(mask.convert("L")) >= 128).astype(np.uint8)
    share = hard.mean()
    if share == 0:
        return "found no product; draw a box around it"
    count, _, stats, _ = cv2.connectedComponentsWithStats(hard, connectivity=8)
    parts = int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= MIN_AREA * hard.size))
    what = "one product" if parts <= 1 else f"{parts} separate parts"
    # On the dev set no product ran off the photo, and both cut-outs that did held a piece of the
    # room there (a sofa, a plant): worth a look before any scene is made.
    edges = [side for side, rows in (("top", hard[0]), ("bottom", hard[-1]), ("left", hard[:, 0]),
                                     ("right", hard[:, -1])) if rows.any()]
    off = f" and runs off its {' and '.join(edges)} edge{'s' if len(edges) > 1 else ''}" if edges else ""
    return f"found {what}, covers {share:.0%} of the photo{off}"


def _check_points(points: Sequence[Point], size: tuple[int, int]) -> list[Point]:
    checked = []
    for point in points or ():
        try:
            x, y, keep = point
            x, y = int(round(float(x))), int(round(float(y)))
        except (TypeError, ValueError):
            raise InputError(f"click {point!r} must be x, y and whether it is product") from None
        if not (0 <= x < size[0] and 0 <= y < size[1]):
            raise InputError(f"click ({x}, {y}) is outside the {size[0]}x{size[1]} photo")
        checked.append((x, y, bool(keep)))
    return checked


def _drop_clicked(alpha: np.ndarray, removals: list[Point]) -> np.ndarray:
    """Removes the connected region under each "remove" click from an alpha cut-out."""
    if not removals:
        return alpha
    _, labels = cv2.connectedComponents((alpha >= 128).astype(np.uint8), connectivity=8)
    out = alpha.copy()
    for x, y, _ in removals:
        if labels[y, x]:
            out[labels == labels[y, x]] = 0
    return out


