"""Feedback edits of a recipe for the embedded planner: "warmer", "less busy", "closer", "remove
the umbrella", the user's own scene words, and what a product-colour request ("make it green") does."""

from __future__ import annotations

import re

from sceneshop.agent.commands import ANY_COLOUR
from sceneshop.agent.planner.lexicon import word_set
from sceneshop.agent.planner.prompt import (
    PROPS_MIN_CLUTTER,
    clean_word,
    description_parts,
    is_activity,
    related_to,
    trim_clause,
    without_thing,
)
from sceneshop.tools.catalog import Catalog, ScenePreset

DESCRIPTION_LIMIT = 1000
FRAMINGS = ["close", "medium", "wide"]


def _remove_lead(clause: str, vocab: dict) -> str | None:
    """The words after a removing opener ("remove the umbrella" -> "the umbrella"), else None; None
    too for something the merchant does rather than a thing ("without uploading anything")."""
    low = clause.lower()
    for word in sorted((str(w) for w in vocab["remove_words"]), key=len, reverse=True):
        if low == word or low.startswith(word + " "):
            rest = clause[len(word):].strip()
            if is_activity(rest) or _PHOTO_ITSELF.fullmatch(rest.lower()):
                return None  # "without uploading anything", "no photo yet": nothing in the picture
            return rest
    return None


# The merchant's photo itself, said after "no"/"without": "no photo yet", "without a product picture".
_PHOTO_ITSELF = re.compile(r"(?:(?:a|an|any|my|the|our)\s+)?(?:product\s+)?"
                           r"(?:photo|picture|pic|image|upload)s?(?:\s+(?:yet|at\s+all|of\s+it|of\s+my\s+product|first))?")


def removal_target(clause: str, vocab: dict) -> str:
    """What a removal names: "remove the umbrella" -> "the umbrella" ("" when it is not one)."""
    return _remove_lead(clause, vocab) or ""


def is_removal(clause: str, vocab: dict) -> bool:
    return _remove_lead(clause, vocab) is not None


# Where a thing is, not what is next to it: "in a hotel lobby", "at a skatepark" (not "next to a vase").
_PLACE = re.compile(r"^(?:in|at|inside|into)\s+(?:a|an|the|some|my|our)?\s*[a-z]", re.I)


def is_place(clause: str) -> bool:
    """Whether a clause of the merchant's words names where the product is ("in a hotel lobby")."""
    return _PLACE.match(clause.strip()) is not None


def stop_words(vocab: dict) -> frozenset[str]:
    """Words that are never a noun of the picture's own: filler, prepositions, colours, verbs of
    asking and removing, the chat's statement verbs."""
    return word_set(vocab, "filler", "prepositions", "scene_prepositions", "product_modifiers", "colours",
                    "not_picture_words", "conversation.statement_verbs", "conversation.not_product_words",
                    "conversation.request_verbs", "remove_words")


def prop_words(catalog: Catalog) -> set[str]:
    """The head nouns of every scene preset's props ("small eucalyptus sprig" -> "sprig")."""
    words = set()
    for scene in catalog.scenes.values():
        for prop in scene.props:
            tokens = re.findall(r"[a-z]+", prop.lower())
            if tokens:
                words.add(tokens[-1])
                words.add(tokens[-1].rstrip("s"))
    return words


# Words of amount: what follows them is a thing to add ("a bit of ivy", "a couple of mugs").
_AMOUNTS = {"few", "couple", "little", "bit", "lot", "bunch", "handful", "pair", "touch", "hint", "dash",
            "splash", "more", "second", "third", "different", "new", "other", "same", "bigger", "smaller",
            "closer", "wider", "shot", "version", "variation", "picture", "photo", "look", "style"}


def names_place(words: list[str], vocab: dict, props: set[str]) -> bool:
    """Whether a noun phrase (its words up to any preposition) names a place: its head noun, the last
    word, is one thing that no word list knows as a product, a prop or an amount -- "bakery", "sunny
    tennis court", "wine cellar" (though wine is a product); not "glass vase", "few lemons", "plants"."""
    preps = word_set(vocab, "prepositions")
    head = []
    for w in words:
        if w.lower() in preps:
            break
        head.append(w.lower())
    if not head:
        return False
    noun = head[-1]
    stop = stop_words(vocab) - word_set(vocab, "product_modifiers")
    products = word_set(vocab, "products")
    if noun in stop or head[0] in _AMOUNTS or noun in products or noun in props or noun.rstrip("s") in props:
        return False
    if noun.endswith(("ed", "ing", "ly")):
        return False  # "wrapped", "floating": how the product is, not where
    return not (noun.endswith("s") and not noun.endswith(("ss", "us", "is")))


def old_place(clauses: list[str], vocab: dict, props: set[str]) -> str | None:
    """The clause of a scene description that said where the product was without a preposition ("sunny
    tennis court", "rustic barn" from "a sunny tennis court"): the first clause, when it is a bare noun
    phrase that names a place (names_place)."""
    if not clauses:
        return None
    words = re.findall(r"[\w'\-]+", clauses[0].lower())
    if not words or words[0] in word_set(vocab, "prepositions", "remove_words") | {"and", "plus"}:
        return None
    return clauses[0] if names_place(words, vocab, props) else None


# Shades said with a colour ("a deeper green", "pale yellow"): they leave the backdrop's colour as it is.
_SHADES = {"pale", "paler", "soft", "softer", "deep", "deeper", "dusty", "muted", "bright", "brighter", "hot",
           "pastel", "warm", "cool", "plain", "solid", "rich", "vivid", "darker", "lighter", "colour",
           "color",
           "coloured", "colored", "shade", "tone", "one", "instead", "then", "or", "maybe", "perhaps", "now",
           "go", "let's", "lets", "with", "what", "about", "how", "something", "more", "in"}


def backdrop_colour(words: str, scene: str, vocab: dict) -> str | None:
    """The backdrop a message that says only a colour asks for, while the picture is on a colour
    backdrop ("pink background" then "try black", or just "yellow"): that colour's backdrop (the
    gradient of that colour on a gradient), None when the words say anything else. The product is
    never recoloured: a colour said of it ("make it green") is read before this (commands)."""
    backdrops = vocab["background_colours"]
    gradients = vocab.get("gradient_colours", {})
    if scene not in {*backdrops.values(), *gradients.values()}:
        return None
    conv = vocab["conversation"]
    ignored = {str(w).lower() for w in [*conv["hedges"], *conv["request_verbs"], *conv["thanks"],
                                        *conv["glue"], *vocab["filler"]]} | _SHADES
    low = " ".join(re.sub(r"[^\w\s'\-]", " ", words.lower()).split())
    for opener in sorted((str(o) for o in conv["request_openers"]), key=len, reverse=True):
        low = re.sub(rf"(?<![\w']){re.escape(opener)}(?![\w'])", " ", low)
    found = None
    for colour in sorted(backdrops, key=len, reverse=True):
        m = re.search(rf"(?<![\w']){re.escape(colour)}(?![\w'])", low)
        if m:
            found = colour
            low = low[: m.start()] + " " + low[m.end():]
            break
    if found is None or any(w not in ignored for w in low.split()):
        return None
    if scene in gradients.values() and found in gradients:
        return gradients[found]
    return backdrops[found]


def clamp_kelvin(kelvin: int, vocab: dict) -> int:
    return int(min(vocab["kelvin_max"], max(vocab["kelvin_min"], kelvin)))


def scene_preset(catalog: Catalog, name: str) -> ScenePreset:
    """The preset, or for a "custom" scene (an LLM planner may write one) a plain stand-in with
    no props, no time of day and studio light."""
    if name == "custom":
        return ScenePreset(name="custom", description="", keywords=(), kind="studio", palette={})
    return catalog.scene(name)


def props_for(preset: ScenePreset, clutter: float, product: str = "") -> list[str]:
    """The preset's props that fit a clutter level: none when bare, two at the default 0.4,
    all of them when busy; never one that is the product's own kind (a second notebook beside the
    merchant's notebook on the office desk, a coffee cup beside their espresso cup in the café)."""
    if clutter < PROPS_MIN_CLUTTER:
        return []
    own = _head_noun(product)
    props = [p for p in preset.props if not own or _head_noun(p) != own]
    return props[: int(clutter * 5 + 0.5)]


def _head_noun(name: str) -> str:
    """"espresso cup" -> "cup", "bottle of gin" -> "bottle", "candles" -> "candle"."""
    words = name.lower().split(" of ")[0].split()
    if not words:
        return ""
    word = words[-1]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def split_description(description: str) -> list[str]:
    return [c.strip() for c in description.split(",") if c.strip()]


def tone_clauses(description: str, vocab: dict) -> list[str]:
    """The words a previous "warmer"/"cooler" or "more contrast"/"less contrast" left, which outlive a
    change of scene."""
    tones = {vocab["warm_words"], vocab["cool_words"], *vocab["contrast_words"].values()}
    return [c for c in split_description(description) if c in tones]


def _fit(clauses: list[str], keep_newest: bool) -> tuple[list[str], bool]:
    """Clauses that fit the recipe's 1000-character description: an edit drops its oldest words,
    a first request its last ones."""
    cut = False
    while clauses and len(", ".join(clauses)) > DESCRIPTION_LIMIT:
        cut = True
        if len(clauses) == 1:
            text = clauses[0][:DESCRIPTION_LIMIT]
            clauses = [text[: text.rfind(" ")] if " " in text else text]
            break
        clauses.pop(0 if keep_newest else -1)
    return clauses, cut


def _target_words(target: str, vocab: dict) -> set[str]:
    filler = {str(w).lower() for w in vocab["filler"]}
    words = related_to({clean_word(t) for t in target.split()}, vocab)
    out = set()
    for w in words:
        if len(w) >= 3 and w not in filler:
            out.add(w)
            out.add(w[:-1] if w.endswith("s") else w + "s")
    return out


def _mentions(text: str, words: set[str]) -> bool:
    return any(clean_word(t) in words for t in text.split())


def apply_words(recipe, intent, parent, scene_changed: bool, catalog: Catalog, vocab: dict,
                notes: list[str]) -> None:
    """Puts the user's unclaimed words into scene.description (verbatim), and carries out
    "remove the X" / "without X": a prop or earlier words go; anything else becomes "no X",
    which compose_prompt sends to the negative prompt."""
    clauses = split_description(recipe.scene.description) if (parent is not None) else []
    if any(is_place(c) for c in intent.clauses):
        # "in a train station" after "in a recording studio": the product is in one place at a time,
        # and what was said with the old place ("in a library, with old bookshelves") goes with it; so
        # does a place said without a preposition ("a sunny tennis court").
        bare = old_place(clauses, vocab, prop_words(catalog))
        kept, after_place = [], False
        for c in clauses:
            said_with = after_place and re.match(r"(?:with|and|plus)\s", c.strip(), re.I)
            if is_place(c) or c == bare or said_with:
                after_place = True
                continue
            after_place = False
            kept.append(c)
        clauses = kept
    negatives = []
    for removal in dict.fromkeys(intent.removals):  # "…, swap it for a notebook": said twice, taken once
        rest = _remove_lead(removal, vocab) or ""
        target = trim_clause(rest, vocab)
        if not target:
            continue
        words = _target_words(target, vocab)
        product = {clean_word(w) for w in recipe.subject.description.split()}
        if words and {clean_word(t) for t in target.split()} <= product:
            notes.append(f"kept '{target}': it is the product")  # "the bottle looks too small"
            continue
        removed = False
        if parent is not None and words:
            kept_props = [p for p in recipe.scene.props if not _mentions(p, words)]
            if len(kept_props) != len(recipe.scene.props):
                gone = [p for p in recipe.scene.props if p not in kept_props]
                notes.append(f"removed prop {', '.join(gone)}")
                recipe.scene.props = kept_props
                removed = True
            kept = [rest for c in clauses if (rest := without_thing(c, words))]
            if kept != clauses:
                gone = "; ".join(c for c in clauses if c not in kept)
                notes.append(f"removed '{target}' from '{gone}' in the scene words")
                clauses = kept
                removed = True
        lead = removal.split()[0].lower()
        if removed and parent is not None and recipe.scene.preset != "custom" and words and \
                _mentions(scene_preset(catalog, recipe.scene.preset).description, words):
            removed = False  # the preset's own words name it ("desk with laptop"): "no laptop" keeps it out
        if not removed or lead in ("no", "without"):
            # "no people": also kept from the picture where no prop named it (a busy street)
            negatives.append(removal if lead in ("no", "without") else f"no {target}")
    added = []
    product = {clean_word(w) for w in recipe.subject.description.split()}
    for clause in intent.clauses + negatives:
        if {clean_word(w) for w in clause.split()} <= product:
            continue  # "the candle": the product itself, not something in the scene
        if clause.lower() not in (c.lower() for c in clauses):
            clauses.append(clause)
            added.append(clause)
    clauses, cut = _fit(clauses, keep_newest=parent is not None)
    recipe.scene.description = ", ".join(clauses)
    if added:
        notes.append("your words kept: " + "; ".join(f"'{c}'" for c in added))
    if cut:
        notes.append(f"scene words shortened to fit {DESCRIPTION_LIMIT} characters")


def _swap_words(recipe, add: str, drop: str) -> None:
    """Puts the words of a tone or contrast step into the scene description in place of the opposite
    step's words (newest kept when the description is full)."""
    clauses = [c for c in split_description(recipe.scene.description) if c != drop]
    if add not in clauses:
        clauses.append(add)
    recipe.scene.description = ", ".join(_fit(clauses, keep_newest=True)[0])


# Relative feedback that lives in scene words: the vocabulary table, the words it adds and those it drops.
_WORD_STEPS = {
    "more_contrast": ("contrast_words", "up", "down"),
    "less_contrast": ("contrast_words", "down", "up"),
    "softer_light": ("light_quality_words", "soft", "hard"),
    "harder_light": ("light_quality_words", "hard", "soft"),
}


def apply_edits(recipe, edits: list[tuple[str, str]], catalog: Catalog, vocab: dict,
                notes: list[str], *, before: int | None = None) -> None:
    """Relative feedback: warmer/cooler, brighter/darker, more/less contrast, softer/harder light,
    busier/calmer, closer/wider, more/less blur (a step along the vocabulary's `blur_lenses`). `before`:
    the kelvin of the picture the merchant saw; "warmer" goes below it, "cooler" above it."""
    for edit, _said in edits:
        if edit in ("warmer", "cooler"):
            step = -vocab["kelvin_step"] if edit == "warmer" else vocab["kelvin_step"]
            old = recipe.lighting.kelvin
            base = old if before is None else (min(old, before) if edit == "warmer" else max(old, before))
            new = clamp_kelvin(base + step, vocab)
            recipe.lighting.kelvin = new
            add, drop = (vocab["warm_words"], vocab["cool_words"]) if edit == "warmer" else (
                vocab["cool_words"], vocab["warm_words"])
            _swap_words(recipe, add, drop)
            limit = " (the limit)" if new == old else ""
            notes.append(f"{edit}: {old}K -> {new}K{limit}")
        elif edit in _WORD_STEPS:
            # No field holds contrast or the light's quality: words in the scene description carry
            # them, as the tones do ("more contrast" swaps the vocabulary's contrast_words down -> up)
            table, on, off = _WORD_STEPS[edit]
            add, drop = vocab[table][on], vocab[table][off]
            _swap_words(recipe, add, drop)
            notes.append(f"{edit.replace('_', ' ')}: '{add}'")
        elif edit in ("brighter", "darker"):
            step = vocab["exposure_step"] if edit == "brighter" else -vocab["exposure_step"]
            old = recipe.lighting.exposure
            recipe.lighting.exposure = round(min(1.0, max(-1.0, old + step)), 2)
            notes.append(f"{edit}: exposure {old:+.1f} -> {recipe.lighting.exposure:+.1f}")
        elif edit in ("busier", "calmer"):
            step = vocab["clutter_step"] if edit == "busier" else -vocab["clutter_step"]
            old = recipe.scene.clutter
            new = round(min(1.0, max(0.0, old + step)), 2)
            recipe.scene.clutter = new
            allowed = props_for(scene_preset(catalog, recipe.scene.preset), new, recipe.subject.description)
            if edit == "calmer":
                props = recipe.scene.props[: len(allowed)]
            else:
                props = list(recipe.scene.props)
                for prop in allowed:
                    if len(props) < len(allowed) and prop not in props:
                        props.append(prop)
            changed = [p for p in recipe.scene.props if p not in props] + [
                p for p in props if p not in recipe.scene.props]
            recipe.scene.props = props
            what = "less busy" if edit == "calmer" else "busier"
            extra = f"; props {'removed' if edit == 'calmer' else 'added'}: {', '.join(changed)}"
            notes.append(f"{what}: clutter {old} -> {new}{extra if changed else ''}")
        elif edit in ("more_blur", "less_blur"):
            ladder = vocab["blur_lenses"]
            old = recipe.camera.lens
            at = ladder.index(old) if old in ladder else len(ladder) // 2
            new = ladder[min(len(ladder) - 1, max(0, at + (1 if edit == "more_blur" else -1)))]
            recipe.camera.lens = new
            limit = " (already the limit)" if new == old else ""
            notes.append(f"{edit.replace('_', ' ')}: lens {old} -> {new}{limit}")
        elif edit in ("closer", "wider"):
            old = recipe.camera.framing
            i = FRAMINGS.index(old) + (-1 if edit == "closer" else 1)
            new = FRAMINGS[min(len(FRAMINGS) - 1, max(0, i))]
            recipe.camera.framing = new
            notes.append(f"{edit}: framing {old} -> {new}" + (" (already the limit)" if new == old else ""))


def coloured_thing(recipe, said: str, vocab: dict) -> str | None:
    """The thing in the current scene that a colour request names, or None when it names the product
    (or nothing drawn): "can the ball be yellow?" with "tennis ball nearby" in the scene's words is the
    tennis ball; "make the towels white" among the spa's props is the rolled towels."""
    own = _head_noun(recipe.subject.description)
    skip = stop_words(vocab) | word_set(vocab, "colours") | {own, ""}
    named = {_head_noun(w) for w in re.findall(r"[\w'-]+", said.lower())} - skip
    if not named:
        return None
    shown, _ = description_parts(recipe.scene.description)
    for phrase in [*recipe.scene.props, *shown]:
        words = re.findall(r"[\w'-]+", phrase.lower())
        for i, word in enumerate(words):
            if _head_noun(word) in named:
                # the noun phrase up to the thing named ("tennis ball" of "tennis ball nearby")
                return " ".join(w for w in words[: i + 1] if w not in ("with", "a", "an", "the", "some"))
    return None


def recoloured_name(said: str, vocab: dict) -> str | None:
    """The name a recolour request calls the product by ("make the dress navy" -> "dress", "can my
    linen apron be sage?" -> "linen apron"), None when it says only "it" or "this"."""
    # a material stays part of the name ("linen apron"); a colour never is (it is being changed)
    skip = (stop_words(vocab) - word_set(vocab, "product_modifiers")) | word_set(
        vocab, "colours", "product_colour_verbs", "clauses.finishes", "recolour_not_names")
    named = [w for w in re.findall(r"[a-z][\w'-]*", said.lower()) if w not in skip]
    return " ".join(named) if 0 < len(named) <= 3 else None


def recolour_thing(recipe, thing: str, colour: str, vocab: dict, notes: list[str]) -> None:
    """`thing` (a prop, or words in the scene description) in `colour`, any colour it had replaced."""
    colours = word_set(vocab, "colours")
    bare = " ".join(w for w in thing.split() if w not in colours)
    coloured = f"{colour} {bare}"
    any_colour = "|".join(map(re.escape, sorted(colours, key=len, reverse=True)))
    pattern = re.compile(rf"(?<![\w'-])(?:(?:{any_colour})\s+)*{re.escape(bare)}(?![\w'-])", re.IGNORECASE)
    recipe.scene.props = [pattern.sub(coloured, p, count=1) for p in recipe.scene.props]
    recipe.scene.description = pattern.sub(coloured, recipe.scene.description, count=1)
    notes.append(f"the {bare} in {colour} (a thing in the scene; your product keeps its own colour)")


def product_colour(recipe, colour: str, vocab: dict, notes: list[str]) -> None:
    """A product-colour request: recolour only a generated product (text_to_image); a photographed
    product is never repainted, and the note says so and what to do instead."""
    if recipe.mode == "text_to_image" and colour != ANY_COLOUR:
        colours = sorted((str(c) for c in vocab["colours"]), key=len, reverse=True)
        described = recipe.subject.description
        for c in colours:
            described = re.sub(rf"(?<!\w){re.escape(c)}(?!\w)\s*", "", described, flags=re.IGNORECASE)
        recipe.subject.description = f"{colour} {described.strip() or 'product'}"[:200]
        notes.append(f"product colour {colour} (no product photo, so the product is generated)")
        return
    wanted = "in another colour" if colour == ANY_COLOUR else f"in {colour}"
    example = "a pink background" if colour == ANY_COLOUR else f"a {colour} background"
    notes.append(
        "product colour is kept: Sceneshop never repaints your product, so it stays exactly as "
        f"photographed. For the product {wanted}, upload a photo of it {wanted}; to bring the colour "
        f"into the picture instead, ask for {example}."
    )
