"""The steps around the image engine that both engines share, read from the recipe's looks
sections: before it, straightening the product (retouch.straighten); after it, harmonizing the
product's light (retouch.harmonize) and drawing the text layer (text). Each step is off unless the
recipe asks, and the text never reaches the engine, so it is crisp and never in a diffusion prompt."""

from __future__ import annotations

from PIL import Image

from sceneshop.tools.retouch import harmonize, mean_delta_e, straighten
from sceneshop.tools.typography import draw_text

CUT_OUT_MODES = ("replace_background", "dress_model")  # the product is cut out and placed anew
# Opens the note of a straighten that was asked and turned nothing: the reply says why instead of
# "the product straightened".
NOT_STRAIGHTENED = "not straightened: "


def _text(recipe):
    text = getattr(recipe, "text", None)
    return None if text is None or text.empty else text


def _harmonize_strength(recipe) -> float:
    retouch = getattr(recipe, "retouch", None)
    return float(retouch.harmonize) if retouch is not None else 0.0


def needs_product_mask(recipe) -> bool:
    """Whether `finish` will use the product's place in the picture (ask the engine only then)."""
    return _text(recipe) is not None or _harmonize_strength(recipe) > 0


def prepare_product(recipe, image: Image.Image | None, mask: Image.Image | None):
    """(image, mask, notes): the photo and mask as the engine should get them. Straightens a tilted
    product when the recipe asks (retouch.straighten), which resamples it; otherwise untouched."""
    retouch = getattr(recipe, "retouch", None)
    if retouch is None or not retouch.straighten or image is None or mask is None:
        return image, mask, []
    if recipe.mode not in CUT_OUT_MODES:
        return image, mask, [f"{NOT_STRAIGHTENED}straighten applies to a cut-out product; in {recipe.mode} "
                             "the photo is kept as it is"]
    image, mask, turned, note = straighten(image, mask)
    return image, mask, [note if turned is not None else NOT_STRAIGHTENED + note]


def finish(recipe, images: list[Image.Image], product_mask: Image.Image | None):
    """(images, notes) after the engine: the product harmonized with the scene's light when asked
    (with its mean CIEDE2000 change), then the text layer, kept clear of `product_mask` (the
    product's place in the picture, L, or None when there is none)."""
    notes: list[str] = []
    strength = _harmonize_strength(recipe)
    if strength > 0 and product_mask is not None:
        out = []
        changes = []
        for picture in images:
            moved = harmonize(picture, product_mask, strength)
            changes.append(mean_delta_e(picture, moved, product_mask))
            out.append(moved)
        images = out
        notes.append(f"harmonized with the scene's light at strength {strength:.2f}: the product changed "
                     f"by mean ΔE2000 {max(changes):.1f} (say 'keep the original colours' to undo)")
    elif strength > 0:
        notes.append("harmonizing needs a product in the picture; there is none, so nothing changed")
    text = _text(recipe)
    if text is not None:
        out = []
        for picture in images:
            drawn, _placed, text_notes = draw_text(picture, text, product_mask)
            out.append(drawn)
            notes.extend(n for n in text_notes if n not in notes)
        images = out
    return images, notes
