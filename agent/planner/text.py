"""The embedded planner's reading of text-layer requests ("magazine cover with the title STAY
HYDRATED, subtitle summer essentials", "change the title to …", "move the title down", "no text",
"add a -20% badge", "price tag €24.90") into recipe.text. The phrases are cut out of the request
before the rest of the planner reads it, so the strings never become scene words or prompt text.
Words: prompts/text.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sceneshop.agent.looks import PLACES, TextLayer
from sceneshop.agent.planner.lexicon import normalise
from sceneshop.tools.catalog import default_folder, read_mapping

TEXT_FILE = "text.yaml"
LIMITS = {name: TextLayer.model_fields[name].metadata[0].max_length
          for name in ("title", "subtitle", "badge", "price")}
LINE_LIMIT = 60
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}
_AMOUNT = (r"(?:[€$£¥]\s?\d{1,6}(?:[.,]\d{1,2})?|\d{1,6}(?:[.,]\d{1,2})?\s?"
           r"(?:€|\$|£|eur|euros?|usd|dollars?|gbp|pounds?)(?!\w))")
_PERCENT = r"(?:[-−–]\s?\d{1,2}\s?%|\d{1,2}\s?%\s?off)"


@dataclass
class TextEdit:
    """What a request asks of the text layer; empty when it asks nothing."""

    layout: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # title/subtitle/headline/badge/price -> value
    lines: list[str] | None = None
    move: int = 0  # +1 = down a place, -1 = up
    place: str | None = None
    clear: bool = False
    cut: list[str] = field(default_factory=list)  # fields whose value was shortened to fit

    def __bool__(self) -> bool:
        return bool(self.layout or self.fields or self.lines is not None or self.move or self.place
                    or self.clear)


@lru_cache(maxsize=4)
def load_text_words(folder: str | Path | None = None) -> dict:
    path = Path(folder or default_folder()) / TEXT_FILE
    return read_mapping(path if path.exists() else default_folder() / TEXT_FILE)


def _alt(words) -> str:
    """A regex alternation of phrases, longest first, spaces and hyphens alike."""
    parts = sorted({str(w).lower() for w in words}, key=len, reverse=True)
    return "|".join(r"[\s\-]+".join(re.escape(t) for t in re.split(r"[\s\-]+", p)) for p in parts)


@lru_cache(maxsize=4)
def _patterns(folder: str | None = None) -> dict[str, re.Pattern]:
    w = load_text_words(folder)
    fields = {name: _alt(words) for name, words in w["fields"].items()}
    any_field = _alt([x for words in w["fields"].values() for x in words])
    remove, nouns, places = _alt(w["remove"]), _alt(w["text_nouns"]), _places(w)
    targets, moves = _alt(w["move_targets"]), w["move"]

    def by(pattern: str) -> re.Pattern:
        return re.compile(pattern, re.IGNORECASE)

    return {
        "clear": by(rf"(?<![\w'])(?:{remove})\s+(?:the\s+|all\s+|any\s+)?(?:{nouns})(?![\w'])"
                    rf"|(?<![\w'])(?:{nouns})\s+off(?![\w'])"),
        "remove": by(rf"(?<![\w'])(?:{remove})\s+(?:the\s+|a\s+|any\s+)?(?P<f>{any_field})(?![\w'])"),
        "move": by(rf"(?<![\w'])(?:{_alt(w['move_verbs'])})\s+(?:the\s+)?(?:{targets})\s+"
                   rf"(?:a\s+bit\s+|a\s+little\s+|slightly\s+)?(?:(?P<down>{_alt(moves['down'])})|"
                   rf"(?P<up>{_alt(moves['up'])})|(?:to|at|on|in)\s+(?P<place>{places}))(?![\w'])"),
        "place": by(rf"(?<![\w'])(?:the\s+)?(?:{targets})\s+(?:at|to|on|in)\s+(?P<place>{places})(?![\w'])"),
        "change": by(rf"(?<![\w'])(?:{_alt(w['change'])})\s+(?:the\s+)?(?P<f>{any_field})\s+(?:text\s+)?"
                     r"(?:to|into|with|as|:)\s*"),
        "percent_badge": by(rf"(?<![\w'])(?:add\s+)?(?:a\s+|an\s+|the\s+)?(?P<v>{_PERCENT})\s+"
                            rf"(?:{fields['badge']})(?![\w'])"),
        "price": by(rf"(?<![\w'])(?:(?:add\s+)?(?:a\s+|the\s+)?(?:{fields['price']})\s*(?:of\s+|at\s+|:\s*)?"
                    rf"(?P<v>{_AMOUNT})|(?:add\s+)?(?:a\s+)?(?P<v2>{_AMOUNT})\s+(?:{fields['price']}))"),
        "named_badge": by(rf"(?<![\w'])(?:add\s+)?(?:a\s+|an\s+|the\s+)?(?P<b>{_alt(_badge_words(w))})"
                          r"(?![\w'])"),
        "set": by(rf"(?<![\w'])(?:(?:with|and|plus|add)\s+)?(?:a\s+|an\s+|the\s+)?(?P<f>{any_field})"
                  rf"(?:\s+(?:{_alt(w['value_leads'])}))?\s*(?=\S)"),
        "cover": by(rf"(?<![\w'])(?:{_alt(w['layouts']['cover'])})(?![\w'])"),
        "banner": by(rf"(?<![\w'])(?:{_alt(w['layouts']['banner'])})(?![\w'])"),
        "plain_banner": by(rf"(?<![\w'])(?:{_alt(w['plain_banner'])})(?![\w'])"),
        "claimed": by(rf"(?<![\w'])(?:{_alt(w['layout_claimed'])})(?![\w'])"),
    }


def _places(w: dict) -> str:
    return _alt([p for words in w["places"].values() for p in words])


def _badge_words(w: dict) -> list[str]:
    return [p for words in w["badge_words"].values() for p in words]


def _field_of(word: str, w: dict) -> str:
    key = " ".join(re.split(r"[\s\-]+", word.lower().strip()))
    for name, words in w["fields"].items():
        if key in (" ".join(re.split(r"[\s\-]+", str(x).lower())) for x in words):
            return name
    return "title"


def _place_of(word: str, w: dict) -> str:
    key = " ".join(word.lower().split())
    return next(p for p, words in w["places"].items() if key in (str(x).lower() for x in words))


def read_text(request: str, folder: str | None = None) -> tuple[str, TextEdit]:
    """(the request without its text-layer phrases, what they ask of the text layer)."""
    w = load_text_words(folder)
    pats = _patterns(folder)
    low = normalise(request)
    taken = [False] * len(request)
    edit = TextEdit()

    def free(start: int, end: int) -> bool:
        return not any(taken[start:end])

    def take(start: int, end: int) -> None:
        taken[start:end] = [True] * (end - start)

    for m in pats["clear"].finditer(low):
        if free(*m.span()):
            edit.clear = True
            take(*m.span())
    for m in pats["remove"].finditer(low):
        if free(*m.span()):
            name = _field_of(m.group("f"), w)
            if name == "lines":
                edit.lines = []
            else:
                edit.fields[name] = ""
            take(*m.span())
    for m in pats["move"].finditer(low):
        if free(*m.span()):
            if m.group("place"):
                edit.place = _place_of(m.group("place"), w)
            else:
                edit.move += 1 if m.group("down") else -1
            take(*m.span())
    for m in pats["place"].finditer(low):
        if free(*m.span()):
            edit.place = _place_of(m.group("place"), w)
            take(*m.span())
    for m in pats["percent_badge"].finditer(low):
        if free(*m.span()):
            edit.fields["badge"] = _percent(request[m.start("v"):m.end("v")])
            take(*m.span())
    for m in pats["price"].finditer(low):
        if free(*m.span()):
            group = "v" if m.group("v") else "v2"
            edit.fields["price"] = " ".join(request[m.start(group):m.end(group)].split())
            take(*m.span())
    for m in pats["named_badge"].finditer(low):
        if free(*m.span()):
            phrase = " ".join(m.group("b").split())
            edit.fields["badge"] = next(v for v, words in w["badge_words"].items()
                                        if phrase in (str(x).lower() for x in words))
            take(*m.span())
    for kind in ("change", "set"):
        for m in pats[kind].finditer(low):
            if not free(*m.span()):
                continue
            name = _field_of(m.group("f"), w)
            if name == "lines":
                lines, end = _lines(request, m.end())
                if lines:
                    edit.lines = lines
                    take(m.start(), end)
                continue
            value, end = _value(request, m.end(), name, w)
            if name == "price" and not re.fullmatch(_AMOUNT, value, re.IGNORECASE):
                continue  # "a price tag next to it" is a prop, not a price
            if name == "badge":
                value = _percent(value) if re.fullmatch(_PERCENT, value.lower()) else value
            if value and free(m.start(), end):
                if len(value) > LIMITS["subtitle" if name == "headline" else name]:
                    edit.cut.append(name)
                    value = _shorten(value, LIMITS["subtitle" if name == "headline" else name])
                edit.fields[name] = value
                take(m.start(), end)
    if "title" not in edit.fields:
        _literal_words(request, low, w, edit, free, take)
    if pats["cover"].search(low):
        edit.layout = "cover"  # the words stay: they also pick the magazine_cover scene
    if edit.layout is None and (edit.fields or edit.lines) and pats["plain_banner"].search(low):
        edit.layout = "banner"  # "a banner with the title SUMMER": words to set on it
    for m in pats["banner"].finditer(low):
        if edit.layout is None:
            edit.layout = "banner"
        for c in pats["claimed"].finditer(low, m.start(), m.end()):
            take(*c.span())  # "sale" of "sale banner" would be painted as letters by a diffusion model
    rest = "".join(ch if not t else ("," if i and not taken[i - 1] else " ")
                   for i, (ch, t) in enumerate(zip(request, taken, strict=True)))
    return " ".join(rest.split()), edit


# Words the merchant wants written, said without naming a field: a text noun ("the words", "lettering")
# and a literal string -- quoted, or a run of capitals -- in the same message. Capitals and quotes are
# how English marks words to be copied as they are.
_TEXT_NOUN = re.compile(r"(?<![\w'])(?:(?:put|write|add|print|stick|with|and)\s+)?(?:the\s+|some\s+|a\s+)?"
                        r"(?:words?|text|lettering|letters|caption|slogan|writing|wording)"
                        r"(?:\s+(?:saying|that\s+says|which\s+says|reading|that\s+reads|of))?(?![\w'])"
                        # "write 'SALE 20% OFF' across the top": the verb alone, right before the words
                        r"|(?<![\w'])(?:write|print|spell\s+out)(?=\s+[\"“'‘]?[A-Z0-9])", re.I)
# "in big letters", "in a nice font", "in a bold serif font": how the words look, not scene words
_SIZE_OF_TYPE = re.compile(r"(?<![\w'])in\s+(?:an?\s+)?(?:[a-z]+\s+){0,2}"
                           r"(?:letters|type|font|caps|capitals|lettering|typeface)(?![\w'])", re.I)
# Words between the text noun and the words ("text at the top saying SPRING SALE"): taken with them.
_LEAD = re.compile(r"(?<![\w'])(?:saying|that\s+says|which\s+says|reading|that\s+reads)\s*[:\-]?\s*$", re.I)
_CAPS_RUN = re.compile(r"(?<![\w'])[A-Z][A-Z0-9&'’!%.\-]+(?:[ \t]+[A-Z0-9][A-Z0-9&'’!%.\-]*){0,5}(?![\w'])")
# Double quotes, or single ones that are no apostrophes ("write 'SALE 20% OFF'", not "it's the shop's")
_QUOTED = re.compile(r"[\"“]([^\"”]{2,40})[\"”]|(?<![\w'])[‘']([^'’\n]{2,40}?)['’](?![\w'])")
_AT_PLACE = re.compile(
    r"(?<![\w'])(?:at|on|across|along)\s+the\s+(?P<p>top|bottom|middle|centre|center)(?![\w'])", re.I)


def _literal_words(request: str, low: str, w: dict, edit: TextEdit, free, take) -> None:
    """ "put the words NOIR EDITION in big letters at the top": the title, where it goes, and the words
    that said so, all taken out of the request."""
    # A noun the place took ("text at the top saying …") still says words are wanted; one that "no
    # text" took does not.
    nouns = [m for m in _TEXT_NOUN.finditer(request) if free(*m.span()) or (edit.place and not edit.clear)]
    if not nouns:
        return
    found = next((m for m in _QUOTED.finditer(request) if free(*m.span())), None)
    value = (found.group(1) or found.group(2)).strip() if found else None
    if found is None:
        found = next((m for m in _CAPS_RUN.finditer(request) if free(*m.span())
                      and sum(c.isalpha() for c in m.group()) >= 2), None)
        value = found.group().rstrip(".!") if found else None
    if not value:
        return
    edit.fields["title"] = _shorten(value, LIMITS["title"]) if len(value) > LIMITS["title"] else value
    take(*found.span())
    lead = _LEAD.search(request, 0, found.start())
    if lead:
        take(*lead.span())
    for m in _SIZE_OF_TYPE.finditer(request):
        if free(*m.span()):
            take(*m.span())
    for m in nouns:
        if free(*m.span()):
            take(*m.span())
    place = _AT_PLACE.search(request)
    if place and free(*place.span()):
        word = place.group("p").lower()
        edit.place = {"centre": "middle", "center": "middle"}.get(word, word)
        take(*place.span())


def _percent(value: str) -> str:
    """"20% off", "- 20 %" -> "-20%"."""
    digits = re.search(r"\d{1,2}", value).group()
    return f"-{digits}%"


def _shorten(value: str, limit: int) -> str:
    cut = value[:limit]
    return cut[: cut.rfind(" ")] if " " in cut and len(value) > limit else cut


def _value(request: str, start: int, name: str, w: dict) -> tuple[str, int]:
    """The string a field is given, as written: a quoted string; else a run of capitals ("STAY
    HYDRATED on a beach" -> "STAY HYDRATED"); else the words up to the end of the clause or the
    next field ("… and a subtitle …")."""
    i = start
    while i < len(request) and request[i].isspace():
        i += 1
    if i >= len(request):
        return "", start
    close = _QUOTES.get(request[i])
    if close:
        j = request.find(close, i + 1)
        if j > i:
            return request[i + 1:j].strip(), j + 1
    caps = re.match(r"[A-Z0-9][A-Z0-9&'’!%€$£.\-]*(?:[ \t]+[A-Z0-9][A-Z0-9&'’!%€$£.\-]*)*", request[i:])
    if caps and (len(caps.group()) > 1 and any(c.isalpha() for c in caps.group())):
        return caps.group().rstrip(".!"), i + caps.end()
    fields = _alt([x for words in w["fields"].values() for x in words])
    stop = re.compile(rf"[,;.!?\n]|\s+(?:and|with|plus)\s+(?:a\s+|an\s+|the\s+)?(?:{fields})(?![\w'])",
                      re.IGNORECASE)
    found = stop.search(request, i)
    end = found.start() if found else len(request)
    return request[i:end].strip(), end


def _lines(request: str, start: int) -> tuple[list[str], int]:
    """Cover lines: the rest of the sentence, split at commas, semicolons or slashes (at most 4)."""
    found = re.compile(r"[.!?\n]").search(request, start)
    end = found.start() if found else len(request)
    parts = [" ".join(p.split()).strip(" :'\"“”") for p in re.split(r"[,;/|]", request[start:end])]
    return [p[:LINE_LIMIT] for p in parts if p][:4], end


def _portrait(recipe, notes: list[str]) -> None:
    """A cover is upright: 4:5 with the canvas's longer side (sides multiples of 8)."""
    long = max(recipe.width, recipe.height)
    width = max(256, round(long * 0.8 / 8) * 8)
    if (recipe.width, recipe.height) != (width, long):
        recipe.width, recipe.height = width, long
        notes.append(f"canvas {width}x{long}: a cover is upright (4:5)")


def apply_text(recipe, edit: TextEdit, notes: list[str]) -> None:
    """Applies a TextEdit to recipe.text, with a note saying what changed (and that the words are
    drawn over the picture, not asked of the image model)."""
    if not edit:
        return
    text = TextLayer() if edit.clear else recipe.text.model_copy(deep=True)
    if edit.clear and not edit.fields and edit.lines is None and edit.layout is None:
        recipe.text = text
        notes.append("text removed")
        return
    if edit.layout:
        if edit.layout == "cover" and text.layout != "cover" and recipe.output.preset is None:
            _portrait(recipe, notes)
        text.layout = edit.layout
    for name, value in edit.fields.items():
        if name == "headline":
            name = "title" if text.layout == "banner" else "subtitle"
        setattr(text, name, value)
    if edit.lines is not None:
        text.lines = edit.lines
    if text.layout == "none" and (text.title or text.subtitle or text.lines):
        text.layout = "cover"  # a title needs a layout to sit in; a cover is the general one
    if edit.place:
        text.place = edit.place
    if edit.move:
        if text.empty:
            notes.append("there is no text to move yet; say e.g. 'title SUMMER SALE'")
        else:
            i = min(len(PLACES) - 1, max(0, PLACES.index(text.place) + edit.move))
            if PLACES[i] == text.place:
                notes.append(f"the title is already at the {text.place}")
            text.place = PLACES[i]
    recipe.text = text
    said = [f"{n} '{getattr(text, n)}'" for n in ("title", "subtitle", "badge", "price") if getattr(text, n)]
    if text.lines:
        said.append(f"{len(text.lines)} cover line{'s' if len(text.lines) > 1 else ''}")
    at = {"top": "at the top", "middle": "in the middle", "bottom": "at the bottom"}[text.place]
    where = f", title {at}" if text.title and text.layout != "none" else ""
    layout = f"{text.layout} " if text.layout != "none" else ""
    summary = ", ".join(said) if said else "no words yet (say e.g. 'title SUMMER SALE')"
    notes.append(f"text: {layout}{summary}{where} (drawn over the picture, not sent to the image model)")
    for name in edit.cut:
        notes.append(f"the {name} was shortened to fit {LIMITS.get(name, LIMITS['subtitle'])} characters")
