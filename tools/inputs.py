"""Checks what a render is given (the product photo and its mask) against what the recipe's mode
needs: one check with one wording per rule, called at the top of every engine's `render`, like
diffusers' `check_inputs`."""

from __future__ import annotations

import numpy as np
from PIL import Image

from sceneshop.tools.errors import InputError
from sceneshop.tools.segment import segment

MODES = ("replace_background", "text_to_image", "restyle", "inpaint", "dress_model")


def check_photo(mode: str, has_photo: bool) -> None:
    """InputError when `mode` is unknown, or works on a product photo and there is none. The LLM's
    tools ask this while planning (only the photo's size is known then); `check_inputs` at render."""
    if mode not in MODES:
        raise InputError(f"mode '{mode}' is not one of {', '.join(MODES)}; use one of those")
    if mode != "text_to_image" and not has_photo:
        raise InputError(
            f"mode '{mode}' needs a product photo; upload one (CLI: --image), or use mode "
            "text_to_image for a picture without a product"
        )


def check_inputs(
    recipe, image: Image.Image | None, mask: Image.Image | None, cancel=None
) -> tuple[Image.Image | None, Image.Image | None]:
    """The photo and mask to render `recipe` with, or InputError saying what is missing and how to
    fix it.

    text_to_image ignores any photo and mask. Every other mode needs the photo. The mask marks the
    product (white = keep) — except in inpaint, where it marks the area to repaint. Without a mask
    the product is found by segmentation (`sceneshop.tools.segment`), but never in inpaint: there a
    guessed product mask would repaint the product itself."""
    check_photo(recipe.mode, image is not None)
    if recipe.mode == "text_to_image":
        return None, None
    if mask is None:
        if recipe.mode == "inpaint":
            raise InputError(
                "inpaint needs a mask of the area to repaint (white = repaint); draw or upload one "
                "(CLI: --mask)"
            )
        if recipe.mode == "dress_model":
            # A guessed cut-out keeps the mannequin along with the garment.
            raise InputError(
                "dress_model needs the garment's mask (white = garment only, not the mannequin); "
                "make one in the cut-out step or pass --mask"
            )
        mask = segment(image, cancel=cancel)
    if mask.size != image.size:
        raise InputError(
            f"mask size {mask.size} differs from image size {image.size}; use a mask made for this photo"
        )
    if recipe.mode == "inpaint" and int(np.asarray(mask.convert("L")).min()) >= 128:
        raise InputError(
            "the inpaint mask covers the whole photo; use restyle or text_to_image to repaint everything"
        )
    return image, mask
