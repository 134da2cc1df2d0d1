"""The config file before pydantic: found, read, parsed, and remembered once fully checked.

Nothing here imports pydantic, so the commands that need only the store (`note`, `timeline`,
`incidents`) start in about the time Python itself takes. The typed model and its strict
validation live in `config.py`, which every other command loads; it is the only judge of a
config, and its one-line errors are the only ones a user sees.

How a store-only command stays as strict as the others without pydantic: once `config.py` has
validated a config file completely, the verdict is remembered under a SHA-256 of everything
the verdict depends on (the file's exact text, whether it was a `./cockpit.toml` found in the
current folder or a file the user named, the source of the validating modules, pydantic's
version and Python's). A store-only command that finds the verdict for the text it just read
takes the `[cockpit]` values straight from the TOML; any other text (a new edit, a new
cockpit, a new pydantic) is validated in full first, so an invalid file is refused exactly as
before. A verdict is a name, not data: the values always come from the file itself. Configs
whose verdict depends on the host (a regex checked by the rg found on PATH, a `~` path) are
never remembered. What depends on the file rather than its text (a found `./cockpit.toml`
must be the user's and writable by nobody else) is checked on every run, on the open file.
The verdicts live in a folder only the user can write; any doubt about it
(owner, mode, a relative `$XDG_CACHE_HOME`) turns them off rather than trusting them.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cockpit.core.records import Record
from cockpit.core.store_target import PgTarget, StoreURL, check_store_url, is_store_url

CONFIG_ENV_VAR = "COCKPIT_CONFIG"
STORE_ENV_VAR = "COCKPIT_STORE"
"""The store (a path or a postgresql:// URL) when the config sets no `[cockpit] store`."""
CONFIG_FILE_NAME = "cockpit.toml"


class ConfigError(Exception):
    """A config problem, phrased as one line that names the file, the key and what was expected."""


# -- where the config is ----------------------------------------------------------------------


def default_author() -> str:
    """`user@host`, the default attribution for events."""
    import getpass  # with socket, only when no author is configured
    import socket

    from cockpit.core.store import storable  # the store is open by then: nothing more loads

    try:
        user = getpass.getuser()
    except Exception:
        user = "unknown"
    # $USER or $LOGNAME may hold bytes that are not UTF-8: shown as `\xff`, never a crash.
    return storable(f"{user}@{socket.gethostname()}")


def xdg_config_file() -> Path:
    """`$XDG_CONFIG_HOME/cockpit/cockpit.toml` (the last place searched). A relative
    `$XDG_CONFIG_HOME` is ignored, as the XDG spec says: it would name a file in whatever folder
    the command runs in (a cloned repository's `cockpit/cockpit.toml`), trusted as the user's."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    if not os.path.isabs(base):
        base = str(Path.home() / ".config")
    return Path(base) / "cockpit" / CONFIG_FILE_NAME


def find_config_file(explicit: Path | None = None) -> Path | None:
    """The config file to load, in the documented search order, or None for defaults.

    An explicit `--config` or `$COCKPIT_CONFIG` must exist; the other places are optional.
    """
    if explicit is not None:
        return explicit
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    found_here = current_folder() / CONFIG_FILE_NAME
    if found_here.is_file():
        check_found_config_is_yours(found_here)
        return found_here
    if xdg_config_file().is_file():
        return xdg_config_file()
    return None


def current_folder() -> Path:
    """`Path.cwd()`; ConfigError (one line) when the current folder was deleted, since its
    `./cockpit.toml` can then be neither looked for nor ruled out."""
    try:
        return Path.cwd()
    except OSError as exc:
        raise ConfigError(
            f"the current folder cannot be read ({exc.strerror or exc}), so its"
            f" ./{CONFIG_FILE_NAME} cannot be looked for; cd to a folder that exists, or name"
            " the config with --config FILE"
        ) from None


def check_found_config_is_yours(path: Path) -> None:
    """Refuse a `./cockpit.toml` that someone else could have written, as git refuses a
    repository it does not consider safe (`safe.directory`): it must be owned by the current
    user and not group- or world-writable. `--config FILE` loads any file: that is a choice."""
    try:
        info = path.stat()
    except OSError:
        return  # gone: the loader reports it
    check_yours(path, info)


def check_yours(path: Path, info: os.stat_result) -> None:
    """ConfigError unless `info` (a found config's stat, or better its open file's fstat) says
    the file is the current user's and nobody else can write it."""
    me = os.geteuid()
    if info.st_uid != me:
        raise ConfigError(
            f"{path}: not loaded: found in the current folder but owned by uid {info.st_uid},"
            f" not you (uid {me}); anyone who can write it could run readers as you. Use"
            " --config FILE to load it anyway"
        )
    if info.st_mode & 0o022:
        raise ConfigError(
            f"{path}: not loaded: found in the current folder and writable by"
            f" {'others' if info.st_mode & 0o002 else 'its group'} (mode"
            f" {info.st_mode & 0o777:04o}); chmod go-w it, or use --config FILE to load it anyway"
        )


def locate_config(explicit: Path | None = None) -> Path | None:
    """`find_config_file`, plus the one error only the search order can give: a config file
    named by `$COCKPIT_CONFIG` that is not there."""
    found = find_config_file(explicit)
    if (
        found is not None
        and explicit is None
        and not found.exists()
        and os.environ.get(CONFIG_ENV_VAR)
    ):
        raise ConfigError(f"{found}: config file not found (named by ${CONFIG_ENV_VAR})")
    return found


def found_in_cwd(explicit: Path | None, found: Path) -> bool:
    """Whether `found` is the `./cockpit.toml` of the current folder, found by the search
    order rather than named (`--config`, `$COCKPIT_CONFIG`): a config that came with the folder,
    so its file must be the user's and it may not widen trust (config.py says what that means)."""
    return (
        explicit is None
        and not os.environ.get(CONFIG_ENV_VAR)
        and found == current_folder() / CONFIG_FILE_NAME
    )


# -- reading and parsing ---------------------------------------------------------------------

LOADER_ONLY_KEYS = frozenset({"source_path"})
"""Config fields the loader sets; a config file may not set them."""

TomlPath = tuple[str | int, ...]


def read_config_text(path: Path, *, found_here: bool = False) -> str:
    """The config file's text; ConfigError naming the file when it cannot or must not be read.

    `found_here` (see `found_in_cwd`): the file must be the user's, checked on the open file,
    so no swap of the name after the search order's look can dodge it."""
    from cockpit.core.safe_files import UnsafeFileError, read_regular_text

    try:
        # A regular file of at most 1 MB: a FIFO or /dev/zero is refused, never read.
        text = read_regular_text(
            path,
            what="TOML config",
            check=(lambda info: check_yours(path, info)) if found_here else None,
        )
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnsafeFileError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.strerror})") from None
    if not text.strip():
        raise ConfigError(
            f"{path}: config file is empty; expected TOML (see config/cockpit.example.toml)"
        )
    return text


def parse_config_text(path: Path, text: str) -> dict[str, Any]:
    """The TOML tables of a config file's text; ConfigError with the file, line and column."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_describe_syntax_error(path, exc)) from None
    except RecursionError:
        raise ConfigError(f"{path}: TOML nested too deeply; not a cockpit config") from None
    for key in LOADER_ONLY_KEYS & raw.keys():
        line = line_of(text, (key,))
        where = f"{path}:{line}" if line else str(path)
        raise ConfigError(f"{where}: unknown key {key!r}; it is set by the loader, not the file")
    return raw


def _describe_syntax_error(path: Path, error: tomllib.TOMLDecodeError) -> str:
    """`FILE:LINE:COLUMN: TOML syntax error: ...` from tomllib's `(at line L, column C)`."""
    message = str(error)
    position = re.search(r"\s*\(at line (?P<line>\d+), column (?P<column>\d+)\)$", message)
    if position is None:
        return f"{path}: TOML syntax error: {message}"
    reason = message[: position.start()]
    return f"{path}:{position['line']}:{position['column']}: TOML syntax error: {reason}"


@functools.cache
def _line_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    # Compiled on the first error, not at every start.
    return (
        re.compile(r"^\[\[\s*(?P<name>[^\]]+?)\s*\]\]"),
        re.compile(r"^\[\s*(?P<name>[^\]]+?)\s*\]"),
        re.compile(r"^(?P<key>(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.\- ]+?))\s*="),
    )


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)", key)
    return tuple(next(p for p in groups if p) if any(groups) else "" for groups in parts)


def line_of(text: str, toml_path: TomlPath) -> int | None:
    """Best-effort line of `toml_path` in the TOML text: the key's line, else its table header.

    Tracks `[table]` and `[[array]]` headers (counting array elements) and dotted keys; inline
    tables point at the line of the key that opens them.
    """
    array_header, table_header, key_line = _line_patterns()
    arrays: dict[TomlPath, int] = {}
    section: TomlPath = ()
    target = tuple(toml_path)
    nearest: int | None = None
    nearest_depth = -1

    def resolve(name: str) -> TomlPath:
        # `[services.deploys]` belongs to the latest `[[services]]` element: insert its index.
        parts = _split_key(name)
        resolved: TomlPath = ()
        for number, part in enumerate(parts, start=1):
            resolved += (part,)
            if resolved in arrays and number < len(parts):
                resolved += (arrays[resolved],)
        return resolved

    def consider(path: TomlPath, number: int) -> None:
        nonlocal nearest, nearest_depth
        if target[: len(path)] == path and len(path) > nearest_depth:
            nearest, nearest_depth = number, len(path)

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if array := array_header.match(stripped):
            base = resolve(array["name"])
            arrays[base] = arrays.get(base, -1) + 1
            section = (*base, arrays[base])
            consider(section, number)
        elif table := table_header.match(stripped):
            section = resolve(table["name"])
            consider(section, number)
        elif key := key_line.match(stripped):
            consider((*section, *_split_key(key["key"])), number)
    return nearest


# -- the store settings ----------------------------------------------------------------------


def store_setting(value: Any) -> Path | StoreURL:
    """`[cockpit] store` as the loader keeps it: a URL stays a string (Path would fold its
    `//`), anything else is a path. ValueError (one line) for anything else."""
    if isinstance(value, StoreURL | Path):
        return value
    if isinstance(value, str):
        return check_store_url(value) if is_store_url(value) else Path(value)
    raise ValueError(f"expected a path or a postgresql:// URL (got {value!r:.60})")


class StoreSettings(Record):
    """The `[cockpit]` keys that say where the incident store is and who writes to it: all
    that `note`, `timeline` and `incidents` need. `Config.store_settings` gives the same
    object for a fully loaded config, so both paths share one `store_target`."""

    _fields = (
        "author_name",
        "store",
        "drill",
        "store_mode",
        "password_env",
        "store_outbox",
        "source_path",
    )

    author_name: str | None
    """`[cockpit] author` as written (None: user@host)."""
    store: Path | StoreURL | None
    drill: bool
    store_mode: str | None
    password_env: str | None
    store_outbox: Path | None
    source_path: Path | None
    """The config file these came from (None: no config file)."""

    def __init__(
        self,
        author_name: str | None = None,
        store: Path | StoreURL | None = None,
        drill: bool = False,
        store_mode: str | None = None,
        password_env: str | None = None,
        store_outbox: Path | None = None,
        source_path: Path | None = None,
    ) -> None:
        self.__dict__.update(
            author_name=author_name,
            store=store,
            drill=drill,
            store_mode=store_mode,
            password_env=password_env,
            store_outbox=store_outbox,
            source_path=source_path,
        )

    @classmethod
    def from_checked_table(
        cls, section: Mapping[str, Any], source_path: Path | None
    ) -> StoreSettings:
        """From a `[cockpit]` table that `Config` has validated (types already right)."""
        store = section.get("store")
        outbox = section.get("store_outbox")
        return cls(
            author_name=section.get("author"),
            store=store_setting(store) if store is not None else None,
            drill=section.get("drill", False),
            store_mode=section.get("store_mode"),
            password_env=section.get("password_env"),
            store_outbox=Path(outbox) if outbox is not None else None,
            source_path=source_path,
        )

    @property
    def base_dir(self) -> Path:
        """Folder that relative paths in this config are resolved against."""
        return self.source_path.parent if self.source_path else Path.cwd()

    def resolve(self, path: Path | str) -> Path:
        """Resolve a path from the config against the config file's folder."""
        path = Path(path).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def author(self) -> str:
        """Who is recorded on events written by this process."""
        return self.author_name or default_author()

    @property
    def store_target(self) -> Path | PgTarget:
        """The store: `[cockpit] store`, else $COCKPIT_STORE, else the XDG data dir's file.

        ConfigError (one line naming COCKPIT_STORE) for a bad URL in the variable.
        """
        setting: Path | str | None = self.store
        if setting is None and os.environ.get(STORE_ENV_VAR):
            setting = os.environ[STORE_ENV_VAR]
            if is_store_url(setting):
                try:
                    setting = check_store_url(setting)
                except ValueError as exc:
                    raise ConfigError(f"{STORE_ENV_VAR}: {exc}") from None
        if isinstance(setting, StoreURL):
            outbox = self.store_outbox
            return PgTarget(setting, self.password_env, self.resolve(outbox) if outbox else None)
        if setting is not None:
            return self.resolve(setting)
        from platformdirs import user_data_path

        return user_data_path("cockpit") / "incidents.db"

    @property
    def store_file_mode(self) -> int | None:
        """`[cockpit] store_mode` as a number for `EventStore(..., mode=...)`, None if unset."""
        mode = self.store_mode
        return int(mode, 8) if mode is not None else None


def checked_store_settings(explicit: Path | None = None) -> StoreSettings | None:
    """The store settings of the config in the search order, without pydantic, when that
    config's exact text has been fully validated before (or there is no config file); None
    when it has not: the caller then loads it with `load_config`, which remembers it.

    Raises the same ConfigError as `load_config` for a file that cannot be found, read or
    parsed."""
    checked = checked_config(explicit)
    return checked.store_settings if checked is not None else None


class StartSettings(Record):
    """What the TUI needs from the config before its first frame (the store, the author, the
    drill flag, the key map, the runbook), without pydantic. `Config.start_settings` gives the
    same object for a fully loaded config."""

    _fields = ("store", "keymap", "runbook")
    _hashable = False

    store: StoreSettings
    keymap: Mapping[str, str]
    """`[keymap]`: binding id to keys."""
    runbook: Path | None
    """`[cockpit] runbook` as written (None: the shipped runbook)."""

    def __init__(
        self,
        store: StoreSettings | None = None,
        keymap: Mapping[str, str] | None = None,
        runbook: Path | None = None,
    ) -> None:
        self.__dict__.update(
            store=store or StoreSettings(), keymap=dict(keymap or {}), runbook=runbook
        )

    @property
    def drill(self) -> bool:
        return self.store.drill

    @property
    def author(self) -> str:
        return self.store.author

    @property
    def source_path(self) -> Path | None:
        return self.store.source_path

    @property
    def store_target(self) -> Path | PgTarget:
        return self.store.store_target

    @property
    def store_file_mode(self) -> int | None:
        return self.store.store_file_mode

    @property
    def runbook_path(self) -> Path:
        """The Markdown runbook."""
        if self.runbook is not None:
            return self.store.resolve(self.runbook)
        from cockpit.resources import data_dir

        return data_dir("config") / "runbook.md"


class CheckedConfig(Record):
    """A config file (or none) whose exact text passed full validation before: its values can
    be read without pydantic. `config.validate_checked` builds the typed `Config` from the
    same text."""

    _fields = ("path", "text", "raw", "found_here")
    _hashable = False

    path: Path | None
    """The file (None: no config file in the search order, the defaults)."""
    text: str
    raw: Mapping[str, Any]
    found_here: bool

    def __init__(
        self,
        path: Path | None,
        text: str = "",
        raw: Mapping[str, Any] | None = None,
        found_here: bool = False,
    ) -> None:
        self.__dict__.update(path=path, text=text, raw=raw or {}, found_here=found_here)

    @property
    def store_settings(self) -> StoreSettings:
        if self.path is None:
            return StoreSettings()
        section = self.raw.get("cockpit", {})
        return StoreSettings.from_checked_table(section, source_path=self.path.resolve())

    @property
    def start_settings(self) -> StartSettings:
        runbook = self.raw.get("cockpit", {}).get("runbook")
        return StartSettings(
            self.store_settings,
            keymap=self.raw.get("keymap", {}),
            runbook=Path(runbook) if runbook is not None else None,
        )


def checked_config(explicit: Path | None = None) -> CheckedConfig | None:
    """The config in the search order, read and parsed without pydantic, when its exact text
    has been fully validated before (or there is no config file); None when it has not: the
    caller then loads it with `load_config`, which validates and remembers it.

    Raises the same ConfigError as `load_config` for a file that cannot be found, read or
    parsed."""
    found = locate_config(explicit)
    if found is None:
        return CheckedConfig(None)
    # The owner and mode of a found ./cockpit.toml are checked on every run (they are the
    # file's, not its text's); whether its text trusts nothing is part of the verdict's key.
    found_here = found_in_cwd(explicit, found)
    path = Path(found).expanduser()
    text = read_config_text(path, found_here=found_here)
    raw = parse_config_text(path, text)
    if not was_checked(text, found_here=found_here):
        return None
    return CheckedConfig(path, text, raw, found_here)


# -- remembered verdicts ---------------------------------------------------------------------

VALIDATING_MODULES = ("config", "config_file", "store_target", "readers", "records")
"""The modules under cockpit/core/ whose code decides whether a config is valid (the models,
their validators and what the validators call). Their source is part of every verdict's key;
tests/test_config_file.py checks that validation imports no other cockpit module."""
_VERDICT_FORMAT = b"cockpit-config-verdict-2"
_VERDICTS_KEPT = 64
"""Verdicts kept; the oldest go when a new one is written (a config edited 64 times)."""


def verdicts_dir() -> Path | None:
    """`$XDG_CACHE_HOME/cockpit/checked-configs` (else `~/.cache/...`), None when the cache
    folder is not absolute (a relative `$XDG_CACHE_HOME` would move with the working folder)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
    return Path(base) / "cockpit" / "checked-configs" if os.path.isabs(base) else None


def _private_to_me(path: Path) -> bool:
    """A directory owned by this user that nobody else can write into."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _trusted_verdicts_dir() -> Path | None:
    """The verdicts folder, when it and its parent belong to this user alone; else None."""
    folder = verdicts_dir()
    if folder is None or not (_private_to_me(folder) and _private_to_me(folder.parent)):
        return None
    return folder


def _pydantic_version_source() -> bytes | None:
    """pydantic's `version.py` (its version and the pydantic-core it requires), read without
    importing pydantic; None when it cannot be found (then nothing is remembered)."""
    for entry in sys.path:
        candidate = os.path.join(entry or ".", "pydantic", "version.py")
        try:
            with open(candidate, "rb") as file:
                return file.read()
        except OSError:
            continue
    return None


def _sha256(data: bytes) -> Any:
    """`hashlib.sha256(data)`: the same digest from Python's own built-in SHA-256 when it has
    one, without importing hashlib, whose OpenSSL module costs every start 2-3 ms of CPU."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256(data)


def verdict_key(text: str, *, found_here: bool = False) -> str | None:
    """The name a verdict on `text` is kept under: SHA-256 of the text, the validating code,
    pydantic's version and Python's, and whether the file was a found `./cockpit.toml` (held to
    more: a text that passed as a named `--config` has not passed as a found one). None when
    the code cannot be read (nothing is kept)."""
    digest = _sha256(_VERDICT_FORMAT)
    digest.update(b"found-in-cwd" if found_here else b"named")
    digest.update(sys.version.encode())
    pydantic_source = _pydantic_version_source()
    if pydantic_source is None:
        return None
    digest.update(_sha256(pydantic_source).digest())
    here = Path(__file__).parent
    for name in VALIDATING_MODULES:
        try:
            digest.update(_sha256((here / f"{name}.py").read_bytes()).digest())
        except OSError:
            return None
    digest.update(_sha256(text.encode()).digest())
    return digest.hexdigest()


def was_checked(text: str, *, found_here: bool = False) -> bool:
    """True when `text` was fully validated by this code before, found the same way (a regular
    file of ours, named by its key, in the private verdicts folder)."""
    folder = _trusted_verdicts_dir()
    key = verdict_key(text, found_here=found_here) if folder is not None else None
    if folder is None or key is None:
        return False
    try:
        info = os.lstat(folder / key)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def remember_checked(text: str, *, found_here: bool = False) -> None:
    """Record that `text` passed full validation (and, `found_here`, the rules for a found
    `./cockpit.toml`). Best effort: a cache that cannot be written (read-only home, a folder
    someone else owns) only means the next start validates again."""
    folder = verdicts_dir()
    key = verdict_key(text, found_here=found_here) if folder is not None else None
    if folder is None or key is None:
        return
    try:
        # Both levels private whatever the umask (under a common `umask 002` a folder made with
        # mkdir's default mode is group-writable, and its verdicts would never be trusted).
        folder.parent.parent.mkdir(parents=True, exist_ok=True)
        folder.parent.mkdir(mode=0o700, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
        if _trusted_verdicts_dir() is None or os.path.lexists(folder / key):
            return
        temporary = folder / f".{key}.{os.getpid()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        os.close(os.open(temporary, flags, 0o600))
        os.replace(temporary, folder / key)
        _forget_oldest(folder)
    except OSError:
        return


def _forget_oldest(folder: Path) -> None:
    entries = [entry for entry in os.scandir(folder) if not entry.name.startswith(".")]
    if len(entries) <= _VERDICTS_KEPT:
        return
    entries.sort(key=lambda entry: entry.stat(follow_symlinks=False).st_mtime_ns)
    for entry in entries[: len(entries) - _VERDICTS_KEPT]:
        try:
            os.unlink(entry.path)
        except OSError:
            continue
