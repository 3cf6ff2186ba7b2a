"""The LLM planner: a scripted LangChain chat model drives the real validation, retry and fallback
path; the real openai client + ChatOpenAI talk HTTP to a scripted server on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import httpx
import openai
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.utils.function_calling import convert_to_openai_tool

from sceneshop.agent.commands import read_message
from sceneshop.agent.llm.planner import (
    OPENAI_URL,
    LLMPlanner,
    editable_fields,
    fewshot_examples,
    render_system_prompt,
)
from sceneshop.agent.llm.scripted import (
    FakeOpenAIServer,
    ScriptedChatModel,
    broken_call,
    call,
    error_reply,
    text_reply,
    tool_reply,
)
from sceneshop.agent.llm.toolbox import REGISTRY, ToolTurn, run_call, tools_for
from sceneshop.agent.planner.embedded import EmbeddedPlanner
from sceneshop.agent.planner.prompt import compose_prompt
from sceneshop.agent.planning import Conversation
from sceneshop.agent.recipe import check_against_catalog
from sceneshop.agent.session import Session
from sceneshop.agent.settings import Settings
from sceneshop.agent.studio import Studio
from sceneshop.tools.catalog import load_catalog
from sceneshop.tools.preview.renderer import EmbeddedRenderer

CATALOG = load_catalog()
BEACH = {
    "scene_preset": "beach",
    "scene_description": "on a beach at sunset",
    "time_of_day": "sunset",
    "lighting_preset": "golden_hour",
    "subject": "espresso cup",
}
PLANNED_OFFLINE = "planned offline instead"
# Fields a recipe edit may leave alone: identity, the request and what is derived from the fields.
DERIVED = {"id", "parent_id", "request", "notes", "prompt", "negative_prompt"}


@pytest.fixture(scope="module")
def offline():
    return EmbeddedPlanner()


def scripted(offline, *script, retries=2):
    model = ScriptedChatModel(script=list(script))
    return LLMPlanner(model, retries=retries, fallback=offline), model


def last_tool_message(model) -> str:
    messages = model.calls[-1]["messages"]
    return next(m.content for m in reversed(messages) if isinstance(m, ToolMessage))


def changed_fields(a, b) -> set[str]:
    da, db = a.model_dump(exclude=DERIVED), b.model_dump(exclude=DERIVED)
    out = set()
    for key in da:
        if isinstance(da[key], dict):
            out |= {f"{key}.{k}" for k in da[key] if da[key][k] != db[key][k]}
        elif da[key] != db[key]:
            out.add(key)
    return out


# ------------------------------------------------------------------------- tools and prompts


def test_tool_schemas_are_derived_from_the_registered_functions():
    schemas = {name: convert_to_openai_tool(tool)["function"] for name, tool in REGISTRY.items()}
    assert set(schemas) == {
        "plan_recipe",
        "edit_recipe",
        "generate",
        "list_scenes",
        "list_loras",
        "recall_recipes",
        "save_recipe",
    }
    plan = schemas["plan_recipe"]
    assert plan["description"].startswith("Plan a fresh recipe")
    props = plan["parameters"]["properties"]
    for name in (
        "scene_preset",
        "scene_description",
        "time_of_day",
        "lighting_preset",
        "loras",
        "marketplace",
        "subject",
        "framing",
        "kelvin",
    ):
        assert props[name]["description"], name
    assert plan["parameters"]["required"] == ["scene_preset"]
    lora_item = props["loras"]["anyOf"][0]["items"]
    assert set(lora_item["properties"]) == {"name", "weight"}
    assert props["kelvin"]["anyOf"][0]["minimum"] == 1500
    assert not schemas["edit_recipe"]["parameters"].get("required")  # every edit is optional
    for schema in schemas.values():
        assert "turn" not in schema["parameters"].get("properties", {})  # injected, never shown


def test_system_prompt_lists_every_catalog_name():
    prompt = render_system_prompt(CATALOG)
    for table in (CATALOG.scenes, CATALOG.lighting, CATALOG.loras, CATALOG.marketplaces):
        for name in table:
            assert f"- {name}" in prompt, name
    assert "$" not in prompt  # every placeholder filled


def test_every_fewshot_example_is_a_valid_call():
    base = ToolTurn(CATALOG, "beach", image_size=(600, 400), by="test")
    run_call(base, {"name": "plan_recipe", "args": BEACH, "id": "1"}, tools_for(base))
    for example in fewshot_examples():
        parent = base.recipe if example.get("current") else None
        turn = ToolTurn(CATALOG, example["request"], parent=parent, image_size=(600, 400), by="test")
        obs = run_call(turn, {"id": "x", **example["call"]}, tools_for(turn))
        assert obs.ok, (example["request"], obs.text)
        assert turn.recipe is not None


# --------------------------------------------------------------- planning with a scripted model


def test_plan_builds_a_validated_recipe_and_composes_its_prompt(offline):
    planner, model = scripted(offline, call("plan_recipe", {**BEACH, "loras": [{"name": "film_grain"}]}))
    recipe = planner.plan("put it on a beach at sunset", image_size=(600, 400))
    assert (recipe.scene.preset, recipe.time_of_day, recipe.lighting.preset) == (
        "beach",
        "sunset",
        "golden_hour",
    )
    assert recipe.lighting.kelvin == CATALOG.light("golden_hour").kelvin
    assert recipe.scene.props == list(CATALOG.scene("beach").props)
    assert [(c.name, c.weight) for c in recipe.loras] == [
        ("film_grain", CATALOG.lora("film_grain").weight_default)
    ]
    assert (recipe.prompt, recipe.negative_prompt) == compose_prompt(recipe, CATALOG)
    assert "on a beach at sunset" in recipe.prompt
    assert recipe.mode == "replace_background" and (recipe.width, recipe.height) == (600, 400)
    assert not any(PLANNED_OFFLINE in n for n in recipe.notes)
    check_against_catalog(recipe, CATALOG)
    asked = model.calls[0]
    assert asked["tool_choice"] == "plan_recipe"  # forced: local servers ignore "auto"
    assert [t["function"]["name"] for t in asked["tools"]] == ["plan_recipe"]
    assert isinstance(asked["messages"][0], SystemMessage)


def test_edit_changes_only_what_was_asked(offline):
    planner, model = scripted(
        offline,
        call("plan_recipe", BEACH),
        call("edit_recipe", {"kelvin": 2500, "remove_props": ["all"], "clutter": 0.1}),
    )
    first = planner.plan("beach at sunset", image_size=(600, 400))
    second = planner.plan("same but warmer and less busy", first)
    assert second.parent_id == first.id and second.request == "same but warmer and less busy"
    assert changed_fields(first, second) == {"lighting.kelvin", "scene.props", "scene.clutter"}
    assert model.calls[1]["tool_choice"] == "edit_recipe"
    context = model.calls[1]["messages"][1].content
    assert json.dumps(editable_fields(first), ensure_ascii=False) in context
    assert context.endswith("Request: same but warmer and less busy")


def test_an_edit_that_changes_nothing_goes_back_then_the_real_edit_is_used(offline):
    planner, model = scripted(
        offline,
        call("plan_recipe", BEACH),
        call("edit_recipe", {"lighting_preset": "golden_hour"}),  # the current light: no change
        call("edit_recipe", {"kelvin": 2600}),
    )
    first = planner.plan("beach at sunset", image_size=(600, 400))
    warmer = planner.plan("make the light warmer", first)
    assert changed_fields(first, warmer) == {"lighting.kelvin"}
    complaint = model.calls[2]["messages"][-1].content
    assert "left the recipe exactly as it was" in complaint and "make the light warmer" in complaint


def test_edits_that_keep_changing_nothing_fall_back_to_the_embedded_planner(offline):
    no_op = call("edit_recipe", {"time_of_day": "sunset"})
    planner, model = scripted(offline, call("plan_recipe", BEACH), no_op, no_op, no_op, retries=2)
    first = planner.plan("beach at sunset", image_size=(600, 400))
    warmer = planner.plan("make it warmer", first)
    assert len(model.calls) == 4
    assert warmer.notes[-1] == (
        "the language model's reply could not be used (its edit left the recipe unchanged); "
        "planned offline instead"
    )
    assert warmer.lighting.kelvin < first.lighting.kelvin and warmer.parent_id == first.id


def test_new_scene_preset_brings_its_light_and_props(offline):
    planner, _ = scripted(
        offline, call("plan_recipe", BEACH), call("edit_recipe", {"scene_preset": "marble"})
    )
    first = planner.plan("beach", image_size=(600, 400))
    second = planner.plan("on marble instead", first)
    marble = CATALOG.scene("marble")
    assert second.scene.preset == "marble" and second.lighting.preset == marble.lighting
    assert second.scene.props == list(marble.props) and second.seed == first.seed


def test_a_new_scene_after_an_amazon_picture_leaves_amazon_as_offline(offline):
    amazon = {"scene_preset": "studio_white", "scene_description": "white background",
              "lighting_preset": "softbox", "subject": "espresso cup", "marketplace": "amazon_main"}
    planner, _ = scripted(
        offline, call("plan_recipe", amazon), call("edit_recipe", {"scene_preset": "beach"}),
        call("edit_recipe", {"scene_preset": "marble", "marketplace": "amazon_main"}),
    )
    first = planner.plan("white background for amazon", image_size=(600, 400))
    assert first.output.preset == "amazon_main" and not any(PLANNED_OFFLINE in n for n in first.notes)
    beach = planner.plan("put it on a beach", first)  # the white would have hidden the beach
    assert (beach.scene.preset, beach.output.preset) == ("beach", None)
    assert "output: no longer amazon_main (its plain background would hide the new scene)" in beach.notes
    said_again = planner.plan("marble, for amazon", beach)  # a marketplace the model names is kept
    assert said_again.output.preset == "amazon_main"


def test_unknown_lora_goes_back_with_the_choices_then_the_correction_is_used(offline):
    planner, model = scripted(
        offline,
        call("plan_recipe", {**BEACH, "loras": [{"name": "beach_sunset_v2", "weight": 0.8}]}),
        call("plan_recipe", {**BEACH, "loras": [{"name": "film_grain", "weight": 0.4}]}),
    )
    recipe = planner.plan("beach, film look", image_size=(600, 400))
    assert [(c.name, c.weight) for c in recipe.loras] == [("film_grain", 0.4)]
    assert len(model.calls) == 2
    said = last_tool_message(model)
    assert "'beach_sunset_v2' is not a known LoRA" in said
    assert all(name in said for name in CATALOG.loras)
    assert model.calls[1]["tool_choice"] == "plan_recipe"
    assert not any(PLANNED_OFFLINE in n for n in recipe.notes)


def test_a_weight_outside_the_catalog_range_is_clamped_with_a_note_not_sent_back(offline):
    # The recipe contract (prompts/loras.yaml: weights are clamped into [min, max]), as for the
    # embedded planner: the merchant reads the note; the model is not asked again.
    strong = call("plan_recipe", {**BEACH, "loras": [{"name": "film_grain", "weight": 1.7}]})
    planner, model = scripted(offline, strong)
    recipe = planner.plan("beach, strong film look", image_size=(600, 400))
    assert [(c.name, c.weight) for c in recipe.loras] == [("film_grain", 1.0)]
    assert len(model.calls) == 1
    assert "LoRA 'film_grain' weight 1.7 clamped to 1.0 (catalog range 0.0–1.0)" in recipe.notes
    assert not any(PLANNED_OFFLINE in n for n in recipe.notes)


@pytest.mark.parametrize(
    ("bad", "complaint"),
    [
        (
            call("plan_recipe", {**BEACH, "scene_preset": "moonbase"}),
            "'moonbase' is not a known scene preset",
        ),
        (call("plan_recipe", {**BEACH, "lighting_preset": "disco"}), "known: blue_hour, dappled_light"),
        (call("plan_recipe", {**BEACH, "kelvin": 99000}), "argument 'kelvin'"),
        (call("plan_recipe", {**BEACH, "framing": "extreme"}), "argument 'framing'"),
        (call("plan_recipe", {**BEACH, "scene": "beach"}), "unknown argument(s) 'scene'"),
        (
            call("plan_recipe", {**BEACH, "loras": [{"name": "film_grain"}, {"name": "neon_glow"}]}),
            "mix base",
        ),
        (call("make_picture", {}), "there is no tool 'make_picture'; tools: plan_recipe"),
        (broken_call("plan_recipe", '{"scene_preset": "beach", '), "not a valid JSON object"),
    ],
)
def test_a_fixable_mistake_goes_back_to_the_model(offline, bad, complaint):
    planner, model = scripted(offline, bad, call("plan_recipe", BEACH))
    recipe = planner.plan("beach at sunset", image_size=(600, 400))
    assert complaint in last_tool_message(model)
    assert recipe.scene.preset == "beach" and not any(PLANNED_OFFLINE in n for n in recipe.notes)


def test_a_product_mode_without_a_product_photo_goes_back(offline):
    planner, model = scripted(
        offline, call("plan_recipe", {**BEACH, "mode": "replace_background"}), call("plan_recipe", BEACH)
    )
    recipe = planner.plan("a beach at sunset")  # no photo
    assert "mode 'replace_background' needs a product photo; upload one (CLI: --image), or use mode " \
           "text_to_image" in last_tool_message(model)
    assert recipe.mode == "text_to_image" and (recipe.width, recipe.height) == (1024, 1024)


def test_after_the_retries_the_embedded_planner_answers_with_a_visible_note(offline):
    bad = call("plan_recipe", {**BEACH, "loras": [{"name": "beach_sunset_v2"}]})
    planner, model = scripted(offline, bad, bad, bad, retries=2)
    recipe = planner.plan("put it on a beach at sunset", image_size=(600, 400))
    assert len(model.calls) == 3  # the first try and two retries
    note = recipe.notes[-1]
    assert note.startswith(
        "the language model's reply could not be used ('beach_sunset_v2' is not a known LoRA"
    )
    assert note.endswith("; planned offline instead")
    assert all(c.name in CATALOG.loras for c in recipe.loras)
    check_against_catalog(recipe, CATALOG)
    assert recipe.scene.preset == "beach"  # the embedded planner understood the request


def test_words_instead_of_a_call_get_the_tool_forced(offline):
    planner, model = scripted(offline, AIMessage("Sure! A beach it is."), call("plan_recipe", BEACH))
    reply = planner.respond(read_message("put it on a beach"), None, Conversation(image_size=(600, 400)))
    assert reply.recipe.scene.preset == "beach" and reply.render
    assert [c["tool_choice"] for c in model.calls] == ["required", "plan_recipe"]
    assert isinstance(model.calls[1]["messages"][-1], HumanMessage)


def test_an_endpoint_error_plans_offline_with_one_line(offline):
    response = httpx.Response(429, request=httpx.Request("POST", f"{OPENAI_URL}/chat/completions"))
    planner, _ = scripted(offline, openai.RateLimitError("Rate limit reached", response=response, body=None))
    recipe = planner.plan("white background for amazon", image_size=(600, 400))
    assert recipe.notes[-1] == (
        f"the language model at {OPENAI_URL} is rate-limiting requests (429); wait a minute or check the "
        f"account's quota — {PLANNED_OFFLINE}"
    )
    assert recipe.output.preset == "amazon_main"


def test_a_lookup_then_words_is_an_answer_without_a_recipe(offline):
    planner, model = scripted(
        offline,
        call("list_scenes", {"kind": "outdoor"}),
        AIMessage("Outdoor scenes: beach, pool, garden …"),
    )
    reply = planner.respond(
        read_message("which outdoor scenes do you have?"), None, Conversation(image_size=(600, 400))
    )
    assert reply.recipe is None and reply.text.startswith("Outdoor scenes")
    assert [c["tool_choice"] for c in model.calls] == ["required", "auto"]
    assert "beach (outdoor)" in last_tool_message(model)
    assert "studio_white" not in last_tool_message(model)


def test_generate_makes_a_variation_that_changes_only_the_seed(offline):
    planner, _ = scripted(offline, call("plan_recipe", BEACH), call("generate", {}))
    first = planner.plan("beach", image_size=(600, 400))
    reply = planner.respond(read_message("another one"), first, Conversation(image_size=(600, 400)))
    assert reply.render and reply.recipe.parent_id == first.id
    assert changed_fields(first, reply.recipe) == {"seed"}
    assert reply.recipe.prompt == first.prompt


def test_tools_offered_depend_on_the_turn():
    fresh = ToolTurn(CATALOG, "x")
    assert [t.name for t in tools_for(fresh)] == ["plan_recipe", "list_scenes", "list_loras"]
    assert "edit_recipe" in [t.name for t in tools_for(ToolTurn(CATALOG, "x", parent=object()))]


# ------------------------------------------------------------------- over HTTP, real client


@pytest.fixture()
def server():
    with FakeOpenAIServer() as s:
        yield s


def settings_for(url: str, **kw) -> Settings:
    values = {
        "openai_api_key": "sk-test-123",
        "openai_base_url": url,
        "llm_model": "fake-model",
        "llm_timeout_s": 5.0,
        "llm_retries": 2,
    }
    return Settings(**{**values, **kw})


def test_http_request_carries_tool_schemas_catalog_and_key(server, offline):
    server.script(tool_reply("plan_recipe", BEACH))
    planner = LLMPlanner.from_settings(settings_for(server.url), fallback=offline)
    recipe = planner.plan("put it on a beach at sunset", image_size=(600, 400))
    assert recipe.scene.preset == "beach" and recipe.notes[-1] == "planned by the language model (fake-model)"
    body = server.requests[0]
    assert body["model"] == "fake-model"
    assert body["tool_choice"] == {"type": "function", "function": {"name": "plan_recipe"}}
    (tool,) = body["tools"]
    assert tool["function"]["name"] == "plan_recipe"
    assert {"scene_preset", "loras", "time_of_day", "marketplace"} <= set(
        tool["function"]["parameters"]["properties"]
    )
    system, user = body["messages"]
    assert system["role"] == "system" and all(f"- {name}" in system["content"] for name in CATALOG.loras)
    assert "- studio_white:" in system["content"] and "- amazon_main:" in system["content"]
    assert user["role"] == "user" and user["content"].endswith("Request: put it on a beach at sunset")
    assert server.headers[0]["authorization"] == "Bearer sk-test-123"


def test_http_feedback_turn_sends_the_current_recipe(server, offline):
    server.script(tool_reply("plan_recipe", BEACH), tool_reply("edit_recipe", {"kelvin": 2600}))
    planner = LLMPlanner.from_settings(settings_for(server.url), fallback=offline)
    first = planner.plan("beach at sunset", image_size=(600, 400))
    second = planner.plan("warmer", first, image_size=(600, 400))
    assert second.parent_id == first.id and second.lighting.kelvin == 2600
    body = server.requests[1]
    assert body["tool_choice"]["function"]["name"] == "edit_recipe"
    user = body["messages"][1]["content"]
    assert '"preset": "beach"' in user and '"kelvin": 3200' in user and user.endswith("Request: warmer")


def test_http_base_url_without_key_sends_a_dummy_key(server, offline):
    server.script(tool_reply("plan_recipe", BEACH))
    planner = LLMPlanner.from_settings(settings_for(server.url, openai_api_key=None), fallback=offline)
    assert planner.plan("beach").scene.preset == "beach"
    assert (
        server.headers[0]["authorization"].startswith("Bearer ")
        and len(server.headers[0]["authorization"]) > 10
    )


def http_session(url: str, offline, coffee, coffee_mask, **kw) -> Session:
    settings = settings_for(url, **kw)
    studio = Studio(
        settings, planner=LLMPlanner.from_settings(settings, fallback=offline), engine=EmbeddedRenderer()
    )
    session = Session(studio)
    session.set_product(coffee, coffee_mask)
    return session


def assert_still_usable(server, session, first):
    server.script(tool_reply("edit_recipe", {"kelvin": 2800}))
    turn = session.send("a bit warmer")
    assert turn.kind == "result" and turn.images
    assert turn.recipe.parent_id == first.recipe.id and turn.recipe.lighting.kelvin == 2800
    assert PLANNED_OFFLINE not in turn.reply


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            error_reply(401, "Incorrect API key provided", "invalid_request_error", "invalid_api_key"),
            "refused the API key (401); check OPENAI_API_KEY — planned offline instead",
        ),
        (
            error_reply(429, "Rate limit reached", "requests", "rate_limit_exceeded"),
            "is rate-limiting requests (429); wait a minute or check the account's quota"
            " — planned offline instead",
        ),
        (
            error_reply(500, "The server had an error"),
            "failed with a server error (500); try again later — planned offline instead",
        ),
    ],
)
def test_http_error_is_one_line_in_the_chat_and_the_session_goes_on(
    server, offline, coffee, coffee_mask, reply, message
):
    session = http_session(server.url, offline, coffee, coffee_mask)
    server.script(reply)
    turn = session.send("put it on a beach at sunset")
    assert turn.kind == "result" and turn.images and turn.recipe.scene.preset == "beach"
    assert f"the language model at {server.url} {message}" in turn.reply.splitlines()
    assert len(server.requests) == 1  # no hidden retries: the chat answers at once
    assert_still_usable(server, session, turn)


def test_http_timeout_is_reported_and_the_session_goes_on(server, offline, coffee, coffee_mask):
    session = http_session(server.url, offline, coffee, coffee_mask, llm_timeout_s=0.5)
    server.script(tool_reply("plan_recipe", BEACH, delay_s=3.0))
    turn = session.send("put it on a beach at sunset")
    assert f"the language model at {server.url} did not answer within 0.5 s" in turn.reply
    assert turn.kind == "result" and turn.images
    assert_still_usable(server, session, turn)


def test_http_unreachable_endpoint_is_reported(offline, coffee, coffee_mask):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = http_session(f"http://127.0.0.1:{port}/v1", offline, coffee, coffee_mask)
    turn = session.send("white background for amazon")
    assert (
        f"the language model at http://127.0.0.1:{port}/v1 cannot be reached; check OPENAI_BASE_URL"
        in turn.reply
    )
    assert turn.kind == "result" and turn.recipe.output.preset == "amazon_main"


def test_http_invalid_tool_json_goes_back_then_works(server, offline, coffee, coffee_mask):
    session = http_session(server.url, offline, coffee, coffee_mask)
    server.script(
        tool_reply("plan_recipe", '{"scene_preset": "beach", "time_of_day": '),
        tool_reply("plan_recipe", BEACH),
    )
    turn = session.send("put it on a beach at sunset")
    assert turn.kind == "result" and PLANNED_OFFLINE not in turn.reply
    sent_back = server.messages(1)[-1]
    assert sent_back["role"] == "tool" and "not a valid JSON object" in sent_back["content"]
    assert server.messages(1)[-2]["tool_calls"][0]["function"]["arguments"].startswith('{"scene_preset"')
    assert_still_usable(server, session, turn)


def test_http_unknown_lora_is_corrected_on_retry(server, offline, coffee, coffee_mask):
    session = http_session(server.url, offline, coffee, coffee_mask)
    server.script(
        tool_reply("plan_recipe", {**BEACH, "loras": [{"name": "sunset_magic"}]}),
        tool_reply("plan_recipe", {**BEACH, "loras": [{"name": "cinematic", "weight": 0.5}]}),
    )
    turn = session.send("cinematic beach at sunset")
    assert [(c.name, c.weight) for c in turn.recipe.loras] == [("cinematic", 0.5)]
    sent_back = server.messages(1)[-1]
    assert (
        "'sunset_magic' is not a known LoRA" in sent_back["content"] and "cinematic" in sent_back["content"]
    )
    assert_still_usable(server, session, turn)


def test_http_invalid_replies_until_the_retries_run_out_fall_back(server, offline, coffee, coffee_mask):
    session = http_session(server.url, offline, coffee, coffee_mask, llm_retries=1)
    bad = tool_reply("plan_recipe", {**BEACH, "loras": [{"name": "sunset_magic"}]})
    server.script(bad, bad)
    turn = session.send("put it on a beach at sunset")
    assert len(server.requests) == 2
    assert "the language model's reply could not be used ('sunset_magic' is not a known LoRA" in turn.reply
    assert turn.reply.splitlines()[0].endswith(PLANNED_OFFLINE) and turn.images
    assert_still_usable(server, session, turn)


def test_http_session_lookup_answer_in_words(server, offline, coffee, coffee_mask):
    session = http_session(server.url, offline, coffee, coffee_mask)
    server.script(tool_reply("list_loras", {}), text_reply("For a film look try film_grain."))
    turn = session.send("which styles can you do?")
    assert turn.kind == "answer" and turn.reply == "For a film look try film_grain." and not session.versions
    assert server.requests[0]["tool_choice"] == "required" and server.requests[1]["tool_choice"] == "auto"
    names = {t["function"]["name"] for t in server.requests[0]["tools"]}
    assert names == {"plan_recipe", "list_scenes", "list_loras"}  # nothing to edit yet, no memory


# ------------------------------------------------------- looks: text, retouch, person (issue 13)


def test_the_tool_schemas_offer_the_looks_with_their_limits():
    for name in ("plan_recipe", "edit_recipe"):
        props = convert_to_openai_tool(REGISTRY[name])["function"]["parameters"]["properties"]
        for arg in ("text_layout", "title", "subtitle", "cover_lines", "badge", "price", "title_place",
                    "straighten", "harmonize", "person"):
            assert props[arg]["description"], (name, arg)
        assert "at most 40 characters" in props["title"]["description"]
    edit = convert_to_openai_tool(REGISTRY["edit_recipe"])["function"]["parameters"]["properties"]
    assert "dress_model" in str(edit["mode"]) and edit["clear_text"]["description"]


def test_a_cover_with_title_and_lines_is_planned_into_the_text_layer_not_the_prompt(offline):
    cover = {**BEACH, "text_layout": "cover", "title": "STAY HYDRATED", "subtitle": "summer essentials",
             "cover_lines": ["10 bottles we love", "SPF guide"], "badge": "-20%"}
    planner, _ = scripted(offline, call("plan_recipe", cover))
    recipe = planner.plan("magazine cover with the title STAY HYDRATED", image_size=(600, 400))
    text = recipe.text
    assert (text.layout, text.title, text.subtitle, text.lines, text.badge) == (
        "cover", "STAY HYDRATED", "summer essentials", ["10 bottles we love", "SPF guide"], "-20%")
    assert "STAY HYDRATED" not in recipe.prompt and "HYDRATED" not in recipe.negative_prompt
    assert (recipe.width, recipe.height) == (480, 600)  # a cover is upright, and the notes say so
    assert any("a cover is upright" in n for n in recipe.notes)
    assert any(n.startswith("text: cover title 'STAY HYDRATED'") for n in recipe.notes)
    assert not any(PLANNED_OFFLINE in n for n in recipe.notes)


def test_a_title_too_long_and_too_many_lines_go_back_in_plain_words_then_the_fix_is_used(offline):
    planner, model = scripted(
        offline,
        call("plan_recipe", BEACH),
        call("edit_recipe", {"title": "THE LONGEST SUMMER OF HYDRATION EVER WRITTEN",
                             "cover_lines": list("abcde")}),
        call("edit_recipe", {"title": "STAY HYDRATED", "cover_lines": list("abcd")}),
    )
    first = planner.plan("beach", image_size=(600, 400))
    second = planner.plan("title it THE LONGEST SUMMER …", first)
    complaint = model.calls[2]["messages"][-1].content
    assert "the title is 44 characters; it fits at most 40 — shorten it" in complaint
    assert "there are 5 cover lines; a cover has at most 4 — remove some" in complaint
    assert (second.text.title, second.text.lines) == ("STAY HYDRATED", list("abcd"))
    assert second.text.layout == "cover"  # a title needs a layout; a cover is the general one


def test_retouch_person_and_clear_text_are_edits_with_notes_that_say_the_pixels_change(offline):
    planner, model = scripted(
        offline,
        call("plan_recipe", {**BEACH, "badge": "NEW", "price": "€24.90"}),
        call("edit_recipe", {"straighten": True, "harmonize": 0.5}),
        call("edit_recipe", {"harmonize": 1.5}),  # out of range: back to the model
        call("edit_recipe", {"person": "a woman in her 30s, natural make-up", "clear_text": True}),
    )
    first = planner.plan("beach", image_size=(600, 400))
    assert (first.text.badge, first.text.price, first.text.layout) == ("NEW", "€24.90", "none")
    fitted = planner.plan("make it stand straight and match the light", first)
    assert changed_fields(first, fitted) == {"retouch.straighten", "retouch.harmonize"}
    assert any("resamples it" in n for n in fitted.notes) and any("pixels change" in n for n in fitted.notes)
    worn = planner.plan("on a woman in her 30s, natural make-up, and no text", fitted)
    back = model.calls[3]["messages"][-1].content
    assert "the harmonize strength must be between 0 and 1 (got 1.5)" in back
    assert (worn.mode, worn.person) == ("dress_model", "a woman in her 30s, natural make-up")
    assert worn.text.empty and worn.retouch == fitted.retouch
    context = model.calls[3]["messages"][1].content
    assert '"retouch": {"straighten": true, "harmonize": 0.5}' in context  # the model sees the looks


def test_a_person_without_a_product_photo_goes_back_to_the_model(offline):
    turn = ToolTurn(CATALOG, "a woman wearing it", by="test")
    obs = run_call(turn, {"name": "plan_recipe", "args": {**BEACH, "person": "a woman"}, "id": "1"},
                   tools_for(turn))
    assert not obs.ok and "a model needs a photo of the garment" in obs.text
    asked = {**BEACH, "mode": "dress_model", "person": "a woman"}
    obs = run_call(turn, {"name": "plan_recipe", "args": asked, "id": "2"}, tools_for(turn))
    assert not obs.ok and "mode 'dress_model' needs a product photo" in obs.text

