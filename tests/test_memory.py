"""Recipe memory on a real ChromaDB in a temporary folder: save/search/isolation/migration/safety."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from click.testing import CliRunner
from PIL import Image

from sceneshop.agent.cli.memory import memory as memory_cli
from sceneshop.agent.embeddings import embed
from sceneshop.agent.memory.memory import MARKER, SCHEMA_VERSION, RecipeMemory, SceneshopEmbeddingFunction
from sceneshop.agent.memory.store import _collection_name
from sceneshop.agent.recipe import LoraChoice, Recipe
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.errors import InputError, RecipeError, SceneshopError

ROOT = Path(__file__).resolve().parents[1]


def recipe(request, scene="beach", *, time=None, lighting="softbox", loras=(), category="general") -> Recipe:
    r = Recipe(request=request, time_of_day=time)
    r.scene.preset = scene
    r.lighting.preset = lighting
    r.subject.category = category
    r.loras = [LoraChoice(name=n, weight=0.6) for n in loras]
    return r


SUNSET = dict(scene="beach", time="sunset", lighting="golden_hour")


@pytest.fixture
def mem(tmp_path):
    with RecipeMemory(tmp_path) as m:
        yield m


def chroma_client(path: Path):
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))


# ------------------------------------------------------------------------------------ basics


def test_save_search_filter_delete(mem, tmp_path):
    photo = Image.new("RGB", (640, 480), "orange")
    beach = mem.save("alice", recipe("beach at sunset", **SUNSET, category="apparel"), "liked",
                     name="my sunset look", tags=["summer", "summer", "beach"], thumbnail=photo)
    marble = recipe("marble countertop with soft morning light", "marble", category="beauty")
    mem.save("alice", marble, "saved")
    mem.save("alice", recipe("neon city street at night", "city_street_night"), "disliked")

    assert beach.name == "my sunset look" and beach.tags == ("summer", "beach") and beach.rating == "liked"
    assert beach.recipe.scene.preset == "beach" and isinstance(beach.recipe, Recipe)
    # The thumbnail is ours: under a hashed user folder, named by the entry id, small.
    assert beach.thumbnail.parent.parent == tmp_path / "thumbnails"
    assert beach.thumbnail.name == f"{beach.id}.png" and "alice" not in str(beach.thumbnail)
    assert max(Image.open(beach.thumbnail).size) == 256

    hits = mem.search("alice", "sunset on the beach")
    assert hits[0][0].id == beach.id and hits[0][1] > 0.8
    assert [round(s, 6) for _, s in hits] == sorted((round(s, 6) for _, s in hits), reverse=True)
    assert [e.category for e in mem.list("alice", category="beauty")] == ["beauty"]
    assert [e.rating for e in mem.list("alice", rating="disliked")] == ["disliked"]
    good = mem.search("alice", "beach", rating=["liked", "saved"])
    assert {e.rating for e, _ in good} == {"liked", "saved"}
    assert [e.id for e, _ in mem.search("alice", "anything", category="apparel")] == [beach.id]
    assert mem.list("alice")[0].request == "neon city street at night"  # most recent first

    assert mem.get("alice", beach.id).name == "my sunset look"
    assert mem.find_by_name("alice", "  MY  Sunset look ").id == beach.id
    assert mem.rename("alice", beach.id, "golden beach").name == "golden beach"
    assert mem.find_by_name("alice", "my sunset look") is None
    thumb = beach.thumbnail
    mem.delete("alice", beach.id)
    assert not thumb.exists()
    with pytest.raises(InputError, match="no recipe with id"):
        mem.get("alice", beach.id)
    assert len(mem.list("alice")) == 2


def test_looks_list_the_disliked_apart_and_a_recipe_is_found_by_its_id(mem):
    liked = mem.save("ann", recipe("beach at sunset", **SUNSET), "liked", "sunset look")
    saved = mem.save("ann", recipe("plain white", "studio_white"), "saved")
    disliked = mem.save("ann", recipe("neon street", "city_street_night"), "disliked")
    mem.save("bob", recipe("bob's forest", "forest"), "saved")
    looks = mem.looks("ann")
    assert {e.id for e in looks.saved} == {liked.id, saved.id}
    assert [e.id for e in looks.disliked] == [disliked.id]
    assert mem.find_by_recipe("ann", saved.recipe.id).id == saved.id
    assert mem.find_by_recipe("bob", saved.recipe.id) is None  # someone else's look is never found
    assert mem.looks("carol").saved == [] and mem.looks("carol").disliked == []


def test_paraphrase_finds_the_beach_above_the_landscape(mem):
    mem.save("alice", recipe("mountain landscape at sunset", "mountain", time="sunset"))
    beach = mem.save("alice", recipe("beach at sunset", **SUNSET))
    mem.save("alice", recipe("white studio background", "studio_white"))
    hits = mem.search("alice", "seaside at dusk", k=3)
    assert hits[0][0].id == beach.id
    assert hits[0][1] > hits[1][1] + 0.1


def test_bad_inputs_are_input_errors(mem):
    for user in ("", "../etc", "a" * 65, "al ice", None, "-x"):
        with pytest.raises(InputError, match="user id"):
            mem.list(user)
    with pytest.raises(InputError, match="rating"):
        mem.save("alice", recipe("x"), "loved")
    with pytest.raises(InputError, match="not a memory entry id"):
        mem.get("alice", "../../etc/passwd")
    with pytest.raises(InputError, match="some words"):
        mem.search("alice", "  ")
    mem.save("alice", recipe("beach at sunset", **SUNSET), name="sunset")
    with pytest.raises(InputError, match="already have a recipe named 'sunset'"):
        mem.save("alice", recipe("forest at dawn", "forest"), name="Sunset")


def test_near_duplicate_saves_update_the_entry(mem):
    first = recipe("put this dress on a beach at sunset", **SUNSET)
    entry = mem.save("alice", first, "saved", tags=["a"])
    again = mem.save("alice", first, "liked", name="sunset look", tags=["b"])  # same recipe id
    assert again.id == entry.id and again.rating == "liked" and again.name == "sunset look"
    assert again.tags == ("a", "b") and again.updated > entry.updated and again.created == entry.created

    reworded = recipe("put this dress on a beach at sunset!", **SUNSET)  # new recipe id, same look
    assert mem.save("alice", reworded, "liked").id == entry.id
    assert mem.get("alice", entry.id).name == "sunset look"  # a save without a name keeps it

    other_scene = recipe(
        "put this dress on a beach at sunset", "desert", time="sunset", lighting="golden_hour"
    )
    with_lora = recipe("put this dress on a beach at sunset", **SUNSET, loras=["film_grain"])
    assert mem.save("alice", other_scene).id != entry.id
    assert mem.save("alice", with_lora).id != entry.id
    assert len(mem.list("alice")) == 3


# -------------------------------------------------------------------------------- isolation


def test_two_users_are_isolated_on_every_path(mem, tmp_path):
    look = recipe("beach at sunset", **SUNSET, loras=["film_grain"])
    alice = mem.save("alice", look, "liked", name="my sunset look", thumbnail=Image.new("RGB", (64, 64)))
    bob = mem.save("bob", recipe("white studio background", "studio_white"), "liked", name="plain")

    assert [e.id for e in mem.list("bob")] == [bob.id]
    assert [e.id for e, _ in mem.search("bob", "beach at sunset", k=10)] == [bob.id]
    assert mem.find_by_name("bob", "my sunset look") is None
    for attempt in (
        lambda: mem.get("bob", alice.id),
        lambda: mem.rename("bob", alice.id, "mine now"),
        lambda: mem.delete("bob", alice.id),
    ):
        with pytest.raises(InputError, match="no recipe with id"):
            attempt()
    assert mem.get("alice", alice.id).name == "my sunset look"

    # Planning aids see only the caller's entries.
    recall = mem.resolve("bob", "do my sunset look for these bags")
    assert recall is None or recall.entry.user == "bob"
    assert mem.resolve("bob", "like last time").entry.id == bob.id
    assert mem.resolve("bob", "beach at sunset please") is None
    assert mem.resolve("carol", "like last time").kind == "not_found"

    # Saving the very same recipe (same recipe id) makes bob his own entry, not an update of alice's.
    bobs_copy = mem.save("bob", look, "disliked", name="my sunset look")
    assert bobs_copy.id != alice.id and mem.get("alice", alice.id).rating == "liked"
    assert bobs_copy.thumbnail is None and mem.find_by_name("alice", "my sunset look").id == alice.id

    # An import is re-owned by the importer, with new ids; the exporter's entries are untouched.
    mem.export("alice", tmp_path / "alice.json")
    assert mem.import_("dave", tmp_path / "alice.json") == 1
    (daves,) = mem.list("dave")
    assert daves.user == "dave" and daves.id != alice.id and daves.name == "my sunset look"
    assert daves.thumbnail is not None and daves.thumbnail.parent != alice.thumbnail.parent
    mem.rename("dave", daves.id, "dave's look")
    mem.delete("dave", daves.id)
    assert mem.get("alice", alice.id).name == "my sunset look" and alice.thumbnail.exists()
    assert [e.user for e in mem.list("alice")] == ["alice"]


def test_a_misfiled_record_is_never_shown(mem, tmp_path):
    # Behind the per-user collections, every record read is checked to be the caller's.
    mine = mem.save("alice", recipe("beach at sunset", **SUNSET), "liked", name="sunset")
    mem.close()
    client = chroma_client(tmp_path / "memory")
    col = client.get_collection(_collection_name("alice"), embedding_function=SceneshopEmbeddingFunction())
    planted = col.get(ids=[mine.id], include=["metadatas", "embeddings", "documents"])
    meta = dict(planted["metadatas"][0], user="mallory")
    col.add(
        ids=["planted"], embeddings=planted["embeddings"], documents=planted["documents"], metadatas=[meta]
    )
    client.close()
    with RecipeMemory(tmp_path) as again:
        assert [e.id for e in again.list("alice")] == [mine.id]
        assert [e.id for e, _ in again.search("alice", "beach at sunset", k=5)] == [mine.id]
        with pytest.raises(InputError):
            again.get("alice", "planted")
        assert again.list("mallory") == []


# ------------------------------------------------------------------------- export / import


def test_export_import_round_trip(mem, tmp_path):
    photo = Image.new("RGB", (300, 200), (200, 120, 40))
    saved = [
        mem.save("alice", recipe("beach at sunset", **SUNSET, category="apparel"), "liked",
                 name="my sunset look", tags=["summer"], thumbnail=photo),
        mem.save("alice", recipe("marble countertop", "marble"), "disliked"),
    ]
    path = tmp_path / "out" / "alice.json"
    assert mem.export("alice", path) == 2

    with RecipeMemory(tmp_path / "elsewhere") as other:
        assert other.import_("alice", path) == 2
        back = {e.request: e for e in other.list("alice")}
        for original in saved:
            copy = back[original.request]
            assert (copy.rating, copy.name, copy.tags, copy.category) == (
                original.rating, original.name, original.tags, original.category
            )
            assert copy.recipe == original.recipe and copy.created == original.created
        thumbs = [back["beach at sunset"].thumbnail, saved[0].thumbnail]
        assert Image.open(thumbs[0]).tobytes() == Image.open(thumbs[1]).tobytes()
        # Importing the same file again updates instead of piling up.
        assert other.import_("alice", path) == 2
        assert len(other.list("alice")) == 2

        # A broken file imports nothing and says which entry is wrong.
        data = json.loads(path.read_text())
        data["entries"][1]["recipe"]["steps"] = 5000
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(data))
        with pytest.raises(InputError, match="entry 2: recipe field 'steps'.*nothing was imported"):
            other.import_("zed", bad)
        assert other.list("zed") == []
        bad.write_text("{not json")
        with pytest.raises(InputError, match="not a Sceneshop memory export"):
            other.import_("zed", bad)


# ---------------------------------------------------------------------------------- resolve


def test_resolve_like_last_time_named_similar_and_avoid(mem):
    assert mem.resolve("alice", "like last time").kind == "not_found"
    assert mem.resolve("alice", "like last time").recipe is None

    sunset = mem.save("alice", recipe("beach at sunset", **SUNSET), "liked", name="my sunset look")
    marble = mem.save("alice", recipe("marble countertop with soft morning light", "marble"), "saved")
    neon = recipe("neon city street at night", "city_street_night", loras=["cinematic"])
    mem.save("alice", neon, "disliked")

    for phrase in ("same as before, for this bag", "Like last time please", "the usual"):
        recall = mem.resolve("alice", phrase)
        assert recall.kind == "last_time" and recall.entry.id == marble.id, phrase  # not the disliked one

    recall = mem.resolve("alice", "Do My Sunset Look for these five bags")
    assert recall.kind == "named" and recall.recipe == sunset.recipe and "my sunset look" in recall.reason

    recall = mem.resolve("alice", "on the beach at sunset please")
    assert recall.kind == "similar" and recall.entry.id == sunset.id and recall.avoid is None
    assert "'my sunset look'" in recall.reason and "similar request 'beach at sunset'" in recall.reason
    assert recall.similarity >= 0.85

    assert mem.resolve("alice", "plain white studio background") is None
    assert mem.resolve("alice", "seaside at dusk") is None  # a paraphrase: search finds it, resolve waits

    recall = mem.resolve("alice", "neon city street at night again")
    assert recall.kind == "avoid" and recall.recipe is None
    assert recall.avoid.scene_preset == "city_street_night" and recall.avoid.loras == ("cinematic",)
    assert "disliked" in recall.reason
    planned = recipe(
        "neon city street at night again", "city_street_night", loras=["cinematic", "film_grain"]
    )
    steered = recall.avoid.steer(planned)
    assert [c.name for c in steered.loras] == ["film_grain"]
    assert steered.seed != planned.seed and steered.scene.preset == "city_street_night"
    assert len(steered.notes) == 2 and planned.loras[0].name == "cinematic"  # the input is not changed


def test_resolve_similar_with_a_disliked_variant_keeps_the_liked_look(mem):
    liked = mem.save("alice", recipe("beach at sunset", **SUNSET, loras=["cinematic"]), "liked")
    mem.save("alice", recipe("the beach at sunset", **SUNSET, loras=["cinematic", "film_grain"]), "disliked")
    recall = mem.resolve("alice", "on the beach at sunset please")
    assert recall.kind == "similar" and recall.entry.id == liked.id
    assert recall.avoid.loras == ("film_grain",) and recall.avoid.look_liked  # cinematic is in the liked one
    assert "film_grain" in recall.reason
    planned = recall.recipe.child("on the beach at sunset please")
    steered = recall.avoid.steer(planned)
    assert steered.seed == liked.recipe.seed and steered.loras == planned.loras and steered.notes == []


# ------------------------------------------------------------------------- process safety


WRITER = textwrap.dedent(
    """
    import json, sys
    from sceneshop.agent.memory.memory import RecipeMemory
    from sceneshop.agent.recipe import Recipe
    data_dir, looks = sys.argv[1], json.loads(sys.argv[2])
    vectors = json.loads(open(sys.argv[3]).read())
    # The model's vectors for these requests come from the parent, so that each writer starts in
    # a second instead of loading torch; the store, the lock and Chroma are the real ones.
    RecipeMemory._embed = lambda self, texts: [vectors[t] for t in texts]
    with RecipeMemory(data_dir) as mem:
        for scene, time_of_day in looks:
            recipe = Recipe(request=f"{scene} at {time_of_day}", time_of_day=time_of_day)
            recipe.scene.preset = scene
            mem.save("alice", recipe, "liked")
            # Reads interleaved with the other process's writes.
            assert mem.search("alice", recipe.request, k=1)
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    # The index is made to flush every 10 writes (Chroma's default is 1000), so two writers cross
    # flushes many times: without the lock and the reopen, the index kept only 44-47 of the 50
    # (and with a shared collection a writer failed with Chroma's "Error finding id").
    client = chroma_client(tmp_path / "memory")
    client.create_collection(
        _collection_name("alice"), embedding_function=SceneshopEmbeddingFunction(),
        configuration={"hnsw": {"space": "cosine", "sync_threshold": 10, "batch_size": 10}},
        metadata={"schema": SCHEMA_VERSION, "app": "sceneshop", "user": "alice"},
    )
    client.close()
    n = 25
    # Distinct looks (scene x time), so that no save is a near-duplicate of another.
    looks = list(itertools.product(sorted(load_catalog().scenes), ["sunrise", "day", "sunset", "night"]))
    looks = looks[: 2 * n]
    requests = [f"{scene} at {time_of_day}" for scene, time_of_day in looks]
    vectors = tmp_path / "vectors.json"
    vectors.write_text(json.dumps(dict(zip(requests, embed(requests).tolist(), strict=True))))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), json.dumps(part), str(vectors)], cwd=ROOT, env=env
        )
        for part in (looks[:n], looks[n:])
    ]
    assert [p.wait(timeout=240) for p in procs] == [0, 0]
    with RecipeMemory(tmp_path) as mem:
        assert sorted(e.request for e in mem.list("alice")) == sorted(requests)
        found = mem.search("alice", "a scene at some time of day", k=2 * n)  # the vector index has them all
        assert len(found) == 2 * n


# --------------------------------------------------------------------- schema and corruption


def test_a_store_of_the_previous_schema_loads_and_is_upgraded(tmp_path):
    # Version 0 (the prototype): user_id, recipe_json, accepted|rejected, created_at text, label.
    client = chroma_client(tmp_path / "memory")
    old = client.create_collection(
        "recipes", embedding_function=SceneshopEmbeddingFunction(), metadata={"hnsw:space": "cosine"}
    )
    sunset = recipe("beach at sunset", **SUNSET)
    old.add(
        ids=["v0-a", "v0-b", "v0-c"],
        documents=["beach at sunset", "neon street", "broken one"],
        metadatas=[
            {"user_id": "alice", "recipe_json": sunset.model_dump_json(), "rating": "accepted",
             "created_at": "2025-03-01T10:00:00+00:00", "label": "My sunset look"},
            {"user_id": "alice", "recipe_json": recipe("neon street", "city_street_night").model_dump_json(),
             "rating": "rejected", "created_at": "2025-03-02T10:00:00+00:00"},
            {"user_id": "bob", "recipe_json": "{\"steps\": 9999}", "rating": "accepted",
             "created_at": "2025-03-03T10:00:00"},
        ],
    )
    client.close()

    with RecipeMemory(tmp_path) as mem:
        entries = {e.id: e for e in mem.list("alice")}
        assert set(entries) == {"v0-a", "v0-b"}
        a = entries["v0-a"]
        assert (a.rating, a.name, a.recipe, a.schema) == ("liked", "My sunset look", sunset, SCHEMA_VERSION)
        assert a.created == 1740823200.0 and entries["v0-b"].rating == "disliked"
        assert mem.resolve("alice", "like last time").entry.id == "v0-a"
        assert mem.search("alice", "sunset beach", k=1)[0][0].id == "v0-a"
        (broken,) = mem.list("bob")  # kept, even though its recipe no longer validates
        with pytest.raises(RecipeError):
            _ = broken.recipe
        assert mem.resolve("bob", "like last time").kind == "not_found"

    client = chroma_client(tmp_path / "memory")
    ef = SceneshopEmbeddingFunction()
    assert client.get_collection(MARKER, embedding_function=ef).metadata["schema"] == SCHEMA_VERSION
    for user, count in (("alice", 2), ("bob", 1)):
        col = client.get_collection(_collection_name(user), embedding_function=ef)
        metas = col.get(include=["metadatas"])["metadatas"]
        assert len(metas) == count
        assert all(m["schema"] == SCHEMA_VERSION and m["user"] == user and "user_id" not in m for m in metas)
    assert client.get_collection("recipes-v0", embedding_function=ef).count() == 3  # kept as a backup
    client.close()


def test_a_store_from_a_newer_sceneshop_is_refused(tmp_path):
    client = chroma_client(tmp_path / "memory")
    client.create_collection(MARKER, embedding_function=SceneshopEmbeddingFunction(), metadata={"schema": 99})
    client.close()
    with pytest.raises(SceneshopError, match="schema 99, newer than this Sceneshop"):
        RecipeMemory(tmp_path)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_corrupt_store_is_reported_and_left_alone(tmp_path):
    with RecipeMemory(tmp_path) as mem:
        mem.save("alice", recipe("beach at sunset", **SUNSET))
    db = tmp_path / "memory" / "chroma.sqlite3"
    db.write_bytes(os.urandom(20_000))
    before = snapshot(tmp_path / "memory")
    with pytest.raises(SceneshopError) as err:
        RecipeMemory(tmp_path)
    message = str(err.value)
    assert f"memory store at {tmp_path / 'memory'} cannot be read" in message
    assert "It was not modified. To go on, move it aside" in message and "sceneshop memory import" in message
    assert snapshot(tmp_path / "memory") == before

    # A valid SQLite file that is not a Chroma store is not "upgraded" by Chroma either.
    db.unlink()
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("CREATE TABLE notes (x)")
    con.commit()
    con.close()
    before = snapshot(tmp_path / "memory")
    with pytest.raises(SceneshopError, match="not a ChromaDB store"):
        RecipeMemory(tmp_path)
    assert snapshot(tmp_path / "memory") == before


def test_an_unreadable_store_is_reported(tmp_path):
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "chroma.sqlite3").mkdir()  # something is there, and it cannot be read
    with pytest.raises(SceneshopError, match="cannot be read .*It was not modified"):
        RecipeMemory(tmp_path)
    (tmp_path / "memory" / "chroma.sqlite3").rmdir()
    (tmp_path / "memory").rmdir()
    (tmp_path / "memory").write_text("not a folder")
    with pytest.raises(SceneshopError, match="not a folder"):
        RecipeMemory(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_store_without_permission_is_reported(tmp_path):
    with RecipeMemory(tmp_path) as mem:
        mem.save("alice", recipe("beach at sunset", **SUNSET))
    (tmp_path / "memory" / "chroma.sqlite3").chmod(0)
    try:
        with pytest.raises(SceneshopError, match="cannot be read"):
            RecipeMemory(tmp_path)
    finally:
        (tmp_path / "memory" / "chroma.sqlite3").chmod(0o644)


# ---------------------------------------------------------------------------------------- CLI


def test_cli(tmp_path, monkeypatch):
    from sceneshop.agent.settings import get_settings

    with RecipeMemory(tmp_path) as mem:
        look = mem.save("alice", recipe("beach at sunset", **SUNSET), "liked", name="my sunset look")
        mem.save("alice", recipe("marble countertop", "marble", category="beauty"), "saved")
    runner = CliRunner()

    def run(*args, user="alice"):
        return runner.invoke(memory_cli, [*args, "--user", user, "--data-dir", str(tmp_path)])

    out = run("list")
    assert out.exit_code == 0, out.output
    header = out.output.splitlines()[0].split()
    assert header == ["id", "name", "rating", "category", "scene", "updated", "request"]
    assert look.id in out.output and "my sunset look" in out.output
    assert look.id not in run("list", "--category", "beauty").output
    out = run("search", "seaside at dusk", "-k", "1")
    assert out.exit_code == 0 and look.id in out.output and "marble" not in out.output
    out = run("show", look.id)
    assert out.exit_code == 0 and '"preset": "beach"' in out.output
    assert "is now named 'golden'" in run("rename", look.id, "golden").output
    assert run("export", str(tmp_path / "e.json")).output.startswith("exported 2 recipes")
    assert "imported 2 recipes" in run("import", str(tmp_path / "e.json"), user="bob").output
    assert "deleted" in run("delete", look.id, "--yes").output

    # Errors are the project's exceptions (the main CLI prints "error: …" and exits 2).
    for args, user in ((("show", look.id), "alice"), (("show", "nope"), "bob"), (("list",), "../x")):
        out = run(*args, user=user)
        assert out.exit_code != 0 and isinstance(out.exception, SceneshopError), out.output

    # Defaults come from settings (SCENESHOP_USER, SCENESHOP_DATA_DIR).
    monkeypatch.setenv("SCENESHOP_USER", "bob")
    monkeypatch.setenv("SCENESHOP_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        out = runner.invoke(memory_cli, ["list"])
        assert out.exit_code == 0 and "golden" in out.output and "marble" in out.output
    finally:
        get_settings.cache_clear()
