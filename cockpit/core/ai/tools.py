"""The read-only tool registry the AI (and `cockpit mcp`) may call.

Each `Tool` has a name, a description, a pydantic input model (its JSON schema is what the
model sees) and `call(arguments) -> ToolResult`. Inputs are validated; services, refs and paths
are checked against allowlists built from the config and the deploy history; every result is
cut to an output budget with a visible `[truncated: N more ...]` marker. Given the session's
redactor, every piece of outside text is redacted before it is cut (`clip`: a key cut in half
no longer matches any rule), and the whole result once more before it leaves the tool.

No tool writes, executes a command built from its input, fetches a URL or changes incident
state: they read logs (through the search engine), deploy histories and git (through the
read-only readers), and the event log (through a read-only `store_reader`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cockpit.core.ai.redact import RedactionError, Redactor
from cockpit.core.config import Config
from cockpit.core.incident import describe
from cockpit.core.search.model import Query
from cockpit.core.store import Event, utc_now

StoreReader = Callable[[], list[Event]]
"""Returns the current incident's events (read-only)."""

DEFAULT_BUDGET = 8000
MAX_SEARCH_LINES = 200
SHA_RE = re.compile(r"^[0-9a-f]{7,40}$")


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns: text for the model, whether it was cut, whether it failed."""

    text: str
    truncated: bool = False
    is_error: bool = False


@dataclass(frozen=True)
class Tool:
    """One read-only tool."""

    name: str
    description: str
    input_model: type[BaseModel]
    call: Callable[[dict[str, Any]], ToolResult]

    def json_schema(self) -> dict[str, Any]:
        """The input schema as the Messages API and MCP expect it."""
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def to_api(self) -> dict[str, Any]:
        """The tool definition for the Messages API `tools` list."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.json_schema(),
        }


class ToolInputError(Exception):
    """Arguments failed validation or an allowlist: the message says which and why."""


CUT_MARKER = " …"
"""Ends a piece of text `clip` shortened."""


def clip(text: str, limit: int, redactor: Redactor | None) -> str:
    """`text` redacted (when a redactor is given) and then cut to about `limit` characters.

    Redaction comes first, so a secret straddling the cut is replaced whole instead of leaving
    a prefix no rule recognises; and a cut never leaves half a word behind (the partial word is
    dropped), so even unredacted text cannot leak the start of a token. Raises RedactionError.
    """
    if redactor is not None:
        text = redactor.redact(text)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    if not text[limit].isspace():
        space = max(cut.rfind(" "), cut.rfind("\t"))
        cut = cut[:space] if space >= 0 else ""
    return cut.rstrip() + CUT_MARKER


def truncate(lines: Sequence[str], budget: int, unit: str = "lines") -> tuple[str, bool]:
    """`lines` joined, cut to `budget` characters with a `[truncated: N more lines]` marker."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            remaining = len(lines) - index
            out.append(f"[truncated: {remaining} more {unit}]")
            return "\n".join(out), True
        out.append(line)
        used += len(line) + 1
    return "\n".join(out), False


# -- inputs ------------------------------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchLogsInput(_Input):
    pattern: str = Field(min_length=1, max_length=200, description="Text (or regex) to find.")
    regex: bool = Field(default=False, description="Treat `pattern` as a regular expression.")
    ignore_case: bool = False
    since_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60, description="Look back this far.")
    services: list[str] | None = Field(default=None, description="Only these services.")
    max_lines: int = Field(default=50, ge=1, le=MAX_SEARCH_LINES)


class ErrorPatternsInput(_Input):
    since_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    services: list[str] | None = None
    max_patterns: int = Field(default=15, ge=1, le=50)


class ListDeploysInput(_Input):
    service: str | None = Field(default=None, description="Only this service.")
    since_hours: int = Field(default=24, ge=1, le=24 * 14)
    max_deploys: int = Field(default=20, ge=1, le=100)


class RollbackCandidatesInput(_Input):
    service: str | None = None


class ShowDiffInput(_Input):
    service: str = Field(description="The service whose repository holds both refs.")
    base: str = Field(description="Older deploy sha (7-40 hex digits) or deploy tag.")
    head: str = Field(description="Newer deploy sha (7-40 hex digits) or deploy tag.")
    path: str | None = Field(
        default=None,
        max_length=300,
        description="One changed file to show in full; omit for the summary.",
    )


class GetTimelineInput(_Input):
    last: int = Field(default=50, ge=1, le=500, description="How many of the newest events.")


# -- the registry ------------------------------------------------------------------------------


class _Context:
    """What the tools share: config, clock, store reader, and the allowlists."""

    def __init__(
        self,
        config: Config,
        store_reader: StoreReader | None,
        clock: Callable[[], datetime],
        budget: int,
        redactor: Redactor | None = None,
    ) -> None:
        self.config = config
        self.store_reader = store_reader
        self.clock = clock
        self.budget = budget
        self.redactor = redactor
        self._deploys: list[Any] | None = None

    def clip(self, text: str, limit: int) -> str:
        """`clip` with this session's redactor."""
        return clip(text, limit, self.redactor)

    @property
    def services(self) -> list[str]:
        names = [s.name for s in self.config.services]
        names += [s.service for s in self.config.sources if s.service]
        return sorted(set(names))

    def check_services(self, services: Sequence[str] | None) -> frozenset[str] | None:
        if services is None:
            return None
        allowed = set(self.services)
        for service in services:
            if service not in allowed:
                names = ", ".join(sorted(allowed)) or "none"
                raise ToolInputError(f"service {service!r} is not configured (allowed: {names})")
        return frozenset(services)

    def deploys(self) -> list[Any]:
        if self._deploys is None:
            from cockpit.core.deploys import list_deploys

            self._deploys = list_deploys(
                self.config, since=self.clock() - timedelta(days=14)
            ).deploys
        return self._deploys

    def check_ref(self, service: str, ref: str) -> str:
        """A ref is allowed only if it names a known deploy of `service` (sha prefix or tag)."""
        if ref.startswith("-") or len(ref) > 200:
            raise ToolInputError(f"ref {ref!r} is not allowed")
        for deploy in self.deploys():
            if deploy.service != service:
                continue
            if SHA_RE.match(ref) and deploy.sha and deploy.sha.startswith(ref):
                return deploy.sha
            if deploy.ref and ref == deploy.ref and deploy.sha:
                return deploy.sha
        raise ToolInputError(
            f"ref {ref!r} is not a known deploy of {service} (use a sha or tag from list_deploys)"
        )


def registry(
    config: Config,
    store_reader: StoreReader | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    budget: int | None = None,
    redactor: Redactor | None = None,
) -> list[Tool]:
    """The read-only tools over this config. `store_reader` returns the incident's events.

    With `redactor` (the AI session's or MCP's), outside text is redacted before any cut and
    every result is redacted before it is returned; if redaction fails the result is withheld.
    """
    ctx = _Context(config, store_reader, clock, budget or config.ai.tool_output_chars, redactor)
    specs: list[tuple[str, str, type[_Input], Callable[[Any, _Context], ToolResult]]] = [
        (
            "search_logs",
            "Search every configured log source in parallel for a literal or regex; returns "
            "the newest matching lines with source, service and time, and the exact total.",
            SearchLogsInput,
            _search_logs,
        ),
        (
            "error_patterns",
            "Group the error lines (5xx) of the window into normalised signatures with counts, "
            "first/last seen time and services; signatures new in the window are marked NEW.",
            ErrorPatternsInput,
            _error_patterns,
        ),
        (
            "list_deploys",
            "Recent deploys (service, time UTC, sha, version, revision, actor), newest first.",
            ListDeploysInput,
            _list_deploys,
        ),
        (
            "rollback_candidates",
            "Error bursts per service and the ranked rollback targets with their score parts "
            "and the filled rollback command (text only: nothing is run).",
            RollbackCandidatesInput,
            _rollback_candidates,
        ),
        (
            "show_diff",
            "What changed between two deploys of a service: commits, files and shortstat, or "
            "the diff of one changed file.",
            ShowDiffInput,
            _show_diff,
        ),
        (
            "get_timeline",
            "The incident timeline (notes, pins, decisions, copied commands), newest last.",
            GetTimelineInput,
            _get_timeline,
        ),
    ]
    return [
        Tool(name, description, model, _bind(model, handler, ctx))
        for name, description, model, handler in specs
    ]


def _bind(
    model: type[_Input], handler: Callable[[Any, _Context], ToolResult], ctx: _Context
) -> Callable[[dict[str, Any]], ToolResult]:
    def call(arguments: dict[str, Any]) -> ToolResult:
        try:
            parsed = model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()
            )
            return ToolResult(f"invalid arguments: {problems}", is_error=True)
        try:
            result = handler(parsed, ctx)
            if ctx.redactor is not None:
                result = ToolResult(
                    ctx.redactor.redact(result.text), result.truncated, result.is_error
                )
            return result
        except RedactionError as exc:  # fail closed: nothing unredacted leaves the tool
            return ToolResult(f"result withheld: {exc}", is_error=True)
        except ToolInputError as exc:
            return ToolResult(str(exc), is_error=True)
        except Exception as exc:  # a failing reader is an error result, never a crash
            first = str(exc).splitlines()[0] if str(exc) else ""
            return ToolResult(f"tool failed: {type(exc).__name__}: {first}", is_error=True)

    return call


def _without_long_line_marker(text: str) -> str:
    """A hit the search engine cut at 8 KB ends in a marker after a partial word: drop that
    word too, so a token cut there cannot leak its start."""
    from cockpit.core.search.files import LONG_LINE_MARKER

    if not text.endswith(LONG_LINE_MARKER):
        return text
    body = text[: -len(LONG_LINE_MARKER)]
    space = body.rfind(" ")
    return (body[:space] if space >= 0 else "") + LONG_LINE_MARKER


def _fmt_time(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else "-"


def _search_logs(args: SearchLogsInput, ctx: _Context) -> ToolResult:
    from cockpit.core.search.engine import make_sources, run_search

    services = ctx.check_services(args.services)
    now = ctx.clock()
    query = Query(
        args.pattern,
        regex=args.regex,
        ignore_case=args.ignore_case,
        since=now - timedelta(minutes=args.since_minutes),
        until=now + timedelta(minutes=1),
        services=services,
    )
    try:
        result = run_search(make_sources(ctx.config), query, max_hits=args.max_lines)
    except Exception as exc:
        raise ToolInputError(
            f"search failed: {str(exc).splitlines()[0] if str(exc) else exc}"
        ) from None
    lines = [f"{result.total} matching lines (showing the newest {len(result.hits)})"]
    lines += [f"error: {error}" for error in result.errors]
    for hit in reversed(result.hits):
        # Redacted before the cut (a key straddling character 600 is replaced whole).
        text = _without_long_line_marker(hit.text)
        lines.append(f"{_fmt_time(hit.ts)} {hit.service or hit.source}: {ctx.clip(text, 600)}")
    text, cut = truncate(lines, ctx.budget)
    return ToolResult(text, cut)


def _error_patterns(args: ErrorPatternsInput, ctx: _Context) -> ToolResult:
    from cockpit.core.ai.evidence import collect_errors

    services = ctx.check_services(args.services)
    now = ctx.clock()
    recent = now - timedelta(minutes=args.since_minutes)
    errors = collect_errors(
        ctx.config, since=recent - timedelta(hours=6), until=now + timedelta(minutes=1)
    )
    shown = [
        s
        for s in errors.signatures
        if s.last_seen is not None
        and s.last_seen >= recent
        and (services is None or any(name in services for name in s.services))
    ]
    lines = [
        f"{len(shown)} error signatures seen in the last {args.since_minutes} min (6 h baseline)"
    ]
    lines += [f"error: {error}" for error in errors.errors]
    for signature in shown[: args.max_patterns]:
        new = " NEW" if signature.first_seen and signature.first_seen >= recent else ""
        where = ", ".join(f"{s}={n}" for s, n in signature.services.most_common())
        lines.append(
            f"{signature.count}x{new} first {_fmt_time(signature.first_seen)} last "
            f"{_fmt_time(signature.last_seen)} [{where}] {signature.template}"
        )
        lines.append(f"   example: {ctx.clip(signature.example.text, 300)}")
    if len(shown) > args.max_patterns:
        lines.append(f"[truncated: {len(shown) - args.max_patterns} more signatures]")
    text, cut = truncate(lines, ctx.budget)
    return ToolResult(text, cut or len(shown) > args.max_patterns)


def _list_deploys(args: ListDeploysInput, ctx: _Context) -> ToolResult:
    if args.service is not None:
        ctx.check_services([args.service])
    since = ctx.clock() - timedelta(hours=args.since_hours)
    deploys = [
        d
        for d in ctx.deploys()
        if d.time >= since
        and d.time <= ctx.clock()
        and (args.service is None or d.service == args.service)
    ]
    lines = [f"{len(deploys)} deploys in the last {args.since_hours} h, newest first"]
    for deploy in deploys[: args.max_deploys]:
        lines.append(
            f"{_fmt_time(deploy.time)} {deploy.service} sha={deploy.sha or '-'} "
            f"version={deploy.version or '-'} revision={deploy.revision or '-'} "
            f"actor={deploy.actor or '-'} tag={deploy.ref or '-'} "
            f"subject={ctx.clip(deploy.subject or '', 120)}"
        )
    if len(deploys) > args.max_deploys:
        lines.append(f"[truncated: {len(deploys) - args.max_deploys} more deploys]")
    text, cut = truncate(lines, ctx.budget)
    return ToolResult(text, cut or len(deploys) > args.max_deploys)


def _rollback_candidates(args: RollbackCandidatesInput, ctx: _Context) -> ToolResult:
    from cockpit.core.deploys import analyse_rollback

    if args.service is not None:
        ctx.check_services([args.service])
    _listing, report = analyse_rollback(ctx.config, now=ctx.clock(), service=args.service)
    lines: list[str] = []
    for analysis in report.analyses:
        lines.append(f"{analysis.service}: {analysis.summary}")
        for rank, candidate in enumerate(analysis.candidates, start=1):
            target = candidate.target
            lines.append(
                f"  {rank}. roll back {candidate.service} to "
                f"{target.label if target else '(none)'} (undoes {candidate.suspect.label}) "
                f"score {candidate.score:.2f} [{candidate.parts.describe()}]"
                + ("" if candidate.correlated else " weak: not correlated")
            )
            for command in candidate.commands:
                lines.append(f"     {command.label} (text only, not executed): {command.text}")
    if not report.analyses:
        lines.append("no error burst found: " + (", ".join(report.healthy_services) or "no data"))
    lines += [f"note: {note}" for note in report.notes]
    lines += [f"error: {error}" for error in report.errors]
    text, cut = truncate(lines, ctx.budget)
    return ToolResult(text, cut)


def _show_diff(args: ShowDiffInput, ctx: _Context) -> ToolResult:
    from cockpit.core.deploys.git_source import GitRepo, file_diff, suspect_diff

    ctx.check_services([args.service])
    service = next((s for s in ctx.config.services if s.name == args.service), None)
    if service is None or service.deploys.repo is None:
        raise ToolInputError(f"service {args.service!r} has no git repository configured")
    base = ctx.check_ref(args.service, args.base)
    head = ctx.check_ref(args.service, args.head)
    repo = GitRepo(ctx.config.resolve(service.deploys.repo), what=args.service)
    summary = suspect_diff(repo, base, head)
    if args.path is None:
        lines = [
            f"{summary.commit_count} commits {base[:7]}..{head[:7]}; {summary.shortstat}",
            *(
                f"commit {c.sha[:7]} {_fmt_time(c.time)} {c.author}: {c.subject}"
                for c in summary.commits
            ),
            *(f"file {status} {path}" for status, path in summary.files),
            *(f"note: {note}" for note in summary.notes),
        ]
        text, cut = truncate(lines, ctx.budget)
        return ToolResult(text, cut)
    known = {path for _status, path in summary.files}
    known |= {path.split(" -> ", 1)[1] for path in known if " -> " in path}
    if args.path not in known:
        raise ToolInputError(
            f"path {args.path!r} is not among the files changed in {base[:7]}..{head[:7]}"
        )
    lines, note = file_diff(repo, base, head, args.path)
    text, cut = truncate([*lines, *([f"note: {note}"] if note else [])], ctx.budget)
    return ToolResult(text, cut or note is not None)


def _get_timeline(args: GetTimelineInput, ctx: _Context) -> ToolResult:
    if ctx.store_reader is None:
        return ToolResult("no incident timeline is open", is_error=True)
    events = ctx.store_reader()
    shown = events[-args.last :]
    lines = [f"{len(events)} events (showing the newest {len(shown)})"]
    lines += [f"{_fmt_time(e.ts)} {e.author}: {ctx.clip(describe(e), 400)}" for e in shown]
    text, cut = truncate(lines, ctx.budget)
    return ToolResult(text, cut)
