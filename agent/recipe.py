"""The recipe: the one contract between understanding (agent/) and doing (tools/)."""

from __future__ import annotations

import json
import random
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sceneshop.tools.catalog import Catalog
from sceneshop.tools.errors import RecipeError

SCHEMA_VERSION = 1

Mode = Literal["replace_background", "text_to_image", "restyle", "inpaint"]
TimeOfDay = Literal["sunrise", "day", "sunset", "night"]
Framing = Literal["close", "medium", "wide"]


MAX_SEED = 2**32 - 1


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def new_seed(avoid: int | None = None) -> int:
    """A random seed; with `avoid`, never that one (a "new variation" must differ)."""
    while True:
        seed = random.SystemRandom().randint(0, MAX_SEED)
        if seed != avoid:
            return seed


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Subject(_Part):
    description: str = Field("product", max_length=200)
    category: str = Field("general", max_length=60)


class Scene(_Part):
    preset: str = "studio_white"
    description: str = Field("", max_length=1000, description="setting, surface, user's own words")
    props: list[str] = Field(default_factory=list, max_length=12)
    clutter: float = Field(0.4, ge=0.0, le=1.0, description="0 = bare, 1 = busy")


class Lighting(_Part):
    preset: str = "softbox"
    direction: str = Field("front", max_length=40)
    kelvin: int = Field(5500, ge=1500, le=12000)
    exposure: float = Field(0.0, ge=-1.0, le=1.0, description="-1 darker … +1 brighter")


class Camera(_Part):
    angle: str = Field("eye level", max_length=40)
    framing: Framing = "medium"
    lens: str = Field("50mm, shallow depth of field", max_length=80)


class LoraChoice(_Part):
    name: str
    weight: float = Field(ge=-2.0, le=2.0)


class Output(_Part):
    preset: str | None = None
    count: int = Field(1, ge=1, le=8)


class Recipe(_Part):
    schema_version: int = SCHEMA_VERSION
    id: str = Field(default_factory=new_id)
    parent_id: str | None = None
    request: str = Field("", max_length=2000)
    mode: Mode = "replace_background"
    subject: Subject = Field(default_factory=Subject)
    scene: Scene = Field(default_factory=Scene)
    lighting: Lighting = Field(default_factory=Lighting)
    time_of_day: TimeOfDay | None = None
    camera: Camera = Field(default_factory=Camera)
    loras: list[LoraChoice] = Field(default_factory=list, max_length=5)
    prompt: str = Field("", max_length=4000)
    negative_prompt: str = Field("", max_length=2000)
    width: int = Field(1024, ge=256, le=4096)
    height: int = Field(1024, ge=256, le=4096)
    steps: int = Field(30, ge=1, le=150)
    guidance: float = Field(7.0, ge=0.0, le=30.0)
    strength: float = Field(0.75, ge=0.0, le=1.0)
    seed: int = Field(default_factory=new_seed, ge=0, le=MAX_SEED)
    scheduler: str = Field("default", max_length=60)
    output: Output = Field(default_factory=Output)
    notes: list[str] = Field(default_factory=list, description="what the planner did and why")

    @field_validator("width", "height")
    @classmethod
    def _multiple_of_8(cls, v: int) -> int:
        # Diffusion latents are 1/8 of the image size; round down rather than fail.
        return v - v % 8

    @property
    def fill(self) -> float:
        """Fraction of the canvas's longer side the product's bounding box should occupy."""
        from sceneshop.tools.composite import FRAMING_FILL  # OpenCV: imported when a picture is made

        return FRAMING_FILL[self.camera.framing]

    def child(self, request: str, **changes) -> Recipe:
        """A new version of this recipe: new id, parent_id = this id, same seed unless changed."""
        data = self.model_dump()
        data.update(id=new_id(), parent_id=self.id, request=request, notes=[])
        data.update(changes)
        return Recipe.model_validate(data)

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecipeError(f"recipe is not valid JSON ({exc.msg} at line {exc.lineno})") from None
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> Recipe:
        if not isinstance(data, dict):
            raise RecipeError("recipe must be a JSON object")
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise RecipeError(
                f"recipe schema_version {version!r} is newer than this Sceneshop understands "
                f"({SCHEMA_VERSION}); upgrade Sceneshop to read it"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise RecipeError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, each naming the field, e.g. "recipe field 'steps': ≤ 150 (got 500)"."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "recipe"
        got = err.get("input")
        got_text = f" (got {got!r})" if not isinstance(got, dict | list) else ""
        parts.append(f"recipe field '{where}': {err['msg']}{got_text}")
    return "; ".join(parts)


def check_against_catalog(recipe: Recipe, catalog: Catalog) -> Recipe:
    """Rejects unknown presets/LoRAs (naming the field and the choices); clamps LoRA weights
    into the catalog's range and records that in notes."""
    if recipe.scene.preset != "custom":
        catalog.scene(recipe.scene.preset)
    catalog.light(recipe.lighting.preset)
    if recipe.output.preset is not None:
        catalog.marketplace(recipe.output.preset)
    seen = set()
    clamped = []
    for choice in recipe.loras:
        entry = catalog.lora(choice.name)
        if choice.name in seen:
            raise RecipeError(f"recipe field 'loras': '{choice.name}' is listed twice")
        seen.add(choice.name)
        weight = entry.clamp(choice.weight)
        if weight != choice.weight:
            recipe.notes.append(
                f"LoRA '{choice.name}' weight {choice.weight} clamped to {weight} "
                f"(catalog range {entry.weight_min}–{entry.weight_max})"
            )
        clamped.append(LoraChoice(name=choice.name, weight=weight))
    recipe.loras = clamped
    return recipe
