"""What a request asks for: the Intent read from a request's matched phrases (product, scene,
time, lighting, marketplace, LoRAs, edits, camera, count, colour) and its leftover words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sceneshop.agent.planner import feedback
from sceneshop.agent.planner.lexicon import Match, Reading, phrase_key, word_set
from sceneshop.agent.planner.prompt import picture_words, trim_clause, without_thing
from sceneshop.tools.catalog import Catalog


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
    colour_from: str = ""  # the words that asked for the colour ("can the ball be yellow")
    clauses: list[str] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    corrections: list[tuple[str, str]] = field(default_factory=list)
    offered_place: bool = False  # "try a bakery": a place offered instead of the current one
    dismissed: list[str] = field(default_factory=list)  # "scratch the park": scenes whose place is said to go

    @property
    def edits_fields(self) -> bool:
        """Whether anything besides the seed is asked for."""
        return bool(
            self.scene or self.time or self.lighting or self.market or self.subject or self.loras
            or self.edits or self.framing or self.angle or self.lens or self.restyle or self.count
            or self.clauses or self.removals or self.colour
        )


def _shaped_market(first: str, second: str, catalog: Catalog) -> str:
    """Two marketplace presets named in one message ("an instagram post but square"): the platform's
    own preset of the other's shape when it has one (instagram_square), else the first named."""
    def family(name: str) -> str:
        return name.split("_")[0]

    markets = catalog.marketplaces
    for platform, shape in ((first, second), (second, first)):
        want = markets[shape].width / markets[shape].height
        for name, market in markets.items():
            same_shape = abs(market.width / market.height - want) < 0.01
            if same_shape and family(name) == family(platform) != family(shape):
                return name
    return first


def read_intent(reading: Reading, catalog: Catalog, vocab: dict,
                colour: tuple[str, int, int] | None = None, *, editing: bool = False,
                unnamed: bool = False, drawn: bool = False) -> Intent:
    """What the matched words ask for; `colour` is the product-colour request the message reading
    found (sceneshop.agent.commands.Message.colour), its span in the request's text; `editing`: the
    words change a current recipe. A scene said only in other words ("a lush meadow") is left to the
    planner, which finds it by similarity among the leftover clauses."""
    intent = Intent(corrections=reading.corrections)
    if colour:
        intent.colour = colour[0]
        start, end = reading.work_span(colour[1], colour[2])
        intent.colour_from = reading.work[start:end]
        reading.claim(start, end)
        for m in reading.matches:
            if m.start < end and m.end > start:
                m.effects = ()

    # The product first: its own words ("linen shirt", "vintage leather bag") are not a scene
    # or a style. Then LoRA modifiers ("lighter watercolor" is not "brighter").
    containers = word_set(vocab, "containers", missing_ok=True)
    shops = word_set(vocab, "conversation.shop_nouns")
    for i, m in enumerate(reading.matches):
        product = next((e for e in m.effects if e.kind == "product"), None)
        shop = re.match(r"[\s\-]+([a-z]+)\b", reading.work[m.end:])
        if product and shop and shop.group(1) in shops:
            continue  # "I run a small toy shop": what the merchant sells, not the product shown
        if product and not reading.negated(m) and _is_subject(reading, m, vocab, editing, unnamed, drawn):
            intent.subject, intent.category = _subject_words(reading, m, vocab), product.extra
            m.used = True
            _take_arrival(reading, m.end, vocab)
            nxt = reading.matches[i + 1] if i + 1 < len(reading.matches) else None
            other = next((e for e in nxt.effects if e.kind == "product"), None) if nxt else None
            gap = reading.work[m.end : nxt.start] if nxt else ""
            if other and _name_between(reading, gap, m.end, vocab):
                gap = " "  # "vitamin c serum", "spf 50 sunscreen": one product's name, its head last
            if other and re.fullmatch(r"\s+of\s+(?:the\s+|my\s+)?", gap) and \
                    phrase_key(m.text).split()[-1].rstrip("s") in containers:
                # "a tray of cookies": the contents say what the product is.
                category = other.extra
            elif other and re.fullmatch(r"[\s\-]+", gap):
                # "hot sauce bottle", "wine glass": one product; the head noun names the
                # category unless it is only packaging.
                is_pack = phrase_key(nxt.text).split()[-1].rstrip("s") in containers
                category = product.extra if is_pack else other.extra
            else:
                # "soap bar", "tea tin": a container word right after the product is part of it;
                # "soap dispenser", "bottle of gin": so is a noun no word list knows, right after it
                # (or after "of" when the product word is a container) and before where it is put.
                pack = re.match(r"[\s\-]+([a-z]+)\b", reading.work[m.end:])
                if pack and pack.group(1).rstrip("s") in containers:
                    intent.subject = _subject_words(reading, m, vocab, end=m.end + pack.end())
                else:
                    packed = phrase_key(m.text).split()[-1].rstrip("s") in containers
                    head = _compound_head(reading, m, vocab, container=packed)
                    if head:
                        intent.subject = _subject_words(reading, m, vocab, end=head)
                break
            intent.subject = _subject_words(reading, m, vocab, end=nxt.end)
            intent.category = category
            nxt.used = True
            break
    if intent.subject is not None:
        intent.subject = _with_own_parts(reading, intent.subject)
        again = _take_product_again(reading, intent.subject, vocab)
        if again and len(again.split()) > len(intent.subject.split()):
            intent.subject = again  # "i make planters. show a small grey concrete planter": the one to show
    if intent.subject is None and not editing:
        named = _named_product(reading, vocab) or _opening_noun(reading, vocab)
        if named:  # "our new cold brew can on a picnic table": what the merchant calls theirs
            intent.subject, intent.category = named, "general"
    elif intent.subject is None and unnamed:
        # a new photo, no name yet: "and this new case too" names it (only as just arrived: "make this
        # pop" names nothing)
        named = _named_product(reading, vocab, arrived=True)
        if named:
            intent.subject, intent.category = named, "general"
            _take_arrival(reading, reading.work.find(named) + len(named), vocab)
    lora_ops: dict[str, list[tuple[str, str]]] = {}
    for m in reading.matches:
        for effect in m.effects:
            if effect.kind == "lora":
                lora_ops.setdefault(effect.value, []).append((_lora_op(reading, m, vocab), m.text))
                m.used = True
                _take_style_noun(reading, m, vocab)
                _take_simile(reading, m)

    scene_candidates = []
    for m in reading.matches:
        for effect in m.effects:
            kind, value = effect.kind, effect.value
            dismissed = _dismissed(reading, m, vocab)
            if kind in ("scene", "time", "lighting") and (reading.negated(m) or dismissed):
                if kind == "scene" and editing and dismissed and _the_place(m.text, catalog.scene(value)):
                    intent.dismissed.append(value)  # "scratch the park": the garden goes, not only the word
                continue  # "no flowers": stays in the words, and so in the negative prompt
            if kind == "scene":
                scene_candidates.append((m, value))
            elif kind == "time":
                m.used = True
                if intent.time is None:
                    intent.time, intent.time_from = value, m.text
            elif kind == "lighting":
                m.used = not (m.text in word_set(vocab, "lighting_places")
                              and _placement(reading, m, vocab) in word_set(vocab, "placement_words.setting"))
                if intent.lighting is None:
                    intent.lighting, intent.lighting_from = value, m.text
            elif kind == "market":
                m.used = True
                _take_market_shape(reading, m, vocab)
                if intent.market is None:
                    intent.market, intent.market_from = value, m.text
                elif value != intent.market:
                    intent.market = _shaped_market(intent.market, value, catalog)
            elif kind == "edit":
                if _describes_thing(reading, m, vocab):
                    continue  # "a darker wood", "a bigger vase": the thing's own look, not the picture's
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
    for m in reading.matches:
        kinds = {e.kind for e in m.effects}
        if "lora" in kinds and kinds & {"scene", "time", "lighting"} and (
                reading.negated(m) or _dismissed(reading, m, vocab)):
            # "no neon", "get rid of the neon": a style word that also names something drawn (neon
            # signs, neon light) keeps that out of the picture too, not only the style
            intent.removals.append(f"no {m.text}")
    for name, ops in lora_ops.items():
        kinds = [op for op, _ in ops]
        op = "remove" if "remove" in kinds else next((k for k in kinds if k != "add"), "add")
        intent.loras.append((name, op, ops[0][1]))

    scene_candidates = _drop_surface_nouns(reading, scene_candidates, catalog, vocab)
    if editing:  # "swap the flowers for a few seashells": things swapped, the place stays
        things, places = _swaps(reading, vocab)
        scene_candidates = [c for c in scene_candidates if not any(s <= c[0].start < e for s, e in
                                                                   (m.span() for m in things))]
        scene_candidates = _place_swapped(reading, scene_candidates, places)
    scene_candidates = _drop_where_it_is(reading, scene_candidates, catalog)
    if editing:
        # "near a big tree", "lemon slices and ice cubes": things in the scene, not a new scene --
        # unless it is said as another picture ("and a marble one").
        relative = {str(w) for w in vocab["placement_words"]["relative"]}
        scene_candidates = [c for c in scene_candidates if _placement(reading, c[0], vocab) not in relative
                            or _another_picture(reading, c[0], vocab)
                            or any(m.start("new") <= c[0].start < m.end("new") for m in places)]
    else:
        # "on a bar top with lemons and ice": a thing said with ("with", "and") a place or surface
        # named before it is in that place, not another scene.
        props = {str(w) for w in vocab["placement_words"]["prop"]}
        scene_candidates = [c for c in scene_candidates if not (
            _placement(reading, c[0], vocab) in props and _place_before(reading, c[0], vocab))]
    if scene_candidates:
        best_match, best = max(scene_candidates, key=lambda c: _scene_rank(reading, *c, catalog, vocab))
        intent.scene, intent.scene_from = best, best_match.text
        surfaces = {str(w) for w in vocab["placement_words"]["surface"]}
        settled = _placement(reading, best_match, vocab) not in surfaces
        for m, name in scene_candidates:
            # The winner's words are the preset now; a losing surface ("on a wooden table in a
            # cafe") stays in the user's words, and so does a surface of the same place said
            # beside it ("on a bed in a cosy bedroom": the bed is where the product is).
            if name == best and not (m is not best_match and settled and
                                     _placement(reading, m, vocab) in surfaces):
                m.used = True
    _take_purposes(reading, vocab)
    filler = {str(w).lower() for w in [*vocab["filler"], *vocab["prepositions"]]}
    mentioned = None  # the thing the previous clause named ("I see a sugar bowl behind it, remove that")
    props = feedback.prop_words(catalog) if editing else set()
    for leftover in reading.leftover_clauses(filler):
        if editing:
            # "try a greenhouse", "make it a bakery instead", "or a garage": a new place, said as
            # where the product is, so that it replaces the place said before (feedback.apply_words);
            # also after an aside ("it's fine but could it be a florist shop instead")
            parts = _ASIDE.split(leftover)
            for i in range(0, len(parts), 2):
                offered = _new_place(parts[i], vocab, props)
                if offered:
                    parts[i], intent.offered_place = offered, True
                    leftover = "".join(parts)
                    break
        disliked = _disliked(leftover, vocab)
        if disliked:  # "there's a chair in the picture that's distracting": take the chair out
            intent.removals.append(f"remove {disliked}")
            continue
        clause = trim_clause(leftover, vocab)
        if not clause or set(clause.lower().split()) <= word_set(vocab, "changing_verbs"):
            continue  # "switch to a garden": the garden is the scene, "switch" nothing to draw
        swap = _SWAP.match(clause.lower()) or _made_into(leftover, vocab)
        if swap:  # "swap it for a wool throw", "make the cocktail a coconut": one thing out, another in
            gone = trim_clause(swap.group("old"), vocab) or (mentioned[0] if mentioned else "")
            if gone:
                intent.removals.append(f"remove {gone}")
            words = picture_words(swap.group("new"), vocab)
            if words:
                intent.clauses.append(words)
            mentioned = None
            continue
        if feedback.is_removal(clause, vocab):
            if not trim_clause(feedback.removal_target(clause, vocab), vocab) and mentioned:
                # "remove that": the thing just named, whose words are then no picture words
                intent.clauses = [c for c in intent.clauses if c != mentioned[1]]
                clause = f"remove {mentioned[0]}"
            intent.removals.append(clause)
            mentioned = None
        else:
            words = picture_words(leftover, vocab)  # a question, statement or complaint describes nothing
            named = mentioned[1] if mentioned else None
            if words and named and intent.clauses[-1:] == [named] and _EXAMPLE.match(leftover) and \
                    named.split()[0].lower() not in place_openers(vocab):
                # "a little plant next to it, like a pothos": the kind of the thing just named, one
                # phrase with it, so that taking the plant out takes the pothos too ("on plain yellow,
                # like a bold ad" likens a place: left to the other rules)
                intent.clauses[-1] = words = f"{named} such as {words}"
                mentioned = (mentioned[0], words)
                continue
            if words:
                moved = _moved_to_place(words, vocab, props) if editing else None
                if moved:  # "can you put it in a garage", "move it to a bus stop": the beach goes
                    words, intent.offered_place = moved, True
                intent.clauses.append(words)
            thing = _thing_named(leftover, vocab)
            mentioned = (thing, words) if thing else None
    return intent


_ASIDE = re.compile(r"(\s+(?:but|and\s+then|then)\s+)", re.I)
# An example of the thing just named: "(a little plant), like a pothos", "(some flowers) e.g. tulips".
_EXAMPLE = re.compile(r"^\s*(?:like|such\s+as|e\.?\s?g\.?|for\s+example|for\s+instance|say)\s+"
                      r"(?:a|an|some|the)?\s*[a-z]", re.I)
# Another place offered instead of the current one: "try a X", "make it a X (instead)", "or a X",
# "how about a X", "a X instead", "maybe a X?", "could it be a X", "can we do a X".
_NEW_PLACE = re.compile(
    r"^(?:(?:ok|okay|hmm|maybe|perhaps|no|nah|actually|or|so|then|now|let's|lets|please|just|but)\s+)*"
    r"(?:(?:try|make\s+it|make\s+this|do|how\s+about|what\s+about|go\s+for|go\s+with|switch\s+to"
    r"|change\s+it\s+to|turn\s+it\s+into|swap\s+(?:it|that|this)\s+for|replace\s+(?:it|that|this)\s+with|or"
    r"|(?:could|can|would|should|might)\s+(?:it|this|that)\s+be|what\s+if\s+it\s+(?:was|were)"
    r"|(?:could|can|shall)\s+(?:we|you|i)\s+(?:try|do|go\s+for|go\s+with|make\s+it|switch\s+to))\s+)?"
    r"(?P<det>a|an|some)\s+(?P<x>[a-z][\w'\-]*(?:\s+[a-z][\w'\-]*){0,5}?)"
    r"(?:\s+instead)?(?:\s+(?:please|pls|then|maybe|perhaps))?\s*[?.!]*$"
)


def _new_place(clause: str, vocab: dict, props: set[str]) -> str | None:
    """ "in a X" for a clause that offers a place instead of the current one ("try a bakery", "make it
    a greenhouse instead", "or a garage"), None for anything else: a thing a scene holds ("try a
    vase": a prop), a product, or a clause with no opening verb, "or" or "instead" ("a candle")."""
    low = " ".join(clause.lower().split())
    m = _NEW_PLACE.match(low)
    if m is None:
        return None
    opener = re.sub(r"^but\b", "", low[: m.start("det")]).strip()  # "but a bench" adds a thing
    offered = opener or "instead" in low[m.end("x"):]
    if not offered:
        return None  # "a few lemons": a thing to add, not a place offered
    if not feedback.names_place(m.group("x").split(), vocab, props):
        return None  # "try a vase", "try a few lemons", "some plants": things, where a place is one
    return f"in {m.group('det')} {m.group('x')}"


_MOVED = re.compile(r"^(?:(?:(?:move|moved|take|bring|send|carry)\s+(?:it\s+|this\s+|them\s+)?)?(?P<to>to)"
                    r"|in|at|inside|into)\s+(?P<det>a|an)\s+(?P<x>[a-z][\w'\-]*(?:\s+[a-z][\w'\-]*){0,4})$")


def _moved_to_place(clause: str, vocab: dict, props: set[str]) -> str | None:
    """The place a clause on an edit says the product is now ("in a garage", "at a bus stop"; "(move it)
    to a bus stop" -> "at a bus stop"), None for a spot in the picture there is ("in a corner", "in the
    sand": spots_in_a_scene, or said with "the") or for a thing ("in a basket")."""
    m = _MOVED.match(" ".join(clause.lower().split()))
    if m is None:
        return None
    words = m.group("x").split()
    if words[-1] in word_set(vocab, "spots_in_a_scene") or not feedback.names_place(words, vocab, props):
        return None
    return f"at {m.group('det')} {m.group('x')}" if m.group("to") else clause


_SWAP = re.compile(
    r"^(?:swap|replace|switch|exchange|trade|change)\s+(?P<old>.*?)\s*\b(?:for|with|to)\s+(?P<new>.+)$"
)


def _ignored_words(vocab: dict) -> frozenset[str]:
    return word_set(vocab, "filler", "not_picture_words", "conversation.statement_verbs",
                    "conversation.background_markers")


def _thing_named(clause: str, vocab: dict) -> str | None:
    """The noun phrase a clause is about, up to where it is placed ("i see a sugar bowl behind it"
    -> "sugar bowl")."""
    preps = word_set(vocab, "prepositions")
    ignored = _ignored_words(vocab) | {"see", "i"}
    target = []
    for w in re.findall(r"[\w'\-]+", clause.lower()):
        if w in preps and target:
            break
        if w not in ignored and w not in preps:
            target.append(w)
    return " ".join(target[:3]) or None


def _visit_words(words: list[str], vocab: dict) -> bool:
    """Whether words are only words of a visit ("third visit", "second go", "thing"): never a product."""
    visit = word_set(vocab, "conversation.visit_words")
    return all(w.lower() in visit for w in words)


def _named_product(reading: Reading, vocab: dict, *, arrived: bool = False) -> str | None:
    """A product no word list knows, named as the merchant's own: the words after "my", "our",
    "this", "here's my" up to where it is placed, none of them a scene, light or style word; with
    `arrived`, only one said as just arrived ("this new case", vocabulary conversation.arrival_words)."""
    markers = {"my", "our", "this", "these", "here's", "heres"}
    stops = word_set(vocab, "prepositions", "conversation.statement_verbs", "conversation.not_product_words")
    arrivals = word_set(vocab, "conversation.arrival_words")
    modifiers = word_set(vocab, "product_modifiers")
    ends = word_set(vocab, "filler") - modifiers  # "this new case too pls"
    tokens = list(re.finditer(r"[\w'\-]+", reading.work))
    for i, t in enumerate(tokens):
        if t.group() not in markers or reading.negated(Match(t.start(), t.end(), t.group(), ())):
            continue
        if arrived and (i + 1 >= len(tokens) or tokens[i + 1].group() not in arrivals):
            continue
        words = []
        preps = word_set(vocab, "prepositions")
        for nxt in tokens[i + 1: i + 6]:
            gap = reading.work[(words[-1] if words else tokens[i]).end(): nxt.start()]
            if nxt.group() in preps and not words:
                break  # "put this in a greenhouse": "this" is the product, unnamed
            if nxt.group() in stops | _OWN and not words:
                continue  # "my new …", "this is a family board game", "this is our linen apron"
            if re.search(r"[,;.!?]", gap) or nxt.group() in stops or any(
                    o.start <= nxt.start() < o.end and o.effects for o in reading.matches) and \
                    nxt.group() not in modifiers:  # "our linen apron": its material, not the linen scene
                break
            if words and nxt.group() in ends:
                break
            words.append(nxt)
        if words and words[-1].group() in modifiers:
            words = []  # "this is our linen": a material alone names no product
        if words and len(words) <= NAME_WORDS and all(w.group().isalpha() for w in words) and \
                not _visit_words([w.group() for w in words], vocab):  # "my third visit", "this thing"
            start, end = words[0].start(), words[-1].end()
            reading.claim(start, end)
            for o in reading.matches:
                if start <= o.start < end:
                    o.effects = ()  # "linen apron": part of the product
            return " ".join(reading.work[start:end].split())[:200]
    return None


_OWN = {"a", "an", "the", "my", "our", "your", "their"}  # before a product's name, never part of it
# The most words a product no word list knows is named with: a maker's description runs to four ("hand
# bound leather journal", "small batch soy candle"); longer, it is a sentence.
NAME_WORDS = 4
_SIMILE = re.compile(r"\s*(?:style|look|effect|vibe|aesthetic)?\s*(?:like|as\s+in|a\s+la|à\s+la"
                     r"|reminiscent\s+of|in\s+the\s+style\s+of|inspired\s+by)\b[^,;.!?:]*")


def _name_between(reading: Reading, gap: str, start: int, vocab: dict) -> bool:
    """Whether the words between two product words are short ones that no word list knows ("c" of
    "vitamin c serum", "50" of "spf 50 sunscreen"): the two then name one product."""
    tokens = gap.split()
    if not tokens or len(tokens) > 2 or not re.fullmatch(r"[\s\-]+(?:[a-z0-9]+[\s\-]+){1,2}", gap):
        return False
    stops = feedback.stop_words(vocab)
    offset = start + len(gap) - len(gap.lstrip())
    for token in tokens:
        at = reading.work.find(token, offset)
        known = any(o.start <= at < o.end and o.effects for o in reading.matches)
        if len(token) > 3 or token in stops or known:
            return False
        offset = at + len(token)
    return True


def _take_simile(reading: Reading, m: Match) -> None:
    """ "pixel art like an old 8-bit video game": what a style is likened to explains the style; it is
    not something to draw."""
    found = _SIMILE.match(reading.work, m.end)
    if found and found.end() > found.start():
        reading.claim(found.start(), found.end())


def _unknown_noun(reading: Reading, token: re.Match, stops: set[str]) -> bool:
    """A word no word list gives a meaning to: not filler, a preposition or a keyword of the catalog."""
    word = token.group()
    return word.isalpha() and len(word) > 2 and word not in stops and not any(
        o.start <= token.start() < o.end and o.effects for o in reading.matches)


def _compound_head(reading: Reading, m: Match, vocab: dict, *, container: bool) -> int | None:
    """Where the product phrase ends when an unknown noun right after the product word is its head
    ("soap dispenser", "candle snuffer") or, after a container, its contents ("bottle of gin"): the
    noun must be followed by a preposition, a clause break or the end, so "soap on a rope" and "mug
    red" are not read so."""
    stops = feedback.stop_words(vocab)
    preps = word_set(vocab, "prepositions", "scene_prepositions")
    pattern = r"\s+of\s+(?:the\s+|my\s+|some\s+)?([a-z]+)\b" if container else r"[\s\-]+([a-z]+)\b"
    nxt = re.match(pattern, reading.work[m.end:])
    if not nxt:
        return None
    token = re.compile(r"[a-z]+").match(reading.work, m.end + nxt.start(1))
    if token is None or not _unknown_noun(reading, token, stops):
        return None
    if token.group().endswith("ing") and len(token.group()) > 5:
        return None  # "a teddy bear sitting on a bed": how it is posed, not the name's head noun
    after = reading.work[m.end + nxt.end():]
    following = re.match(r"\s*([\w']+)", after)
    ends = not after.strip() or re.match(r"\s*[,;.!?:()]", after)
    if not ends and (following is None or following.group(1) not in preps):
        return None
    return m.end + nxt.end()


def _opening_noun(reading: Reading, vocab: dict) -> str | None:
    """A product no word list knows, said first: the noun phrase that opens a request, before where it
    is put ("bamboo toothbrush next to a sink", "a notebook on a pastel blue background"). Every word
    of it must be unknown to the catalog (else it is a scene: "wooden table by a window")."""
    stops = feedback.stop_words(vocab) - word_set(vocab, "product_modifiers")
    preps = word_set(vocab, "prepositions", "scene_prepositions")
    tokens = list(re.finditer(r"[\w'\-]+", reading.work))
    i = 0
    while i < len(tokens) and tokens[i].group() in ("a", "an", "the", "some", "one", "two"):
        i += 1
    words = []
    for t in tokens[i: i + NAME_WORDS + 1]:
        if t.group() in preps:
            break
        gap = reading.work[(words[-1].end() if words else t.start()): t.start()]
        if re.search(r"[,;.!?:]", gap):
            return None
        words.append(t)
    else:
        return None  # no place said after it: not "a product on/in somewhere"
    if not words or len(words) > NAME_WORDS or _visit_words([w.group() for w in words], vocab):
        return None  # "second go at this": how the merchant came, not a product
    modifiers = word_set(vocab, "product_modifiers")
    surfaces = word_set(vocab, "surface_nouns", missing_ok=True) | {
        "table", "tables", "scene", "shot", "photo", "picture", "setup"}
    if words[-1].group() in modifiers or words[-1].group() in surfaces or not all(
            w.group() in modifiers or _unknown_noun(reading, w, stops) for w in words):
        return None
    start, end = words[0].start(), words[-1].end()
    reading.claim(start, end)
    return " ".join(reading.work[start:end].split())[:200]


def _disliked(clause: str, vocab: dict) -> str | None:
    """What a complaint about something in the picture names: "the eucalyptus thing next to the
    bottle is way too big" -> "eucalyptus"; "I don't like the umbrella" -> "umbrella"."""
    low = " ".join(re.findall(r"[\w'\-]+", clause.lower()))
    phrases = sorted((phrase_key(p) for p in vocab["conversation"]["dislikes"]), key=len, reverse=True)
    found = next((m for p in phrases if (m := re.search(rf"(?<![\w']){re.escape(p)}(?![\w'])", low))), None)
    if found is None:
        return None
    before, after = low[: found.start()].split(), low[found.end():].split()
    ignored = _ignored_words(vocab)
    preps = word_set(vocab, "prepositions")
    words = before if any(w not in ignored for w in before) else after
    target = []
    for w in words:
        if w in preps and target:
            break  # "a chair in the picture": the thing, not where it is
        if w not in ignored and w not in preps and w not in ("too", "way", "so", "very"):
            target.append(w)
    return " ".join(target[:3]) or None


def _describes_thing(reading: Reading, m: Match, vocab: dict) -> bool:
    """Whether a one-word change ("darker", "bigger") is said of a thing, between an article and its
    noun ("a darker wood would suit it", "add a bigger vase"), not of the picture ("a bit darker", "a
    darker look": a word of the picture's own, vocabulary `filler`)."""
    if " " in m.text.strip():
        return False
    before, after = reading.words_before(m.start, 1), reading.words_after(m.end, 1)
    if not before or before[-1] not in ("a", "an", "the", "some") or not after:
        return False
    gap = reading.work[m.end: m.end + 2]
    if re.match(r"\s*[,;.!?]", gap):
        return False
    ordinary = word_set(vocab, "filler", "prepositions") | {"and", "or", "but"}
    return after[0] not in ordinary


def _placement(reading: Reading, m: Match, vocab: dict) -> str | None:
    """The placement word nearest before a match in its clause ("in", "near", "with"…), if any."""
    placement = vocab["placement_words"]
    words = {*placement["setting"], *placement["surface"], *placement["prop"], *placement["relative"]}
    for word in reversed(reading.words_before(m.start, 4)):
        if word in words:
            return word
    return None


def _another_picture(reading: Reading, m: Match, vocab: dict) -> bool:
    """Whether a scene word is said as another picture with that scene: right before a picture noun
    ("and a marble one", "plus a beach version"; vocabulary references.one_words), in a clause that
    adds nothing ("add a bowl and a wooden one", "with a marble one": a thing)."""
    after = reading.words_after(m.end, 1)
    if not after or after[0] not in word_set(vocab, "references.one_words"):
        return False
    return not set(reading.words_before(m.start, 8)) & (_ADDING - {"and", "plus"})


def _dismissed(reading: Reading, m: Match, vocab: dict) -> bool:
    """Whether a verb that takes something out comes right before a match ("scratch the park", "lose
    the city in the back"): the match is what goes, not what is asked for. A negation ("no", "without")
    is Reading.negated's."""
    verbs = word_set(vocab, "remove_words", "clauses.remove_verbs") - {"no", "without", "minus", "not"}
    articles = {"a", "an", "the", "that", "those", "this", "these", "all", "my"}
    before = " ".join(w for w in reading.words_before(m.start, 6) if w not in articles)
    return any(before == v or before.endswith(" " + v) for v in verbs)


def _the_place(phrase: str, scene) -> bool:
    """Whether a scene keyword taken out ("scratch the park") is the scene's place rather than a thing
    in it. A place is one ("the park"), where things are often several ("the flowers"); it is not what
    the scene's words show with the place ("lose the neon": the street's "with neon signs") nor the head
    of a prop; in a room only the room's own words are its place ("the sofa" is furniture)."""
    words = set(phrase.lower().split())
    last = phrase.split()[-1].lower()
    if last.endswith("s") and not last.endswith(("ss", "us", "is")):
        return False
    heads = {re.findall(r"[a-z]+", prop.lower())[-1].rstrip("s") for prop in scene.props if prop.strip()}
    if last.rstrip("s") in heads:
        return False
    parts = [p.strip() for p in scene.description.split(",") if p.strip()]
    if scene.kind == "interior":
        return bool(parts) and without_thing(parts[0], words) == ""
    return all(without_thing(p, words) in ("", p) for p in parts)


def place_openers(vocab: dict) -> set[str]:
    """The words that open where the product is ("in", "on", "at"…): the setting and surface words,
    without the relative ones ("next to", "behind"), which place a thing beside the product."""
    placement = vocab["placement_words"]
    return {str(w) for w in [*placement["setting"], *placement["surface"]]} - {
        str(w) for w in placement["relative"]}


def _place_before(reading: Reading, m: Match, vocab: dict) -> bool:
    """Whether the words before a match name where the product is ("on a bar top", "in a kitchen")."""
    places = sorted(place_openers(vocab), key=len, reverse=True)
    alt = "|".join(re.escape(p) for p in places)
    before = reading.work[: m.start]
    return re.search(rf"(?<![\w'])(?:{alt})\s+(?:a|an|the|my|our|some)\s+[a-z]", before) is not None


def _drop_surface_nouns(reading: Reading, candidates: list, catalog: Catalog, vocab: dict) -> list:
    """"terrazzo countertop": the material right before a bare surface noun names the scene."""
    nouns = word_set(vocab, "surface_nouns", missing_ok=True)
    dropped = set()
    for m, name in candidates:
        if phrase_key(m.text) not in nouns:
            continue
        for other, other_name in candidates:
            adjacent = other.end <= m.start and not reading.work[other.end : m.start].strip()
            if other_name != name and adjacent and catalog.scene(other_name).kind == "surface":
                dropped.add(id(m))
    return [c for c in candidates if id(c[0]) not in dropped]


# A thing swapped for another: "swap the flowers for a few seashells", "replace those candles with
# fairy lights" (to the end of the clause).
# A thing of the picture made into another, said with make/turn/change and no "for"/"with" ("make the
# cocktail a coconut instead", "turn the croissant into a donut"), or one wanted instead of another ("a
# coconut instead of the cocktail").
_SWAPS_SAID = (
    r"(?:make|turn|change)\s+(?:the|that|those|these|my)\s+(?P<old>[\w' -]+?)\s+(?:into\s+|to\s+)?"
    r"(?P<new>(?:a|an|some|a\s+few)\s+(?!(?:bit|little|lot|tad|touch|shade|different)\b)[\w' -]+?)",
    r"(?:(?:put|add|use|have|try|show)\s+)?(?P<new>(?:a|an|some|a\s+few)\s+[\w' -]+?)\s+instead\s+of\s+"
    r"(?:the|that|those|these|my)\s+(?P<old>[\w' -]+?)",
)
_MADE_INTO = [re.compile(
    r"^(?:(?:can|could|would|will)\s+(?:you|u|we)\s+|(?:please|pls|maybe|just|ok|okay|now|and|so|then)\s+)*"
    + body + r"(?:\s+(?:instead|please|pls|then|maybe))*\s*[?.!]*$") for body in _SWAPS_SAID]
_MADE_INTO_ANYWHERE = [re.compile(r"(?<![\w'])" + body + r"(?=\s*(?:[,;.!?]|$|\s+(?:instead|please|pls)\b))")
                       for body in _SWAPS_SAID]


def _made_into(leftover: str, vocab: dict) -> re.Match | None:
    """ "make the cocktail a coconut instead", "a coconut instead of the cocktail": the thing made into
    another, as a swap; not a change of the picture's own qualities ("make the light a bit warmer", "turn
    the background into a gradient")."""
    low = " ".join(leftover.lower().split())
    m = next((m for m in (p.match(low) for p in _MADE_INTO) if m), None)
    picture = word_set(vocab, "clauses.picture_nouns") | word_set(vocab, "background_words")
    if m is None or m.group("old").split()[-1] in picture:
        return None
    return m


_THING_SWAP = re.compile(r"(?<![\w'])(?:swap|replace|switch|exchange|trade)\s+(?:out\s+)?"
                         r"(?:the|that|this|those|these|my|some|all\s+the)\s+(?P<old>[\w' -]+?)\s+"
                         r"(?:out\s+)?(?:for|with)\s+(?P<new>[^,;.!?]+)")


def _swaps(reading: Reading, vocab: dict) -> tuple[list[re.Match], list[re.Match]]:
    """The message's swaps, as (things, places). A thing of the picture swapped for another ("swap the
    flowers for a few seashells", "make the cocktail a coconut"): a scene word there names a thing,
    not a new place. The place itself swapped ("swap the background for a beach", "replace the park
    with a beach", "make the park a beach") is a change of scene."""
    picture = word_set(vocab, "clauses.picture_nouns") | word_set(vocab, "background_words")
    things, places = [], []
    said = [m for p in (_THING_SWAP, *_MADE_INTO_ANYWHERE) for m in p.finditer(reading.work)]
    for m in said:
        old = m.group("old").lower().split()
        named = [n for n in reading.matches if m.start("old") <= n.start < m.end("old")]
        plural = old[-1].endswith("s") and not old[-1].endswith(("ss", "us", "is"))
        if old[-1] in picture or not plural and any(e.kind == "scene" for n in named for e in n.effects):
            places.append(m)  # a place is one, things are often several
        else:
            things.append(m)
    return things, places


def _place_swapped(reading: Reading, candidates: list, swaps: list[re.Match]) -> list:
    """ "swap the garden for a beach": the place swapped out is no candidate, and the words that swap
    it ("swap the garden for") draw nothing; the place swapped in is the scene."""
    for m in swaps:
        if not any(m.start("new") <= c[0].start < m.end("new") for c in candidates):
            continue  # "make the background a gradient": no place named to swap in
        candidates = [c for c in candidates if not m.start("old") <= c[0].start < m.end("old")]
        reading.claim(m.start(), m.start("new"))
        reading.claim(m.end("new"), m.end())  # "a forest instead of the beach"
    return candidates


# Between a place and where that place is: "a rooftop in the city", "a pool at the hotel".
_WHERE_IT_IS = re.compile(r"\s+(?:in|at|of|above|over|overlooking)\s+(?:(?:the|a|an)\s+)?")


def _drop_where_it_is(reading: Reading, candidates: list, catalog: Catalog) -> list:
    """ "a rooftop in the city": a place (an outdoor or interior scene) right before "in/at the <other
    place>" is the head noun, the other only says where it is; a surface before one ("a table in the
    garden") is in that place, which stays."""
    dropped = set()
    for m, name in candidates:
        if catalog.scene(name).kind not in ("outdoor", "interior"):
            continue
        for other, other_name in candidates:
            if other_name != name and other.start >= m.end and \
                    _WHERE_IT_IS.fullmatch(reading.work[m.end: other.start]):
                dropped.add(id(other))
    return [c for c in candidates if id(c[0]) not in dropped]


def _scene_rank(reading: Reading, m: Match, scene: str, catalog: Catalog, vocab: dict) -> tuple:
    """A scene said with a placement word ("in a cafe", "on marble") beats a descriptive one
    ("urban look"); then settings (outdoor/interior) beat surfaces beat studio backdrops; then
    "in/at" beats "on"; then the longer phrase."""
    kind = catalog.scene(scene).kind
    kind_rank = 2 if kind in ("outdoor", "interior") else 1 if kind == "surface" else 0
    placement = vocab["placement_words"]
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


# Verbs that add a thing to a scene: the thing after them is not the product ("add a mug next to it").
_ADDING = {"add", "adding", "put", "place", "placed", "set", "with", "plus", "and", "include"}


def _is_subject(reading: Reading, m: Match, vocab: dict, editing: bool = False,
                unnamed: bool = False, drawn: bool = False) -> bool:
    """A product word is the merchant's product unless it sits in the scene: "on a picnic
    blanket", "with a notebook" are scene; "this dress", "with the headphones", "for my soap"
    and "shot of the watch" are the product. A noun in the background ("there's a chair") never
    is, and once there is a recipe the merchant names a new product as theirs ("my new mug",
    "here's the honey jar"). With no photo and no product named yet (`drawn`, `unnamed`), the thing
    that opens what the merchant asks for is the product ("ok, a red sneaker on a basketball court")."""
    scene_words = {str(w) for w in vocab["scene_prepositions"]}
    markers = {str(w) for w in vocab["product_markers"]}
    request_verbs = word_set(vocab, "conversation.request_verbs")
    state = re.match(r"\s+([a-z' ]+?)\s*(?:[,;.!?]|$)", reading.work[m.end:])
    if state and state.group(1) in word_set(vocab, "switched_states"):
        return False  # "evening, lamps on", "candles lit": a thing of the scene in its state, said last
    words = reading.words_before(m.start, 8)
    close = [w for w in words if w not in ("a", "an", "the", "some", "big", "small", "little")]
    if close and close[-1] in {str(b) for b in vocab["conversation"]["background_markers"]}:
        return False
    if unnamed and drawn:
        opening = word_set(vocab, "filler", "product_modifiers", "colours", "containers") | {"pair", "couple"}
        if all(w in opening and w not in _ADDING for w in words):
            return True  # "ok, a red sneaker on a basketball court", "great, then show me a leather wallet"
    arrivals = word_set(vocab, "conversation.arrival_words")
    if editing and words and words[-1] in arrivals and not set(words[:-1]) & (
            _ADDING - {"and"} | scene_words | {"a", "an", "some", "another", "more"}):
        return True  # "new candle just came in", "and this new mug": the next product, not a thing added
    if editing and _announced(reading, m, vocab, scene_words):
        return True  # "new product! beeswax taper candles": the next product, named
    if editing and words and words[-1] in ("a", "an", "some"):
        return False  # "put a chair next to it": something added to the scene
    if editing:  # a new product is the merchant's own ("my new mug", "here's the honey jar")
        markers = {"this", "these", "my", "our", "your", "here's", "heres"}
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if unnamed and word == "the" and (i == 0 or words[i - 1] not in scene_words | request_verbs):
            # The picture's product has no name yet (a new photo): "and now the body lotion" names it.
            return True
        if word == "with":
            nxt = words[i + 1] if i + 1 < len(words) else ""
            return nxt not in ("a", "an", "some")
        if word == "and" and i > 0 and words[i - 1] not in markers | scene_words and "with" in words[:i]:
            # "with rolled towels and a candle": a thing listed with the scene's things is one of them
            return False
        if word in scene_words:
            return False
        if word in markers:
            return True
    return not editing


def _announced(reading: Reading, m: Match, vocab: dict, scene_words: set[str]) -> bool:
    """Whether the product word `m` comes right after the next product is announced ("new product!
    beeswax taper candles", "ok new one, its the leather strap"; vocabulary
    conversation.product_announcements), across the clause's end but with no scene or added thing between."""
    before = " ".join(re.findall(r"[\w']+", reading.work[max(0, m.start - 80): m.start]))
    said = "|".join(re.escape(a) for a in word_set(vocab, "conversation.product_announcements"))
    ends = [a.end() for a in re.finditer(rf"(?<![\w'])(?:{said})(?![\w'])", before)]
    if not ends:
        return False
    between = before[ends[-1]:].split()
    blocked = scene_words | _ADDING | {"some", "another", "more", "no", "without"}
    return len(between) <= 5 and not set(between) & blocked


def _subject_words(reading: Reading, m: Match, vocab: dict, end: int | None = None) -> str:
    """The product phrase as the merchant calls it: the product word plus the words right before it
    that are its own -- colours and materials ("red summer dress") and words the planner knows no
    other meaning for ("latte cup", "lemonade bottle") -- but not "new" or "old" ("my new mug")."""
    modifiers = word_set(vocab, "product_modifiers")
    stops = word_set(vocab, "filler", "prepositions", "product_markers", "scene_prepositions",
                     "conversation.not_product_words", "conversation.background_markers", "not_picture_words")
    start = m.start
    for word_match in reversed(list(re.finditer(r"[\w'\-]+", reading.work[: m.start]))):
        gap = reading.work[word_match.end() : start]
        word = word_match.group()
        if gap.strip() or word in stops:
            break
        matched = any(o.start <= word_match.start() < o.end and o.effects for o in reading.matches)
        if word not in modifiers and (matched or not word.isalpha()):
            break
        start = word_match.start()
    for other in reading.matches:
        if other is not m and other.start >= start and other.end <= m.start:
            other.effects = ()  # "linen shirt", "vintage leather bag": part of the product
    end = m.end if end is None else end
    reading.claim(start, end)
    # The working text: lower case, but with typos repaired ("sneekers" -> "sneakers").
    return " ".join(reading.work[start:end].split())[:200]


def _lora_op(reading: Reading, m: Match, vocab: dict) -> str:
    """remove / up / down / light / add, from the words around a LoRA keyword ("no film grain",
    "stronger watercolor", "a touch of film grain"); the modifier words are used up too."""
    mods = vocab["lora_modifiers"]
    before = reading.work[max(0, m.start - 30) : m.start]
    stripped = re.sub(r"(?:\s+(?:the|a|an|that|this|some|of the))+\s*$", "", before.rstrip())
    stripped = stripped.rstrip()
    for op in ("remove", "up", "down", "light", "add"):
        for word in sorted(mods.get(op, []), key=len, reverse=True):
            if re.search(rf"(?<![\w']){re.escape(str(word))}$", stripped):
                start = m.start - (len(before) - (len(stripped) - len(str(word))))
                _take_modifier(reading, start, m.start)
                return op
    after = reading.words_after(m.end, 1)
    if after and after[0] in ("off",):
        end = reading.work.index(after[0], m.end) + len(after[0])
        _take_modifier(reading, m.end, end)
        return "remove"
    if after and after[0] in ("stronger", "heavier", "weaker", "subtler", "lighter"):
        end = reading.work.index(after[0], m.end) + len(after[0])
        _take_modifier(reading, m.end, end)
        return "up" if after[0] in ("stronger", "heavier") else "down"
    return "add"


def _take_style_noun(reading: Reading, m: Match, vocab: dict) -> None:
    """ "watercolour painting", "an old film photo": the noun after a style, and a word before it
    that names nothing else, describe the style, not the scene."""
    found = re.match(r"[\s\-]+([\w']+)", reading.work[m.end:])
    if found and found.group(1) in {str(w) for w in vocab["style_nouns"]}:
        reading.claim(m.end, m.end + found.end())
    before = re.search(r"([a-z]+)[\s\-]+$", reading.work[: m.start])
    ordinary = word_set(vocab, "filler", "prepositions", "not_picture_words")
    if before and before.group(1) not in ordinary and not any(
            o.start <= before.start(1) < o.end for o in reading.matches):
        reading.claim(before.start(1), m.start)


# What the product comes in or with, said with its possessive: "earbuds in their charging case", "a
# candle with its wooden lid" (never "on my desk": "my" is the merchant's, the place).
_OWN_PART = re.compile(r"\s+(?:in|with|inside|and)\s+(?:its|their)\s+[a-z][\w'-]*(?:\s+[a-z][\w'-]*){0,2}?"
                       r"(?=\s*$|\s*[,;.!?:]|\s+(?:on|in|at|by|near|with|against|under|inside|next|and)\b)")


def _with_own_parts(reading: Reading, subject: str) -> str:
    """The product's name with what it comes in or with ("wireless earbuds in their charging case"), so
    that the case is the product's and never a thing in the scene."""
    span = next(((s, e) for s, e in reversed(reading.claimed)
                 if " ".join(reading.work[s:e].split()) == subject), None)
    if span is None:
        return subject
    found = _OWN_PART.match(reading.work, span[1])
    if found is None:
        return subject
    reading.claim(span[1], found.end())
    return " ".join(reading.work[span[0]: found.end()].split())[:200]


def _take_product_again(reading: Reading, subject: str, vocab: dict) -> str | None:
    """The product named again ("i make concrete planters. can you show a small grey concrete planter
    on a windowsill"): the second naming, with its own words before it ("small grey concrete"), is the
    product, never a second one in the scene nor a material scene."""
    head = subject.split()[-1].rstrip("s")
    modifiers = word_set(vocab, "product_modifiers") | {"a", "an", "the", "one", "another"}
    for m in reading.matches:
        if m.used or not any(e.kind == "product" for e in m.effects) or \
                phrase_key(m.text).split()[-1].rstrip("s") != head:
            continue
        start = m.start
        for token in reversed(list(re.finditer(r"[\w'\-]+", reading.work[: m.start]))):
            if reading.work[token.end(): start].strip() or token.group() not in modifiers:
                break
            start = token.start()
        for other in reading.matches:
            if other is not m and other.start >= start and other.end <= m.start:
                other.effects = ()  # "concrete" of "concrete planter": the material, not the scene
        m.effects = ()
        reading.claim(start, m.end)
        words = reading.work[start:m.end].split()
        while words and words[0] in ("a", "an", "the", "one", "another"):
            words = words[1:]
        return " ".join(words)[:200]
    return None


def _take_arrival(reading: Reading, end: int, vocab: dict) -> None:
    """ "(new candle) just came in", "(our latest mug) has arrived": how a product arrived, said right
    after it (vocabulary conversation.arrival_verbs), is not something to draw."""
    verbs = "|".join(r"\s+".join(map(re.escape, phrase_key(v).split()))
                     for v in sorted(vocab["conversation"]["arrival_verbs"], key=len, reverse=True))
    found = re.match(rf"\s+(?:{verbs})(?:\s+(?:today|yesterday|this\s+week|this\s+morning))?(?![\w'])",
                     reading.work[end:])
    if found:
        reading.claim(end, end + found.end())


def _take_market_shape(reading: Reading, m: Match, vocab: dict) -> None:
    """ "a wide banner version", "a tall story", "amazon size": the shape said right before a platform
    and a picture or size noun right after it ("version", "one", "size") are the platform's size, never
    words of the scene."""
    shapes = word_set(vocab, "marketplace_shapes")
    inside = [(o.start, o.end) for o in reading.matches if o is not m and o.effects]
    start = m.start
    for token in reversed(list(re.finditer(r"[\w']+", reading.work[: m.start]))):
        if reading.work[token.end(): start].strip() or token.group() not in shapes or any(
                s <= token.start() < e for s, e in inside):
            break
        start = token.start()
    end = m.end
    after = re.match(r"\s+([\w']+)", reading.work[m.end:])
    if after and after.group(1) in word_set(vocab, "references.one_words", "marketplace_size_words"):
        end = m.end + after.end()
    reading.claim(start, end)


def _take_purposes(reading: Reading, vocab: dict) -> None:
    """Where or why the picture will be used, said as "for my/the <...> <purpose>" ("for the top of my
    website", "for the holiday sale", "for our spring launch"): nothing to draw. A platform said in it
    ("for my etsy shop") has already picked its size."""
    words = vocab["purposes"]
    nouns = "|".join(r"\s+".join(map(re.escape, phrase_key(w).split()))
                     for w in sorted(words["nouns"], key=len, reverse=True))
    parts = "|".join(re.escape(phrase_key(w)) for w in words["parts"])
    pattern = re.compile(rf"(?<![\w'])for\s+(?:the\s+(?:{parts})\s+of\s+)?(?:my|our|the|a|an|this|that|your)"
                         rf"(?:\s+[\w'-]+){{0,3}}?\s+(?:{nouns})(?![\w'])")
    for found in pattern.finditer(reading.work):
        if not re.search(r"[,;.!?]", found.group()):
            reading.claim(*found.span())


def _take_modifier(reading: Reading, start: int, end: int) -> None:
    reading.claim(start, end)
    for other in reading.matches:
        # "lighter watercolor": "lighter" is the LoRA's modifier, not "brighter".
        if other.start >= start and other.end <= end and all(e.kind == "edit" for e in other.effects):
            other.effects = ()
            other.used = False
