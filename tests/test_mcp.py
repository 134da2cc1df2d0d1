"""`cockpit mcp`: the read-only tool registry over MCP, redacted, protocol-only on stdout.

In-process tests use the official SDK's `Client` against the `MCPServer` we build, on the demo
sandbox (real logs, a real git repo with deploy tags, real deploy histories). One test runs
`python -m cockpit mcp` as a subprocess and speaks raw JSON-RPC over its stdin/stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from cockpit.commands.mcp import build_server, secret_env_names
from cockpit.core.ai.redact import RedactionError, Redactor
from cockpit.core.ai.tools import Tool, registry
from cockpit.core.config import Config, load_config_file
from cockpit.core.demo import build_sandbox
from cockpit.core.store import EventStore

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 28, 14, 31, 17, tzinfo=UTC)
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
BEARER = "c2VjcmV0LXRva2VuLWZvci1wYXltZW50cw"
SECRET_LOG_LINE = (
    '2026-11-28T14:31:05.000Z level=error service=checkout msg="upstream auth failed"'
    f' header="Authorization: Bearer {BEARER}" status=502'
)


@dataclass
class Sandbox:
    config: Config
    incident_id: str
    deploys: list[Any]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    info = build_sandbox(tmp_path_factory.mktemp("sandbox"), now=NOW, log_mb=1.0)
    with (info.directory / "logs" / "checkout" / "checkout.log").open("a") as log:
        log.write(SECRET_LOG_LINE + "\n")
    config = load_config_file(info.config_path)
    with EventStore(config.store_path) as store:
        incident = store.create_incident("checkout 500s", "alice")
        store.append(incident.id, "note.added", {"text": f"leaked key {AWS_KEY} in env"}, "bob")
    return Sandbox(config, incident.id, info.deploys)


def tools_for(sandbox: Sandbox) -> list[Tool]:
    def reader() -> list[Any]:
        with EventStore(sandbox.config.store_path) as store:
            return store.events(sandbox.incident_id)

    return registry(sandbox.config, reader, clock=lambda: NOW)


def text_of(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


async def test_lists_every_registry_tool_annotated_read_only(sandbox: Sandbox) -> None:
    tools = tools_for(sandbox)
    server = build_server(tools, Redactor())
    async with Client(server) as client:
        listed = (await client.list_tools()).tools
    assert [t.name for t in listed] == [t.name for t in tools]
    assert {t.name for t in listed} >= {
        "search_logs",
        "error_patterns",
        "list_deploys",
        "rollback_candidates",
        "show_diff",
        "get_timeline",
    }
    by_name = {t.name: t for t in tools}
    for tool in listed:
        assert tool.annotations is not None, tool.name
        assert tool.annotations.read_only_hint is True, tool.name
        assert tool.annotations.destructive_hint is False, tool.name
        assert tool.annotations.open_world_hint is False, tool.name
        # The agent sees exactly the schema the AI panel's model sees.
        assert tool.input_schema == by_name[tool.name].json_schema()
        assert tool.description == by_name[tool.name].description


def _arguments(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    checkout = [d for d in sandbox.deploys if d.service == "checkout"]
    return {
        "search_logs": {"pattern": "upstream auth failed", "since_minutes": 30},
        "error_patterns": {"since_minutes": 60},
        "list_deploys": {"service": "checkout", "since_hours": 24 * 14},
        "rollback_candidates": {},
        "show_diff": {"service": "checkout", "base": checkout[-2].sha, "head": checkout[-1].sha},
        "get_timeline": {"last": 10},
    }


# What each tool's answer must contain (beyond not being an error).
EXPECTED: dict[str, Callable[[str, Sandbox], bool]] = {
    "search_logs": lambda text, _s: "upstream auth failed" in text,
    "error_patterns": lambda text, _s: "error signatures" in text,
    "list_deploys": lambda text, s: (
        [d for d in s.deploys if d.service == "checkout"][-1].sha[:7] in text
    ),
    "rollback_candidates": lambda text, _s: (
        "text only, not executed" in text or "no error burst found" in text
    ),
    "show_diff": lambda text, _s: "commits" in text,
    "get_timeline": lambda text, _s: "bob: note: leaked key" in text,
}


async def test_calls_each_tool_and_redacts_every_result(sandbox: Sandbox) -> None:
    tools = tools_for(sandbox)
    arguments = _arguments(sandbox)
    assert set(arguments) == {t.name for t in tools}, "a registry tool has no test call"
    server = build_server(tools, Redactor())
    results: dict[str, str] = {}
    async with Client(server) as client:
        for tool in tools:
            result = await client.call_tool(tool.name, arguments[tool.name])
            text = text_of(result)
            assert not result.is_error, f"{tool.name}: {text}"
            assert EXPECTED[tool.name](text, sandbox), f"{tool.name}: {text[:500]}"
            results[tool.name] = text
    everything = "\n".join(results.values())
    assert BEARER not in everything and AWS_KEY not in everything
    assert "[REDACTED:" in results["search_logs"]
    assert "[REDACTED:aws-key:" in results["get_timeline"]


async def test_bad_arguments_are_tool_errors_with_the_registry_text(sandbox: Sandbox) -> None:
    server = build_server(tools_for(sandbox), Redactor())
    async with Client(server) as client:
        missing = await client.call_tool("search_logs", {})
        unknown = await client.call_tool("list_deploys", {"service": "checkout", "rm": "-rf"})
        not_ours = await client.call_tool(
            "show_diff", {"service": "nope", "base": "a", "head": "b"}
        )
    assert missing.is_error and "invalid arguments: pattern" in text_of(missing)
    assert unknown.is_error and "rm" in text_of(unknown)
    assert not_ours.is_error and "'nope' is not configured" in text_of(not_ours)


class BrokenRedactor(Redactor):
    def redact(self, text: str) -> str:
        raise RedactionError("redaction failed (boom): nothing was sent")


async def test_redaction_failure_sends_nothing(sandbox: Sandbox) -> None:
    server = build_server(tools_for(sandbox), BrokenRedactor())
    async with Client(server) as client:
        result = await client.call_tool("get_timeline", {})
    assert result.is_error
    assert text_of(result) == "redaction failed (boom): nothing was sent"


def test_source_tokens_are_secret_names(tmp_path: Path) -> None:
    path = tmp_path / "cockpit.toml"
    path.write_text(
        '[[sources]]\nkind = "loki"\nname = "loki"\nurl = "http://loki:3100"\n'
        'selector = "{app=\\"x\\"}"\ntoken_env = "LOKI_TOKEN"\n'
    )
    assert secret_env_names(load_config_file(path)) == ["LOKI_TOKEN"]


def _rpc(method: str, params: dict[str, Any] | None = None, id: int | None = None) -> bytes:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    if id is not None:
        message["id"] = id
    return (json.dumps(message) + "\n").encode()


def test_stdio_subprocess_speaks_only_json_rpc_on_stdout(sandbox: Sandbox) -> None:
    assert sandbox.config.source_path is not None
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "LOKI_TOKEN": "s3cr3t-loki-token-value"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cockpit",
            "--config",
            str(sandbox.config.source_path),
            "mcp",
            "--incident",
            sandbox.incident_id,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    watchdog = threading.Timer(60, server.kill)  # a hung server fails the test, not the run
    watchdog.start()
    assert server.stdin is not None and server.stdout is not None
    seen: list[dict[str, Any]] = []

    def ask(method: str, params: dict[str, Any], id: int) -> dict[str, Any]:
        server.stdin.write(_rpc(method, params, id))  # type: ignore[union-attr]
        server.stdin.flush()  # type: ignore[union-attr]
        while True:
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line, "the server closed stdout"
            message = json.loads(line)  # every stdout line is JSON ...
            assert message.get("jsonrpc") == "2.0", message  # ... and JSON-RPC
            seen.append(message)
            if message.get("id") == id:
                return dict(message)

    try:
        hello = ask(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "0"},
            },
            1,
        )
        server.stdin.write(_rpc("notifications/initialized"))
        listed = ask("tools/list", {}, 2)["result"]["tools"]
        timeline = ask("tools/call", {"name": "get_timeline", "arguments": {"last": 5}}, 3)
        invalid = ask("tools/call", {"name": "search_logs", "arguments": {}}, 4)
        server.stdin.close()
        rest, errors = server.stdout.read(), server.stderr.read()  # type: ignore[union-attr]
        assert server.wait(timeout=30) == 0, errors.decode()[-2000:]
    finally:
        watchdog.cancel()
        if server.poll() is None:
            server.kill()
            server.wait()
    for line in rest.decode().splitlines():
        assert json.loads(line).get("jsonrpc") == "2.0"
    assert hello["result"]["serverInfo"]["name"] == "cockpit"
    assert {t["name"] for t in listed} >= {"search_logs", "get_timeline", "show_diff"}
    assert all(t["annotations"]["readOnlyHint"] is True for t in listed)
    assert all(t["annotations"]["destructiveHint"] is False for t in listed)
    assert all(t["annotations"]["openWorldHint"] is False for t in listed)
    text = timeline["result"]["content"][0]["text"]
    # The server redacted with the incident's salt: the placeholder is the cockpit's too.
    with EventStore(sandbox.config.store_path) as store:
        salt = store.redaction_salt(sandbox.incident_id)
    placeholder = Redactor({}, salt=salt).placeholder("aws-key", AWS_KEY)
    assert f"bob: note: leaked key {placeholder} in env" in text
    assert invalid["result"]["isError"] is True


async def test_results_are_inert_text_for_the_agents_terminal() -> None:
    """An agent shows tool results in its own terminal UI: a log line's OSC 52, `CSI 2J` or
    bidi override reaches it as visible escapes, never raw; line breaks stay."""
    from cockpit.core.ai.tools import ToolResult

    hostile = "boom \x1b]52;c;cm0gLXJmIC8=\x07\x1b[2J\u202e\x9b31m\nsecond line"

    class Echo:
        name = "search_logs"
        description = "echo"

        def json_schema(self) -> dict[str, Any]:
            return {"type": "object", "properties": {}}

        def call(self, arguments: dict[str, Any]) -> ToolResult:
            return ToolResult(hostile)

    server = build_server([Echo()], Redactor())  # type: ignore[list-item]
    async with Client(server) as client:
        text = text_of(await client.call_tool("search_logs", {}))
    assert "\x1b" not in text and "\u202e" not in text and "\x9b" not in text and "\x07" not in text
    assert "\\x1b]52;c;" in text and "\\u202e" in text and "boom " in text
    assert text.endswith("\nsecond line")
