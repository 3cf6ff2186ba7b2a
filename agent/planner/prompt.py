"""Renders a recipe's fields into the final diffusion prompt and negative prompt (the one place
prompt text is written), and loads the planner vocabulary from prompts/vocabulary.yaml."""

from __future__ import annotations

import re
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


def load_vocabulary(folder: str | Path | None = None) -> dict:
    """The planner's words (time words, feedback phrases, colours, products, negatives), from the
    catalog folder's vocabulary.yaml, or the shipped one when that folder has none."""
    path = Path(folder or default_folder()) / VOCABULARY_FILE
    if not path.exists():
        path = default_folder() / VOCABULARY_FILE
    return _read_vocabulary(path.resolve())


@lru_cache(maxsize=4)
def _read_vocabulary(path: Path) -> dict:
    return read_mapping(path)  # once per file, whichever way the folder was named


def clean_word(token: str) -> str:
    return token.lower().strip(".,;:!?\"()[]").replace("’", "'")


def trim_clause(clause: str, vocab: dict) -> str:
    """A leftover clause without filler at its ends: "put this" -> "", "on a" -> "",
    "with a red umbrella" stays. Prepositions go only from the end (so "in a lush meadow" stays)."""
    filler = {str(w).lower() for w in vocab["filler"]}
    ends = filler | {str(w).lower() for w in vocab["prepositions"]}
    tokens = clause.split()
    while True:
        before = len(tokens)
        while tokens and (clean_word(tokens[-1]) in ends or not clean_word(tokens[-1])):
            tokens.pop()
        while tokens and (clean_word(tokens[0]) in filler or not clean_word(tokens[0])):
            tokens.pop(0)
        if len(tokens) == before:
            break
    return " ".join(tokens)


# Verbs of being and seeming: a clause with one states something about the picture.
_BEING = {"is", "are", "was", "were", "am", "looks", "look", "seems", "seem", "feels", "feel", "isn't",
          "aren't", "wasn't"}
# "some pine cones would look nice", "a darker wood would suit it more": a thing wished for, said as a
# judgement.
_WOULD = re.compile(r"^(?P<thing>.+?)\s+(?:would|could|might)\s+(?:look|be|seem|suit|fit|work|go|match)\b")


def picture_words(clause: str, vocab: dict, *, trim: bool = True) -> str:
    """The words of one clause of the merchant's that describe the picture, or "" when it describes
    nothing: a question, a statement ("the shadow looks wrong", "my customers are allergic"), a reason
    ("because my customers love spring"). Openers go ("I was thinking maybe some lemons" -> "some
    lemons"; "would it be possible to add cinnamon sticks" -> "cinnamon sticks"), pronouns and hedges
    from inside ("fresh herbs and some garlic around it" -> "fresh herbs and some garlic"), and with
    `trim` filler from the ends (a recipe's own description is trimmed already: "cool tones")."""
    conv = vocab["conversation"]
    kept = []
    for part in _ASIDE.split(_without_reasons(clause, conv)):
        words = _picture_part(part, vocab, conv, trim)
        if words:
            kept.append(words)
    return ", ".join(kept)


_ASIDE = re.compile(r"\s+(?:but|and then|then)\s+", re.IGNORECASE)


def _suggested(conv: dict) -> re.Pattern:
    """ "would it be better", "could this look a lot nicer": a change suggested, before what it is."""
    words = "|".join(r"\s+".join(map(re.escape, str(w).split())) for w in conv["suggesting"])
    return re.compile(rf"(?:would|could|might|will|can)\s+(?:it|this|that)\s+(?:be|look)\s+"
                      rf"(?:(?:a\s+lot|much|way|even|a\s+bit)\s+)?(?:{words})(?:\s+|$)", re.I)


_THE = {"the", "its", "your", "this", "that", "my"}


def _picture_nouns(vocab: dict) -> set[str]:
    return {str(w).lower() for w in vocab["clauses"]["picture_nouns"]}


def _about_me(conv: dict) -> re.Pattern:
    phrases = "|".join(re.escape(str(p)) for p in sorted(conv["about_me"], key=len, reverse=True))
    return re.compile(rf"(?<![\w'])(?:{phrases})(?![\w'])", re.I)


def _without_reasons(clause: str, conv: dict) -> str:
    """The clause up to a reason or an aside ("…, so it pops", "… because my customers love it")."""
    reasons = "|".join(re.escape(phrase) for phrase in sorted(conv["reasons"], key=len, reverse=True))
    found = re.search(rf"(?<![\w'])(?:{reasons})(?![\w'])", clause, re.IGNORECASE)
    return clause[: found.start()] if found else clause


def _picture_part(part: str, vocab: dict, conv: dict, trim: bool) -> str:
    text = part.strip()
    low = text.lower()
    about = _about_me(conv).search(low)
    if about:  # "(a board game) i sell", "we make candles", "... we make by hand": who the merchant is
        text, low = text[: about.start()].strip(), low[: about.start()].strip()
        if not text:
            return ""
    openers = sorted((str(o) for o in conv["openers"]), key=len, reverse=True)
    changed = True
    while changed:  # "honestly I was thinking maybe …"
        changed = False
        for opener in openers:
            if low == opener or low.startswith(opener + " "):
                text, low, changed = text[len(opener):].strip(), low[len(opener):].strip(), True
                break
    wished = _WOULD.match(text)
    if wished:
        text = wished.group("thing")
    suggested = _suggested(conv).match(text)
    if suggested:  # "would it be better with lemons" -> "with lemons"
        text = text[suggested.end():]
    raw = [clean_word(t) for t in text.split()]
    stated = any(t in _BEING or t.endswith(("'s", "'re")) and t != "let's" for t in raw)
    if not raw or stated or raw[0] == "not":
        return ""  # "it looks a bit flat", "not that dark": said about the picture, not of it
    verbs = sorted((str(v) for v in conv["request_verbs"]), key=len, reverse=True)
    said_verb = None
    for verb in verbs:  # "add a soft glow", "throw in a couple of matchboxes"
        if low.startswith(verb + " ") and low[len(verb):].strip():
            text, said_verb = text[len(verb):].strip(), verb
            break
    text = trim_clause(text, vocab) if trim else text.strip()
    if not text or "?" in text:
        return ""
    said_of = [clean_word(t) for t in text.split()]
    said_of = said_of[said_of[0] in _THE:]
    if said_verb in conv["quality_verbs"] and all(t in _picture_nouns(vocab) for t in said_of):
        return ""  # "make the light (a bit warmer)": what the change is said of, not a thing to draw
    without = re.match(r"(?:without|with\s+no)\s+", text, re.I)
    if without and is_activity(text[without.end():]):
        return ""  # "without uploading anything": what the merchant does, nothing drawn
    statement = {str(w).lower() for w in conv["statement_verbs"]}
    tokens = [clean_word(t) for t in text.split()]
    if any(t in statement or t.endswith("n't") or t.endswith("'s") and t not in ("let's",) for t in tokens):
        return ""
    if tokens[0] in {str(w).lower() for w in conv["question_words"]}:
        return ""
    dropped = {str(w).lower() for w in vocab["not_picture_words"]}
    kept = [t for t in text.split() if clean_word(t) not in dropped]
    if _visit_only([clean_word(t) for t in kept], conv):
        return ""  # "first time here", "just browsing": how the merchant came, nothing to draw
    if len(kept) == len(text.split()):
        return text
    return trim_clause(" ".join(kept), vocab)


# What may follow a verb's -ing form that is an activity, not a thing ("uploading anything", "signing up",
# "paying for it"); after a participle that describes, a noun follows ("sparkling lights").
_ACTIVITY_FOLLOWERS = {"a", "an", "the", "my", "our", "any", "anything", "something", "everything", "it",
                       "them", "me", "us", "up", "in", "out", "on", "off", "for", "to", "with", "first"}


def is_activity(words: str) -> bool:
    """Whether words name something the merchant does ("uploading anything", "signing up first"), not a
    thing: after "without" they take nothing out of the picture."""
    tokens = re.findall(r"[\w']+", words.lower())
    return len(tokens) > 1 and tokens[0].endswith("ing") and len(tokens[0]) > 5 and \
        tokens[1] in _ACTIVITY_FOLLOWERS


def _visit_only(tokens: list[str], conv: dict) -> bool:
    """Whether a clause's words are only ordinals, words of a visit ("time", "here") and -ing forms
    of a verb ("browsing", "checking"): the -ing word is then an activity of the merchant's, since
    no noun is there for it to describe."""
    visit = {str(w).lower() for w in conv["visit_words"]}
    return bool(tokens) and all(t in visit or (t.endswith("ing") and len(t) > 5) for t in tokens)


def related_to(words: set[str], vocab: dict) -> set[str]:
    """`words` and the other names of the same things ("people" -> passers-by, pedestrians…)."""
    out = set(words)
    for group in vocab.get("related_words", []):
        names = {str(w).lower() for w in group}
        if names & words:
            out |= names
    return out


def mentions_any(text: str, words: set[str]) -> bool:
    """Whether `text` has one of `words` (or its singular or plural) in it."""
    tokens = set(re.findall(r"[\w'\-]+", text.lower()))
    tokens |= {t.split("-")[0] for t in tokens}
    return any(t in words or t.rstrip("s") in words or f"{t}s" in words for t in tokens)


def negated_things(negative_words: list[str], vocab: dict) -> set[str]:
    """What "no people in the background" negates: its head words before any preposition
    ("people"), with their other names."""
    preps = {str(w).lower() for w in vocab["prepositions"]}
    filler = {str(w).lower() for w in vocab["filler"]}
    heads: set[str] = set()
    for phrase in negative_words:
        for token in phrase.lower().split():
            token = clean_word(token)
            if token in preps:
                break
            if token and token not in filler:
                heads.add(token)
    return related_to(heads, vocab)


# Where a phrase of scene words joins its parts: things listed ("with lemons and ice"), and where a thing
# is ("a rooftop terrace above the city skyline").
_JOINS = re.compile(r"(\s+(?:with|and|plus|&|above|below|behind|beside|under|over|near|by|along|among|against"
                    r"|overlooking)\s+|\s*,\s*)", re.I)


def without_thing(clause: str, words: set[str]) -> str:
    """A phrase of scene words without the thing `words` name: "on a bar top with lemons and ice cubes"
    without lemons is "on a bar top with ice cubes", "rooftop terrace above the city skyline" without
    the city is "rooftop terrace"; "" when the phrase is the thing itself (its first part names it:
    "lemon slices", "in a lemon grove")."""
    if not mentions_any(clause, words):
        return clause
    lead = re.match(r"(?:with|plus|and)\s+", clause, re.I)
    if lead:
        # things listed: "with parasols and deck chairs" without the parasols is "with deck chairs"
        items = re.split(r"\s*,\s*|\s+(?:and|plus|&)\s+", clause[lead.end():])
        kept = [item for item in items if not mentions_any(item, words)]
        return f"{lead.group()}{' and '.join(kept)}" if kept else ""
    parts = _JOINS.split(clause)  # [part, join, part, join, part…]
    if mentions_any(parts[0], words):
        return ""
    out = [parts[0]]
    pending = None  # the join of a part that went ("with" of "with lemons"), for the part after it
    for i in range(1, len(parts), 2):
        join, part = parts[i], parts[i + 1]
        if mentions_any(part, words):
            pending = pending or join
            continue
        if pending is not None and "with" in pending.lower():
            join = pending  # "with lemons and ice cubes" -> "with ice cubes"
        pending = None
        out += [join, part]
    return "".join(out).strip()


def negated_words(description: str, vocab: dict) -> set[str]:
    """What a scene description's negations ("no people", "no neon") keep out of the picture."""
    return negated_things(description_parts(description)[1], vocab)


def _without(text: str, things: set[str]) -> str:
    """A preset's words without the parts that show a negated thing: the part of each phrase that names
    it (without_thing: "city street at night with neon signs and glowing bokeh lights" without neon is
    "city street at night with glowing bokeh lights") where the rest survives, else just the words."""
    parts = [p.strip() for p in text.split(",")]
    kept = [rest for p in parts if (rest := without_thing(p, things))]
    if kept:
        return ", ".join(kept)
    out = []
    for part in parts:
        tokens = part.split()
        i, words = 0, []
        while i < len(tokens):
            if mentions_any(tokens[i], things):
                i += 2 if i + 1 < len(tokens) and tokens[i + 1].lower() in ("and", "or") else 1
                continue
            words.append(tokens[i])
            i += 1
        out.append(" ".join(words))
    return ", ".join(p for p in out if p)


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

    positive_words, negative_words = description_parts(recipe.scene.description)
    # A negated thing ("no people") is drawn nowhere: not from the preset's words, not as a prop.
    negated = negated_things(negative_words, vocab)
    if recipe.scene.preset != "custom":
        body.append(_without(catalog.scene(recipe.scene.preset).description, negated))
    body.extend(filter(None, (picture_words(w, vocab, trim=False) for w in positive_words)))
    props = [p for p in recipe.scene.props if not mentions_any(p, negated)]
    if props and recipe.scene.clutter >= PROPS_MIN_CLUTTER:
        body.append("with " + ", ".join(props))
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
