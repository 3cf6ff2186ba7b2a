"""The words the preview renderer draws from (prompts/preview.yaml): the shape of a prop, the things the
merchant's scene words ask for, and the colours it paints."""

from __future__ import annotations

import re
from functools import lru_cache

from sceneshop.tools.catalog import default_folder, read_mapping

# A clause is read as parts joined by these: "a vase with tulips", "dried orange slices and cinnamon sticks".
_JOINS = re.compile(r"\s+(?:and|with|plus|of|&)\s+|\s*&\s*|\s*/\s*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _data() -> dict:
    return read_mapping(default_folder() / "preview.yaml")


def shape_of(name: str) -> str:
    """'glow', 'plant', 'round' or 'block': the first shape one of whose words is in the prop's name."""
    name = name.lower()
    for shape, words in _data()["shapes"].items():
        if any(word in name for word in words):
            return shape
    return "block"


def colour_of(text: str) -> str | None:
    """The hex of the first colour word `text` says as a whole word, or None."""
    text = text.lower()
    return next((hex_ for word, hex_ in _data()["colours"].items() if re.search(rf"\b{word}\b", text)), None)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"  # berries
    if word.endswith(("ches", "shes", "xes")):
        return word[:-2]  # peaches, dishes, boxes
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def things_in(clauses: list[str]) -> list[str]:
    """The things the scene's words ask to show, as the words that name them ("add a croissant and some
    dried orange slices" -> ["croissant", "some dried orange slices"]). A part names a thing when its
    last noun before the words of `after_thing` is one of `things`."""
    data = _data()
    things, after = set(data["things"]), set(data["after_thing"])
    found = []
    for clause in clauses:
        for part in _JOINS.split(clause.strip()):
            words = re.findall(r"[a-z]+", part.lower())
            while words and words[-1] in after:
                words.pop()
            if words and (words[-1] in things or _singular(words[-1]) in things):
                found.append(" ".join(words))
    return list(dict.fromkeys(found))


@lru_cache(maxsize=1)
def _contrast_words() -> dict:
    # The planner writes these very words for "more contrast" / "less contrast" (vocabulary.yaml).
    return read_mapping(default_folder() / "vocabulary.yaml")["contrast_words"]


def contrast_step(clauses: list[str]) -> int:
    """+1 when the scene's words ask for crisper contrast and more vivid colour, -1 for softer and
    muted, 0 otherwise (the last that is said wins)."""
    words = _contrast_words()
    step = 0
    for clause in clauses:
        if clause.strip().lower() == words["up"]:
            step = 1
        elif clause.strip().lower() == words["down"]:
            step = -1
    return step
