"""The embedded planner's reading of product-look requests: a model instead of the mannequin ("on a
woman in her 30s, natural make-up"), "make it stand straight", "match the light" (and their undoing)
into recipe.mode / recipe.person / recipe.retouch. The phrases are cut out of the request before the
rest of the planner reads it. Words: prompts/looks.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sceneshop.agent.planner.lexicon import normalise
from sceneshop.tools.catalog import default_folder, read_mapping

LOOKS_FILE = "looks.yaml"
PERSON_LIMIT = 300
# Up to three words between the article and the person ("a young tall woman"), none of them a
# little word that would start another phrase ("the mannequin with a model" is not a person).
_ADJECTIVES = r"(?:(?!(?:a|an|the|with|and|on|in|of|for)\s)[\w'\-]+\s+){0,3}?"


@dataclass
class LooksEdit:
    model: bool | None = None  # True: dress_model; False: back to the garment alone
    person: str | None = None
    straighten: bool | None = None
    harmonize: float | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in (self.model, self.person, self.straighten, self.harmonize))


@lru_cache(maxsize=4)
def load_looks_words(folder: str | Path | None = None) -> dict:
    path = Path(folder or default_folder()) / LOOKS_FILE
    return read_mapping(path if path.exists() else default_folder() / LOOKS_FILE)


def _alt(words) -> str:
    parts = sorted({str(w).lower() for w in words}, key=len, reverse=True)
    return "|".join(r"[\s\-]+".join(re.escape(t) for t in re.split(r"[\s\-]+", p)) for p in parts)


def _phrase(words) -> re.Pattern:
    return re.compile(rf"(?<![\w'])(?:{_alt(words)})(?![\w'])")


def read_looks(request: str, folder: str | None = None) -> tuple[str, LooksEdit]:
    """(the request without its look phrases, what they ask)."""
    w = load_looks_words(folder)
    low = normalise(request)
    taken = [False] * len(request)
    edit = LooksEdit()

    def claim(pattern: re.Pattern) -> list[re.Match]:
        found = [m for m in pattern.finditer(low) if not any(taken[m.start():m.end()])]
        for m in found:
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
        return found

    # "Off" phrases first: "don't straighten" contains "straighten".
    for key in ("straighten", "harmonize", "model"):
        if claim(_phrase(w[key]["undo"])):
            setattr(edit, key, False if key != "harmonize" else 0.0)
    if claim(_phrase(w["straighten"]["want"])):
        edit.straighten = True
    for m in _phrase(w["straighten"]["slant"]).finditer(low):
        if not any(taken[m.start():m.end()]) and _slant_of_product(low[:m.start()], w["straighten"]):
            taken[m.start():m.end()] = [True] * (m.end() - m.start())
            edit.straighten = True
    harmonize = claim(_phrase(w["harmonize"]["want"]))
    if harmonize:
        before = low[max(0, harmonize[0].start() - 20):harmonize[0].start()]
        gentle = _phrase(w["harmonize"]["gentle_words"]).search(before)
        edit.harmonize = float(w["harmonize"]["gentle" if gentle else "default"])
    people = _alt(w["model"]["people"])
    person_pattern = re.compile(
        rf"(?<![\w'])(?:on|worn\s+by|wearing\s+it\s*,?|by)?\s*(?P<who>(?:a|an|the)\s+{_ADJECTIVES}"
        rf"(?:{people})(?![\w'])[^,;.!?\n]*)")
    on = claim(_phrase(w["model"]["want"]))
    if not on:
        on = [m for m in re.finditer(rf"(?<![\w'])(?:on|worn\s+by)\s+(?:a|an)\s+{_ADJECTIVES}"
                                     rf"(?:{people})(?![\w'])", low) if not any(taken[m.start():m.end()])]
    if on:
        edit.model = True
        who = person_pattern.search(low, max(0, on[0].start() - 1))
        if who:
            start, end = who.start("who"), who.end("who")
            for j in range(who.start(), end):
                taken[j] = False  # the person's words are re-claimed below as one span
            person = [request[start:end].strip()]
            # Following clauses that still describe the person ("natural make-up").
            details = _phrase(w["model"]["details"])
            for clause in re.finditer(r",\s*([^,;.!?\n]+)", low[end:]):
                if clause.start() != 0 and low[end:end + clause.start()].strip():
                    break
                if not details.search(clause.group(1)):
                    break
                person.append(request[end + clause.start(1):end + clause.end(1)].strip())
                end += clause.end()
            taken[who.start():end] = [True] * (end - who.start())
            edit.person = ", ".join(person)[:PERSON_LIMIT]
    rest = "".join(ch if not t else ("," if i and not taken[i - 1] else " ")
                   for i, (ch, t) in enumerate(zip(request, taken, strict=True)))
    return " ".join(rest.split()), edit


def _slant_of_product(before: str, words: dict) -> bool:
    """Whether a slant ("leaning", "tilted", "crooked") is said of the product or the picture, read
    from the words before it in its clause: none ("leaning to the left, fix it"), a being verb ("it's
    leaning", "the bottle is tilted", "the jar looks crooked") or a subject ("it leans"). After anything
    else it says how a thing of the scene stands ("a skateboard leaning against the wall", "a ladder
    tilted against it", "a crooked frame")."""
    clause = re.split(r"[,;:.!?\n]|(?<![\w'])(?:and|but|with|then|plus)(?![\w'])", before)[-1]
    clause = re.sub(rf"(?:(?<![\w'])(?:{_alt(words['degree'])})\s*)+$", "", clause.strip()).strip()
    said = re.findall(r"[\w']+", clause)
    if not said:
        return True
    if any(w.split("'")[0] in ("that", "which", "who") for w in said[1:][-2:]):
        return False  # "a ladder that leans", "a bike that's leaning", "a mirror which is tilted"
    last = said[-1]
    return last in words["subjects"] or last in words["being"] or last.endswith(("'s", "'re"))


def apply_looks(recipe, edit: LooksEdit, has_photo: bool, notes: list[str]) -> None:
    """Applies a LooksEdit to the recipe, with a note for each change (each one that changes the
    product's pixels says so)."""
    if edit.model:
        if not has_photo and recipe.mode == "text_to_image":
            notes.append("a model needs a photo of the garment (on a mannequin or laid flat); upload "
                         "one and ask again")
        else:
            recipe.mode = "dress_model"
            recipe.person = edit.person or recipe.person or "a model"
            notes.append(f"mode dress_model: the garment is kept exactly and {recipe.person} is painted "
                         "around it (needs the garment alone in the cut-out, not the mannequin)")
    elif edit.model is False and recipe.mode == "dress_model":
        recipe.mode = "replace_background"
        recipe.person = ""
        notes.append("mode replace_background: the garment alone, no model")
    if edit.straighten is not None:
        recipe.retouch.straighten = edit.straighten
        notes.append("straighten on: the product is turned upright, which resamples it (say 'keep the "
                     "tilt' to undo)" if edit.straighten else "straighten off: the product keeps its "
                     "photographed tilt and its exact pixels")
    if edit.harmonize is not None:
        recipe.retouch.harmonize = edit.harmonize
        notes.append(f"harmonize on at {edit.harmonize:.1f}: the product's light moves towards the "
                     "scene's, so its pixels change (say 'keep the original colours' to undo)"
                     if edit.harmonize else "harmonize off: the product keeps its exact pixels")
