"""sceneshop.tools.wording: negated clauses, "already says", and LoRA trigger words — the one reading
of a recipe's words that the prompt writer and both engines share."""

from __future__ import annotations

from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.wording import add_triggers, description_parts, mentions, trigger_words


def test_negated_clauses_are_split_off():
    assert description_parts("a, no b, Without c") == (["a"], ["b", "c"])
    assert description_parts("beach, no snow, not any trees, never the crowds") == (
        ["beach"], ["snow", "trees", "crowds"])
    assert description_parts("") == ([], [])
    # Only a clause that starts with the negation is negated.
    assert description_parts("snow with no wind") == (["snow with no wind"], [])


def test_mentions_whole_words_in_any_case():
    assert mentions("bottle, Neon Glow lights", "neon glow")
    assert not mentions("filmic look", "film")
    assert mentions("3d render, octane", "3d render")


def test_trigger_words_are_added_once_and_only_for_active_loras():
    catalog = load_catalog()
    neon, bokeh = (catalog.lora("neon_glow"), 0.5), (catalog.lora("bokeh_dreamy"), 0.5)
    film = (catalog.lora("film_grain"), 0.0)
    assert add_triggers("bottle, Neon Glow lights", [neon]) == "bottle, Neon Glow lights"
    assert add_triggers("bottle", [neon, bokeh, film]) == "bottle, neon glow, dreamy bokeh"
    assert add_triggers(add_triggers("bottle", [neon]), [neon]) == "bottle, neon glow"
    assert add_triggers("", [film]) == "" and add_triggers("", [neon]) == "neon glow"


def test_a_trigger_two_loras_share_is_said_once():
    catalog = load_catalog()
    pair = [(catalog.lora("product_photo_xl"), 0.7), (catalog.lora("product_photo_sd15"), 0.7)]
    words = trigger_words(pair)
    assert len(words) == len({w.lower() for w in words})
    assert "product photography" in [w.lower() for w in words]
    assert trigger_words([(catalog.lora("film_grain"), 0.0)]) == []
