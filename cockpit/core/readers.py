"""The only place in the cockpit that starts a process, and only a read-only reader.

Every process the cockpit spawns goes through `reader_argv`, which refuses anything but an
allowlisted program with a read-only subcommand. Nothing is ever run through a shell, and
nothing built from a suggestion, an AI reply or a template reaches here: rollback commands are
copied to the clipboard, never run. `tests/test_no_exec.py` checks that no other module spawns.

Programs are found through PATH only (absolute PATH entries; never the current directory). A
relative program path is refused, and an absolute one unless it is what PATH finds anyway, the
ripgrep installed beside this Python, or listed in `[cockpit] trusted_binaries`
(`locate_program` says which, for `cockpit sources`).

git never reads a repository's own configuration: it runs on an `IsolatedGitDir`, a private
git directory that shares the repository's objects and refs but has a config of ours, no hooks
and no attributes, in an environment built from scratch (nothing `GIT_*` is inherited), with
`-c` overrides that neutralise every setting that names a program (`GIT_SAFE_CONFIG`).
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from cockpit.core.records import Record

# Read-only subcommands per program. git's list excludes anything that writes refs, the index,
# the work tree or files (`format-patch`, `archive --output`, `bundle`...). A multi-word entry
# ("rollout history") must be the first words of the arguments.
READ_ONLY_SUBCOMMANDS: dict[str, frozenset[str]] = {
    "git": frozenset(
        {
            "log",
            "show",
            "diff",
            "rev-parse",
            "rev-list",
            "for-each-ref",
            "cat-file",
            "ls-tree",
            "describe",
            "merge-base",
            "name-rev",
            "shortlog",
            "blame",
            "ls-files",
            "version",
        }
    ),
    "journalctl": frozenset({""}),  # journalctl only reads; it has no write subcommand we allow
    "rg": frozenset({""}),
    "helm": frozenset({"history", "status", "list", "get"}),
    "kubectl": frozenset({"rollout history", "get", "describe"}),
    "argocd": frozenset({"app history", "app get", "app list"}),
}

# Options that would make a reader write or execute something.
FORBIDDEN_OPTIONS: dict[str, tuple[str, ...]] = {
    # --ext-diff/--textconv/--filters run programs named in the repository's config.
    "git": (
        "--output",
        "-o",
        "--exec",
        "--upload-pack",
        "--receive-pack",
        "-c",
        "--config-env",
        "--ext-diff",
        "--textconv",
        "--filters",
        "--show-signature",
        "--git-dir",
        "--work-tree",
    ),
    # --cursor-file writes the last cursor to the given file.
    "journalctl": (
        "--rotate",
        "--vacuum-size",
        "--vacuum-files",
        "--vacuum-time",
        "--flush",
        "--sync",
        "--relinquish-var",
        "--smart-relinquish-var",
        "--setup-keys",
        "--update-catalog",
        "--cursor-file",
    ),
    # --pre and --hostname-bin run a program.
    "rg": ("--pre", "--hostname-bin", "--search-zip-preprocess"),
    "helm": (),
    "kubectl": (),
    "argocd": (),
}

# journalctl parses options with getopt_long, which accepts any unambiguous abbreviation
# (`--rot` is `--rotate`), so a prefix of a forbidden option is refused too.
_ABBREVIATING = frozenset({"journalctl"})

# git options allowed before the subcommand; `-C` takes the next argument as value.
# Anything else there (`-c`, `-p`, `--exec-path`, `--namespace X`, and `--git-dir`/`--work-tree`,
# which would point git at a repository's own config) is refused: a global option that takes a
# value could hide the real subcommand behind an allowed-looking word.
_GIT_GLOBAL_WITH_VALUE = ("-C",)
_GIT_GLOBAL_FLAGS = (
    "--no-pager",
    "--literal-pathspecs",
    "--glob-pathspecs",
    "--noglob-pathspecs",
    "--icase-pathspecs",
    "--no-optional-locks",
    "--no-replace-objects",
)


# helm, kubectl and argocd read the user's own kubeconfig and Argo CD config, which may name
# credential plugins (a kubeconfig `exec` runs a program) and the servers that get the user's
# token. Their options come from a config file, so they are allowlisted, not denylisted: an
# option that points them at another config, server or credential, or makes them write a file
# (`--kubeconfig ./kc` whose exec plugin runs `./evil.sh`, `--server https://elsewhere`,
# `--log-file`, `-f URL`, `-o go-template-file=...`) is refused. Option -> takes a value.
_HISTORY_SHARED_OPTIONS = {"-n": True, "--namespace": True, "-o": True, "--output": True}
HISTORY_OPTIONS: dict[str, dict[str, bool]] = {
    "helm": {
        **_HISTORY_SHARED_OPTIONS,
        "--kube-context": True,
        "--max": True,
        "--revision": True,
        "-A": False,
        "--all-namespaces": False,
        "-a": False,
        "--all": False,
    },
    "kubectl": {
        **_HISTORY_SHARED_OPTIONS,
        "--context": True,
        "--revision": True,
        "-l": True,
        "--selector": True,
        "--request-timeout": True,
        "-A": False,
        "--all-namespaces": False,
    },
    "argocd": {
        **_HISTORY_SHARED_OPTIONS,
        "-N": True,
        "--app-namespace": True,
        "--kube-context": True,
        "--grpc-web": False,
        "--core": False,
    },
}
HISTORY_OUTPUT_FORMATS = frozenset({"json", "yaml", "table", "wide", "name"})
"""`-o` values a history command may ask for (no template files, no custom columns)."""


class ReaderRefused(Exception):
    """The command is not a read-only reader; it was not started."""


def _strip_git_globals(args: list[str]) -> list[str]:
    rest = list(args)
    while rest:
        head = rest[0]
        if head in _GIT_GLOBAL_WITH_VALUE:
            if len(rest) < 2:
                raise ReaderRefused(f"git option {head!r} needs a value")
            rest = rest[2:]
        elif head in _GIT_GLOBAL_FLAGS:
            rest = rest[1:]
        else:
            break
    return rest


def _check_subcommand(program: str, args: Sequence[str]) -> None:
    """Refuse unless `args` starts with an allowed read-only subcommand (no options before it).

    The subcommand must come first: with an option in front, a word that looks like an allowed
    subcommand may really be that option's value (`kubectl -n get delete pod x`).
    """
    allowed = READ_ONLY_SUBCOMMANDS[program]
    if "" in allowed:
        return
    for words in (2, 1):
        head = list(args[:words])
        if len(head) == words and " ".join(head) in allowed:
            return
    shown = " ".join(args[:2]) if args else "(none)"
    if args and args[0].startswith("-"):
        raise ReaderRefused(
            f"{program} {shown!r}: put options after the read-only subcommand "
            f"({', '.join(sorted(allowed))})"
        )
    raise ReaderRefused(f"{program} {shown!r} is not a read-only subcommand")


def _check_options(program: str, args: Sequence[str]) -> None:
    forbidden = FORBIDDEN_OPTIONS[program]
    # After `--` come data (paths, patterns); git also honours `--end-of-options`, after which
    # `--output=x` is a revision name. The other readers do not know that marker.
    stops = ("--", "--end-of-options") if program == "git" else ("--",)
    for arg in args:
        if arg in stops:
            return
        for bad in forbidden:
            if arg == bad or arg.startswith(bad + "="):
                raise ReaderRefused(f"{program} option {arg!r} is not allowed")
            if program in _ABBREVIATING and arg.startswith("--") and len(arg) > 3:
                name = arg.split("=", 1)[0]
                if bad.startswith(name):
                    raise ReaderRefused(
                        f"{program} option {arg!r} (abbreviates {bad}) is not allowed"
                    )


def _check_history_options(program: str, args: Sequence[str]) -> None:
    """Refuse any option of helm, kubectl or argocd outside `HISTORY_OPTIONS`."""
    allowed = HISTORY_OPTIONS[program]
    names = ", ".join(sorted(allowed))
    expect_value: str | None = None
    for arg in args:
        if expect_value is not None and not arg.startswith("-"):
            _check_history_value(program, expect_value, arg)
            expect_value = None
            continue
        if arg == "--":
            return
        if not arg.startswith("-") or arg == "-":
            continue
        name, has_value, value = arg.partition("=")
        if name not in allowed:
            raise ReaderRefused(
                f"{program} option {arg!r} is not allowed here: it could load another config "
                f"or credential plugin, reach another server or write a file (allowed: {names})"
            )
        if has_value:
            _check_history_value(program, name, value)
            expect_value = None
        else:
            expect_value = name if allowed[name] else None
    if expect_value is not None:
        raise ReaderRefused(f"{program} option {expect_value!r} needs a value")


def _check_history_value(program: str, option: str, value: str) -> None:
    if option in ("-o", "--output") and value not in HISTORY_OUTPUT_FORMATS:
        raise ReaderRefused(
            f"{program} {option} {value!r} is not allowed: expected one of "
            f"{', '.join(sorted(HISTORY_OUTPUT_FORMATS))}"
        )


def _path_dirs() -> list[str]:
    """PATH's absolute entries: an empty or relative entry would search the current directory."""
    return [d for d in os.environ.get("PATH", os.defpath).split(os.pathsep) if os.path.isabs(d)]


def _executable_file(path: str) -> bool:
    try:
        info = os.stat(path)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and os.access(path, os.X_OK)


def find_on_path(program: str) -> str | None:
    """The absolute path PATH gives `program`, searching only absolute PATH entries."""
    for folder in _path_dirs():
        candidate = os.path.join(folder, program)
        if _executable_file(candidate):
            return candidate
    return None


def _bundled_dir() -> str:
    """The folder of this Python's own scripts: the ripgrep wheel installs `rg` there."""
    return os.path.realpath(Path(sys.executable).parent)


class ProgramLocation(Record):
    """Where a reader program resolves to, or why it does not (for `cockpit sources`)."""

    _fields = ("command", "path", "how")

    command: str
    """The program as configured: a bare name (`helm`) or a path."""
    path: str | None
    """The absolute path that would run, or None when the program is refused or missing."""
    how: str
    """One line: how it was found (`PATH`, `trusted_binaries`, `installed with cockpit`) or,
    when `path` is None, why it will not run."""

    def __init__(
        self,
        command: str,
        path: str | None,
        how: str,
    ) -> None:
        self.__dict__.update(
            command=command,
            path=path,
            how=how,
        )


def _trusted_match(real: str, trusted_binaries: Iterable[str | os.PathLike[str]]) -> bool:
    return any(os.path.realpath(os.fspath(entry)) == real for entry in trusted_binaries)


def locate_program(
    command: str, trusted_binaries: Iterable[str | os.PathLike[str]] = ()
) -> ProgramLocation:
    """Resolve a reader program the way every spawn does, without raising.

    A bare name is looked up on PATH (absolute entries only). A relative path (`./helm`,
    `bin/helm`) is refused. An absolute path runs only when it is what PATH finds for its name,
    the ripgrep installed beside this Python, or listed in `[cockpit] trusted_binaries`.
    """
    program = Path(command).name
    if program not in READ_ONLY_SUBCOMMANDS:
        return ProgramLocation(command, None, f"{program!r} is not a read-only reader")
    if "/" not in command:
        found = find_on_path(command)
        if found is None:
            return ProgramLocation(command, None, f"{program} is not installed (not on PATH)")
        return ProgramLocation(command, found, "PATH")
    if not os.path.isabs(command):
        return ProgramLocation(
            command,
            None,
            f"relative program path {command!r} refused: name it ({program}) so PATH finds "
            "it, or list its absolute path in [cockpit] trusted_binaries",
        )
    real = os.path.realpath(command)
    if not _executable_file(real):
        return ProgramLocation(command, None, f"{command!r} is not an executable file")
    if _trusted_match(real, trusted_binaries):
        return ProgramLocation(command, command, "trusted_binaries")
    # A symlink named `git` that points at a shell is not git.
    if Path(real).name != program:
        return ProgramLocation(command, None, f"{command!r} is {real}, not {program}")
    on_path = find_on_path(program)
    if on_path is not None and os.path.realpath(on_path) == real:
        return ProgramLocation(command, command, "PATH")
    if os.path.dirname(real) == _bundled_dir():
        return ProgramLocation(command, command, "installed with cockpit")
    return ProgramLocation(
        command,
        None,
        f"{command!r} is not the {program} on PATH: list it in [cockpit] trusted_binaries "
        "to run it",
    )


def resolve_program(command: str, trusted_binaries: Iterable[str | os.PathLike[str]] = ()) -> str:
    """The absolute path `command` runs as (see `locate_program`); raises ReaderRefused."""
    location = locate_program(command, trusted_binaries)
    if location.path is None:
        raise ReaderRefused(location.how)
    return location.path


def _git_insertions(args: list[str]) -> list[str]:
    """`args` with `--no-ext-diff --no-textconv` (and `--no-show-signature` for log and show)
    right after a diff-producing subcommand, so no driver or verifier is ever asked to run."""
    rest = _strip_git_globals(args)
    at = len(args) - len(rest)
    if not rest or rest[0] not in ("log", "show", "diff"):
        return args
    extra = ["--no-ext-diff", "--no-textconv"]
    if rest[0] in ("log", "show"):
        extra.append("--no-show-signature")
    return [*args[: at + 1], *extra, *args[at + 1 :]]


def reader_argv(
    argv: Sequence[str], *, trusted_binaries: Iterable[str | os.PathLike[str]] = ()
) -> list[str]:
    """Validate `argv` as a read-only reader invocation and return it with the program resolved.

    git gets `GIT_SAFE_CONFIG` overrides (and no external diff, textconv or signature check)
    ahead of the caller's arguments. Raises ReaderRefused for any program, subcommand or option
    outside the allowlist, and for a program path that is not trusted.
    """
    if not argv:
        raise ReaderRefused("empty command")
    program = Path(argv[0]).name
    if program not in READ_ONLY_SUBCOMMANDS:
        raise ReaderRefused(f"{program!r} is not a read-only reader the cockpit may start")
    args = list(argv[1:])
    check_args = _strip_git_globals(args) if program == "git" else args
    _check_subcommand(program, check_args)
    _check_options(program, check_args)
    if program in HISTORY_OPTIONS:
        _check_history_options(program, check_args)
    resolved = resolve_program(argv[0], trusted_binaries)
    if program == "git":
        return [resolved, *git_safe_args(), *_git_insertions(args)]
    return [resolved, *args]


# Environment variables through which a reader could be told to run a program or read config.
_UNSAFE_ENV = (
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "PAGER",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_EDITOR",
    "GIT_PROXY_COMMAND",
    "GIT_CONFIG",
    "RIPGREP_CONFIG_PATH",
    "SYSTEMD_PAGER",
    "SYSTEMD_PAGERSECURE",
    "SYSTEMD_LESS",
    "LESSOPEN",
    "LESSCLOSE",
)

NO_PROGRAM = "/dev/null/cockpit-runs-no-program"
"""What every program-naming git setting is overridden with: a path that can never exist
(nothing lives under /dev/null), so git fails to start it and nothing runs, not even a shell."""

GIT_SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    # Programs git could start while reading history or diffs.
    ("core.fsmonitor", "false"),
    ("core.hooksPath", "/dev/null"),
    ("core.pager", "cat"),  # `cat` is git's "no pager": nothing is started
    ("core.editor", ":"),  # `:` is git's "no editor"
    ("sequence.editor", ":"),
    ("core.askPass", NO_PROGRAM),
    ("core.sshCommand", NO_PROGRAM),
    ("core.gitProxy", NO_PROGRAM),
    ("core.alternateRefsCommand", NO_PROGRAM),
    ("core.attributesFile", "/dev/null"),  # no attributes: no diff, filter or merge driver
    ("diff.external", NO_PROGRAM),
    ("log.showSignature", "false"),
    ("gpg.program", NO_PROGRAM),
    ("gpg.openpgp.program", NO_PROGRAM),
    ("gpg.x509.program", NO_PROGRAM),
    ("gpg.ssh.program", NO_PROGRAM),
    ("gpg.ssh.defaultKeyCommand", NO_PROGRAM),
    ("credential.helper", ""),  # an empty value clears the helper list
    ("uploadpack.packObjectsHook", NO_PROGRAM),
    # No transport at all: a partial clone's lazy fetch, ext::, ssh:// or a remote helper.
    ("protocol.allow", "never"),
    *((f"protocol.{name}.allow", "never") for name in ("ext", "fd", "file", "git", "ssh")),
    *((f"protocol.{name}.allow", "never") for name in ("http", "https", "ftp", "ftps")),
    # Nothing written in the background.
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("color.ui", "false"),
)
"""`-c` overrides on every git call. They outrank every config file, so they hold even if a
repository's config were read; `IsolatedGitDir` also makes sure it never is."""


def git_safe_args() -> list[str]:
    """`--no-pager` and `-c KEY=VALUE` for each of `GIT_SAFE_CONFIG`."""
    args = ["--no-pager"]
    for key, value in GIT_SAFE_CONFIG:
        args += ["-c", f"{key}={value}"]
    return args


def reader_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a non-git reader runs in: no pagers, helpers, config files or GIT_*."""
    clean = {
        k: v
        for k, v in (os.environ if env is None else env).items()
        if k not in _UNSAFE_ENV and not k.startswith("GIT_")
    }
    clean.update(
        {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}
    )
    return clean


def git_env(git_dir: IsolatedGitDir) -> dict[str, str]:
    """The environment git runs in, built from scratch: nothing of the caller's `GIT_*`, HOME
    or XDG config, only the isolated git directory and settings that start nothing."""
    return {
        "PATH": os.pathsep.join(_path_dirs()) or os.defpath,
        "LC_ALL": "C",
        "LANG": "C",
        "HOME": str(git_dir.path),
        "XDG_CONFIG_HOME": str(git_dir.path / "no-xdg-config"),
        "GIT_DIR": str(git_dir.path),
        "GIT_OBJECT_DIRECTORY": str(git_dir.objects),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_SYSTEM": os.devnull,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_PAGER": "cat",
        "PAGER": "cat",
        "GIT_EDITOR": ":",
        "GIT_SEQUENCE_EDITOR": ":",
        "GIT_ASKPASS": "",  # set and empty: core.askPass and SSH_ASKPASS are not consulted
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_ALLOW_PROTOCOL": "",  # set and empty: no transport is allowed, whatever config says
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_NO_LAZY_FETCH": "1",
    }


_HEAD = re.compile(rb"\A(?:ref: refs/[^\x00-\x20\x7f~^:?*\[\\]+|[0-9a-f]{40}|[0-9a-f]{64})\n?\Z")
_MAX_META_BYTES = 1 << 20


class NotARepository(ReaderRefused):
    """The path holds no git repository (or one this cockpit cannot read safely)."""


def _read_small(path: Path, limit: int = _MAX_META_BYTES) -> bytes:
    """A small regular file's bytes (a FIFO or device is refused, never opened blocking)."""
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        raise NotARepository(f"{path} is not a regular file")
    with open(path, "rb") as handle:
        return handle.read(limit)


def _git_dir_of(path: Path) -> Path:
    """The git directory of a work tree (`.git`, or the folder a `.git` file names) or of a
    bare repository. Like `git -C path` without discovery: a sub-folder is not a repository."""
    dot_git = path / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        text = _read_small(dot_git, 4096).decode("utf-8", "replace").strip()
        if not text.startswith("gitdir:"):
            raise NotARepository(f"{path} is not a git repository (bad .git file)")
        target = Path(text.removeprefix("gitdir:").strip())
        return target if target.is_absolute() else path / target
    if (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir():
        return path  # a bare repository
    raise NotARepository(f"{path} is not a git repository")


_SECTION = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)\s*(?:"[^"]*")?\s*\]\s*(.*)$')
_ENTRY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9-]*)\s*=\s*\"?([A-Za-z0-9_-]*)\"?\s*(?:[#;].*)?$")


def _object_format(config: Path) -> str:
    """`extensions.objectFormat` of a repository's config (the only setting taken from it:
    without it a SHA-256 repository cannot be read at all)."""
    try:
        text = _read_small(config).decode("utf-8", "replace")
    except (OSError, NotARepository):
        return "sha1"
    section = ""
    for line in text.splitlines():
        if header := _SECTION.match(line):
            section = header[1].lower()
            line = header[2]
        entry = _ENTRY.match(line) if section == "extensions" else None
        if entry and entry[1].lower() == "objectformat" and entry[2].lower() in ("sha1", "sha256"):
            return entry[2].lower()
    return "sha1"


_MAX_SCANNED = 200_000
"""Entries looked at for FIFOs and devices before a repository is trusted to be files."""


def _refuse_special_files(repo: Path, common: Path) -> None:
    """Refuse a repository holding a FIFO, device or socket where git reads a file (refs,
    `packed-refs`, objects, packs, `objects/info/alternates`): git would block on it until
    its timeout. Read from the directory entries' types, so the scan costs no `stat`."""
    seen = 0
    folders = [common / "refs", common / "objects"]
    for name in ("packed-refs", "shallow", "HEAD"):
        found = common / name
        try:
            mode = found.stat().st_mode
        except OSError:
            continue
        if not stat.S_ISREG(mode):
            raise NotARepository(f"{repo}: {name} is not a regular file; not read")
    while folders and seen < _MAX_SCANNED:
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if entry.is_dir(follow_symlinks=False):
                folders.append(Path(entry.path))
            elif not entry.is_file():  # follows a symlink: what it points to must be a file
                where = os.path.relpath(entry.path, common)
                raise NotARepository(
                    f"{repo}: {where} is not a regular file (a FIFO or device would hang git);"
                    " not read"
                )


class IsolatedGitDir:
    """A private git directory for reading one repository without trusting it.

    It points at the repository's objects (`GIT_OBJECT_DIRECTORY`) and links its refs,
    `packed-refs` and `shallow`; HEAD is copied. Its config is ours (bare, no remotes, no
    drivers, nothing included) and it has no hooks and no attributes, so nothing the
    repository's own config, hooks or `.gitattributes` say can make git start a program, fetch,
    or read another repository. Removed when closed or garbage-collected.
    """

    def __init__(self, repo: Path | str) -> None:
        self.repo = Path(repo)
        git_dir = _git_dir_of(self.repo)
        common = git_dir
        commondir = git_dir / "commondir"
        if commondir.is_file():  # a linked work tree: refs and objects live in the main one
            shared = Path(_read_small(commondir, 4096).decode("utf-8", "replace").strip())
            common = shared if shared.is_absolute() else git_dir / shared
        self.objects = Path(os.path.realpath(common / "objects"))
        if not self.objects.is_dir():
            raise NotARepository(f"{self.repo} is not a git repository (no objects)")
        try:
            head = _read_small(git_dir / "HEAD", 4096)
        except OSError:
            raise NotARepository(f"{self.repo} is not a git repository (no HEAD)") from None
        if not _HEAD.match(head):
            head = b"ref: refs/heads/cockpit-unreadable-head\n"
        self.common = Path(os.path.realpath(common))
        _refuse_special_files(self.repo, self.common)
        import shutil  # git readers only (with bz2 and lzma, ~2 ms at every start)
        import tempfile  # git readers only: rg and journalctl need no private folder

        self.path = Path(tempfile.mkdtemp(prefix="cockpit-git-"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.path), True)
        object_format = _object_format(self.common / "config")
        config = "[core]\n\trepositoryformatversion = {}\n\tbare = true\n".format(
            1 if object_format != "sha1" else 0
        )
        if object_format != "sha1":
            config += f"[extensions]\n\tobjectformat = {object_format}\n"
        (self.path / "config").write_text(config)
        (self.path / "HEAD").write_bytes(head if head.endswith(b"\n") else head + b"\n")
        (self.path / "objects").symlink_to(self.objects)
        refs = self.common / "refs"
        if refs.is_dir():
            (self.path / "refs").symlink_to(refs)
        else:
            (self.path / "refs").mkdir()
        for name in ("packed-refs", "shallow"):
            if (self.common / name).is_file():
                (self.path / name).symlink_to(self.common / name)

    @property
    def shallow(self) -> bool:
        """Whether the repository is a shallow clone."""
        return (self.path / "shallow").exists()

    def close(self) -> None:
        """Remove the private directory (the repository itself is never touched)."""
        self._cleanup()


def _spawn_env(
    argv: Sequence[str], env: Mapping[str, str] | None, git_dir: IsolatedGitDir | None
) -> dict[str, str]:
    if not argv or Path(argv[0]).name != "git":
        return reader_env(env)
    if git_dir is None:
        # From the current directory git would read that repository's own config.
        raise ReaderRefused(
            "git runs only on a repository opened by the cockpit (an IsolatedGitDir), never "
            "on the current directory's"
        )
    return git_env(git_dir)


def run_reader(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    git_dir: IsolatedGitDir | None = None,
    trusted_binaries: Iterable[str | os.PathLike[str]] = (),
) -> subprocess.CompletedProcess[bytes]:
    """Run a read-only reader to completion and return its output (bytes).

    git needs `git_dir` (it never runs on the current directory's repository); its environment
    is built from scratch and `env` is ignored.
    """
    return subprocess.run(  # argv validated by reader_argv; never a shell
        reader_argv(argv, trusted_binaries=trusted_binaries),
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env=_spawn_env(argv, env, git_dir),
        stdin=subprocess.DEVNULL,
        check=False,
    )


def start_reader(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    git_dir: IsolatedGitDir | None = None,
    trusted_binaries: Iterable[str | os.PathLike[str]] = (),
    stdin: bool = False,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Start a read-only reader whose stdout the caller streams; the caller must wait or kill it.

    `stdin=True`: the caller writes the reader's input (rg matching what the cockpit read or
    decompressed itself). `pass_fds`: descriptors of files the cockpit opened and checked, that
    the reader reads as `/dev/fd/N` (so it reads exactly those files, whatever their paths
    point at by then).
    """
    process = subprocess.Popen(  # argv validated by reader_argv; never a shell
        reader_argv(argv, trusted_binaries=trusted_binaries),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
        cwd=cwd,
        env=_spawn_env(argv, env, git_dir),
        pass_fds=tuple(pass_fds),
    )
    # The isolated git directory must outlive the process reading through it.
    process.cockpit_git_dir = git_dir  # type: ignore[attr-defined]
    return process
