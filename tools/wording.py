"""How a recipe's words are read, the same way by the prompt writer (agent/planner/prompt.py) and
by both engines: which clauses of a scene description are negated, whether a text already says a
phrase, and which LoRA trigger words a set of LoRAs adds."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sceneshop.tools.catalog import LoraEntry

_NEGATIVE_LEAD = re.compile(r"^\s*(?:no|without|not|never)\s+(?:any\s+|the\s+)?(.+)$", re.IGNORECASE)


def description_parts(description: str) -> tuple[list[str], list[str]]:
    """Splits scene.description into what to show and what to avoid: comma-separated clauses
    that start with "no"/"without" ("no people") are to be kept out of the picture — the prompt
    sends them to the negative prompt, and the preview renderer never draws them."""
    positive, negative = [], []
    for clause in description.split(","):
        clause = clause.strip()
        if not clause:
            continue
        found = _NEGATIVE_LEAD.match(clause)
        if found:
            negative.append(found.group(1).strip())
        else:
            positive.append(clause)
    return positive, negative


def mentions(text: str, phrase: str) -> bool:
    """Whether `text` already says `phrase` as whole words, in any case ("Neon Glow lights" says
    "neon glow"; "filmic" does not say "film")."""
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, re.IGNORECASE) is not None


def trigger_words(loras: Iterable[tuple[LoraEntry, float]], text: str = "") -> list[str]:
    """The trigger words that (catalog entry, weight) pairs add to a prompt `text`: each word once,
    in order, and none that the text already says (saying a trigger twice over-weights it). A LoRA
    at weight 0 is off and adds nothing: its words alone would still change the picture."""
    words: list[str] = []
    for entry, weight in loras:
        if weight == 0:
            continue
        for word in entry.trigger:
            if not mentions(text, word) and word.lower() not in (w.lower() for w in words):
                words.append(word)
    return words


def add_triggers(prompt: str, loras: Iterable[tuple[LoraEntry, float]]) -> str:
    """`prompt` with the trigger words of `trigger_words` appended: for a prompt written by hand
    (the planner's prompts already carry them)."""
    text = prompt.strip()
    return ", ".join([text, *trigger_words(loras, text)] if text else trigger_words(loras))
