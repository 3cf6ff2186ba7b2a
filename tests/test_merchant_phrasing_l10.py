"""Rules for merchant phrasing an unseen set (l10, 2026-12-04) failed, round nine: an interjection
before a command ("eh undo that"), ... Each class is tested with sentences of its own besides the
set's, and with near-misses that must keep their old reading."""

from __future__ import annotations

import pytest

from sceneshop.agent.commands import read_message


@pytest.mark.parametrize("said", ["argh undo that", "welp, go back", "oof revert it", "yikes undo",
                                  "bleh can you undo that", "eh undo it and make it warmer"])
def test_an_interjection_before_a_command_is_no_request_of_its_own(said):
    message = read_message(said, has_picture=True)
    assert message.kind == "undo"
    assert message.words in ("", "make it warmer")


@pytest.mark.parametrize("said", ["eh it's too dark", "ugh the sand is too orange", "meh, warmer"])
def test_an_interjection_before_feedback_leaves_it_feedback(planner, said):
    assert read_message(said, has_picture=True).kind == "feedback"
    parent = planner.plan("a candle on a beach", image_size=(600, 400))
    recipe = planner.plan(said, parent, image_size=(600, 400))
    for sound in ("eh", "ugh", "meh"):
        assert sound not in recipe.prompt.replace(",", " ").split()
