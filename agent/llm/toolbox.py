"""The agent's tools: typed functions with docstrings, registered once; the schemas the language model
sees, and the validation of its calls, are derived from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.tools import InjectedToolArg, StructuredTool
from pydantic import BaseModel, Field, ValidationError

from sceneshop.agent.looks import TextLayout, TextPlace
from sceneshop.agent.planner.apply import fit_size
from sceneshop.agent.recipe import (
    ERRORS_SHOWN,
    Framing,
    Mode,
    Recipe,
    TimeOfDay,
    check_against_catalog,
    describe_validation_error,
)
from sceneshop.agent.recipe import (
    new_seed as draw_seed,  # the tools' `new_seed: bool` argument shadows the name
)
from sceneshop.tools.catalog import Catalog
from sceneshop.tools.echo import capped
from sceneshop.tools.errors import RecipeError, SceneshopError
from sceneshop.tools.inputs import check_photo


@dataclass
class ToolTurn:
    """One chat turn as the tools see it: the request, the recipe being edited, and what the tools
    made of them (a recipe to render, facts for the reply)."""

    catalog: Catalog
    request: str
    parent: Recipe | None = None  # the recipe being edited (the session's current version)
    image_size: tuple[int, int] | None = None  # the product photo's size; None = no product
    memory: Any = None  # sceneshop.agent.memory.memory.RecipeMemory, when the studio has one
    user: str = "local"
    thumbnail: Any = None  # the current picture, stored with a saved recipe
    by: str = "the language model"  # who made the calls, for the recipe's notes
    recipe: Recipe | None = None  # set by plan_recipe / edit_recipe / generate
    render: bool = False  # a picture should be made of `recipe`
    said: list[str] = field(default_factory=list)  # facts for the chat reply ("saved as …")

    @property
    def current(self) -> Recipe | None:
        """The newest recipe of this turn: one a tool made, else the one being edited."""
        return self.recipe or self.parent


@dataclass
class Observation:
    """A tool's answer to one call, sent back to the model as a tool message."""

    call_id: str
    tool: str
    text: str
    ok: bool
    ends_turn: bool = False
    problem: str = ""  # what was wrong, when not ok (for the fallback note)


class LoraPick(BaseModel):
    """A style LoRA and its weight."""

    name: str = Field(description="a LoRA name from the catalog (see the system prompt or list_loras)")
    weight: float | None = Field(None, description="weight inside the LoRA's range; omit for its default")


REGISTRY: dict[str, StructuredTool] = {}
_ENDS_TURN = "ends_turn"


def register(*, ends_turn: bool = False) -> Callable:
    """Adds a tool function to the registry; its signature and docstring become the schema."""

    def add(fn: Callable) -> Callable:
        tool = StructuredTool.from_function(fn, parse_docstring=True, metadata={_ENDS_TURN: ends_turn})
        REGISTRY[tool.name] = tool
        return fn

    return add


InjectedTurn = Annotated[ToolTurn, InjectedToolArg]  # hidden from the model; the runner passes it


# ---------------------------------------------------------------------------------------- the tools


@register(ends_turn=True)
def plan_recipe(
    turn: InjectedTurn,
    scene_preset: str,
    scene_description: str = "",
    subject: str = "product",
    category: str = "general",
    mode: Mode | None = None,
    time_of_day: TimeOfDay | None = None,
    lighting_preset: str | None = None,
    lighting_direction: str | None = None,
    kelvin: Annotated[int | None, Field(ge=1500, le=12000)] = None,
    props: list[str] | None = None,
    clutter: Annotated[float | None, Field(ge=0.0, le=1.0)] = None,
    framing: Framing = "medium",
    angle: str | None = None,
    loras: list[LoraPick] | None = None,
    marketplace: str | None = None,
    count: Annotated[int, Field(ge=1, le=8)] = 1,
    text_layout: TextLayout | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    cover_lines: list[str] | None = None,
    badge: str | None = None,
    price: str | None = None,
    title_place: TextPlace | None = None,
    straighten: bool | None = None,
    harmonize: float | None = None,
    person: str | None = None,
) -> str:
    """Plan a fresh recipe for a new scene (use edit_recipe to change the current one).

    Args:
        scene_preset: a scene preset name from the catalog, or "custom" when none fits.
        scene_description: the user's own words for the setting, surface and mood; you may add a few words.
        subject: what the product is, e.g. "red summer dress".
        category: product category, e.g. apparel, footwear, beauty, jewelry, home, food, electronics.
        mode: replace_background keeps the product pixel-exact (default with a photo); text_to_image
            when there is no product photo; restyle or inpaint only when asked.
        time_of_day: sunrise, day, sunset or night; omit for the preset's default.
        lighting_preset: a lighting preset name; omit for the scene preset's default.
        lighting_direction: where the light comes from (front, side, back, top); omit for the preset's.
        kelvin: colour temperature in kelvin (lower is warmer); omit for the lighting preset's.
        props: props to show; omit for the scene preset's props, [] for none.
        clutter: 0 = bare, 1 = busy; omit for 0.4.
        framing: close, medium or wide.
        angle: camera angle, e.g. "eye level", "top down", "low angle".
        loras: style LoRAs with weights; only names from the catalog, one base family.
        marketplace: a marketplace output preset name (fixes size and background), or omit.
        count: how many pictures to make (1-8).
        text_layout: words drawn over the finished picture: "cover" (magazine cover: title = masthead,
            subtitle = headline, cover_lines), "banner" (title = headline on a band, subtitle under it)
            or "none". Text is never part of the image prompt.
        title: the cover's masthead or the banner's headline, at most 40 characters ("" removes it).
        subtitle: the cover's headline or the line under a banner's title, at most 80 characters.
        cover_lines: the cover lines, at most 4 of at most 60 characters each ([] removes them).
        badge: a round sticker such as "-20%" or "NEW", at most 12 characters ("" removes it).
        price: a price tag such as "€24.90", at most 16 characters ("" removes it).
        title_place: where the title sits: top, middle or bottom.
        straighten: true only when the user asks the product to stand straight (this resamples it).
        harmonize: 0-1; only when the user asks to match the scene's light ("make it fit"): how far the
            product's colour moves towards the scene's (0.5 is a good start; 0 = off, exact pixels).
        person: mode dress_model: who wears the garment instead of the mannequin, in the user's words
            ("a woman in her 30s, natural make-up"); needs an image model to paint the person.
    """
    catalog = turn.catalog
    preset = catalog.scene(scene_preset) if scene_preset != "custom" else None
    light = catalog.light(lighting_preset or (preset.lighting if preset else "softbox"))
    data = {
        "request": turn.request,
        "mode": mode or ("replace_background" if turn.image_size else "text_to_image"),
        "subject": {"description": subject, "category": category},
        "scene": {
            "preset": scene_preset,
            "description": scene_description or turn.request,
            "props": list(preset.props if preset else ()) if props is None else props,
            "clutter": 0.4 if clutter is None else clutter,
        },
        "lighting": {
            "preset": light.name,
            "direction": lighting_direction or light.direction,
            "kelvin": kelvin or light.kelvin,
        },
        "time_of_day": time_of_day or (preset.time if preset else None),
        "camera": {"framing": framing, **({"angle": angle} if angle else {})},
        "loras": _loras(catalog, loras or []),
        "output": {"preset": _marketplace(catalog, marketplace), "count": count},
        "notes": [],
    }
    if turn.image_size:
        data["width"], data["height"] = fit_size(tuple(turn.image_size), data["notes"])
    if turn.parent is not None:
        # A new scene in the same conversation: still a version of the chain, same seed and canvas.
        parent = turn.parent
        data.update(parent_id=parent.id, seed=parent.seed, width=parent.width, height=parent.height)
        if mode is None:
            data["mode"] = parent.mode
    recipe = _validated(data)
    look_args = dict(text_layout=text_layout, title=title, subtitle=subtitle, cover_lines=cover_lines,
                     badge=badge, price=price, title_place=title_place, straighten=straighten,
                     harmonize=harmonize, person=person, mode=mode)
    if any(v is not None for v in look_args.values()):
        recipe = apply_look_fields(recipe, **look_args, has_photo=_has_photo(turn))
    recipe = _finish(turn, recipe, f"planned by {turn.by}")
    return f"recipe ready: {summarize(recipe)}"


@register(ends_turn=True)
def edit_recipe(
    turn: InjectedTurn,
    scene_preset: str | None = None,
    scene_description: str | None = None,
    add_description: str | None = None,
    subject: str | None = None,
    time_of_day: Literal["sunrise", "day", "sunset", "night", "none"] | None = None,
    lighting_preset: str | None = None,
    lighting_direction: str | None = None,
    kelvin: Annotated[int | None, Field(ge=1500, le=12000)] = None,
    exposure: Annotated[float | None, Field(ge=-1.0, le=1.0)] = None,
    add_props: list[str] | None = None,
    remove_props: list[str] | None = None,
    clutter: Annotated[float | None, Field(ge=0.0, le=1.0)] = None,
    framing: Framing | None = None,
    angle: str | None = None,
    loras: list[LoraPick] | None = None,
    marketplace: str | None = None,
    count: Annotated[int | None, Field(ge=1, le=8)] = None,
    new_seed: bool = False,
    mode: Mode | None = None,
    text_layout: TextLayout | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    cover_lines: list[str] | None = None,
    badge: str | None = None,
    price: str | None = None,
    title_place: TextPlace | None = None,
    clear_text: bool = False,
    straighten: bool | None = None,
    harmonize: float | None = None,
    person: str | None = None,
) -> str:
    """Change fields of the current recipe; every field you omit stays as it is.

    Args:
        scene_preset: a new scene preset name from the catalog (its default light and props follow).
        scene_description: replaces the scene description (keep the user's words).
        add_description: words appended to the scene description.
        subject: what the product is.
        time_of_day: sunrise, day, sunset or night; "none" to clear.
        lighting_preset: a new lighting preset name (its kelvin and direction follow unless given).
        lighting_direction: front, side, back or top.
        kelvin: colour temperature in kelvin; warmer = lower (e.g. 700 below the current), cooler = higher.
        exposure: -1 darker … +1 brighter.
        add_props: props to add.
        remove_props: props to remove; ["all"] removes every prop.
        clutter: 0 = bare, 1 = busy; "less busy" lowers it.
        framing: close, medium or wide.
        angle: camera angle.
        loras: the complete new LoRA list (replaces the current one; [] for none).
        marketplace: a marketplace output preset name, or "none" to clear it.
        count: how many pictures to make (1-8).
        new_seed: true for a new variation (draws a new seed).
        mode: replace_background, restyle, inpaint or dress_model (a person instead of the mannequin).
        text_layout: words drawn over the finished picture: "cover" (magazine cover: title = masthead,
            subtitle = headline, cover_lines), "banner" (title = headline on a band, subtitle under it)
            or "none". Text is never part of the image prompt.
        title: the cover's masthead or the banner's headline, at most 40 characters ("" removes it).
        subtitle: the cover's headline or the line under a banner's title, at most 80 characters.
        cover_lines: the cover lines, at most 4 of at most 60 characters each ([] removes them).
        badge: a round sticker such as "-20%" or "NEW", at most 12 characters ("" removes it).
        price: a price tag such as "€24.90", at most 16 characters ("" removes it).
        title_place: where the title sits: top, middle or bottom ("move the title down" = one lower).
        clear_text: true for "no text": removes every word from the picture.
        straighten: true only when the user asks the product to stand straight (this resamples it).
        harmonize: 0-1; only when the user asks to match the scene's light ("make it fit"): how far the
            product's colour moves towards the scene's (0.5 is a good start; 0 = off, exact pixels).
        person: mode dress_model: who wears the garment instead of the mannequin, in the user's words
            ("a woman in her 30s, natural make-up"); needs an image model to paint the person.
    """
    if turn.current is None:
        raise RecipeError("there is no current recipe to edit yet; call plan_recipe for a fresh one")
    recipe = edit_fields(
        turn.current,
        turn.catalog,
        turn.request,
        by=turn.by,
        has_photo=_has_photo(turn),
        scene_preset=scene_preset,
        scene_description=scene_description,
        add_description=add_description,
        subject=subject,
        time_of_day=time_of_day,
        lighting_preset=lighting_preset,
        lighting_direction=lighting_direction,
        kelvin=kelvin,
        exposure=exposure,
        add_props=add_props,
        remove_props=remove_props,
        clutter=clutter,
        framing=framing,
        angle=angle,
        loras=loras,
        marketplace=marketplace,
        count=count,
        new_seed=new_seed,
        mode=mode,
        text_layout=text_layout,
        title=title,
        subtitle=subtitle,
        cover_lines=cover_lines,
        badge=badge,
        price=price,
        title_place=title_place,
        clear_text=clear_text,
        straighten=straighten,
        harmonize=harmonize,
        person=person,
    )
    turn.recipe = recipe
    turn.render = True
    return f"recipe ready: {summarize(recipe)}"


@register(ends_turn=True)
def generate(
    turn: InjectedTurn,
    new_seed: bool = True,
    count: Annotated[int | None, Field(ge=1, le=8)] = None,
) -> str:
    """Make pictures of the current recipe unchanged except for the seed ("another one", "more like this").

    Args:
        new_seed: draw a new seed so the pictures differ from the last ones (only the seed changes).
        count: how many pictures to make (1-8); omit to keep the current count.
    """
    current = turn.current
    if current is None:
        raise RecipeError("there is no recipe to render yet; call plan_recipe first")
    changes: dict[str, Any] = {}
    if new_seed:
        changes["seed"] = draw_seed(avoid=current.seed)
    if count is not None:
        changes["output"] = {"preset": current.output.preset, "count": count}
    if turn.recipe is None:
        turn.recipe = current.child(turn.request, **changes)
    else:  # a recipe planned earlier in this turn: adjust it rather than stack a second version
        turn.recipe = _validated({**current.model_dump(), **changes})
    turn.recipe.notes.append("a new variation: only the seed changed" if new_seed else "rendered again")
    turn.render = True
    return f"rendering: {summarize(turn.recipe)}"


@register()
def list_scenes(
    turn: InjectedTurn, kind: Literal["studio", "gradient", "surface", "outdoor", "interior"] | None = None
) -> str:
    """List the scene presets with their descriptions.

    Args:
        kind: only presets of this kind.
    """
    scenes = [s for s in turn.catalog.scenes.values() if kind is None or s.kind == kind]
    return "\n".join(f"{s.name} ({s.kind}): {s.description}" for s in scenes) or f"no {kind} scenes"


@register()
def list_loras(turn: InjectedTurn) -> str:
    """List the style LoRAs with their base family, weight range and description."""
    return "\n".join(
        f"{e.name} ({e.family}, weight {e.weight_min:g}–{e.weight_max:g}, default {e.weight_default:g}): "
        f"{e.description}"
        for e in turn.catalog.loras.values()
    )


@register()
def recall_recipes(turn: InjectedTurn, query: str, k: Annotated[int, Field(ge=1, le=10)] = 3) -> str:
    """Search this user's saved recipes ("like last time", "the sunset look").

    Args:
        query: words describing the look to find.
        k: how many to return.
    """
    hits = turn.memory.search(turn.user, query, k)
    if not hits:
        return "no saved recipes match"
    lines = [f"{entry.label} (similarity {score:.2f}): {summarize(entry.recipe)}" for entry, score in hits]
    return "saved recipes, best first (reuse their fields in plan_recipe):\n" + "\n".join(lines)


@register(ends_turn=True)
def save_recipe(
    turn: InjectedTurn,
    name: str,
    tags: list[str] | None = None,
    rating: Literal["saved", "liked"] = "saved",
) -> str:
    """Save the current recipe to the user's memory so it can be reused later.

    Args:
        name: a short name the user can ask for later, e.g. "sunset look".
        tags: a few words to find it by.
        rating: "liked" when the user said they like it, else "saved".
    """
    recipe = turn.current
    if recipe is None:
        raise RecipeError("there is no recipe to save yet; make a picture first")
    entry = turn.memory.save(turn.user, recipe, rating, name or None, list(tags or []), turn.thumbnail)
    turn.said.append(f"Saved as {entry.label}.")
    return f"saved as {entry.label}"


# ----------------------------------------------------------------------------------- the runner


def tools_for(turn: ToolTurn, names: list[str] | None = None) -> list[StructuredTool]:
    """The tools that make sense on this turn: editing needs a recipe, memory tools need memory."""
    wanted = names or list(REGISTRY)
    skip = set()
    if turn.parent is None:
        skip |= {"edit_recipe", "generate"}
    if turn.memory is None:
        skip |= {"recall_recipes", "save_recipe"}
    return [REGISTRY[n] for n in wanted if n not in skip]


def run_call(turn: ToolTurn, call: dict, offered: list[StructuredTool]) -> Observation:
    """Validates one tool call from the model and runs it. A mistake the model can fix (unknown tool,
    malformed or unknown arguments, a name not in the catalog, a value out of range) comes back as a
    failed observation that says what was wrong and lists the valid choices."""
    name, call_id = call.get("name") or "", call.get("id") or ""
    tools = {t.name: t for t in offered}
    if name not in tools:
        problem = f"there is no tool {capped(name)}; tools: {', '.join(tools)}"
        return Observation(call_id, name, f"error: {problem}. Call one of those.", False, problem=problem)
    tool = tools[name]
    if call.get("error") is not None or not isinstance(call.get("args"), dict):
        raw = call.get("args")
        return _failed(call_id, name, f"the arguments are not a valid JSON object ({capped(raw)})")
    args = call["args"]
    fields = tool.tool_call_schema.model_fields
    unknown = sorted(set(args) - set(fields))
    if unknown:
        shown = ", ".join(capped(u) for u in unknown[:ERRORS_SHOWN])
        more = f" and {len(unknown) - ERRORS_SHOWN} more" if len(unknown) > ERRORS_SHOWN else ""
        problem = f"unknown argument(s) {shown}{more}; arguments: {', '.join(fields)}"
        return _failed(call_id, name, problem)
    try:
        parsed = tool.tool_call_schema.model_validate(args)
    except ValidationError as exc:
        return _failed(call_id, name, _argument_errors(exc))
    try:
        text = tool.func(turn=turn, **{k: getattr(parsed, k) for k in fields})
    except SceneshopError as exc:
        return _failed(call_id, name, str(exc))
    return Observation(call_id, name, text, True, bool(tool.metadata.get(_ENDS_TURN)))


def summarize(recipe: Recipe) -> str:
    """One line a merchant can read: scene, time, light, framing, LoRAs, output."""
    parts = [f"scene {recipe.scene.preset}"]
    if recipe.time_of_day:
        parts.append(recipe.time_of_day)
    parts.append(f"{recipe.lighting.preset} light {recipe.lighting.kelvin} K")
    parts.append(f"{recipe.camera.framing} framing")
    if recipe.scene.props:
        parts.append("props: " + ", ".join(recipe.scene.props))
    if recipe.loras:
        parts.append("LoRAs: " + ", ".join(f"{c.name} {c.weight:g}" for c in recipe.loras))
    if recipe.output.preset:
        parts.append(f"for {recipe.output.preset}")
    parts.append(f"seed {recipe.seed}")
    return ", ".join(parts)


# ------------------------------------------------------------------------------ editing a recipe


def edit_fields(
    parent: Recipe,
    catalog: Catalog,
    request: str,
    *,
    by: str,
    has_photo: bool,
    scene_preset: str | None = None,
    scene_description: str | None = None,
    add_description: str | None = None,
    subject: str | None = None,
    time_of_day: str | None = None,
    lighting_preset: str | None = None,
    lighting_direction: str | None = None,
    kelvin: int | None = None,
    exposure: float | None = None,
    add_props: list[str] | None = None,
    remove_props: list[str] | None = None,
    clutter: float | None = None,
    framing: str | None = None,
    angle: str | None = None,
    loras: list[LoraPick] | None = None,
    marketplace: str | None = None,
    count: int | None = None,
    new_seed: bool = False,
    seed: int | None = None,
    mode: str | None = None,
    text_layout: str | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    cover_lines: list[str] | None = None,
    badge: str | None = None,
    price: str | None = None,
    title_place: str | None = None,
    clear_text: bool = False,
    straighten: bool | None = None,
    harmonize: float | None = None,
    person: str | None = None,
) -> Recipe:
    """The child of `parent` with these fields changed and every omitted one kept, its prompt composed
    again and checked against the catalog: the one way a recipe is edited field by field (the
    edit_recipe tool, the studio's inspector). The fields mean what edit_recipe's docstring says;
    `seed` sets an exact seed (new_seed draws a different one instead); `by` names the editor in the
    notes; `has_photo` says whether there is a product photo for a mode that needs one. The looks
    (text, straighten, harmonize, person) go through `apply_look_fields`, whose problems (a title
    too long, five cover lines) are refused in plain words, never shortened."""
    data = parent.model_dump()
    scene, lighting = data["scene"], data["lighting"]
    if scene_preset is not None and scene_preset != scene["preset"]:
        preset = catalog.scene(scene_preset) if scene_preset != "custom" else None
        # The old scene's words would contradict the new preset; the request describes the new one.
        scene.update(preset=scene_preset, props=list(preset.props) if preset else [], description=request)
        if preset is not None:
            lighting_preset = lighting_preset or preset.lighting
            if time_of_day is None:
                data["time_of_day"] = preset.time
    if lighting_preset is not None and lighting_preset != lighting["preset"]:
        light = catalog.light(lighting_preset)
        lighting.update(preset=light.name, kelvin=light.kelvin, direction=light.direction)
    if scene_description is not None:
        scene["description"] = scene_description
    if add_description:
        scene["description"] = f"{scene['description']}, {add_description}".strip(" ,")
    if remove_props:
        gone = {p.lower() for p in remove_props}
        scene["props"] = [] if "all" in gone else [p for p in scene["props"] if p.lower() not in gone]
    if add_props:
        scene["props"] += [p for p in add_props if p not in scene["props"]]
    _set(scene, clutter=clutter)
    _set(lighting, kelvin=kelvin, exposure=exposure, direction=lighting_direction)
    _set(data["camera"], framing=framing, angle=angle)
    _set(data["output"], count=count)
    if subject is not None:
        data["subject"]["description"] = subject
    if time_of_day is not None:
        data["time_of_day"] = None if time_of_day == "none" else time_of_day
    if loras is not None:
        data["loras"] = _loras(catalog, loras)
    if marketplace is not None:
        data["output"]["preset"] = None if marketplace == "none" else _marketplace(catalog, marketplace)
    # as the embedded planner does: a beach asked for after Amazon's white main image is drawn
    left = catalog.market_left(parent.output.preset, scene_preset) if marketplace is None else None
    if left:
        data["output"]["preset"] = None
    if new_seed:
        data["seed"] = draw_seed(avoid=parent.seed)
    elif seed is not None:
        data["seed"] = seed
    if mode is not None and mode != "dress_model":
        data["mode"] = mode
    data.update(parent_id=parent.id, request=request, notes=[])
    if left:
        data["notes"].append(f"output: no longer {left.name} (its plain background would hide the new scene)")
    data.pop("id")
    recipe = _validated(data)
    recipe = apply_look_fields(
        recipe, text_layout=text_layout, title=title, subtitle=subtitle,
        cover_lines=cover_lines, badge=badge, price=price, title_place=title_place,
        clear_text=clear_text, straighten=straighten, harmonize=harmonize, person=person,
        mode=mode, has_photo=has_photo,
    )
    return _completed(recipe, catalog, f"edited by {by}", has_photo=has_photo)


def apply_look_fields(
    recipe: Recipe,
    *,
    text_layout: str | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    cover_lines: list[str] | None = None,
    badge: str | None = None,
    price: str | None = None,
    title_place: str | None = None,
    clear_text: bool = False,
    straighten: bool | None = None,
    harmonize: float | None = None,
    person: str | None = None,
    mode: str | None = None,
    has_photo: bool = True,
) -> Recipe:
    """A copy of `recipe` with its looks sections set as given (None keeps a field): the text
    layer through the embedded planner's own `apply_text`, straighten / harmonize / the person
    through `apply_looks`, so the notes read the same whoever asked. A value the recipe cannot hold
    raises RecipeError in plain words (which field, how long it is, the limit) and nothing is cut."""
    from sceneshop.agent.planner.looks import LooksEdit, apply_looks
    from sceneshop.agent.planner.text import TextEdit, apply_text

    recipe = recipe.model_copy(deep=True)
    notes = recipe.notes  # the planners' own wording lands in the copy's notes
    fields = {name: value for name, value in
              (("title", title), ("subtitle", subtitle), ("badge", badge), ("price", price))
              if value is not None}
    lines = None if cover_lines is None else [str(line) for line in cover_lines]
    if text_layout == "none":
        # "No layout" leaves no place for a title block (apply_text would make it a cover again);
        # the badge and the price go with any layout and stay.
        if any(fields.get(n) for n in ("title", "subtitle")) or lines:
            raise RecipeError("a title, subtitle or cover lines need a layout: pick cover or banner, or "
                              "clear them")
        fields.update(title="", subtitle="")
        lines = []
    text = TextEdit(layout=text_layout, fields=fields, lines=lines, place=title_place, clear=clear_text)
    model = True if mode == "dress_model" or person else (False if mode is not None else None)
    looks = LooksEdit(model=model, person=person or None, straighten=straighten, harmonize=harmonize)
    try:
        _check_text(recipe.text, text)
        if text:
            apply_text(recipe, text, notes)
            if text_layout == "none":
                recipe.text.layout = "none"
        if looks:
            apply_looks(recipe, looks, has_photo, notes)
    except ValidationError as exc:
        raise RecipeError(plain_problem(exc)) from None
    if model and recipe.mode != "dress_model":  # apply_looks said why (no photo) in the notes
        raise RecipeError(notes[-1])
    return recipe


_WHAT = {"title": "the title", "subtitle": "the subtitle", "lines": "the cover lines",
         "badge": "the badge", "price": "the price", "person": "the person",
         "harmonize": "the harmonize strength", "layout": "the text layout", "place": "the title place"}


def look_changes(parent: Recipe, text: dict | None = None, retouch: dict | None = None) -> dict:
    """The `edit_fields` arguments for the inspector's text and retouch values that differ from
    `parent` (so a version's request names only what changed). `text` holds layout, title,
    subtitle, lines (a list, or one string with a line each), badge, price and place; `retouch`
    straighten (bool) and harmonize (0 = off)."""
    changes: dict = {}
    current = parent.text
    for key, arg in (("layout", "text_layout"), ("title", "title"), ("subtitle", "subtitle"),
                     ("badge", "badge"), ("price", "price"), ("place", "title_place")):
        value = (text or {}).get(key)
        if value is None:
            continue
        value = " ".join(str(value).split())
        if value != getattr(current, key) and (value or key not in ("layout", "place")):
            changes[arg] = value
    lines = (text or {}).get("lines")
    if lines is not None:
        if isinstance(lines, str):
            lines = lines.splitlines()
        lines = [" ".join(str(line).split()) for line in lines]
        lines = [line for line in lines if line]
        if lines != current.lines:
            changes["cover_lines"] = lines
    straighten = (retouch or {}).get("straighten")
    if straighten is not None and bool(straighten) != parent.retouch.straighten:
        changes["straighten"] = bool(straighten)
    harmonize = (retouch or {}).get("harmonize")
    if harmonize is not None and round(float(harmonize), 3) != parent.retouch.harmonize:
        changes["harmonize"] = round(float(harmonize), 3)
    return changes


def _check_text(current, edit) -> None:
    """Validates the text layer as the edit would leave it, all fields at once, so every problem is
    named in one message (apply_text sets them one by one and would stop at the first)."""
    from sceneshop.agent.looks import TextLayer

    data = {} if edit.clear else current.model_dump()
    data.update(edit.fields)
    if edit.lines is not None:
        data["lines"] = edit.lines
    if edit.layout:
        data["layout"] = edit.layout
    if edit.place:
        data["place"] = edit.place
    TextLayer.model_validate(data)


def plain_problem(exc: ValidationError) -> str:
    """A looks field's validation error as a merchant would say it: "the title is 52 characters;
    it fits at most 40 — shorten it" (one clause per problem)."""
    parts = []
    for err in exc.errors()[:ERRORS_SHOWN]:
        name = str(err["loc"][-1]) if err["loc"] else ""
        if isinstance(err["loc"][-1] if err["loc"] else None, int) and len(err["loc"]) > 1:
            name = str(err["loc"][-2])
        what = _WHAT.get(name, f"the {name}" if name else "a value")
        got, ctx = err.get("input"), err.get("ctx") or {}
        if err["type"] == "string_too_long":
            parts.append(f"{what} is {len(got)} characters; it fits at most {ctx.get('max_length')} — "
                         "shorten it")
        elif err["type"] == "too_long" and name == "lines":
            parts.append(f"there are {len(got)} cover lines; a cover has at most {ctx.get('max_length')} "
                         "— remove some")
        elif err["type"] == "value_error":
            parts.append(str(ctx.get("error") or err["msg"]))
        elif err["type"] in ("less_than_equal", "greater_than_equal"):
            parts.append(f"{what} must be between 0 and 1 (got {capped(got)})")
        elif err["type"] == "literal_error":
            parts.append(f"{what} must be one of {ctx.get('expected')} (got {capped(got)})")
        else:
            parts.append(f"{what}: {err['msg']} (got {capped(got)})")
    return "; ".join(parts)


# ---------------------------------------------------------------------------------------- helpers


def _loras(catalog: Catalog, picks: list[LoraPick]) -> list[dict]:
    chosen, families = [], set()
    for pick in picks:
        entry = catalog.lora(pick.name)
        # A weight outside the catalog's range is clamped, with a note, by check_against_catalog.
        weight = entry.weight_default if pick.weight is None else pick.weight
        families.add(entry.family)
        chosen.append({"name": entry.name, "weight": weight})
    if len(families) > 1:
        raise RecipeError(
            "the LoRAs mix base families ("
            + ", ".join(sorted(families))
            + "); pick LoRAs of one family: "
            + "; ".join(f"{e.name} ({e.family})" for e in catalog.loras.values())
        )
    return chosen


def _marketplace(catalog: Catalog, name: str | None) -> str | None:
    if name in (None, "", "none"):
        return None
    return catalog.marketplace(name).name


def _set(target: dict, **values) -> None:
    target.update({k: v for k, v in values.items() if v is not None})


def _validated(data: dict) -> Recipe:
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(describe_validation_error(exc)) from None


def _finish(turn: ToolTurn, recipe: Recipe, note: str) -> Recipe:
    turn.recipe = _completed(recipe, turn.catalog, note, has_photo=_has_photo(turn))
    turn.render = True
    return turn.recipe


def _has_photo(turn: ToolTurn) -> bool:
    # Without image_size a feedback turn may still be about a photo (the parent's); a fresh plan is not.
    return turn.image_size is not None or (turn.parent is not None and turn.parent.mode != "text_to_image")


def _completed(recipe: Recipe, catalog: Catalog, note: str, *, has_photo: bool) -> Recipe:
    from sceneshop.agent.planner.prompt import compose_prompt

    check_photo(recipe.mode, has_photo)
    check_against_catalog(recipe, catalog)
    recipe.prompt, recipe.negative_prompt = compose_prompt(recipe, catalog)
    recipe.notes.append(note)
    return recipe


def _failed(call_id: str, name: str, problem: str) -> Observation:
    return Observation(
        call_id, name, f"error: {problem}. Fix this and call {name} again.", False, problem=problem
    )


def _argument_errors(exc: ValidationError) -> str:
    errors = exc.errors()
    parts = []
    for err in errors[:ERRORS_SHOWN]:
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        parts.append(f"argument {capped(where)}: {err['msg']} (got {capped(err.get('input'))})")
    if len(errors) > ERRORS_SHOWN:
        parts.append(f"and {len(errors) - ERRORS_SHOWN} more problems")
    return "; ".join(parts)
