"""The studio's generations on a Ray actor (SCENESHOP_RAY_ADDRESS set), on the test session's real
local Ray cluster: the same recipe gives the very same pixels as in process, looks that need the
product's place in the picture (a text layer) work, a chat session runs on it, and Stop stops."""

from __future__ import annotations

import os
import threading

import pytest

from sceneshop.agent.recipe import Recipe
from sceneshop.agent.session import Session
from sceneshop.agent.settings import Settings
from sceneshop.agent.studio import Studio
from sceneshop.tools.errors import Cancelled
from sceneshop.tools.finish import needs_product_mask
from sceneshop.tools.preview.renderer import EmbeddedRenderer


@pytest.fixture(scope="module")
def on_ray(ray_cluster, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("ray-studio"), ray_address="auto",
                        diffusion_model=None, openai_api_key=None, openai_base_url=None)
    studio = Studio.from_settings(settings)
    yield studio
    ray_cluster.kill(studio.engine.actor)
    if studio.memory is not None:
        studio.memory.close()


def same_pixels(a, b) -> bool:
    return a.size == b.size and a.tobytes() == b.tobytes()


def copy(recipe: Recipe) -> Recipe:
    return Recipe.from_json(recipe.to_json())


def test_the_studio_renders_on_a_ray_actor_with_the_same_pixels(on_ray, ray_cluster, coffee, coffee_mask):
    engine = on_ray.engine
    assert engine.name == "embedded preview renderer on Ray" and "on Ray" in on_ray.banner()
    actor_pid = ray_cluster.get(engine.actor.__ray_call__.remote(lambda self: os.getpid()))
    assert actor_pid != os.getpid()  # the pictures are made in another process

    here = Studio(planner=on_ray.planner, engine=EmbeddedRenderer())
    for request in ("put it on a beach at sunset", "magazine cover with the title STAY HYDRATED"):
        recipe = here.plan(request, image_size=coffee.size)
        local = here.render(copy(recipe), coffee, coffee_mask)
        remote_recipe = copy(recipe)
        remote = on_ray.render(remote_recipe, coffee, coffee_mask)
        assert len(remote) == len(local) >= 1
        for a, b in zip(local, remote, strict=True):
            assert same_pixels(a.convert("RGB"), b.convert("RGB"))
    # The second has a text layer, placed around the product: the actor was asked where it lies.
    assert needs_product_mask(remote_recipe)


def test_a_chat_runs_on_the_ray_engine_and_stop_stops_it(on_ray, coffee):
    session = Session(on_ray, user="alice")
    session.set_product(coffee)
    first = session.send("put it on a beach at sunset")
    second = session.send("warmer")
    assert (first.kind, second.kind) == ("result", "result") and second.images
    assert second.recipe.parent_id == first.recipe.id

    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        on_ray.render(copy(second.recipe), session.image, session.mask, cancel=stop)
