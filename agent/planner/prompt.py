"""Renders a recipe's fields into the final diffusion prompt and negative prompt (the one place
prompt text is written), and loads the planner vocabulary from prompts/vocabulary.yaml."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sceneshop.tools.catalog import Catalog, default_folder, read_mapping
from sceneshop.tools.wording import description_parts, trigger_words

VOCABULARY_FILE = "vocabulary.yaml"

# Below this clutter the scene's props are left out of the prompt; above BUSY it asks for more.
PROPS_MIN_CLUTTER = 0.25
BARE_CLUTTER = 0.3
BUSY_CLUTTER = 0.7
EXPOSURE_WORDS_AT = 0.15


@lru_cache(maxsize=4)
def load_vocabulary(folder: str | Path | None = None) -> dict:
    """The planner's words (time words, feedback phrases, colours, products, negatives), from the
    catalog folder's vocabulary.yaml, or the shipped one when that folder has none."""
    path = Path(folder or default_folder()) / VOCABULARY_FILE
    if not path.exists():
        path = default_folder() / VOCABULARY_FILE
    return read_mapping(path)


def _dedupe(items: list[str]) -> list[str]:
    seen, out = set(), []
    for item in items:
        key = item.strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append(item.strip())
    return out


def compose_prompt(recipe, catalog: Catalog) -> tuple[str, str]:
    """(prompt, negative_prompt) for a recipe: subject, scene preset + the user's own scene words
    (verbatim), props when clutter allows, lighting + kelvin, time of day, camera, each active
    LoRA's triggers exactly once (sceneshop.tools.wording.trigger_words), quality words.
    Deterministic: same recipe, same text."""
    vocab = load_vocabulary(catalog.folder)
    subject_lead = vocab["subject_prompt"].get(recipe.mode, vocab["subject_prompt"]["replace_background"])
    subject = recipe.subject.description.strip() or "product"
    body = [f"{subject_lead} {subject}"]
    if recipe.mode == "dress_model":  # looks: who wears the garment (agent/planner/looks.py)
        body.append(recipe.person or "a model")

    if recipe.scene.preset != "custom":
        body.append(catalog.scene(recipe.scene.preset).description)
    positive_words, negative_words = description_parts(recipe.scene.description)
    body.extend(positive_words)
    if recipe.scene.props and recipe.scene.clutter >= PROPS_MIN_CLUTTER:
        body.append("with " + ", ".join(recipe.scene.props))
    if recipe.scene.clutter >= BUSY_CLUTTER:
        body.append(vocab["busy_words"])
    elif recipe.scene.clutter < BARE_CLUTTER:
        body.append(vocab["bare_words"])

    light = catalog.light(recipe.lighting.preset)
    body.append(f"{light.description}, light from the {recipe.lighting.direction}, {recipe.lighting.kelvin}K")
    if recipe.lighting.exposure >= EXPOSURE_WORDS_AT:
        body.append(vocab["exposure_words"]["up"])
    elif recipe.lighting.exposure <= -EXPOSURE_WORDS_AT:
        body.append(vocab["exposure_words"]["down"])
    if recipe.time_of_day:
        body.append(vocab["time_prompt"][recipe.time_of_day])

    camera = recipe.camera
    body.append(f"{camera.angle}, {vocab['framing_prompt'][camera.framing]}, {camera.lens}")

    marketplace = catalog.marketplace(recipe.output.preset) if recipe.output.preset else None
    white_marketplace = marketplace is not None and (marketplace.background or "").lower() == "#ffffff"
    if white_marketplace:
        body.append(vocab["white_marketplace_words"])

    body.extend(vocab["quality"])
    body = _dedupe(body)

    # Trigger words lead, and are left out where the scene text already says them ("3d render" in
    # the podium preset).
    loras = [(catalog.lora(choice.name), choice.weight) for choice in recipe.loras]
    triggers = trigger_words(loras, ", ".join(body))
    prompt = ", ".join(triggers + body)

    negative = list(vocab["negative"]["default"])
    if recipe.mode in ("text_to_image", "dress_model"):
        negative.extend(vocab["negative"][recipe.mode])
    if recipe.scene.clutter < BARE_CLUTTER:
        negative.extend(vocab["negative"]["low_clutter"])
    elif recipe.scene.clutter >= BUSY_CLUTTER:
        negative.extend(vocab["negative"]["high_clutter"])
    if recipe.lighting.exposure >= EXPOSURE_WORDS_AT:
        negative.extend(vocab["negative"]["bright"])
    elif recipe.lighting.exposure <= -EXPOSURE_WORDS_AT:
        negative.extend(vocab["negative"]["dark"])
    if white_marketplace:
        negative.extend(vocab["negative"]["white_marketplace"])
    negative.extend(negative_words)
    negative_text = ", ".join(_dedupe(negative))
    return _clip(prompt, 4000), _clip(negative_text, 2000)


def _clip(text: str, limit: int) -> str:
    """Cuts at the last comma that fits: the recipe's field limits are hard, and a half word would
    reach the model."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: cut.rfind(",")] if "," in cut else cut
