"""How memory feeds planning: which remembered recipe a new request starts from, which disliked result
it steers away from, and the reason the reply gives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sceneshop.agent.memory.entry import POSITIVE, MemoryEntry, _name_key, _short
from sceneshop.agent.recipe import Recipe, new_seed
from sceneshop.tools.errors import RecipeError

# How the Studio uses it (see RecipeMemory.resolve, which fetches what these functions decide on):
#
#     recall = memory.resolve(user, request)          # None: memory has nothing to say
#     parent = recall.recipe if recall else None      # a remembered recipe to start from, or None
#     recipe = planner.plan(request, parent, image_size=...)
#     if recall is not None:
#         if recall.avoid is not None:
#             recipe = recall.avoid.steer(recipe)     # drop disliked LoRAs, never repeat that picture
#         recipe.notes.insert(0, recall.reason)       # tell the user what memory did

# Cosine similarities of request texts under all-MiniLM-L6-v2, measured with
# `python bench/memory.py --calibrate`: rewordings of the same look score 0.83-0.97 ("this dress on
# a sunset beach" vs "put this dress on a beach at sunset" 0.91), different looks that share most
# words up to 0.84 ("city street at night" vs "neon city street at night"; white vs black background
# for amazon 0.81), paraphrases with no shared words only ~0.70 ("seaside at dusk" vs "beach at
# sunset": search finds those, resolve does not start from them). At 0.85 no different look got
# through and 6 of 10 rewordings did; the reply always says where planning started.
SIMILAR_THRESHOLD = 0.85
AVOID_THRESHOLD = 0.85

_LAST_TIME_RE = re.compile(
    r"\b(?:(?:like|as) (?:the )?last time|same (?:as|like) (?:before|last time|usual|always)"
    r"|like before|as usual|the usual|same again)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Avoid:
    """A disliked result for a request like this one: what to steer away from."""

    entry_id: str
    request: str
    similarity: float
    scene_preset: str
    lighting_preset: str
    time_of_day: str | None
    loras: tuple[str, ...]  # disliked LoRAs (minus any the recalled good recipe also uses)
    seed: int | None
    # The recalled liked recipe has this same scene, light and time: the look itself is wanted.
    look_liked: bool = False

    def describe(self) -> str:
        parts = []
        if self.loras:
            parts.append("its LoRAs (" + ", ".join(self.loras) + ")")
        look = ", ".join(p for p in (self.scene_preset, self.lighting_preset, self.time_of_day) if p)
        parts.append("repeating its exact picture" + ("" if self.look_liked else f" ({look})"))
        return (
            f"you disliked the result for a similar request ('{_short(self.request)}', "
            f"{self.similarity:.2f}), so I avoid " + " and ".join(parts)
        )

    def steer(self, recipe: Recipe) -> Recipe:
        """A copy of the planned `recipe` moved away from the disliked one: its LoRAs are dropped,
        and if its seed is the disliked one, or scene, lighting and time match it (unless a liked
        recipe of that same look was recalled), the seed is changed so that picture is not made
        again. The scene the user asked for is never changed; each change is noted for the reply."""
        out = recipe.model_copy(deep=True)
        dropped = [c.name for c in out.loras if c.name in self.loras]
        if dropped:
            out.loras = [c for c in out.loras if c.name not in self.loras]
            out.notes.append(
                f"left out LoRA {', '.join(dropped)}: you disliked a result that used it "
                f"('{_short(self.request)}')"
            )
        same_look = _look(out) == (self.scene_preset, self.lighting_preset, self.time_of_day)
        if (same_look and not self.look_liked) or out.seed == self.seed:
            out.seed = new_seed(avoid=self.seed)
            out.notes.append(
                f"same scene and light as a result you disliked ('{_short(self.request)}'): "
                "new seed; say what to change (light, props, time of day) if it is still not right"
            )
        return out


@dataclass(frozen=True)
class Recall:
    """What memory contributes to planning one request.

    kind: "last_time" (the user's most recent liked/saved recipe, asked for with "like last time",
    "the usual", "same as before"), "named" (a saved name appears in the request), "similar" (a
    liked/saved recipe for a near-identical request), "avoid" (only a disliked near-match: plan
    from scratch, then steer), "not_found" (the user referred to a previous recipe, and there is none).
    """

    kind: Literal["last_time", "named", "similar", "avoid", "not_found"]
    reason: str
    entry: MemoryEntry | None = None
    similarity: float | None = None
    avoid: Avoid | None = None

    @property
    def recipe(self) -> Recipe | None:
        """The remembered recipe to pass to the planner as `parent`, or None."""
        return self.entry.recipe if self.entry is not None else None


# ------------------------------------------------------------ the steps of RecipeMemory.resolve


def named_in(text: str, named: list[MemoryEntry]) -> MemoryEntry | None:
    """The entry of `named` whose saved name appears in `text` (the longest, if several do)."""
    folded = text.casefold()
    found = [
        e for e in named
        if e.name and re.search(rf"(?<!\w){re.escape(_name_key(e.name))}(?!\w)", folded)
    ]
    return max(found, key=lambda e: (len(e.name or ""), e.updated), default=None)


def recall_named(entry: MemoryEntry) -> Recall:
    return Recall("named", f"using your saved recipe '{entry.name}'", entry)


def asks_for_last_time(text: str) -> bool:
    """Whether the request refers to the previous recipe ("like last time", "the usual", ...)."""
    return _LAST_TIME_RE.search(text) is not None


def recall_last_time(latest: MemoryEntry | None) -> Recall:
    """`latest` is the user's most recent entry that `can_start_from`, if any."""
    if latest is None:
        return Recall(
            "not_found",
            "you have no liked or saved recipe yet, so I planned from your words; "
            "say 'save this' when you like a result",
        )
    return Recall(
        "last_time",
        f"using your most recent {latest.rating} recipe {latest.label} ({_when(latest.updated)})",
        latest,
    )


def recall_similar(hits: list[tuple[MemoryEntry, float]]) -> Recall | None:
    """From the user's entries nearest the request (best first, any rating): the best liked/saved one
    at least SIMILAR_THRESHOLD alike to start from, the best disliked one at least AVOID_THRESHOLD
    alike to steer away from, both, or None."""
    liked = next(((e, s) for e, s in hits if can_start_from(e)), None)
    disliked = next(((e, s) for e, s in hits if e.rating == "disliked" and _parses(e)), None)
    liked = liked if liked is not None and liked[1] >= SIMILAR_THRESHOLD else None
    disliked = disliked if disliked is not None and disliked[1] >= AVOID_THRESHOLD else None
    avoid = _avoid(*disliked, liked[0] if liked else None) if disliked else None
    if liked is not None:
        entry, similarity = liked
        what = f"your saved recipe '{entry.name}'" if entry.name else f"your {entry.rating} recipe"
        reason = f"starting from {what} (similar request '{_short(entry.request)}', {similarity:.2f})"
        if avoid is not None:
            reason += "; " + avoid.describe()
        return Recall("similar", reason, entry, similarity, avoid)
    if avoid is not None:
        return Recall("avoid", avoid.describe(), None, avoid.similarity, avoid)
    return None


def can_start_from(entry: MemoryEntry) -> bool:
    """Liked or saved, and its recipe still loads: planning may start from it."""
    return entry.rating in POSITIVE and _parses(entry)


def _avoid(entry: MemoryEntry, similarity: float, liked: MemoryEntry | None) -> Avoid:
    recipe = entry.recipe
    good = liked.recipe if liked is not None else None
    kept = {c.name for c in good.loras} if good is not None else set()
    look_liked = good is not None and _look(good) == _look(recipe)
    return Avoid(
        entry_id=entry.id,
        request=entry.request,
        similarity=similarity,
        scene_preset=recipe.scene.preset,
        lighting_preset=recipe.lighting.preset,
        time_of_day=recipe.time_of_day,
        loras=tuple(c.name for c in recipe.loras if c.name not in kept),
        seed=recipe.seed,
        look_liked=look_liked,
    )


def _look(recipe: Recipe) -> tuple[str, str, str | None]:
    return recipe.scene.preset, recipe.lighting.preset, recipe.time_of_day


def _parses(entry: MemoryEntry) -> bool:
    try:
        _ = entry.recipe
    except RecipeError:
        return False
    return True


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")
