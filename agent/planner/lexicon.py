"""Reading a request's words: typo repair and phrase matching against everything the planner knows
(catalog keywords and prompts/vocabulary.yaml), with negations, placements and the leftover clauses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from sceneshop.tools.catalog import Catalog

_NEGATIONS = {"no", "not", "without", "never", "nor", "don't", "dont", "didn't", "didnt", "doesn't", "won't"}
_NEGATED_VERBS = {"want", "like", "need", "use", "have", "show", "put", "add", "see"}
_ARTICLES = {"a", "an", "the", "this", "that", "my", "our", "some", "of", "any"}
_CLAUSE_BREAK = re.compile(r"[,;.!?\n()]")
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
_COUNT = re.compile(
    r"(?<!\w)(\d{1,2}|two|three|four|five|six|seven|eight)\s+(?:different\s+|more\s+|new\s+)?"
    r"(?:variations?|versions?|images?|options?|shots?|pictures?|photos?|takes?|variants?|results?)(?!\w)"
)

# "2 more like it", "a couple more of these", "three more": more pictures of this look, each its own
# variation (a new seed).
_MORE_LIKE = re.compile(
    r"(?<!\w)(\d{1,2}|two|three|four|five|six|seven|eight|a\s+couple|a\s+few)\s+more"
    r"(?:\s+(?:like\s+(?:it|this|that|these|those)(?:\s+one)?|of\s+(?:it|this|that|these|those|them)))?"
    r"(?=\s*$|\s*[,;.!?]|\s+(?:so|to|please|pls|for|and|i|please)\b)"
)
_FEW = {"a couple": 2, "a few": 3}


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


def normalise(text: str) -> str:
    """Lower case, straight quotes; the same length as the input so positions stay valid."""
    table = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"}
    out = []
    for ch in text:
        ch = table.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


def phrase_pattern(phrase: str) -> re.Pattern:
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


@cache
def _compiled(key: str) -> re.Pattern:
    return phrase_pattern(key)


def phrase_key(phrase: str) -> str:
    return " ".join(re.split(r"[\s\-]+", str(phrase).lower().strip()))


# word_set's sets by (vocabulary id, paths, missing_ok); each entry keeps the vocabulary it was built
# from, so a dict that gets a freed dict's id can never be given the freed dict's words.
_WORD_SETS: dict[tuple[int, tuple[str, ...], bool], tuple[dict, frozenset[str]]] = {}


def word_set(vocab: dict, *paths: str, missing_ok: bool = False) -> frozenset[str]:
    """phrase_key of every word listed under these vocabulary keys ("conversation.hedges" reaches
    into a section; a mapping's lists are all taken), built once per vocabulary: the planner asks
    for the same few sets on every message. A missing key raises KeyError, or with `missing_ok`
    gives no words."""
    key = (id(vocab), paths, missing_ok)
    cached = _WORD_SETS.get(key)
    if cached is not None and cached[0] is vocab:
        return cached[1]
    words: set[str] = set()
    for path in paths:
        value = vocab
        for part in path.split("."):
            value = value.get(part, {}) if missing_ok else value[part]
        lists = value.values() if isinstance(value, dict) else [value]
        words.update(phrase_key(w) for ws in lists for w in ws)
    found = frozenset(words)
    _WORD_SETS[key] = (vocab, found)
    return found


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
            key = phrase_key(phrase)
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
                    if any(re.search(rf"(?<!\w){re.escape(phrase_key(w))}(?!\w)", key) for w in words):
                        add(key, Effect("time", time))
        ignored_markets = word_set(vocab, "ignored_keywords.marketplace", missing_ok=True)
        for market in catalog.marketplaces.values():
            for kw in market.keywords:
                if phrase_key(kw) not in ignored_markets:
                    add(kw, Effect("market", market.name))
        for market_name, words in vocab.get("marketplace_words", {}).items():
            if market_name in catalog.marketplaces:
                for word in words:
                    add(word, Effect("market", market_name))
        weak = word_set(vocab, "weak_lora_keywords")
        for lora in catalog.loras.values():
            strong = [kw for kw in lora.keywords if phrase_key(kw) not in weak]
            for kw in [*strong, *lora.trigger, lora.name.replace("_", " ")]:
                add(kw, Effect("lora", lora.name))
            for kw in lora.keywords:
                if phrase_key(kw) in weak:
                    for noun in vocab["style_nouns"]:
                        add(f"{kw} {noun}", Effect("lora", lora.name))
        for category, words in vocab["products"].items():
            for word in words:
                add(word, Effect("product", phrase_key(word), category))
        for edit, words in vocab["feedback"].items():
            for word in words:
                table.setdefault(phrase_key(word), [])
                # A feedback phrase means only the edit ("less busy" is not the minimalist LoRA).
                table[phrase_key(word)] = [e for e in table[phrase_key(word)] if e.kind not in ("lora",)]
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
        # Patterns are compiled when a text first has a word they could start with: most of the
        # ~1300 phrases are never needed by a short-lived command (bench/cold_start.py).
        self._buckets: dict[str, list[tuple[str, tuple[Effect, ...]]]] = {}
        for key, effects in table.items():
            if effects:
                run = re.match(r"[a-z0-9]*", key).group() or key[:1]
                self._buckets.setdefault(run[:3], []).append((key, tuple(effects)))
        colours = sorted(vocab["background_colours"], key=len, reverse=True)
        self._colours = colours
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
            rf"(?<!\w)(?:{bg_alt})[\s\-]+(?:(?:to|in|into|is|be|as|colou?r|colou?red|of|a|an|more|plain|was|were"
            rf"|went|turned|became)[\s\-]+)*"
            rf"({colour_alt})(?!\w)"
        )
        # Typo repair: a word unknown to both the model's vocabulary and the phrase table, one edit
        # away from a phrase word ("sunest" -> "sunset", "poool" -> "pool").
        self.phrase_words = frozenset(w for key in table for w in key.split() if len(w) >= 4)
        # Repairs aim only at words that are a phrase on their own ("sunest" -> "sunset"): a word
        # that is only part of one ("late" of "late afternoon") would turn "latte" into "late".
        self.repair_words = frozenset(key for key in table if " " not in key and len(key) >= 4)
        filler = word_set(vocab, "filler")
        self.known = frozenset(known_words) | self.phrase_words | filler
        self._by_length: dict[int, list[str]] = {}
        for w in self.repair_words:
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
        norm = normalise(text)
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

        fixes = []
        for m in re.finditer(r"[a-z]+(?:-[a-z]+)+", norm):
            # "paper-cut", "snow-globe": a hyphenated compound the catalog spells as one word.
            joined = m.group().replace("-", "")
            if joined in self.known:
                fixes.append((m.start(), m.end(), m.group(), joined))
        for m in re.finditer(r"[a-z]+", norm):
            if any(s <= m.start() < e for s, e, _, _ in fixes):
                continue
            fix = self._correct(m.group())
            if fix is not None:
                fixes.append((m.start(), m.end(), m.group(), fix))
        for start, end, word, fix in sorted(fixes):
            keep(start)
            for ch in fix:
                work_parts.append(ch)
                start_map.append(start)
                end_map.append(end)
            corrections.append((word, fix))
            pos = end
        keep(len(norm))
        work = "".join(work_parts)

        candidates: list[Match] = []
        for key, effects in self._candidates(work):
            pattern = _compiled(key)
            for m in pattern.finditer(work):
                exact = phrase_key(m.group()) == key
                candidates.append(Match(m.start(), m.end(), m.group(), effects, exact=exact))
        gradients = self.vocab.get("gradient_colours", {})
        for regex in (self.colour_first, self.colour_after):
            for m in regex.finditer(work):
                said = m.group(1)
                # "navy blue background": the longest colour ending there ("navy blue", not "blue")
                before = work[: m.end(1)]
                said = next((c for c in self._colours if re.search(rf"(?<!\w){re.escape(c)}$", before)), said)
                scene = self.vocab["background_colours"][said]
                if "gradient" in m.group() and said in gradients:
                    scene = gradients[said]
                if scene in self.catalog.scenes:
                    candidates.append(Match(m.start(), m.end(), m.group(), (Effect("scene", scene),)))
        for m in _COUNT.finditer(work):
            n = m.group(1)
            count = int(n) if n.isdigit() else _NUMBERS[n]
            candidates.append(Match(m.start(), m.end(), m.group(), (Effect("count", str(count)),)))
        for m in _MORE_LIKE.finditer(work):
            n = " ".join(m.group(1).split())
            count = int(n) if n.isdigit() else _NUMBERS.get(n) or _FEW[n]
            effects = (Effect("count", str(count)), Effect("edit", "variation"))
            candidates.append(Match(m.start(), m.end(), m.group(), effects))
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
        """ "no flowers", "without the umbrella", "I didn't want a bedroom"."""
        before = [w for w in self.words_before(match.start, 4) if w not in _ARTICLES]
        if before and before[-1] in _NEGATIONS:
            return True
        return len(before) >= 2 and before[-2] in _NEGATIONS and before[-1] in _NEGATED_VERBS

    def work_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `work` that the span start:end of `text` became (typo repairs move words)."""
        inside = [i for i in range(len(self.work)) if self.start_map[i] >= start and self.end_map[i] <= end]
        return (inside[0], inside[-1] + 1) if inside else (start, start)

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
