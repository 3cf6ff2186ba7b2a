"""Tests for what the preview renderer reads from the merchant's scene words (prompts/preview.yaml)."""

from __future__ import annotations

import pytest

from sceneshop.tools.preview.words import colour_of, shape_of, things_in


@pytest.mark.parametrize(("clause", "things"), [
    ("croissant", ["croissant"]),
    ("a few seashells", ["a few seashells"]),
    ("dried orange slices and cinnamon sticks around it", ["dried orange slices", "cinnamon sticks"]),
    ("a vase with tulips next to it", ["a vase", "tulips"]),
    ("a stack of books", ["books"]),
    ("fairy lights", ["fairy lights"]),
    ("white towels", ["white towels"]),
    # no thing: a place, a quality of the picture, a noun used as a modifier
    ("library with old bookshelves", []),
    ("crisp contrast and vivid colour", []),
    ("orange light", []),
    ("rose gold accents", []),
    ("soft diffused light", []),
])
def test_things_in_the_scene_words(clause, things):
    assert things_in([clause]) == things


def test_each_thing_once_across_clauses():
    assert things_in(["croissant", "a croissant", "croissant"]) == ["croissant", "a croissant"]


@pytest.mark.parametrize(("name", "shape"), [
    ("eucalyptus sprig", "plant"), ("a few seashells", "round"), ("fairy lights", "glow"),
    ("linen napkin", "block"), ("dried orange slices", "round"),
])
def test_shape_of_a_prop(name, shape):
    assert shape_of(name) == shape


def test_colour_of_says_whole_words_only():
    assert colour_of("white towels") == colour_of("WHITE") is not None
    assert colour_of("whitewashed wall") is None
