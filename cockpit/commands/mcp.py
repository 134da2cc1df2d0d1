"""`cockpit mcp`: the AI panel's read-only tools, offered to a coding agent over MCP (stdio).

Built on the official `mcp` SDK (2.x, `MCPServer`). Every tool comes from the same registry
the AI panel uses (`cockpit.core.ai.tools.registry`), is annotated read-only, non-destructive
and closed-world, and every result passes the same redaction before it leaves the process
(fail closed: a result that cannot be redacted is replaced by an error), with the incident's
redaction salt, so placeholders match the cockpit's. The server writes nothing but that salt,
once per incident, when no cockpit has made it yet (a side table: no events, no files). Only
protocol goes to stdout; logs go to stderr.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

    from cockpit.core.ai.redact import Redactor
    from cockpit.core.ai.tools import Tool
    from cockpit.core.config import Config

SERVER_NAME = "cockpit"
INSTRUCTIONS = (
    "Read-only incident tools: search logs, group error patterns, list deploys, rank rollback"
    " targets, show a deploy diff, read the incident timeline. Nothing here runs a command or"
    " changes anything; rollback commands are text for a human. Secrets in results are"
    " replaced by [REDACTED:kind:hex] placeholders; the same placeholder is the same secret."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`--incident`: whose timeline `get_timeline` reads (default: the current open one)."""
    parser.add_argument(
        "--incident",
        metavar="ID",
        help="incident id or unique prefix for get_timeline (default: the current open incident)",
    )


def secret_env_names(config: Config) -> list[str]:
    """Environment variables holding the sources' tokens: redacted wherever they appear."""
    return [name for s in config.sources if (name := getattr(s, "token_env", None))]


def build_server(tools: list[Tool], redactor: Redactor, *, version: str = "") -> MCPServer:
    """An `MCPServer` exposing `tools`, each annotated read-only, with redacted results."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.tools import Tool as ServerTool
    from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata
    from mcp_types import ToolAnnotations

    annotations = ToolAnnotations(
        read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    )
    server_tools = [
        ServerTool(
            fn=_tool_function(tool, redactor),
            name=tool.name,
            title=tool.name.replace("_", " "),
            description=tool.description,
            # The registry's own schema, exactly what the AI panel's model sees.
            parameters=tool.json_schema(),
            # Arguments pass through untouched: the registry's pydantic model validates them,
            # so the agent and the AI panel get the same checks and the same error text.
            fn_metadata=FuncMetadata(arg_model=_passthrough_arguments()),
            is_async=False,
            context_kwarg=None,
            annotations=annotations,
        )
        for tool in tools
    ]
    return MCPServer(
        SERVER_NAME,
        title="Cockpit (read-only)",
        instructions=INSTRUCTIONS,
        version=version,
        tools=server_tools,
        log_level="WARNING",
    )


def _passthrough_arguments() -> type[Any]:
    from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
    from pydantic import ConfigDict

    class PassthroughArguments(ArgModelBase):
        """Keeps every argument as given; validation is the registry's job."""

        model_config = ConfigDict(extra="allow")

        def model_dump_one_level(self) -> dict[str, Any]:
            return dict(self.model_extra or {})

    return PassthroughArguments


def _tool_function(tool: Tool, redactor: Redactor) -> Callable[..., Any]:
    """A sync function the SDK runs in a worker thread: call the tool, redact, make inert
    (an agent shows results in its own terminal: escapes become visible, line breaks stay),
    wrap."""
    from mcp_types import CallToolResult, TextContent

    from cockpit.core.ai.redact import RedactionError
    from cockpit.core.sanitize import visible_stream

    def call(**arguments: Any) -> CallToolResult:
        result = tool.call(arguments)
        try:
            text = visible_stream(redactor.redact(result.text))
        except RedactionError as exc:  # fail closed: nothing unredacted leaves
            return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)
        return CallToolResult(
            content=[TextContent(type="text", text=text)], is_error=result.is_error
        )

    call.__name__ = tool.name
    return call


def run(args: argparse.Namespace) -> int:
    """Serve the tools on stdin/stdout until the client closes the connection."""
    import logging
    import sys

    from cockpit import __version__
    from cockpit.commands._common import config_from_args
    from cockpit.commands._output import emit_error
    from cockpit.core.ai.redact import Redactor
    from cockpit.core.ai.tools import registry
    from cockpit.core.config import ConfigError
    from cockpit.core.store import IncidentStore, StoreError, store_exists
    from cockpit.core.stores import open_store

    # stdout carries JSON-RPC only: every log line goes to stderr.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="cockpit mcp: %(message)s")
    config = config_from_args(args)

    store: IncidentStore | None = None
    incident_id = ""
    store_reader: Callable[[], list[Any]] | None = None
    try:
        target = config.store_target
    except ConfigError as exc:
        emit_error(str(exc))
        return 2
    if store_exists(target):  # never create a store just to serve tools
        try:
            store = open_store(target, mode=config.store_file_mode)
            incident = (
                store.find_incident(args.incident)
                if args.incident
                else store.current_incident(drill=config.cockpit.drill)
            )
        except StoreError as exc:
            emit_error(str(exc))
            return 2
        if args.incident and incident is None:
            emit_error(f"{store.location}: no incident {args.incident!r}")
            return 2
        if incident is not None:
            incident_id = incident.id
            reader_store = store
            store_reader = lambda: reader_store.events(incident.id)  # noqa: E731
    elif args.incident:
        emit_error(f"{target}: no incident store here")
        return 2

    # The incident's salt keeps placeholders the same as the cockpit's on that incident;
    # with no incident, this process's salt makes them stable for this session only.
    try:
        salt = store.redaction_salt(incident_id) if store is not None and incident_id else None
    except StoreError as exc:
        emit_error(str(exc))
        return 2
    redactor = Redactor(extra_secret_names=secret_env_names(config), salt=salt)
    # The tools redact before they cut; build_server redacts each result again (fail closed).
    tools = registry(config, store_reader, redactor=redactor)
    server = build_server(tools, redactor, version=__version__)
    try:
        server.run("stdio")
    finally:
        if store is not None:
            store.close()
    return 0
