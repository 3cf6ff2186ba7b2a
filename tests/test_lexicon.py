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


def test_no_word_in_the_prompts_yaml_is_read_as_a_boolean():
    # YAML 1.1 reads a bare yes/no/on/off as true/false: "yes" among the filler words became the
    # word "true", and "yes, warmer" put "yes" in the prompt. Such words are quoted.
    from pathlib import Path

    import yaml

    def walk(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                assert not isinstance(key, bool), f"{path}: a key read as {key}"
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                assert not isinstance(item, bool), f"{path}: a word read as {item}"
                walk(item, path)

    folder = Path(__file__).resolve().parent.parent / "prompts"
    for file in sorted(folder.glob("*.yaml")):
        walk(yaml.safe_load(file.read_text()), file.name)
