"""The Python API every front end calls (CLI, chat, Gradio): plan, segment, render, generate.

It wires the chosen planner and image engine together and says which are active and why.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from sceneshop.agent.commands import EVER, Message, Reference
from sceneshop.agent.memory.recall import named_in
from sceneshop.agent.planner.prompt import compose_prompt
from sceneshop.agent.planning import Conversation, Planner, Reply
from sceneshop.agent.recipe import Recipe, Subject, check_against_catalog
from sceneshop.agent.references import pick
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.agent.wording import banner, recall_words
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import EngineError, SceneshopError

if TYPE_CHECKING:  # Pillow is loaded by what makes pictures; planning alone needs none
    from PIL import Image

    from sceneshop.tools.marketplace_check import CheckResult

PREVIEW_HAS_NO_PEOPLE = (
    "people need an image model: the preview renderer cannot draw a person, so this shows the garment "
    "in the scene instead (exact, as photographed). Connect a diffusers image model to dress a model; "
    "meanwhile the preview can change the scene, light, framing and text"
)

@dataclass
class Result:
    recipe: Recipe
    images: list[Image.Image]
    engine: str
    notes: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)  # one per image made for a marketplace


def choose_planner(settings: Settings) -> Planner:
    """The LLM planner when an endpoint is configured, else the embedded one."""
    from sceneshop.agent.planner.embedded import EmbeddedPlanner

    if settings.llm_configured:
        from sceneshop.agent.llm.planner import LLMPlanner

        return LLMPlanner.from_settings(settings)
    return EmbeddedPlanner(cache_dir=settings.data_dir / "cache")


def choose_engine(settings: Settings):
    """The diffusers engine when a model is configured and loads offline; otherwise the embedded
    preview renderer, with the reason stated once in `engine.reason`."""
    from sceneshop.tools.preview.renderer import EmbeddedRenderer

    if not settings.diffusion_model:
        return EmbeddedRenderer(reason="no diffusion model configured (SCENESHOP_DIFFUSION_MODEL)")
    from sceneshop.tools.diffusion.engine import DiffusionEngine

    try:
        return DiffusionEngine(
            settings.diffusion_model,
            inpaint_model=settings.inpaint_model,
            lora_dir=settings.lora_dir,
            device=settings.device,
            dtype=settings.dtype,
            fuse_loras=settings.fuse_loras,
        )
    except EngineError as exc:
        return EmbeddedRenderer(reason=f"{exc} — using the preview renderer instead")


def open_memory(settings: Settings):
    """The recipe memory under settings.data_dir, or None and the reason: the studio works without it."""
    from sceneshop.agent.memory.memory import RecipeMemory

    try:
        return RecipeMemory(settings.data_dir), None
    except SceneshopError as exc:
        return None, f"recipe memory unavailable: {exc}"


class Studio:
    def __init__(self, settings: Settings | None = None, *, planner=None, engine=None, memory=None):
        self.settings = settings or get_settings()
        self.catalog = load_catalog()
        self.planner: Planner = planner or choose_planner(self.settings)
        self._engine = engine  # chosen on first use: planning alone needs no image engine
        self._memory = memory
        self._open_memory = None  # from_settings: opens the memory on first use
        self._memory_folder = None  # ... which exists once anything was saved
        self.memory_note: str | None = None  # why memory is off, when it is
        self._engine_lock = threading.Lock()  # one generation at a time per engine

    @property
    def engine(self):
        """The image engine: the one given, else the configured one (chosen on first use)."""
        if self._engine is None:
            self._engine = choose_engine(self.settings)
        return self._engine

    @engine.setter
    def engine(self, engine) -> None:
        self._engine = engine

    @property
    def memory(self):
        """The recipe memory (None: the studio runs without one), opened on first use: importing
        ChromaDB alone takes longer than planning a request (bench/cold_start.py)."""
        if self._memory is None and self._open_memory is not None:
            opener, self._open_memory = self._open_memory, None
            self._memory, self.memory_note = opener()
        return self._memory

    @memory.setter
    def memory(self, memory) -> None:
        self._memory, self._open_memory = memory, None

    def _memory_is_empty(self) -> bool:
        """True when no memory was ever written here, known without opening it."""
        return self._memory is None and self._memory_folder is not None and not self._memory_folder.exists()

    @property
    def preview(self) -> bool:
        """Whether pictures come from the embedded preview renderer (it draws no styles or people)."""
        from sceneshop.tools.preview.renderer import EmbeddedRenderer

        return isinstance(self.engine, EmbeddedRenderer)

    @property
    def engine_words(self) -> str:
        return "preview renderer (scenes drawn, not photographed)" if self.preview else "image model"

    def banner(self) -> str:
        """What is active and what that means for the pictures, in plain words."""
        from sceneshop.tools.segment import model_problem  # onnxruntime: on first use, not for a plan

        memory = self.memory  # opened now, so that a memory that does not work is said at once
        note = self.memory_note if memory is None else None
        text = banner(self.planner.name, self.settings.llm_configured, self.engine.name, self.preview, note)
        problem = model_problem()
        if problem:
            text += f" Cut-outs: {problem}, so they use a classical method, less exact: check each."
        return text

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Studio:
        """The studio the CLI and the app run: configured planner and engine, plus recipe memory."""
        settings = settings or get_settings()
        engine = None
        if settings.ray_address:  # the generations go to an engine actor on the cluster
            from sceneshop.agent.cluster import RayEngine

            engine = RayEngine(settings.ray_address, settings)
        studio = cls(settings, engine=engine)
        studio._open_memory = lambda: open_memory(settings)
        studio._memory_folder = settings.data_dir / "memory"
        return studio

    # -------------------------------------------------------------------------------- recall

    def recall(self, request: str, user: str):
        """What memory says about a new request ("like last time", a named look, a near-repeat)."""
        if self._memory_is_empty() or self.memory is None:
            return None
        return self.memory.resolve(user, request)

    def apply_recall(self, recipe: Recipe, recall) -> Recipe:
        """Steers away from a disliked near-match and tells the user what memory did."""
        if recall is None:
            return recipe
        if recall.avoid is not None:
            steered = recall.avoid.steer(recipe)
            if steered.loras != recipe.loras:  # a dropped style takes its trigger words with it
                steered.prompt, steered.negative_prompt = compose_prompt(steered, self.catalog)
            recipe = steered
        recipe.notes.insert(0, recall.reason)
        return recipe

    def _start(self, request: str, parent: Recipe | None, user: str):
        """Where planning starts: `parent` when there is one (feedback edits the current recipe);
        else memory is consulted, and a remembered recipe ("like last time") becomes the parent."""
        recall = self.recall(request, user) if parent is None else None
        if recall is not None and recall.recipe is not None:
            parent = recall.recipe
        return parent, recall

    def looks_for(self, reference: Reference, text: str, user: str) -> list:
        """The saved looks (memory entries) a reference means, best first: a saved name in `text`,
        looks saved in a span of days ("yesterday"), the latest ("same as before"), or looks whose
        recipe the words describe ("my beach one")."""
        if self._memory_is_empty() or self.memory is None:
            return []
        looks = self.memory.looks(user).saved
        named = named_in(text, [e for e in looks if e.name])
        if named is not None:
            return [named]
        if reference.days is not None:
            first, last = reference.days
            today = datetime.now().date()
            looks = [e for e in looks if first <= (today - date.fromtimestamp(e.updated)).days <= last]
            if reference.days[1] >= EVER:
                looks = looks[:1]  # "last time": the latest
        if reference.same and not reference.words:
            looks = looks[:1]
        if reference.words:
            candidates = [(e, e.recipe, f"{e.name or ''} {e.request}") for e in looks]
            looks = pick(reference.words, candidates, self.catalog)
        return looks

    # ------------------------------------------------------------------------------ planning

    def plan(self, request: str, parent: Recipe | None = None, *, image_size=None, user="local") -> Recipe:
        """A recipe for a new request (memory consulted first) or an edit of `parent` (feedback)."""
        start, recall = self._start(request, parent, user)
        return self.apply_recall(self.planner.plan(request, start, image_size=image_size), recall)

    def respond(self, message: Message, parent: Recipe | None, chat: Conversation, *,
                look: Recipe | None = None) -> Reply:
        """The planner's reply to one chat message. Memory is consulted first, as in `plan`; `look`:
        a saved look or earlier version the message asked for, which planning starts from. A look
        taken over for this product shows this product, under the name the merchant gave it."""
        recall = None
        start = parent
        if look is not None:
            start = self.for_product(look, chat.product)
        elif message.kind in ("request", "feedback", "cannot"):
            start, recall = self._start(message.words or message.text, parent, chat.user)
            if recall is not None and recall.recipe is not None:
                start = self.for_product(start, chat.product)
                if recall.kind == "named" and recall.entry.name:
                    message = replace(message, words=_without_name(message.words, recall.entry.name))
        if start is not None and start is not parent and not message.words.strip():
            # "same as last time": the look itself, nothing to change in it
            recipe = start.child(message.text)
            recipe.prompt, recipe.negative_prompt = compose_prompt(recipe, self.catalog)
            return Reply(recipe=self.apply_recall(recipe, recall), render=True, said=_said(recall))
        reply = self.planner.respond(message, start, chat)
        if reply.recipe is not None:
            reply.recipe = self.apply_recall(reply.recipe, recall)
            reply.said = _said(recall) + reply.said
        return reply

    def for_product(self, look: Recipe, product: Subject | None) -> Recipe:
        """A look taken over for the current product: its subject is this product (by the name the
        merchant gave it, else just "product"), never the product the look was made for."""
        subject = product or Subject()
        if look.subject == subject:
            return look
        moved = look.model_copy(deep=True)
        moved.subject = subject.model_copy()
        moved.prompt, moved.negative_prompt = compose_prompt(moved, self.catalog)
        return moved

    def keep(self, recipe: Recipe, old: Recipe, kept: tuple[str, ...]) -> Recipe:
        """A fresh recipe with what "start over but keep …" kept from the old one (size, style, scene,
        light), where the new request did not say otherwise."""
        changed = False
        if "size" in kept and recipe.output.preset is None:
            recipe.output.preset, recipe.width, recipe.height = old.output.preset, old.width, old.height
            changed = True
        if "style" in kept and not recipe.loras:
            recipe.loras, changed = list(old.loras), True
        if "light" in kept:
            recipe.lighting, changed = old.lighting.model_copy(), True
        if "scene" in kept:
            recipe.scene, recipe.time_of_day, changed = old.scene.model_copy(), old.time_of_day, True
        if "product" in kept:
            recipe.subject, changed = old.subject.model_copy(), True
        if changed:
            recipe.notes.append("kept from before: " + ", ".join(kept))
            recipe.prompt, recipe.negative_prompt = compose_prompt(recipe, self.catalog)
        return check_against_catalog(recipe, self.catalog)

    def segment(self, image: Image.Image, box=None, *, cancel=None) -> Image.Image:
        from sceneshop.tools.segment import segment as segment_image  # cv2 and onnxruntime: on first use

        return segment_image(image, box=box, cancel=cancel)

    def render(self, recipe: Recipe, image=None, mask=None, *, progress=None, cancel=None):
        """The pictures of `recipe`: the recipe is checked against the catalog, the photo and mask
        by sceneshop.tools.inputs.check_inputs (which also finds the product when no mask is given)."""
        check_against_catalog(recipe, self.catalog)
        # The inputs are checked and completed here: the looks around the engine need the product's
        # mask before it (straighten) and after it (text, harmonize). The engine checks again, for
        # callers that reach it directly (CLI, Ray worker); with the mask given that is a few size
        # comparisons, so one rule serves both without a second way of skipping it.
        from sceneshop.tools.finish import prepare_product  # the image stack: on first use, not for a plan
        from sceneshop.tools.inputs import check_inputs

        image, mask = check_inputs(recipe, image, mask, cancel=cancel)
        image, mask, looks = prepare_product(recipe, image, mask)  # straighten (tools/finish.py)
        with self._engine_lock:
            images = self.engine.render(recipe, image, mask, progress=progress, cancel=cancel)
        return self._finish(recipe, image, mask, images, looks)

    def _finish(self, recipe: Recipe, image, mask, images: list, notes: list[str]) -> list:
        """The looks after either engine (tools/finish.py: harmonizing, text layer); what they did
        goes into the recipe's notes, each once, so a re-render leaves the recipe as it was."""
        if recipe.mode == "dress_model" and not self.engine.draws_people:
            notes = [*notes, PREVIEW_HAS_NO_PEOPLE]
        from sceneshop.tools.finish import finish, needs_product_mask

        product = self.engine.product_mask(recipe, image, mask) if needs_product_mask(recipe) else None
        images, more = finish(recipe, images, product)
        for note in [*notes, *more]:
            if note not in recipe.notes:
                recipe.notes.append(note)
        return images

    def generate(
        self, request: str, image=None, *, mask=None, parent=None, user="local", progress=None, cancel=None
    ) -> Result:
        recipe = self.plan(request, parent, image_size=image.size if image is not None else None, user=user)
        images = self.render(recipe, image, mask, progress=progress, cancel=cancel)
        return Result(recipe, images, self.engine.name, list(recipe.notes), self.check(recipe, images))

    def check(self, recipe: Recipe, images: list[Image.Image]) -> list[CheckResult]:
        """The marketplace check of each picture made for a marketplace preset; none otherwise."""
        from sceneshop.tools.marketplace_check import check_marketplace  # cv2: on first use

        if not recipe.output.preset:
            return []
        market = self.catalog.marketplaces[recipe.output.preset]
        return [check_marketplace(image, market) for image in images]


def _without_name(words: str, name: str) -> str:
    """The request without a saved look's name and the word "look" after it ("do my sunset look for
    the bags" -> "do my for the bags")."""
    pattern = rf"(?<!\w){re.escape(name)}(?:\s+(?:look|style|one|recipe))?(?!\w)"
    return " ".join(re.sub(pattern, " ", words, flags=re.IGNORECASE).split())


def _said(recall) -> list[str]:
    words = recall_words(recall)
    return [words] if words else []
