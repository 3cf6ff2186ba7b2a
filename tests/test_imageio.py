"""Tests for sceneshop.tools.imageio: safe loading of uploads and masks, atomic deterministic PNG saving."""

from __future__ import annotations

import errno
import io
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

import sceneshop.tools.imageio as imageio
from sceneshop.tools.errors import InputError, SceneshopError
from sceneshop.tools.imageio import load_image, load_mask, save_png


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **kwargs)
    return buffer.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height, with only one real row of pixel data: what a
    decompression bomb or a forged upload looks like before anything is decoded."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    one_row = zlib.compress(b"\x00" + b"\x00" * 3 * min(width, 1000))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", one_row)
            + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- load_image: good inputs


def test_loads_path_and_bytes_as_rgb(tmp_path, coffee):
    path = tmp_path / "cup.jpg"
    coffee.save(path, quality=95)
    from_path = load_image(path)
    from_str = load_image(str(path))
    from_bytes = load_image(path.read_bytes())
    assert from_path.mode == from_str.mode == from_bytes.mode == "RGB"
    assert from_path.size == (600, 400)
    assert np.array_equal(np.asarray(from_path), np.asarray(from_bytes))


def test_keeps_alpha_as_rgba(tmp_path):
    image = Image.new("RGBA", (20, 10), (255, 0, 0, 0))
    image.putpixel((5, 5), (0, 255, 0, 255))
    loaded = load_image(png_bytes(image))
    assert loaded.mode == "RGBA"
    assert loaded.getpixel((5, 5)) == (0, 255, 0, 255)
    assert loaded.getpixel((0, 0))[3] == 0


def test_palette_and_16_bit_images_become_8_bit_rgb():
    palette = Image.new("P", (8, 8), 3)
    assert load_image(png_bytes(palette)).mode == "RGB"
    deep = Image.fromarray(np.full((8, 8), 65535, np.uint16))
    loaded = load_image(png_bytes(deep))
    assert loaded.mode == "RGB" and loaded.getpixel((0, 0)) == (255, 255, 255)


def test_applies_exif_orientation():
    image = Image.new("RGB", (40, 20), (200, 10, 10))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert load_image(buffer.getvalue()).size == (20, 40)


# ---------------------------------------------------------------- load_image: bad inputs


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match=r"nope\.png' does not exist"):
        load_image(tmp_path / "nope.png")


def test_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        load_image(tmp_path)


def test_text_file_renamed_png_is_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is a shopping list, not a photo\n" * 20)
    with pytest.raises(InputError, match=r"notes\.png' is not an image.*PNG, JPEG"):
        load_image(path)


def test_truncated_jpeg_is_refused(tmp_path, coffee):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    path = tmp_path / "cut.jpg"
    buffer = io.BytesIO()
    coffee.save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(InputError, match=r"cut\.jpg' is damaged or truncated.*again"):
        load_image(path)


def test_truncated_png_is_refused(coffee):
    data = png_bytes(coffee)
    with pytest.raises(InputError, match="truncated"):
        load_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_with_header(30000, 30000))
    assert path.stat().st_size < 2000
    with pytest.raises(InputError, match=r"bomb\.png' is 900 megapixels; the limit is 40 MP — downscale"):
        load_image(path)


def test_over_our_pixel_limit_names_size_and_target():
    # 7000x7000 is under Pillow's own bomb limit: our header check is what refuses it.
    with pytest.raises(InputError, match=r"7000x7000, 49 megapixels.*under 6300x6300"):
        load_image(png_with_header(7000, 7000))
    with pytest.raises(InputError, match="limit is 0.01 MP"):
        load_image(png_bytes(Image.new("RGB", (200, 100))), max_pixels=10_000)


def test_too_many_bytes_is_refused_before_reading(tmp_path, coffee):
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(coffee))
    with pytest.raises(InputError, match=r"big\.png' is .* KB; the limit is 1.0 KB"):
        load_image(path, max_bytes=1024)
    with pytest.raises(InputError, match="the uploaded image is .*limit is 1.0 KB"):
        load_image(path.read_bytes(), max_bytes=1024)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.jpg' is empty \(0 bytes\)"):
        load_image(path)


def test_zero_size_png_is_refused():
    with pytest.raises(InputError, match="zero size"):
        load_image(png_with_header(0, 10))


# ---------------------------------------------------------------- load_mask


def test_load_mask_greyscale_keeps_levels(tmp_path):
    levels = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (4, 1))
    path = tmp_path / "mask.png"
    Image.fromarray(np.stack([levels] * 3, axis=2)).save(path)
    mask = load_mask(path, (16, 4))
    assert mask.mode == "L"
    assert np.array_equal(np.asarray(mask), levels)  # no threshold applied


def test_load_mask_uses_a_varying_alpha(tmp_path):
    cutout = Image.new("RGBA", (10, 10), (255, 255, 255, 0))
    cutout.paste((255, 255, 255, 255), (2, 2, 6, 6))
    path = tmp_path / "cutout.png"
    cutout.save(path)
    mask = np.asarray(load_mask(path, (10, 10)))
    assert mask[3, 3] == 255 and mask[0, 0] == 0


def test_load_mask_size_mismatch_names_both_sizes(tmp_path):
    path = tmp_path / "m.png"
    Image.new("L", (30, 20)).save(path)
    with pytest.raises(InputError, match=r"is 30x20 but the photo is 600x400"):
        load_mask(path, (600, 400))


# ---------------------------------------------------------------- save_png


def test_save_png_round_trips_with_metadata(tmp_path, coffee):
    path = tmp_path / "out" / "result.png"
    recipe = '{"scene": {"preset": "beach"}, "request": "plage au coucher du soleil ☀"}'
    save_png(coffee, path, {"sceneshop:recipe": recipe, "Software": "Sceneshop"})
    with Image.open(path) as reopened:
        assert reopened.text["sceneshop:recipe"] == recipe
        assert np.array_equal(np.asarray(reopened.convert("RGB")), np.asarray(coffee))
    assert [p.name for p in path.parent.iterdir()] == ["result.png"]  # no temp file left


def test_save_png_is_deterministic(tmp_path, coffee):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    save_png(coffee, a, {"k2": "two", "k1": "one"})
    save_png(coffee, b, {"k1": "one", "k2": "two"})
    assert a.read_bytes() == b.read_bytes()


def test_save_png_disk_full_leaves_old_file_and_no_partial(tmp_path, coffee, monkeypatch):
    path = tmp_path / "result.png"
    path.write_bytes(b"previous result")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(imageio.os, "fsync", disk_full)
    with pytest.raises(SceneshopError, match=r"could not save the image to .*result\.png: the disk is full"):
        save_png(coffee, path)
    assert path.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]


def test_save_png_into_a_file_instead_of_a_folder(tmp_path, coffee):
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(SceneshopError, match="could not save the image to .*results/x.png"):
        save_png(coffee, blocker / "x.png")
