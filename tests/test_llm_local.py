"""Optional: the LLM planner against a real local model behind an OpenAI-compatible server
(llama.cpp with Qwen2.5-Coder-1.5B; start it with bench/local_llm.sh). Skipped unless
SCENESHOP_LOCAL_LLM_URL names the server, because building and running it takes minutes."""

import os

import pytest

from sceneshop.agent.llm.planner import LLMPlanner
from sceneshop.agent.settings import Settings

URL = os.environ.get("SCENESHOP_LOCAL_LLM_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set SCENESHOP_LOCAL_LLM_URL (see bench/local_llm.sh)")


@pytest.fixture(scope="module")
def planner():
    settings = Settings(
        openai_base_url=URL, llm_model=os.environ.get("SCENESHOP_LLM_MODEL", "qwen"), llm_timeout_s=180
    )
    return LLMPlanner.from_settings(settings)


def _offline(recipe) -> bool:
    return any("planned offline instead" in note for note in recipe.notes)


def test_a_real_model_plans_a_valid_recipe(planner):
    recipe = planner.plan("put this dress on a beach at sunset", image_size=(768, 1024))
    assert not _offline(recipe), recipe.notes
    assert recipe.scene.preset == "beach"
    assert recipe.mode == "replace_background" and "beach" in recipe.prompt.lower()


def test_a_real_model_edits_the_recipe_on_feedback(planner):
    first = planner.plan("serum bottle on a marble countertop", image_size=(768, 1024))
    warmer = planner.plan("make the light warmer", first, image_size=(768, 1024))
    assert not _offline(warmer), warmer.notes
    assert warmer.parent_id == first.id and warmer.scene.preset == first.scene.preset
    assert warmer.lighting.kelvin < first.lighting.kelvin
