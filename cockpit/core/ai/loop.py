"""The model loop: the official `anthropic` SDK (async), read-only tools, caps, redaction.

One `ModelSession.run(prompt)`:

- builds each request body, redacts it as a whole (fail closed: if redaction raises, nothing
  is sent) and streams the answer, passing text deltas to `on_text`;
- answers every `tool_use` with a `tool_result`: registry tools run in a thread and their
  output is wrapped in the session's boundary; an unknown tool is refused with `is_error`;
  `propose_hypotheses` turns the model's structured answer into `hypothesis.proposed` events;
- records every tool call through a guarded sink that accepts only AI kinds (it refuses
  `hypothesis.verified` / `hypothesis.refuted`: only a human writes those);
- stops at the caps: tool calls, total tokens and an overall deadline of our own.

The API key comes only from `ANTHROPIC_API_KEY`; `ANTHROPIC_BASE_URL` is left to the SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from cockpit.core.ai.boundary import Boundary
from cockpit.core.ai.hypotheses import (
    PROPOSED,
    Hypothesis,
    ProposeHypotheses,
    from_input,
)
from cockpit.core.ai.redact import RedactionError, Redactor
from cockpit.core.ai.tools import Tool
from cockpit.core.config import Config

TOOL_CALLED = "ai.tool_called"
TOOL_REFUSED = "ai.tool_refused"
RUN_FINISHED = "ai.run_finished"
AI_KINDS = frozenset({TOOL_CALLED, TOOL_REFUSED, RUN_FINISHED, PROPOSED})
"""The only event kinds the AI side may write."""
PROPOSE_TOOL = "propose_hypotheses"
BUDGET_REACHED = "stopped: budget reached"
API_KEY_ENV = "ANTHROPIC_API_KEY"

Record = Callable[[str, dict[str, Any]], None]
OnText = Callable[[str], None]


class EventRefused(Exception):
    """The AI tried to write an event kind it may not write."""


class GuardedSink:
    """Passes AI events to `record`; refuses every other kind (verification stays human)."""

    def __init__(self, record: Record) -> None:
        self._record = record

    def __call__(self, kind: str, payload: dict[str, Any]) -> None:
        if kind not in AI_KINDS:
            raise EventRefused(f"the AI may not write {kind!r} events")
        self._record(kind, payload)


@dataclass
class Outcome:
    """How one run ended."""

    status: Literal["done", "budget", "error"]
    message: str
    text: str = ""
    hypotheses: list[Hypothesis] = field(default_factory=list)
    tool_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    retryable: bool = False
    offline: bool = False
    """True when the API could not be reached: the heuristics should take over."""


def api_key(environ: Mapping[str, str] | None = None) -> str | None:
    """The key from `ANTHROPIC_API_KEY` only (never from a file or the config)."""
    value = (os.environ if environ is None else environ).get(API_KEY_ENV, "").strip()
    return value or None


def make_client(config: Config, environ: Mapping[str, str] | None = None) -> Any | None:
    """An `anthropic.AsyncAnthropic` client, or None without a key.

    No base_url is passed, so the SDK honours `ANTHROPIC_BASE_URL` (LLM gateways). Retries are
    off (a human presses retry) and the per-request timeout is ours, not the SDK's 600 s.
    """
    key = api_key(environ)
    if key is None:
        return None
    import anthropic

    return anthropic.AsyncAnthropic(
        api_key=key,
        max_retries=0,
        timeout=config.ai.request_timeout_seconds,
        open_telemetry=False,
    )


def system_prompt(boundary: Boundary, skills: list[str] | None = None) -> str:
    """What the model is told about its role, its limits and the data markers."""
    parts = [
        "You are the read-only incident analyst inside Cockpit, an incident cockpit used by an "
        "on-call engineer. You can only READ, through the tools given: search logs, group "
        "error patterns, list deploys, rank rollback candidates, show diffs, read the "
        "timeline. You cannot run commands, change production or incident state, or mark any "
        "hypothesis verified: a human does that.",
        "Work from evidence. Prefer few, well-chosen tool calls. Partial data gives partial "
        "answers: say what is missing rather than guessing a root cause.",
        f"Finish by calling `{PROPOSE_TOOL}` once with 1-5 hypotheses, most likely first. Each "
        "names its evidence (deploy shas, signatures, log lines, diff files), what would "
        "confirm and refute it, read-only checks, and a containment command only if one "
        "clearly follows (usually the rollback command from rollback_candidates). Every "
        "hypothesis is shown as UNVERIFIED; any command you write is inert text a human may "
        "copy and check, never executed.",
        boundary.instructions(),
        "Secrets in the data are replaced by placeholders like [REDACTED:kind:1a2b3c4d]; the same "
        "placeholder always stands for the same value.",
    ]
    for skill in skills or []:
        parts.append("Team triage guidance (from the team's skill files):\n" + skill)
    return "\n\n".join(parts)


def propose_tool_definition() -> dict[str, Any]:
    schema = ProposeHypotheses.model_json_schema()
    schema.pop("title", None)
    return {
        "name": PROPOSE_TOOL,
        "description": "Give your final answer: the ranked hypotheses (all shown UNVERIFIED).",
        "input_schema": schema,
    }


def _brief(arguments: Any, limit: int = 160) -> str:
    text = json.dumps(arguments, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _block_to_param(block: Any) -> dict[str, Any] | None:
    """An SDK content block as the request param the next turn sends back."""
    kind = getattr(block, "type", None)
    if kind == "text":
        return {"type": "text", "text": block.text}
    if kind == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return None


class ModelSession:
    """One AI session: its boundary, its redactor, its tools and where events go."""

    def __init__(
        self,
        config: Config,
        tools: list[Tool],
        *,
        redactor: Redactor,
        record: Record,
        boundary: Boundary | None = None,
        on_text: OnText | None = None,
        client_factory: Callable[[], Any | None] | None = None,
        skills: list[str] | None = None,
    ) -> None:
        self.config = config
        self.tools = {tool.name: tool for tool in tools}
        self.redactor = redactor
        self.sink = GuardedSink(record)
        self.boundary = boundary or Boundary()
        self.on_text = on_text or (lambda text: None)
        self.client_factory = client_factory or (lambda: make_client(config))
        self.skills = skills or []

    # -- requests ----------------------------------------------------------------------------

    def request_body(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The request as built, before redaction."""
        return {
            "model": self.config.ai.model,
            "max_tokens": self.config.ai.max_tokens,
            "system": system_prompt(self.boundary, self.skills),
            "messages": messages,
            "tools": [tool.to_api() for tool in self.tools.values()] + [propose_tool_definition()],
        }

    def first_messages(self, prompt: str, context: str = "") -> list[dict[str, Any]]:
        """The opening user turn: the question, then the incident context as wrapped data."""
        content = prompt
        if context:
            content += "\n\n" + self.boundary.wrap(context, "incident")
        return [{"role": "user", "content": content}]

    def preview(self, prompt: str, context: str = "") -> str:
        """Exactly what the first request would send, redacted (raises RedactionError)."""
        body = self.redactor.redact_json(self.request_body(self.first_messages(prompt, context)))
        return json.dumps(body, indent=2, ensure_ascii=False)

    async def _stream(self, client: Any, body: dict[str, Any]) -> Any:
        async with client.messages.stream(**body) as stream:
            async for event in stream:
                if getattr(event, "type", None) == "text":
                    self.on_text(event.text)
            return await stream.get_final_message()

    # -- the loop ----------------------------------------------------------------------------

    async def run(self, prompt: str, context: str = "") -> Outcome:
        """Run the tool loop to its end, a cap, or an error; never raises for API failures."""
        client = self.client_factory()
        if client is None:
            return Outcome("error", f"no {API_KEY_ENV} set: offline", offline=True)
        outcome = Outcome("done", "done")
        try:
            async with asyncio.timeout(self.config.ai.deadline_seconds):
                await self._loop(client, self.first_messages(prompt, context), outcome)
        except TimeoutError:
            outcome.status = "budget"
            outcome.message = (
                f"{BUDGET_REACHED} (deadline of {self.config.ai.deadline_seconds:g} s passed)"
            )
            outcome.retryable = True
        except RedactionError as exc:
            outcome.status = "error"
            outcome.message = f"{exc}"
        except Exception as exc:
            outcome.status = "error"
            outcome.message, outcome.offline = describe_api_error(exc)
            outcome.retryable = True
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        self.sink(
            RUN_FINISHED,
            {
                "summary": (
                    f"AI run ended ({outcome.status}): {outcome.message}; "
                    f"{outcome.tool_calls} tool calls, {len(outcome.hypotheses)} hypotheses, "
                    f"{outcome.input_tokens + outcome.output_tokens} tokens"
                ),
                "status": outcome.status,
                "tool_calls": outcome.tool_calls,
                "input_tokens": outcome.input_tokens,
                "output_tokens": outcome.output_tokens,
            },
        )
        return outcome

    async def _loop(self, client: Any, messages: list[dict[str, Any]], outcome: Outcome) -> None:
        ai = self.config.ai
        while True:
            if outcome.input_tokens + outcome.output_tokens >= ai.max_total_tokens:
                outcome.status = "budget"
                outcome.message = f"{BUDGET_REACHED} ({ai.max_total_tokens} tokens)"
                return
            body = self.redactor.redact_json(self.request_body(messages))  # fail closed
            message = await self._stream(client, body)
            usage = getattr(message, "usage", None)
            outcome.input_tokens += int(getattr(usage, "input_tokens", 0) or 0)
            outcome.output_tokens += int(getattr(usage, "output_tokens", 0) or 0)
            blocks = [b for b in (_block_to_param(block) for block in message.content) if b]
            outcome.text += "".join(b["text"] for b in blocks if b["type"] == "text")
            messages.append({"role": "assistant", "content": blocks})
            uses = [b for b in blocks if b["type"] == "tool_use"]
            if not uses:
                if getattr(message, "stop_reason", None) == "max_tokens":
                    outcome.status = "budget"
                    outcome.message = f"{BUDGET_REACHED} ({ai.max_tokens} tokens in one answer)"
                return
            results = []
            for use in uses:
                if use["name"] != PROPOSE_TOOL and outcome.tool_calls >= ai.max_tool_calls:
                    outcome.status = "budget"
                    outcome.message = f"{BUDGET_REACHED} ({ai.max_tool_calls} tool calls)"
                    return
                results.append(await self._answer(use, outcome))
            messages.append({"role": "user", "content": results})

    async def _answer(self, use: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
        name, arguments = str(use["name"]), use.get("input") or {}
        if name == PROPOSE_TOOL:
            return self._propose(use, arguments, outcome)
        tool = self.tools.get(name)
        if tool is None:
            self.sink(
                TOOL_REFUSED,
                {
                    "summary": f"AI asked for unknown tool {name!r} ({_brief(arguments)}): refused",
                    "tool": name,
                    "arguments": arguments,
                },
            )
            known = ", ".join(sorted(self.tools))
            return {
                "type": "tool_result",
                "tool_use_id": use["id"],
                "is_error": True,
                "content": f"unknown tool {name!r}: refused. The only (read-only) tools: {known}.",
            }
        outcome.tool_calls += 1
        self.sink(
            TOOL_CALLED,
            {
                "summary": f"AI called {name}({_brief(arguments)})",
                "tool": name,
                "arguments": arguments,
            },
        )
        result = await asyncio.to_thread(
            tool.call, arguments if isinstance(arguments, dict) else {}
        )
        return {
            "type": "tool_result",
            "tool_use_id": use["id"],
            "is_error": result.is_error,
            "content": self.boundary.wrap(result.text, name),
        }

    def _propose(self, use: dict[str, Any], arguments: Any, outcome: Outcome) -> dict[str, Any]:
        try:
            parsed = ProposeHypotheses.model_validate(arguments)
        except ValidationError as exc:
            return {
                "type": "tool_result",
                "tool_use_id": use["id"],
                "is_error": True,
                "content": f"invalid hypotheses: {exc.errors()[0]['msg']}; send them again",
            }
        for item in parsed.hypotheses:
            hypothesis = from_input(item, "model")
            outcome.hypotheses.append(hypothesis)
            self.sink(PROPOSED, hypothesis.payload())
        return {
            "type": "tool_result",
            "tool_use_id": use["id"],
            "content": f"recorded {len(parsed.hypotheses)} hypotheses, shown as UNVERIFIED",
        }


def describe_api_error(exc: Exception) -> tuple[str, bool]:
    """One line for the panel, and whether the API was unreachable (heuristics take over)."""
    import anthropic

    if isinstance(exc, anthropic.APITimeoutError):
        return "API request timed out: press r to retry", True
    if isinstance(exc, anthropic.APIConnectionError):
        return "API unreachable (connection failed): offline heuristics shown; r retries", True
    if isinstance(exc, anthropic.APIStatusError):
        code = exc.status_code
        kind = _error_type(exc)
        if code < 400:  # an `error` event inside a stream that began with 200
            return f"API stream failed midway ({kind or 'error event'}): press r to retry", False
        if code == 401:
            return "API key rejected (401): check ANTHROPIC_API_KEY, then press r to retry", False
        if code == 429:
            return "rate limited by the API (429): wait, then press r to retry", False
        if code >= 500:
            return f"API error {code}: the service failed; press r to retry", True
        return f"API refused the request ({code} {kind}): press r to retry".replace(
            " )", ")"
        ), False
    import httpx2  # the SDK's transport: errors in the middle of a stream arrive unwrapped

    if isinstance(exc, httpx2.TimeoutException):
        return "API stream timed out midway: press r to retry", True
    if isinstance(exc, httpx2.TransportError):
        return "API connection broke midway: offline heuristics shown; r retries", True
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"AI run failed: {type(exc).__name__}: {first}"[:300], False


def _error_type(exc: Any) -> str:
    """The `error.type` of an API error body (e.g. `overloaded_error`), or ""."""
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    kind = error.get("type") if isinstance(error, dict) else None
    return str(kind)[:60] if kind else ""
