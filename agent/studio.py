"""The Python API every front end calls (CLI, chat, Gradio): plan, segment, render, generate.

It wires the chosen planner and image engine together and says which are active and why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from sceneshop.agent.commands import Message
from sceneshop.agent.planning import Conversation, Planner, Reply
from sceneshop.agent.recipe import Recipe, check_against_catalog
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import EngineError, InputError, SceneshopError
from sceneshop.tools.segment import segment as segment_image

Progress = Callable[[int, int], None]


@dataclass
class Result:
    recipe: Recipe
    images: list[Image.Image]
    mask: Image.Image | None
    engine: str
    notes: list[str] = field(default_factory=list)


def choose_planner(settings: Settings) -> Planner:
    """The LLM planner when an endpoint is configured, else the embedded one."""
    from sceneshop.agent.planner.embedded import EmbeddedPlanner

    if settings.llm_configured:
        from sceneshop.agent.llm.planner import LLMPlanner

        return LLMPlanner.from_settings(settings)
    return EmbeddedPlanner()


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
        self.engine = engine or choose_engine(self.settings)
        self.memory = memory
        self.memory_note: str | None = None  # why memory is off, when it is
        self._engine_lock = threading.Lock()  # one generation at a time per engine

    def banner(self) -> str:
        planner_why = (
            f"LLM at {self.settings.openai_base_url or 'api.openai.com'}"
            if self.settings.llm_configured
            else "no OPENAI_API_KEY / OPENAI_BASE_URL set"
        )
        memory = f"Memory: {self.memory_note}." if self.memory_note else ""
        return (
            f"Planner: {self.planner.name} ({planner_why}). "
            f"Image engine: {self.engine.name} ({self.engine.reason}). {memory}"
        ).strip()

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Studio:
        """The studio the CLI and the app run: configured planner and engine, plus recipe memory."""
        settings = settings or get_settings()
        memory, note = open_memory(settings)
        studio = cls(settings, memory=memory)
        studio.memory_note = note
        return studio

    def recall(self, request: str, user: str):
        """What memory says about a new request ("like last time", a named look, a near-repeat)."""
        return self.memory.resolve(user, request) if self.memory is not None else None

    @staticmethod
    def apply_recall(recipe: Recipe, recall) -> Recipe:
        """Steers away from a disliked near-match and tells the user what memory did."""
        if recall is None:
            return recipe
        if recall.avoid is not None:
            recipe = recall.avoid.steer(recipe)
        recipe.notes.insert(0, recall.reason)
        return recipe

    def _start(self, request: str, parent: Recipe | None, user: str):
        """Where planning starts: `parent` when there is one (feedback edits the current recipe);
        else memory is consulted, and a remembered recipe ("like last time") becomes the parent."""
        recall = self.recall(request, user) if parent is None else None
        if recall is not None and recall.recipe is not None:
            parent = recall.recipe
        return parent, recall

    def plan(self, request: str, parent: Recipe | None = None, *, image_size=None, user="local") -> Recipe:
        """A recipe for a new request (memory consulted first) or an edit of `parent` (feedback)."""
        start, recall = self._start(request, parent, user)
        return self.apply_recall(self.planner.plan(request, start, image_size=image_size), recall)

    def respond(self, message: Message, parent: Recipe | None, chat: Conversation) -> Reply:
        """The planner's reply to one chat message (memory consulted first, as in `plan`)."""
        start, recall = self._start(message.text, parent, chat.user)
        reply = self.planner.respond(message, start, chat)
        if reply.recipe is not None:
            reply.recipe = self.apply_recall(reply.recipe, recall)
        return reply

    def segment(self, image: Image.Image, box=None) -> Image.Image:
        return segment_image(image, box=box)

    def render(self, recipe: Recipe, image=None, mask=None, *, progress=None, cancel=None):
        check_against_catalog(recipe, self.catalog)
        if recipe.mode != "text_to_image":
            if image is None:
                raise InputError(
                    f"mode '{recipe.mode}' needs a product photo; upload one (--image) "
                    "or ask for a picture without a product"
                )
            if mask is None and recipe.mode == "inpaint":
                # In inpaint mode the mask is the area to repaint: guessing it would repaint the product.
                raise InputError("inpaint needs a mask of the area to repaint (white = repaint); pass --mask")
            if mask is None:
                mask = self.segment(image)
        with self._engine_lock:
            return self.engine.render(recipe, image, mask, progress=progress, cancel=cancel)

    def generate(
        self, request: str, image=None, *, mask=None, parent=None, user="local", progress=None, cancel=None
    ) -> Result:
        recipe = self.plan(request, parent, image_size=image.size if image is not None else None, user=user)
        if image is not None and mask is None and recipe.mode in ("replace_background", "restyle"):
            mask = self.segment(image)
        images = self.render(recipe, image, mask, progress=progress, cancel=cancel)
        return Result(recipe, images, mask, self.engine.name, list(recipe.notes))
