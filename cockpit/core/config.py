"""The cockpit's configuration: one typed model, loaded from TOML in a fixed search order.

Search order (first found wins): `--config FILE`, `$COCKPIT_CONFIG`, `./cockpit.toml`, then
`$XDG_CONFIG_HOME/cockpit/cockpit.toml`. Relative paths inside a config file are resolved
against the folder that holds that file, so a sandbox or a repo can carry its own config.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from cockpit.core.config_file import (
    CONFIG_ENV_VAR,
    CONFIG_FILE_NAME,
    LOADER_ONLY_KEYS,
    STORE_ENV_VAR,
    CheckedConfig,
    ConfigError,
    StartSettings,
    StoreSettings,
    TomlPath,
    check_found_config_is_yours,
    default_author,
    find_config_file,
    found_in_cwd,
    line_of,
    locate_config,
    parse_config_text,
    read_config_text,
    remember_checked,
    store_setting,
    xdg_config_file,
)
from cockpit.core.store_target import PgTarget, StoreURL

__all__ = [
    "CONFIG_ENV_VAR",
    "CONFIG_FILE_NAME",
    "STORE_ENV_VAR",
    "Config",
    "ConfigError",
    "StoreSettings",
    "check_found_config_is_yours",
    "default_author",
    "find_config_file",
    "load_config",
    "load_config_file",
    "xdg_config_file",
]


class _Model(BaseModel):
    # Strict: TOML has real types, so `drill = "yes"` or `timeout = "5"` is a mistake to report,
    # not a value to coerce. Paths are the exception: TOML writes them as strings.
    # A validator whose verdict depends on the host rather than on the value alone (a program
    # found on PATH, the home folder) calls `_consults_host(info)`: see config_file.py.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_HOST_CONSULTED = "host-consulted"
"""Key set in the validation context when a validator's verdict depended on the host."""


def _consults_host(info: ValidationInfo) -> None:
    """Mark this validation as depending on the host: its verdict is never remembered."""
    if isinstance(info.context, dict):
        info.context[_HOST_CONSULTED] = True


ConfigPath = Annotated[Path, Strict(False)]
"""A path written as a TOML string."""


StoreSetting = Annotated[Path | StoreURL, PlainValidator(store_setting), PlainSerializer(str)]
"""`[cockpit] store`: a path (SQLite) or a password-free `postgresql://` URL."""


class CockpitSection(_Model):
    """General settings."""

    author: str | None = None
    """Name recorded on every event; defaults to user@host."""
    store: StoreSetting | None = None
    """Where incidents are kept: a path to an SQLite file (one host; default: the XDG data
    dir, or $COCKPIT_STORE), or `postgresql://user@host:5432/db` for a team's server (pairing
    across machines). The URL never carries a password."""
    runbook: ConfigPath | None = None
    """Markdown runbook with one `## Phase` heading per phase; defaults to the shipped one."""
    drill: bool = False
    """Marks every incident opened with this config as a drill, kept apart from real ones."""
    store_mode: Literal["0600", "0660"] | None = None
    """Mode of the store file (and its -wal/-shm): "0660" shares it with the folder's group,
    for pairing across Unix users (put it in a setgid, group-writable folder); "0600" makes
    it owner-only. Unset: new stores are 0600 and an existing 0660 store stays shared."""
    refresh_seconds: float = Field(default=60.0, ge=0)
    """How often the Deploys pane reads deploys and health again on its own; 0: only on `r`."""
    trusted_binaries: list[ConfigPath] = []
    """Absolute paths of reader programs (helm, kubectl, argocd, journalctl, git, rg) that may
    run from where they are although PATH does not find them there. Every other program is
    found through PATH only; a relative path (`./helm`) is always refused."""

    @field_validator("trusted_binaries")
    @classmethod
    def _absolute_reader_paths(cls, paths: list[Path], info: ValidationInfo) -> list[Path]:
        from cockpit.core.readers import READ_ONLY_SUBCOMMANDS

        if any(str(path).startswith("~") for path in paths):
            _consults_host(info)  # `~` means this user's home: another host, another verdict
        paths = [path.expanduser() for path in paths]
        for path in paths:
            if not path.is_absolute():
                raise ValueError(f"{str(path)!r}: expected an absolute path to a reader program")
            if path.name not in READ_ONLY_SUBCOMMANDS:
                names = ", ".join(sorted(READ_ONLY_SUBCOMMANDS))
                raise ValueError(f"{str(path)!r}: not a reader program (expected one of {names})")
        return paths

    password_env: str | None = None
    """With a PostgreSQL store: the environment variable holding the password (else libpq's
    PGPASSWORD or ~/.pgpass). Its name, never the password itself."""
    store_outbox: ConfigPath | None = None
    """With a PostgreSQL store: the local SQLite file that keeps writes made while the server
    is unreachable (default: one file per server in the XDG data dir)."""


class FileSource(_Model):
    """Log files on this host: plain text or JSON lines, rotated and gzipped files included."""

    kind: Literal["files"] = "files"
    name: str
    """Unique source name, shown in the search pane and used by `--source`."""
    service: str | None = None
    """The service these logs belong to."""
    paths: list[str]
    """Globs, relative to the config file's folder unless absolute (e.g. `logs/api*.log*`)."""
    format: Literal["text", "docker", "cri"] = "text"
    """How each line is written: "text" (plain text or JSON lines, searched as they are),
    "docker" (Docker's json-file driver: each line a JSON envelope whose `log` text and `time`
    are searched) or "cri" (Kubernetes node logs: `time stream P|F text`, partial lines
    joined)."""


class JournaldSource(_Model):
    """The systemd journal, read with `journalctl --output=json` (read-only)."""

    kind: Literal["journald"]
    name: str
    service: str | None = None
    units: list[str] = []
    """systemd units to filter on (`-u UNIT`); empty means the whole journal."""
    directory: ConfigPath | None = None
    """Read a journal directory instead of the system journal (`--directory`)."""
    timeout: float = 5.0
    """Deadline in seconds for one search."""


class LokiSource(_Model):
    """Grafana Loki through `/loki/api/v1/query_range`."""

    kind: Literal["loki"]
    name: str
    service: str | None = None
    url: str
    """Base URL, e.g. `http://loki:3100`."""
    selector: str
    """LogQL stream selector, e.g. `{app="checkout"}`."""
    org_id: str | None = None
    """Sent as `X-Scope-OrgID` for multi-tenant Loki."""
    token_env: str | None = None
    """Name of the environment variable that holds a bearer token."""
    timeout: float = 5.0
    """Deadline in seconds for one search, all pages included."""
    page_limit: int = 1000
    """Lines requested per page."""


class ElasticsearchSource(_Model):
    """Elasticsearch or OpenSearch through `_search` with `search_after` paging."""

    kind: Literal["elasticsearch"]
    name: str
    service: str | None = None
    url: str
    index: str = "logs-*"
    """Index pattern to search."""
    time_field: str = "@timestamp"
    message_field: str = "message"
    service_field: str | None = None
    """Field that names the service, for the service filter."""
    token_env: str | None = None
    """Name of the environment variable that holds a bearer (or ApiKey) token."""
    timeout: float = 5.0
    page_size: int = 1000


LogSource = Annotated[
    FileSource | JournaldSource | LokiSource | ElasticsearchSource, Field(discriminator="kind")
]


class DeploySource(_Model):
    """Where one service's deploy history comes from."""

    repo: ConfigPath | None = None
    """Git repository holding deploy tags or a deploy branch."""
    tag_pattern: str | None = None
    """Glob for deploy tags, e.g. `deploy/checkout/*`."""
    branch: str | None = None
    """Deploy branch whose first-parent commits are the deploys."""
    deploy_log: ConfigPath | None = None
    """A deploy log in JSON lines or CSV (time, service, sha, version, actor, status)."""
    history_file: ConfigPath | None = None
    """Exported history: `helm history -o json`, `kubectl rollout history` or
    `argocd app history` output."""
    history_format: Literal["helm", "kubectl", "argocd"] | None = None
    history_command: list[str] | None = None
    """A read-only command whose output is the history, as an argument list (never a shell)."""


ROLLBACK_PLACEHOLDERS = frozenset(
    {
        "service",
        "sha",
        "short_sha",
        "revision",
        "version",
        "bad_sha",
        "bad_short_sha",
        "revert_range",
    }
)
"""The placeholders a rollback template may use (what the rollback filler knows)."""


def _known_placeholders(known: frozenset[str]) -> str:
    return " ".join(f"{{{name}}}" for name in sorted(known))


def _check_format_placeholders(template: str, known: frozenset[str]) -> None:
    """Raise ValueError (one line) for a `str.format`-style template with an unknown or
    malformed placeholder; `{{` and `}}` are literal braces."""
    try:
        fields = [name for _text, name, _spec, _conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ValueError(
            f"malformed template ({exc}); placeholders are {_known_placeholders(known)}, "
            "literal braces are written {{ and }}"
        ) from None
    for name in fields:
        if name is not None and name not in known:
            raise ValueError(
                f"unknown placeholder {{{name}}}; expected one of {_known_placeholders(known)}"
            )


def _check_rollback_template(template: str) -> None:
    """Raise ValueError (one line) for a rollback template with an unknown placeholder."""
    try:
        _check_format_placeholders(template, ROLLBACK_PLACEHOLDERS)
    except ValueError as exc:
        if not str(exc).startswith("unknown placeholder"):
            raise  # malformed: the message already says how braces are written
        # `{"spec": 1}` (a JSON patch) is meant literally, not a misspelt placeholder: say how.
        names = [name for _text, name, _spec, _conv in string.Formatter().parse(template)]
        if all(name is None or name.isidentifier() for name in names):
            raise
        raise ValueError(f"{exc}; literal braces are written {{{{ and }}}}") from None


RESERVED_ROLLBACK_LABELS = frozenset({"rollback", "dry run", "git revert"})
"""Labels of the built-in templates; a custom command may not take one (their keys copy by it)."""
CUSTOM_LABEL_MAX = 60


class CustomRollbackCommand(_Model):
    """One named extra command of a service (a traffic shift, a feature flag, a kill switch),
    filled like the rollback templates and offered for copy beside them; never executed."""

    label: str
    """What it does, in a few words: shown beside it and recorded when it is copied."""
    command: str
    """The template; the same placeholders as `command` and `revert`."""
    prod_changing: bool = True
    """Flag it PROD-CHANGING (the default); false only for a command that changes nothing."""
    dry_run: str | None = None
    """Its dry-run variant, if the tool has one."""

    @field_validator("label")
    @classmethod
    def _one_short_line(cls, label: str) -> str:
        label = label.strip()
        if not label or len(label) > CUSTOM_LABEL_MAX or not label.isprintable():
            raise ValueError(
                f"expected a label of 1 to {CUSTOM_LABEL_MAX} visible characters on one line"
            )
        if label.lower() in RESERVED_ROLLBACK_LABELS:
            raise ValueError(
                f"{label!r} names a built-in template; pick another label "
                f"(taken: {', '.join(sorted(RESERVED_ROLLBACK_LABELS))})"
            )
        return label

    @field_validator("command", "dry_run")
    @classmethod
    def _known_placeholders_only(cls, template: str | None) -> str | None:
        if template is not None:
            _check_rollback_template(template)
        return template


class RollbackTemplates(_Model):
    """Rollback command templates.

    Placeholders: {service} {sha} {short_sha} {revision} {version}.
    """

    command: str | None = None
    """The rollback command a human runs, e.g.
    `kubectl rollout undo deploy/{service} --to-revision={revision}`."""
    dry_run: str | None = None
    """Its dry-run variant, offered beside it when the tool supports one."""
    revert: str | None = None
    """Git revert plus the team's deploy command, e.g.
    `git revert --no-edit {revert_range} && make deploy SERVICE={service}`; also accepts
    {bad_sha} {bad_short_sha} (the suspect deploy) and {revert_range} (`target..bad`)."""
    custom: list[CustomRollbackCommand] = []
    """Named extra commands (`[[services.rollback.custom]]`), each offered for copy."""

    @field_validator("command", "dry_run", "revert")
    @classmethod
    def _known_placeholders_only(cls, template: str | None) -> str | None:
        # Checked at load, so a typo is a config error, not a failure in the middle of a rollback.
        if template is not None:
            _check_rollback_template(template)
        return template

    @field_validator("custom")
    @classmethod
    def _distinct_labels(cls, custom: list[CustomRollbackCommand]) -> list[CustomRollbackCommand]:
        # The label is how a human picks and the timeline names a copy: two alike are ambiguous.
        seen: dict[str, int] = {}
        for index, item in enumerate(custom):
            first = seen.setdefault(item.label.lower(), index)
            if first != index:
                raise ValueError(
                    f"custom[{index}].label {item.label!r} repeats custom[{first}].label; "
                    "each custom command needs its own label"
                )
        return custom


def _check_health_regex(pattern: str | None, info: ValidationInfo) -> str | None:
    """The check the health reader's search runs (rg's own), but at load, naming the key. The
    rg found on PATH (or RE2 without it) decides, so the verdict belongs to this host."""
    if pattern is None:
        return None
    _consults_host(info)
    from cockpit.core.search.matcher import PatternError, validate
    from cockpit.core.search.model import Query

    try:
        validate(Query(pattern, regex=True))
    except PatternError as exc:
        raise ValueError(str(exc)) from None
    return pattern


def _check_label_regex(pattern: str | None, info: ValidationInfo) -> str | None:
    """A version or upstream regex: valid RE2 with a capture group (the label)."""
    if pattern is None:
        return None
    _check_health_regex(pattern, info)
    import re2

    if re2.compile(pattern).groups == 0:
        raise ValueError("expected a capture group around the label, e.g. 'version=(\\S+)'")
    return pattern


class LabelFields(_Model):
    """Where log lines name the version that served them and the service they called."""

    version_field: str | None = None
    """JSON key (dotted for nested or ECS keys: `service.version`) or logfmt key whose value
    names the version, pod or canary track that served a request line; the health of a
    deploy is then split by it (a canary's own error ratio, beside the rest)."""
    version_pattern: str | None = None
    """And/or a regex whose first group (or the group named `version`) is that label (tried
    first; the field where it finds nothing), e.g.
    `upstream_addr=(\\S+)` (nginx: the pod) or ` be_\\w+/(\\S+) ` (HAProxy: the server)."""
    upstream_field: str | None = None
    """JSON or logfmt key naming the service a request went to (`upstream_cluster`)."""
    upstream_pattern: str | None = None
    """And/or a regex whose first group (or group `upstream`) names it (tried first), e.g.
    `proxy_host=(\\S+)` (nginx), `outbound\\|\\d+\\|\\|([\\w.-]+)` (Envoy/Istio):
    caller -> callee pairs are learned from it."""

    @field_validator("version_pattern", "upstream_pattern")
    @classmethod
    def _label_regex(cls, pattern: str | None, info: ValidationInfo) -> str | None:
        return _check_label_regex(pattern, info)

    @field_validator("version_field", "upstream_field")
    @classmethod
    def _field_name(cls, name: str | None) -> str | None:
        if name is not None and (not name.strip() or not name.isprintable() or " " in name):
            raise ValueError("expected a key name such as 'version' or 'service.version'")
        return name


class ServiceHealth(LabelFields):
    """Per-service health patterns (`[services.health]`), for services whose logs differ;
    unset keys come from `[health]`."""

    request_pattern: str | None = None
    """Regex marking one of this service's log lines as a request."""
    error_pattern: str | None = None
    """Regex marking one of this service's request lines as failed."""

    @field_validator("request_pattern", "error_pattern")
    @classmethod
    def _valid_regex(cls, pattern: str | None, info: ValidationInfo) -> str | None:
        return _check_health_regex(pattern, info)


class ServiceConfig(_Model):
    """One service: where its deploys come from and how it is rolled back."""

    name: str
    paths: list[str] = []
    """The repository paths that belong to this service (git pathspecs relative to the repo
    root, such as `services/checkout/` or `libs/payments-client/*.py`). When set, the suspect
    diff lists only the commits and files that touch them (`f` shows the whole range)."""
    deploys: DeploySource = DeploySource()
    rollback: RollbackTemplates = RollbackTemplates()
    depends_on: list[str] = []
    """Services this one calls: a deploy of one of them is a suspect when this one fails."""
    health: ServiceHealth = ServiceHealth()
    """This service's own health patterns and label fields, over `[health]`'s."""

    @field_validator("paths")
    @classmethod
    def _repository_paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not path.strip() or not path.isprintable():
                raise ValueError(f"{path!r}: expected a path on one line, not empty")
            if path.startswith(("/", ":", "-")) or ".." in path.split("/"):
                raise ValueError(
                    f"{path!r}: expected a path inside the repository, relative to its root"
                    " (no leading '/', ':' or '-', no '..')"
                )
        return paths


PROMQL_PLACEHOLDERS = frozenset({"service"})
"""The placeholders a PromQL template may use."""
_PROMQL_WORD_IN_BRACES = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
"""`{word}`: never valid PromQL (a matcher needs an operator), so it is meant as a placeholder."""


def promql_escaped(template: str) -> bool:
    """True for a template written with doubled literal braces (`{{service="{service}"}}`);
    otherwise PromQL's braces are written as they are and only `{service}` is replaced."""
    return "{{" in template or "}}" in template


def check_promql_template(template: str) -> None:
    """Raise ValueError (one line) when a PromQL template names an unknown placeholder."""
    if promql_escaped(template):
        try:
            _check_format_placeholders(template, PROMQL_PLACEHOLDERS)
        except ValueError as exc:
            raise ValueError(
                f"{exc} (this template doubles some braces, so all literal braces must be "
                "doubled; or write every PromQL brace single)"
            ) from None
        return
    for match in _PROMQL_WORD_IN_BRACES.finditer(template):
        if match[1] not in PROMQL_PLACEHOLDERS:
            raise ValueError(
                f"unknown placeholder {{{match[1]}}}; "
                f"expected {_known_placeholders(PROMQL_PLACEHOLDERS)}"
            )


class PrometheusConfig(_Model):
    """Prometheus, for per-service health."""

    url: str
    error_ratio_query: str = (
        'sum(rate(http_requests_total{{service="{service}",code=~"5.."}}[5m]))'
        ' / sum(rate(http_requests_total{{service="{service}"}}[5m]))'
    )
    """PromQL for the error ratio; `{service}` is replaced by the service name."""
    latency_p95_query: str = (
        "histogram_quantile(0.95, sum by (le) "
        '(rate(http_request_duration_seconds_bucket{{service="{service}"}}[5m])))'
    )
    """PromQL for p95 latency in seconds."""
    timeout: float = 5.0
    max_points: int = 10_000
    """Upper bound on points per series; the step grows to stay under it."""

    @field_validator("error_ratio_query", "latency_p95_query")
    @classmethod
    def _known_promql_placeholders(cls, template: str) -> str:
        check_promql_template(template)
        return template


_WEEK_MINUTES = 7 * 24 * 60
_DAY_SECONDS = 24 * 60 * 60


class HealthConfig(LabelFields):
    """How a service's health is read and a deploy judged healthy or unhealthy."""

    window_minutes: int = 10
    """Minutes compared before and after each deploy."""
    error_ratio_threshold: float = Field(default=0.005, ge=0, le=1)
    """Effect floor: a rise is a burst only if its error ratio reaches this (or, where lines
    carry a version, one version's does). Significance decides the rest; the floors matter at
    high traffic, where almost any change is significant."""
    error_ratio_jump: float = Field(default=2.0, ge=1)
    """Effect floor: ...and at least this many times the service's usual error ratio."""
    request_pattern: str = r'(?:\bstatus=|"status":)\d{3}\b|" \d{3} \d+ "'
    """Regex that marks a log line as one request when health comes from logs (the denominator
    of the per-minute error ratio). The default matches `status=200` (logfmt, key=value),
    `"status":200` (JSON lines) and `" 200 512 "` after the request in nginx access logs."""
    error_pattern: str = r'(?:\bstatus=|"status":)5\d\d\b|" 5\d\d \d+ "'
    """Regex that marks a log line as a failed (5xx) request when health comes from logs; it
    should match a subset of `request_pattern`, so the ratio stays within 0..1."""
    clock_skew_seconds: int = 120
    """Tolerated clock skew between deploy sources and logs."""
    correlation_minutes: int = 30
    """A deploy up to this many minutes before an error burst's onset may have caused it."""

    @field_validator("window_minutes", "correlation_minutes")
    @classmethod
    def _minutes_in_range(cls, minutes: int) -> int:
        # Beyond a week is a typo, and a huge number would overflow the date arithmetic.
        if not 1 <= minutes <= _WEEK_MINUTES:
            raise ValueError(f"expected 1 to {_WEEK_MINUTES} minutes (a week), got {minutes}")
        return minutes

    @field_validator("clock_skew_seconds")
    @classmethod
    def _skew_in_range(cls, seconds: int) -> int:
        if not 0 <= seconds <= _DAY_SECONDS:
            raise ValueError(f"expected 0 to {_DAY_SECONDS} seconds (a day), got {seconds}")
        return seconds

    @field_validator("request_pattern", "error_pattern")
    @classmethod
    def _valid_regex(cls, pattern: str, info: ValidationInfo) -> str:
        _check_health_regex(pattern, info)
        return pattern


class AIConfig(_Model):
    """The hypothesis model. The key comes only from `ANTHROPIC_API_KEY` and is never stored."""

    model: str = "claude-sonnet-5-5"
    max_tool_calls: int = 12
    deadline_seconds: float = 90.0
    max_tokens: int = 4096
    skills: list[ConfigPath] = []
    """Markdown triage skill files with the team's own prompts."""
    request_timeout_seconds: float = 30.0
    """Per-request HTTP timeout given to the SDK (its own default is 600 s); the overall
    `deadline_seconds` is enforced separately by the cockpit."""
    max_total_tokens: int = 150_000
    """Cap on input plus output tokens over one AI run; reaching it stops the run."""
    tool_output_chars: int = 8000
    """Output budget of one tool call, in characters; anything cut is marked truncated."""


class AlertmanagerConfig(_Model):
    """One Alertmanager (`[[alertmanagers]]`); list both of an HA pair: alerts merge by
    fingerprint. Only `GET /api/v2/alerts` is read: active, silenced and inhibited alerts."""

    url: str
    """Base URL, e.g. `http://alertmanager:9093`."""
    name: str | None = None
    """Shown in status rows and errors; defaults to the URL's host and port."""
    token_env: str | None = None
    """Name of the environment variable that holds a bearer token."""
    service_label: str = "service"
    """The alert label that names the service; `job`, then `app`, are tried after it."""
    timeout: float = Field(default=3.0, gt=0, le=60)
    """Deadline in seconds for one read."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {url!r}")
        return url.rstrip("/")


class CommsConfig(_Model):
    """Customer comms drafting."""

    cadence_minutes: int = 30
    """Minutes between status updates until Monitoring."""
    internal_domains: list[str] = []
    """Domains that are internal and must not appear in customer comms."""


class Config(_Model):
    """The whole configuration."""

    cockpit: CockpitSection = CockpitSection()
    services: list[ServiceConfig] = []
    sources: list[LogSource] = []
    prometheus: PrometheusConfig | None = None
    alertmanagers: list[AlertmanagerConfig] = []
    """Alertmanagers whose alerts the cockpit shows (`[[alertmanagers]]`)."""
    health: HealthConfig = HealthConfig()
    ai: AIConfig = AIConfig()
    comms: CommsConfig = CommsConfig()
    keymap: dict[str, str] = {}
    """Binding id to keys, e.g. `"add-note" = "n"`: remaps the TUI's keys."""

    source_path: ConfigPath | None = None
    """The file this config was loaded from (set by the loader, not a config key)."""

    @field_validator("services")
    @classmethod
    def _known_dependencies(cls, services: list[ServiceConfig]) -> list[ServiceConfig]:
        names = [s.name for s in services]
        for index, service in enumerate(services):
            for other in service.depends_on:
                if other == service.name:
                    raise ValueError(f"services[{index}].depends_on: {other!r} is itself")
                if other not in names:
                    raise ValueError(
                        f"services[{index}].depends_on names {other!r}, which is not a "
                        f"[[services]] name (known: {', '.join(names)})"
                    )
        return services

    @field_validator("sources")
    @classmethod
    def _unique_source_names(cls, sources: list[LogSource]) -> list[LogSource]:
        seen: set[str] = set()
        for source in sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        return sources

    @property
    def store_settings(self) -> StoreSettings:
        """The `[cockpit]` keys about the store and its author (what `note` needs), shared with
        the pydantic-free path in config_file.py."""
        section = self.cockpit
        return StoreSettings(
            author_name=section.author,
            store=section.store,
            drill=section.drill,
            store_mode=section.store_mode,
            password_env=section.password_env,
            store_outbox=section.store_outbox,
            source_path=self.source_path,
        )

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in this config are resolved against."""
        return self.store_settings.base_dir

    def resolve(self, path: Path | str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        return self.store_settings.resolve(path)

    @property
    def author(self) -> str:
        """Who is recorded on events written by this process."""
        return self.store_settings.author

    @property
    def store_path(self) -> Path:
        """The SQLite incident store; ConfigError when the store is a PostgreSQL server."""
        target = self.store_target
        if isinstance(target, PgTarget):
            raise ConfigError(
                f"{target.location}: this needs a local SQLite store, and the store is a"
                " PostgreSQL server"
            )
        return target

    @property
    def store_target(self) -> Path | PgTarget:
        """The store: `[cockpit] store`, else $COCKPIT_STORE, else the XDG data dir's file.

        ConfigError (one line naming COCKPIT_STORE) for a bad URL in the variable.
        """
        return self.store_settings.store_target

    @property
    def store_file_mode(self) -> int | None:
        """`[cockpit] store_mode` as a number for `EventStore(..., mode=...)`, None if unset."""
        return self.store_settings.store_file_mode

    @property
    def runbook_path(self) -> Path:
        """The Markdown runbook."""
        return self.start_settings.runbook_path

    @property
    def start_settings(self) -> StartSettings:
        """What the TUI's first frame needs, shared with the pydantic-free path in
        config_file.py (`CheckedConfig.start_settings`)."""
        return StartSettings(self.store_settings, keymap=self.keymap, runbook=self.cockpit.runbook)


def _check_found_config_trusts_nothing(path: Path, config: Config) -> None:
    """A `./cockpit.toml` came with the folder (a cloned repository ships one, owned by
    whoever cloned it), so it may not widen what runs or where secrets go: no
    `trusted_binaries`, no environment variable sent as a token or password, no PostgreSQL
    store (every note would go to that server). Naming it with `--config` trusts it."""
    widening: list[tuple[str, str]] = []
    if config.cockpit.trusted_binaries:
        widening.append(("[cockpit] trusted_binaries", "lets programs outside PATH run"))
    sends = "sends an environment variable to a server"
    if config.cockpit.password_env:
        widening.append(("[cockpit] password_env", sends))
    if isinstance(config.cockpit.store, StoreURL):
        widening.append(("[cockpit] store", "sends every note to a PostgreSQL server"))
    for section, items in (("sources", config.sources), ("alertmanagers", config.alertmanagers)):
        for item in items:
            if getattr(item, "token_env", None):
                name = getattr(item, "name", None) or getattr(item, "url", "")
                widening.append((f"[[{section}]] {name!r} token_env", sends))
    if widening:
        key, why = widening[0]
        more = f" (and {len(widening) - 1} more)" if len(widening) > 1 else ""
        raise ConfigError(
            f"{path}: not loaded: found in the current folder, it sets {key}, which {why}{more};"
            f" a config that comes with a folder may not. Use --config {path} to trust it"
        )


# -- error messages -------------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X and `Annotated[X, ...]` -> X, repeatedly."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _as_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    return (
        annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    )


def _tagged_member(annotation: Any, tag: str) -> type[BaseModel] | None:
    """The member of a discriminated union whose `kind` literal is `tag`, if any."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) not in (Union, UnionType):
        return None
    for member in get_args(annotation):
        model = _as_model(member)
        kind = model.model_fields.get("kind") if model else None
        if kind is not None and tag in get_args(kind.annotation):
            return model
    return None


def _walk_location(loc: tuple[str | int, ...]) -> tuple[TomlPath, Any]:
    """Map pydantic's error location to the path as written in TOML, and the type at its parent.

    Pydantic puts a discriminated union's tag into the location (`sources.0.loki.url`); TOML
    has no such level, so tags are dropped.
    """
    annotation: Any = Config
    toml_path: list[str | int] = []
    parent: Any = None
    for part in loc:
        parent = annotation
        if isinstance(part, int):
            args = get_args(_unwrap(annotation))
            annotation = args[0] if args else None
            toml_path.append(part)
            continue
        member = _tagged_member(annotation, part)
        if member is not None:
            annotation = member
            continue
        toml_path.append(part)
        model = _as_model(annotation)
        if model is not None and part in model.model_fields:
            annotation = model.model_fields[part].annotation
        elif get_origin(_unwrap(annotation)) is dict:
            annotation = get_args(_unwrap(annotation))[1]
        else:
            annotation = None
    return tuple(toml_path), parent


def _dotted(toml_path: TomlPath) -> str:
    """`("sources", 0, "url")` -> `sources[0].url`."""
    text = ""
    for part in toml_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _expected_keys(parent: Any) -> str:
    model = _as_model(parent)
    if model is None:
        return ""
    names = [name for name in model.model_fields if name not in LOADER_ONLY_KEYS]
    return "; expected one of: " + ", ".join(names)


def _problem(error: Any, toml_path: TomlPath, parent: Any) -> str:
    where = _dotted(toml_path)
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"unknown key {where!r}{_expected_keys(parent)}"
    if kind == "missing":
        return f"missing required key {where!r}"
    if kind == "union_tag_invalid":
        got = ctx.get("tag")
        return f"key {where + '.kind'!r}: expected one of {ctx.get('expected_tags')} (got {got!r})"
    if kind in ("model_type", "dict_type"):
        return f"key {where!r}: expected a table (got {_shown(error.get('input'))})"
    if kind == "union_tag_not_found":
        return f"missing key {where + '.kind'!r}, which says what sort of table this is"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ").replace("Input should be ", "expected ", 1)
    problem = f"key {where!r}: {message}" if where else message
    value = error.get("input")
    if not isinstance(value, dict | list) and kind != "value_error":
        problem += f" (got {_shown(value)})"
    return problem


def _shown(value: Any) -> str:
    """`repr(value)`, cut short: a pasted blob must not turn one line into a screenful."""
    text = repr(value)
    return f"{text[:60]}..." if len(text) > 80 else text


def _describe_validation_error(path: Path, text: str, error: ValidationError) -> str:
    """One line for the first problem, with the file, the line where found, and the key."""
    problems = error.errors()
    first = problems[0]
    toml_path, parent = _walk_location(tuple(first["loc"]))
    line_path = (*toml_path, "kind") if first["type"] == "union_tag_invalid" else toml_path
    line = line_of(text, line_path) if toml_path else None
    where = f"{path}:{line}" if line else str(path)
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {_problem(first, toml_path, parent)}{more}"


# -- loading ---------------------------------------------------------------------------------


def load_config(path: Path | None = None) -> Config:
    """Load and validate the config found in the search order; raise ConfigError on any problem."""
    found = locate_config(path)
    if found is None:
        return Config()
    return load_config_file(found, found_here=found_in_cwd(path, found))


def load_config_file(path: Path, *, found_here: bool = False) -> Config:
    """Load and validate one config file; raise ConfigError naming the file on any problem.

    `found_here`: it is the `./cockpit.toml` of the current folder, not named by the user: the
    file read must be theirs (checked on the open file) and may not widen trust.

    A file that passes is remembered as checked (config_file.py), unless its verdict depended
    on the host, so `note` and `timeline` can trust its text without pydantic next time."""
    path = Path(path).expanduser()
    return validate_config_text(
        path, read_config_text(path, found_here=found_here), found_here=found_here
    )


def validate_checked(checked: CheckedConfig) -> Config:
    """The typed config of a `CheckedConfig` (a text that passed this validation before),
    from the same text it was read with: validated in full again, never trusted."""
    if checked.path is None:
        return Config()
    return validate_config_text(checked.path, checked.text, found_here=checked.found_here)


def validate_config_text(path: Path, text: str, *, found_here: bool = False) -> Config:
    """Validate the text read from config file `path` (see `load_config_file`), and remember
    it as checked when it passes."""
    raw = parse_config_text(path, text)
    context: dict[str, bool] = {}
    try:
        config = Config.model_validate(raw, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe_validation_error(path, text, exc)) from None
    except RecursionError:
        raise ConfigError(f"{path}: values nested too deeply; not a cockpit config") from None
    if found_here:
        _check_found_config_trusts_nothing(path, config)
    if not context.get(_HOST_CONSULTED):
        # Last: only a config that passed every check, trusts-nothing included, is remembered.
        remember_checked(text, found_here=found_here)
    return config.model_copy(update={"source_path": path.resolve()})
