"""Shared test set-up: an isolated environment, real photos from scikit-image and their masks."""

from __future__ import annotations

import os
import tempfile

import pytest
from PIL import Image, ImageDraw
from skimage import data

# Tests run on the embedded defaults and never touch the user's ~/.sceneshop, a configured LLM
# endpoint or model, or a sceneshop.toml in the working folder (settings are read once per process).
_TEST_HOME = tempfile.mkdtemp(prefix="sceneshop-test-")
os.environ["SCENESHOP_DATA_DIR"] = _TEST_HOME
os.environ["SCENESHOP_CONFIG"] = os.path.join(_TEST_HOME, "no-such-sceneshop.toml")
# Gradio's upload cache is content-addressed and shared by every process that uses the same folder;
# the studio deletes its cache files when it stops, so test runs keep theirs apart.
os.environ["GRADIO_TEMP_DIR"] = os.path.join(_TEST_HOME, "gradio")
for _var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "SCENESHOP_DIFFUSION_MODEL", "SCENESHOP_USERS"):
    os.environ.pop(_var, None)

# The espresso cup with its saucer in skimage's coffee.png (600x400): a box hint around it.
COFFEE_CUP_BOX = (60, 5, 490, 395)


@pytest.fixture(scope="module")
def planner():
    """The embedded planner (one per test module, as each module had its own before)."""
    from sceneshop.agent.planner.embedded import EmbeddedPlanner

    return EmbeddedPlanner()


@pytest.fixture(scope="module")
def renderer():
    """The embedded preview renderer."""
    from sceneshop.tools.preview.renderer import EmbeddedRenderer

    return EmbeddedRenderer()


@pytest.fixture()
def session(planner, renderer, coffee, coffee_mask):
    """A studio session on the embedded planner and renderer, with the coffee photo as its product."""
    from sceneshop.agent.session import Session
    from sceneshop.agent.studio import Studio

    s = Session(Studio(planner=planner, engine=renderer))
    s.set_product(coffee, coffee_mask)
    return s


@pytest.fixture(scope="module")
def vocab():
    """The planner's word lists (prompts/vocabulary.yaml)."""
    from sceneshop.agent.planner.prompt import load_vocabulary

    return load_vocabulary()


@pytest.fixture(scope="session")
def coffee() -> Image.Image:
    """A real 600x400 RGB photo: an espresso cup on a saucer on a wooden table."""
    return Image.fromarray(data.coffee(), "RGB")


@pytest.fixture(scope="session")
def coffee_mask() -> Image.Image:
    """A hand-drawn "L" mask of the cup and saucer in `coffee` (independent of sceneshop.tools.segment)."""
    mask = Image.new("L", (600, 400), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((76, 72, 480, 390), fill=255)  # saucer
    draw.ellipse((170, 14, 410, 200), fill=255)  # cup rim
    draw.rectangle((172, 100, 408, 260), fill=255)  # cup body
    return mask




def landed(placement, mask: Image.Image, xy: tuple[int, int]) -> tuple[int, int]:
    """Where the photo's pixel `xy` lands on the canvas, by the renderer's own placement (the
    preview stands the product on the scene's surface, scaled to fit)."""
    from sceneshop.tools.composite import mask_box

    left, top, _, _ = mask_box(mask)
    return (placement.box[0] + round((xy[0] - left) * placement.scale),
            placement.box[1] + round((xy[1] - top) * placement.scale))


@pytest.fixture(scope="session")
def ray_cluster():
    """One real local Ray cluster for the whole test session (it takes seconds to start), shared by
    the batch tests and the studio's Ray engine test."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
