"""The recipe's optional looks sections: the text drawn over the picture and the opt-in retouches of
the product (straighten, harmonize). Both default to "nothing", so a recipe written before they
existed reads unchanged (no schema_version bump) and the product stays bit-exact unless asked."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TextLayout = Literal["none", "cover", "banner"]
TextPlace = Literal["top", "middle", "bottom"]
PLACES: tuple[str, ...] = ("top", "middle", "bottom")  # "move the title down" walks this order


class TextLayer(BaseModel):
    """Words drawn over the finished picture (after either engine, never sent to the diffusion
    prompt). `layout` cover: `title` is the masthead, `subtitle` the headline, `lines` the cover
    lines; banner: `title` is the headline on a band, `subtitle` the line under it. `badge` ("-20%")
    and `price` ("€24.90") go with any layout, also with none."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    layout: TextLayout = "none"
    title: str = Field("", max_length=40, description="cover masthead / banner headline")
    subtitle: str = Field("", max_length=80)
    lines: list[str] = Field(default_factory=list, max_length=4, description="cover lines, 60 chars each")
    badge: str = Field("", max_length=12, description='a round sticker, e.g. "-20%", "NEW"')
    price: str = Field("", max_length=16, description='a price tag, e.g. "€24.90"')
    place: TextPlace = Field("top", description="where the title sits; the rest flows around the product")

    @field_validator("title", "subtitle", "badge", "price")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return " ".join(v.split())

    @field_validator("lines")
    @classmethod
    def _short_lines(cls, v: list[str]) -> list[str]:
        lines = [" ".join(line.split()) for line in v]
        for line in lines:
            if len(line) > 60:
                raise ValueError(f"a cover line is at most 60 characters (got {len(line)}: {line[:20]!r}…)")
        return [line for line in lines if line]

    @property
    def empty(self) -> bool:
        return not (self.title or self.subtitle or self.lines or self.badge or self.price)


class Retouch(BaseModel):
    """Changes to the product's own pixels, each off by default (then the product is bit-exact)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    straighten: bool = Field(False, description="rotate a tilted product upright (resamples it)")
    harmonize: float = Field(
        0.0, ge=0.0, le=1.0,
        description="0 = off; else how far the product's light (colour temperature, brightness) moves "
                    "towards the scene's, bounded",
    )
