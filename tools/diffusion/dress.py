"""Mannequin to model (recipe.mode "dress_model"): the garment is kept exactly where it was
photographed, and everything else (the mannequin, the empty space around the garment, the
background) is inpainted with the person and the scene the prompt describes, LoRAs as usual.

The garment keeps the photo's framing (like inpaint): the mannequin's pose decides where the
person's body has to be, so moving or scaling the garment would leave it floating off the body. A
new output size is outpainted around it. The product mask must be the garment alone: a cut-out that
includes the mannequin would keep the mannequin too (the cut-out step is where to fix that).
"""

from __future__ import annotations

from PIL import Image, ImageOps

from sceneshop.tools.composite import place_product


def dress_layers(image: Image.Image, garment: Image.Image, size: tuple[int, int]):
    """(product layer, garment mask, repaint mask) on the output canvas: the garment as
    photographed, its mask (255 = keep, bit-exact after compositing), and the mask handed to the
    inpainting pipeline (255 = paint the person and the scene here: everything but the garment)."""
    # check_inputs (sceneshop.tools.inputs) has made sure the garment mask is there and fits.
    placement = place_product(image, garment.convert("L"), size[0], size[1], None)
    return placement.product, placement.mask, ImageOps.invert(placement.mask)
