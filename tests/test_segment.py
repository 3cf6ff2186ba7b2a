"""Tests for sceneshop.tools.segment: alpha masks, plain-background keying and GrabCut on a real photo."""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
from conftest import COFFEE_CUP_BOX
from PIL import Image, ImageDraw, ImageFilter

from sceneshop.tools.errors import Cancelled, InputError
from sceneshop.tools.segment import _keying_agrees, describe, model, segment
from sceneshop.tools.segment.refine import DEFAULT, refine, room_in_box


def iou(a, b) -> float:
    a, b = np.asarray(a) >= 128, np.asarray(b) >= 128
    return float((a & b).sum() / max(1, (a | b).sum()))


def bottle_on(background, size=(480, 640), label=(255, 255, 255), noise=3.0, seed=0):
    """A synthetic product shot: a red bottle with a label of `label` colour on a plain backdrop
    with a soft vertical falloff and sensor noise. Returns (photo, true mask)."""
    w, h = size
    truth = Image.new("L", size, 0)
    draw = ImageDraw.Draw(truth)
    draw.rounded_rectangle((150, 220, 330, 600), radius=40, fill=255)  # body
    draw.rectangle((210, 120, 270, 230), fill=255)  # neck
    draw.rectangle((200, 90, 280, 130), fill=255)  # cap
    rng = np.random.default_rng(seed)
    falloff = np.linspace(1.0, 0.97, h)[:, None, None]
    backdrop = np.asarray(background, np.float32)[None, None, :] * falloff * np.ones((h, w, 3), np.float32)
    photo = Image.fromarray(np.clip(backdrop, 0, 255).astype(np.uint8))
    product = Image.new("RGB", size, (170, 25, 35))
    ImageDraw.Draw(product).rectangle((180, 330, 300, 480), fill=label)  # the label
    # Anti-aliased edge, like a real photo.
    photo.paste(product, mask=truth.filter(ImageFilter.GaussianBlur(1)))
    arr = np.asarray(photo, np.float32) + rng.normal(0, noise, (h, w, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), truth


def test_product_on_white_with_white_label_is_one_solid_shape():
    photo, truth = bottle_on((255, 255, 255))
    mask = segment(photo)
    assert mask.mode == "L" and mask.size == photo.size
    assert set(np.unique(np.asarray(mask))) <= {0, 255}
    assert iou(mask, truth) >= 0.95
    assert mask.getpixel((240, 400)) == 255  # the white label inside stays product


@pytest.mark.parametrize("colour", [(120, 170, 230), (40, 40, 44), (236, 214, 180)])
def test_product_on_other_plain_colours(colour):
    photo, truth = bottle_on(colour, label=(250, 240, 120))
    assert iou(segment(photo), truth) >= 0.95


def test_a_pair_keeps_both_parts_and_drops_specks():
    photo = Image.new("RGB", (400, 300), (250, 250, 250))
    truth = Image.new("L", photo.size, 0)
    for shape in [(40, 150, 180, 250), (220, 150, 360, 250)]:
        ImageDraw.Draw(photo).ellipse(shape, fill=(30, 30, 30))
        ImageDraw.Draw(truth).ellipse(shape, fill=255)
    ImageDraw.Draw(photo).point([(10, 10), (200, 20), (390, 290)], fill=(0, 0, 0))  # dust
    mask = segment(photo)
    assert iou(mask, truth) >= 0.95
    assert mask.getpixel((10, 10)) == 0


def test_box_hint_limits_a_plain_background_result():
    photo, truth = bottle_on((255, 255, 255))
    mask = segment(photo, box=(0, 200, 480, 640))
    assert mask.getpixel((240, 100)) == 0  # the cap is outside the box
    assert mask.getpixel((240, 400)) == 255


def test_keying_is_not_trusted_where_it_bites_the_models_sure_product():
    # A white page against a white wall: keying drops it, the model is sure of it. The keyed cut-out
    # still overlaps the model's by IoU 0.92, so overlap alone would have trusted keying.
    found = np.zeros((200, 200), bool)
    found[20:180, 20:180] = True
    prob = found.astype(np.float32)
    page = found.copy()
    page[60:80, 20:120] = False  # the keyed-away page reaches deep into the product
    edge = found.copy()
    edge[20:24, :] = edge[:, 20:24] = False  # keying a few pixels tighter at the edge is fine
    assert not _keying_agrees(page, found, prob)
    assert _keying_agrees(edge, found, prob)


def test_alpha_channel_is_the_mask():
    truth = Image.new("L", (200, 160), 0)
    ImageDraw.Draw(truth).ellipse((40, 30, 160, 140), fill=255)
    soft = truth.filter(ImageFilter.GaussianBlur(2))
    # The RGB under the alpha is busy noise: only the alpha can give the right answer.
    rgb = Image.fromarray(np.random.default_rng(1).integers(0, 255, (160, 200, 3), dtype=np.uint8))
    cutout = rgb.convert("RGBA")
    cutout.putalpha(soft)
    mask = segment(cutout)
    assert np.array_equal(np.asarray(mask), np.asarray(soft))


def test_opaque_alpha_is_ignored():
    photo, truth = bottle_on((255, 255, 255))
    assert iou(segment(photo.convert("RGBA")), truth) >= 0.95


def test_grabcut_gets_the_cup_on_a_real_photo(coffee, coffee_mask):
    mask = segment(coffee, box=COFFEE_CUP_BOX)
    assert mask.size == coffee.size
    assert iou(mask, coffee_mask) >= 0.9
    assert mask.getpixel((290, 100)) == 255  # the espresso
    assert mask.getpixel((20, 20)) == 0 and mask.getpixel((560, 380)) == 0  # table corners


def test_grabcut_default_box_finds_the_cup(coffee, coffee_mask):
    assert iou(segment(coffee), coffee_mask) >= 0.85


def test_grabcut_is_repeatable(coffee):
    a = segment(coffee, box=COFFEE_CUP_BOX)
    b = segment(coffee, box=COFFEE_CUP_BOX)
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_blank_photo_has_no_product():
    with pytest.raises(InputError, match="no product found; draw a box hint"):
        segment(Image.new("RGB", (300, 200), (255, 255, 255)))


def test_fully_transparent_cutout_has_no_product():
    with pytest.raises(InputError, match="no product found"):
        segment(Image.new("RGBA", (100, 100), (0, 0, 0, 0)))


def test_box_outside_the_photo_is_explained(coffee):
    with pytest.raises(InputError, match=r"box hint .* does not cover any of the 600x400 photo"):
        segment(coffee, box=(700, 10, 800, 100))
    with pytest.raises(InputError, match="four numbers"):
        segment(coffee, box=("a", 1, 2, 3))


# ---------------------------------------------------------------- the u2netp model path


def test_the_model_finds_the_cup_without_a_hint(coffee, coffee_mask):
    # A busy real photo (wooden table, spoon, shadows): the model path, no box.
    assert model.model_problem() is None
    assert iou(segment(coffee), coffee_mask) >= 0.9


def test_clicks_remove_and_add_regions(coffee):
    base = np.asarray(segment(coffee)) >= 128
    removed = np.asarray(segment(coffee, points=[(160, 330, False)])) >= 128
    assert base[330, 160] and not removed[330, 160]  # the clicked part of the saucer is gone
    assert removed[150, 290]  # the cup stays
    added = np.asarray(segment(coffee, points=[(20, 20, True)])) >= 128
    assert not base[20, 20] and added[20, 20]  # the clicked corner of the table is kept
    with pytest.raises(InputError, match=r"click \(900, 10\) is outside the 600x400 photo"):
        segment(coffee, points=[(900, 10, True)])


def bag_with_a_chair_leg(leg_colour=(110, 70, 40)):
    """A made photo: a blue bag on a beige floor with a chair leg touching the bag's lower right, the
    saliency a model that sees the furniture gives (bag and leg alike). Returns rgb, prob, bag, leg."""
    rng = np.random.default_rng(0)
    rgb = np.full((512, 512, 3), (200, 190, 170), np.float64)
    bag = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(bag).ellipse((110, 120, 330, 380), fill=255)
    leg = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(leg).rectangle((290, 330, 312, 500), fill=255)
    bag, leg = np.asarray(bag) > 0, np.asarray(leg) > 0
    leg &= ~bag
    rgb[bag], rgb[leg] = (40, 70, 160), leg_colour
    rgb = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    seen = Image.fromarray(((bag | leg) * 255).astype(np.uint8))
    prob = np.asarray(seen.filter(ImageFilter.GaussianBlur(3)))
    return rgb, prob.astype(np.float32) / 255, bag, leg


@pytest.mark.parametrize("leg_colour", [(110, 70, 40), (40, 70, 160)], ids=["wood", "bag-coloured"])
def test_a_remove_click_takes_the_attached_part_it_is_on_but_never_the_product(leg_colour):
    rgb, prob, bag, leg = bag_with_a_chair_leg(leg_colour)
    before = refine(rgb, prob) >= 128
    assert before[leg].mean() > 0.95  # the leg is part of the automatic cut-out
    after = refine(rgb, prob, points=[(300, 460, False)]) >= 128
    # The whole leg, not a disc around the click (that left 97%); a bag-coloured leg keeps a stub
    # where it meets the bag, as only the shape tells them apart there.
    assert after[leg].mean() < (0.05 if leg_colour != (40, 70, 160) else 0.2)
    assert after[bag].mean() > 0.99  # the bag stays, even when the leg has its colour
    disc_only = refine(rgb, prob, points=[(300, 460, False)], prm=replace(DEFAULT, remove_regions=False))
    assert (disc_only >= 128)[leg].mean() > 0.9


def test_a_remove_click_on_a_detached_part_takes_all_of_it():
    rgb, prob, bag, leg = bag_with_a_chair_leg()
    stool = np.zeros_like(bag)
    stool[20:90, 320:500] = True  # a detached piece of furniture the model also saw, half wood, half white
    rgb[20:90, 320:410], rgb[20:90, 410:500] = (110, 70, 40), (250, 250, 250)
    prob = np.maximum(prob, stool.astype(np.float32))
    assert (refine(rgb, prob) >= 128)[stool].mean() > 0.95
    after = refine(rgb, prob, points=[(340, 50, False)]) >= 128
    assert not after[stool].any() and after[bag].mean() > 0.99


def test_a_remove_click_on_a_plant_touching_the_phone_takes_the_plant():
    """A potted plant (leaves of two greens, too varied for one colour region) touching a phone on a
    wooden table; the model sees both. One click on the plant takes all of it and none of the phone."""
    rng = np.random.default_rng(0)
    rgb = np.full((512, 512, 3), (150, 100, 60), np.float64)
    drawn = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(drawn).rounded_rectangle((230, 150, 380, 460), radius=12, fill=255)
    phone = np.asarray(drawn) > 0
    drawn = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(drawn).ellipse((50, 30, 250, 230), fill=255)
    plant = (np.asarray(drawn) > 0) & ~phone
    yy, xx = np.mgrid[:512, :512]
    leaf = (xx // 24 + yy // 24) % 2 == 0
    rgb[phone], rgb[plant & leaf], rgb[plant & ~leaf] = (235, 235, 240), (70, 110, 80), (150, 185, 160)
    rgb = np.clip(rgb + rng.normal(0, 4, rgb.shape), 0, 255).astype(np.uint8)
    seen = Image.fromarray(((phone | plant) * 255).astype(np.uint8))
    prob = np.asarray(seen.filter(ImageFilter.GaussianBlur(3))).astype(np.float32) / 255
    assert (refine(rgb, prob) >= 128)[plant].mean() > 0.95
    after = refine(rgb, prob, points=[(170, 120, False)]) >= 128
    assert after[plant].mean() < 0.05 and after[phone].mean() > 0.99


def test_a_remove_click_on_the_saucer_never_takes_the_cup_of_the_same_red(coffee):
    # Saucer and cup are one red and touch: no object of the saucer's own stands apart from the cup,
    # so the click takes only what its colour region may, and nothing of the cup (a version that
    # parted the core for the flood too took 3179 of the cup's pixels).
    drawn = Image.new("L", coffee.size, 0)
    ImageDraw.Draw(drawn).ellipse((170, 14, 410, 200), fill=255)
    ImageDraw.Draw(drawn).rectangle((172, 100, 408, 250), fill=255)
    cup = np.asarray(drawn) > 0
    before = np.asarray(segment(coffee)) >= 128
    after = np.asarray(segment(coffee, points=[(160, 330, False)])) >= 128
    assert not after[330 - 2:330 + 3, 160 - 2:160 + 3].any()  # what was clicked goes
    assert not (before & ~after & cup).any()


def test_a_box_side_the_cut_out_stops_short_of_is_searched_for_a_missed_product():
    """Two products in one tight box; the model saw only the bag, not the phone beside it on the left."""
    rng = np.random.default_rng(0)
    rgb = np.full((512, 512, 3), (200, 190, 170), np.float64)
    drawn = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(drawn).ellipse((110, 120, 330, 380), fill=255)
    bag, phone = np.asarray(drawn) > 0, np.zeros((512, 512), bool)
    phone[190:370, 25:95] = True
    rgb[bag], rgb[phone] = (40, 70, 160), (200, 40, 40)
    rgb = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    prob = np.asarray(drawn.filter(ImageFilter.GaussianBlur(3))).astype(np.float32) / 255
    tight = (22, 117, 334, 384)  # a few pixels round both, as a merchant draws it
    assert (refine(rgb, prob, box=tight, prm=replace(DEFAULT, box_sides=False)) >= 128)[phone].mean() < 0.1
    found = refine(rgb, prob, box=tight) >= 128
    assert found[phone].mean() > 0.9 and found[bag].mean() > 0.99
    assert (found & ~phone & ~bag).mean() < 0.01  # and not the floor between them
    loose = (0, 60, 400, 450)  # loose all round: nothing says a product was missed
    without = refine(rgb, prob, box=loose, prm=replace(DEFAULT, box_sides=False))
    assert np.array_equal(refine(rgb, prob, box=loose), without)


def test_the_room_going_on_into_a_box_is_not_taken_but_a_missed_product_is():
    """A bag hanging from a chair whose back (the bag's colour) crosses the box's top side, and a
    phone beside the bag inside the box; the model saw only the bag."""
    rng = np.random.default_rng(0)
    rgb = np.full((512, 512, 3), (200, 190, 170), np.float64)
    drawn = Image.new("L", (512, 512), 0)
    ImageDraw.Draw(drawn).ellipse((110, 160, 330, 420), fill=255)
    bag, chair, phone = np.asarray(drawn) > 0, np.zeros((512, 512), bool), np.zeros((512, 512), bool)
    chair[40:175, 150:290] = True
    chair &= ~bag
    phone[230:400, 360:420] = True
    rgb[bag], rgb[chair], rgb[phone] = (40, 70, 160), (40, 70, 160), (200, 40, 40)
    rgb = np.clip(rgb + rng.normal(0, 5, rgb.shape), 0, 255).astype(np.uint8)
    prob = np.asarray(drawn.filter(ImageFilter.GaussianBlur(3))).astype(np.float32) / 255
    box = (100, 120, 430, 430)
    in_box = np.zeros_like(chair)
    in_box[120:430, 100:430] = True
    room = room_in_box(rgb, prob, box)
    assert room[chair & in_box].mean() > 0.9 and not room[phone].any() and not room[bag].any()
    without = refine(rgb, prob, box=box, prm=replace(DEFAULT, box_background=False)) >= 128
    assert without[chair & in_box].mean() > 0.9  # GrabCut alone takes the chair for the bag
    found = refine(rgb, prob, box=box) >= 128
    assert found[chair & in_box].mean() < 0.2  # a rim where the chair meets the bag may stay
    assert found[bag].mean() > 0.99 and found[phone].mean() > 0.95


def test_a_remove_click_on_an_alpha_cutout_drops_that_part():
    cutout = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(cutout)
    draw.ellipse((20, 40, 130, 160), fill=(200, 30, 30, 255))
    draw.ellipse((170, 40, 280, 160), fill=(30, 30, 200, 255))
    mask = segment(cutout, points=[(225, 100, False)])
    assert mask.getpixel((75, 100)) == 255 and mask.getpixel((225, 100)) == 0


def test_describe_says_what_was_found(coffee_mask):
    share = np.mean(np.asarray(coffee_mask) >= 128)
    assert describe(coffee_mask) == f"found one product, covers {share:.0%} of the photo"
    pair = Image.new("L", (100, 100), 0)
    ImageDraw.Draw(pair).rectangle((5, 5, 40, 90), fill=255)
    ImageDraw.Draw(pair).rectangle((60, 5, 95, 90), fill=255)
    assert describe(pair).startswith("found 2 separate parts")
    assert describe(Image.new("L", (50, 50), 0)) == "found no product; draw a box around it"
    sofa = Image.new("L", (100, 100), 0)
    ImageDraw.Draw(sofa).rectangle((0, 30, 60, 99), fill=255)  # a cut-out that runs off the photo
    said = "found one product, covers 43% of the photo and runs off its bottom and left edges"
    assert describe(sofa) == said


def test_a_corrupt_model_file_is_refused_and_the_cut_out_falls_back(
    tmp_path, monkeypatch, coffee, coffee_mask
):
    # The real loader on a real (junk) file; only where it looks for the file is redirected.
    junk = tmp_path / "u2netp.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(model.ModelUnavailable, match="is corrupt .*reinstall it"):
        model.load_model(junk)
    monkeypatch.setattr(model, "model_path", lambda: junk)
    monkeypatch.setattr(model, "_session", None)
    monkeypatch.setattr(model, "_problem", None)
    assert "corrupt" in model.model_problem()
    assert iou(segment(coffee, box=COFFEE_CUP_BOX), coffee_mask) >= 0.9  # GrabCut, the classical path


def test_cancel_stops_a_cut_out(coffee):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        segment(coffee, cancel=stop)
