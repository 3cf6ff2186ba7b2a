"""Agent overhead per chat turn with the LLM planner: everything except the model call and the
rendering (prompt building, tool binding, LangChain plumbing, validation, recipe building, session
routing), p50/p95 over scripted turns with a zero-latency fake chat model and a no-op renderer.
Target: p50 and p95 <= 20 ms on the 2-core box."""

from __future__ import annotations

import argparse
import statistics
import time

from langchain_core.messages import AIMessage
from PIL import Image

from sceneshop.agent.llm.planner import LLMPlanner
from sceneshop.agent.llm.scripted import FakeOpenAIServer, ScriptedChatModel, call, tool_reply
from sceneshop.agent.session import Session
from sceneshop.agent.studio import Studio

BEACH = {
    "scene_preset": "beach",
    "scene_description": "on a beach at sunset",
    "time_of_day": "sunset",
    "lighting_preset": "golden_hour",
    "loras": [{"name": "film_grain"}],
}
# (chat message, the model's scripted answers for it); session commands need no model call.
CONVERSATION = [
    ("put it on a beach at sunset, film look", [call("plan_recipe", BEACH)]),
    (
        "warmer and less busy",
        [call("edit_recipe", {"kelvin": 2600, "remove_props": ["all"], "clutter": 0.1})],
    ),
    ("a bit closer", [call("edit_recipe", {"framing": "close"})]),
    ("another one", [call("generate", {})]),
    ("undo", []),
    ("compare the last two", []),
    ("go back to the second one", []),
    (
        "on marble instead",
        [call("edit_recipe", {"scene_preset": "marble", "scene_description": "on marble"})],
    ),
    (
        "cinematic please",
        [  # a wrong LoRA name, sent back, then corrected: one retry
            call("edit_recipe", {"loras": [{"name": "cinema_v2"}]}),
            call("edit_recipe", {"loras": [{"name": "cinematic"}]}),
        ],
    ),
    ("which styles do you have?", [call("list_loras", {}), AIMessage("film_grain, cinematic, …")]),
    ("start over with the same product", []),
]


class TimedModel(ScriptedChatModel):
    """The fake model, timing its own (near-zero) work so it can be subtracted."""

    spent: float = 0.0

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        t0 = time.perf_counter()
        try:
            return super()._generate(messages, stop, run_manager, **kwargs)
        finally:
            self.spent += time.perf_counter() - t0


class NoopEngine:
    name = "no-op renderer"
    reason = "benchmark"
    spent = 0.0

    def render(self, recipe, image, mask, *, progress=None, cancel=None):
        t0 = time.perf_counter()
        size = (recipe.width, recipe.height)
        pictures = [Image.new("RGB", size, "white") for _ in range(recipe.output.count)]
        self.spent += time.perf_counter() - t0
        return pictures


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="times the conversation is replayed")
    args = parser.parse_args()

    model = TimedModel()
    engine = NoopEngine()
    studio = Studio(planner=LLMPlanner(model, fallback=_no_fallback()), engine=engine)
    product = Image.new("RGB", (600, 400), "white")
    mask = Image.new("L", (600, 400), 0)
    mask.paste(255, (200, 100, 400, 300))

    overhead: dict[str, list[float]] = {}
    for round_ in range(args.rounds + 1):  # the first round warms caches and is not counted
        session = Session(studio)
        session.set_product(product, mask)
        for text, answers in CONVERSATION:
            model.script = list(answers)
            model.spent = engine.spent = 0.0
            t0 = time.perf_counter()
            turn = session.send(text)
            total = time.perf_counter() - t0
            if turn.kind == "error" or (answers and "planned offline" in turn.reply):
                raise SystemExit(f"benchmark script broke at {text!r}: {turn.reply}")
            if round_:
                overhead.setdefault(text, []).append((total - model.spent - engine.spent) * 1000)

    every = [ms for values in overhead.values() for ms in values]
    print(
        f"agent overhead per turn (ms), {args.rounds} rounds x {len(CONVERSATION)} turns, "
        f"zero-latency fake model, no-op renderer:"
    )
    print(f"{'turn':42} {'p50':>7} {'p95':>7}")
    for text, values in overhead.items():
        print(f"{text[:42]:42} {statistics.median(values):7.2f} {pct(values, 0.95):7.2f}")
    print(f"{'ALL TURNS':42} {statistics.median(every):7.2f} {pct(every, 0.95):7.2f}   (target <= 20 ms)")
    print(_over_http(args.rounds, engine))


def _over_http(rounds: int, engine: NoopEngine) -> str:
    """The same plan + edit turns through the real ChatOpenAI + openai client against the scripted
    server on 127.0.0.1 (zero delay): adds request building, JSON and localhost HTTP."""
    from sceneshop.agent.settings import Settings

    with FakeOpenAIServer() as server:
        settings = Settings(openai_api_key="sk-bench", openai_base_url=server.url, llm_model="bench")
        studio = Studio(
            settings, planner=LLMPlanner.from_settings(settings, fallback=_no_fallback()), engine=engine
        )
        times = []
        for round_ in range(rounds + 1):
            session = Session(studio)
            session.set_product(Image.new("RGB", (600, 400), "white"), Image.new("L", (600, 400), 255))
            for text, args in (("beach at sunset", BEACH), ("warmer", {"kelvin": 2600})):
                server.script(tool_reply("plan_recipe" if session.recipe is None else "edit_recipe", args))
                engine.spent = 0.0
                t0 = time.perf_counter()
                session.send(text)
                if round_:
                    times.append((time.perf_counter() - t0 - engine.spent) * 1000)
    return (
        f"{'plan/edit turn, ChatOpenAI over HTTP':42} {statistics.median(times):7.2f} "
        f"{pct(times, 0.95):7.2f}   (includes the client and the fake server's own time)"
    )


def _no_fallback():
    class Refuse:
        def plan(self, *a, **kw):
            raise SystemExit("the benchmark should never fall back to the embedded planner")

    return Refuse()


if __name__ == "__main__":
    main()
