"""The embedded planner: turns a merchant's words (and the previous recipe) into a recipe, offline,
from the catalogs in prompts/ plus a small sentence-embedding model for paraphrases."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sceneshop.agent.commands import Message, question_topic, read_message
from sceneshop.agent.embeddings import embed, known_words, model_key
from sceneshop.agent.planner import feedback
from sceneshop.agent.planner.apply import apply_intent
from sceneshop.agent.planner.clauses import restructure
from sceneshop.agent.planner.intent import Intent, place_openers, read_intent
from sceneshop.agent.planner.lexicon import Lexicon, word_set
from sceneshop.agent.planner.looks import apply_looks, read_looks
from sceneshop.agent.planner.prompt import compose_prompt, load_vocabulary
from sceneshop.agent.planner.text import apply_text, read_text
from sceneshop.agent.planning import Conversation, Reply
from sceneshop.agent.recipe import Recipe, check_against_catalog
from sceneshop.agent.wording import answer
from sceneshop.tools.catalog import Catalog, load_catalog
from sceneshop.tools.errors import InputError

if TYPE_CHECKING:  # numpy is imported where vectors are made: a keyword request needs none
    import numpy as np

MAX_REQUEST_CHARS = 2000
# Cosine similarity (all-MiniLM-L6-v2) a paraphrase needs to pick a scene preset; below it the
# scene stays as it was (or studio_white)...
SIMILARITY_MIN = 0.50
# ...and must beat the next-best scene by this much: a word that is not a place ("craft", "soft")
# sits about equally close to several presets.
SIMILARITY_MARGIN = 0.04
# A room is a specific place: a place said in the merchant's words ("in a hotel lobby") takes the
# nearest interior preset only when it is this close (a hotel lobby is not a bedroom, at 0.58);
# otherwise the scene stays neutral and the merchant's words carry the place. Outdoor presets are
# broad ("a lush meadow" is a garden at 0.58) and keep SIMILARITY_MIN.
ROOM_SIMILARITY_MIN = 0.62

EXAMPLE = "put this dress on a beach at sunset"


class EmbeddedPlanner:
    """Offline planner: keywords first, sentence-embedding similarity for paraphrases, feedback as
    edits of the parent recipe. `lora_family` ("sdxl"/"sd15") is the engine's base-model family
    when known; LoRAs of another family are left out with a note."""

    name = "embedded planner (offline)"

    def __init__(self, catalog: Catalog | None = None, *, lora_family: str | None = None,
                 cache_dir: str | Path | None = None):
        self.catalog = catalog or load_catalog()
        self.vocab = load_vocabulary(self.catalog.folder)
        self.lora_family = lora_family
        self.lexicon = _lexicon(self.catalog)
        # The embedding model and the scene vectors are loaded by the first request that needs a
        # paraphrase resolved: keywords decide most requests, and loading torch and the model costs
        # seconds (bench/cold_start.py). `cache_dir` keeps the scene vectors between processes.
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def warm_up(self) -> None:
        """Loads the embedding model and the scene vectors now, so that the first paraphrase in a
        long-running studio is as quick as the rest (the first call of a thread is slow too)."""
        _scene_index(self.catalog, self.cache_dir)
        embed(["warm up"])

    @property
    def scene_index(self) -> tuple[list[str], np.ndarray]:
        """(scene name, vector) for each scene description, name and keyword."""
        return _scene_index(self.catalog, self.cache_dir)

    # -- the Planner protocol (sceneshop.agent.planning) ----------------------------------------
    def plan(self, request: str | Message, parent: Recipe | None = None, *,
             image_size: tuple[int, int] | None = None) -> Recipe:
        """A recipe for the request: a child of `parent` (an edit of it) when given, else a fresh
        one; `image_size` is the product photo's (width, height), None when there is no photo."""
        message = request if isinstance(request, Message) else None
        text = check_request(message.text if message else request)
        size = _check_image_size(image_size)
        if message is None:
            message = read_message(text, has_picture=parent is not None)
        # The planner reads the request without the chat around it ("hmm, maybe warmer?" -> "maybe
        # warmer"); the recipe keeps the merchant's whole message as its request.
        words = message.words or text
        # Looks (planner/text.py, planner/looks.py) read the message as typed (a title keeps its
        # capitals, "a woman in her 30s" its pronoun) and cut their phrases out; what is left is read
        # like any request, without the chat around it.
        rest, text_edit = read_text(text, self.catalog.folder)
        after_looks, looks_edit = read_looks(rest, self.catalog.folder)
        # "no people" turns the model mode off and is a negation the prompt must carry too.
        if looks_edit and looks_edit.model is not False:
            rest = after_looks
        if rest != text:
            words = read_message(rest, has_picture=parent is not None).words or rest
        backdrop = None
        if parent is not None and message.colour is None and not (text_edit or looks_edit):
            backdrop = feedback.backdrop_colour(words, parent.scene.preset, self.vocab)
        if parent is not None and (text_edit or looks_edit) and not has_words(words, self.vocab):
            recipe = parent.child(text)  # only looks were asked for: the rest stays as it was
        elif backdrop is not None:
            # "try black" on a pink backdrop: the black backdrop, not the word "black" in the scene
            intent = Intent(scene=backdrop, scene_from=f"a colour said on a colour backdrop: '{words}'")
            recipe = apply_intent(intent, text, parent, size, catalog=self.catalog, vocab=self.vocab,
                                  lora_family=self.lora_family)
        else:
            if message.colour is None:  # (the colour's span is in the words as they are)
                # "" when every clause only judged ("the whole thing looks kinda cheap"): nothing to draw
                words = restructure(words, self.vocab, editing=parent is not None)
            unnamed = parent is not None and parent.subject.description.strip().lower() in ("", "product")
            intent = self.understand(words, parent is not None, colour=message.colour, unnamed=unnamed,
                                     drawn=size is None)
            recipe = apply_intent(intent, text, parent, size, catalog=self.catalog, vocab=self.vocab,
                                  lora_family=self.lora_family)
        apply_text(recipe, text_edit, recipe.notes)
        apply_looks(recipe, looks_edit, size is not None, recipe.notes)
        return self._finish(recipe)

    def respond(self, message: Message, parent: Recipe | None, chat: Conversation) -> Reply:
        """A question or greeting is answered in words; anything else asks for a picture: plan it."""
        if message.kind == "question":
            looks = None
            if message.topic == "saved" and chat.memory is not None:
                looks = chat.memory.looks(chat.user)
            text = answer(message.topic, parent, self.catalog, photo=chat.image_size is not None,
                          engine=chat.engine, looks=looks)
            return Reply(text=text)
        # "nice, and is it free?", or "hello, just looking around" before any photo or picture: a
        # message that names nothing to draw is answered in words, never with an empty scene (or the
        # same picture again).
        asks = "?" in message.text or (parent is None and chat.image_size is None)
        if message.kind in ("request", "feedback") and asks and not self._draws(message, parent is not None):
            text = answer(question_topic(message.text), parent, self.catalog,
                          photo=chat.image_size is not None, engine=chat.engine)
            return Reply(text=text)
        return Reply(recipe=self.plan(message, parent, image_size=chat.image_size), render=True)

    def _draws(self, message: Message, editing: bool) -> bool:
        """Whether a message names anything to draw or change: a look, a title, a colour, or words
        the planner reads as a scene, light, size, product or the merchant's own picture words."""
        rest, text_edit = read_text(message.text, self.catalog.folder)
        _, looks_edit = read_looks(rest, self.catalog.folder)
        if text_edit or looks_edit or message.colour is not None:
            return True
        words = message.words or message.text
        words = restructure(words, self.vocab, editing=editing)
        intent = read_intent(self.lexicon.read(words), self.catalog, self.vocab, editing=editing)
        if intent.clauses and all(_adverbs_only(c) for c in intent.clauses):
            intent.clauses = []  # "can I use these commercially?": how, not what -- nothing to draw
        if _asks_what(message.text, self.vocab):
            # "what settings did you use? want the same for my other bags": a wh-question with only
            # words beside it (no scene, light, size or change the planner knows) asks for an answer
            intent.clauses, intent.subject = [], None
        # "could I have another one just like this?": a new seed is something to draw
        return intent.edits_fields or intent.variation

    # The keywords are read in lexicon.py and intent.py; only the embedding calls stay here, beside
    # the index they score against (bench/plan_accuracy.py counts them by patching
    # sceneshop.agent.planner.embedded.embed).
    def understand(self, text: str, editing: bool = False, *,
                   colour: tuple[str, int, int] | None = None, unnamed: bool = False,
                   drawn: bool = False) -> Intent:
        """What the words ask for; `editing` = there is a previous recipe to change; `colour` = the
        product-colour request the message reading found in `text` (Message.colour); `unnamed`: the
        product has no name yet; `drawn`: there is no product photo, so the product is drawn too."""
        intent = read_intent(self.lexicon.read(text), self.catalog, self.vocab, colour, editing=editing,
                             unnamed=unnamed, drawn=drawn)
        if intent.scene is None and intent.clauses:
            self._similar_scene(intent, editing)
        return intent

    def _similar_scene(self, intent: Intent, editing: bool) -> None:
        texts = intent.clauses
        if editing:
            # A feedback turn changes the scene by similarity only when it names a place ("now in
            # a lush meadow"); "add some eucalyptus leaves" is words for the current scene.
            places = place_openers(self.vocab) | {"now"}
            texts = [c for c in texts if c.split()[0].lower() in places]
        # "on a bar top with lemons and ice": the place is what precedes the things said with it;
        # the things ("ice") would find a scene of their own (snow)
        texts = [_place_head(c, self.vocab) for c in texts]
        # "near a window": the window light's place, said in words on the scene there is, not a
        # scene found by likeness (a rooftop's balcony)
        lit = word_set(self.vocab, "lighting_places")
        texts = [t for t in texts if t.split()[-1].lower().strip(",.!?") not in lit]
        if not texts:
            return
        queries = [", ".join(texts)] + (texts if len(texts) > 1 else [])
        names, vectors = self.scene_index
        scores = embed(queries) @ vectors.T
        # Best score per scene over all its texts and all queries.
        per_scene: dict[str, tuple[float, str]] = {}
        for q, row in enumerate(scores):
            for name, score in zip(names, row, strict=True):
                if name in intent.dismissed:
                    continue  # "lose the beach, go for a marina": not the beach again
                if score > per_scene.get(name, (-1.0, ""))[0]:
                    per_scene[name] = (float(score), queries[q])
        ranked = sorted(per_scene.items(), key=lambda kv: -kv[1][0])
        (best, (score, query)), second = ranked[0], (ranked[1][1][0] if len(ranked) > 1 else -1.0)
        room = self.catalog.scene(best).kind == "interior"
        if room and score < ROOM_SIMILARITY_MIN and any(feedback.is_place(c) for c in texts):
            return  # no room preset is that place: the merchant's words say it
        if score >= SIMILARITY_MIN and score - second >= SIMILARITY_MARGIN:
            intent.scene = best
            intent.scene_from = f"similar to '{query}', {score:.2f}"

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


def _adverbs_only(clause: str) -> bool:
    """Whether a clause of leftover words holds only adverbs ("commercially", "legally"): they say
    how something is done, never what is in the picture."""
    tokens = re.findall(r"[a-z']+", clause.lower())
    return bool(tokens) and all(t.endswith("ly") and len(t) > 4 for t in tokens)


def _asks_what(text: str, vocab: dict) -> bool:
    """Whether a sentence of the message is a wh-question ("what can i do here?", "what kinda styles
    can you do?"), not a suggestion ("what about a barn?", "how about marble?")."""
    asked = word_set(vocab, "conversation.question_words")
    for sentence in re.findall(r"[^.?!]*\?", text):
        tokens = re.findall(r"[\w']+", sentence.lower())
        if tokens and tokens[0] in asked and (len(tokens) < 2 or tokens[1] not in ("about", "if")):
            return True
    return False


def _place_head(clause: str, vocab: dict) -> str:
    """A clause that opens with where the product is, without the things said with it: "on a bar
    top with lemons and ice" -> "on a bar top"; any other clause as it is."""
    words = clause.split()
    if not words or words[0].lower() not in place_openers(vocab):
        return clause
    joins = {str(w) for w in vocab["placement_words"]["prop"]}
    for i, w in enumerate(words[2:], start=2):
        if w.lower() in joins:
            return " ".join(words[:i])
    return clause


def has_words(text: str, vocab: dict) -> bool:
    """Whether a request still says something once its filler is gone ("please, thanks" does not)."""
    return any(feedback.trim_clause(c, vocab) for c in re.split(r"[,;.!?\n]", text))


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


# Built once per catalog and shared by every planner on it (tests and the app build several).
# Keyed by id(): a Catalog holds dicts, so it is not hashable; the entry keeps the catalog alive,
# so the id cannot be reused while it is cached.
_LEXICONS: dict[int, tuple[Catalog, Lexicon]] = {}
_SCENES: dict[int, tuple[Catalog, list[str], np.ndarray]] = {}
_INDEX_LOCK = threading.Lock()
_TEXT_VECTORS: dict[str, np.ndarray] = {}  # preset text -> vector, shared by catalogs that agree


def _lexicon(catalog: Catalog) -> Lexicon:
    with _INDEX_LOCK:
        cached = _LEXICONS.get(id(catalog))
        if cached is None:
            if len(_LEXICONS) >= 8:
                _LEXICONS.pop(next(iter(_LEXICONS)))
            lexicon = Lexicon(catalog, load_vocabulary(catalog.folder), known_words())
            cached = _LEXICONS[id(catalog)] = (catalog, lexicon)
        return cached[1]


def _scene_index(catalog: Catalog, cache_dir: Path | None) -> tuple[list[str], np.ndarray]:
    with _INDEX_LOCK:
        cached = _SCENES.get(id(catalog))
        if cached is None:
            names, texts = [], []
            for scene in catalog.scenes.values():
                for text in (scene.description, scene.name.replace("_", " "), *scene.keywords):
                    names.append(scene.name)
                    texts.append(text)
            if len(_SCENES) >= 8:
                _SCENES.pop(next(iter(_SCENES)))
            cached = _SCENES[id(catalog)] = (catalog, names, _vectors(texts, cache_dir))
        return cached[1], cached[2]


def _vectors(texts: list[str], cache_dir: Path | None) -> np.ndarray:
    """One vector per text: from memory, else from the cache file for exactly these texts and this
    model (its name is a hash of both, so an edited catalog or another model makes a new file),
    else computed (and written there)."""
    missing = [t for t in dict.fromkeys(texts) if t not in _TEXT_VECTORS]
    if missing:
        key = hashlib.sha256("\n".join([model_key(), *missing]).encode("utf-8")).hexdigest()[:20]
        path = cache_dir / f"scene-vectors-{key}.npy" if cache_dir is not None else None
        vectors = _read_vectors(path, len(missing))
        if vectors is None:
            vectors = embed(missing)
            _write_vectors(path, vectors)
        _TEXT_VECTORS.update(zip(missing, vectors, strict=True))
    import numpy as np

    return np.stack([_TEXT_VECTORS[t] for t in texts])


def _read_vectors(path: Path | None, rows: int) -> np.ndarray | None:
    if path is None or not path.is_file():
        return None
    import numpy as np

    try:
        vectors = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None  # a damaged cache is only slower: compute again
    return vectors.astype(np.float32) if vectors.ndim == 2 and vectors.shape[0] == rows else None


def _write_vectors(path: Path | None, vectors: np.ndarray) -> None:
    if path is None:
        return
    import numpy as np

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(partial, vectors.astype(np.float32), allow_pickle=False)
        os.replace(partial, path)  # readers never see half a file
    except OSError:
        pass  # an unwritable cache folder costs time on the next start, nothing else
