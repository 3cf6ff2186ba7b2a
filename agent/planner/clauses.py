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
- a doubt or a doubting opinion about a thing ("not sure about the lemons", "I don't think the lamp
  works") takes it out; so does less of it ("fewer cars", "tone them down"), and a pronoun after a
  complaint is the thing complained of ("the laptop is a bit much, swap it for a notebook");
- a statement that judges the picture asks for the change its words name ("kinda dull": more contrast,
  "it feels a bit cold": warmer, "way too cluttered": less busy) or for none ("looks kinda cheap"), and
  what a change should not be ("nothing fancy", "keep it subtle") draws nothing;
- hedges are not picture words: interjections ("erm"), "I reckon/suppose/figure", a condition ("if that
  makes sense"), modal verbs ("should", "ought to"), and statements whose subject is a person or a
  pronoun ("they clash with the label", "people find them creepy").

Words of the picture itself (light, shadow, background, colour…) are left to the planner's own rules:
"the light is too harsh" is feedback, not a thing to remove. Word lists: prompts/vocabulary.yaml
(`clauses`, `remove_words`, `colours`, `product_modifiers`, `picture_complaints`, `judgements`,
`showy_words`, `restrained_words`)."""

from __future__ import annotations

import re

from sceneshop.agent.planner.lexicon import phrase_key, word_set

_SPLIT = re.compile(r"\s*(?:[,;!?\n]+|(?<!\d):(?!\d)|\.(?!\d)|\s[-–—]+\s|…)\s*")
# "erm", "umm", "hmmm", "uhh", "ahh", "mmm": sounds, not words.
_INTERJECTION = re.compile(r"(?<![\w'])(?:e+r+m*|u+m+|h+m+|u+h+|a+h+|m+h*m+|e+h+|o+h+)(?![\w'])", re.I)
# "I reckon", "I suppose", "I'd say": the speaker and a verb of thinking or saying, before the request.
_I_VERB = re.compile(r"^(?:(?:and|so|but|well)\s+)?i\s+(?:'d\s+|would\s+)?"
                     r"(?:(?:only|just|really|also|still|already|actually|kinda|do)\s+)?(?P<verb>[a-z']+)(?![\w'])\s*",
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
# How a thing named without "the" is judged: "oats look weird", "shells seem cheap" (not "are", which
# also describes: "lemons are in season").
_BARE_SEEMING = {"look", "looks", "seem", "seems"}
_DETERMINERS = {"the", "that", "those", "this", "these", "your", "its"}
_EXISTENTIAL = re.compile(
    r"^(?:there(?:'s|\s+is|\s+are|'re)|i\s+see|i\s+can\s+see)\s+(?:a|an|some|the|this|that)?\s*", re.I)
# "that works", "this rocks": a verdict on the picture.
_VERDICT = re.compile(r"(?:(?:yeah|yes|yep|yup|ok|okay|well|oh|ah|hey)\s+)*(?:that|this|it)\s+[a-z]+s")
# Where the idea came from: "i saw this on pinterest", "got the idea from a competitor's listing",
# "seen something like it on tiktok" (a thing seen, "I saw a spoon behind it", is not one).
_SOURCE_SAID = (r"(?:(?:and|so|but)\s+)?(?:i\s+(?:'ve\s+|have\s+)?)?"
                r"(?:saw|seen|found|spotted|got|stole|copied|took)\s+"
                r"(?:this|it|that|one|the\s+idea|(?:one|something)\s+like\s+(?:this|it|that))"
                r"(?:\s+[\w']+){0,3}?\s+(?:on|from|at|via|off)\s+")
_SOURCE = re.compile(_SOURCE_SAID + r"[\w' .-]+", re.I)
# ...and what the picture seen there showed, after the source: "saw this on tiktok where they had the
# candle on a wooden table", "found one on etsy with dried flowers around it", "seen it on ig showing a
# mug on moss": the picture's words stay, the source goes.
_SOURCE_SHOWING = re.compile(
    _SOURCE_SAID + r"(?:(?:a|an|the|my|some)\s+)?[\w'.-]+(?:\s+[\w'.-]+){0,2}?\s+"
    r"(?:where|in\s+which|which|that|with|showing)\s+"
    r"(?:(?:they|someone|somebody|she|he|it|you|people)\s+)?"
    r"(?:(?:had|has|have|put|did|showed|shows|used|got|was|were|is|are)\s+)?(?P<rest>\S.*)", re.I)
# ...or someone seen doing it, and how: "i saw a brand on insta do it on a beach at sunrise", "seen a shop
# on etsy shoot theirs on marble", "saw my competitor doing this with lemons", "my friend did it on a
# beach". What was done is named ("it", "theirs"), so "i saw you put a spoon there" is not one.
_SEEN_DOING = re.compile(
    r"(?:(?:and|so|but)\s+)?"
    r"(?:(?:i\s+(?:'ve\s+|have\s+)?)?(?:saw|seen|watched|noticed|spotted)\s+(?:(?:a|an|the|some|this|that|my|one|our)\s+)?"
    r"|(?:a|an|some|this|that|my|one|our)\s+)"  # "my friend did it on a beach": someone's, not seen
    r"[\w'.-]+(?:\s+[\w'.-]+){0,2}?"
    r"(?:\s+(?:on|from|at|via)\s+[\w'.-]+(?:\s+[\w'.-]+)?)?\s+"
    r"(?:do|doing|did|does|done|shoot|shooting|shot|shoots|put|puts|putting|style|styling|styled|show|showing"
    r"|showed|post|posting|posted)\s+"
    r"(?:it|this|that|one|theirs|them|the\s+same|something\s+similar|(?:the|their|a)\s+same\s+thing)"
    r"\s+(?P<rest>\S.*)", re.I)
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
_LEAD = re.compile(r"^(?:(?:please|pls|plz|can\s+you|could\s+you|would\s+you|i'd|i\s+would|we'd|we\s+would"
                   r"|just|and|also|then|so|nah|no"
                   r"|nope|ok|okay|actually|oh|well|yeah|yes|now|maybe|perhaps|instead|hmm|ugh|right)\s+)+")
# Words of degree and joining said with a temperature ("a bit cold and clinical", "kinda too orange").
_DEGREES = {"and", "or", "&", "overly", "somewhat", "rather", "pretty", "super", "far", "way", "getting",
            "too", "very", "kinda", "bit", "tbh", "now", "still", "lol", "honestly", "tho", "though",
            "overall"}
# Verbs of coming out a certain way ("it came out a bit cold", "it's gone very orange").
_TURNED = {"came", "comes", "come", "turned", "turns", "out", "gone", "went", "got", "gets", "getting",
           "become", "became", "gotten", "becoming", "looking", "feeling", "seeming", "grown"}
# Changes that undo each other: a judgement naming both names neither.
_OPPOSITES = [("warmer", "cooler"), ("more_contrast", "less_contrast"), ("brighter", "darker"),
              ("busier", "calmer"), ("more_blur", "less_blur"), ("softer_light", "harder_light")]
# What a change should not be: "nothing fancy", "nothing too dark", "not too flashy", "but nothing over
# the top" (vocabulary `judgements` after a bare "nothing"; anything after "too").
# "but don't make it cluttered", "do not let it look busy": the same, said as an order.
_UNWANTED = re.compile(r"^(?:(?:but|and|just|please|though)\s+)*(?:nothing|not\s+anything|not|"
                       r"(?:don'?t|do\s+not)\s+(?:make|let|get)\s+(?:it|them|things|everything|it\s+all)"
                       r"(?:\s+(?:look|looking|seem|feel|get|be))?)\s+"
                       r"(?P<degree>(?:too|overly|that|so|very|super|crazy)\s+)?(?P<what>[\w' -]+?)"
                       r"(?:\s+(?:please|pls|though|tho|thanks|ok|okay))*$")
# How a change should stay: "keep it subtle", "but keep things nice and simple".
_KEEP_IT = re.compile(r"^(?:(?:but|and|just|please)\s+)*keep\s+"
                      r"(?:it|things|everything|this|that|them|it\s+all)\s+"
                      r"(?:(?:nice\s+and|fairly|pretty|quite|very|really|super|a\s+bit|more|on\s+the)\s+)*"
                      r"(?P<what>[\w' -]+?)(?:\s+(?:side|please|pls|though|tho|thanks))*$")
# What is needed, after a doubting opinion: "(I don't think) we need the tray", "(not sure) you need it".
_NEEDED = re.compile(r"^(?:we|you|i|it|they)\s+(?:really\s+)?(?:need|needs|want|have)\s+(?P<thing>.+)$")
# How a request opens before what it asks for: "can we have (fewer cushions)", "could you do (less of it)".
_ASKED = re.compile(r"^(?:(?:can|could|would)\s+(?:we|you|i|it)\s+)?"
                    r"(?:(?:have|get|do|make\s+it|go\s+with|use|show|see|try|want|need)\s+)?")
# Less of a thing: "fewer cars", "too many cushions", "not so many candles", "less of the ivy".
_FEWER = re.compile(r"^(?:(?:a\s+(?:bit|little|lot)|way|much|far)\s+)?(?P<lead>fewer|less\s+of|less|"
                    r"(?:not\s+(?:so|as)|(?:way\s+|far\s+)?too)\s+many|cut\s+down\s+on|thin\s+out"
                    r"|reduce(?:\s+the\s+number\s+of)?)\s+(?P<thing>.+)$")
# What a set is busy with: less of these is less busy, not a thing taken out.
_BUSY_NOUNS = {"clutter", "props", "prop", "stuff", "things", "items", "objects", "bits", "decor",
               "decorations"}
# "tone the flowers down", "tone down the neon", "dial them back".
_TONED = re.compile(r"^(?:tone|dial|turn)\s+"
                    r"(?:(?P<a>[\w' -]+?)\s+(?:down|back)|(?:down|back)\s+(?P<b>[\w' -]+))"
                    r"(?:\s+(?:a\s+bit|a\s+little|a\s+touch|please|pls))*$")
# A place or thing offered with a hedge: "maybe a wine cellar?", "perhaps some lemons".
_OFFER = re.compile(r"^(?:maybe|perhaps)\s+(?=(?:a|an|some)\s)", re.I)
# A thing wished for as a judgement: "a boathouse could be nice", "some figs would look better".
_WOULD_BE = re.compile(r"^(?P<np>(?:a|an|some)\s+[\w' -]+?)\s+(?:would|could|might)\s+(?:really\s+)?"
                       r"(?:look|be|work|suit|fit|go)\b.*$", re.I)
# A pronoun swapped for something: "swap it for a notebook", "replace them with a few herbs".
_SWAP_PRONOUN = re.compile(r"^(?P<verb>swap|replace|switch|exchange|trade|change)\s+"
                           r"(?P<it>it|them|that|those|this|these|'?em)"
                           r"(?P<rest>(?:\s+out)?\s+(?:for|with|to|by)\s+\S.*)$", re.I)
# A thing swapped for another: "swap the jug for a vase", "replace those candles with fairy lights".
_SWAP_THING = re.compile(r"^(?:swap|replace|switch|exchange|trade)\s+(?:the|that|this|those|these)\s+"
                         r"(?P<thing>[\w' -]+?)\s+(?:out\s+)?(?:for|with)\s+\S", re.I)
# A statement about the thing just named, said with a pronoun: "it's distracting", "they're a bit much".
_PRONOUN_SAID = re.compile(r"^(?:it|they|that|this|those|these)"
                           r"(?:'s|'re|\s+(?:is|are|looks?|seems?|feels?))\s+(?P<what>.+)$")


def _phrases(phrases) -> re.Pattern:
    """One pattern for a set of phrases: whole words, longest first."""
    ordered = sorted((p for p in phrases if p), key=len, reverse=True)
    body = "|".join(r"\s+".join(map(re.escape, p.split())) for p in ordered)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])")


_MODALS = re.compile(r"(?<![\w'])(?:should|ought\s+to|ought|must)(?![\w'])\s*", re.I)


def restructure(words: str, vocab: dict, *, editing: bool) -> str:
    """`words` rewritten clause by clause (see the module's doc); unchanged when no rule applies.
    `editing`: there is a current picture, so "the X …" may be about a thing in it."""
    cached = _RULES.get(id(vocab))
    if cached is None or cached[0] is not vocab:
        cached = _RULES[id(vocab)] = (vocab, _Rules(vocab))
    rules = cached[1]
    clauses = _corrected([p for c in _SPLIT.split(words) if c.strip() for p in rules.pieces(c) if p.strip()])
    clauses = rules.changed_mind(clauses)
    clauses = _place_corrected(clauses, rules.places)
    clauses = _another_of(clauses, rules.picture_nouns)
    out: list[str] = []
    subject: str | None = None  # the thing the last statement was about ("the laptop looks fake")
    for clause in clauses:
        clause = " ".join(_INTERJECTION.sub(" ", clause).split())
        # read before the hedges go: "not sure" is one of them
        doubted = rules.doubted(clause)
        if doubted is None:
            doubted = rules.opinion(clause)  # "I don't think the lamp works", "not sure the rug fits"
        if doubted is not None:
            thing = doubted if doubted.lower() not in _PRONOUN_OBJECTS else subject
            if thing:
                out.append(f"remove {thing}")
                subject = thing  # "…, maybe take them out?": the thing doubted
            continue
        if subject and out and out[-1] == f"remove {subject}" and rules.few.fullmatch(clause):
            # "the lavender is too much, just a sprig or two": fewer of it, a calmer picture
            out[-1] = rules.edit_words["calmer"]
            continue
        offer = _OFFER.match(clause)
        clause = " ".join(rules.hedges.sub(" ", clause).split())
        if not clause:
            continue
        if offer and re.match(r"(?:a|an|some)\s", clause, re.I):
            clause = f"{offer.group().strip()} {clause}"  # "maybe a wine cellar?": a place offered
        low = clause.lower()
        if editing and _VERDICT.fullmatch(low):
            continue
        verdict = rules.verdict.match(low) if editing else None
        if verdict:  # "its ok i guess but could it be less cluttered": the request after the verdict
            clause = clause[verdict.end():].strip()
            low = clause.lower()
        same = _SAME_THING.fullmatch(low)
        if same and not set(same.group("thing").split()) & rules.not_things:
            clause = low = f"keep the {same.group('thing')}"  # "same strawberries": they stay in the picture
        elif _UNCHANGED.fullmatch(low):
            continue  # "same settings", "keep everything else the same": what stays, nothing to draw
        if low.startswith("if ") or low == "if":
            continue  # "if that makes sense", "if possible": a condition draws nothing
        if rules.unwanted(clause):
            continue  # "nothing fancy": how a change should not be, nothing to draw
        shown = _SOURCE_SHOWING.fullmatch(clause) or _SEEN_DOING.fullmatch(clause)
        if shown:  # "saw this on tiktok where they had <the picture>": the picture, without its source
            clause, low = shown.group("rest"), shown.group("rest").lower()
        elif _SOURCE.fullmatch(clause):
            continue  # "i saw this on pinterest": where the idea came from, nothing to draw
        if rules.arrival.fullmatch(low):
            continue  # "it just landed": how the product arrived, nothing to draw
        if rules.repair.fullmatch(low):
            continue  # "fix?", "can you sort that out": the other clauses say what
        m = _I_VERB.match(clause)
        if m and m.group("verb").lower() not in _ASKING_VERBS:
            clause = clause[m.end():].strip()
            low = clause.lower()
            if not clause:
                continue
        said = _PRONOUN_SAID.match(low)
        judged = rules.judgement(said.group("what")) if said and subject else None
        if judged is not None and set(judged) <= {rules.edit_words["calmer"]}:
            out.append(f"remove {subject}")  # "fewer cars, it's distracting": the cars
            continue
        edits = rules.judgement(clause)
        if edits is not None:  # "it feels a bit cold and clinical": warmer; "kinda boring": nothing
            out.extend(edits)
            continue
        toned = rules.toned(clause)
        if toned is not None:
            if toned.lower() in _PRONOUN_OBJECTS:
                if subject is None:
                    out.append("tone it down")  # the picture: darker
                    continue
                toned = subject
            out.append(f"remove {toned}")  # "the flowers are too bright, tone them down": less of them
            subject = toned
            continue
        fewer = rules.fewer(clause) if editing else None
        if fewer is not None:  # "fewer cars": what is had less of goes
            out.append(f"remove {fewer}")
            subject = fewer
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
            subject = target  # "get rid of the lamp, it's distracting": still the lamp
            continue
        swap = _SWAP_PRONOUN.match(clause)
        if swap and subject:  # "the laptop is a bit much, swap it for a notebook": the laptop
            out.append(f"{swap.group('verb')} {subject}{swap.group('rest')}")
            subject = None
            continue
        swapped = _SWAP_THING.match(clause)
        if swapped:  # "swap the jug for a vase, it's too much": "it" is the jug
            subject = swapped.group("thing")
        wished = _WOULD_BE.match(clause) if editing else None
        if wished:  # "a boathouse could be nice?", "an old barn would be better": offered, as "maybe a X"
            out.append(f"maybe {wished.group('np')}")
            continue
        statement = rules.statement(clause, editing)
        if statement is not None:
            kind, thing, what = statement
            subject = thing
            if kind == "wish":
                out.append(f"{what} {thing}")
            elif kind == "complaint":
                out.append(("remove " + thing) if rules.complains(what) else "")
            elif kind == "quality":
                # "the flowers are too bright": as it is; "the pool looks too blue and fake": without the
                # judgement, which names no change
                out.append(rules.without_judgements(_MODALS.sub("", clause).strip()))
            # praise or an opinion: nothing to draw
            continue
        first = low.split()[0]
        if first in _SUBJECT_PRONOUNS and len(low.split()) > 1:
            continue  # "they clash with the label", "people find them creepy"
        out.append(_MODALS.sub("", clause).strip())
    kept = list(dict.fromkeys(c for c in out if c))  # "the laptop looks fake, get rid of it": once
    if kept == [c.strip() for c in _SPLIT.split(words) if c.strip()]:
        return words  # no rule applied: the words as the merchant wrote them
    return ", ".join(kept)


# The merchant taking back what they just asked for: "some basil.. actually no basil, rosemary", "a
# candle, wait no candle". The thing is left out of the earlier clause, and the correction draws nothing.
_CORRECTION = re.compile(r"^(?:(?:actually|wait|oh|hmm+|nah|no\s+wait|on\s+second\s+thought)[\s,]+)+"
                         r"(?:no|not)\s+(?:the\s+|any\s+|some\s+)?(?P<thing>[\w'-]+(?:\s+[\w'-]+)?)$", re.I)
_ASKED_FOR = r"(?:(?:a|an|some|the|a\s+few|more)\s+)?"


def _corrected(clauses: list[str]) -> list[str]:
    """`clauses` without what a later "actually no X" takes back (the earlier clause keeps its other
    words: "lemons and basil, actually no basil" -> "lemons")."""
    out = list(clauses)
    for i, clause in enumerate(clauses):
        m = _CORRECTION.match(clause.strip())
        if not m:
            continue
        thing = re.escape(m.group("thing"))
        asked = re.compile(rf"(?:\s+(?:and|or|plus|&)\s+)?{_ASKED_FOR}{thing}(?![\w'])", re.I)
        earlier = [j for j in range(i) if asked.search(out[j])]
        if not earlier:
            continue  # "actually no people": nothing asked for this time, a thing to take out
        j = earlier[-1]
        rest = " ".join(asked.sub(" ", out[j], count=1).split())
        # "add [a candle] and a vase" -> "add a vase"
        rest = re.sub(r"^((?:\w+\s+)?)(?:and|or|plus|&)\s+", r"\1", rest, flags=re.I)
        out[j] = "" if re.fullmatch(r"(?:and|plus|also|add|with|\s)*", rest, re.I) else rest
        out[i] = ""
    return [c for c in out if c.strip()]


# "same strawberries": the things of the picture before, kept ("same settings" is _UNCHANGED).
_SAME_THING = re.compile(r"(?:(?:but|and|with|just|please)\s+)*(?:the\s+)?same\s+"
                         r"(?P<thing>[a-z]+(?:\s+[a-z]+)?)(?:\s+(?:please|pls|too|as\s+before))?")
# "no not that plant its massive, (a) smaller one": the thing said not to be that one...
_NOT_THAT = re.compile(r"^(?:(?:no+|nah|nope|hmm+|ugh)[\s,]+)*(?:not\s+(?:that|this|those|these|the)|"
                       r"(?:that|this|the)(?=\s+[a-z]+\s+(?:is|looks|its|it's|seems)\s))"
                       r"\s+(?P<thing>[a-z]+)\b", re.I)
# ...and the other one asked for in its place.
_OTHER_ONE = re.compile(r"^(?:(?:maybe|just|but|a|an|with)\s+)*(?P<how>[a-z]+er|different|other|another)\s+"
                        r"one(?:\s+(?:please|pls|plz|instead|then))*$", re.I)


def _another_of(clauses: list[str], picture_nouns: set[str]) -> list[str]:
    """`clauses` with "not that X (it's massive), smaller one" read as a swap of the X for a smaller X
    (the thing stays in the picture, as asked), never "no X" nor a clause "smaller one"."""
    out = list(clauses)
    for i in range(len(out) - 1):
        said, other = _NOT_THAT.match(out[i].strip()), _OTHER_ONE.fullmatch(out[i + 1].strip())
        if not said or not other or said.group("thing").lower() in picture_nouns:
            continue
        thing, how = said.group("thing").lower(), other.group("how").lower()
        out[i] = f"swap the {thing} for {'another' if how == 'another' else f'a {how}'} {thing}"
        out[i + 1] = ""
    return [c for c in out if c.strip()]


# Taking back what was just said, alone in its clause: "(on a wood table) - actually no, (on slate)",
# "no wait", "scratch that", "or rather", "i mean".
_RETRACTION = re.compile(r"^(?:(?:actually|wait|oh|hmm+|nah|sorry|ugh|on\s+second\s+thoughts?)[\s,]+)*"
                         r"(?:no+|nope|no\s+wait|wait\s+no|scratch\s+that|or\s+rather|rather|i\s+mean"
                         r"|make\s+that|correction)[\s.!]*$", re.I)


def _place_corrected(clauses: list[str], places: set[str]) -> list[str]:
    """`clauses` without a place a retraction takes back: "on a rustic wood table - actually no, on a
    dark slate board" -> the slate board only; the earlier clause keeps its other words ("an etsy
    version"). A retraction followed by anything else is left to the other rules."""
    out = list(clauses)
    for i in range(1, len(out) - 1):
        nxt = out[i + 1].strip().lower().split()
        if not _RETRACTION.match(out[i].strip()) or not nxt or nxt[0] not in places:
            continue
        words = out[i - 1].split()
        said = [k for k, w in enumerate(words) if w.lower() in places]
        if not said:
            continue
        out[i - 1] = " ".join(words[: said[-1]])
        out[i] = ""
    return [c for c in out if c.strip()]


# A negation joined to another: "no people and no towels", "without the tray or without the cup".
_JOINED_NEGATION = re.compile(r"\s+(?:and|or|nor|plus|&)\s+(?=(?:no|without|not)\s)", re.I)
# "more flowers and less leaves": more of one thing, and less of another (which goes).
_JOINED_FEWER = re.compile(r"\s+(?:and|but|plus|&)\s+(?=(?:less|fewer)\s)", re.I)


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
        verbs = word_set(vocab, "remove_words", "clauses.remove_verbs")
        self.remove_verbs = sorted(verbs - {"no", "without", "minus", "not"}, key=len, reverse=True)
        asks = word_set(vocab, "conversation.request_verbs", "changing_verbs")
        asks = sorted(asks, key=len, reverse=True)
        self.joined_removal, self.joined_request = (_joined(self.remove_verbs), _joined(asks))
        hedges = word_set(vocab, "conversation.hedges") - _AMBIGUOUS_HEDGES
        body = "|".join(r"\s+".join(map(re.escape, h.split())) for h in sorted(hedges, key=len, reverse=True))
        self.hedges = re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.I)
        arrived = sorted(word_set(vocab, "conversation.arrival_verbs"), key=len, reverse=True)
        # "it just landed", "they came in today": how the product arrived, nothing to draw
        self.arrival = re.compile(r"(?:(?:it|they|this|these|that|which|it's|they're)\s+)?(?:just\s+)?(?:"
                                  + "|".join(r"\s+".join(map(re.escape, v.split())) for v in arrived)
                                  + r")(?:\s+(?:today|yesterday|this\s+week|this\s+morning))?", re.I)
        repairs = sorted(word_set(vocab, "clauses.repairs"), key=len, reverse=True)
        self.repair = re.compile(r"(?:(?:can|could|would|will)\s+(?:you|u)\s+|(?:please|pls|plz)\s+)?(?:"
                                 + "|".join(r"\s+".join(map(re.escape, v.split())) for v in repairs)
                                 + r")(?:\s+(?:it|that|this|them|those|these|'?em))?(?:\s+(?:out|up))?"
                                   r"(?:\s+(?:please|pls|plz|somehow|for\s+me|a\s+bit))*", re.I)
        # One kind per word that a change of mind swaps for another of its kind (vocabulary
        # clauses.change_of_mind): the times of day, the colours.
        self.kinds = {phrase_key(w): "time" for ws in vocab["time_words"].values() for w in ws}
        self.kinds |= {phrase_key(w): "colour" for w in vocab["colours"]}
        kinds = "|".join(r"\s+".join(map(re.escape, k.split()))
                         for k in sorted(self.kinds, key=len, reverse=True))
        self.kind_word = re.compile(rf"(?<![\w'])(?:{kinds})(?![\w'])", re.I)
        minds = sorted(word_set(vocab, "clauses.change_of_mind"), key=len, reverse=True)
        self.change_of_mind = re.compile(
            r"^(?:(?:" + "|".join(r"\s+".join(map(re.escape, m.split())) for m in minds) + r")[\s,]+)+"
            r"(?:(?:make\s+it|go\s+with|do|at|in)\s+)?(?P<new>.+?)(?:\s+(?:instead|then|please|pls))?$", re.I)
        self.picture_nouns = word_set(vocab, "clauses.picture_nouns")
        self.praise = word_set(vocab, "clauses.praise")
        self.colours = word_set(vocab, "colours", "product_modifiers", "clauses.finishes")
        self.preps = word_set(vocab, "prepositions")
        placement = vocab["placement_words"]
        # Words that are never a thing kept by "same …" ("same light", "same settings", "same again")
        self.not_things = word_set(vocab, "filler", "clauses.picture_nouns", "keep", "prepositions") | \
            _BUSY_NOUNS | {"settings", "setup", "again", "one", "ones", "way", "thing", "things", "seed",
                           "prompt", "recipe", "vibes", "colours", "colors", "everything", "all"}
        self.places = {str(w) for w in [*placement["setting"], *placement["surface"]]}
        self.filler = word_set(vocab, "filler")
        doubts = sorted((phrase_key(w) for w in vocab["clauses"]["doubts"]), key=len, reverse=True)
        body = "|".join(r"\s+".join(map(re.escape, d.split())) for d in doubts)
        # "not really feeling it", "not totally sure about the lemons": a word of degree after "not"
        body = body.replace(r"not\s+", r"not\s+(?:(?:really|totally|quite|so|too|that|entirely|fully)\s+)?")
        self.doubts = re.compile(rf"(?<![\w'])(?:{body})(?![\w'])", re.I)
        # "i dont like the flowers", "i hate those towels": a dislike of a thing named with its determiner
        # ("i don't like it so dark" or "i don't like how dark it is" names no thing)
        dislikes = sorted((phrase_key(w) for w in vocab["clauses"]["dislikes"]), key=len, reverse=True)
        body = "|".join(r"\s+".join(map(re.escape, d.split())) for d in dislikes)
        named = r"(?=\s+(?:the|those|these|that|this|all\s+the)\s)"
        self.dislikes = re.compile(rf"(?<![\w'])(?:{body}){named}", re.I)
        judged = vocab["picture_complaints"]
        self.excess = word_set(vocab, "picture_complaints.excess")
        self.excess_re = _phrases(self.excess)
        # phrase -> [(change, when)], a change first; when: "alone" / "always" / "in_excess" ("none":
        # a judgement that names no change)
        self.judged: dict[str, list[tuple[str | None, str]]] = {}
        for edit, lists in judged.items():
            if edit == "excess":
                continue
            for when in ("alone", "always", "in_excess"):
                for w in lists.get(when, []):
                    self.judged.setdefault(phrase_key(w), []).append((edit, when))
        self.judgements = word_set(vocab, "judgements")
        for w in self.judgements:
            self.judged.setdefault(w, []).append((None, "none"))
        self.judged_re = _phrases(self.judged)
        self.judgements_re = _phrases(self.judgements)
        self.unwanted_re = _phrases(word_set(vocab, "judgements", "showy_words"))
        self.restrained_re = _phrases(word_set(vocab, "restrained_words"))
        self.restraints = word_set(vocab, "clauses.restraints")
        # The plain words each change is said with, which the planner reads ("more_contrast" -> "more
        # contrast")
        self.edit_words = {edit: phrase_key(words[0]) for edit, words in vocab["feedback"].items()}
        self.feedback_re = _phrases(word_set(vocab, "feedback"))
        self.fits = word_set(vocab, "clauses.fit_verbs")
        amounts = "|".join(r"\s+".join(map(re.escape, a.split()))
                           for a in sorted(word_set(vocab, "clauses.few_amounts"), key=len, reverse=True))
        self.few = re.compile(rf"(?:(?:just|only|maybe|like|max)\s+)*"
                              rf"(?:{amounts}|(?:a|an|one)\s+[a-z]+\s+or\s+two)"
                              r"(?:\s+(?:is|are|would\s+do|will\s+do|is\s+enough|max|please|pls))*", re.I)
        self.opinions = _phrases(word_set(vocab, "clauses.opinions"))
        # A verdict on the whole picture before "but" ("its ok but …", "it's fine i guess, but …"): "its"
        # is "it's" here, never a thing's ("its ok" is no thing called "ok")
        verdicts = sorted(word_set(vocab, "clauses.verdicts"), key=len, reverse=True)
        self.verdict = re.compile(
            r"^(?:(?:yeah|yes|ok|okay|well|hmm|so)\s+)*(?:it'?s|it\s+is|it\s+looks|that'?s|thats|that\s+is"
            r"|this\s+is|looks)\s+(?:(?:pretty|quite|really|very|kinda|mostly|fairly|so|all|not\s+bad|and)\s+)*"
            r"(?:" + "|".join(r"\s+".join(map(re.escape, v.split())) for v in verdicts) + r")"
            r"(?:\s+(?:overall|now|tbh|though|tho|and\s+all|i\s+suppose))*\s+but\s+(?=\S)")
        self.things = word_set(vocab, "products") | {
            phrase_key(w) for group in vocab["related_words"] for w in group}

    def pieces(self, clause: str) -> list[str]:
        """A clause cut where "and"/"then" joins a removal to another request: "cooler and ditch the sea"
        -> ["cooler", "ditch the sea"]; "drop the park and put it in a greenhouse" -> ["drop the park",
        "put it in a greenhouse"]. Other clauses as they are ("with lemons and ice")."""
        if m := self.joined_removal.search(clause):
            return [*self.pieces(clause[: m.start()]), *self.pieces(clause[m.end():])]
        if m := _JOINED_NEGATION.search(clause):  # "no people and no towels": two things kept out
            return [*self.pieces(clause[: m.start()]), *self.pieces(clause[m.end():])]
        if (m := _JOINED_FEWER.search(clause)) and self.fewer(clause[m.end():]) is not None:
            return [*self.pieces(clause[: m.start()]), clause[m.end():]]
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
        found = self.doubts.search(clause) or self.dislikes.search(clause)
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

    def judgement(self, clause: str) -> list[str] | None:
        """The changes a statement that judges the picture asks for, in the words the planner reads:
        ["warmer"] for "it feels a bit cold and clinical", ["more contrast"] for "kinda dull", ["less
        busy"] for "way too cluttered"; [] for a judgement that names no change ("looks kinda cheap");
        None for anything else. The statement is about the picture (it, this, everything, the light…)
        or has no subject, and says nothing but its judgement; a word that may also describe ("cold",
        "warm") judges only in a statement or with a word of excess (vocabulary `picture_complaints`)."""
        tokens = re.findall(r"[\w'\-]+", clause.lower())
        if tokens and tokens[0] in _DETERMINERS and len(tokens) > 1 and tokens[1] in self.picture_nouns:
            tokens = tokens[2:]  # "the light feels cold"
            verb = next((i for i, w in enumerate(tokens) if w in _BEING), None)
            if tokens and tokens[0] in self.preps and verb is not None:
                tokens = tokens[verb:]  # "the shadow under the tray | looks fake"
        elif len(tokens) > 1 and tokens[0] in self.picture_nouns and tokens[1] in _BEING:
            tokens = tokens[1:]  # "colours look washed out"
        said = bool(tokens) and (tokens[0].endswith("'s") or tokens[0] == "its")  # "it's very clinical"
        if tokens and re.fullmatch(r"(?:it|this|that|everything|all)(?:'s)?|its", tokens[0]):  # its = it's
            tokens = tokens[1:]
        said = said or bool(tokens) and (tokens[0] in _BEING or tokens[0] in _TURNED)
        becoming = self.excess_re.search(" ".join(tokens[:2])) is not None  # "it's getting busy"
        while tokens and (tokens[0] in _BEING or tokens[0] in _TURNED):
            tokens = tokens[1:]
        if any(w in ("more", "less", "fewer", "not", "no") or w.endswith("n't") for w in tokens):
            return None  # "a bit more light", "a little less cluttered", "not so blue": a change asked for
        text = " ".join(tokens).replace("-", " ")
        excess = becoming or self.excess_re.search(text) is not None
        found: list[str | None] = []
        rest = text
        for m in reversed(list(self.judged_re.finditer(text))):
            when = {"alone": True, "none": True, "always": said or excess, "in_excess": excess}
            edit = next((e for e, w in self.judged[m.group()] if when[w]), False)
            if edit is False:
                return None  # "cold brew", "it looks cool": no judgement
            found.append(edit)
            rest = rest[: m.start()] + " " + rest[m.end():]
        rest = self.excess_re.sub(" ", rest)
        if not found or any(w not in self.filler and w not in _DEGREES for w in rest.split()):
            return None  # "it looks cold and wet", "a cold winter morning": more than a judgement
        edits = {e for e in found if e}
        if any({a, b} <= edits for a, b in _OPPOSITES):
            return None
        return [self.edit_words[e] for e in sorted(edits)]

    def unwanted(self, clause: str) -> bool:
        """Whether a clause says only what a change should not be, or how it should stay: "nothing
        fancy", "nothing over the top", "not too flashy", "nothing too dark", "keep it subtle": never
        picture words, and no change of its own."""
        clause = clause.lower().replace("-", " ")  # "low-key", "over-the-top"
        if re.sub(r"^(?:(?:but|and|just|please|though)\s+)+", "", clause).strip() in self.restraints:
            return True  # "but don't go overboard"
        kept = _KEEP_IT.match(clause)
        if kept is not None:  # "keep it subtle", "keep things nice and simple"
            return self.restrained_re.fullmatch(kept.group("what").strip()) is not None
        m = _UNWANTED.match(clause)
        if m is None:
            return False
        what = m.group("what").strip()
        if not what or what.split()[0] in ("many", "much"):
            return False  # "not so many candles": fewer of them
        if m.group("degree"):
            return len(what.split()) <= 3  # "nothing too dark": whatever follows "too" is a degree
        return self.unwanted_re.fullmatch(what) is not None

    def opinion(self, clause: str) -> str | None:
        """What a doubting opinion is about ("I don't think the lamp works" -> "lamp", "not sure the
        rug fits" -> "rug", "I don't think we need the tray" -> "tray", "not sure it goes" -> "it"); ""
        for one that denies a complaint ("I don't think the vase is ugly": it stays); None when the
        clause is no such opinion."""
        low = clause.lower()
        m = self.opinions.match(low)
        if m is None:
            return None
        rest = re.sub(r"^(?:that|if|whether)\s+", "", low[m.end():].strip())
        needed = _NEEDED.match(rest)
        if needed:
            thing = [w for w in needed.group("thing").split()
                     if w not in self.filler and w not in _NOT_THINGS]
            return " ".join(thing[:3]) if thing else None
        first = rest.split()[0] if rest else ""
        if re.sub(r"'(?:s|re)$", "", first) in _PRONOUN_OBJECTS | {"they"}:
            return "it"  # "not sure it fits": the thing just named
        said = self.statement(rest, True)
        if said is None:
            return None
        kind, thing, _ = said
        return thing if kind == "praise" else ""

    def fewer(self, clause: str) -> str | None:
        """The thing a clause asks to have less of ("fewer cars", "too many cushions", "less of the
        ivy", "less traffic"): it is taken out; None for anything else, and for the changes the planner
        knows ("fewer props", "less busy", "less blue")."""
        low = _ASKED.sub("", _LEAD.sub("", clause.lower().strip()))
        if self.feedback_re.match(low):
            return None
        m = _FEWER.match(low)
        if m is None:
            return None
        thing = []
        for w in m.group("thing").split():
            if (w in self.preps or w in _CONDITIONS) and thing:
                break
            if w not in self.filler and w not in _NOT_THINGS:
                thing.append(w)
        if not thing or len(thing) > 3 or any(w in self.picture_nouns or w.rstrip("s") in self.picture_nouns
                                               or w in _BUSY_NOUNS for w in thing):
            return None  # "less light", "fewer shadows", "cut down on the clutter": the planner's feedback
        name = " ".join(thing)
        counted = m.group("lead") != "less"
        if not counted and name not in self.things and name not in self.colours and not name.endswith("s"):
            return None  # "less harsh": a quality, not a thing
        return name

    def toned(self, clause: str) -> str | None:
        """What "tone X down" / "tone down X" / "dial X back" names ("tone them down" -> "them"),
        None when the clause is not one or names the picture's own qualities ("tone it down", "tone
        down the light", "tone down the colours": the planner's feedback)."""
        low = _LEAD.sub("", clause.lower().strip())
        m = _TONED.match(low)
        if m is None:
            return None
        said = (m.group("a") or m.group("b") or "").split()
        if said and all(w in _PRONOUN_OBJECTS for w in said):
            return "it"  # "tone that down": the thing just named, else the picture
        thing = [w for w in said if w not in self.filler and w not in _NOT_THINGS]
        if not thing or len(thing) > 3 or any(w in self.picture_nouns or w.rstrip("s") in self.picture_nouns
                                               for w in thing):
            return None
        return " ".join(thing)

    def changed_mind(self, clauses: list[str]) -> list[str]:
        """`clauses` with a change of mind on one word made ("rooftop at sunset maybe, no wait sunrise,
        sunset is so overdone" -> "rooftop at sunrise maybe"): the new word takes the place of the last
        earlier word of its kind, and a statement about the word taken back (its reason) goes too."""
        out = list(clauses)
        taken_back: list[str] = []
        for i, clause in enumerate(clauses):
            if i and self.change_of_mind.match(f"{clauses[i - 1].strip()} x"):
                clause = f"{clauses[i - 1].strip()} {clause}"  # "wait no, sunrise": the change said apart
            m = self.change_of_mind.match(clause.strip())
            new = m.group("new").strip() if m else ""
            if not m or not self.kind_word.fullmatch(new):
                continue
            kind, key = self.kinds[phrase_key(new)], phrase_key(new)
            for j in reversed(range(i)):
                said = [w for w in self.kind_word.finditer(out[j])
                        if self.kinds[phrase_key(w.group())] == kind and phrase_key(w.group()) != key]
                if said:
                    old = said[-1]
                    taken_back.append(phrase_key(old.group()))
                    lead = re.match(r"(?:at|in|on)\s+", old.group(), re.I)  # "at night" -> "at dusk"
                    if lead and not re.match(r"(?:at|in|on)\s", new, re.I):
                        new = lead.group() + new
                    out[j] = out[j][: old.start()] + new + out[j][old.end():]
                    out[i] = ""
                    if clause != clauses[i]:
                        out[i - 1] = ""
                    break
        for i, clause in enumerate(out):
            tokens = re.sub(r"^(?:the|that|this)\s+", "", clause.lower().strip()).split()
            for word in taken_back:
                n = len(word.split())
                if tokens[:n] == word.split() and len(tokens) > n and (
                        tokens[n] in _BEING or tokens[n] in ("'s", "feels", "seems")):
                    out[i] = ""  # "sunset is so overdone": why it was taken back, nothing to draw
        return [c for c in out if c.strip()]

    def statement(self, clause: str, editing: bool) -> tuple[str, str, str] | None:
        """("wish", thing, what) for "the towel should be yellow"; ("complaint", thing, predicate) for
        "the laptop looks super fake" / "the cutting board behind it kinda steals the show"; ("praise",
        thing, predicate) for "the beach looks lovely"; None for anything else (a request, feedback on
        the picture's light or colour, a description)."""
        if not editing:
            return None
        # "but the lavender is too much": the same statement, when a being verb follows the thing
        joined = re.match(r"(?:(?:but|and|though|also)\s+)+", clause.lower().strip())
        low = clause.lower().strip()[joined.end():] if joined else clause.lower().strip()
        existential = _EXISTENTIAL.match(low)
        if not existential:
            low = re.sub(r"^((?:the|that|those|this|these|your|its)\s+[\w\-]+(?:\s+[\w\-]+){0,2}?)'s\b",
                         r"\1 is", low)  # "the chair's a bit much"
        tokens = low[existential.end():].split() if existential else low.split()
        if not tokens:
            return None
        if not existential:
            if tokens[0] in _DETERMINERS:
                tokens = tokens[1:]
            elif not (len(tokens) > 2 and tokens[1] in _BARE_SEEMING and tokens[0].endswith("s")
                      and tokens[0].isalpha() and tokens[0] not in _BUSY_NOUNS
                      and tokens[0].rstrip("s") not in self.picture_nouns):
                # "oats look weird": things said without "the" are still the things in the picture
                return None
        thing: list[str] = []
        rest_at = len(tokens)
        for i, w in enumerate(tokens):
            if w in _BEING or w.endswith(("'s", "'re", "n't")) or w in self.preps or w in _PREDICATE_STARTS \
                    or w in self.fits:
                rest_at = i  # "the lamp | works", "the rug | doesn't fit"
                break
            thing.append(w)
        if not thing or rest_at == len(tokens) or len(thing) > 3:
            return None
        if joined and tokens[rest_at] not in _BEING:
            return None  # "and this new case too pls": the product named, no statement
        name = " ".join(thing)
        # "the lamp works", "the lamp doesn't do it for me": said of what a thing does, not of light
        fits = any(w in self.fits for w in tokens[rest_at: rest_at + 3]) or tokens[rest_at] in (
            "doesn't", "don't", "didn't", "doesnt", "dont", "didnt")
        if any(w in self.picture_nouns or w.rstrip("s") in self.picture_nouns for w in thing) and not (
                fits and name in self.things):
            # "the light is too harsh": the planner's feedback rules read that; "the lamp doesn't fit"
            # is said of a thing, where "the lamp is too harsh" is the light
            return None
        predicate = " ".join(tokens[rest_at:])
        if not _has_verb(tokens[rest_at:], self.preps) and tokens[rest_at] not in self.fits:
            return None  # "the same mug on a table": a description, no statement
        wish = _WISH.match(f"{name} {predicate}")
        if wish:
            what = [w for w in wish.group("what").split() if w not in ("please", "pls", "instead")]
            if what and all(w in self.colours for w in what):
                return "wish", name, " ".join(what)
        words = set(re.findall(r"[\w'\-]+", predicate))
        if words & self.colours:
            # "the sand looks too yellow": a colour to change, not a thing to take out; the planner reads
            # it as it is, and a pronoun after it still means the thing ("…, tone them down")
            return "quality", name, predicate
        negated = any(w in ("not", "no") or w.endswith("n't") for w in words)
        if words & (self.praise | self.fits) and not negated:
            return "praise", name, predicate
        return "complaint", name, predicate

    def without_judgements(self, clause: str) -> str:
        """A clause without the judgements that name no change ("too blue and fake" -> "too blue")."""
        said = self.judgements_re.pattern
        joined = rf"\s+(?:and|or|&)\s+{said}|{said}\s+(?:and|or|&)(?=\s)|{said}"  # with its "and"
        return " ".join(re.sub(joined, " ", clause).split())

    def complains(self, predicate: str) -> bool:
        """Whether what is said of a thing asks to take it out: anything but a praise or a wish does
        ("looks super fake", "steals the show", "is way too big"); a plain place ("is behind it") does
        not."""
        if self.judgements_re.search(predicate.lower()):
            return True  # "is a bit much", "are overkill"
        ignored = self.filler | self.preps | _BEING | {"it", "them", "me", "kinda", "really", "just"}
        return any(w not in ignored for w in re.findall(r"[\w'\-]+", predicate))
