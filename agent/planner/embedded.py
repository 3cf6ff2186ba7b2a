"""The embedded planner: turns a merchant's words (and the previous recipe) into a recipe, offline,
from the catalogs in prompts/ plus a small sentence-embedding model for paraphrases."""

from __future__ import annotations

import threading

import numpy as np

from sceneshop.agent.commands import Message, read_message
from sceneshop.agent.embeddings import embed
from sceneshop.agent.planner.apply import apply_intent
from sceneshop.agent.planner.intent import Intent, read_intent
from sceneshop.agent.planner.lexicon import Lexicon
from sceneshop.agent.planner.prompt import compose_prompt, load_vocabulary
from sceneshop.agent.planning import Conversation, Reply
from sceneshop.agent.recipe import Recipe, check_against_catalog
from sceneshop.tools.catalog import Catalog, load_catalog
from sceneshop.tools.errors import InputError

MAX_REQUEST_CHARS = 2000
# Cosine similarity (all-MiniLM-L6-v2) a paraphrase needs to pick a scene preset; below it the
# scene stays as it was (or studio_white)...
SIMILARITY_MIN = 0.50
# ...and must beat the next-best scene by this much: a word that is not a place ("craft", "soft")
# sits about equally close to several presets.
SIMILARITY_MARGIN = 0.04

EXAMPLE = "put this dress on a beach at sunset"


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

    # -- the Planner protocol (sceneshop.agent.planning) ----------------------------------------
    def plan(self, request: str | Message, parent: Recipe | None = None, *,
             image_size: tuple[int, int] | None = None) -> Recipe:
        """A recipe for the request: a child of `parent` (an edit of it) when given, else a fresh
        one; `image_size` is the product photo's (width, height), None when there is no photo."""
        message = request if isinstance(request, Message) else None
        text = check_request(message.text if message else request)
        size = _check_image_size(image_size)
        if message is None:
            message = read_message(text)
        intent = self.understand(text, parent is not None, colour=message.colour)
        recipe = apply_intent(intent, text, parent, size, catalog=self.catalog, vocab=self.vocab,
                              lora_family=self.lora_family)
        return self._finish(recipe)

    def respond(self, message: Message, parent: Recipe | None, chat: Conversation) -> Reply:
        """Every message the session passes on asks for a picture: plan it."""
        return Reply(recipe=self.plan(message, parent, image_size=chat.image_size), render=True)

    # The keywords are read in lexicon.py and intent.py; only the embedding calls stay here, beside
    # the index they score against (bench/plan_accuracy.py counts them by patching
    # sceneshop.agent.planner.embedded.embed).
    def understand(self, text: str, editing: bool = False, *,
                   colour: tuple[str, int, int] | None = None) -> Intent:
        """What the words ask for; `editing` = there is a previous recipe to change; `colour` = the
        product-colour request the message reading found in `text` (Message.colour)."""
        intent = read_intent(self.lexicon.read(text), self.catalog, self.vocab, colour)
        if intent.scene is None and intent.clauses:
            self._similar_scene(intent, editing)
        return intent

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
            from sceneshop.agent.embeddings import embedder

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
