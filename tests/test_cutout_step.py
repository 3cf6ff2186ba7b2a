"""The cut-out step and what a version says about its picture: the cut-out shown and fixed (clicks, box,
brush, reset) with real segmentation on a real photo, the fixed mask used by every later version,
marketplace checks in the reply and on the picture's caption, the note on an enlarged product, the
banner when the cut-out model is missing, and `sceneshop segment --point`."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import landed
from PIL import Image, ImageDraw

from sceneshop import studio_view as view
from sceneshop.agent.cli.group import main as cli_main
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.session import Session
from sceneshop.agent.studio import Studio
from sceneshop.agent.wording import CUTOUT_HOW
from sceneshop.app import Tab
from sceneshop.tools.composite import mask_box, place_product, placement_scale
from sceneshop.tools.preview.renderer import EmbeddedRenderer
from sceneshop.tools.segment import model, segment

SAUCER = (160, 330)  # a point on the coffee photo's saucer, well inside the automatic cut-out
TABLE = (20, 20)  # a corner of the wooden table, outside it
CUP = (290, 150)


@pytest.fixture(scope="module")
def studio():
    return Studio(planner=EmbeddedPlanner(), engine=EmbeddedRenderer())


@pytest.fixture(scope="module")
def automatic(coffee):
    """The automatic cut-out of the coffee photo (the model path), as a boolean array."""
    return np.asarray(segment(coffee)) >= 128


def hard(mask: Image.Image) -> np.ndarray:
    return np.asarray(mask.convert("L")) >= 128


def pixel(image: Image.Image, xy) -> tuple:
    return tuple(image.convert("RGB").getpixel(xy))


# ---------------------------------------------------------------------------- the cut-out step


def test_the_cut_out_shows_the_photo_the_cut_out_on_a_checkerboard_and_a_verdict(studio, coffee, automatic):
    session = Session(studio)
    assert session.cutout().kind == "info"  # no photo yet: nothing to cut out
    session.set_product(coffee)
    turn = session.cutout()
    assert turn.kind == "cutout" and len(turn.images) == 2
    share = automatic.mean()
    assert turn.reply.splitlines()[0] == f"✂️ Cut-out: found one product, covers {share:.0%} of the photo."
    assert CUTOUT_HOW in turn.reply  # what to click, in the words the planner reuses
    photo, board = turn.images
    assert photo.tobytes() == coffee.tobytes()
    assert pixel(board, CUP) == pixel(coffee, CUP)  # the product shows as photographed
    assert set(pixel(board, TABLE)) <= {153, 204}  # what is left out shows the checkerboard's grey
    assert np.array_equal(hard(session.product_mask), automatic)  # computed once, kept for renders


def test_a_remove_click_takes_the_region_out_of_every_later_picture(studio, coffee, automatic):
    session = Session(studio)
    session.set_product(coffee)
    before = session.send("white background")
    placed = studio.engine.placement(before.recipe, coffee, session.mask)
    saucer = landed(placed, session.mask, SAUCER)  # the product stands on the scene's floor
    assert pixel(before.images[0], saucer) == pixel(placed.product, saucer)  # the saucer, as placed

    fixed = session.fix_cutout(points=[(*SAUCER, False)])
    assert fixed.kind == "cutout" and "that fix took out" in fixed.reply.splitlines()[0]
    assert automatic[SAUCER[1], SAUCER[0]] and not hard(session.mask)[SAUCER[1], SAUCER[0]]
    # The next render uses the fixed mask: the saucer's pixels there are the new backdrop's, not the photo's.
    after = session.send("keep everything, new variation")
    placed = studio.engine.placement(after.recipe, coffee, session.mask)
    saucer, cup = landed(placed, session.mask, SAUCER), landed(placed, session.mask, CUP)
    assert pixel(after.images[0], saucer) != pixel(placed.product, saucer)
    assert pixel(after.images[0], cup) == pixel(placed.product, cup)  # the rest of the product is untouched
    later = session.send("warmer")
    assert pixel(later.images[0], saucer) != pixel(placed.product, saucer)

    # Each click refines the result of the ones before: the first removal stays.
    session.fix_cutout(points=[(*TABLE, True)])
    assert session.cutout_hints.points == [(*SAUCER, False), (*TABLE, True)]
    assert not hard(session.mask)[SAUCER[1], SAUCER[0]] and hard(session.mask)[TABLE[1], TABLE[0]]

    # A new photo starts with its own automatic cut-out.
    session.set_product(coffee)
    assert session.cutout_hints.points == [] and np.array_equal(hard(session.mask), automatic)


def test_a_box_limits_the_cut_out_and_reset_brings_back_the_automatic_one(studio, coffee, automatic):
    session = Session(studio)
    session.set_product(coffee)
    turn = session.fix_cutout(box=(0, 0, 300, 400))
    assert turn.kind == "cutout" and session.cutout_hints.box == (0, 0, 300, 400)
    cut = hard(session.mask)
    assert not cut[:, 300:].any() and cut[SAUCER[1], SAUCER[0]]
    reset = session.fix_cutout(reset=True)
    assert reset.kind == "cutout" and session.cutout_hints.box is None
    assert np.array_equal(hard(session.mask), automatic)


def test_the_brush_edits_the_mask_and_its_strokes_stay_over_later_clicks(studio, coffee, automatic):
    session = Session(studio)
    session.set_product(coffee)
    paint, erase = Image.new("L", coffee.size, 0), Image.new("L", coffee.size, 0)
    ImageDraw.Draw(paint).rectangle((10, 10, 40, 40), fill=255)  # a piece of the table, brushed in
    ImageDraw.Draw(erase).rectangle((280, 140, 300, 160), fill=255)  # a piece of the cup, brushed out
    session.cutout()
    turn = session.fix_cutout(paint=paint, erase=erase)
    assert turn.reply.splitlines()[0] == (
        "✂️ Cut-out: found 2 separate parts, covers 48% of the photo — that fix took out 0.2% and added 0.4% "
        "of the photo."
    )
    cut = hard(session.mask)
    assert cut[10:41, 10:41].all() and not cut[140:161, 280:301].any()
    assert np.array_equal(cut[200:, :], automatic[200:, :])  # nothing else changed
    session.fix_cutout(points=[(*SAUCER, False)])  # a click later: the strokes are applied again
    cut = hard(session.mask)
    assert cut[10:41, 10:41].all() and not cut[140:161, 280:301].any()
    assert not cut[SAUCER[1], SAUCER[0]]


def test_undo_takes_back_the_last_fix_one_at_a_time(studio, coffee, automatic):
    session = Session(studio)
    session.set_product(coffee)
    nothing = session.undo_cutout()
    assert nothing.kind == "info" and nothing.reply.startswith("Nothing to undo")
    session.cutout()
    session.fix_cutout(points=[(*SAUCER, False)])
    after_click = hard(session.mask)
    session.fix_cutout(box=(0, 0, 300, 400))
    assert not hard(session.mask)[:, 300:].any()

    turn = session.undo_cutout()  # the box goes, the click stays
    assert turn.kind == "cutout" and "the last fix is undone" in turn.reply.splitlines()[0]
    assert session.cutout_hints.box is None and session.cutout_hints.points == [(*SAUCER, False)]
    assert np.array_equal(hard(session.mask), after_click)
    session.fix_cutout(reset=True)
    session.undo_cutout()  # a reset is a fix too
    assert np.array_equal(hard(session.mask), after_click)
    session.undo_cutout()  # back to the automatic cut-out
    assert session.cutout_hints.points == [] and np.array_equal(hard(session.mask), automatic)
    assert session.undo_cutout().kind == "info"
    # A fix that could not be used leaves nothing to undo.
    assert session.fix_cutout(points=[(9999, 0, False)]).kind == "error"
    assert session.undo_cutout().kind == "info"


def test_a_fix_that_cannot_be_used_is_said_and_the_cut_out_stays(studio, coffee):
    session = Session(studio)
    session.set_product(coffee)
    session.fix_cutout(points=[(*SAUCER, False)])
    mask = session.mask
    for bad in (
        {"points": [(900, 10, False)]},
        {"box": (700, 0, 800, 100)},
        {"paint": Image.new("L", (10, 10), 255)},
        {"erase": Image.new("L", coffee.size, 255)},
    ):
        turn = session.fix_cutout(**bad)
        assert turn.kind == "error" and turn.reply.startswith("That fix could not be used:"), turn.reply
        assert session.mask is mask and session.cutout_hints.points == [(*SAUCER, False)]
        assert session.cutout_hints.box is None and session.cutout_hints.paint is None


def test_a_given_mask_is_the_cut_out_until_the_merchant_fixes_it(studio, coffee, coffee_mask):
    session = Session(studio)
    session.set_product(coffee, island_mask(coffee_mask))
    board = session.cutout().images[1]
    assert pixel(board, (560, 40)) == pixel(coffee, (560, 40)) and set(pixel(board, TABLE)) <= {153, 204}
    assert np.array_equal(hard(session.mask), hard(island_mask(coffee_mask)))
    session.fix_cutout(points=[(560, 40, False)])  # a remove click drops the detached region under it
    assert np.array_equal(hard(session.mask), hard(coffee_mask))
    erase = Image.new("L", coffee.size, 0)
    ImageDraw.Draw(erase).rectangle((80, 200, 120, 260), fill=255)
    session.fix_cutout(erase=erase)  # the brush edits the given mask, not a new segmentation
    expected = hard(coffee_mask).copy()
    expected[200:261, 80:121] = False
    assert np.array_equal(hard(session.mask), expected)


# ------------------------------------------------------------------- what a version says about it


def island_mask(coffee_mask: Image.Image) -> Image.Image:
    """The cup's mask plus a detached piece of the table in the top right corner."""
    mask = coffee_mask.copy()
    ImageDraw.Draw(mask).rectangle((540, 20, 580, 60), fill=255)
    return mask


def test_a_marketplace_result_is_checked_and_a_failure_is_said_and_marked(
    studio, coffee, coffee_mask, tmp_path
):
    clean = Session(studio)
    clean.set_product(coffee, coffee_mask)
    passed = clean.send("clean white background for amazon")
    assert passed.kind == "result" and passed.recipe.output.preset == "amazon_main"
    assert [c.passed for c in passed.checks] == [True]
    assert "✓ Amazon main image check passed." in passed.reply.splitlines()

    session = Session(studio)
    session.set_product(coffee, island_mask(coffee_mask))
    failed = session.send("clean white background for amazon")
    assert [c.passed for c in failed.checks] == [False] and failed.checks[0].islands == 1
    said = failed.reply.splitlines()[1]  # right under the version line
    assert said.startswith(
        "⚠ Amazon main image check failed: 1 detached region outside the product — fix the cut-out"
    )
    assert session.current.checks == failed.checks  # kept with the version, so going back marks it too
    session.send("on a beach")
    back = session.go_back(1)
    assert back.checks == failed.checks
    assert any(line.startswith("⚠ Amazon main image check failed") for line in back.reply.splitlines())

    # The studio marks the picture: on its frame in the chat and in the versions' caption.
    t = Tab(user="u", session=session, folder=tmp_path)
    view.show_turn(t, failed)
    picture = t.history[-1]["content"][0]
    assert picture.label == "⚠ Amazon main image check failed"
    assert view.chat(t)["versions"][0][1] == "v1 ⚠ Amazon main image check failed"
    plain = Session(studio)
    plain.set_product(coffee, coffee_mask)
    unchecked = plain.send("on a beach")
    assert unchecked.checks == [] and "check" not in unchecked.reply


def test_fixing_the_cut_out_makes_the_next_amazon_picture_pass(studio, coffee, coffee_mask):
    session = Session(studio)
    session.set_product(coffee, island_mask(coffee_mask))
    assert not session.send("white background for amazon").checks[0].passed
    session.cutout()
    session.fix_cutout(points=[(560, 40, False)])  # a remove click on the leftover piece of table
    again = session.send("keep everything, new variation")
    assert again.checks[0].passed, again.reply


def test_an_enlarged_product_is_said_in_plain_words(studio, coffee, coffee_mask):
    small = coffee.resize((300, 200))
    session = Session(studio)
    session.set_product(small, coffee_mask.resize((300, 200)))
    same = session.send("white background")  # the photo's own size and framing: never enlarged
    assert "look soft" not in same.reply
    big = session.send("for amazon")
    market = studio.catalog.marketplace("amazon_main")
    box = mask_box(session.mask)
    scale = placement_scale(small.size, box, market.width, market.height, market.fill)
    native = box[3] - box[1] if box[3] - box[1] >= box[2] - box[0] else box[2] - box[0]
    side = "tall" if box[3] - box[1] >= box[2] - box[0] else "wide"
    assert (
        f"Note: your photo's product is {native} px {side}; at {round(native * scale)} px it will look soft "
        "— a larger photo gives a sharper result." in big.reply.splitlines()
    )


@pytest.mark.parametrize("fill", [None, 0.62, 0.85])
@pytest.mark.parametrize("canvas", [(600, 400), (2000, 2000), (300, 600)])
def test_placement_scale_is_the_scale_place_product_uses(coffee, coffee_mask, fill, canvas):
    box = coffee_mask.getbbox()
    placed = place_product(coffee, coffee_mask, *canvas, fill)
    assert placed.scale == pytest.approx(placement_scale(coffee.size, box, *canvas, fill))


# --------------------------------------------------------------------------- banner and CLI


def test_the_banner_says_once_when_cut_outs_run_without_the_model(studio, tmp_path, monkeypatch):
    assert "Cut-outs" not in studio.banner()
    junk = tmp_path / "u2netp.onnx"
    junk.write_bytes(b"not a model")
    # The real loader on a real (junk) file; only where it looks for the file is redirected.
    monkeypatch.setattr(model, "model_path", lambda: junk)
    monkeypatch.setattr(model, "_session", None)
    monkeypatch.setattr(model, "_problem", None)
    banner = studio.banner()
    assert banner.count("Cut-outs:") == 1 and "is corrupt" in banner and "classical method" in banner


def test_cli_segment_takes_point_hints(coffee, tmp_path, capsys):
    photo = tmp_path / "coffee.png"
    coffee.save(photo)
    plain, hinted = tmp_path / "plain.png", tmp_path / "hinted.png"
    assert cli_main(["segment", str(photo), "-o", str(plain)]) == 0
    x, y = SAUCER
    args = ["segment", str(photo), "-o", str(hinted), "--point", f"{x},{y},-", "--point", "20,20,+"]
    assert cli_main(args) == 0
    assert "found one product" in capsys.readouterr().err
    before, after = np.asarray(Image.open(plain)), np.asarray(Image.open(hinted))
    assert before[y, x] >= 128 and after[y, x] < 128  # removed
    assert before[20, 20] < 128 and after[20, 20] >= 128  # added
    for bad in ("1,2", "1,2,x", "a,b,+"):
        assert cli_main(["segment", str(photo), "-o", str(tmp_path / "no.png"), "--point", bad]) == 2
        assert f"--point '{bad}' must be X,Y,+ (product) or X,Y,- (remove)" in capsys.readouterr().err
    assert not (tmp_path / "no.png").exists()


# ------------------------------------------------------------------------- the studio's view


def test_clicks_and_brush_strokes_on_the_shrunk_pictures_map_to_the_photo(studio, coffee):
    big = coffee.resize((1600, 1067))
    session = Session(studio)
    session.set_product(big)
    scale = view.CUT_LIMIT / 1600
    assert view.photo_point(session, [0, 0]) == (1, 1)  # the middle of the photo's pixels under it
    assert view.photo_point(session, [639, 426]) == (1598, 1066)
    assert view.photo_point(session, [320, 200]) == (int(320.5 / scale), int(200.5 / scale))
    assert view.corners_box((50, 80), (10, 20)) == (10, 20, 51, 81)

    shown = (640, 427)
    layer = Image.new("RGBA", shown, (0, 0, 0, 0))
    ImageDraw.Draw(layer).rectangle((10, 10, 19, 19), fill=view.PAINT_PRODUCT)
    ImageDraw.Draw(layer).rectangle((100, 100, 109, 109), fill=view.PAINT_REMOVE)
    paint, erase = view.brush_strokes(session, {"background": None, "layers": [layer], "composite": None})
    assert paint.size == erase.size == big.size
    assert np.asarray(paint)[40, 40] == 255 and np.asarray(paint)[300, 300] == 0
    assert np.asarray(erase)[260, 260] == 255 and np.asarray(erase)[40, 40] == 0
    assert view.brush_strokes(session, {"layers": [Image.new("RGBA", shown)]}) == (None, None)
    assert view.brush_strokes(session, None) == (None, None)
