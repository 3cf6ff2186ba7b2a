"""The embedded planner: turns a merchant's words (and the previous recipe) into a recipe, offline,
from the catalogs in prompts/ plus a small sentence-embedding model for paraphrases."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np

from agent import feedback
from agent.embeddings import embed
from agent.prompting import compose_prompt, load_vocabulary
from agent.recipe import Camera, Lighting, LoraChoice, Recipe, Subject, check_against_catalog, new_seed
from tools.catalog import Catalog, load_catalog
from tools.errors import InputError

MAX_REQUEST_CHARS = 2000
MIN_SIDE, MAX_SIDE = 256, 4096
DEFAULT_SCENE = "studio_white"
# Cosine similarity (all-MiniLM-L6-v2) a paraphrase needs to pick a scene preset; below it the
# scene stays as it was (or studio_white)...
SIMILARITY_MIN = 0.50
# ...and must beat the next-best scene by this much: a word that is not a place ("craft", "soft")
# sits about equally close to several presets.
SIMILARITY_MARGIN = 0.04

EXAMPLE = "put this dress on a beach at sunset"
ANY_COLOUR = feedback.ANY_COLOUR  # what "recolour it" asks for
_NEGATIONS = {"no", "not", "without", "never", "nor"}
_ARTICLES = {"a", "an", "the", "this", "that", "my", "our", "some", "of"}
_CLAUSE_BREAK = re.compile(r"[,;.!?\n()]")
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_COUNT = re.compile(
    r"(?<!\w)(\d{1,2}|two|three|four|five|six|seven|eight)\s+(?:different\s+|more\s+|new\s+)?"
    r"(?:variations?|versions?|images?|options?|shots?|pictures?|photos?|takes?|variants?|results?)(?!\w)"
)


# --- reading the words --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    kind: str  # scene | lighting | time | lora | market | product | edit | framing | angle | lens
    value: str
    extra: str = ""  # product category


@dataclass
class Match:
    start: int
    end: int
    text: str
    effects: tuple[Effect, ...]
    used: bool = False
    exact: bool = True  # False when only a plural ending made it match


def _normalise(text: str) -> str:
    """Lower case, straight quotes; the same length as the input so positions stay valid."""
    table = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
    out = []
    for ch in text:
        ch = table.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def _phrase_pattern(phrase: str) -> re.Pattern:
    """Whole words, a hyphen or space inside the phrase alike, singular or plural ("sand dune"
    finds "sand dunes")."""
    tokens = [t for t in re.split(r"[\s\-]+", phrase.strip()) if t]
    last = tokens[-1]
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss") and last.isalpha():
        tokens[-1], plural = last[:-1], r"(?:e?s)?"
    elif last == "light":
        plural = r"(?:s|ing)?"  # "rim light" finds "rim lighting"
    else:
        plural = r"(?:e?s)?" if last[-1].isalpha() else ""
    body = r"[\s\-]*".join(re.escape(t) for t in tokens)
    # A hyphenated word is one word: "neon-lit" is not "neon", "t-shirt" is not "shirt".
    return re.compile(rf"(?<![\w'\-]){body}{plural}(?![\w'\-])")


def _key(phrase: str) -> str:
    return " ".join(re.split(r"[\s\-]+", str(phrase).lower().strip()))


def _edit_distance_le1(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = diff if len(diff) == 2 else (0, 0)
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    if la > lb:
        a, b = b, a
    for i in range(len(b)):
        if a == b[:i] + b[i + 1 :]:
            return True
    return False


class Lexicon:
    """Every phrase the planner knows (catalog keywords + vocabulary.yaml), compiled once."""

    def __init__(self, catalog: Catalog, vocab: dict, known_words: frozenset[str] = frozenset()):
        self.catalog = catalog
        self.vocab = vocab
        table: dict[str, list[Effect]] = {}

        def add(phrase, effect: Effect):
            key = _key(phrase)
            if key and effect not in table.setdefault(key, []):
                table[key].append(effect)

        for scene in catalog.scenes.values():
            for kw in scene.keywords:
                add(kw, Effect("scene", scene.name))
        for colour, scene_name in vocab["background_colours"].items():
            if scene_name in catalog.scenes:
                add(f"on {colour}", Effect("scene", scene_name))
        for light in catalog.lighting.values():
            for kw in light.keywords:
                add(kw, Effect("lighting", light.name))
        for time, words in vocab["time_words"].items():
            for word in words:
                add(word, Effect("time", time))
        # A time word inside a lighting phrase ("midday sun", "sunset light") still names the time.
        for key, effects in list(table.items()):
            if any(e.kind == "lighting" for e in effects):
                for time, words in vocab["time_words"].items():
                    if any(re.search(rf"(?<!\w){re.escape(_key(w))}(?!\w)", key) for w in words):
                        add(key, Effect("time", time))
        ignored_markets = {_key(k) for k in vocab.get("ignored_keywords", {}).get("marketplace", [])}
        for market in catalog.marketplaces.values():
            for kw in market.keywords:
                if _key(kw) not in ignored_markets:
                    add(kw, Effect("market", market.name))
        for market_name, words in vocab.get("marketplace_words", {}).items():
            if market_name in catalog.marketplaces:
                for word in words:
                    add(word, Effect("market", market_name))
        weak = {_key(w) for w in vocab["weak_lora_keywords"]}
        for lora in catalog.loras.values():
            strong = [kw for kw in lora.keywords if _key(kw) not in weak]
            for kw in [*strong, *lora.trigger, lora.name.replace("_", " ")]:
                add(kw, Effect("lora", lora.name))
            for kw in lora.keywords:
                if _key(kw) in weak:
                    for noun in vocab["style_nouns"]:
                        add(f"{kw} {noun}", Effect("lora", lora.name))
        for category, words in vocab["products"].items():
            for word in words:
                add(word, Effect("product", _key(word), category))
        for edit, words in vocab["feedback"].items():
            for word in words:
                table.setdefault(_key(word), [])
                # A feedback phrase means only the edit ("less busy" is not the minimalist LoRA).
                table[_key(word)] = [e for e in table[_key(word)] if e.kind not in ("lora",)]
                add(word, Effect("edit", edit))
        for framing, words in vocab["framing"].items():
            for word in words:
                add(word, Effect("framing", framing))
        for angle, words in vocab["angle"].items():
            for word in words:
                add(word, Effect("angle", angle))
        for lens, words in vocab["lens"].items():
            for word in words:
                add(word, Effect("lens", lens))

        self.table = table
        self._buckets: dict[str, list[tuple[re.Pattern, tuple[Effect, ...]]]] = {}
        for key, effects in table.items():
            if effects:
                run = re.match(r"[a-z0-9]*", key).group() or key[:1]
                self._buckets.setdefault(run[:3], []).append((key, _phrase_pattern(key), tuple(effects)))
        colours = sorted(vocab["background_colours"], key=len, reverse=True)
        bg_words = sorted(vocab["background_words"], key=len, reverse=True)
        colour_alt = "|".join(re.escape(c) for c in colours)
        bg_alt = "|".join(r"[\s\-]*".join(re.escape(p) for p in b.split()) for b in bg_words)
        # "pink backdrop", "sage green coloured background", "make the background green".
        shades = (r"(?:pale|soft|light|deep|dusty|muted|bright|hot|pastel|warm|cool|neutral|plain|solid|"
                  r"clean|simple|seamless|gradient|matte|smooth)")
        self.colour_first = re.compile(
            rf"(?<!\w)(?:(?:{shades}|{colour_alt})[\s\-]+)*({colour_alt})"
            rf"(?:[\s\-]+(?:colou?red|toned|pastel|plain|solid|seamless|studio|gradient))*"
            rf"[\s\-]+(?:{bg_alt})(?:e?s)?(?!\w)"
        )
        self.colour_after = re.compile(
            rf"(?<!\w)(?:{bg_alt})[\s\-]+(?:(?:to|in|into|is|be|as|colou?r|colou?red|of|a|an|more|plain)[\s\-]+)*"
            rf"({colour_alt})(?!\w)"
        )
        # Typo repair: a word unknown to both the model's vocabulary and the phrase table, one edit
        # away from a phrase word ("sunest" -> "sunset", "poool" -> "pool").
        self.phrase_words = frozenset(w for key in table for w in key.split() if len(w) >= 4)
        filler = {_key(w) for w in vocab["filler"]}
        self.known = frozenset(known_words) | self.phrase_words | filler
        self._by_length: dict[int, list[str]] = {}
        for w in self.phrase_words:
            self._by_length.setdefault(len(w), []).append(w)

    # -- typo repair ---------------------------------------------------------------------------
    def _correct(self, word: str) -> str | None:
        if len(word) < 5 or not word.isalpha() or word in self.known:
            return None
        if word.endswith("s") and word[:-1] in self.known:
            return None
        for length in (len(word), len(word) - 1, len(word) + 1):
            for cand in sorted(self._by_length.get(length, ())):
                if _edit_distance_le1(word, cand):
                    return cand
        return None

    def read(self, text: str) -> Reading:
        norm = _normalise(text)
        # The working text has typos repaired; start_map/end_map lead back to positions in `text`.
        work_parts: list[str] = []
        start_map: list[int] = []
        end_map: list[int] = []
        corrections = []
        pos = 0

        def keep(upto: int) -> None:
            for i in range(pos, upto):
                work_parts.append(norm[i])
                start_map.append(i)
                end_map.append(i + 1)

        for m in re.finditer(r"[a-z]+", norm):
            fix = self._correct(m.group())
            if fix is None:
                continue
            keep(m.start())
            for ch in fix:
                work_parts.append(ch)
                start_map.append(m.start())
                end_map.append(m.end())
            corrections.append((m.group(), fix))
            pos = m.end()
        keep(len(norm))
        work = "".join(work_parts)

        candidates: list[Match] = []
        for key, pattern, effects in self._candidates(work):
            for m in pattern.finditer(work):
                candidates.append(Match(m.start(), m.end(), m.group(), effects, exact=_key(m.group()) == key))
        gradients = self.vocab.get("gradient_colours", {})
        for regex in (self.colour_first, self.colour_after):
            for m in regex.finditer(work):
                scene = self.vocab["background_colours"][m.group(1)]
                if "gradient" in m.group() and m.group(1) in gradients:
                    scene = gradients[m.group(1)]
                if scene in self.catalog.scenes:
                    candidates.append(Match(m.start(), m.end(), m.group(), (Effect("scene", scene),)))
        for m in _COUNT.finditer(work):
            n = m.group(1)
            count = int(n) if n.isdigit() else _NUMBERS[n]
            candidates.append(Match(m.start(), m.end(), m.group(), (Effect("count", str(count)),)))
        # Longest phrase wins; among equals, the one spelled exactly ("woods" is the forest's
        # keyword, not "wood" + s), then the earlier one.
        candidates.sort(key=lambda c: (-(c.end - c.start), not c.exact, c.start))
        taken = [False] * len(work)
        matches = []
        for c in candidates:
            if not any(taken[c.start : c.end]):
                taken[c.start : c.end] = [True] * (c.end - c.start)
                matches.append(c)
        matches.sort(key=lambda c: c.start)
        return Reading(text, work, start_map, end_map, matches, corrections)

    def _candidates(self, work: str):
        """Only the phrases whose first word could be in the text (a few dozen of ~2000)."""
        seen = set()
        for token in set(re.findall(r"[a-z0-9]+", work)):
            for prefix in {token[:3], token[:2], token[:1]}:
                for item in self._buckets.get(prefix, ()):
                    if id(item) not in seen:
                        seen.add(id(item))
                        yield item


@dataclass
class Reading:
    """A request after phrase matching: which spans mean what, and the words nobody claimed."""

    text: str
    work: str
    start_map: list[int]
    end_map: list[int]
    matches: list[Match]
    corrections: list[tuple[str, str]]
    claimed: list[tuple[int, int]] = field(default_factory=list)  # extra spans, in `work`

    def words_before(self, start: int, n: int = 4) -> list[str]:
        """Up to n words before a position, within its clause."""
        clause_start = max(self.work.rfind(ch, 0, start) for ch in ",;.!?\n") + 1
        return re.findall(r"[\w']+", self.work[clause_start:start])[-n:]

    def words_after(self, end: int, n: int = 2) -> list[str]:
        return re.findall(r"[\w']+", self.work[end:])[:n]

    def negated(self, match: Match) -> bool:
        before = [w for w in self.words_before(match.start, 3) if w not in _ARTICLES]
        return bool(before) and before[-1] in _NEGATIONS

    def claim(self, start: int, end: int) -> None:
        self.claimed.append((start, end))

    def leftover_clauses(self, filler: set[str]) -> list[str]:
        """The request's own words that no preset or command used, clause by clause, in the
        user's spelling (positions mapped back through typo repairs). A scene, lighting or time
        word inside a longer phrase of the user's ("in a cosy coffee shop", "soft window light")
        picks its preset and also stays, with its phrase, in the words."""
        n = len(self.text)
        owner = [-1] * n  # which consuming span covers each character
        freed: list[str | None] = [None] * n  # the kind of span a character was given back from
        spans = [(m.start, m.end, _keep_kind(m)) for m in self.matches if m.used]
        spans += [(s, e, None) for s, e in self.claimed]
        for i, (s, e, _) in enumerate(spans):
            if s < e:
                for j in range(self.start_map[s], self.end_map[e - 1]):
                    owner[j] = i

        def neighbour_is_content(pos: int, step: int, kind: str) -> bool:
            j = pos
            while 0 <= j < n and self.text[j] in " \t-":
                j += step
            if not (0 <= j < n) or owner[j] != -1 or _CLAUSE_BREAK.match(self.text[j]):
                return False
            if freed[j] not in (None, kind):
                return False  # "cozy cafe at night": a scene word does not pull in the time
            k = j
            while 0 <= k < n and owner[k] == -1 and (self.text[k].isalnum() or self.text[k] in "'’"):
                k += step
            word = self.text[min(j, k + 1) : max(j, k - 1) + 1].lower()
            return bool(word) and word not in filler

        changed = True
        while changed:
            changed = False
            for i, (s, e, kind) in enumerate(spans):
                if kind is None or s >= e:
                    continue
                o_s, o_e = self.start_map[s], self.end_map[e - 1]
                if owner[o_s] != i:
                    continue
                if neighbour_is_content(o_s - 1, -1, kind) or neighbour_is_content(o_e, 1, kind):
                    for j in range(o_s, o_e):
                        owner[j] = -1
                        freed[j] = kind
                    changed = True

        clauses, current = [], []
        for i, ch in enumerate(self.text):
            if owner[i] != -1 or _CLAUSE_BREAK.match(ch):
                if current:
                    clauses.append("".join(current))
                    current = []
                continue
            current.append(ch)
        if current:
            clauses.append("".join(current))
        return [c for c in (" ".join(c.split()) for c in clauses) if c]


def _keep_kind(m: Match) -> str | None:
    """"scene"/"lighting"/"time" when a used match may stay in the user's words as part of a
    longer phrase; None for commands, products, styles, and adverbial phrases ("at night")."""
    kinds = [e.kind for e in m.effects]
    if not kinds or any(k not in ("scene", "lighting", "time") for k in kinds):
        return None
    if m.text.split()[0] in ("at", "in", "during", "under", "after", "by", "on"):
        return None
    return kinds[0]


# --- understanding ------------------------------------------------------------------------------------


@dataclass
class Intent:
    """What a request asks for, before it is applied to a recipe."""

    scene: str | None = None
    scene_from: str = ""
    time: str | None = None
    time_from: str = ""
    lighting: str | None = None
    lighting_from: str = ""
    market: str | None = None
    market_from: str = ""
    subject: str | None = None
    category: str | None = None
    loras: list[tuple[str, str, str]] = field(default_factory=list)  # (name, op, evidence)
    edits: list[tuple[str, str]] = field(default_factory=list)  # (edit, evidence)
    framing: str | None = None
    angle: str | None = None
    lens: str | None = None
    restyle: bool = False
    variation: bool = False
    count: int | None = None
    colour: str | None = None
    clauses: list[str] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    corrections: list[tuple[str, str]] = field(default_factory=list)

    @property
    def edits_fields(self) -> bool:
        """Whether anything besides the seed is asked for."""
        return bool(
            self.scene or self.time or self.lighting or self.market or self.subject or self.loras
            or self.edits or self.framing or self.angle or self.lens or self.restyle or self.count
            or self.clauses or self.removals or self.colour
        )


class EmbeddedPlanner:
    """Offline planner: keywords first, sentence-embedding similarity for paraphrases, feedback as
    edits of the parent recipe. `lora_family` ("sdxl"/"sd15") is the engine's base-model family
    when known; LoRAs of another family are left out with a note."""

    name = "embedded planner (offline)"

    def __init__(self, catalog: Catalog | None = None, *, lora_family: str | None = None):
        self.catalog = catalog or load_catalog()
        self.vocab = load_vocabulary(self.catalog.folder)
        self.lora_family = lora_family
        # One vector per scene description and keyword, computed once per catalog.
        self.lexicon, self.scene_names, self.scene_vectors = _indexes(self.catalog)
        embed(["warm up"])  # the first call of a thread is slow; pay it here, not on a request

    # -- the Planner interface -----------------------------------------------------------------
    def plan(self, request: str, parent: Recipe | None = None, *,
             image_size: tuple[int, int] | None = None) -> Recipe:
        """A recipe for the request: a child of `parent` (an edit of it) when given, else a fresh
        one; `image_size` is the product photo's (width, height), None when there is no photo."""
        text = check_request(request)
        size = _check_image_size(image_size)
        if _is_undo(text, self.vocab):
            recipe = parent.child(text) if parent else self._blank(text, size)
            recipe.notes = [
                "undo",
                "undo requested: the previous recipe is restored by the session (the planner keeps "
                "no history); this recipe is the current one unchanged",
            ]
            return self._finish(recipe)
        intent = self.understand(text, parent is not None)
        recipe = self._apply(intent, text, parent, size)
        return self._finish(recipe)

    # -- reading a request -----------------------------------------------------------------------
    def understand(self, text: str, editing: bool = False) -> Intent:
        """What the words ask for; `editing` = there is a previous recipe to change."""
        reading = self.lexicon.read(text)
        intent = Intent(corrections=reading.corrections)
        colour = feedback.find_product_colour(reading.work, self.vocab)
        if colour:
            intent.colour, start, end = colour
            reading.claim(start, end)
            for m in reading.matches:
                if m.start < end and m.end > start:
                    m.effects = ()

        # The product first: its own words ("linen shirt", "vintage leather bag") are not a scene
        # or a style. Then LoRA modifiers ("lighter watercolor" is not "brighter").
        containers = {_key(w) for w in self.vocab.get("containers", [])}
        for i, m in enumerate(reading.matches):
            product = next((e for e in m.effects if e.kind == "product"), None)
            if product and not reading.negated(m) and self._is_subject(reading, m):
                intent.subject, intent.category = self._subject_words(reading, m), product.extra
                m.used = True
                nxt = reading.matches[i + 1] if i + 1 < len(reading.matches) else None
                other = next((e for e in nxt.effects if e.kind == "product"), None) if nxt else None
                gap = reading.work[m.end : nxt.start] if nxt else ""
                if other and re.fullmatch(r"\s+of\s+(?:the\s+|my\s+)?", gap) and \
                        _key(m.text).split()[-1].rstrip("s") in containers:
                    # "a tray of cookies": the contents say what the product is.
                    category = other.extra
                elif other and re.fullmatch(r"[\s\-]+", gap):
                    # "hot sauce bottle", "wine glass": one product; the head noun names the
                    # category unless it is only packaging.
                    is_pack = _key(nxt.text).split()[-1].rstrip("s") in containers
                    category = product.extra if is_pack else other.extra
                else:
                    break
                intent.subject = self._subject_words(reading, m, end=nxt.end)
                intent.category = category
                nxt.used = True
                break
        lora_ops: dict[str, list[tuple[str, str]]] = {}
        for m in reading.matches:
            for effect in m.effects:
                if effect.kind == "lora":
                    lora_ops.setdefault(effect.value, []).append((self._lora_op(reading, m), m.text))
                    m.used = True

        scene_candidates = []
        for m in reading.matches:
            for effect in m.effects:
                kind, value = effect.kind, effect.value
                if kind in ("scene", "time", "lighting") and reading.negated(m):
                    continue  # "no flowers": stays in the words, and so in the negative prompt
                if kind == "scene":
                    scene_candidates.append((m, value))
                elif kind == "time":
                    m.used = True
                    if intent.time is None:
                        intent.time, intent.time_from = value, m.text
                elif kind == "lighting":
                    m.used = True
                    if intent.lighting is None:
                        intent.lighting, intent.lighting_from = value, m.text
                elif kind == "market":
                    m.used = True
                    if intent.market is None:
                        intent.market, intent.market_from = value, m.text
                elif kind == "edit":
                    m.used = True
                    if value == "variation":
                        intent.variation = True
                    elif value == "restyle":
                        intent.restyle = True
                    elif value not in (e for e, _ in intent.edits):
                        intent.edits.append((value, m.text))
                elif kind in ("framing", "angle", "lens"):
                    m.used = True
                    setattr(intent, kind, value)
                elif kind == "count":
                    m.used = True
                    intent.count = max(1, min(8, int(value)))
        for name, ops in lora_ops.items():
            kinds = [op for op, _ in ops]
            op = "remove" if "remove" in kinds else next((k for k in kinds if k != "add"), "add")
            intent.loras.append((name, op, ops[0][1]))

        scene_candidates = self._drop_surface_nouns(reading, scene_candidates)
        if scene_candidates:
            best_match, best = max(scene_candidates, key=lambda c: self._scene_rank(reading, *c))
            intent.scene, intent.scene_from = best, best_match.text
            for m, name in scene_candidates:
                # The winner's words are the preset now; a losing surface ("on a wooden table in a
                # cafe") stays in the user's words.
                if name == best:
                    m.used = True
        filler = {str(w).lower() for w in [*self.vocab["filler"], *self.vocab["prepositions"]]}
        clauses = [feedback.trim_clause(c, self.vocab) for c in reading.leftover_clauses(filler)]
        for clause in filter(None, clauses):
            if feedback.is_removal(clause, self.vocab):
                intent.removals.append(clause)
            else:
                intent.clauses.append(clause)
        if intent.scene is None and intent.clauses:
            self._similar_scene(intent, editing)
        return intent

    def _drop_surface_nouns(self, reading: Reading, candidates: list) -> list:
        """"terrazzo countertop": the material right before a bare surface noun names the scene."""
        nouns = {_key(w) for w in self.vocab.get("surface_nouns", [])}
        dropped = set()
        for m, name in candidates:
            if _key(m.text) not in nouns:
                continue
            for other, other_name in candidates:
                adjacent = other.end <= m.start and not reading.work[other.end : m.start].strip()
                if other_name != name and adjacent and self.catalog.scene(other_name).kind == "surface":
                    dropped.add(id(m))
        return [c for c in candidates if id(c[0]) not in dropped]

    def _scene_rank(self, reading: Reading, m: Match, scene: str) -> tuple:
        """A scene said with a placement word ("in a cafe", "on marble") beats a descriptive one
        ("urban look"); then settings (outdoor/interior) beat surfaces beat studio backdrops; then
        "in/at" beats "on"; then the longer phrase."""
        kind = self.catalog.scene(scene).kind
        kind_rank = 2 if kind in ("outdoor", "interior") else 1 if kind == "surface" else 0
        placement = self.vocab["placement_words"]
        place_rank = 0
        for word in reversed(reading.words_before(m.start, 4)):
            if word in placement["prop"]:
                break  # "with dried flowers" is a prop of the scene, not where the product is
            if word in placement["setting"]:
                place_rank = 2
                break
            if word in placement["surface"]:
                place_rank = 1
                break
        return (place_rank > 0, kind_rank, place_rank, m.end - m.start, -m.start)

    def _is_subject(self, reading: Reading, m: Match) -> bool:
        """A product word is the merchant's product unless it sits in the scene: "on a picnic
        blanket", "with a notebook" are scene; "this dress", "with the headphones", "for my soap"
        and "shot of the watch" are the product."""
        scene_words = {str(w) for w in self.vocab["scene_prepositions"]}
        markers = {str(w) for w in self.vocab["product_markers"]}
        words = reading.words_before(m.start, 4)
        for i in range(len(words) - 1, -1, -1):
            word = words[i]
            if word == "with":
                nxt = words[i + 1] if i + 1 < len(words) else ""
                return nxt not in ("a", "an", "some")
            if word in scene_words:
                return False
            if word in markers:
                return True
        return True

    def _subject_words(self, reading: Reading, m: Match, end: int | None = None) -> str:
        """The product phrase plus the colour/material words right before it ("red summer dress")."""
        modifiers = {_key(w) for w in self.vocab["product_modifiers"]}
        start = m.start
        for word_match in reversed(list(re.finditer(r"[\w'\-]+", reading.work[: m.start]))):
            gap = reading.work[word_match.end() : start]
            if gap.strip() or word_match.group() not in modifiers:
                break
            start = word_match.start()
        for other in reading.matches:
            if other is not m and other.start >= start and other.end <= m.start:
                other.effects = ()  # "linen shirt", "vintage leather bag": part of the product
        end = m.end if end is None else end
        reading.claim(start, end)
        # The working text: lower case, but with typos repaired ("sneekers" -> "sneakers").
        return " ".join(reading.work[start:end].split())[:200]

    def _lora_op(self, reading: Reading, m: Match) -> str:
        """remove / up / down / light / add, from the words around a LoRA keyword ("no film grain",
        "stronger watercolor", "a touch of film grain"); the modifier words are used up too."""
        mods = self.vocab["lora_modifiers"]
        before = reading.work[max(0, m.start - 30) : m.start]
        stripped = re.sub(r"(?:\s+(?:the|a|an|that|this|some|of the))+\s*$", "", before.rstrip())
        stripped = stripped.rstrip()
        for op in ("remove", "up", "down", "light", "add"):
            for word in sorted(mods.get(op, []), key=len, reverse=True):
                if re.search(rf"(?<![\w']){re.escape(str(word))}$", stripped):
                    start = m.start - (len(before) - (len(stripped) - len(str(word))))
                    self._take_modifier(reading, start, m.start)
                    return op
        after = reading.words_after(m.end, 1)
        if after and after[0] in ("off",):
            end = reading.work.index(after[0], m.end) + len(after[0])
            self._take_modifier(reading, m.end, end)
            return "remove"
        if after and after[0] in ("stronger", "heavier", "weaker", "subtler", "lighter"):
            end = reading.work.index(after[0], m.end) + len(after[0])
            self._take_modifier(reading, m.end, end)
            return "up" if after[0] in ("stronger", "heavier") else "down"
        return "add"

    @staticmethod
    def _take_modifier(reading: Reading, start: int, end: int) -> None:
        reading.claim(start, end)
        for other in reading.matches:
            # "lighter watercolor": "lighter" is the LoRA's modifier, not "brighter".
            if other.start >= start and other.end <= end and all(e.kind == "edit" for e in other.effects):
                other.effects = ()
                other.used = False

    def _similar_scene(self, intent: Intent, editing: bool) -> None:
        texts = intent.clauses
        if editing:
            # A feedback turn changes the scene by similarity only when it names a place ("now in
            # a lush meadow"); "add some eucalyptus leaves" is words for the current scene.
            placement = self.vocab["placement_words"]
            places = {*placement["setting"], *placement["surface"], "now"}
            texts = [c for c in texts if c.split()[0].lower() in places]
        if not texts:
            return
        queries = [", ".join(texts)] + (texts if len(texts) > 1 else [])
        scores = embed(queries) @ self.scene_vectors.T
        # Best score per scene over all its texts and all queries.
        per_scene: dict[str, tuple[float, str]] = {}
        for q, row in enumerate(scores):
            for name, score in zip(self.scene_names, row, strict=True):
                if score > per_scene.get(name, (-1.0, ""))[0]:
                    per_scene[name] = (float(score), queries[q])
        ranked = sorted(per_scene.items(), key=lambda kv: -kv[1][0])
        (best, (score, query)), second = ranked[0], (ranked[1][1][0] if len(ranked) > 1 else -1.0)
        if score >= SIMILARITY_MIN and score - second >= SIMILARITY_MARGIN:
            intent.scene = best
            intent.scene_from = f"similar to '{query}', {score:.2f}"

    # -- applying an intent to a recipe ------------------------------------------------------------
    def _blank(self, text: str, size: tuple[int, int] | None) -> Recipe:
        recipe = Recipe(request=text, mode="replace_background" if size else "text_to_image")
        self._set_scene(recipe, DEFAULT_SCENE, [])
        if size:
            recipe.width, recipe.height = _fit_size(size, [])
        return recipe

    def _apply(self, intent: Intent, text: str, parent: Recipe | None, size) -> Recipe:
        cat, vocab = self.catalog, self.vocab
        fresh = parent is None
        recipe = Recipe(request=text) if fresh else parent.child(text)
        notes: list[str] = []
        for typo, fix in intent.corrections:
            notes.append(f"read '{typo}' as '{fix}'")

        # Mode: never repaint a photographed product unless the user asks for the whole photo.
        if intent.restyle and (size or (parent and parent.mode != "text_to_image")):
            recipe.mode = "restyle"
            notes.append("mode restyle (the whole photo is repainted)")
        elif fresh:
            recipe.mode = "replace_background" if size else "text_to_image"
            if intent.restyle:
                notes.append("restyle needs a product photo; without one the image is generated")
        elif parent.mode == "text_to_image" and size:
            recipe.mode = "replace_background"

        if intent.subject:
            recipe.subject = Subject(description=intent.subject, category=intent.category or "general")
            notes.append(f"subject '{intent.subject}' ({recipe.subject.category})")

        forced_scene = None
        if intent.market:
            market = cat.marketplace(intent.market)
            recipe.output.preset = market.name
            recipe.width, recipe.height = market.width, market.height
            notes.append(f"output {market.name} {market.width}x{market.height} (from '{intent.market_from}')")
            if (market.background or "").lower() == "#ffffff":
                forced_scene = vocab["background_colours"].get("white", DEFAULT_SCENE)

        # Scene.
        old_scene = None if fresh else parent.scene.preset
        scene = old_scene or DEFAULT_SCENE
        if forced_scene:
            scene = forced_scene
            if intent.scene and intent.scene != forced_scene:
                notes.append(f"scene {forced_scene}: {intent.market} needs a pure white background "
                             f"(asked: {intent.scene})")
            else:
                notes.append(f"scene {forced_scene} ({intent.market} needs a pure white background)")
        elif intent.scene:
            scene = intent.scene
            said = intent.scene_from
            notes.append(f"scene {scene} ({said if said.startswith('similar') else f'from {said!r}'})")
        elif fresh:
            notes.append(f"scene {DEFAULT_SCENE} (no setting named)")

        # Time of day (and the day/night version of a scene).
        preset = feedback.scene_preset(cat, scene)
        implied = vocab["lighting_time"].get(intent.lighting) if intent.lighting else None
        if forced_scene:
            time = None  # a pure white marketplace background shows no time of day
            if intent.time:
                notes.append(f"time of day left out: {intent.market} is a pure white background")
        elif intent.time:
            time = intent.time
            notes.append(f"time {time} (from '{intent.time_from}')")
        elif implied and preset.outdoor:
            time = implied
            notes.append(f"time {time} (from '{intent.lighting_from}')")
        elif fresh or scene != old_scene:
            time = preset.time
            if not fresh and preset.outdoor and parent.time_of_day and self._deliberate_time(parent):
                time = parent.time_of_day
        else:
            time = parent.time_of_day
        variant = {"night": vocab["night_variant"], "day": vocab["day_variant"]}.get(time, {})
        if scene in variant and variant[scene] in cat.scenes and not forced_scene:
            notes.append(f"scene {variant[scene]} (the {time} version of {scene})")
            scene = variant[scene]
            preset = cat.scene(scene)
        scene_changed = fresh or scene != old_scene
        if scene_changed:
            carried = [] if fresh else feedback.tone_clauses(parent.scene.description, vocab)
            self._set_scene(recipe, scene, carried)
        recipe.time_of_day = time
        time_changed = fresh or time != parent.time_of_day

        # Lighting: named > driven by the time of day > the scene's own.
        if intent.lighting:
            light_name = intent.lighting
            notes.append(f"lighting {light_name} (from '{intent.lighting_from}')")
        elif time_changed or scene_changed:
            light_name = self._time_lighting(preset, time)
            if not fresh and not intent.time and self._deliberate_lighting(parent):
                light_name = parent.lighting.preset
            elif not fresh or time:
                notes.append(f"lighting {light_name} (for {time or scene})")
        else:
            light_name = parent.lighting.preset
        if fresh or light_name != parent.lighting.preset:
            light = cat.light(light_name)
            offset = 0 if fresh else parent.lighting.kelvin - cat.light(parent.lighting.preset).kelvin
            kelvin = feedback.clamp_kelvin(light.kelvin + offset, vocab)
            recipe.lighting = Lighting(preset=light_name, direction=light.direction, kelvin=kelvin,
                                       exposure=recipe.lighting.exposure)

        # The user's own words: into the scene description, verbatim.
        feedback.apply_words(recipe, intent, parent, scene_changed, cat, vocab, notes)
        feedback.apply_edits(recipe, intent.edits, cat, vocab, notes)

        # Camera.
        if intent.framing:
            recipe.camera.framing = intent.framing
            notes.append(f"framing {intent.framing}")
        if intent.angle:
            recipe.camera.angle = intent.angle
            notes.append(f"camera {intent.angle}")
        elif scene_changed and preset.overhead:
            recipe.camera.angle = "overhead, top-down"
        elif scene_changed and not fresh and parent.camera.angle == "overhead, top-down":
            recipe.camera.angle = Camera().angle
        if intent.lens:
            recipe.camera.lens = intent.lens
            notes.append(f"lens {intent.lens}")

        self._apply_loras(recipe, intent, parent, notes)

        # Size: marketplace > the photo's own size (the product keeps its pixels) > 1024 square.
        if not intent.market:
            if size and (fresh or parent.mode == "text_to_image"):
                recipe.width, recipe.height = _fit_size(size, notes)
        if intent.count:
            recipe.output.count = intent.count
            notes.append(f"{intent.count} images")

        if intent.variation:
            seed = new_seed()
            while not fresh and seed == parent.seed:
                seed = new_seed()
            recipe.seed = seed
            notes.append("new seed" if intent.edits_fields else "new variation: only the seed changed")

        if intent.colour:
            feedback.product_colour(recipe, intent.colour, vocab, notes)
        if not fresh and not intent.edits_fields and not intent.variation:
            notes.append(
                f"nothing to change understood in '{text}'; try e.g. 'warmer', 'less busy', 'at sunset', "
                "'now on marble', 'closer', 'another variation' or 'for Amazon'"
            )
        recipe.notes = notes
        return recipe

    def _set_scene(self, recipe: Recipe, scene: str, carried: list[str]) -> None:
        preset = self.catalog.scene(scene)
        recipe.scene.preset = scene
        recipe.scene.props = feedback.props_for(preset, recipe.scene.clutter)
        recipe.scene.description = ", ".join(carried)

    def _time_lighting(self, preset, time: str | None) -> str:
        if time is None:
            return preset.lighting
        table = self.vocab["time_lighting"]["outdoor" if preset.outdoor else "indoor"]
        key = "night_city" if time == "night" and preset.outdoor and preset.buildings else time
        choice = table.get(key, "default")
        if choice == "default":
            bound = self.vocab["lighting_time"].get(preset.lighting)
            if bound in ("night", "sunset", "sunrise") and bound != time:
                return self.vocab["daylight"]
            return preset.lighting
        return choice

    def _deliberate_time(self, parent: Recipe) -> bool:
        return parent.time_of_day != feedback.scene_preset(self.catalog, parent.scene.preset).time

    def _deliberate_lighting(self, parent: Recipe) -> bool:
        scene = feedback.scene_preset(self.catalog, parent.scene.preset)
        return parent.lighting.preset != self._time_lighting(scene, parent.time_of_day)

    def _apply_loras(self, recipe: Recipe, intent: Intent, parent: Recipe | None, notes: list[str]) -> None:
        if not intent.loras:
            return
        cat = self.catalog
        current = {c.name: c.weight for c in recipe.loras}
        family = self.lora_family
        if family is None and current:
            family = cat.lora(next(iter(current))).family
        if family is None:
            families = [cat.lora(name).family for name, op, _ in intent.loras if op != "remove"]
            family = max(sorted(set(families)), key=lambda f: (families.count(f), f == "sdxl"),
                         default="sdxl")
        step = float(self.vocab["lora_step"])
        for name, op, evidence in intent.loras:
            entry = cat.lora(name)
            if op == "remove":
                if current.pop(name, None) is not None:
                    notes.append(f"LoRA {name} removed (from '{evidence}')")
                elif parent is not None:
                    notes.append(f"LoRA {name} is not in use; nothing to remove")
                continue
            if entry.family != family:
                # Twins (lcm_sd15/lcm_sdxl) share keywords: the other family's twin is simply unwanted.
                twin = any(other != name and cat.lora(other).family == family
                           and set(cat.lora(other).keywords) & set(entry.keywords)
                           for other, _, _ in intent.loras)
                if not twin:
                    notes.append(f"LoRA {name} left out: it is for {entry.family} models and this recipe "
                                 f"uses {family} LoRAs")
                continue
            if name in current:
                old = current[name]
                if op == "up":
                    current[name] = entry.clamp(round(old + step, 2))
                elif op == "down":
                    current[name] = round(old - step, 2)
                    if current[name] <= entry.weight_min:
                        current.pop(name)
                        notes.append(f"LoRA {name} removed (weight would reach {entry.weight_min})")
                        continue
                elif op == "light":
                    current[name] = entry.clamp(round(entry.weight_default - step, 2))
                if current[name] != old:
                    notes.append(f"LoRA {name} {old} -> {current[name]} (from '{evidence}')")
                continue
            if op == "down" and parent is not None:
                notes.append(f"LoRA {name} is not in use; nothing to reduce")
                continue
            if len(current) >= 5:
                notes.append(f"LoRA {name} left out: a recipe holds at most 5 LoRAs")
                continue
            weight = entry.weight_default - (step if op in ("down", "light") else 0)
            current[name] = entry.clamp(round(weight, 2))
            notes.append(f"LoRA {name} {current[name]} (from '{evidence}')")
        recipe.loras = [LoraChoice(name=n, weight=w) for n, w in current.items()]
        fast_cfg = self.vocab["fast_loras"]
        fast = any(n in fast_cfg["names"] for n in current)
        was_fast = parent is not None and any(c.name in fast_cfg["names"] for c in parent.loras)
        if fast and not was_fast:
            recipe.steps, recipe.guidance = fast_cfg["steps"], fast_cfg["guidance"]
            notes.append(f"fast draft: {recipe.steps} steps, guidance {recipe.guidance}")
        elif was_fast and not fast:
            defaults = Recipe.model_fields
            recipe.steps, recipe.guidance = defaults["steps"].default, defaults["guidance"].default

    def _finish(self, recipe: Recipe) -> Recipe:
        recipe.prompt, recipe.negative_prompt = compose_prompt(recipe, self.catalog)
        return check_against_catalog(recipe, self.catalog)


# --- checks and helpers -------------------------------------------------------------------------------


def check_request(request) -> str:
    """The request text, or InputError saying what is wrong with it."""
    if not isinstance(request, str) or not request.strip():
        raise InputError(f"the request is empty; describe a scene, e.g. '{EXAMPLE}'")
    text = request.strip()
    if len(text) > MAX_REQUEST_CHARS:
        raise InputError(
            f"the request is {len(text):,} characters; the limit is {MAX_REQUEST_CHARS:,}. "
            "Describe the scene in a few sentences"
        )
    return text


def _check_image_size(image_size) -> tuple[int, int] | None:
    if image_size is None:
        return None
    try:
        width, height = (int(v) for v in image_size)
    except (TypeError, ValueError):
        raise InputError(f"image_size must be (width, height) in pixels, got {image_size!r}") from None
    if width < 1 or height < 1:
        raise InputError(f"image_size must be positive, got {width}x{height}")
    return width, height


def _fit_size(size: tuple[int, int], notes: list[str]) -> tuple[int, int]:
    """The photo's own size rounded down to a multiple of 8, so the product keeps its pixels;
    scaled only when outside the 256-4096 px range the models take."""
    width, height = size
    scale = 1.0
    if max(width, height) > MAX_SIDE:
        scale = MAX_SIDE / max(width, height)
    elif min(width, height) < MIN_SIDE:
        scale = min(MIN_SIDE / min(width, height), MAX_SIDE / max(width, height))
    w = min(MAX_SIDE, max(MIN_SIDE, int(width * scale)))
    h = min(MAX_SIDE, max(MIN_SIDE, int(height * scale)))
    w, h = w - w % 8, h - h % 8
    if scale != 1.0:
        notes.append(f"canvas {w}x{h}: the photo's {width}x{height} is outside the "
                     f"{MIN_SIDE}-{MAX_SIDE} px range")
    return w, h


# Built once per catalog and shared by every planner on it (tests and the app build several).
# Keyed by id(): a Catalog holds dicts, so it is not hashable; the entry keeps the catalog alive,
# so the id cannot be reused while it is cached.
_INDEXES: dict[int, tuple[Catalog, Lexicon, list[str], np.ndarray]] = {}
_INDEX_LOCK = threading.Lock()
_TEXT_VECTORS: dict[str, np.ndarray] = {}  # preset text -> vector, shared by catalogs that agree


def _vectors(texts: list[str]) -> np.ndarray:
    missing = [t for t in dict.fromkeys(texts) if t not in _TEXT_VECTORS]
    if missing:
        _TEXT_VECTORS.update(zip(missing, embed(missing), strict=True))
    return np.stack([_TEXT_VECTORS[t] for t in texts])


def _indexes(catalog: Catalog) -> tuple[Lexicon, list[str], np.ndarray]:
    with _INDEX_LOCK:
        cached = _INDEXES.get(id(catalog))
        if cached is None:
            from agent.embeddings import embedder

            known = frozenset(w for w in embedder().tokenizer.get_vocab() if w.isalpha())
            lexicon = Lexicon(catalog, load_vocabulary(catalog.folder), known)
            names, texts = [], []
            for scene in catalog.scenes.values():
                for text in (scene.description, scene.name.replace("_", " "), *scene.keywords):
                    names.append(scene.name)
                    texts.append(text)
            if len(_INDEXES) >= 8:
                _INDEXES.pop(next(iter(_INDEXES)))
            cached = _INDEXES[id(catalog)] = (catalog, lexicon, names, _vectors(texts))
        return cached[1:]


def _is_undo(text: str, vocab: dict) -> bool:
    norm = _normalise(text)
    for phrase in sorted(vocab["undo"]["phrases"], key=len, reverse=True):
        found = _phrase_pattern(_key(phrase)).search(norm)
        if found:
            rest = norm[: found.start()] + " " + norm[found.end() :]
            words = re.findall(r"[\w']+", rest)
            allowed = {_key(w) for w in vocab["undo"]["allowed"]}
            return all(w in allowed for w in words)
    return False


def is_undo(request: str) -> bool:
    """True when the request asks to undo the last change ("undo", "go back"): the session pops
    its history; plan() also marks such a recipe with the note "undo"."""
    if not isinstance(request, str) or not request.strip():
        return False
    return _is_undo(request, load_vocabulary())


def product_colour_request(request: str) -> str | None:
    """The colour the user wants the product itself in ("make it green" -> "green"), or None
    (also for a colour-less "recolour it"). The product is never repainted in
    replace_background; plan() adds a note saying so for any of these."""
    if not isinstance(request, str) or not request.strip():
        return None
    found = feedback.find_product_colour(_normalise(request), load_vocabulary())
    return found[0] if found and found[0] != ANY_COLOUR else None
