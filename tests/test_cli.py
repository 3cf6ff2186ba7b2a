"""The `sceneshop` CLI end to end with the embedded planner and renderer: success paths,
reproducible renders, and every bad input giving one clear line and exit code 2."""

import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from sceneshop.agent.cli.group import main
from sceneshop.agent.recipe import SCHEMA_VERSION


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A product on a plain white background (easy for keying), saved as JPEG like a phone shot."""
    folder = tmp_path_factory.mktemp("photo")
    canvas = np.full((480, 360, 3), 250, np.uint8)
    yy, xx = np.mgrid[:480, :360]
    bottle = ((xx - 180) / 70) ** 2 + ((yy - 270) / 150) ** 2 <= 1
    canvas[bottle] = (180, 40, 60)
    canvas[(abs(xx - 180) < 25) & (yy > 80) & (yy < 140)] = (40, 40, 40)
    path = folder / "bottle.png"
    Image.fromarray(canvas).save(path)
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prints_recipe_json(capsys, photo):
    code, out, _ = run(capsys, "plan", "put it on a beach at sunset", "--image", str(photo), "--json")
    assert code == 0
    recipe = json.loads(out)
    assert recipe["scene"]["preset"] == "beach" and recipe["time_of_day"] == "sunset"


def test_generate_then_render_reproduces_the_same_bytes(capsys, photo, tmp_path):
    out, recipe_path = tmp_path / "a.png", tmp_path / "a.json"
    code, _, err = run(
        capsys,
        "generate",
        "marble countertop, soft window light",
        "--image",
        str(photo),
        "-o",
        str(out),
        "--recipe-out",
        str(recipe_path),
    )
    assert code == 0, err
    again = tmp_path / "b.png"
    code, _, err = run(capsys, "render", str(recipe_path), "--image", str(photo), "-o", str(again))
    assert code == 0, err
    assert out.read_bytes() == again.read_bytes()


def test_feedback_through_parent_recipe(capsys, photo, tmp_path):
    first = tmp_path / "first.json"
    run(
        capsys,
        "generate",
        "beach at sunset",
        "--image",
        str(photo),
        "-o",
        str(tmp_path / "1.png"),
        "--recipe-out",
        str(first),
    )
    code, out, _ = run(capsys, "plan", "warmer", "--parent", str(first), "--json")
    parent, child = json.loads(first.read_text()), json.loads(out)
    assert code == 0 and child["parent_id"] == parent["id"]
    assert child["lighting"]["kelvin"] < parent["lighting"]["kelvin"]


def test_segment_writes_a_mask(capsys, photo, tmp_path):
    out = tmp_path / "mask.png"
    code, _, _ = run(capsys, "segment", str(photo), "-o", str(out))
    mask = np.asarray(Image.open(out))
    assert code == 0 and mask.shape == (480, 360) and 0.1 < (mask > 127).mean() < 0.5


def _bomb_png(path, side=30000):
    """A valid-looking PNG header that claims side x side pixels, with almost no data."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def _bad_inputs(tmp_path, photo):
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    jpeg = tmp_path / "cut.jpg"
    Image.open(photo).convert("RGB").save(jpeg, quality=90)
    jpeg.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema_version": SCHEMA_VERSION + 1}))
    unknown_lora = tmp_path / "lora.json"
    unknown_lora.write_text(json.dumps({"loras": [{"name": "beach_sunset_v2", "weight": 0.5}]}))
    unknown_scene = tmp_path / "scene.json"
    unknown_scene.write_text(json.dumps({"scene": {"preset": "moon_base"}}))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"mode": "replace_background"}))
    inpaint = tmp_path / "inpaint.json"
    inpaint.write_text(json.dumps({"mode": "inpaint"}))
    out = str(tmp_path / "out.png")
    return {
        "missing file": (
            ["generate", "beach", "--image", str(tmp_path / "nope.jpg"), "-o", out],
            "does not exist",
        ),
        "not an image": (["generate", "beach", "--image", str(text), "-o", out], "not an image"),
        "truncated jpeg": (["generate", "beach", "--image", str(jpeg), "-o", out], "truncated"),
        "decompression bomb": (
            ["generate", "beach", "--image", str(_bomb_png(tmp_path / "bomb.png")), "-o", out],
            "limit",
        ),
        "empty request": (["generate", "  ", "--image", str(photo), "-o", out], "empty"),
        "huge request": (["generate", "x" * 20000, "--image", str(photo), "-o", out], "20,000 characters"),
        "newer schema": (["render", str(newer), "--image", str(photo), "-o", out], "newer"),
        "unknown lora": (["render", str(unknown_lora), "--image", str(photo), "-o", out], "beach_sunset_v2"),
        "unknown preset": (["render", str(unknown_scene), "--image", str(photo), "-o", out], "moon_base"),
        "no photo": (["render", str(plain), "-o", out], "needs a product photo; upload one (CLI: --image)"),
        "inpaint without mask": (["render", str(inpaint), "--image", str(photo), "-o", out], "(CLI: --mask)"),
        "box of three": (["segment", str(photo), "-o", out, "--box", "1,2,3"], "must be four integers"),
        "box of words": (["segment", str(photo), "-o", out, "--box", "a,b,c,d"], "must be four integers"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing file",
        "not an image",
        "truncated jpeg",
        "decompression bomb",
        "empty request",
        "huge request",
        "newer schema",
        "unknown lora",
        "unknown preset",
        "no photo",
        "inpaint without mask",
        "box of three",
        "box of words",
    ],
)
def test_bad_input_exits_2_with_one_clear_line_and_writes_nothing(capsys, tmp_path, photo, case):
    argv, expected = _bad_inputs(tmp_path, photo)[case]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err
    assert "Traceback" not in err + out
    assert not (tmp_path / "out.png").exists()


def test_console_script_exit_code_and_help(tmp_path):
    help_run = subprocess.run(
        [sys.executable, "-m", "sceneshop.agent.cli", "generate", "--help"],
        capture_output=True,
        text=True,
    )
    assert help_run.returncode == 0 and "--recipe-out" in help_run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "sceneshop.agent.cli", "segment", str(tmp_path / "none.png"), "-o", "x.png"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr
