"""The Python API every front end calls (CLI, chat, Gradio): plan, segment, render, generate.

It wires the chosen planner and image engine together and says which are active and why.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from PIL import Image

from sceneshop.agent.recipe import Recipe, check_against_catalog
from sceneshop.agent.settings import Settings, get_settings
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import EngineError, SceneshopError
from sceneshop.tools.finish import finish, needs_product_mask, prepare_product
from sceneshop.tools.inputs import check_inputs
from sceneshop.tools.marketplace_check import CheckResult, check_marketplace
from sceneshop.tools.segment import model_problem
from sceneshop.tools.segment import segment as segment_image

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


def choose_planner(settings: Settings):
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
        self.planner = planner or choose_planner(self.settings)
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
        problem = model_problem()
        cutouts = (
            f"Cut-outs: {problem}, so they use the classical method, which is less exact; check each one."
            if problem
            else ""
        )
        return " ".join(
            part
            for part in (
                f"Planner: {self.planner.name} ({planner_why}).",
                f"Image engine: {self.engine.name} ({self.engine.reason}).",
                memory,
                cutouts,
            )
            if part
        )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Studio:
        """The studio the CLI and the app run: configured planner and engine, plus recipe memory."""
        settings = settings or get_settings()
        engine = None
        if settings.ray_address:  # the generations go to an engine actor on the cluster
            from sceneshop.agent.cluster import RayEngine

            engine = RayEngine(settings.ray_address, settings)
        memory, note = open_memory(settings)
        studio = cls(settings, memory=memory, engine=engine)
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

    def plan(self, request: str, parent: Recipe | None = None, *, image_size=None, user="local") -> Recipe:
        """A recipe for a new request (memory consulted first) or an edit of `parent` (feedback)."""
        recall = self.recall(request, user) if parent is None else None
        if recall is not None and recall.recipe is not None:
            parent = recall.recipe
        recipe = self.planner.plan(request, parent, image_size=image_size)
        return check_against_catalog(self.apply_recall(recipe, recall), self.catalog)

    def segment(self, image: Image.Image, box=None, *, cancel=None) -> Image.Image:
        return segment_image(image, box=box, cancel=cancel)

    def render(self, recipe: Recipe, image=None, mask=None, *, progress=None, cancel=None):
        """The pictures of `recipe`: the recipe is checked against the catalog here; the photo and
        mask by the engine's own first step (sceneshop.tools.inputs.check_inputs), which also finds
        the product when no mask is given."""
        check_against_catalog(recipe, self.catalog)
        # The looks around the engine need the product's mask before it (straighten) and after it
        # (text, harmonize), so the inputs are completed here; the engine's own check_inputs then
        # finds nothing missing.
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
        if not recipe.output.preset:
            return []
        market = self.catalog.marketplaces[recipe.output.preset]
        return [check_marketplace(image, market) for image in images]
