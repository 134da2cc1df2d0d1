"""The Logs pane's patterns view at 80x24: templates a person tells apart at a glance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Input

from cockpit.core.config import Config, FileSource
from cockpit.tui.panes.log_search import LogSearchPane
from tests.tui_support import workers_done

NOW = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
STYLES = Path(__file__).parent.parent / "styles" / "log_search.tcss"
PAM = "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip}"


def auth_log() -> str:
    """Syslog lines of sshd, as real hosts write them, in the last hour."""
    users = ["admin", "oracle", "test", "guest", "root", "ubuntu"]
    lines = []
    for n in range(120):
        at = NOW - timedelta(minutes=50) + timedelta(seconds=20 * n)
        head = f"{at:%b %d %H:%M:%S} bastion sshd[{2000 + n}]:"
        ip = f"10.0.{n % 7}.{n % 250}"
        kind = n % 4
        if kind == 0:
            lines.append(f"{head} {PAM.format(ip=ip)} user={users[n // 4 % 6]}")
        elif kind == 1:
            lines.append(f"{head} {PAM.format(ip=ip)}")
        elif kind == 2:
            lines.append(
                f"{head} Failed password for invalid user {users[n // 4 % 6]} from {ip} port 22"
            )
        else:
            lines.append(f"{head} Received disconnect from {ip}: 11: Bye Bye [preauth]")
    return "\n".join(lines) + "\n"


class PaneApp(App[None]):
    CSS_PATH = [STYLES]

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config

    def compose(self) -> ComposeResult:
        yield LogSearchPane(self.config, lambda: NOW, id="logs")


async def test_long_templates_show_what_tells_them_apart_at_80_columns(tmp_path: Path) -> None:
    (tmp_path / "auth.log").write_text(auth_log())
    config = Config(
        sources=[FileSource(name="auth", paths=["auth.log"])], source_path=tmp_path / "c.toml"
    )
    app = PaneApp(config)
    async with app.run_test(size=(80, 24)) as pilot:
        box = app.query_one("#log-search-pattern", Input)
        box.focus()
        await pilot.press("s", "s", "h", "d", "enter")
        await workers_done(app)
        await pilot.pause()
        await pilot.press("alt+v")
        await pilot.pause()
        pane = app.query_one(LogSearchPane)
        assert sorted(row.count for row in pane.pattern_rows) == [30, 30, 30, 30]
        table = app.query_one("#log-search-patterns", DataTable)
        shown = [str(table.get_row_at(i)[5]) for i in range(4)]
        # Every template fits beside the short columns, and the two pam_unix ones, which
        # share their first 80 characters, read differently.
        widths = [column.get_render_width(table) for column in table.ordered_columns]
        assert sum(widths) <= table.size.width
        # Each leads with where it parts from the other; the prefix they share follows.
        pam = sorted(text for text in shown if "[pam_unix(sshd:auth):" in text)
        assert len(pam) == 2 and pam[0] != pam[1]
        assert any(text.startswith("…user=<*>  [") for text in pam)
        assert any(text.startswith("Failed password for invalid user") for text in shown)
        assert all("<*" in text for text in shown)  # variables show as <*>, maybe cut
