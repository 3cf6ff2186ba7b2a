"""Applying an Intent to a recipe: a fresh one, or a child of the previous recipe that changes only
what the request asked for, with a note for each change."""

from __future__ import annotations

import re

from sceneshop.agent.commands import ANY_COLOUR
from sceneshop.agent.planner import feedback
from sceneshop.agent.planner.intent import Intent
from sceneshop.agent.planner.prompt import mentions_any, negated_words
from sceneshop.agent.recipe import Camera, Lighting, LoraChoice, Recipe, Subject, new_seed
from sceneshop.tools.catalog import Catalog

MIN_SIDE, MAX_SIDE = 256, 4096
DEFAULT_SCENE = "studio_white"


def apply_intent(intent: Intent, text: str, parent: Recipe | None, size: tuple[int, int] | None, *,
                 catalog: Catalog, vocab: dict, lora_family: str | None) -> Recipe:
    """The recipe the intent asks for: a child of `parent` when given, else a fresh one; `size` is
    the product photo's (width, height) or None."""
    fresh = parent is None
    recipe = Recipe(request=text) if fresh else parent.child(text)
    notes: list[str] = []
    for typo, fix in intent.corrections:
        notes.append(f"read '{typo}' as '{fix}'")

    # Mode: never repaint a photographed product unless the user asks for the whole photo.
    if intent.restyle and (size or (parent and parent.mode != "text_to_image")):
        recipe.mode = "restyle"
        notes.append("mode restyle (the whole photo is repainted)")
    elif fresh:
        recipe.mode = "replace_background" if size else "text_to_image"
        if intent.restyle:
            notes.append("restyle needs a product photo; without one the image is generated")
    elif parent.mode == "text_to_image" and size:
        recipe.mode = "replace_background"

    if intent.subject:
        recipe.subject = Subject(description=intent.subject, category=intent.category or "general")
        notes.append(f"subject '{intent.subject}' ({recipe.subject.category})")

    forced_scene = None
    # "white background for Amazon", then "put it on a beach at sunset": the beach, not Amazon's white
    asked = intent.scene or ("custom" if intent.offered_place else None)
    left = None if fresh or intent.market else catalog.market_left(parent.output.preset, asked)
    if left:
        recipe.output.preset = None
        notes.append(f"output: no longer {left.name} (its plain background would hide the place asked for)")
    if intent.market:
        market = catalog.marketplace(intent.market)
        recipe.output.preset = market.name
        recipe.width, recipe.height = market.width, market.height
        notes.append(f"output {market.name} {market.width}x{market.height} (from '{intent.market_from}')")
        if (market.background or "").lower() == "#ffffff":
            forced_scene = vocab["background_colours"].get("white", DEFAULT_SCENE)

    # Scene.
    old_scene = None if fresh else parent.scene.preset
    scene = old_scene or DEFAULT_SCENE
    if forced_scene:
        scene = forced_scene
        if intent.scene and intent.scene != forced_scene:
            notes.append(f"scene {forced_scene}: {intent.market} needs a pure white background "
                         f"(asked: {intent.scene})")
        else:
            notes.append(f"scene {forced_scene} ({intent.market} needs a pure white background)")
    elif intent.scene:
        scene = intent.scene
        said = intent.scene_from
        notes.append(f"scene {scene} ({said if said.startswith('similar') else f'from {said!r}'})")
    elif fresh:
        notes.append(f"scene {DEFAULT_SCENE} (no setting named)")
    elif intent.offered_place and feedback.scene_preset(catalog, scene).kind in ("interior", "outdoor"):
        # "try a bakery" in a café: no preset is a bakery, and the café must not stay around it;
        # the merchant's words carry the place, as they do in a first request
        scene = DEFAULT_SCENE
        notes.append(f"scene {DEFAULT_SCENE} (the place offered has no preset of its own)")
    elif _bare_place_replaced(intent, parent, catalog, vocab):
        # "a rustic barn" found the wooden table (by similarity; "a timber lodge" by its keyword); "make
        # it a lighthouse instead" replaces the barn, and the table that came from its words goes too
        scene = DEFAULT_SCENE
        notes.append(f"scene {DEFAULT_SCENE} (the place it came from is replaced)")
    elif old_scene in intent.dismissed:
        # "scratch the park": the garden the park chose goes, not only the word
        scene = DEFAULT_SCENE
        notes.append(f"scene {DEFAULT_SCENE} (the place was taken out)")

    # Time of day (and the day/night version of a scene).
    preset = feedback.scene_preset(catalog, scene)
    implied = vocab["lighting_time"].get(intent.lighting) if intent.lighting else None
    if forced_scene:
        time = None  # a pure white marketplace background shows no time of day
        if intent.time:
            notes.append(f"time of day left out: {intent.market} is a pure white background")
    elif intent.time:
        time = intent.time
        notes.append(f"time {time} (from '{intent.time_from}')")
    elif implied and preset.outdoor:
        time = implied
        notes.append(f"time {time} (from '{intent.lighting_from}')")
    elif fresh or scene != old_scene:
        time = preset.time
        if not fresh and preset.outdoor and parent.time_of_day and _deliberate_time(parent, catalog):
            time = parent.time_of_day
    else:
        time = parent.time_of_day
    variant = {"night": vocab["night_variant"], "day": vocab["day_variant"]}.get(time, {})
    if scene in variant and variant[scene] in catalog.scenes and not forced_scene:
        notes.append(f"scene {variant[scene]} (the {time} version of {scene})")
        scene = variant[scene]
        preset = catalog.scene(scene)
    scene_changed = fresh or scene != old_scene
    if scene_changed:
        carried = [] if fresh else feedback.tone_clauses(parent.scene.description, vocab)
        _set_scene(recipe, scene, carried, catalog)
    recipe.time_of_day = time
    time_changed = fresh or time != parent.time_of_day

    # Lighting: named > driven by the time of day > the scene's own.
    if intent.lighting:
        light_name = intent.lighting
        notes.append(f"lighting {light_name} (from '{intent.lighting_from}')")
    elif time_changed or scene_changed:
        light_name = _time_lighting(preset, time, vocab)
        if not fresh and not intent.time and _deliberate_lighting(parent, catalog, vocab):
            light_name = parent.lighting.preset
        elif not fresh or time:
            notes.append(f"lighting {light_name} (for {time or scene})")
    else:
        light_name = parent.lighting.preset
    if fresh or light_name != parent.lighting.preset:
        _set_light(recipe, light_name, parent, catalog, vocab)

    # The user's own words: into the scene description, verbatim.
    feedback.apply_words(recipe, intent, parent, scene_changed, catalog, vocab, notes)
    if intent.scene == scene and not forced_scene:
        _keep_backdrop_colour(recipe, intent.scene_from, preset, vocab, notes)
    _light_without_negated(recipe, parent, preset, catalog, vocab, notes)
    _props_without_negated(recipe, vocab, notes)
    # "warmer" is warmer than the picture the merchant saw, even where a new scene brought its own light
    feedback.apply_edits(recipe, intent.edits, catalog, vocab, notes,
                         before=None if fresh else parent.lighting.kelvin)

    # Camera.
    if intent.framing:
        recipe.camera.framing = intent.framing
        notes.append(f"framing {intent.framing}")
    if intent.angle:
        recipe.camera.angle = intent.angle
        notes.append(f"camera {intent.angle}")
    elif scene_changed and preset.overhead:
        recipe.camera.angle = "overhead, top-down"
    elif scene_changed and not fresh and parent.camera.angle == "overhead, top-down":
        recipe.camera.angle = Camera().angle
    if intent.lens:
        recipe.camera.lens = intent.lens
        notes.append(f"lens {intent.lens}")

    _apply_loras(recipe, intent, parent, notes, catalog, vocab, lora_family)

    # Size: marketplace > the photo's own size (the product keeps its pixels) > 1024 square.
    if not intent.market:
        if size and (fresh or left or parent.mode == "text_to_image"):
            recipe.width, recipe.height = fit_size(size, notes)
        elif left:
            recipe.width, recipe.height = Recipe().width, Recipe().height
    if intent.count:
        recipe.output.count = intent.count
        notes.append(f"{intent.count} images")

    if intent.variation:
        recipe.seed = new_seed(avoid=None if fresh else parent.seed)
        notes.append("new seed" if intent.edits_fields else "new variation: only the seed changed")

    if intent.colour:
        thing = feedback.coloured_thing(recipe, intent.colour_from, vocab)
        if thing and intent.colour != ANY_COLOUR:  # "can the ball be yellow?": the tennis ball
            feedback.recolour_thing(recipe, thing, intent.colour, vocab, notes)
        else:
            feedback.product_colour(recipe, intent.colour, vocab, notes)
    if not fresh and not intent.edits_fields and not intent.variation:
        notes.append(
            f"nothing to change understood in '{text}'; try e.g. 'warmer', 'less busy', 'at sunset', "
            "'now on marble', 'closer', 'another variation' or 'for Amazon'"
        )
    recipe.notes = notes
    return recipe


def _set_light(recipe: Recipe, name: str, parent: Recipe | None, catalog: Catalog, vocab: dict) -> None:
    """The lighting preset `name`, keeping how much warmer or cooler than its preset the merchant made
    the parent's light."""
    light = catalog.light(name)
    offset = 0 if parent is None else parent.lighting.kelvin - catalog.light(parent.lighting.preset).kelvin
    kelvin = feedback.clamp_kelvin(light.kelvin + offset, vocab)
    recipe.lighting = Lighting(preset=name, direction=light.direction, kelvin=kelvin,
                               exposure=recipe.lighting.exposure)


def _light_without_negated(recipe: Recipe, parent: Recipe | None, preset, catalog: Catalog, vocab: dict,
                           notes: list[str]) -> None:
    """A negated thing is drawn nowhere, the light included: "no neon" under neon light takes the time
    of day's other light (moonlight at night), else the scene's own, else daylight."""
    negated = negated_words(recipe.scene.description, vocab)
    light = catalog.light(recipe.lighting.preset)
    if not negated or not mentions_any(light.description, negated):
        return
    table = vocab["time_lighting"]["outdoor" if preset.outdoor else "indoor"]
    options = [table.get(recipe.time_of_day or "", "default"), preset.lighting, vocab["daylight"]]
    for name in options:
        other = catalog.lighting.get(name)
        if other is not None and not mentions_any(other.description, negated):
            _set_light(recipe, name, parent, catalog, vocab)
            notes.append(f"lighting {name} (the old light showed what you took out)")
            return


def _props_without_negated(recipe: Recipe, vocab: dict, notes: list[str]) -> None:
    """ "a spa bathroom but no towels": a prop of the preset that names what the merchant's words keep
    out ("rolled towels") leaves the props, so neither the prompt nor the reply shows it."""
    negated = negated_words(recipe.scene.description, vocab)
    if not negated:
        return
    kept = [p for p in recipe.scene.props if not mentions_any(p, negated)]
    if len(kept) != len(recipe.scene.props):
        notes.append(f"removed prop {', '.join(p for p in recipe.scene.props if p not in kept)} (said: no)")
        recipe.scene.props = kept


def _bare_place_replaced(intent: Intent, parent: Recipe | None, catalog: Catalog, vocab: dict) -> bool:
    """Whether a new place replaces a place said without a preposition ("a rustic barn"), whose words
    the preset came from (feedback.old_place); a backdrop colour is chosen apart, and stays."""
    if parent is None or not (intent.offered_place or any(feedback.is_place(c) for c in intent.clauses)):
        return False
    if feedback.scene_preset(catalog, parent.scene.preset).kind in ("studio", "gradient"):
        return False
    clauses = feedback.split_description(parent.scene.description)
    return feedback.old_place(clauses, vocab, feedback.prop_words(catalog)) is not None


def _keep_backdrop_colour(recipe: Recipe, said: str, preset, vocab: dict, notes: list[str]) -> None:
    """A backdrop colour no preset has ("a warm brown background" is the beige sweep, "mustard" the
    yellow one) keeps the merchant's words, so the prompt asks for their colour, not only the nearest."""
    said = " ".join(said.lower().split())
    colours = [c for c in map(str, vocab["colours"]) if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", said)]
    colour = max(colours, key=len, default=None)  # "forest green", not only "green"
    if colour is None or colour in preset.description.lower():
        return
    if colour not in recipe.scene.description.lower():  # "on a chocolate brown": said already
        recipe.scene.description = ", ".join(p for p in (said, recipe.scene.description) if p)
        notes.append(f"scene words '{said}' (the preset's colour is only the nearest)")


def _set_scene(recipe: Recipe, scene: str, carried: list[str], catalog: Catalog) -> None:
    preset = feedback.scene_preset(catalog, scene)  # "custom": the merchant's own words are the scene
    recipe.scene.preset = scene
    recipe.scene.props = feedback.props_for(preset, recipe.scene.clutter, recipe.subject.description)
    recipe.scene.description = ", ".join(carried)


def _time_lighting(preset, time: str | None, vocab: dict) -> str:
    if time is None:
        return preset.lighting
    table = vocab["time_lighting"]["outdoor" if preset.outdoor else "indoor"]
    key = "night_city" if time == "night" and preset.outdoor and preset.buildings else time
    choice = table.get(key, "default")
    if choice == "default":
        bound = vocab["lighting_time"].get(preset.lighting)
        if bound in ("night", "sunset", "sunrise") and bound != time:
            return vocab["daylight"]
        return preset.lighting
    return choice


def _deliberate_time(parent: Recipe, catalog: Catalog) -> bool:
    return parent.time_of_day != feedback.scene_preset(catalog, parent.scene.preset).time


def _deliberate_lighting(parent: Recipe, catalog: Catalog, vocab: dict) -> bool:
    scene = feedback.scene_preset(catalog, parent.scene.preset)
    return parent.lighting.preset != _time_lighting(scene, parent.time_of_day, vocab)


def _apply_loras(recipe: Recipe, intent: Intent, parent: Recipe | None, notes: list[str], catalog: Catalog,
                 vocab: dict, lora_family: str | None) -> None:
    if not intent.loras:
        return
    current = {c.name: c.weight for c in recipe.loras}
    family = lora_family
    if family is None and current:
        family = catalog.lora(next(iter(current))).family
    if family is None:
        families = [catalog.lora(name).family for name, op, _ in intent.loras if op != "remove"]
        family = max(sorted(set(families)), key=lambda f: (families.count(f), f == "sdxl"),
                     default="sdxl")
    step = float(vocab["lora_step"])
    for name, op, evidence in intent.loras:
        entry = catalog.lora(name)
        if op == "remove":
            if current.pop(name, None) is not None:
                notes.append(f"LoRA {name} removed (from '{evidence}')")
            elif parent is not None:
                notes.append(f"LoRA {name} is not in use; nothing to remove")
            continue
        if entry.family != family:
            # Twins (lcm_sd15/lcm_sdxl) share keywords: the other family's twin is simply unwanted.
            twin = any(other != name and catalog.lora(other).family == family
                       and set(catalog.lora(other).keywords) & set(entry.keywords)
                       for other, _, _ in intent.loras)
            if not twin:
                notes.append(f"LoRA {name} left out: it is for {entry.family} models and this recipe "
                             f"uses {family} LoRAs")
            continue
        if name in current:
            old = current[name]
            if op == "up":
                current[name] = entry.clamp(round(old + step, 2))
            elif op == "down":
                current[name] = round(old - step, 2)
                if current[name] <= entry.weight_min:
                    current.pop(name)
                    notes.append(f"LoRA {name} removed (weight would reach {entry.weight_min})")
                    continue
            elif op == "light":
                current[name] = entry.clamp(round(entry.weight_default - step, 2))
            if current[name] != old:
                notes.append(f"LoRA {name} {old} -> {current[name]} (from '{evidence}')")
            continue
        if op == "down" and parent is not None:
            notes.append(f"LoRA {name} is not in use; nothing to reduce")
            continue
        if len(current) >= 5:
            notes.append(f"LoRA {name} left out: a recipe holds at most 5 LoRAs")
            continue
        weight = entry.weight_default - (step if op in ("down", "light") else 0)
        current[name] = entry.clamp(round(weight, 2))
        notes.append(f"LoRA {name} {current[name]} (from '{evidence}')")
    recipe.loras = [LoraChoice(name=n, weight=w) for n, w in current.items()]
    fast_cfg = vocab["fast_loras"]
    fast = any(n in fast_cfg["names"] for n in current)
    was_fast = parent is not None and any(c.name in fast_cfg["names"] for c in parent.loras)
    if fast and not was_fast:
        recipe.steps, recipe.guidance = fast_cfg["steps"], fast_cfg["guidance"]
        notes.append(f"fast draft: {recipe.steps} steps, guidance {recipe.guidance}")
    elif was_fast and not fast:
        defaults = Recipe.model_fields
        recipe.steps, recipe.guidance = defaults["steps"].default, defaults["guidance"].default


def fit_size(size: tuple[int, int], notes: list[str]) -> tuple[int, int]:
    """The photo's own size rounded down to a multiple of 8, so the product keeps its pixels;
    scaled only when outside the 256-4096 px range the models take."""
    width, height = size
    scale = 1.0
    if max(width, height) > MAX_SIDE:
        scale = MAX_SIDE / max(width, height)
    elif min(width, height) < MIN_SIDE:
        scale = min(MIN_SIDE / min(width, height), MAX_SIDE / max(width, height))
    w = min(MAX_SIDE, max(MIN_SIDE, int(width * scale)))
    h = min(MAX_SIDE, max(MIN_SIDE, int(height * scale)))
    w, h = w - w % 8, h - h % 8
    if scale != 1.0:
        notes.append(f"canvas {w}x{h}: the photo's {width}x{height} is outside the "
                     f"{MIN_SIDE}-{MAX_SIDE} px range")
    return w, h
