"""A chat session kept in the work store and taken up again: Session.to_state -> WorkStore on a real
SQLite file -> a new store on the same folder (a restart) -> Session.from_state, with the embedded
planner and preview renderer; the restored session has the same product, cut-out, versions,
pictures and current version, and the next message goes on from there."""

from __future__ import annotations

import pytest

from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.session import Session
from sceneshop.agent.store import WorkStore
from sceneshop.agent.studio import Studio
from sceneshop.tools.errors import InputError
from sceneshop.tools.preview.renderer import EmbeddedRenderer


@pytest.fixture(scope="module")
def studio():
    return Studio(planner=EmbeddedPlanner(), engine=EmbeddedRenderer())


def same_pixels(a, b) -> bool:
    return a.size == b.size and a.mode == b.mode and a.tobytes() == b.tobytes()


CHAT = [
    {"role": "user", "text": "put it on a beach at sunset"},
    {"role": "assistant", "text": "Version 1: beach", "kind": "result", "version": 1, "images": []},
    {"role": "user", "text": "warmer"},
    {"role": "assistant", "text": "Version 2: warmer", "kind": "result", "version": 2, "images": []},
    {"role": "user", "text": "version 1"},
]


def test_a_session_survives_a_restart_and_goes_on(tmp_path, studio, coffee):
    before = Session(studio, user="alice")
    before.set_product(coffee)  # no mask: the cut-out is made on the first picture and kept
    before.send("put it on a beach at sunset")
    before.send("warmer")
    before.go_back(1)
    with WorkStore(tmp_path) as store:
        session_id = store.new_session_id()
        state = before.to_state(store, session_id, messages=CHAT)
        store.save_session("alice", session_id, state)
        assert all(isinstance(p, str) for v in state["versions"] for p in v["images"])  # plain data

    with WorkStore(tmp_path) as store:  # a restart: a new store on the same folder
        loaded = store.load_session("alice")  # the user's last session
        after = Session.from_state(studio, loaded, "alice")
        assert loaded["id"] == session_id and loaded["title"] == "put it on a beach at sunset"
        assert [(m["role"], m["text"], m["version"]) for m in loaded["messages"]] == [
            (m["role"], m["text"], m.get("version")) for m in CHAT
        ]
        assert same_pixels(after.image, before.image)
        assert not loaded["mask_given"] and same_pixels(after.mask, before.mask)
        assert [v.number for v in after.versions] == [1, 2]
        for old, new in zip(before.versions, after.versions, strict=True):
            assert new.recipe == old.recipe
            assert len(new.images) == len(old.images) == 1
            assert same_pixels(new.images[0].convert("RGB"), old.images[0].convert("RGB"))
        assert after.current.number == 1

        # It goes on where it stopped: feedback edits version 1, not version 2.
        turn = after.send("cooler")
        assert turn.version == 3 and turn.recipe.parent_id == before.versions[0].recipe.id
        assert turn.recipe.lighting.kelvin > before.versions[0].recipe.lighting.kelvin

        # Saved again: the pictures already in the store are kept as they are, the new one added.
        again = after.to_state(store, session_id)
        store.save_session("alice", session_id, again)
        assert [v["images"] for v in again["versions"][:2]] == [
            [str(p) for p in v["images"]] for v in loaded["versions"]
        ]
        assert store.load_session("alice")["current"] == 3

        # Another user has no session, and cannot open this one by its id.
        assert store.load_session("bob") is None
        with pytest.raises(InputError, match="no session"):
            store.load_session("bob", session_id)


def test_the_merchants_own_mask_stays_theirs(tmp_path, studio, coffee, coffee_mask):
    before = Session(studio, user="alice")
    before.set_product(coffee, coffee_mask)
    before.send("grey studio background")
    with WorkStore(tmp_path) as store:
        session_id = store.new_session_id()
        store.save_session("alice", session_id, before.to_state(store, session_id))
        after = Session.from_state(studio, store.load_session("alice", session_id), "alice")
    assert same_pixels(after.mask, coffee_mask.convert("L"))
    # A given mask is the merchant's own: it is the mask of the next picture too.
    turn = after.send("warmer")
    assert turn.kind == "result" and same_pixels(after.mask, coffee_mask.convert("L"))


def test_a_session_whose_pictures_expired_keeps_its_recipes(tmp_path, studio, coffee):
    before = Session(studio, user="alice")
    before.set_product(coffee)
    before.send("put it on a beach at sunset")
    with WorkStore(tmp_path) as store:
        session_id = store.new_session_id()
        state = before.to_state(store, session_id)
        store.save_session("alice", session_id, state)
        report = store.cleanup("alice", 1, now=1e12)  # far in the future: every result has expired
        assert report.files
        after = Session.from_state(studio, store.load_session("alice"), "alice")
    assert after.versions[0].images == [] and after.versions[0].recipe == before.versions[0].recipe
    again = after.render(after.recipe.child("again"))  # rendered again from its recipe
    assert again.kind == "result" and again.images


def test_pictures_the_page_already_wrote_are_copied_not_encoded_again(tmp_path, studio, coffee):
    from sceneshop.tools.imageio import save_png

    session = Session(studio, user="alice")
    session.set_product(coffee)
    turn = session.send("put it on a beach at sunset")
    # The page's download of the version: the same picture, with a text chunk of its own.
    download = save_png(turn.images[0], tmp_path / "download.png", metadata={"made-by": "the page"})
    with WorkStore(tmp_path / "data") as store:
        session_id = store.new_session_id()
        state = session.to_state(store, session_id, written={turn.recipe.id: [str(download)]})
        (kept,) = state["versions"][0]["images"]
        assert open(kept, "rb").read() == download.read_bytes()
        # Kept once: the next save names the same file without reading the download again.
        download.unlink()
        assert session.to_state(store, session_id)["versions"][0]["images"] == [kept]
