"""Reading a chat message, once per turn: what kind of message it is -- a command (undo, go back,
compare, start over, save, name a look, a yes or no to a clarifying question), a question or greeting,
a complaint about the cut-out, something no engine can do, or a request for the planner -- and what it
asks. The session routes on the `Message`; the planner reads `Message.words`, the request without the
chat around it. The rules are here; the words they use are data (prompts/vocabulary.yaml)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

from sceneshop.agent.planner.lexicon import normalise, phrase_key, phrase_pattern
from sceneshop.agent.planner.prompt import load_vocabulary
from sceneshop.tools.catalog import load_catalog

Kind = Literal[
    "request",  # a picture asked for, with no picture yet
    "feedback",  # a change to the current picture
    "question",  # a question, greeting or thank-you: answered in words
    "cutout",  # a complaint about the cut-out: the cut-out step
    "cannot",  # asks for something no engine does (a person, text, moving the shadow); maybe more
    "undo",
    "go_back",  # an earlier picture, by position, attribute, time or name (see Reference)
    "compare",
    "start_over",
    "save",  # save the current look (with a name, or one made from the recipe)
    "name",  # name (or rename) the current look
    "yes",
    "no",
]
ANY_COLOUR = "a different colour"  # what a colour-less "recolour it" asks for
EVER = 100_000  # days: "last time" looks back without limit


@dataclass(frozen=True)
class Reference:
    """Which earlier picture a message means."""

    number: int | None = None  # "version 3", "the first one"
    ago: int | None = None  # "two versions ago": counted back from the current version
    same: bool = False  # "same look", "like before": the latest one
    days: tuple[int, int] | None = None  # "yesterday" = (1, 1): whole days back from today
    words: str = ""  # "the warm one" -> "warm", "the one on the beach" -> "beach"
    saved: bool = False  # "my sunset look": a saved look rather than a version of this chat

    def __bool__(self) -> bool:
        return bool(self.number or self.ago or self.same or self.days or self.words)


@dataclass(frozen=True)
class Message:
    """One chat message as read: its kind, and what a command or a request asks."""

    text: str
    kind: Kind = "request"
    words: str = ""  # what the planner reads: the request without greetings, hedges and commands
    reference: Reference = field(default_factory=Reference)  # go_back (and "same look" requests)
    versions: tuple[int | None, int | None] = (None, None)  # compare: two versions, or the last two
    name: str = ""  # save / name: the name given ("" = none)
    keep: tuple[str, ...] = ()  # start_over: what to keep ("size", "style", "scene", "light")
    cannot: tuple[str, ...] = ()  # what no engine can do here: "person", "text", "shadow"
    # The clauses that put the product on a person or a person beside it, as typed: left out of what
    # is planned where the engine cannot draw people (so "on a model ear" sets no model mode)
    on_person: tuple[str, ...] = ()
    about: str = ""  # question: what the merchant said of themselves beside it ("i sell sunglasses")
    topic: str = ""  # question: "greeting", "thanks", "size", "light", "shadow", "saved", ...
    # A request to recolour the product ("make it green"): the colour (or ANY_COLOUR) and its span
    # in normalise(words), so the planner claims those words without reading them again.
    colour: tuple[str, int, int] | None = None

    @property
    def version(self) -> int | None:
        return self.reference.number

    @property
    def product_colour(self) -> str | None:
        """The colour the merchant wants the product in, None when none is named."""
        return self.colour[0] if self.colour and self.colour[0] != ANY_COLOUR else None


def read_message(text: str, *, question_open: bool = False, has_picture: bool = False) -> Message:
    """What `text` asks. `question_open`: a clarifying question awaits its answer, so a bare "yes"
    or "no" (or "the background" / "the product") answers it. `has_picture`: there is a current
    picture, so a request is feedback on it."""
    words = _Words.get()
    text = _chat_spelling(str(text).strip(), words)
    plain = _plain(text)
    if question_open:
        if _YES.fullmatch(plain):
            return Message(text, "yes")
        if _NO.fullmatch(plain):
            return Message(text, "no")
    if not has_picture and _TIME_GREETING.fullmatch(text):
        return Message(text, "question", topic="greeting")  # "morning! 🙂": a hello, not a sunrise
    chat = [c for c in _clauses(text) if not words.only(c, words.chatter)]
    greeted = len(chat) > 1 and _TIME_GREETING.fullmatch(chat[0]) and not _PICTURE_TIME.match(text)
    if not has_picture and greeted:
        chat = chat[1:]  # "evening! second go at this": a hello first, then the message
    # "hiii 👋 is this where i make the photos": a hello run into the question it opens (an emoji, or
    # nothing, between them) is still a hello before a question
    chat = [_without_greeting(c, words) for c in chat]
    core = ", ".join(chat) if chat != _clauses(text) else text
    if not chat:  # "hi", "thanks, that's perfect now", "ok cool"
        thanked = any(words.has(c, words.thanks) for c in _clauses(text))
        return Message(text, "question", topic="thanks" if thanked else "greeting")
    pair = _compare_asked(plain)
    if pair is not None:
        return Message(text, "compare", versions=pair)
    started = _start_over(core, words)
    if started is not None:
        rest, keep = started
        return Message(text, "start_over", words=rest, keep=keep)
    saved = _save_asked(core, words)
    if saved is not None:
        kind, name = saved
        return Message(text, kind, name=name)
    # "i sell watches on etsy", "i cant see much difference lol": context for a question beside it
    context = [c for c in chat if not words.about_me.match(_plain(c)) and not words.unseen.search(_plain(c))
               and not words.asides.match(_plain(c)) and not words.others_say.match(_plain(c))]
    asked = [_is_question(clause, words) for clause in context]
    if any(asked) and all(q or _visit(clause, words) for q, clause in zip(asked, context, strict=True)):
        # "why so bright, tone it down" asks for a change; "first time using this, how does it work?"
        # asks only: the other clause says how the merchant came
        about = ", ".join(c for c in chat if words.about_me.match(_plain(c)))
        return Message(text, "question", topic=_topic(plain, words), about=about)
    topic = _topic(plain, words)
    if "?" in text and topic in _NOT_PICTURE_TOPICS and (topic in _NEVER_DRAWN_TOPICS or not any(
            words.openers.match(_JOINED.sub("", words.hedges.sub(" ", _plain(c)).strip())) for c in chat)):
        # "and my pictures stay private?", "it won't cost me anything?": asked without a question
        # word, about something no picture shows
        return Message(text, "question", topic=_topic(plain, words))
    if _is_cutout(core, words):
        return Message(text, "cutout")
    again = _style_again(core, words) if has_picture else None
    if again is not None:  # "keep the film look from before tho": that style on this picture
        return Message(text, "feedback", words=again)
    # "add oats, my customers love the farm look": what others think is a reason, not a look to go back to
    mine = [c for c in chat if not words.others_say.match(_plain(c))]
    found = _reference(", ".join(mine), words, has_picture) if mine else None
    if found is not None and found[0].words and find_product_colour(normalise(core), words.vocab):
        found = None  # "how would the mug look in green?": the product in a colour, not "the mug look"
    if found is not None:
        reference, rest = found
        return Message(text, "go_back", words=rest, reference=reference)
    undone = _undo_asked(core, words)
    if undone is not None:  # "undo it, and it's too dark so brighter": undo, then the change
        return Message(text, "undo", words=undone)
    kind = "feedback" if has_picture else "request"
    cannot, kept, on_person = [], [], []
    last = None
    for clause in chat:
        why = _cannot(clause, words)
        if why is None and last in ("person", "person_in_scene") and words.person_aside.match(_plain(clause)):
            on_person.append(clause)
            continue  # "... wearing it? like a hiker", "in a woman's hand, pouring a glass": the same person
        if why:
            cannot.append(why)
            if why in ("person", "person_in_scene"):
                on_person.append(clause)
        else:
            kept.append(clause)
        last = why
    if cannot:
        rest = ", ".join(kept)
        colour = find_product_colour(normalise(rest), words.vocab) if rest else None
        return Message(text, "cannot", words=rest, cannot=tuple(dict.fromkeys(cannot)), colour=colour,
                       on_person=tuple(on_person))
    return Message(text, kind, words=core, colour=find_product_colour(normalise(core), words.vocab))


def request_message(words: str, *, has_picture: bool = False) -> Message:
    """A request made of words the session already read (the rest of "start over: a garden", the
    background a "yes" agreed to): asked of the planner as they are, with no command in them."""
    words = _chat_spelling(str(words).strip(), _Words.get())
    colour = find_product_colour(normalise(words), _Words.get().vocab) if words else None
    return Message(words, "feedback" if has_picture else "request", words=words, colour=colour)


# ------------------------------------------------------------------------------ the word lists


class _Words:
    """The vocabulary's chat words, compiled once."""

    def __init__(self, vocab: dict):
        self.vocab = vocab
        conv, refs = vocab["conversation"], vocab["references"]
        self.conv, self.refs = conv, refs
        self.thanks = _alternation(conv["thanks"])
        self.chatter = _alternation([*conv["greetings"], *conv["acknowledgements"], *conv["thanks"],
                                     *conv["hedges"]])
        self.style_nouns = {phrase_key(w) for w in vocab["style_nouns"]}
        # Every word of a style's catalog keywords ("film", "watercolour", "pixel"): what a style is called
        self.style_words = {w for lora in load_catalog().loras.values() for k in lora.keywords
                            for w in phrase_key(k).split()}
        self.greeting_lead = re.compile(r"^(?:" + _alternation(conv["greetings"]).pattern + r")\s+")
        self.filler = {phrase_key(w) for w in [*vocab["filler"], *vocab["prepositions"]]}
        self.glue = {phrase_key(w) for w in conv["glue"]}
        self.question_words = {phrase_key(w) for w in conv["question_words"]}
        self.question_aux = {phrase_key(w) for w in conv["question_aux"]}
        self.question_subjects = {phrase_key(w) for w in conv["question_subjects"]}
        leads = _alternation(conv["question_leads"]).pattern
        self.question_leads = re.compile(r"^(?:(?:" + leads + r")\s+)+")
        self.openers = _alternation(conv["request_openers"])
        self.info_verbs = _alternation([*conv["info_verbs"], *conv["service_verbs"]])
        self.use_verbs = {phrase_key(w) for w in conv["use_verbs"]}
        self.visit = {phrase_key(w) for w in conv["visit_words"]}
        self.asking = _alternation(conv["request_verbs"])
        self.about_me = _alternation(conv["about_me"])
        self.presenting = _alternation(conv["presenting"])
        self.asides = _alternation(conv["question_asides"])
        self.greeting_lead = re.compile(r"^(?:(?:" + _alternation(conv["greetings"]).pattern + r")\s+)+")
        self.tell_verbs = _alternation(conv["info_verbs"])
        self.thanks_lead = re.compile(r"^(?:(?:" + _alternation(conv["thanks"]).pattern + r")[\s,!.]+)+",
                                      re.I)
        self.polite_end = re.compile(r"(?:[\s,]+" + _alternation(conv["polite_ends"]).pattern + r")+\s*$")
        self.name_purpose = re.compile(r"[\s,]+" + _alternation(conv["name_purposes"]).pattern + r".*$", re.I)
        self.unseen = _alternation(conv["unseen_change"])
        self.others_say = re.compile(r"^(?:and\s+|but\s+|cause\s+|because\s+|since\s+)?"
                                     + _alternation(conv["others_say"]).pattern + r"\s+\w")
        self.suggesting = {phrase_key(w) for w in conv["suggesting"]}
        self.hedges = _alternation(conv["hedges"])
        cut = conv["cutout"]
        self.cut_parts, self.cut_faults = _alternation(cut["parts"]), _alternation(cut["faults"])
        self.cut_lost, self.cut_kept = _alternation(cut["lost"]), _alternation(cut["kept"])
        self.cut_names, self.cut_damage = _alternation(cut["names"]), _alternation(cut["damage"])
        self.cut_liked = _alternation(cut["liked"])
        self.praise = {phrase_key(w) for w in vocab["clauses"]["praise"]}
        # Things of the scene, not of the product's outline: "the edge of the table".
        self.scene_things = {phrase_key(w) for w in [*vocab["scene_colour_words"], *vocab["surface_nouns"],
                                                     "frame", "picture", "photo", "image", "shot"]}
        # The head nouns of places and surfaces: "a kids bedroom" is a kind of bedroom, not a kid.
        places = [*vocab["scene_colour_words"], *vocab["surface_nouns"],
                  *(k for scene in load_catalog().scenes.values() for k in scene.keywords)]
        said_of_anything = {phrase_key(w) for w in [
            *vocab["colours"], *vocab["filler"], *vocab["prepositions"],
            *(t for ts in vocab["time_words"].values() for t in ts)]}
        self.places = {w for w in (phrase_key(p).split()[-1] for p in places if phrase_key(p))
                       if w.isalpha() and not w.endswith("ing") and w not in said_of_anything}
        cannot = conv["cannot"]
        self.wear, self.people = _alternation(cannot["wear"]), _alternation(cannot["people"], possessive=True)
        self.body = _alternation(cannot["body"])
        self.on_person = re.compile(r"\b(?:on|by|onto)\s+(?:a|an|the|my|some)?\s*(?:(?:"
                                    + _alternation(cannot["person_qualities"]).pattern + r")\s+){0,2}$")
        self.wearers = _alternation(cannot["wearers"])
        placers = _alternation(cannot["placers"]).pattern
        qualities = _alternation(cannot["person_qualities"]).pattern
        self.placed = re.compile(rf"\b(?:{placers})\s+(?:a|an|the|my)\s+(?:(?:{qualities})\s+){{0,2}}$")
        self.after_person = {phrase_key(w) for w in [*vocab["prepositions"], "who", "that", "and"]} - {"of"}
        self.person_aside = _alternation([*cannot["person_asides"], *cannot["person_actions"]])
        # "in a womans hand", "on the girls wrist": a person's word before a body part, its apostrophe left
        # out ("kids hand cream" is a product)
        owners = [*cannot["people"], *(f"{w}s" for w in cannot["people"])]
        self.owners = re.compile(r"\b(?:in|on|onto|around|over|by)\s+(?:a|an|the|my|her|his|their|your)?\s*"
                                 + _alternation(owners, possessive=True).pattern + r"\s+$")
        self.text_words = _alternation(cannot["text"])
        self.shadow = _alternation(cannot["shadow"])
        self.shadow_faults = _alternation(cannot["shadow_faults"])
        self.negations = {phrase_key(w) for w in conv["negations"]}
        self.statement_verbs = {phrase_key(w) for w in conv["statement_verbs"]}
        self.back_words = _alternation(refs["back_words"])
        self.back_set = {w for phrase in refs["back_words"] for w in phrase_key(phrase).split()}
        self.one_words = {phrase_key(w) for w in refs["one_words"]}
        self.same = _alternation(refs["same_phrases"])
        self.times = {phrase_key(k): tuple(v) for k, v in refs["times"].items()}
        self.weeks = {phrase_key(k): int(v) for k, v in refs["calendar_weeks"].items()}
        self.time_re = _alternation(list(refs["times"]), possessive=True)
        self.undo_phrases = sorted((phrase_key(p) for p in vocab["undo"]["phrases"]), key=len, reverse=True)
        self.undo_allowed = {phrase_key(w) for w in vocab["undo"]["allowed"]}
        self.feedback = _alternation([w for ws in vocab["feedback"].values() for w in ws])
        self.start_over = _alternation(vocab["start_over"])
        self.keep = {field_: {phrase_key(w) for w in ws} for field_, ws in vocab["keep"].items()}
        self.shorthand = {phrase_key(k): str(v) for k, v in conv["shorthand"].items()}
        pause = _alternation([*vocab["prepositions"], *conv["pause_like_after"]]).pattern
        self.pause_like = re.compile(rf"({pause})\s+like\s+(?=(?:a|an|the|some|few|\d+|two|three)\b)", re.I)
        self.shorthand_re = re.compile(r"(?<![\w/])(?:" + "|".join(
            re.escape(k) for k in sorted(self.shorthand, key=len, reverse=True)) + r")(?![\w/])", re.I)
        # Every word the vocabulary holds: a held letter is said twice where that makes one ("cooool").
        self.known = {t for s in _strings(vocab) for t in re.findall(r"[a-z']+", s.lower())}

    @staticmethod
    @lru_cache(maxsize=1)
    def get() -> _Words:
        return _Words(load_vocabulary())

    def has(self, text: str, pattern: re.Pattern) -> bool:
        return pattern.search(_plain(text)) is not None

    def only(self, text: str, pattern: re.Pattern) -> bool:
        """True when `text` holds nothing but phrases of `pattern` (and small glue words)."""
        rest = pattern.sub(" ", _plain(text))
        return all(w in self.glue for w in rest.split())

    def content(self, text: str) -> list[str]:
        """The words of `text` that could describe a picture: no filler, hedges, reference words,
        statement verbs or judgements."""
        rest = self.hedges.sub(" ", _plain(text))
        ignored = self.filler | self.back_set | self.one_words | self.statement_verbs | _JUDGEMENTS
        return [w for w in rest.split() if w not in ignored and not w.isdigit()]


_JUDGEMENTS = {"better", "nicer", "best", "worse", "good", "great", "prettier", "favourite", "favorite",
               "right", "wrong", "fine", "ok", "okay", "much", "way", "actually", "really", "that",
               "thing", "there", "again", "instead", "please", "saved", "made", "did", "other", "redo",
               "repeat", "reuse", "setup", "usual"}
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
            "nine": 9, "ten": 10, "a couple": 2, "couple": 2}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
             "6th": 6, "7th": 7, "8th": 8, "9th": 9, "10th": 10}


def _strings(value) -> list[str]:
    """Every string in a vocabulary section, however deep."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


# Pictographs and what joins or tints them: a feeling said, never a word of the picture.
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F\u200D]+")
_HELD = re.compile(r"([a-z])\1{2,}", re.I)  # a letter said three times or more: no English word has one


def _chat_spelling(text: str, words: _Words) -> str:
    """The message in written words: a letter held for effect ("hiii", "thank youuu", "sooo good") said
    once, or twice where that makes the word the vocabulary knows ("cooool"); a word neither makes is
    left to the planner's typo repair ("poool"). Chat shorthand (vocabulary conversation.shorthand:
    "w/" -> "with") is spelled out; "like" said as a pause ("on like a table") and emoji are left out."""
    def held(m: re.Match) -> str:
        word = m.group()
        for said in (_HELD.sub(r"\1", word), _HELD.sub(r"\1\1", word)):
            if said.lower() in words.known:
                return said
        return word

    text = re.sub(r"[a-z']*([a-z])\1{2,}[a-z']*", held, text, flags=re.I)
    text = words.pause_like.sub(r"\1 ", text)  # "put it on like a rustic table": "like" as a pause
    text = re.sub(r"[ \t]*" + _EMOJI.pattern + r"[ \t]*", " ", text).strip()  # "🌶️", "🚂": never drawn
    return words.shorthand_re.sub(lambda m: words.shorthand[phrase_key(m.group())], text)


def _alternation(phrases, *, possessive: bool = False) -> re.Pattern:
    """One pattern for a list of phrases: whole words, longest first, a hyphen or space alike
    (with `possessive`, "woman's" counts as "woman")."""
    keys = sorted({phrase_key(p) for p in phrases if str(p).strip()}, key=len, reverse=True)
    body = "|".join(r"[\s\-]*".join(re.escape(t) for t in k.split()) for k in keys)
    tail = "(?:'s?)?" if possessive else ""
    return re.compile(rf"(?<![\w'])(?:{body}){tail}(?![\w'])")


def _plain(text: str) -> str:
    """Lower case, straight quotes, punctuation as spaces, single spaces: "Yes, please!" -> "yes please"."""
    return " ".join(re.sub(r"[^\w\s'#]", " ", normalise(text)).split())


_CLAUSE = re.compile(r"\s*(?:[,;:!?()\n]+|\.{1,}(?!\d)|\s[-–—]+\s|…)\s*")


def _clauses(text: str) -> list[str]:
    return [c for c in (c.strip() for c in _CLAUSE.split(text)) if c and re.search(r"\w", c)]


# ----------------------------------------------------------------------------------- the rules

_YES = re.compile(
    r"(?:yes|yeah|yep|yup|sure|ok|okay|please|correct|right|exactly|do it|go ahead)?"
    r"(?:\s*(?:please|do it|go ahead))?"
    r"(?:\s*(?:i mean\s+|just\s+)?(?:the\s+)?(?:background|backdrop|scene)(?:\s+please)?)?"
)
_NO = re.compile(
    r"(?:no|nope|nah|never mind|cancel|forget it)(?:\s*(?:i mean\s+)?(?:the\s+)?product)?|(?:the\s+)?product"
)
_COMPARE = re.compile(
    r"\bcompare\b|\bwhat(?:'s|\s+is|\s+has)?\s+(?:changed|different)\b|\bdiff(?:erence)?s?\s+between\b"
    r"|\bhow\s+(?:do|does|are)\s+(?:they|these|those|the\s+two|both)\s+differ\b|\bside\s+by\s+side\b"
)
# What "the difference between ..." compares when it compares pictures: versions, by number or name.
_PICTURES_BETWEEN = re.compile(
    r"\b(?:\d+|v\d+|one|ones|version|versions|picture|pictures|image|images|photo|photos|pic|pics|shot|shots"
    r"|them|these|those|this|that|last|previous|before|earlier|first|second|third|latest|new|old|original)\b")
_ASKING = r"(?:(?:please|pls|can\s+(?:you|u)|could\s+(?:you|u)|would\s+(?:you|u)|let'?s|just)\s+)?"
_SAVE = re.compile(
    _ASKING
    + r"(?:(?:save|remember|keep|stash|store|bookmark|pin|star|favou?rite|hold\s+on\s+to|hang\s+on\s+to)"
    r"\s+(?:this|it|that)(?:\s+(?:look|recipe|one|version|picture))?"
    r"(?:\s+(?:as|under)\s+[\"']?(?P<name>[^\"']+?)[\"']?)?"
    # "save as clean grey": what is saved left unsaid when the name is given ("keep as is" keeps nothing)
    r"|(?:save|bookmark|stash|store)\s+(?:as|under)\s+[\"']?(?P<bare>[^\"']+?)[\"']?)",
    re.I,
)
_NAME = re.compile(
    _ASKING + r"(?:call|name|rename|title|label)\s+(?:this|it|that)"
    r"(?:\s+(?:look|recipe|one|version|picture|style))?\s+(?:as\s+|to\s+)?[\"']?(?P<name>[^\"']+?)[\"']?",
    re.I,
)


# A time of day said alone, as the whole message, with no picture yet: "morning!", "evening all 👋". With
# a picture on screen the same word may ask for that light, so it is read as a request there.
_TIME_GREETING = re.compile(
    r"\s*(?:good\s+)?(?:morning|mornin'?|afternoon|evening|gm)(?:\s+(?:all|everyone|folks|there|team))?"
    r"\s*(?:[^\w\s]+\s*)*", re.I)
# "morning, a beach", "evening, on a rooftop": a bare time word, a comma and then a description (an
# article or a placement word) says when the picture is; "good morning, …", "morning! …" and
# "morning, first time here" greet.
_PICTURE_TIME = re.compile(
    r"\s*(?:morning|afternoon|evening)\s*,\s*(?:a|an|the|some|my|on|in|at|by|near|under|outside|inside)\s",
    re.I)


def _compare_asked(plain: str) -> tuple[int | None, int | None] | None:
    """ "compare the last two" -> (None, None); "compare version 1 and 3" -> (1, 3); else None."""
    m = _COMPARE.search(plain)
    if not m:
        return None
    if m.group().startswith("diff") and not _PICTURES_BETWEEN.search(plain[m.end():]):
        return None  # "whats the difference between an insta post and a story": a question, no pictures
    numbers = [int(n) for n in re.findall(r"\b\d+\b", plain)]
    numbers += [_ORDINALS[w] for w in re.findall(r"\b(" + "|".join(_ORDINALS) + r")\b", plain)]
    return (numbers[0], numbers[1]) if len(numbers) >= 2 else (None, None)


# A verb that throws something away with "all of it" as its object throws the whole picture away:
# "scrap all that", "bin everything", "ditch it all" (not "remove the cup": that is one thing).
_DISCARD_ALL = re.compile(
    r"\b(?:scrap|bin|ditch|trash|forget|drop|dump|toss|chuck|lose|kill|nuke|wipe|clear|junk|throw\s+out"
    r"|throw\s+away|get\s+rid\s+of|undo)\s+(?:all\s+(?:of\s+)?(?:that|this|it|these|those)\b|everything\b"
    r"|(?:it|that|this)\s+all\b|the\s+lot\b|all\b(?!\s+(?:the|my|of)\b))"
)


def _start_over(text: str, words: _Words) -> tuple[str, tuple[str, ...]] | None:
    """(the request after "start over", what to keep) or None when not asked: "start over but keep it
    square" keeps the size; "let's start from scratch - a garden" asks for a garden."""
    plain = _plain(text)
    m = words.start_over.search(plain) or _DISCARD_ALL.search(plain)
    if not m:
        return None
    keep: list[str] = []
    rest = []
    clauses = _clauses(text)
    said_at = next((i for i, c in enumerate(clauses) if words.start_over.search(_plain(c))
                    or _DISCARD_ALL.search(_plain(c))), 0)
    for i, clause in enumerate(clauses):
        if i < said_at and _judges_only(clause, words):
            continue  # "the painted look is too much. scrap it, start over": why, not what to draw
        low = _plain(clause)
        low = _DISCARD_ALL.sub(" ", words.start_over.sub(" ", low))
        low = re.sub(r"\bwith\s+the\s+same\s+(?:product|photo|image|picture|item)\b", " ", low)
        kept = re.search(r"\b(?:but\s+|and\s+|just\s+)?(?:keep|keeping|except|apart\s+from)\b(?P<what>.*)$",
                         low)
        if kept:
            said = {phrase_key(w) for w in kept.group("what").split()}
            keep += [f for f, ws in words.keep.items() if said & ws]
            low = low[: kept.start()]
        low = re.sub(r"^(?:let'?s|lets|please|ok|okay|and|then|so|a)\b\s*", "", low.strip())
        if words.content(low):
            rest.append(low.strip())
    rest_text = ", ".join(rest)
    rest_text = re.sub(r"\b(?:this|that|next)\s+time\b", " ", rest_text)
    return " ".join(rest_text.split()), tuple(dict.fromkeys(keep))


def _save_asked(text: str, words: _Words) -> tuple[str, str] | None:
    """("save", name) for "save this (as summer look)"; ("name", name) for "call this look sunday
    rooftop" / "rename it to x"; None for anything else. Greetings around it are already gone, and so
    are polite words after the name ("save as clean grey please", "save it as 'winter' pls")."""
    text = re.sub(r"\b(as|under|to)\s*:\s*", r"\1 ", text)  # "save as: clean grey"
    for clause in _clauses(text):
        clause = words.polite_end.sub("", clause.strip(" .!")).strip(" .!")
        clause = words.thanks_lead.sub("", clause)  # "perfect save this one pls"
        m = _SAVE.fullmatch(clause)
        if m:
            return "save", _look_name(m.group("name") or m.group("bare") or "", words)
        m = _NAME.fullmatch(clause)
        if m and _look_name(m.group("name"), words):
            return "name", _look_name(m.group("name"), words)
    return None


def _look_name(said: str, words: _Words) -> str:
    """The name given to a look, without why it is saved ("Linen Dream so I can use it next week" ->
    "Linen Dream"; vocabulary conversation.name_purposes) or polite words after it."""
    name = words.name_purpose.sub("", said.strip())
    return words.polite_end.sub("", name).strip(" .!\"'")


# What a merchant may ask about that no picture shows (vocabulary.yaml conversation.topics).
_NOT_PICTURE_TOPICS = {"no_photo", "data", "cost", "speed", "file", "rights", "batch"}
# Topics whose words never describe a picture, so a request opener does not make them one ("can i use
# these pics commercially?").
_NEVER_DRAWN_TOPICS = {"rights"}
_JOINED = re.compile(r"^(?:(?:and|but|or|btw|by\s+the\s+way|quick\s+question|one\s+more\s+thing|then)\s+)+")


_MODALS = {"can", "could", "may", "might", "will", "would", "should"}


def _is_question(clause: str, words: _Words) -> bool:
    """A question asks for information: it opens with a question word ("what size is that?") or an
    auxiliary and a subject ("do u need a pic?"), and not with a request ("can you put it…",
    "what about a beach?")."""
    plain = words.hedges.sub(" ", _plain(clause))
    # A conjunction or an aside before it still asks ("and is it free?", "btw how long does it take?")
    plain = _JOINED.sub("", plain).strip()
    plain = words.greeting_lead.sub("", plain)  # "hi what can u do?"
    if words.tell_verbs.match(plain):
        return True  # "explain simple pls", "tell me what you changed": a request for words
    led = words.question_leads.sub("", plain)
    if led != plain and led.split() and led.split()[0] in words.question_words:
        plain = led  # "like technically whats the setting"
    plain = plain.split()
    if not plain:
        return False
    if len(plain) > 3 and plain[0] in _MODALS and plain[1] in words.question_subjects and plain[2] == "be" \
            and plain[3] in words.use_verbs:
        return True  # "can it be used on etsy?": what is done with the picture, not a change of it
    asked = plain[0] in _MODALS or plain[0] in ("what", "how")
    if asked and find_product_colour(" ".join(plain), words.vocab):
        # "would it be nicer in burgundy?", "what would it look like in red?": a colour wished for the
        # product, asked politely
        return False
    suggests = len(plain) > 4 and plain[2] in ("be", "look") and plain[3] in words.suggesting
    if suggests and plain[0] in _MODALS and plain[1] in words.question_subjects and \
            plain[4] not in ("than", "if", "to"):
        return False  # "would it look nicer on marble?": a change suggested, asked as a question
    opener = words.openers.match(" ".join(plain))
    if opener:  # "can you put it…" asks for a picture; "can you explain…" for an answer
        asked_for = " ".join(plain)[opener.end():].strip()
        if asked_for.startswith("to "):  # "would it be possible to explain…" (but "… to write 'SALE'" draws)
            return bool(words.tell_verbs.match(asked_for[3:]))
        return bool(words.info_verbs.match(asked_for))
    first = plain[0]
    if first in words.question_words:
        return len(plain) < 2 or plain[1] not in ("about", "if")
    return first in words.question_aux and len(plain) > 1 and plain[1] in words.question_subjects


def _without_greeting(clause: str, words: _Words) -> str:
    """A clause without the greeting it opens with, when what follows asks a question or says who the
    merchant is ("hi is this where i make photos" -> "is this where i make photos", "hi i sell
    candles"); any other clause as it is ("hey put it on a beach" is read as it was)."""
    m = words.greeting_lead.match(_plain(clause))
    if m is None:
        return clause
    rest = " ".join(clause.split()[len(m.group().split()):])
    asks = rest and (_is_question(rest, words) or words.about_me.match(_plain(rest)))
    return rest if asks else clause


def _visit(clause: str, words: _Words) -> bool:
    """A clause that says how the merchant came, not what to draw: its content words are only words of
    a visit (vocabulary conversation.visit_words: "first time using this", "just signed up", "new
    here") or -ing forms ("just browsing"); "first snow on a mountain" names a picture."""
    said = words.content(clause)
    return all(w in words.visit or w.endswith("ing") for w in said)


def question_topic(text: str) -> str:
    """What a question is about, for its answer ("how big will it be?" -> "size"; "other" when no
    topic's words are in it)."""
    return _topic(_plain(text), _Words.get())


def _topic(plain: str, words: _Words) -> str:
    for topic, phrases in words.conv["topics"].items():
        if _alternation(phrases).search(plain):
            return topic
    return "other"


# Something of the uploaded photo still seen in the new picture: "the couch from my original photo is
# showing through", "bits of my kitchen tiles are still visible round the pump". The photo the
# merchant sent ("my/the original/old photo") or a verb of being seen with "still" or "through".
_LEFT_OVER = re.compile(
    r"\bfrom\s+(?:my|the|our)\s+(?:original|old|own|first|real|uploaded)\s+(?:photo|picture|pic|image|shot)\b"
    r"|\b(?:showing|shows|show|peeking|poking|bleeding)\s+through\b"
    r"|\bstill\s+(?:visible|showing|there|in\s+(?:the|it|there)|shows|show|see|seen|around|round|peeking|poking)\b"
    r"|\b(?:can|could)\s+still\s+see\b"
)


# A piece of what was around the product in the merchant's photo, left in the cut-out: "you left a bit of
# my table under the saucer", "it kept part of my desk", "some of our shelf is left round the jar". The
# piece is "my/our" thing (or the old photo's), and a verb says it stayed.
_PIECE_OF_MINE = re.compile(
    r"\b(?:bits?|pieces?|parts?|chunks?|slivers?|strips?|corners?|scraps?|remnants?|traces?|some|edges?)"
    r"\s+of\s+(?:my|our|the\s+(?:old|original|real))\s+[\w'\-]+")
_STAYED = re.compile(r"\b(?:left|leaving|leave|leaves|kept|keeping|keeps|still|leftover|remaining|remains"
                     r"|stayed|stays|missed)\b")


def _is_cutout(text: str, words: _Words) -> bool:
    """A complaint about the cut-out: a part of the outline with a fault ("jaggy edges"), a piece of
    the product lost ("you chopped off the saucer") or of the old photo kept ("… is stuck to it",
    "… from my original photo is showing through")."""
    for clause in _clauses(text):
        plain = _plain(clause)
        if words.cut_lost.search(plain) or words.cut_kept.search(plain) or _LEFT_OVER.search(plain):
            return True
        if _PIECE_OF_MINE.search(plain) and _STAYED.search(plain):
            return True
        if words.cut_parts.search(plain) and words.cut_faults.search(plain):
            return True
        if _outline_judged(plain, words):
            return True
    return _cut_out_blamed(_clauses(text), words)


# The cut-out's name as the cut-out: at the clause's start or after "the", "your", "this"... -- not
# "a face mask", "an outline of mountains" -- and not followed by what is cut ("cut out the clutter",
# "mask it") or by "of" ("a selection of fruit").
_CUT_BEFORE = re.compile(
    r"(?:^|\b(?:the|your|this|that|its|my|our|whole|and|but|also|so|ugh|oh|hmm|um|well)\s+)$")
_CUT_AFTER = re.compile(
    r"\s*\b(?:the|a|an|this|that|these|those|my|our|your|all|some|it|them|everything|of)\b")


def _cut_out_blamed(clauses: list[str], words: _Words) -> bool:
    """The cut-out named as what did the harm: "the cutout messed up the hooks", "the mask ruined the
    strap", "the cutout, one of the buttons is just gone". The name is the cut-out's (see _CUT_BEFORE),
    its clause does not praise it ("love the cut-out, but the candle is gone"), and a damage word is
    in that clause or a later one."""
    for i, clause in enumerate(clauses):
        plain = _plain(clause)
        if not any(_CUT_BEFORE.search(plain[:m.start()]) and not _CUT_AFTER.match(plain, m.end())
                   for m in words.cut_names.finditer(plain)):
            continue
        said = plain.split()
        negated = any(w in ("not", "no") or w.endswith("n't") for w in said)
        if (set(said) & words.praise or words.cut_liked.search(plain)) and not negated:
            continue
        if any(words.cut_damage.search(_plain(c)) for c in clauses[i:]):
            return True
    return False


_BEING_VERB = re.compile(r"\b(?:is|are|was|were|looks?|seems?|feels?|appears?|'s|'re|got|gone|went)\b")


def _outline_judged(plain: str, words: _Words) -> bool:
    """A statement about the product's outline that is not a praise: the outline word is what the
    clause is about ("the outline round the saucer is a bit wobbly", "edges are kinda furry"), not
    an edge of something in the scene ("the edge of the table is too close")."""
    plain = re.sub(r"(?<=\w)'s\b", " is", plain)  # "outline's gone all blobby"
    part = words.cut_parts.search(plain)
    if part is None or words.cut_kept.search(plain):
        return False
    verb = _BEING_VERB.search(plain, part.end())
    if verb is None:
        return False
    between = set(plain[part.end(): verb.start()].split())
    if between & words.scene_things:
        return False  # "the edge of the table is …": the scene's, not the product's
    said = plain[verb.end():].split()
    negated = any(w in ("not", "no") or w.endswith("n't") for w in said)
    if not said or set(said) & words.praise and not negated:
        return False  # "the edges look great now"
    return not set(said) & words.scene_things


def _negated(plain: str, start: int, words: _Words) -> bool:
    before = [w for w in plain[:start].split()[-3:] if w not in ("a", "an", "the", "any", "some")]
    return any(w in words.negations for w in before[-2:])


def _kind_of_place(plain: str, end: int, words: _Words) -> bool:
    """A person's word right before a place or surface names the kind of place ("a kids bedroom
    floor", "a girl's room", "the mens shelf"), not a person to put the product on."""
    after = re.match(r"'?\s+([\w']+)", plain[end:])
    return after is not None and after.group(1) in words.places


def _placed_person(plain: str, m: re.Match, words: _Words) -> bool:
    """One person put into the scene as a thing of it ("some people in the background" stays a crowd
    of scene words): a placing verb and an article before the person's word
    (vocabulary conversation.cannot.placers) and, after it, nothing, a preposition, "who" or an -ing
    verb ("put a girl next to it watering it") -- not a thing named after a person ("add a kids toy")."""
    if not words.placed.search(plain[: m.start()]):
        return False
    after = plain[m.end():].split()
    return not after or after[0] in words.after_person or after[0].endswith("ing")


def _cannot(clause: str, words: _Words) -> str | None:
    """What in this clause no engine can do: put the product on a person ("on a model", "a woman
    wearing it"), write text ("the words NOIR EDITION"), move or fix the shadow."""
    plain = _plain(clause)
    person = [m for m in words.people.finditer(plain)
              if not _negated(plain, m.start(), words) and not _kind_of_place(plain, m.end(), words)]
    if person and (words.wear.search(plain)
                   or any(words.on_person.search(plain[: m.start()]) for m in person)):
        return "person"
    if any(_placed_person(plain, m, words) for m in person):
        return "person_in_scene"  # "put a girl next to it watering it", "add a man reading beside it"
    if words.wear.search(plain) and re.search(r"\b(?:wear|wearing|worn|wore)\b", plain):
        return "person"  # "show it being worn"
    wearer = words.wearers.search(plain)
    if wearer and not _negated(plain, wearer.start(), words) and not words.content(
            plain[: wearer.start()] + " " + plain[wearer.end():]):
        return "person"  # "ok what about a mannequin then": offered alone, to wear the product
    if words.wear.search(plain) and words.body.search(plain):
        return "person"  # "can a hand hold the bottle"
    for m in words.body.finditer(plain):
        # "in a woman's hand", "in a womans hand", "on a wrist", "around her neck" -- not "hand cream"
        before = plain[: m.start()]
        # ("made by hand", "we make by hand": how it is made, with no one's hand named)
        if (re.search(r"(?:\b(?:in|on|onto|around|over)\s+(?:a|an|the|my|her|his|their|your|\S+'s?)?\s*"
                      r"|\bby\s+(?:a|an|the|my|her|his|their|your|\S+'s?)\s+|\S+'s?\s+)$", before)
                or words.owners.search(before)) \
                and not _negated(plain, m.start(), words):
            return "person"
    text = [m for m in words.text_words.finditer(plain) if not _negated(plain, m.start(), words)]
    if text:
        return "text"
    if words.shadow.search(plain) and words.shadow_faults.search(plain):
        return "shadow"
    return None


def _undo_asked(text: str, words: _Words) -> str | None:
    """An undo asked in one clause, the other clauses only judging the picture ("no that's worse —
    can you undo it", "eh I don't love it, could you revert that") or asking for a change after it
    ("undo that and add a candle", "undo it, it's too dark so brighter"): the change to make once
    undone ("" for none), or None when no undo is asked. A preference for what came before ("it was
    nicer before", "I preferred the previous one") is an undo too."""
    clauses = _clauses(text) or [text]
    undone = False
    rest: list[str] = []
    for clause in clauses:
        then = _undo_clause(clause, words)
        if then is not None:
            undone = True
            if then:
                rest.append(then)
        elif _prefers_before(clause, words):
            undone = True
        elif not _judges_only(clause, words):
            rest.append(clause)
        elif _feedback_in(clause, words):
            rest.append(clause)  # "it's too dark": a judgement that asks for a change
    return ", ".join(rest) if undone else None


# A preference between two pictures ("better", "I preferred"), and the words for the one before this.
_PREFER = re.compile(r"\b(?:better|nicer|prettier|best|preferred|prefer|liked|loved|happier|cuter|cleaner"
                     r"|way\s+better|much\s+better)\b")
_BEFORE = re.compile(r"\b(?:before|earlier|previously|previous|the\s+last\s+(?:one|version|picture|image)"
                     r"|the\s+way\s+it\s+was|how\s+it\s+was|as\s+it\s+was)\b")


def _prefers_before(clause: str, words: _Words) -> bool:
    """ "it was better before", "nah I preferred it earlier", "the previous one was nicer": a
    preference for the picture before this one, and nothing to draw."""
    plain = words.hedges.sub(" ", _plain(clause))
    if not (_PREFER.search(plain) and _BEFORE.search(plain)):
        return False
    if re.search(r"\bthan\s+(?:" + _BEFORE.pattern + ")", plain):
        return False  # "it's better than before": this one is preferred
    # "it was better before you added the lamp", "nicer before the lamp": what came since names the
    # change taken back, nothing to draw
    plain = _BEFORE_CHANGE.sub(" ", plain)
    rest = _BEFORE.sub(" ", _PREFER.sub(" ", plain))
    return not [w for w in words.content(rest) if w not in _PREFER_GLUE]


_BEFORE_CHANGE = re.compile(
    r"\bbefore\s+(?:(?:you|u|we|i|it|they)\s+[\w']+|the|that|this|those|these|[\w']+ing)\b"
    r"(?:\s+(?!(?:but|and|so|now|then)\b)[\w']+)*$")


_PREFER_GLUE = {"last", "how", "way", "as", "was", "it", "looked", "seemed", "felt", "lot", "far", "more",
                "much", "bit", "honestly", "tbh", "definitely", "think", "thought", "i'd", "say", "yeah"}


def _feedback_in(clause: str, words: _Words) -> bool:
    """Whether a judging clause names a change the planner knows ("it's too dark", "too busy")."""
    return words.feedback.search(_plain(clause)) is not None


def _judges_only(clause: str, words: _Words) -> bool:
    """A clause that only says what the merchant thinks ("no that's worse", "I don't love it"): a
    statement (a verb such as is/looks/love or a negation) or no picture words at all."""
    tokens = _plain(clause).split()
    if any(t in words.statement_verbs or t.endswith("n't") or _is_contracted_be(t) for t in tokens):
        return True
    return not words.content(clause)


_PRONOUNS = {"that", "it", "this", "there", "here", "what", "he", "she", "they", "you", "we", "who"}


def _is_contracted_be(token: str) -> bool:
    """ "that's", "it's", "they're": a pronoun and a form of "be" -- a statement, not a request."""
    head, _, tail = token.partition("'")
    return head in _PRONOUNS and tail in ("s", "re")


def _undo_clause(text: str, words: _Words) -> str | None:
    """An undo phrase ("undo", "go back") with nothing around it but the words vocabulary.yaml
    allows ("go back to the beach" is a reference, not an undo): "" -- or, when "and"/"then" joins a
    change to it ("undo that and add a candle"), that change; None when the clause is no undo. A
    request opener ("could you …") asks for it politely and changes nothing."""
    norm = words.hedges.sub(" ", _plain(text))
    opener = words.openers.match(norm)
    if opener:
        norm = norm[opener.end():]
    for phrase in words.undo_phrases:
        found = phrase_pattern(phrase).search(norm)
        if found:
            then = ""
            joined = re.search(r"\s(?:and(?:\s+then)?|then|so|plus)\s", norm[found.end():])
            if joined:  # "undo that and make it warmer"
                then = norm[found.end() + joined.end():].strip()
                norm = norm[: found.end() + joined.start()]
            rest = norm[: found.start()] + " " + norm[found.end():]
            allowed = all(w in words.undo_allowed or w in words.filler for w in re.findall(r"[\w']+", rest))
            if not allowed:
                return None
            if then and _judges_only(then, words) and not _feedback_in(then, words):
                then = ""  # "undo it and sorry": nothing to change
            return then
    return None


# ------------------------------------------------------------------------------- references

_ONE = (r"(?:one|ones|version|versions|picture|pictures|image|images|photo|photos|result|shot|pic|look|take"
        r"|treatment|recipe|setup)")
# What may follow "the warm one" / "my sunset look" in a reference ("…again", "…for this one", "…was
# better"), so that "the handle look all jaggy" is not one.
_AFTER_ONE = (r"(?=\s*$|\s+(?:again|instead|for|please|pls|was|is|were|from|i|we|you|that|with|but|and|on|in"
              r"|back|to|looked|one|then|now|though|too|can|could|would|will|let's|lets|ok|okay|thanks"
              r"|better|nicer|prettier|best|more|much|way|most|over|than"
              # "none of these beat the living room one, go back to that": a verb of going back after it
              r"|go\s+back|bring|show|use|switch|pick)\b)")
_VERSION_NUMBER = re.compile(r"\b(?:version|v|number|no|#)\s*#?(\d{1,3})\b")
# "the first one", "that second picture" (not "add a second one": that is one more thing)
_ORDINAL = re.compile(
    r"\b(?:the|that|my)\s+(?:very\s+)?(" + "|".join(_ORDINALS) + r")\s+" + _ONE + r"\b"
    r"|^(" + "|".join(_ORDINALS) + r")\s+" + _ONE + r"\b"
)
# An ordinal said alone is a reference too when nothing it could count follows it: "show me the very
# first again", "the original was best" ("the first" + a noun is a thing: "the second candle").
_ORDINAL_ALONE = re.compile(
    r"\b(?:the|that|my)\s+(?:very\s+)?(" + "|".join([*_ORDINALS, "original", "start"]) + r")" + _AFTER_ONE
)
_COUNT = r"(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten|a couple|couple)"
_STEPS = r"(?:versions?|ones?|steps?|pictures?|images?|changes?|edits?|times)"
_AGO = re.compile(
    rf"\b{_COUNT}\s+(?:of\s+)?{_STEPS}\s+(?:ago|back|before)\b"  # "two versions ago"
    rf"|\bback\s+{_COUNT}\s+(?:of\s+)?{_STEPS}\b"  # "go back two steps", "take me back 2 versions"
)
_THE_X_ONE = re.compile(
    r"\b(?P<mine>the|my|that|those)\s+(?P<x>(?!one\b|same\b|other\b|new\b|last\b|previous\b|next\b)"
    r"[\w'\-]+(?:\s+[\w'\-]+){0,2}?)\s+" + _ONE + _AFTER_ONE
)
_THE_ONE_X = re.compile(
    r"\bthe\s+(?:one|version|picture|image|photo|shot|look)\s+(?:on|in|at|with|from|by|under|near)\s+"
    r"(?:the\s+|a\s+|an\s+)?(?P<x>[\w'\-]+(?:\s+[\w'\-]+){0,2})"
)
_BACK_TO_X = re.compile(
    r"\b(?:go\s+|get\s+|come\s+|switch\s+|change\s+)?back\s+to\s+(?:the\s+|my\s+)?"
    r"(?P<x>[\w'\-]+(?:\s+[\w'\-]+){0,2})"
)
_NOT_PLACES = {"that", "it", "this", "previous", "before", "normal", "how", "what", "the", "one", "last",
               "original", "start", "version", "square", "earlier", "first"}


def _reference(text: str, words: _Words, has_picture: bool = False) -> tuple[Reference, str] | None:
    """(the earlier picture meant, the rest of the request) or None. "nah the first one was better,
    use that" -> number 1; "show me the one from two versions ago" -> ago 2; "go back to the warm one"
    -> words "warm"; "the one I did yesterday" -> days (1, 1); "use my sunset look" -> words
    "sunset", saved."""
    plain = _plain(text)
    found = Reference()
    span: tuple[int, int] | None = None
    if m := _VERSION_NUMBER.search(plain):
        found, span = Reference(number=int(m.group(1))), m.span()
    elif m := _ORDINAL.search(plain):
        found, span = Reference(number=_ORDINALS[m.group(1) or m.group(2)]), m.span()
    elif m := _ORDINAL_ALONE.search(plain):
        found, span = Reference(number=_ORDINALS.get(m.group(1), 1)), m.span()
    elif m := _AGO.search(plain):
        n = m.group(1) or m.group(2)
        found, span = Reference(ago=int(n) if n.isdigit() else _NUMBERS[n]), m.span()
    elif has_picture and _EARLIER_ONE.search(plain):
        pass  # "the earlier one was better": the version before this one (an undo), not a saved look
    elif (m := words.time_re.search(plain)) or (m := _DAYS_AGO.search(plain)):
        # "like the one I did yesterday", "same as last time", "from 3 days ago": a time and
        # something done then.
        days = _days(m, words)
        around = plain[max(0, m.start() - 40): m.end() + 20]
        if re.search(r"\b(?:one|did|made|saved|do|redo|repeat|reuse|look|like|same|as|from|'s|again|use|"
                     r"version|picture|setup|style|usual)\b", around):
            lead = re.search(r"(?:\b(?:same\s+as|like|as|my)\s+)?"
                             r"(?:the\s+one\s+(?:i\s+|we\s+)?(?:did|made|had|saved|used)\s+)?$",
                             plain[: m.start()])
            start = lead.start() if lead and lead.group() else m.start()
            found, span = Reference(days=days, saved=True), (start, m.end())
    if not found:
        if not has_picture and ((m := words.same.search(plain)) or (m := _SAME_LOOK.search(plain))):
            # With a picture on screen "same thing, but closer" is feedback on it. "same beach look": the
            # latest one that shows a beach
            x = (m.groupdict().get("x") or "").strip()
            found, span = Reference(same=True, words=x if words.content(x) else ""), m.span()
        elif m := _THE_ONE_X.search(plain):
            found, span = Reference(words=_strip_one(m.group("x"), words)), m.span()
        elif m := _THE_X_ONE.search(plain):
            x = m.group("x")
            # "here are the mugs, same look pls": "same" ends a clause's thing, never names a picture
            if x.split()[0] not in _NOT_PLACES and x not in _ORDINALS and "same" not in x.split():
                found = Reference(words=_strip_one(x, words), saved=m.group("mine") == "my")
                span = m.span()
        if not found and (m := _BACK_TO_X.search(plain)):
            x = _strip_one(m.group("x"), words)
            if x and x.split()[0] not in _NOT_PLACES:
                found, span = Reference(words=x), m.span()
    if not found and has_picture:
        return _preferred(text, words)
    if not found or span is None:
        return None
    if found.words and not words.content(found.words):
        return None
    rest = _rest(plain[: span[0]] + " , " + plain[span[1]:], words)
    return found, rest


# A preference for an earlier picture named by what it showed: "yellow was nicer tbh", "the beach looked
# way better", "I preferred the marble" -- said in the past, of something other than the picture's own
# qualities ("the light was nicer" is feedback) and without "before" (an undo: "it was better before").
_X_WAS_BETTER = re.compile(
    r"(?:the\s+|that\s+)?(?P<x>[\w'\-]+(?:\s+[\w'\-]+){0,2}?)\s+(?:was|were|looked|seemed|felt)"
    r"(?:\s+(?:so|much|way|far|a\s+lot|definitely|def|honestly|actually|kinda|just|deffo))*"
    r"\s+(?:better|nicer|prettier|cuter|lovelier|best|the\s+best|more\s+my\s+style)"
    r"(?:\s+than\s+(?:the\s+)?[\w'\-]+(?:\s+[\w'\-]+){0,2})?")
_PREFERRED_X = re.compile(
    r"(?:i\s+|we\s+)?(?:(?:much|definitely|actually|kinda)\s+)?(?:preferred|prefered|liked|loved)\s+"
    r"(?:the\s+|that\s+)?(?P<x>[\w'\-]+(?:\s+[\w'\-]+){0,2}?)(?:\s+(?:better|more|most|best))?")


def _preferred(text: str, words: _Words) -> tuple[Reference, str] | None:
    """(the earlier picture a preference names, the rest of the message) or None (_X_WAS_BETTER)."""
    clauses = _clauses(text)
    pronouns = _NOT_PLACES | _PRONOUNS | {"everything", "all", "both", "them", "these", "those"}
    picture = {phrase_key(w) for w in words.vocab["clauses"]["picture_nouns"]}
    for i, clause in enumerate(clauses):
        plain = " ".join(words.hedges.sub(" ", _plain(clause)).split())
        m = _X_WAS_BETTER.fullmatch(plain) or _PREFERRED_X.fullmatch(plain)
        if m is None or _BEFORE.search(plain):
            continue
        x = _strip_one(m.group("x"), words)
        tokens = x.split()
        if not tokens or tokens[0] in pronouns or set(tokens) & picture or not words.content(x):
            continue
        return Reference(words=x), _rest(", ".join(clauses[:i] + clauses[i + 1:]), words)
    return None


# Sameness said of a look: an adjective of sameness and a noun for a look ("identical look", "matching
# setup", "the exact same vibe").
_SAME_LOOK = re.compile(
    r"\b(?:same|identical|matching|similar|consistent|exact\s+same)\s+(?:exact\s+|very\s+)?"
    r"(?P<x>(?:[\w'\-]+\s+){0,2}?)"  # "same beach look": what the look showed
    r"(?:look|style|setup|set\s+up|scene|vibe"
    r"|settings|background|backdrop|feel|treatment|shot|aesthetic|styling)s?\b"
)
_EARLIER_ONE = re.compile(r"\bthe\s+earlier\s+" + _ONE + r"\b")
_DAYS_AGO = re.compile(r"\b" + _COUNT + r"\s+(days?|weeks?)\s+ago\b")


def _days(m: re.Match, words: _Words) -> tuple[int, int]:
    """The span of whole days back a time phrase means ("yesterday" = (1, 1), "2 weeks ago" =
    (14, 20))."""
    if m.re is _DAYS_AGO:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
        return (n, n) if m.group(2).startswith("day") else (7 * n, 7 * n + 6)
    key = phrase_key(re.sub(r"'s?$", "", m.group()))
    if key in words.weeks:  # "last week": the calendar's week before this one, not 7 to 13 days back
        weekday, back = date.today().weekday(), words.weeks[key]
        return (0, weekday) if back == 0 else (weekday + 1 + 7 * (back - 1), weekday + 7 * back)
    first, last = words.times[key]
    return int(first), int(last)


# A style named by its look and said as had before: "keep the film look from before", "bring the
# watercolour style from earlier back", "the vintage vibe again".
_STYLE_AGAIN = re.compile(
    r"\bthe\s+(?P<x>[\w'\-]+(?:\s+[\w'\-]+)?)\s+(?P<noun>[a-z]+)\s+(?P<when>(?:from|like|as\s+in)\s+"
    r"(?:before|earlier|previously|last\s+time|the\s+(?:first|last|earlier|previous|other)\s+(?:one|version|picture))"
    r"|again)\b")


def _style_again(text: str, words: _Words) -> str | None:
    """The words asking for a style the merchant had on an earlier picture, without the "from before"
    ("keep the film look from before tho" -> "keep the film look tho"): a style is kept by this picture
    (where "go back to the film one" or "the beach look from before" ask for the earlier picture
    itself); None when the message asks no such thing. Only catalog style words name a style."""
    plain = _plain(text)
    m = _STYLE_AGAIN.search(plain)
    if m is None or m.group("noun") not in words.style_nouns or words.back_words.search(plain[: m.start()]):
        return None
    if not all(w in words.style_words for w in m.group("x").split()):
        return None
    return " ".join((plain[: m.start("when")] + plain[m.end("when"):]).split())


def _strip_one(x: str, words: _Words) -> str:
    """The attribute words of a reference: up to a verb ("beach was nicer" -> "beach"), without
    "one"/"version"."""
    kept = []
    for w in x.split():
        if w in words.statement_verbs or w.endswith("n't"):
            break
        if w not in words.one_words and w not in ("i", "we", "did", "made"):
            kept.append(w)
    return " ".join(kept)


_DONE_THEN = re.compile(
    r"\b(?:that\s+|which\s+)?(?:i|we|you|u)\s+(?:did|made|had|used|shot|saved|created|tried|liked|loved|picked)"
    r"(?:\s+(?:for|with|of|on)\s+(?:my|our|the|a|an|that)\s+[\w'-]+(?:\s+[\w'-]+)?(?=\s+(?:same|and|but|then|again"
    r"|please|now|for|like|as)\b|\s*$|\s*,))?"
)


def _rest(text: str, words: _Words) -> str:
    """What a message asks besides a reference: its clauses that describe something (a statement
    such as "I didn't want a bedroom" or "was nicer" is not a request)."""
    # What the merchant did then describes the earlier picture, not this one: "(the pink one) I did
    # for my lipstick", "(the one) we made for the sale"; a verb of memory opens the reference.
    # ... and when: "the first one you made today"
    text = re.sub(_DONE_THEN.pattern + r"(?:\s+(?:" + words.time_re.pattern + r"))?", " ", text)
    text = re.sub(r"(?:^|(?<=,))\s*(?:do\s+you\s+|can\s+you\s+)?(?:remember|recall)\b", " ", text)
    kept = []
    # "(the first one was nicest,) bring that back and make it square": "and" before a verb that asks
    # opens a clause of its own, which the statement before it does not take with it
    for clause in re.split(r"\s*,\s*|\s+but\s+|\s+and\s+(?=then\b)|\s+and\s+(?=(?:"
                           + words.asking.pattern + r"))", text):
        tokens = clause.split()
        presented = words.presenting.match(clause.strip())  # "here are the mugs": the product named
        if not presented and any(t in words.statement_verbs or t.endswith("n't") for t in tokens):
            continue
        if words.content(clause):
            kept.append(clause.strip())
    return ", ".join(kept)


# "the mug itself", "it too": the thing, said again.
_ITSELF = r"(?:itself|themselves|too|also|as\s+well)"
# Judgements between "would it be" and a colour: "would it be nicer in burgundy".
_JUDGED = r"(?:nicer|better|prettier|cuter|lovelier|good|nice|great|best|cooler)"


def find_product_colour(work: str, vocab: dict) -> tuple[str, int, int] | None:
    """(colour, start, end) when the words ask to recolour the product ("make it green", "change
    the dress to blue", "green instead of red"), not the background ("make the background green")."""
    colours = sorted(vocab["colours"], key=len, reverse=True)
    c_alt = "|".join(re.escape(c) for c in colours)
    scene_words = {" ".join(str(w).lower().split()) for w in vocab["scene_colour_words"]}
    verbs = "|".join(re.escape(v) for v in vocab["product_colour_verbs"])
    finishes = "|".join(re.escape(str(f)) for f in vocab["clauses"]["finishes"])
    # "make the shoes neon green": a shade before the colour, never a scene word ("neon" lights)
    shade = "(?:(?:" + "|".join(re.escape(str(w)) for w in vocab["colour_shades"]) + r")\s+)?"

    def scene_side(words: str) -> bool:
        tokens = re.findall(r"[\w']+", words)
        return any(t in scene_words or t.rstrip("s") in scene_words for t in tokens)

    def after_ok(end: int) -> bool:
        # the word right after, in the same clause ("green background"); "green?? neon sells" ends it
        nxt = re.match(r"[ \t]*([\w']+)", work[end:])
        return not nxt or not (nxt[1] in scene_words or nxt[1] in ("colored", "coloured", "toned"))

    patterns = [
        rf"(?<!\w)(?:{verbs})(?P<obj>(?:\s+[\w'\-]+){{0,4}}?)\s+(?:to\s+|into\s+|in\s+)?{shade}(?P<c>{c_alt})(?!\w)",
        # "green instead of red" names the product's colour it replaces; "green instead" alone is a
        # colour said alone (a backdrop on a colour backdrop, else words for the scene).
        rf"(?<!\w)(?P<c>{c_alt})\s+instead\s+of\s+(?:the\s+)?(?:{c_alt})(?!\w)(?P<obj>)",
        # "can the cup be gold?", "could it be matte black", "can the mug itself be black instead?",
        # "would it be nicer in burgundy": a colour wished for the thing itself
        rf"(?<!\w)(?:can|could|should|would|will|might)\s+(?P<obj>it|this|they|them|the\s+[\w'\-]+|my\s+[\w'\-]+)"
        rf"(?:\s+{_ITSELF})?\s+(?:be|come|look)\s+(?:(?:in|a|an|more|all|fully|like|{_JUDGED}|{finishes})\s+)*"
        rf"(?P<c>{c_alt})(?!\w)",
        rf"(?<!\w)(?P<obj>it|this|them|one|same\s+[\w'\-]+|the\s+[\w'\-]+|my\s+[\w'\-]+)(?:\s+{_ITSELF})?"
        rf"\s+in\s+(?P<c>{c_alt})(?!\w)",
        # "what if the cup were blue?", "what if it came in sage", "what if we made the mug black": a
        # colour imagined for the thing itself
        rf"(?<!\w)what\s+if\s+(?:(?:we|you|i)\s+(?:made|make|painted|turned|coloured|colored|did)\s+)?"
        rf"(?P<obj>it|this|they|them|the\s+[\w'\-]+|my\s+[\w'\-]+)(?:\s+{_ITSELF})?"
        rf"(?:\s+(?:was|were|is|came|comes|looked|went))?\s+(?:(?:in|a|an|more|all|{finishes})\s+)*"
        rf"(?P<c>{c_alt})(?!\w)",
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
