"""Scripted stand-ins for a language model, to run the LLM planner's path with no model at all: a
LangChain chat model that returns scripted messages in-process, and a real HTTP server on 127.0.0.1
that answers /v1/chat/completions from a script (for the openai client + ChatOpenAI path) and
records every request. Used by the tests and the benchmarks, like the tiny random pipelines of
sceneshop.tools.diffusion.tiny for the diffusion path."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

_ids = itertools.count(1)


# ------------------------------------------------------------------------------ the HTTP server


@dataclass
class Scripted:
    """One scripted HTTP answer: a status, a JSON body (or `raw` bytes sent as they are), an optional
    delay before it, and optionally `trickle` leading spaces (valid JSON whitespace) sent one every
    `trickle_s` seconds, like a server that keeps a connection alive byte by byte."""

    status: int
    body: dict
    delay_s: float = 0.0
    raw: bytes | None = None
    trickle: int = 0
    trickle_s: float = 0.0
    declare_length: bool = True  # False: no Content-Length, the body ends when the server closes


def trickled(reply: Scripted, spaces: int, every_s: float) -> Scripted:
    """`reply`, preceded by `spaces` spaces sent one every `every_s` seconds."""
    return Scripted(reply.status, reply.body, reply.delay_s, reply.raw, spaces, every_s, reply.declare_length)


def raw_reply(payload: bytes, status: int = 200, *, declare_length: bool = True) -> Scripted:
    return Scripted(status, {}, raw=payload, declare_length=declare_length)


def completion(message: dict, finish_reason: str = "stop", model: str = "fake-model") -> dict:
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def tool_reply(name: str, args: dict | str, *, content: str | None = None, delay_s: float = 0.0) -> Scripted:
    """An assistant message calling `name`; a str `args` is sent as is (e.g. broken JSON)."""
    arguments = args if isinstance(args, str) else json.dumps(args)
    call = {
        "id": f"call_{next(_ids)}",
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }
    message = {"role": "assistant", "content": content, "tool_calls": [call]}
    return Scripted(200, completion(message, "tool_calls"), delay_s)


def text_reply(content: str, *, delay_s: float = 0.0) -> Scripted:
    return Scripted(200, completion({"role": "assistant", "content": content}), delay_s)


def error_reply(status: int, message: str, kind: str = "error", code: str | None = None) -> Scripted:
    return Scripted(status, {"error": {"message": message, "type": kind, "code": code, "param": None}})


class FakeOpenAIServer:
    """`with FakeOpenAIServer() as server:` then `server.script(...)`, point a client at `server.url`,
    and read `server.requests` (the JSON bodies) and `server.headers` afterwards."""

    def __init__(self):
        self.replies: list[Scripted] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        # Per reply: (bytes written, bytes in the reply); fewer written means the client hung up.
        self.sent: list[tuple[int, int]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def script(self, *replies: Scripted) -> FakeOpenAIServer:
        with self._lock:
            self.replies.extend(replies)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    reply = server.replies.pop(0) if server.replies else None
                if not self.path.endswith("/chat/completions"):
                    reply = error_reply(404, f"fake server: no route {self.path}")
                elif reply is None:
                    reply = error_reply(500, "fake server: no scripted reply left")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                payload = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
                total, written = reply.trickle + len(payload), 0
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    if reply.declare_length:
                        self.send_header("Content-Length", str(total))
                    self.end_headers()
                    for _ in range(reply.trickle):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        written += 1
                        time.sleep(reply.trickle_s)
                    self.wfile.write(payload)
                    written = total
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)
                with server._lock:
                    server.sent.append((written, total))

            def log_message(self, *args):  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def messages(self, index: int = -1) -> list[dict]:
        return self.requests[index]["messages"]


# ------------------------------------------------------------------------- the in-process model


def call(name: str, args: dict | None = None, *, content: str = "") -> AIMessage:
    """A scripted AIMessage calling one tool."""
    return AIMessage(content, tool_calls=[{"name": name, "args": args or {}, "id": f"call_{next(_ids)}"}])


def broken_call(name: str, raw_args: str) -> AIMessage:
    """A scripted AIMessage whose arguments are not valid JSON (as LangChain reports it)."""
    return AIMessage(
        "",
        invalid_tool_calls=[
            {
                "name": name,
                "args": raw_args,
                "id": f"call_{next(_ids)}",
                "error": "invalid JSON",
                "type": "invalid_tool_call",
            }
        ],
    )


class ScriptedChatModel(BaseChatModel):
    """A LangChain chat model that answers from `script` (AIMessages, exceptions to raise, or
    callables of the messages) and records what it was asked in `calls`."""

    script: list[Any] = Field(default_factory=list)
    calls: list[dict] = Field(default_factory=list)
    repeat_last: bool = False  # keep answering with the last item (for benchmarks)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls.append({"messages": list(messages), **kwargs})
        if not self.script:
            raise AssertionError("ScriptedChatModel: the script has no reply left")
        item = self.script[0] if self.repeat_last and len(self.script) == 1 else self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        message = item(messages) if callable(item) else item
        if isinstance(message, AIMessage):
            message = message.model_copy()  # the same scripted reply may be given twice
        return ChatResult(generations=[ChatGeneration(message=message)])
