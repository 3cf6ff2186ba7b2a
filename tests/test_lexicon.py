"""The lexicon's word sets: word_set reads vocabulary lists by dotted path, takes a mapping's lists,
builds each set once per vocabulary and never hands one vocabulary's words to another."""

from __future__ import annotations

import pytest

from sceneshop.agent.planner.lexicon import word_set


def _vocab() -> dict:
    # A tiny vocabulary of its own, spelled the way vocabulary.yaml spells words (case, hyphens).
    return {
        "prepositions": ["On", "next-to"],
        "conversation": {"hedges": ["I Reckon", "kind of"]},
        "products": {"kitchen": ["mug", "Coffee-Cup"], "bath": ["soap"]},
    }


def test_word_set_reads_dotted_paths_and_mapping_lists():
    vocab = _vocab()
    assert word_set(vocab, "prepositions") == {"on", "next to"}
    assert word_set(vocab, "conversation.hedges") == {"i reckon", "kind of"}
    assert word_set(vocab, "products") == {"mug", "coffee cup", "soap"}
    assert word_set(vocab, "prepositions", "conversation.hedges") == {"on", "next to", "i reckon", "kind of"}


def test_word_set_is_built_once_per_vocabulary():
    first, second = _vocab(), _vocab()
    second["prepositions"] = ["under"]
    made = word_set(first, "prepositions")
    assert word_set(first, "prepositions") is made
    # An equal-looking call on another dict reads that dict, not the first one's set.
    assert word_set(second, "prepositions") == {"under"}
    assert word_set(first, "prepositions") == {"on", "next to"}


def test_word_set_missing_key_raises_unless_missing_ok():
    vocab = _vocab()
    with pytest.raises(KeyError):
        word_set(vocab, "containers")
    with pytest.raises(KeyError):
        word_set(vocab, "conversation.visit_words")
    assert word_set(vocab, "containers", missing_ok=True) == frozenset()
    assert word_set(vocab, "ignored_keywords.marketplace", missing_ok=True) == frozenset()
    assert word_set(vocab, "prepositions", "containers", missing_ok=True) == {"on", "next to"}
