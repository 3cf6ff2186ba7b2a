"""Which earlier picture a merchant means: "the warm one", "the one on the beach", "the sunset one",
"my clean white look" matched against recipes (versions of this chat, or saved looks) by the words each
recipe can be called -- its scene, time of day, light, style and output in the catalog's own words --
and by degree ("the warm one" is the warmest)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TypeVar

from sceneshop.agent.planner.lexicon import phrase_key
from sceneshop.agent.planner.prompt import load_vocabulary
from sceneshop.agent.recipe import Recipe
from sceneshop.agent.wording import labels
from sceneshop.tools.catalog import Catalog

T = TypeVar("T")


def _stem(word: str) -> str:
    word = word.lower().strip("'")
    for end in ("ies", "es", "s"):
        if len(word) > 4 and word.endswith(end):
            return word[: -len(end)] + ("y" if end == "ies" else "")
    return word


def _words(text: str) -> set[str]:
    return {_stem(part) for word in re.findall(r"[\w'\-]+", str(text).lower()) for part in word.split("-")}


def look_words(recipe: Recipe, catalog: Catalog, extra: str = "") -> set[str]:
    """Every word the merchant may call this recipe by."""
    vocab = load_vocabulary(catalog.folder)
    names = labels(catalog)
    texts = [extra, recipe.scene.description, recipe.subject.description]
    scene = recipe.scene.preset
    if scene != "custom":
        preset = catalog.scene(scene)
        texts += [scene.replace("_", " "), *preset.keywords, names.scene(scene),
                  names.scenes.get(scene, ("", ""))[1]]
    if recipe.time_of_day:
        texts += [recipe.time_of_day, *vocab["time_words"].get(recipe.time_of_day, [])]
    light = catalog.light(recipe.lighting.preset)
    texts += [*light.keywords, names.light(light.name)]
    for choice in recipe.loras:
        texts += [*catalog.lora(choice.name).keywords, names.style(choice.name)]
    if recipe.output.preset:
        texts += [*catalog.marketplace(recipe.output.preset).keywords, recipe.output.preset.split("_")[0]]
    framing = vocab["references"]["framings"].get(recipe.camera.framing, [])
    texts += framing
    return set().union(*(_words(t) for t in texts))


def pick(words: str, candidates: Sequence[tuple[T, Recipe, str]], catalog: Catalog) -> list[T]:
    """The candidates (key, recipe, extra words) that `words` describe, best first: all of its
    words must name the recipe, and a degree word picks the extreme ("the warm one" = the
    warmest of them). Several left = ambiguous; none = no such picture."""
    vocab = load_vocabulary(catalog.folder)
    refs = vocab["references"]
    degrees = {phrase_key(k): v for k, v in refs["degrees"].items()}
    ignored = {phrase_key(w) for w in [*vocab["filler"], *vocab["prepositions"], *refs["one_words"]]}
    tokens = [_degree_word(w, degrees) for w in re.findall(r"[\w'\-]+", words.lower())]
    tokens = [w for w in tokens if w not in ignored or w in degrees]
    degree = next((degrees[t] for t in tokens if t in degrees), None)
    named = [_stem(t) for t in tokens if t not in degrees]
    pool = list(candidates)
    if named:
        scored = [(sum(w in look_words(r, catalog, extra) for w in named), key, r)
                  for key, r, extra in pool]
        best = max((s for s, _, _ in scored), default=0)
        if best == 0:
            return []
        pool = [(key, r, "") for s, key, r in scored if s == best]
    if degree is not None and pool:
        path, way = degree
        values = [_field(r, path) for _, r, _ in pool]
        target = min(values) if way == "lowest" else max(values)
        if len(set(values)) == 1 and len(pool) > 1:
            return [key for key, _, _ in pool]  # all alike: the degree tells them apart not
        pool = [(key, r, e) for (key, r, e), v in zip(pool, values, strict=True) if v == target]
    return [key for key, _, _ in pool]


def _degree_word(word: str, degrees: dict) -> str:
    """ "warmest" -> "warm", "busiest" -> "busy": a degree said as a superlative."""
    for end, add in (("iest", "y"), ("est", ""), ("est", "e")):
        if word not in degrees and word.endswith(end) and word[: -len(end)] + add in degrees:
            return word[: -len(end)] + add
    return word


def _field(recipe: Recipe, path: str):
    value = recipe
    for part in path.split("."):
        value = getattr(value, part)
    return value
