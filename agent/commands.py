"""Reading a chat message, once per turn: the command it gives (undo, go back, compare, start over,
save, a yes or no to a clarifying question) or, failing those, a request for the planner, with what
it asks. The session routes on the `Message`; the planner consumes the same reading."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sceneshop.agent.planner.lexicon import normalise, phrase_key, phrase_pattern
from sceneshop.agent.planner.prompt import load_vocabulary

Kind = Literal["request", "undo", "go_back", "compare", "start_over", "save", "yes", "no"]
ANY_COLOUR = "a different colour"  # what a colour-less "recolour it" asks for


@dataclass(frozen=True)
class Message:
    """One chat message as read: its kind, and what a command or a request asks."""

    text: str
    kind: Kind = "request"
    version: int | None = None  # go_back: the version asked for
    versions: tuple[int | None, int | None] = (None, None)  # compare: two versions, or the last two
    rest: str = ""  # start_over: what follows it ("start over: marble counter" -> "marble counter")
    name: str = ""  # save: the name given ("" = none)
    # A request to recolour the product ("make it green"): the colour (or ANY_COLOUR) and its span
    # in normalise(text), so the planner claims those words without reading them again.
    colour: tuple[str, int, int] | None = None

    @property
    def product_colour(self) -> str | None:
        """The colour the merchant wants the product in, None when none is named."""
        return self.colour[0] if self.colour and self.colour[0] != ANY_COLOUR else None


def read_message(text: str, *, question_open: bool = False) -> Message:
    """What `text` asks. `question_open`: a clarifying question awaits its answer, so a bare
    "yes" or "no" (or "the background" / "the product") answers it."""
    text = str(text).strip()
    plain = _plain(text)
    if question_open:
        if _YES.fullmatch(plain):
            return Message(text, "yes")
        if _NO.fullmatch(plain):
            return Message(text, "no")
    number = _version_asked(plain)
    if number is not None:
        return Message(text, "go_back", version=number)
    vocab = load_vocabulary()
    if _is_undo(text, vocab):
        return Message(text, "undo")
    pair = _compare_asked(plain)
    if pair is not None:
        return Message(text, "compare", versions=pair)
    rest = _start_over_asked(text)
    if rest is not None:
        return Message(text, "start_over", rest=rest)
    name = _save_asked(text)
    if name is not None:
        return Message(text, "save", name=name)
    return Message(text, colour=find_product_colour(normalise(text), vocab))


# ------------------------------------------------------------------------------------ the rules

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_REF = r"(?:(?:version|v|number|no\.?|#)\s*(\d+)|(\d+)(?:st|nd|rd|th)|(" + "|".join(_ORDINALS) + "))"
_GO_BACK = re.compile(
    r"(?:(?:let'?s|can we|could we|could you|please)\s+)?"
    r"(?:(?:go|get|jump|switch|return|revert|take me|bring me|change)\s+back|back|go|return|revert|switch"
    r"|restore|show(?:\s+me)?|use|pick|take)?\s*(?:to\s+)?(?:the\s+)?"
    + _REF
    + r"(?:\s+(?:one|version|picture|image|recipe|again))?(?:\s+please)?"
)
_COMPARE = re.compile(r"\bcompare\b|\bwhat(?:'s|\s+is|\s+has)?\s+changed\b|\bdiff(?:erence)?s?\s+between\b")
_START_OVER = re.compile(
    r"\b(?:start(?:ing)?\s+(?:over|again|afresh|from\s+scratch)|from\s+scratch|fresh\s+start|begin\s+again)\b"
    r"(?:\s+with\s+the\s+same\s+(?:product|photo|image|picture|item))?"
)
_SAVE = re.compile(
    r"(?:please\s+)?(?:save|remember|keep)\s+(?:this|it|that)(?:\s+(?:look|recipe|one|version))?"
    r"(?:\s+(?:as|under)\s+[\"']?(?P<name>[^\"']+?)[\"']?)?",
    re.I,
)
_YES = re.compile(
    r"(?:yes|yeah|yep|yup|sure|ok|okay|please|correct|right|exactly|do it|go ahead)?"
    r"(?:\s*(?:please|do it|go ahead))?"
    r"(?:\s*(?:i mean\s+|just\s+)?(?:the\s+)?(?:background|backdrop|scene)(?:\s+please)?)?"
)
_NO = re.compile(
    r"(?:no|nope|nah|never mind|cancel|forget it)(?:\s*(?:i mean\s+)?(?:the\s+)?product)?|(?:the\s+)?product"
)


def _plain(text: str) -> str:
    """Lower case, punctuation as spaces, single spaces: "Yes, please!" -> "yes please"."""
    return " ".join(re.sub(r"[^\w\s'#]", " ", text.lower()).split())


def _version_asked(plain: str) -> int | None:
    """ "go back to the second one", "version 2", "back to v3" -> 2, 2, 3; anything else -> None."""
    m = _GO_BACK.fullmatch(plain)
    if not m or not any(m.groups()):
        return None
    digits, nth, word = m.groups()
    return int(digits or nth) if (digits or nth) else _ORDINALS[word]


def _compare_asked(plain: str) -> tuple[int | None, int | None] | None:
    """ "compare the last two" -> (None, None); "compare version 1 and 3" -> (1, 3); else None."""
    if not _COMPARE.search(plain):
        return None
    numbers = [int(n) for n in re.findall(r"\d+", plain)]
    numbers += [_ORDINALS[w] for w in re.findall(r"\b(" + "|".join(_ORDINALS) + r")\b", plain)]
    return (numbers[0], numbers[1]) if len(numbers) >= 2 else (None, None)


def _start_over_asked(text: str) -> str | None:
    """The rest of the message after "start over (with the same product)", or None when not asked."""
    m = _START_OVER.search(text.lower())
    if not m:
        return None
    rest = (text[: m.start()] + " " + text[m.end() :]).strip(" ,.;:!-—")
    rest = re.sub(r"^(?:let'?s|please|ok|okay|and|then)\b[\s,]*", "", rest, flags=re.I).strip(" ,.;:!-—")
    return rest if re.search(r"[a-zA-Z]{3}", rest) else ""


def _save_asked(text: str) -> str | None:
    """ "save this as summer look" -> "summer look"; "save this" -> ""; anything else -> None."""
    m = _SAVE.fullmatch(text.strip(" .!"))
    if not m:
        return None
    return (m.group("name") or "").strip()


def _is_undo(text: str, vocab: dict) -> bool:
    """An undo phrase ("undo", "go back") with nothing around it but the words vocabulary.yaml
    allows ("go back to the beach" is a request, not an undo)."""
    norm = normalise(text)
    for phrase in sorted(vocab["undo"]["phrases"], key=len, reverse=True):
        found = phrase_pattern(phrase_key(phrase)).search(norm)
        if found:
            rest = norm[: found.start()] + " " + norm[found.end() :]
            words = re.findall(r"[\w']+", rest)
            allowed = {phrase_key(w) for w in vocab["undo"]["allowed"]}
            return all(w in allowed for w in words)
    return False


def find_product_colour(work: str, vocab: dict) -> tuple[str, int, int] | None:
    """(colour, start, end) when the words ask to recolour the product ("make it green", "change
    the dress to blue", "green instead of red"), not the background ("make the background green")."""
    colours = sorted(vocab["colours"], key=len, reverse=True)
    c_alt = "|".join(re.escape(c) for c in colours)
    scene_words = {" ".join(str(w).lower().split()) for w in vocab["scene_colour_words"]}
    verbs = "|".join(re.escape(v) for v in vocab["product_colour_verbs"])

    def scene_side(words: str) -> bool:
        tokens = re.findall(r"[\w']+", words)
        return any(t in scene_words or t.rstrip("s") in scene_words for t in tokens)

    def after_ok(end: int) -> bool:
        nxt = re.findall(r"[\w']+", work[end:])[:1]
        return not nxt or not (nxt[0] in scene_words or nxt[0] in ("colored", "coloured", "toned"))

    patterns = [
        rf"(?<!\w)(?:{verbs})(?P<obj>(?:\s+[\w'\-]+){{0,4}}?)\s+(?:to\s+|into\s+|in\s+)?(?P<c>{c_alt})(?!\w)",
        rf"(?<!\w)(?P<c>{c_alt})\s+instead(?:\s+of\s+(?:the\s+)?(?:{c_alt}))?(?!\w)(?P<obj>)",
        rf"(?<!\w)(?P<obj>it|this|them|one|same\s+[\w'\-]+|the\s+[\w'\-]+|my\s+[\w'\-]+)\s+in\s+(?P<c>{c_alt})(?!\w)",
        rf"(?<!\w)(?P<c>{c_alt})\s+(?:colou?rway|variant|edition)(?!\w)(?P<obj>)",
        r"(?<!\w)(?P<c>different\s+colou?r|another\s+colou?r)(?!\w)(?P<obj>)",
        r"(?<!\w)(?P<c>recolou?r|change\s+the\s+colou?r\s+of)(?P<obj>(?:\s+[\w'\-]+){1,3})\s*$",
    ]
    for pattern in patterns:
        for m in re.finditer(pattern, work):
            obj = m.group("obj") or ""
            clause_start = max([work.rfind(ch, 0, m.start()) for ch in ",.;!?"] + [-1]) + 1
            if scene_side(obj) or not after_ok(m.end()):
                continue
            if scene_side(work[clause_start : m.start()]) and "instead" not in m.group():
                continue
            colour = m.group("c")
            if colour.startswith(("different", "another", "recolo", "change")):
                colour = ANY_COLOUR
            return colour, m.start(), m.end()
    return None
