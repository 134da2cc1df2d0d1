"""`cockpit note`, `cockpit timeline` and `cockpit incidents`, end to end on a real store."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import cockpit
from cockpit.cli import main
from cockpit.core.incident import Kind
from cockpit.core.sanitize import visible
from cockpit.core.store import EventStore, StoreError

REPO = Path(cockpit.__file__).resolve().parent.parent
HOSTILE = (
    "rolled back \x1b[2J\x1b]52;c;ZXZpbA==\x07 [@click=app.quit] [link=http://x]y[/link]"
    " \x9b31m\x7f"
)
TIMELINE_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ  (?P<author>\S+)  (?P<kind>\S+)  (?P<text>.*)$"
)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An isolated world: cwd, XDG and $COCKPIT_CONFIG point nowhere real."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    return tmp_path


def write_config(
    folder: Path, author: str, store: str = "shared/incidents.db", extra: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{author}.toml"
    path.write_text(f'[cockpit]\nauthor = "{author}"\nstore = "{store}"\n{extra}')
    return path


@pytest.fixture
def alice(env: Path) -> Path:
    return write_config(env, "alice")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run the real entry point in-process; SystemExit from `fail` becomes the exit code."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def new_incident(capsys: pytest.CaptureFixture[str], config: Path, title: str, *flags: str) -> str:
    result = cli(capsys, "--config", str(config), "incidents", "--new", title, *flags)
    assert result.code == 0, result.err
    incident_id = result.out.strip()
    assert re.fullmatch(r"[0-9a-f]{12}", incident_id)
    return incident_id


# -- rename -----------------------------------------------------------------------------------


def test_rename_records_the_new_title_on_the_timeline_and_in_the_listing(
    capsys: pytest.CaptureFixture[str], alice: Path, env: Path
) -> None:
    incident_id = new_incident(capsys, alice, "Untitled incident")
    result = cli(capsys, "--config", str(alice), "incidents", "--rename", "Checkout 5xx")
    assert result.code == 0, result.err
    assert re.fullmatch(
        rf"saved: renamed incident {incident_id} #\d+: Untitled incident -> Checkout 5xx\n",
        result.out,
    )
    listing = cli(capsys, "--config", str(alice), "incidents", "--json")
    assert [row["title"] for row in json.loads(listing.out)] == ["Checkout 5xx"]
    timeline = cli(capsys, "--config", str(alice), "timeline")
    assert "incident renamed: Untitled incident -> Checkout 5xx" in timeline.out


def test_rename_bad_input_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], alice: Path
) -> None:
    new_incident(capsys, alice, "checkout 500s")
    empty = cli(capsys, "--config", str(alice), "incidents", "--rename", "  ")
    assert (empty.code, empty.err) == (
        2,
        'cockpit: the new title is empty; use `cockpit incidents --rename "TITLE"`\n',
    )
    unknown = cli(
        capsys, "--config", str(alice), "incidents", "--rename", "x", "--incident", "zzzz"
    )
    assert unknown.code == 2 and unknown.err.startswith("cockpit: no incident 'zzzz' in ")
    stray = cli(capsys, "--config", str(alice), "incidents", "--incident", "zzzz")
    assert (stray.code, stray.err) == (2, "cockpit: --incident only goes with --rename TITLE\n")


# -- note -------------------------------------------------------------------------------------


def test_note_without_open_incident_is_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], alice: Path, env: Path
) -> None:
    result = cli(capsys, "--config", str(alice), "note", "hello")
    assert result.code == 2
    assert result.out == ""
    store = env / "shared" / "incidents.db"
    assert result.err == (
        f"cockpit: no open incident in {store}; open one with "
        "`cockpit incidents --new TITLE` or `cockpit`\n"
    )


def test_note_is_saved_then_acknowledged(
    capsys: pytest.CaptureFixture[str], alice: Path, env: Path
) -> None:
    incident_id = new_incident(capsys, alice, "checkout 500s")
    result = cli(capsys, "--config", str(alice), "note", "rolled", "back", "to", "b9c1d4e")
    assert result.code == 0, result.err
    match = re.fullmatch(
        rf"saved: note #(\d+) to incident {incident_id} \(checkout 500s\)\n", result.out
    )
    assert match, result.out
    with EventStore(env / "shared" / "incidents.db") as store:
        note = store.events(incident_id)[-1]
    assert (note.seq, note.kind, note.author) == (int(match[1]), Kind.NOTE_ADDED, "alice")
    assert note.payload == {"text": "rolled back to b9c1d4e"}


def test_note_failure_never_says_saved(
    capsys: pytest.CaptureFixture[str], alice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_incident(capsys, alice, "checkout 500s")

    def failing_append(self: EventStore, *args: object, **kwargs: object) -> None:
        raise StoreError(f"{self.path}: write failed, nothing saved (disk I/O error)")

    monkeypatch.setattr(EventStore, "append", failing_append)
    result = cli(capsys, "--config", str(alice), "note", "lost?")
    assert result.code == 2
    assert "saved:" not in result.out
    assert result.err.count("\n") == 1 and "nothing saved (disk I/O error)" in result.err


def test_note_options(
    capsys: pytest.CaptureFixture[str],
    alice: Path,
    env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    older = new_incident(capsys, alice, "older")
    newer = new_incident(capsys, alice, "newer")
    # --incident takes a unique prefix; --author overrides the config.
    result = cli(
        capsys,
        "--config",
        str(alice),
        "note",
        "--incident",
        older[:8],
        "--author",
        "carol",
        "for the older one",
    )
    assert result.code == 0 and f"to incident {older} (older)" in result.out
    # `-` reads the note from stdin, for piping a command's output in.
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\n"))
    result = cli(capsys, "--config", str(alice), "note", "-")
    assert result.code == 0 and f"to incident {newer} (newer)" in result.out
    with EventStore(env / "shared" / "incidents.db") as store:
        assert store.events(older)[-1].author == "carol"
        assert store.events(newer)[-1].payload["text"] == "from stdin"


def test_empty_note_and_unknown_incident(capsys: pytest.CaptureFixture[str], alice: Path) -> None:
    new_incident(capsys, alice, "checkout 500s")
    result = cli(capsys, "--config", str(alice), "note", "   ")
    assert result.code == 2 and "the note is empty" in result.err
    result = cli(capsys, "--config", str(alice), "note", "--incident", "nothere", "x")
    assert result.code == 2
    assert result.err.startswith("cockpit: no incident 'nothere' in ")
    assert result.err.count("\n") == 1


def test_note_skips_closed_incidents_and_drills(
    capsys: pytest.CaptureFixture[str], alice: Path, env: Path
) -> None:
    real = new_incident(capsys, alice, "real one")
    closed = new_incident(capsys, alice, "closed one")
    drill = new_incident(capsys, alice, "game day", "--drill")
    with EventStore(env / "shared" / "incidents.db") as store:
        store.close_incident(closed)
    result = cli(capsys, "--config", str(alice), "note", "where does this go")
    assert f"to incident {real} (real one)" in result.out
    # A drill config writes to the drill, never to the real incident.
    drill_config = write_config(env, "drillmaster", extra="drill = true\n")
    result = cli(capsys, "--config", str(drill_config), "note", "inject: disk full")
    assert f"to incident {drill} (game day)" in result.out


def test_pairing_partner_sees_attributed_notes(
    capsys: pytest.CaptureFixture[str], alice: Path, env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = write_config(env / "bob-home", "bob", store=str(env / "shared" / "incidents.db"))
    new_incident(capsys, alice, "checkout 500s")
    monkeypatch.setenv("COCKPIT_CONFIG", str(bob))  # bob's shell finds his config by env
    assert cli(capsys, "note", "p95 back to normal").code == 0
    result = cli(capsys, "--config", str(alice), "timeline")
    lines = [TIMELINE_LINE.match(line) for line in result.out.splitlines()]
    assert all(lines), result.out
    assert [(m["author"], m["kind"]) for m in lines if m] == [
        ("alice", "incident.opened"),
        ("bob", "note.added"),
    ]


# -- timeline ---------------------------------------------------------------------------------


def test_timeline_human_format(capsys: pytest.CaptureFixture[str], alice: Path, env: Path) -> None:
    incident_id = new_incident(capsys, alice, "checkout 500s")
    with EventStore(env / "shared" / "incidents.db") as store:
        store.append(
            incident_id, Kind.ITEM_CHECKED, {"phase": "assess", "item": "Check p95"}, "bob"
        )
        store.append(
            incident_id,
            Kind.COMMAND_COPIED,
            {"text": "helm rollback checkout 41", "purpose": "rollback"},
            "alice",
        )
    cli(capsys, "--config", str(alice), "note", "multi\nline note")
    result = cli(capsys, "--config", str(alice), "timeline")
    assert result.code == 0
    texts = [m["text"] for m in map(TIMELINE_LINE.match, result.out.splitlines()) if m]
    assert texts == [
        "incident opened: checkout 500s",
        "checked [Assess] Check p95",
        "copied, not executed (rollback): helm rollback checkout 41",
        "note: multi\\nline note",  # one line per event, the newline shown as an escape
    ]


def test_timeline_shows_hostile_text_escaped(
    capsys: pytest.CaptureFixture[str], alice: Path
) -> None:
    new_incident(capsys, alice, "checkout 500s")
    assert cli(capsys, "--config", str(alice), "note", HOSTILE).code == 0
    result = cli(capsys, "--config", str(alice), "timeline")
    last = result.out.splitlines()[-1]
    for raw in ("\x1b", "\x07", "\x9b", "\x7f"):
        assert raw not in result.out
    assert last.endswith("note: " + visible(HOSTILE))
    assert "\\x1b[2J" in last and "[@click=app.quit]" in last  # shown, literally, as text


def test_timeline_json_keeps_raw_payloads_safely_escaped(
    capsys: pytest.CaptureFixture[str], alice: Path
) -> None:
    incident_id = new_incident(capsys, alice, "checkout 500s")
    cli(capsys, "--config", str(alice), "note", HOSTILE)
    result = cli(capsys, "--config", str(alice), "timeline", "--json")
    assert result.code == 0
    assert all(ch.isascii() and (ch.isprintable() or ch == "\n") for ch in result.out)
    events = json.loads(result.out)
    assert [e["kind"] for e in events] == ["incident.opened", "note.added"]
    assert events[1]["payload"] == {"text": HOSTILE}  # raw, exactly as entered
    assert {e["incident_id"] for e in events} == {incident_id}
    assert set(events[0]) == {"seq", "id", "incident_id", "ts", "author", "kind", "payload"}
    assert events[0]["seq"] < events[1]["seq"]


def test_timeline_of_a_chosen_incident(capsys: pytest.CaptureFixture[str], alice: Path) -> None:
    first = new_incident(capsys, alice, "first")
    new_incident(capsys, alice, "second")
    result = cli(capsys, "--config", str(alice), "timeline", "--incident", first)
    assert result.out.splitlines()[0].endswith("incident opened: first")


def test_timeline_without_open_incident(
    capsys: pytest.CaptureFixture[str], alice: Path, env: Path
) -> None:
    closed = new_incident(capsys, alice, "over")
    with EventStore(env / "shared" / "incidents.db") as store:
        store.close_incident(closed)
    result = cli(capsys, "--config", str(alice), "timeline")
    assert result.code == 2 and result.err.startswith("cockpit: no open incident in ")
    assert result.err.endswith(
        "pass --incident ID for a closed one (`cockpit incidents --all` lists them)\n"
    )
    result = cli(capsys, "--config", str(alice), "timeline", "--incident", closed)
    assert result.code == 0 and "incident opened: over" in result.out


# -- incidents --------------------------------------------------------------------------------


def test_incidents_listing(capsys: pytest.CaptureFixture[str], alice: Path, env: Path) -> None:
    assert "no open incidents in" in cli(capsys, "--config", str(alice), "incidents").out
    old = new_incident(capsys, alice, "old and done")
    current = new_incident(capsys, alice, "checkout 500s")
    drill = new_incident(capsys, alice, "game day", "--drill")
    with EventStore(env / "shared" / "incidents.db") as store:
        store.close_incident(old)
        store.append(current, Kind.DECLARED, {"severity": "SEV2"}, "alice")
        store.append(current, Kind.PHASE_CHANGED, {"phase": "verify"}, "alice")
        store.append(current, Kind.RESOLVED, {"detail": "5xx back to 0.1%"}, "alice")
    lines = cli(capsys, "--config", str(alice), "incidents").out.splitlines()
    assert len(lines) == 2
    opened = r"\d{4}-\d\d-\d\d \d\d:\d\dZ"
    assert re.fullmatch(
        rf"  {drill}  {opened}  open       -     Assess    game day  \[drill\]", lines[0]
    )
    # Resolved is said as resolved, with its severity and phase side by side (not "open").
    assert re.fullmatch(
        rf"\* {current}  {opened}  resolved   SEV2  Verify    checkout 500s", lines[1]
    )
    everything = cli(capsys, "--config", str(alice), "incidents", "--all").out.splitlines()
    assert len(everything) == 3 and everything[2].startswith(f"  {old}")
    assert "closed     -     Assess    old and done" in everything[2]
    rows = json.loads(cli(capsys, "--config", str(alice), "incidents", "--json").out)
    assert [(r["status"], r["severity"], r["phase"]) for r in rows] == [
        ("open", None, "assess"),
        ("resolved", "SEV2", "verify"),
    ]


def test_incidents_json(capsys: pytest.CaptureFixture[str], alice: Path) -> None:
    incident_id = new_incident(capsys, alice, "checkout \x1b[31m500s")
    rows = json.loads(cli(capsys, "--config", str(alice), "incidents", "--json").out)
    assert rows == [
        {
            "id": incident_id,
            "title": "checkout \x1b[31m500s",
            "opened_at": rows[0]["opened_at"],
            "opened_by": "alice",
            "status": "open",
            "severity": None,
            "phase": "assess",
            "closed_at": None,
            "drill": False,
            "current": True,
        }
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", rows[0]["opened_at"])


def test_incidents_new_reports_on_stderr(capsys: pytest.CaptureFixture[str], alice: Path) -> None:
    result = cli(capsys, "--config", str(alice), "incidents", "--new", "search slow")
    assert result.err == f"saved: opened incident {result.out.strip()} (search slow)\n"
    drill = cli(capsys, "--config", str(alice), "incidents", "--new", "gd", "--drill")
    assert drill.err.startswith("saved: opened drill ")
    assert cli(capsys, "--config", str(alice), "incidents", "--new", " ").code == 2
    bad = cli(capsys, "--config", str(alice), "incidents", "--drill")
    assert bad.code == 2 and "--drill only goes with --new" in bad.err


def test_store_on_network_filesystem_is_one_line(
    capsys: pytest.CaptureFixture[str], alice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cockpit.core import store as store_module

    monkeypatch.setattr(store_module, "filesystem_type", lambda path: "nfs4")
    result = cli(capsys, "--config", str(alice), "incidents")
    assert result.code == 2
    assert result.err.count("\n") == 1 and "nfs4 network filesystem" in result.err


# -- config search order through the commands -------------------------------------------------


def test_config_search_order(
    capsys: pytest.CaptureFixture[str], env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--config beats $COCKPIT_CONFIG beats ./cockpit.toml beats the XDG config."""
    stores = {}
    for name, folder in (
        ("flag", env / "f"),
        ("env", env / "e"),
        ("cwd", env / "work"),
        ("xdg", env / "xdg" / "cockpit"),
    ):
        config = write_config(folder, name, store=f"{name}.db")
        if name in ("cwd", "xdg"):
            config = config.rename(folder / "cockpit.toml")
        stores[name] = (config, folder / f"{name}.db")
    monkeypatch.setenv("COCKPIT_CONFIG", str(stores["env"][0]))

    def opened_in() -> str:
        cli(capsys, *args, "incidents", "--new", "probe")
        found = [name for name, (_, db) in stores.items() if db.exists()]
        assert len(found) == 1, found
        stores[found[0]][1].unlink()
        return found[0]

    args: tuple[str, ...] = ("--config", str(stores["flag"][0]))
    assert opened_in() == "flag"
    args = ()
    assert opened_in() == "env"
    monkeypatch.delenv("COCKPIT_CONFIG")
    assert opened_in() == "cwd"
    stores["cwd"][0].unlink()
    assert opened_in() == "xdg"


# -- real processes: no textual, no traceback -------------------------------------------------


def run_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, code: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, **(env or {}))
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), full_env.get("PYTHONPATH")) if p
    )
    argv = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "cockpit", *args]
    return subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60)


NO_TEXTUAL = """
import sys
from cockpit.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
assert not loaded, f"textual imported: {loaded[:5]}"
print("exit", code, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["incidents", "--new", "checkout 500s"],
        ["note", "rolled back"],
        ["timeline"],
        ["timeline", "--json"],
        ["incidents", "--all"],
        ["incidents", "--json"],
        ["note", "--help"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_headless_commands_do_not_import_textual(alice: Path, env: Path, argv: list[str]) -> None:
    # Each command after `incidents --new` finds the incident the first run opened.
    if argv[0] != "--help" and argv[:2] != ["incidents", "--new"]:
        with EventStore(env / "shared" / "incidents.db") as store:
            if store.current_incident() is None:
                store.create_incident("checkout 500s", "alice")
    result = run_process(*argv, cwd=env, env={"COCKPIT_CONFIG": str(alice)}, code=NO_TEXTUAL)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith("exit 0"), result.stderr


def test_real_process_round_trip(alice: Path, env: Path) -> None:
    """The installed entry point, as the pairing partner would type it."""
    opened = run_process("--config", str(alice), "incidents", "--new", "checkout 500s", cwd=env)
    assert opened.returncode == 0, opened.stderr
    incident_id = opened.stdout.strip()
    noted = run_process("note", HOSTILE, cwd=env, env={"COCKPIT_CONFIG": str(alice)})
    assert noted.returncode == 0, noted.stderr
    assert noted.stdout.startswith(f"saved: note #2 to incident {incident_id} (checkout 500s)")
    shown = run_process("--config", str(alice), "timeline", cwd=env)
    assert shown.returncode == 0
    assert "\x1b" not in shown.stdout and "\x9b" not in shown.stdout
    assert shown.stdout.splitlines()[-1].endswith(visible(HOSTILE))


def test_real_process_no_incident_exit_2_no_traceback(alice: Path, env: Path) -> None:
    result = run_process("--config", str(alice), "note", "x", cwd=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_arguments_and_user_names_that_are_not_utf8_never_crash(env: Path) -> None:
    """Bytes that are not UTF-8 on the command line (a pasted Latin-1 log line) or in $USER:
    a note, a title and an author are saved with the byte shown as `\\xff`; a search pattern
    is one line and exit 2. Never a traceback."""
    config = write_config(env, "alice").read_text().replace('author = "alice"\n', "")
    (env / "c.toml").write_text(config)
    config_arg = os.fsencode(env / "c.toml")
    base = [os.fsencode(sys.executable), b"-m", b"cockpit", b"--config", config_arg]
    child_env = {**os.environ, "PYTHONPATH": str(REPO), "USER": "\udcff", "LOGNAME": "\udcff"}

    def run(*args: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*base, *args], env=child_env, capture_output=True, timeout=60)

    for args in (
        (b"incidents", b"--new", b"checkout \xff down"),
        (b"note", b"pasted \x9b byte"),
        (b"incidents", b"--rename", b"renamed \xe9"),
    ):
        done = run(*args)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    timeline = run(b"timeline").stdout.decode()
    assert "note: pasted \\x9b byte" in timeline and "\\xff@" in timeline
    assert "renamed \\xe9" in run(b"incidents").stdout.decode()
    refused = run(b"search", b"\x9b", os.fsencode(env))
    assert refused.returncode == 2 and b"Traceback" not in refused.stderr
    assert refused.stderr.decode().count("\n") == 1 and b"not UTF-8" in refused.stderr
