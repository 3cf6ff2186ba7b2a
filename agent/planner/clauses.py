"""The clause structure of a merchant's message, read before the embedded planner's keywords: English
says what to take out, what to change and what is only an opinion with a few closed classes of words
(determiners, pronouns, modal verbs, copulas), so these rules read those and rewrite the request into
the plain forms the planner already knows:

- a removing verb with its object ("take away the croissant", "ditch the lemons", "get rid of it")
  becomes "remove <thing>"; a pronoun object ("it", "them") is the thing the message just talked about
  ("the laptop looks super fake, get rid of it" -> "remove laptop");
- a statement about a thing in the picture ("the cutting board behind it kinda steals the show",
  "those towels look really cheap") is a complaint: the thing goes; one that wishes it another colour
  or material ("the towel should be yellow") changes the thing ("yellow towel"); a praise ("the beach
  looks lovely") asks for nothing;
- hedges are not picture words: interjections ("erm"), "I reckon/suppose/figure", a condition ("if that
  makes sense"), modal verbs ("should", "ought to"), and statements whose subject is a person or a
  pronoun ("they clash with the label", "people find them creepy").

Words of the picture itself (light, shadow, background, colour…) are left to the planner's own rules:
"the light is too harsh" is feedback, not a thing to remove. Word lists: prompts/vocabulary.yaml
(`clauses`, `remove_words`, `colours`, `product_modifiers`)."""

from __future__ import annotations

import re

from sceneshop.agent.planner.lexicon import phrase_key

_SPLIT = re.compile(r"\s*(?:[,;!?\n]+|(?<!\d):(?!\d)|\.(?!\d)|\s[-–—]+\s|…)\s*")
# "erm", "umm", "hmmm", "uhh", "ahh", "mmm": sounds, not words.
_INTERJECTION = re.compile(r"(?<![\w'])(?:e+r+m*|u+m+|h+m+|u+h+|a+h+|m+h*m+|e+h+|o+h+)(?![\w'])", re.I)
# "I reckon", "I suppose", "I'd say": the speaker and a verb of thinking or saying, before the request.
_I_VERB = re.compile(r"^(?:(?:and|so|but|well)\s+)?i\s+(?:'d\s+|would\s+)?(?P<verb>[a-z']+)(?![\w'])\s*",
                     re.I)
# The verbs after "I" that ask for something: what follows them is the request, kept by the planner.
_ASKING_VERBS = {"want", "need", "like", "love", "prefer", "wanna", "wish", "am", "was", "have", "had",
                 "do", "did", "don't", "didn't", "dont", "didnt", "hate", "see", "saw", "can", "could",
                 "will", "would", "should", "mean"}
# A modal before "be"/"look"/"become" and what the thing should be: "should be yellow", "ought to be
# emerald green", "could be more rustic", "needs to be darker".
_WISH = re.compile(
    r"^(?P<np>.+?)\s+(?:should|ought\s+to|must|could|would|needs\s+to|need\s+to|has\s+to|have\s+to|can)"
    r"(?:\s+(?:really|maybe|probably|perhaps|definitely))?\s+(?:be|look|become|go)\s+"
    r"(?:more\s+|a\s+bit\s+|kinda\s+)?(?P<what>.+)$",
    re.I,
)
_BEING = {"is", "are", "was", "were", "looks", "look", "seems", "seem", "feels", "feel", "appears",
          "appear", "'s", "'re"}
_DETERMINERS = {"the", "that", "those", "this", "these", "your", "its"}
_EXISTENTIAL = re.compile(
    r"^(?:there(?:'s|\s+is|\s+are|'re)|i\s+see|i\s+can\s+see)\s+(?:a|an|some|the|this|that)?\s*", re.I)
# "that works", "this rocks": a verdict on the picture.
_VERDICT = re.compile(r"(?:(?:yeah|yes|yep|yup|ok|okay|well|oh|ah|hey)\s+)*(?:that|this|it)\s+[a-z]+s")
# A clause that only says what stays as it is: "same settings", "keep everything else the same",
# "leave the rest", "otherwise unchanged".
_UNCHANGED = re.compile(
    r"(?:(?:but|and|with|otherwise|just|please)\s+)*(?:(?:the|all|exactly\s+the)\s+)?"
    r"(?:same|identical|unchanged)(?:\s+[a-z]+){0,2}"
    r"|(?:(?:but|and|just|please)\s+)*(?:keep|leave)\s+(?:everything|all|the\s+rest|it\s+all|the\s+others?)"
    r"(?:\s+else)?(?:\s+(?:the\s+same|as\s+(?:it\s+is|is|they\s+are)|alone|unchanged))?(?:\s+please)?"
    r"|(?:otherwise|everything\s+else|the\s+rest)\s+(?:the\s+)?(?:same|unchanged|as\s+is)"
)
# Words that end the noun phrase a statement is about ("the laptop | looks fake").
_PREDICATE_STARTS = {"should", "ought", "must", "could", "would", "needs", "kinda", "really", "just", "that",
                     "which", "totally", "super", "way", "so", "too"}
# Hedges that are also ordinary words ("well lit", "now in the snow"): left where they are.
_AMBIGUOUS_HEDGES = {"well", "so", "now", "also", "just", "really", "yes", "yeah", "oh", "ah", "wait",
                     "ok so", "anyway", "sorry", "no no", "nope", "nah", "hey"}
_NOT_THINGS = {"please", "pls", "too", "as", "well", "away", "out"}
# Words that open a condition or a reason after a thing: "ditch the sea if possible", "lose it so it pops".
_CONDITIONS = {"if", "so", "because", "since", "cause", "cuz", "unless", "when", "while", "as"}
_RULES: dict[int, tuple[dict, _Rules]] = {}
_PRONOUN_OBJECTS = {"it", "them", "that", "those", "this", "these", "one", "em", "'em", "him", "her"}
_SUBJECT_PRONOUNS = {"they", "he", "she", "we", "people", "customers", "everyone", "everybody", "nobody"}
# A phrasal verb of taking out with its object between the verb and the particle ("get the candle out
# of there", "take those shells away", "move the lamp out of the shot").
_PARTICLE_REMOVAL = re.compile(
    r"^(?:get|take|pull|move|clear|put)\s+(?P<thing>(?:the|that|those|this|these|a|an|all\s+the)\s+[\w' -]+?"
    r"|it|them|'?em|those|these)"
    r"\s+(?:out|away|off)(?:\s+of\s+(?:there|here|it|the\s+[\w ]+))?$"
)
# Words before a removing verb that do not change what it removes ("nah scratch the park", "ok lose
# the tray", "actually ditch it").
_LEAD = re.compile(r"^(?:(?:please|pls|plz|can\s+you|could\s+you|would\s+you|just|and|also|then|so|nah|no"
                   r"|nope|ok|okay|actually|oh|well|yeah|yes|now|maybe|perhaps|instead|hmm|ugh|right)\s+)+")
# Words of degree and joining said with a temperature ("a bit cold and clinical", "kinda too orange").
_DEGREES = {"and", "or", "&", "overly", "somewhat", "rather", "pretty", "super", "far", "way", "getting",
            "too", "very", "kinda", "bit", "tbh", "now", "still", "lol", "honestly", "tho", "though",
            "overall"}
# Verbs of coming out a certain way ("it came out a bit cold", "it's gone very orange").
_TURNED = {"came", "comes", "come", "turned", "turns", "out", "gone", "went", "got", "gets", "getting",
           "become", "became"}
_MODALS = re.compile(r"(?<![\w'])(?:should|ought\s+to|ought|must)(?![\w'])\s*", re.I)


def restructure(words: str, vocab: dict, *, editing: bool) -> str:
    """`words` rewritten clause by clause (see the module's doc); unchanged when no rule applies.
    `editing`: there is a current picture, so "the X …" may be about a thing in it."""
    cached = _RULES.get(id(vocab))
    if cached is None or cached[0] is not vocab:
        cached = _RULES[id(vocab)] = (vocab, _Rules(vocab))
    rules = cached[1]
    clauses = [p for c in _SPLIT.split(words) if c.strip() for p in rules.pieces(c) if p.strip()]
    out: list[str] = []
    subject: str | None = None  # the thing the last statement was about ("the laptop looks fake")
    for clause in clauses:
        clause = " ".join(_INTERJECTION.sub(" ", clause).split())
        doubted = rules.doubted(clause)  # read before the hedges go: "not sure" is one of them
        if doubted is not None:
            thing = doubted if doubted.lower() not in _PRONOUN_OBJECTS else subject
            if thing:
                out.append(f"remove {thing}")
                subject = thing  # "…, maybe take them out?": the thing doubted
            continue
        clause = " ".join(rules.hedges.sub(" ", clause).split())
        if not clause:
            continue
        low = clause.lower()
        if editing and _VERDICT.fullmatch(low):
            continue
        if _UNCHANGED.fullmatch(low):
            continue  # "same settings", "keep everything else the same": what stays, nothing to draw
        if low.startswith("if ") or low == "if":
            continue  # "if that makes sense", "if possible": a condition draws nothing
        m = _I_VERB.match(clause)
        if m and m.group("verb").lower() not in _ASKING_VERBS:
            clause = clause[m.end():].strip()
            low = clause.lower()
            if not clause:
                continue
        edit = rules.temperature(clause)
        if edit is not None:  # "it feels a bit cold and clinical": warmer
            out.append(edit)
            continue
        removal = rules.removal(clause)
        if removal is not None:
            target = removal
            if not target or target.lower() in _PRONOUN_OBJECTS:
                if subject is None:
                    # "remove that", "take it out": the planner knows what was just named ("I see a
                    # spoon behind it"); said in the one form it reads
                    out.append(f"remove {target}" if target else clause)
                    continue
                target = subject
            out.append(f"remove {target}")
            subject = None
            continue
        statement = rules.statement(clause, editing)
        if statement is not None:
            kind, thing, what = statement
            if kind == "wish":
                out.append(f"{what} {thing}")
            elif kind == "complaint":
                subject = thing
                out.append(("remove " + thing) if rules.complains(what) else "")
            else:  # praise or an opinion: nothing to draw
                subject = thing
            continue
        first = low.split()[0]
        if first in _SUBJECT_PRONOUNS and len(low.split()) > 1:
            continue  # "they clash with the label", "people find them creepy"
        out.append(_MODALS.sub("", clause).strip())
    kept = list(dict.fromkeys(c for c in out if c))  # "the laptop looks fake, get rid of it": once
    if kept == [c.strip() for c in clauses]:
        return words  # no rule applied: the words as the merchant wrote them
    return ", ".join(kept)


def _joined(verbs: list[str]) -> re.Pattern:
    """ "and"/"then" joining another clause that opens with one of `verbs`; the match ends where the
    verb starts."""
    body = "|".join(r"\s+".join(map(re.escape, v.split())) for v in verbs)
    polite = r"(?:(?:then|also|maybe|please|just|can\s+you|could\s+you)\s+)*"
    return re.compile(rf"\s+(?:and|then|but|plus|&)\s+{polite}"
                      rf"(?=(?:{body})(?![\w']))", re.I)


def _has_verb(predicate: list[str], preps: set[str]) -> bool:
    """Whether the words after a noun phrase make a statement: a form of "be"/"look"/"seem", a modal,
    an adverb of degree, a relative clause, or a present-tense verb right after the thing or a pronoun
    ("the vase clashes", "the candle behind it hogs attention")."""
    before = None
    for w in predicate:
        if w in _BEING or w in _PREDICATE_STARTS or w.endswith(("'s", "'re", "n't")):
            return True
        if (before is None or before in ("it", "them", "me")) and w.endswith("s") and not w.endswith("ss") \
                and w not in preps and len(w) > 3:
            return True
        before = w
    return False


class _Rules:
    def __init__(self, vocab: dict):
        self.vocab = vocab
        verbs = {phrase_key(w) for w in [*vocab["remove_words"], *vocab["clauses"]["remove_verbs"]]}
        self.remove_verbs = sorted(verbs - {"no", "without", "minus", "not"}, key=len, reverse=True)
        asks = sorted({phrase_key(w) for w in [*vocab["conversation"]["request_verbs"], "make", "go", "try",
                                                "switch", "swap", "move", "turn"]}, key=len, reverse=True)
        self.joined_removal, self.joined_request = (_joined(self.remove_verbs), _joined(asks))
        hedges = {phrase_key(w) for w in vocab["conversation"]["hedges"]} - _AMBIGUOUS_HEDGES
        body = "|".join(r"\s+".join(map(re.escape, h.split())) for h in sorted(hedges, key=len, reverse=True))
        self.hedges = re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.I)
        self.picture_nouns = {phrase_key(w) for w in vocab["clauses"]["picture_nouns"]}
        self.praise = {phrase_key(w) for w in vocab["clauses"]["praise"]}
        self.colours = {phrase_key(w) for w in [*vocab["colours"], *vocab["product_modifiers"],
                                                *vocab["clauses"]["finishes"]]}
        self.preps = {phrase_key(w) for w in vocab["prepositions"]}
        self.filler = {phrase_key(w) for w in vocab["filler"]}
        doubts = sorted((phrase_key(w) for w in vocab["clauses"]["doubts"]), key=len, reverse=True)
        body = "|".join(r"\s+".join(map(re.escape, d.split())) for d in doubts)
        self.doubts = re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.I)
        temps = vocab["temperature_complaints"]
        self.excess = {phrase_key(w) for w in temps["excess"]}
        self.temperatures = {edit: ({phrase_key(w) for w in temps[edit]["always"]},
                                    {phrase_key(w) for w in temps[edit]["in_excess"]})
                             for edit in ("warmer", "cooler")}

    def pieces(self, clause: str) -> list[str]:
        """A clause cut where "and"/"then" joins a removal to another request: "cooler and ditch the sea"
        -> ["cooler", "ditch the sea"]; "drop the park and put it in a greenhouse" -> ["drop the park",
        "put it in a greenhouse"]. Other clauses as they are ("with lemons and ice")."""
        if m := self.joined_removal.search(clause):
            return [*self.pieces(clause[: m.start()]), *self.pieces(clause[m.end():])]
        if self.removal(clause) is not None and (m := self.joined_request.search(clause)):
            return [clause[: m.start()], *self.pieces(clause[m.end():])]
        return [clause]

    def removal(self, clause: str) -> str | None:
        """What a removing clause takes out ("take away the croissant" -> "croissant", "lose them" ->
        "them"), "" for a bare verb, None when the clause removes nothing."""
        low = _LEAD.sub("", clause.lower()).strip()
        if m := _PARTICLE_REMOVAL.match(low):  # "get the candle out of there"
            low = f"remove {m.group('thing')}"
        for verb in self.remove_verbs:
            if low == verb or low.startswith(verb + " "):
                rest = low[len(verb):].split()
                if len(rest) == 1 and rest[0] in _PRONOUN_OBJECTS:
                    return rest[0]  # "lose them", "take it out": the thing just named
                thing = []
                for w in rest:
                    if (w in self.preps or w in _CONDITIONS) and thing:
                        break  # "take away the croissant next to the beans", "lose it if you can"
                    if w not in self.filler and w not in _NOT_THINGS:
                        thing.append(w)
                return " ".join(thing[:3])
        return None

    def doubted(self, clause: str) -> str | None:
        """What a doubt is about ("I'm not sure about the lemons" -> "lemons", "not convinced by it" ->
        "it"); "" for a doubt about the picture's own qualities ("not sure about the light") or about
        nothing named; None when the clause has no doubt in it."""
        found = self.doubts.search(clause)
        if found is None:
            return None
        thing = []
        for w in re.findall(r"[\w'\-]+", clause[found.end():].lower()):
            if w in self.preps and thing:
                break  # "the lemons next to it": the lemons
            if w not in self.filler and w not in _NOT_THINGS and w not in self.preps:
                thing.append(w)
        if not thing or len(thing) > 3 or any(w in self.picture_nouns for w in thing):
            return ""
        return " ".join(thing)

    def temperature(self, clause: str) -> str | None:
        """ "warmer" for a statement that the picture is too cold ("it feels a bit cold and clinical",
        "the light looks kinda sterile", "a bit cool"), "cooler" for one that it is too warm ("everything
        is way too orange"); None for anything else. The statement is about the picture (it, this,
        everything, the light…) or has no subject, and says nothing but its temperature."""
        tokens = re.findall(r"[\w'\-]+", clause.lower())
        if tokens and tokens[0] in _DETERMINERS and len(tokens) > 1 and tokens[1] in self.picture_nouns:
            tokens = tokens[2:]  # "the light feels cold"
        said = bool(tokens) and tokens[0].endswith("'s")  # "it's very clinical"
        if tokens and re.fullmatch(r"(?:it|this|that|everything|all)(?:'s)?", tokens[0]):
            tokens = tokens[1:]
        said = said or bool(tokens) and (tokens[0] in _BEING or tokens[0] in _TURNED)
        while tokens and (tokens[0] in _BEING or tokens[0] in _TURNED):
            tokens = tokens[1:]
        text = " ".join(tokens)
        excess = any(re.search(rf"(?<![\w']){re.escape(w)}(?![\w'])", text) for w in self.excess)
        if not tokens or not (said or excess):
            return None  # "cold brew", "cold": no statement about the picture
        found = set()
        for w in tokens:
            sides = [edit for edit, (always, in_excess) in self.temperatures.items()
                     if w in always or (excess and w in in_excess)]
            if sides:
                found.update(sides)
            elif w not in self.filler and w not in _DEGREES and w not in self.excess:
                return None  # "it looks cold and wet", "a cold winter morning": more than a temperature
        return found.pop() if len(found) == 1 else None

    def statement(self, clause: str, editing: bool) -> tuple[str, str, str] | None:
        """("wish", thing, what) for "the towel should be yellow"; ("complaint", thing, predicate) for
        "the laptop looks super fake" / "the cutting board behind it kinda steals the show"; ("praise",
        thing, predicate) for "the beach looks lovely"; None for anything else (a request, feedback on
        the picture's light or colour, a description)."""
        if not editing:
            return None
        low = clause.lower().strip()
        existential = _EXISTENTIAL.match(low)
        tokens = low[existential.end():].split() if existential else low.split()
        if not tokens:
            return None
        if not existential:
            if tokens[0] not in _DETERMINERS:
                return None
            tokens = tokens[1:]
        thing: list[str] = []
        rest_at = len(tokens)
        for i, w in enumerate(tokens):
            if w in _BEING or w.endswith(("'s", "'re")) or w in self.preps or w in _PREDICATE_STARTS:
                rest_at = i
                break
            thing.append(w)
        if not thing or rest_at == len(tokens) or len(thing) > 3:
            return None
        name = " ".join(thing)
        if any(w in self.picture_nouns or w.rstrip("s") in self.picture_nouns for w in thing):
            return None  # "the light is too harsh": the planner's feedback rules read that
        predicate = " ".join(tokens[rest_at:])
        if not _has_verb(tokens[rest_at:], self.preps):
            return None  # "the same mug on a table": a description, no statement
        wish = _WISH.match(f"{name} {predicate}")
        if wish:
            what = [w for w in wish.group("what").split() if w not in ("please", "pls", "instead")]
            if what and all(w in self.colours for w in what):
                return "wish", name, " ".join(what)
        words = set(re.findall(r"[\w'\-]+", predicate))
        if words & self.colours:
            return None  # "the sand looks too yellow": a colour to change, not a thing to take out
        if words & self.praise and not any(w in ("not", "no") or w.endswith("n't") for w in words):
            return "praise", name, predicate
        return "complaint", name, predicate

    def complains(self, predicate: str) -> bool:
        """Whether what is said of a thing asks to take it out: anything but a praise or a wish does
        ("looks super fake", "steals the show", "is way too big"); a plain place ("is behind it") does
        not."""
        ignored = self.filler | self.preps | _BEING | {"it", "them", "me", "kinda", "really", "just"}
        return any(w not in ignored for w in re.findall(r"[\w'\-]+", predicate))
