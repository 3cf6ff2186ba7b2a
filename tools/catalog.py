"""Loads the presets and the LoRA catalog from prompts/ into typed, validated objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from sceneshop.tools.echo import capped
from sceneshop.tools.errors import CatalogError

# libyaml's C loader reads the prompts/ files about ten times faster than the pure-Python one (0.2 s
# of a cold start, bench/cold_start.py); same safe subset of YAML. Not every build of PyYAML has it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ScenePreset:
    name: str
    description: str
    keywords: tuple[str, ...]
    kind: str  # studio | gradient | surface | outdoor | interior
    palette: dict[str, str]
    props: tuple[str, ...] = ()
    time: str | None = None
    lighting: str = "softbox"
    texture: str | None = None
    water: bool = False
    buildings: bool = False
    overhead: bool = False
    podium: bool = False
    glossy: bool = False  # a surface that reflects the product (polished stone, lacquer, wet ground)

    @property
    def outdoor(self) -> bool:
        return self.kind == "outdoor"


@dataclass(frozen=True)
class LightingPreset:
    name: str
    description: str
    keywords: tuple[str, ...]
    kelvin: int
    direction: str
    softness: float = 0.5  # 0 = a hard point light (crisp shadows) … 1 = all-round soft light


@dataclass(frozen=True)
class LoraEntry:
    name: str
    description: str
    family: str  # sd15 | sdxl
    weight_min: float
    weight_max: float
    weight_default: float
    trigger: tuple[str, ...]
    source: dict[str, str]
    keywords: tuple[str, ...] = ()

    def clamp(self, weight: float) -> float:
        return min(self.weight_max, max(self.weight_min, float(weight)))


@dataclass(frozen=True)
class Marketplace:
    name: str
    description: str
    keywords: tuple[str, ...]
    width: int
    height: int
    background: str | None
    fill: float
    shadow: bool


@dataclass(frozen=True)
class Catalog:
    scenes: dict[str, ScenePreset]
    lighting: dict[str, LightingPreset]
    loras: dict[str, LoraEntry]
    marketplaces: dict[str, Marketplace]
    folder: Path = field(default=Path("."))

    def scene(self, name: str) -> ScenePreset:
        return _lookup(self.scenes, name, "scene preset", self.folder / "scenes.yaml")

    def light(self, name: str) -> LightingPreset:
        return _lookup(self.lighting, name, "lighting preset", self.folder / "lighting.yaml")

    def lora(self, name: str) -> LoraEntry:
        return _lookup(self.loras, name, "LoRA", self.folder / "loras.yaml")

    def marketplace(self, name: str) -> Marketplace:
        return _lookup(self.marketplaces, name, "marketplace preset", self.folder / "marketplaces.yaml")

    def market_left(self, preset: str | None, scene: str | None) -> Marketplace | None:
        """The marketplace `preset` that a new `scene` leaves, or None while it stays: one that fixes
        the background (Amazon's pure white) cannot show the beach asked for after a white listing
        picture, so the beach is drawn and the preset goes. A scene no preset holds ("custom", a place
        in the merchant's own words) is not that background either."""
        if not preset or scene is None:
            return None
        market, place = self.marketplace(preset), self.scenes.get(scene)
        if market.background is None:
            return None
        return None if place and place.palette.get("top", "").lower() == market.background.lower() else market


def _lookup(table: dict, name: str, what: str, path: Path):
    try:
        return table[name]
    except KeyError:
        known = ", ".join(sorted(table))
        raise CatalogError(
            f"{capped(name)} is not a known {what} ({path.parent.name}/{path.name}); known: {known}"
        ) from None


def read_mapping(path: Path) -> dict:
    """A data file of prompts/ as a non-empty mapping; CatalogError says which file and what is wrong."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        raise CatalogError(f"data file {path} is missing; reinstall Sceneshop") from None
    except yaml.YAMLError as exc:
        raise CatalogError(f"data file {path} does not parse: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise CatalogError(f"data file {path} must be a non-empty mapping of name: entry")
    return data


def _entries(folder: Path, filename: str, make) -> dict:
    """{name: make(name, entry)} for one catalog file; a missing or malformed field of an entry is
    a CatalogError naming the file and the entry (the fields are read inside `make`, so inside here)."""
    table = {}
    for name, entry in read_mapping(folder / filename).items():
        try:
            table[name] = make(name, entry)
        except (TypeError, KeyError, ValueError) as exc:
            raise CatalogError(
                f"{filename}: entry '{name}' is malformed ({type(exc).__name__}: {exc}); fix it or reinstall"
            ) from None
    return table


def _tuple(values) -> tuple[str, ...]:
    return tuple(str(v) for v in (values or ()))


def default_folder() -> Path:
    return Path(str(resources.files("sceneshop.prompts")))


@lru_cache(maxsize=4)
def load_catalog(folder: str | Path | None = None) -> Catalog:
    """Reads scenes, lighting, LoRAs and marketplaces; cached per folder."""
    folder = Path(folder) if folder else default_folder()
    scenes = _entries(
        folder,
        "scenes.yaml",
        lambda name, e: ScenePreset(
            name=name,
            description=e["description"],
            keywords=_tuple(e.get("keywords")),
            kind=e["kind"],
            palette=dict(e["palette"]),
            props=_tuple(e.get("props")),
            time=e.get("time"),
            lighting=e.get("lighting", "softbox"),
            texture=e.get("texture"),
            water=bool(e.get("water")),
            buildings=bool(e.get("buildings")),
            overhead=bool(e.get("overhead")),
            podium=bool(e.get("podium")),
            glossy=bool(e.get("glossy")),
        ),
    )
    lighting = _entries(
        folder,
        "lighting.yaml",
        lambda name, e: LightingPreset(
            name=name,
            description=e["description"],
            keywords=_tuple(e.get("keywords")),
            kelvin=int(e["kelvin"]),
            direction=e["direction"],
            softness=float(e.get("softness", 0.5)),
        ),
    )
    loras = _entries(
        folder,
        "loras.yaml",
        lambda name, e: LoraEntry(
            name=name,
            description=e["description"],
            family=e["family"],
            weight_min=float(e["weight"]["min"]),
            weight_max=float(e["weight"]["max"]),
            weight_default=float(e["weight"]["default"]),
            trigger=_tuple(e.get("trigger")),
            source=dict(e["source"]),
            keywords=_tuple(e.get("keywords")),
        ),
    )
    marketplaces = _entries(
        folder,
        "marketplaces.yaml",
        lambda name, e: Marketplace(
            name=name,
            description=e["description"],
            keywords=_tuple(e.get("keywords")),
            width=int(e["width"]),
            height=int(e["height"]),
            background=e.get("background"),
            fill=float(e["fill"]),
            shadow=bool(e["shadow"]),
        ),
    )
    for scene in scenes.values():
        if scene.lighting not in lighting:
            raise CatalogError(f"scenes.yaml: '{scene.name}' names unknown lighting '{scene.lighting}'")
    return Catalog(scenes, lighting, loras, marketplaces, folder)
