"""Copy, never execute: command checks before copying, and the OSC 52 sequences."""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.core.clipboard import (
    BIDI,
    CARRIAGE_RETURN,
    CONTROL,
    LOOKALIKE,
    NEWLINE,
    NON_ASCII_DASH,
    NON_ASCII_SPACE,
    SCREEN_CHUNK,
    SMART_QUOTE,
    ZERO_WIDTH,
    Finding,
    check_command,
    osc52_sequences,
)


def codes(text: str) -> list[str]:
    return [finding.code for finding in check_command(text)]


@pytest.mark.parametrize(
    "command",
    [
        "kubectl rollout undo deployment/checkout --to-revision=41 -n prod",
        "helm rollback checkout 41 --dry-run=server",
        "git revert --no-edit abc123 && make deploy",
        "kubectl get pods -n prod -o json | jq '.items[] | select(.status.phase != \"Running\")'",
        'echo "$(date -u +%FT%TZ) rollback" >> /tmp/notes; ls -la ~/x || true',
        "kubectI get pods",  # capital I instead of l: plain ASCII, not our business
        "  git log --oneline -n 5  ",  # leading/trailing spaces are not flagged
        "\tgit status\t",  # nor leading/trailing tabs
        "git log --author='José Müller' --grep='東京'",
        "grep -c 'ошибка' /var/log/app.log",  # a Russian word is not a look-alike attack
        "kubectl rollout undo deployment/checkout \\\n  --to-revision=41",  # line continuation
        "",
    ],
)
def test_legitimate_commands_have_no_findings(command: str) -> None:
    assert check_command(command) == []


def test_embedded_newline_is_flagged_with_its_position() -> None:
    findings = check_command("kubectl get pods\nkubectl delete ns prod")
    assert [(f.code, f.positions) for f in findings] == [(NEWLINE, (17,))]
    assert "position 17" in findings[0].message


def test_trailing_newline_is_flagged_because_pasting_runs_it() -> None:
    assert codes("helm rollback checkout 41\n") == [NEWLINE]


def test_carriage_return_is_flagged() -> None:
    assert codes("helm rollback checkout 41\rhelm list") == [CARRIAGE_RETURN]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_control_characters_are_flagged(char: str) -> None:
    findings = check_command(f"git log{char} -n 1")
    assert [f.code for f in findings] == [CONTROL]
    assert findings[0].positions == (8,)
    # The message shows the character as an escape, never raw.
    assert char not in findings[0].message
    assert f"U+{ord(char):04X}" in findings[0].message


def test_escape_sequence_is_flagged_once_per_character() -> None:
    findings = check_command("echo hi\x1b[2K\x1b[1A")
    assert [(f.code, f.positions) for f in findings] == [(CONTROL, (8, 12))]


def test_inner_tab_is_flagged() -> None:
    findings = check_command("kubectl get\tpods")
    assert [f.code for f in findings] == [CONTROL]
    assert "TAB" in findings[0].message


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_zero_width_characters_are_flagged(char: str) -> None:
    findings = check_command(f"kube{char}ctl get pods")
    assert [(f.code, f.positions) for f in findings] == [(ZERO_WIDTH, (5,))]
    assert char not in findings[0].message


def test_other_format_characters_are_flagged() -> None:
    findings = check_command("git log\u0600 -n 1\U0001bca0")
    assert [(f.code, f.positions) for f in findings] == [(ZERO_WIDTH, (8,)), (ZERO_WIDTH, (14,))]


def test_hidden_tag_characters_are_flagged() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "rm -rf")
    findings = check_command(f"git status{hidden}")
    assert {f.code for f in findings} == {ZERO_WIDTH}


@pytest.mark.parametrize(
    "char",
    ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"],
)
def test_bidi_controls_are_flagged(char: str) -> None:
    findings = check_command(f"git log -n 1 {char}-- x")
    assert [f.code for f in findings] == [BIDI]
    assert f"U+{ord(char):04X}" in findings[0].message


def test_cyrillic_lookalikes_are_flagged_by_character_and_position() -> None:
    findings = check_command("kubесtl get pods")  # Cyrillic е (U+0435) and с (U+0441)
    assert [(f.code, f.positions) for f in findings] == [(LOOKALIKE, (4,)), (LOOKALIKE, (5,))]
    assert "cyrillic small letter ie 'е' (U+0435) at position 4" in findings[0].message
    assert "looks like 'e'" in findings[0].message
    assert "U+0441" in findings[1].message


def test_repeated_lookalike_is_one_finding_with_all_positions() -> None:
    findings = check_command("hеlm rollbаck chеckout 41")  # two Cyrillic е, one Cyrillic а
    assert [(f.code, f.positions) for f in findings] == [
        (LOOKALIKE, (2, 17)),
        (LOOKALIKE, (11,)),
    ]
    assert "positions 2, 17" in findings[0].message


def test_greek_lookalike_is_flagged() -> None:
    findings = check_command("kubectl get pοds")  # Greek omicron
    assert [(f.code, f.positions) for f in findings] == [(LOOKALIKE, (14,))]
    assert "greek" in findings[0].message


def test_word_made_only_of_lookalikes_is_flagged() -> None:
    assert codes("ѕһ -c id") == [LOOKALIKE, LOOKALIKE]  # Cyrillic dze and shha: "sh"


@pytest.mark.parametrize(
    ("command", "looks_like"),
    [("ｋubectl get pods", "k"), ("𝐤ubectl get pods", "k"), ("git diff a…b", "...")],
)
def test_fullwidth_and_mathematical_letters_are_flagged(command: str, looks_like: str) -> None:
    findings = check_command(command)
    assert [f.code for f in findings] == [LOOKALIKE]
    assert f"looks like '{looks_like}'" in findings[0].message


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2212", "\u2010", "\uff0d"])
def test_non_ascii_dashes_are_flagged(dash: str) -> None:
    findings = check_command(f"helm rollback checkout 41 {dash}dry-run=server")
    assert [(f.code, f.positions) for f in findings] == [(NON_ASCII_DASH, (27,))]


def test_en_dash_message_names_the_character() -> None:
    (finding,) = check_command("kubectl apply –dry-run")
    assert finding.message.startswith("en dash '–' (U+2013) at position 15")


@pytest.mark.parametrize(
    "command",
    ["echo “rollback”", "git log --grep=‘fix’", "git log --grep=„x“"],
)
def test_smart_quotes_are_flagged(command: str) -> None:
    assert set(codes(command)) == {SMART_QUOTE}
    assert len(codes(command)) == 2


def test_non_breaking_space_is_flagged_and_shown_as_an_escape() -> None:
    (finding,) = check_command("kubectl\u00a0get pods")
    assert finding.code == NON_ASCII_SPACE
    assert "\\xa0" in finding.message
    assert "\u00a0" not in finding.message


def test_findings_are_sorted_by_position_and_messages_are_one_line() -> None:
    findings = check_command("kubесtl –n\u200bprod “x”\nls")
    assert [f.positions[0] for f in findings] == sorted(f.positions[0] for f in findings)
    assert {f.code for f in findings} == {
        LOOKALIKE,
        NON_ASCII_DASH,
        ZERO_WIDTH,
        SMART_QUOTE,
        NEWLINE,
    }
    assert all("\n" not in f.message and "\r" not in f.message for f in findings)
    assert all(isinstance(f, Finding) for f in findings)


# --- OSC 52 ---------------------------------------------------------------------------------

_OSC52 = re.compile(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07")


@pytest.mark.parametrize(
    "text",
    [
        "kubectl rollout undo deployment/checkout --to-revision=41 -n prod",
        "git log --author='José' # 東京 🚀",
        "",
        "line one\nline two",
    ],
)
def test_plain_osc52_round_trips_utf8(text: str) -> None:
    (sequence,) = osc52_sequences(text, {})
    match = _OSC52.fullmatch(sequence)
    assert match is not None
    assert base64.b64decode(match.group(1)).decode("utf-8") == text


def test_tmux_adds_a_passthrough_copy_with_every_esc_doubled() -> None:
    plain, wrapped = osc52_sequences(
        "helm rollback checkout 41", {"TMUX": "/tmp/tmux-1/default,1,0"}
    )
    assert _OSC52.fullmatch(plain)
    assert wrapped.startswith("\x1bPtmux;")
    assert wrapped.endswith("\x1b\\")
    inner = wrapped[len("\x1bPtmux;") : -len("\x1b\\")]
    assert inner == plain.replace("\x1b", "\x1b\x1b")
    assert inner.startswith("\x1b\x1b]52;c;")
    # No lone ESC inside: a single one would end tmux's passthrough early.
    assert re.search(r"(?<!\x1b)\x1b(?!\x1b)", inner) is None


def test_no_wrapping_outside_tmux_and_screen() -> None:
    env = {"TERM": "xterm-256color", "TMUX": ""}
    assert len(osc52_sequences("x", env)) == 1


def test_screen_wraps_in_dcs_chunks_of_at_most_768() -> None:
    text = "k" * 2000  # base64 is 2668 characters, so the OSC needs several chunks
    plain, wrapped = osc52_sequences(
        text, {"TERM": "screen.xterm-256color", "STY": "123.pts-0.host"}
    )
    chunks = re.findall(r"\x1bP(.*?)\x1b\\", wrapped, flags=re.DOTALL)
    assert len(chunks) == -(-len(plain) // SCREEN_CHUNK) == 4
    assert all(len(chunk) <= SCREEN_CHUNK for chunk in chunks)
    assert "".join(f"\x1bP{chunk}\x1b\\" for chunk in chunks) == wrapped
    assert "".join(chunks) == plain


def test_screen_needs_both_term_and_sty() -> None:
    assert len(osc52_sequences("x", {"TERM": "screen"})) == 1
    assert len(osc52_sequences("x", {"STY": "1.pts"})) == 1
    assert len(osc52_sequences("x", {"TERM": "xterm", "STY": "1.pts"})) == 1


def test_tmux_inside_screen_gets_both_wrappings() -> None:
    env = {"TMUX": "/tmp/t,1,0", "TERM": "screen-256color", "STY": "1.pts"}
    _, tmux_wrapped, screen_wrapped = osc52_sequences("x", env)
    assert tmux_wrapped.startswith("\x1bPtmux;")
    assert screen_wrapped.startswith("\x1bP\x1b]52;c;")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_real_tmux_puts_the_copy_in_its_paste_buffer(tmp_path: Path) -> None:
    """The sequences written inside a real tmux pane (set-clipboard on) land in its buffer."""
    text = "kubectl rollout undo deployment/checkout --to-revision=41 -n prod # Zürich 🚀"
    script = tmp_path / "write_osc52.py"
    script.write_text(
        "import os, sys\n"
        "from cockpit.core.clipboard import osc52_sequences\n"
        f"text = {text!r}\n"
        "sys.stdout.write(''.join(osc52_sequences(text, os.environ)))\n"
        "sys.stdout.flush()\n"
    )
    socket = str(tmp_path / "tmux.sock")  # a private server, cleaned up with tmp_path
    # The server must outlive any pane (a loaded CI runner once saw it gone before
    # `new-window`): keep it up with no sessions, and keep panes whose command ended.
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -s exit-empty off\nset -g remain-on-exit on\n")
    tmux = ["tmux", "-S", socket, "-f", str(conf)]
    project = Path(__file__).resolve().parents[1]
    python = shlex.quote(sys.executable)
    # If the script fails, still signal, so the test fails on the assertion instead of a timeout.
    pane_command = (
        f"PYTHONPATH={shlex.quote(str(project))} {python} {shlex.quote(str(script))}"
        f" || tmux -S {shlex.quote(socket)} wait-for -S copied; cat"
    )
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run([*tmux, *args], env=env, capture_output=True, timeout=20)
        assert done.returncode == 0, f"tmux {args[0]}: {done.stderr.decode(errors='replace')}"
        return done

    try:
        # The server starts on an idle pane so the options are in place before the copy runs;
        # tmux's pane-set-clipboard hook tells us when the buffer is set (no sleeping).
        run("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "cat")
        run("set-option", "-s", "set-clipboard", "on")
        run("set-option", "-g", "allow-passthrough", "on")
        run("set-hook", "-g", "pane-set-clipboard", "wait-for -S copied")
        run("new-window", "-t", "t:", pane_command)  # "t:": session t, next free index
        run("wait-for", "copied")
        shown = run("show-buffer")
    finally:
        subprocess.run([*tmux, "kill-server"], env=env, capture_output=True, timeout=10)
    assert shown.stdout.decode("utf-8") == text


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_passthrough_copy_reaches_the_outer_terminal_through_tmux(tmp_path: Path) -> None:
    """tmux with set-clipboard off but allow-passthrough on forwards only the wrapped copy.

    An inner tmux (set-clipboard off, allow-passthrough on) runs inside a pane of an outer
    tmux that stands in for the engineer's terminal: the wrapped sequence alone must reach the
    outer one's clipboard, and the inner one must keep no buffer of its own.
    """
    text = "helm rollback payments 7 # naïve 東京"
    script = tmp_path / "write_wrapped.py"
    script.write_text(
        "import os, sys\n"
        "from cockpit.core.clipboard import osc52_sequences\n"
        f"plain, wrapped = osc52_sequences({text!r}, os.environ)\n"
        "sys.stdout.write(wrapped)\n"
        "sys.stdout.flush()\n"
    )
    project = Path(__file__).resolve().parents[1]
    conf = tmp_path / "tmux.conf"  # servers that outlive their panes (see the test above)
    conf.write_text("set -s exit-empty off\nset -g remain-on-exit on\n")
    outer = ["tmux", "-S", str(tmp_path / "outer.sock"), "-f", str(conf)]
    inner = ["tmux", "-S", str(tmp_path / "inner.sock"), "-f", str(conf)]
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}

    def run(tmux: list[str], *args: str) -> subprocess.CompletedProcess[bytes]:
        done = subprocess.run([*tmux, *args], env=env, capture_output=True, timeout=20)
        assert done.returncode == 0, f"tmux {args[0]}: {done.stderr.decode(errors='replace')}"
        return done

    python = shlex.quote(sys.executable)
    write = f"PYTHONPATH={shlex.quote(str(project))} {python} {shlex.quote(str(script))}; cat"
    try:
        run(outer, "new-session", "-d", "-s", "o", "-x", "100", "-y", "30", "cat")
        run(outer, "set-option", "-s", "set-clipboard", "on")
        run(outer, "set-hook", "-g", "pane-set-clipboard", "wait-for -S outer-copied")
        run(inner, "new-session", "-d", "-s", "i", "-x", "100", "-y", "29", "cat")
        run(inner, "set-option", "-s", "set-clipboard", "off")
        run(inner, "set-option", "-g", "allow-passthrough", "on")
        run(inner, "set-hook", "-g", "client-attached", "wait-for -S inner-attached")
        # The outer pane attaches a client to the inner server: that client's terminal is the
        # outer pane, where passthrough output lands.
        attach = " ".join(shlex.quote(a) for a in [*inner, "attach", "-t", "i"])
        run(outer, "new-window", "-t", "o:", f"env -u TMUX {attach}")
        run(inner, "wait-for", "inner-attached")
        run(inner, "new-window", "-t", "i:", write)
        run(outer, "wait-for", "outer-copied")
        shown = run(outer, "show-buffer")
        inner_buffers = run(inner, "list-buffers")
    finally:
        for tmux in (inner, outer):
            subprocess.run([*tmux, "kill-server"], env=env, capture_output=True, timeout=10)
    assert shown.stdout.decode("utf-8") == text
    assert inner_buffers.stdout == b""
