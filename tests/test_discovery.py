"""Discovery on a fake host (a temporary root) holding logs in their documented formats, a real
journal, a git repository, and real Prometheus and Alertmanager servers on free ports."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cockpit.core.config import FileSource, JournaldSource, LokiSource, load_config_file
from cockpit.core.deploys import list_deploys
from cockpit.core.discovery import discover
from cockpit.core.discovery.host import hint_for, service_of_pod, split_name
from cockpit.core.discovery.model import State
from cockpit.core.search.engine import make_sources, run_search
from cockpit.core.search.model import Query
from tests.alertmanager_support import free_port, running_alertmanager
from tests.fakes.loki import FakeLoki

REPO = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC).replace(microsecond=0)
CONTAINER_ID = "4f" * 32
POD_DIR = "shop_checkout-7d9f8b6c5-x2x4z_0b6f2c1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e"
ENV_KEYS = ("PROMETHEUS_URL", "ALERTMANAGER_URL", "LOKI_ADDR", "COCKPIT_CONFIG")


def _syslog_time(moment: datetime) -> str:
    return f"{moment:%b} {moment.day:2d} {moment:%H:%M:%S}"


def _nginx_time(moment: datetime) -> str:
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def build_host(root: Path) -> None:
    """A host's logs in their documented formats: syslog (RFC 3164 as rsyslog writes it, with
    rotations), nginx's combined access log, Docker json-file and a kubelet CRI log."""
    log = root / "var" / "log"
    (log / "nginx").mkdir(parents=True)
    early, late = NOW - timedelta(hours=2), NOW - timedelta(minutes=5)
    (log / "syslog").write_text(
        f"{_syslog_time(late)} web1 systemd[1]: Started checkout.service.\n"
        f"{_syslog_time(late)} web1 checkout[812]: error: upstream timed out\n"
    )
    (log / "syslog.1").write_text(f"{_syslog_time(early)} web1 CRON[99]: (root) CMD (true)\n")
    with gzip.open(log / "syslog.2.gz", "wt") as handle:
        handle.write(f"{_syslog_time(early)} web1 kernel: booting\n")
    (log / "nginx" / "access.log").write_text(
        f'10.0.0.1 - - [{_nginx_time(late)}] "GET /cart HTTP/1.1" 500 512 "-" "curl/8.0"\n'
        f'10.0.0.2 - - [{_nginx_time(late)}] "GET /health HTTP/1.1" 200 2 "-" "kube-probe"\n'
    )
    (log / "nginx" / "access.log.1").write_text(
        f'10.0.0.3 - - [{_nginx_time(early)}] "GET /cart HTTP/1.1" 200 512 "-" "curl/8.0"\n'
    )
    (log / "nginx" / "error.log").write_text(
        f"{late:%Y/%m/%d %H:%M:%S} [error] 31#31: *1 upstream timed out, request: "
        '"GET /cart HTTP/1.1"\n'
    )
    (log / "wtmp").write_bytes(b"\0" * 384)  # binary accounting: never a log source
    (log / "app").mkdir()
    (log / "app" / "app.log.1.xz").write_bytes(b"\xfd7zXZ\0")
    (log / "app" / "app.log").write_text(f"{late.isoformat()} level=error msg=GET /cart 500\n")

    container = root / "var" / "lib" / "docker" / "containers" / CONTAINER_ID
    container.mkdir(parents=True)
    (container / "config.v2.json").write_text(
        json.dumps(
            {"Name": "/shop-web-1", "Config": {"Labels": {"com.docker.compose.service": "web"}}}
        )
    )
    record = {
        "log": 'GET /cart 500 "oops"\n',
        "stream": "stderr",
        "time": late.isoformat().replace("+00:00", ".123456789Z"),
    }
    (container / f"{CONTAINER_ID}-json.log").write_text(json.dumps(record) + "\n")

    pod = root / "var" / "log" / "pods" / POD_DIR / "checkout"
    pod.mkdir(parents=True)
    stamp = late.isoformat().replace("+00:00", ".000000001Z")
    (pod / "0.log").write_text(f"{stamp} stdout P GET /cart \n{stamp} stdout F 500 from the pod\n")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(cwd),
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def make_repo(path: Path, *, tags: bool) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for number in range(3):
        (path / "f.txt").write_text(str(number))
        git(path, "add", "f.txt")
        git(path, "commit", "-q", "-m", f"change {number}")
        if tags:
            git(path, "tag", f"deploy/{'checkout' if number else 'web'}/v{number}")
    return path


@contextmanager
def running_prometheus(directory: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus not installed (apt-get install prometheus)")
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (directory / "prometheus.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "prometheus did not become ready in 30 s"
            time.sleep(0.1)  # readiness poll of a real server, bounded above
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ENV_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_discovers_a_whole_fake_host_with_real_servers(tmp_path: Path, clean_env, monkeypatch):
    root = tmp_path / "host"
    build_host(root)
    repo = make_repo(tmp_path / "shop", tags=True)
    loki = FakeLoki()
    loki.add({"job": "shop", "service_name": "web"}, time.time_ns(), "GET /cart 500 from loki")
    with (
        running_alertmanager(tmp_path / "am") as alertmanager,
        running_prometheus(tmp_path / "prom") as prometheus_url,
        loki,
    ):
        monkeypatch.setenv("ALERTMANAGER_URL", alertmanager.url)
        monkeypatch.setenv("PROMETHEUS_URL", prometheus_url + "/")
        monkeypatch.setenv("LOKI_ADDR", loki.url)
        # Generous deadlines: what is tested is what is found (timing is in bench/).
        found = discover(root=root, cwd=repo, refresh=True, deadline=10, probe_timeout=3)
        rows = {(r.kind, r.name): r for r in found.reports}
        config = found.config

        # /var/log by family: syslog and its rotations, nginx as one source, the app folder.
        sources = {s.name: s for s in config.sources}
        syslog = sources["syslog"]
        assert isinstance(syslog, FileSource) and syslog.format == "text"
        assert syslog.paths == [f"{root}/var/log/syslog*"]
        assert rows[("files", "syslog")].detail == "3 files: syslog, syslog.1, syslog.2.gz"
        nginx = sources["nginx"]
        assert isinstance(nginx, FileSource) and nginx.service == "nginx"
        assert sorted(nginx.paths) == [
            f"{root}/var/log/nginx/access.log*",
            f"{root}/var/log/nginx/error.log*",
        ]
        assert rows[("files", "app")].notes == ("1 .xz-compressed file(s) not searched",)
        assert "wtmp" not in sources
        # Containers: Docker json-file and the pod's CRI log, decoded, service from the names.
        docker = sources["docker-shop-web-1"]
        assert isinstance(docker, FileSource)
        assert (docker.format, docker.service) == ("docker", "web")
        pod = sources["pod-shop/checkout-7d9f8b6c5-x2x4z/checkout"]
        assert isinstance(pod, FileSource) and (pod.format, pod.service) == ("cri", "checkout")
        # The servers the ecosystem's variables name, probed and used.
        assert config.prometheus is not None and config.prometheus.url == prometheus_url
        assert [a.url for a in config.alertmanagers] == [alertmanager.url]
        loki_source = sources["loki"]
        assert isinstance(loki_source, LokiSource) and loki_source.url == loki.url
        assert loki_source.selector == '{service_name=~".+"}'
        (used_am,) = [r for r in found.reports if r.location == alertmanager.url]
        assert used_am.state == State.USED
        assert (
            used_am.detail.startswith("Alertmanager 0.") and "$ALERTMANAGER_URL" in used_am.detail
        )
        # Deploy tags make one service each; the repo is the checkout's top.
        assert [(s.name, s.deploys.tag_pattern) for s in config.services] == [
            ("checkout", "deploy/checkout/*"),
            ("web", "deploy/web/*"),
        ]
        assert rows[("git", "git")].program == os.path.realpath(shutil.which("git") or "")

        # The search engine searches what was found, containers as their decoded text.
        result = run_search(make_sources(config), Query("GET /cart 500"), max_hits=100)
        by_source = {h.source: h.text for h in result.hits}
        assert by_source["docker-shop-web-1"] == 'GET /cart 500 "oops"'
        assert by_source["pod-shop/checkout-7d9f8b6c5-x2x4z/checkout"] == (
            "GET /cart 500 from the pod"
        )
        assert by_source["loki"] == "GET /cart 500 from loki"
        assert "app" in by_source
        listing = list_deploys(config)
        assert {d.service for d in listing.deploys} == {"checkout", "web"}

        # Cached for the session: the same answer without looking again.
        assert discover(root=root, cwd=repo, deadline=10, probe_timeout=3) is found


def test_a_host_with_nothing_readable_says_what_it_found(tmp_path: Path, clean_env) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    found = discover(root=root, cwd=tmp_path, refresh=True, deadline=10)
    assert found.config.sources == [] and found.config.services == []
    kinds = {r.kind: r for r in found.reports}
    assert set(kinds) >= {"journald", "files", "docker", "cri", "git", "alertmanager"}
    assert all(r.state != State.USED or r.kind in SERVERS for r in found.reports)
    assert kinds["files"].detail == f"{root.resolve()}/var/log does not exist"
    assert kinds["git"].detail == f"{tmp_path.resolve()} is not in a git repository"


SERVERS = ("prometheus", "alertmanager", "loki")


def test_a_named_server_that_does_not_answer_is_an_error_row(
    tmp_path: Path, clean_env, monkeypatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ALERTMANAGER_URL", closed)
    monkeypatch.setenv("PROMETHEUS_URL", "ftp://nope")
    found = discover(root=tmp_path, cwd=tmp_path, refresh=True, deadline=10, probe_timeout=3)
    rows = [r for r in found.reports if r.location == closed]
    assert len(rows) == 1 and rows[0].state == State.ERROR
    assert rows[0].detail == f"nothing answered on {closed} (connection refused; $ALERTMANAGER_URL)"
    bad = next(r for r in found.reports if r.location == "ftp://nope")
    assert bad.state == State.ERROR and "not an http:// or https:// URL" in bad.detail


def test_journal_units_come_from_a_real_journal(tmp_path: Path, clean_env) -> None:
    from tests.test_source_journald import ENTRIES, JOURNAL_REMOTE, export_format

    if JOURNAL_REMOTE is None or shutil.which("journalctl") is None:
        pytest.skip("needs journalctl and systemd-journal-remote (apt systemd-journal-remote)")
    journal = tmp_path / "var" / "log" / "journal"
    journal.mkdir(parents=True)
    (tmp_path / "export").write_bytes(export_format(ENTRIES))
    subprocess.run(
        [JOURNAL_REMOTE, f"--output={journal / 'host.journal'}", str(tmp_path / "export")],
        check=True,
        capture_output=True,
        timeout=30,
    )
    found = discover(root=tmp_path, cwd=tmp_path, refresh=True, deadline=10)
    row = next(r for r in found.reports if r.kind == "journald")
    assert row.state == State.USED and row.detail == "2 units: api, worker"
    assert row.program == os.path.realpath(shutil.which("journalctl") or "")
    (journald,) = [s for s in found.config.sources if isinstance(s, JournaldSource)]
    assert journald.directory == journal and journald.units == []
    hits = run_search(make_sources(found.config), Query("queue full"), max_hits=10).hits
    assert [(h.service, h.text) for h in hits] == [("worker", "worker Error: queue full")]


def test_names_kinds_and_permission_hints() -> None:
    assert split_name("auth.log.2.gz") == ("auth.log", "gz")
    assert split_name("syslog-20261127") == ("syslog", "")
    assert split_name("app.log.1.xz") == ("app.log", "xz")
    assert split_name("wtmp.1") is None and split_name("system@x.journal") is None
    assert service_of_pod("checkout-7d9f8b6c5-x2x4z") == "checkout"
    assert service_of_pod("postgres-0") == "postgres"
    assert service_of_pod("single") == "single"


def test_permission_hint_names_the_group_to_join(tmp_path: Path) -> None:
    import grp

    try:
        adm = grp.getgrnam("adm").gr_gid
    except KeyError:
        pytest.skip("no group adm on this machine")
    log = tmp_path / "auth.log"
    log.write_text("x\n")
    if os.geteuid() != 0:
        pytest.skip("needs root to give the file to group adm")
    os.chown(log, 0, adm)
    log.chmod(0o640)
    assert hint_for(log, log.stat()) == f"no read permission on {log} (add yourself to group adm)"
    log.chmod(0o600)
    assert hint_for(log, log.stat()) == (
        f"no read permission on {log} (readable by its owner only; try sudo)"
    )


def _discover_as_nobody(root: Path) -> list[dict]:
    """Run the /var/log probe as an unprivileged user (root reads every file, so a forked
    child drops to `nobody`, as an engineer's own account would be)."""
    from cockpit.core.discovery import host

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, discover, report as JSON, never return
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            reports, _sources = host.var_log(root)
            data = json.dumps([r.to_json() for r in reports]).encode()
            os.write(write, data)
        finally:
            os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks))


def test_unreadable_logs_are_reported_with_the_fix_never_as_errors() -> None:
    import grp

    if os.geteuid() != 0:
        pytest.skip("needs root to hand files to another user")
    try:
        adm = grp.getgrnam("adm").gr_gid
    except KeyError:
        pytest.skip("no group adm on this machine")
    base = Path(tempfile.mkdtemp(prefix="cockpit-perm-"))  # not under root's 0700 tmp dir
    try:
        base.chmod(0o755)
        log = base / "var" / "log"
        log.mkdir(parents=True)
        for part in (base / "var", log):
            part.chmod(0o755)
        (log / "syslog").write_text("Nov 28 14:00:00 h x: readable\n")
        (log / "syslog").chmod(0o644)
        auth = log / "auth.log"
        auth.write_text("Nov 28 14:00:00 h sshd: secret\n")
        os.chown(auth, 0, adm)
        auth.chmod(0o640)
        (log / "secret").mkdir()
        (log / "secret").chmod(0o700)
        reports = {r["name"]: r for r in _discover_as_nobody(base)}
        assert reports["auth"]["state"] == "skipped"
        assert reports["auth"]["detail"] == (
            f"no read permission on {auth} (add yourself to group adm)"
        )
        assert reports["syslog"]["state"] == "used"
        assert reports["secret"]["state"] == "skipped"
        assert "no permission to list" in reports["secret"]["detail"]
    finally:
        shutil.rmtree(base)


def _cockpit(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_sources_init_and_deploys_from_the_command_line(tmp_path: Path) -> None:
    root = tmp_path / "host"
    build_host(root)
    repo = make_repo(tmp_path / "shop", tags=False)
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS and not k.startswith("GIT_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHONPATH=str(REPO),
        ALERTMANAGER_URL=f"http://127.0.0.1:{free_port()}",
        COCKPIT_DISCOVERY_DEADLINE="10",  # what is found, not how fast (see bench/)
    )
    listed = _cockpit("--root", str(root), "sources", "--json", cwd=repo, env=env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert data["discovered"] is True and data["root"] == str(root.resolve())
    names = {s["name"]: s for s in data["sources"]}
    assert names["syslog"]["origin"] == "discovered" and names["syslog"]["state"] == "used"
    assert names["git"]["detail"] == "first-parent commits of HEAD: commits, not deploys"
    assert any(s["kind"] == "alertmanager" and s["state"] == "error" for s in data["sources"])

    text = _cockpit("--root", str(root), "sources", cwd=repo, env=env)
    assert "commits, not deploys" in text.stdout and "discovered" in text.stdout

    deploys = _cockpit("deploys", cwd=repo, env=env)
    assert deploys.returncode == 0, deploys.stderr
    assert "change 2" in deploys.stdout
    assert "note: service shop: first-parent commits of HEAD (commits, not deploys)" in (
        deploys.stdout
    )

    search = _cockpit(
        "--root", str(root), "search", "-F", 'GET /cart 500 "oops"', cwd=repo, env=env
    )
    assert search.returncode == 0, search.stderr
    assert search.stdout.endswith(':GET /cart 500 "oops"\n')

    written = _cockpit("--root", str(root), "init", cwd=repo, env=env)
    assert written.returncode == 0, written.stderr
    config_path = repo / "cockpit.toml"
    assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
    config = load_config_file(config_path)
    assert config.services[0].deploys.repo is not None
    assert str(config.services[0].deploys.repo) == "."  # relative to the file, in the repo
    assert {s.name for s in config.sources} >= {"syslog", "nginx", "docker-shop-web-1"}
    written_text = config_path.read_text()
    assert "# These are the first-parent commits of HEAD: commits, not deploys." in written_text
    checked = _cockpit("--config", str(config_path), "sources", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert "discovery not run" in checked.stdout and " config " in checked.stdout

    again = _cockpit("--root", str(root), "init", cwd=repo, env=env)
    assert again.returncode == 2
    assert again.stderr == (
        "cockpit: cockpit.toml already exists; not overwritten (pick another -o FILE, "
        "or remove it)\n"
    )

    # With the config in place, discovery no longer runs: the config's sources are used.
    configured = _cockpit("sources", "--json", cwd=repo, env=env)
    assert json.loads(configured.stdout)["discovered"] is False


def test_sources_show_where_each_history_command_resolves(tmp_path: Path) -> None:
    """`cockpit sources` shows the program a history command would run, found through PATH,
    and the reason a relative one is refused (it would run a script shipped in a checkout)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text("#!/bin/sh\necho []\n")
    helm.chmod(0o755)
    config = tmp_path / "cockpit.toml"
    config.write_text(
        '[[services]]\nname = "api"\n[services.deploys]\n'
        'history_command = ["helm", "history", "api", "-o", "json"]\n'
        '[[services]]\nname = "web"\n[services.deploys]\n'
        'history_command = ["./helm", "history", "web", "-o", "json"]\n'
    )
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    listed = _cockpit("--config", str(config), "sources", "--json", cwd=tmp_path, env=env)
    rows = {row["name"]: row for row in json.loads(listed.stdout)["sources"]}
    assert rows["api"]["state"] == "used"
    assert rows["api"]["program"] == str(helm)
    assert rows["web"]["state"] == "error" and rows["web"]["program"] is None
    assert "relative program path './helm' refused" in rows["web"]["detail"]


@pytest.mark.parametrize("answer", ["endless", "deep"])
def test_whatever_answers_on_a_probed_port_cannot_fill_memory(answer: str) -> None:
    """Anyone may bind :9090 on a shared host. An answer that never ends is read up to 1 MB,
    JSON nested 200,000 deep is not parsed into a RecursionError: one line either way."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cockpit.core.discovery.servers import PROMETHEUS, probe

    sent: list[int] = []

    class Hostile(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            if answer == "deep":
                self.wfile.write(b"[" * 200_000 + b"]" * 200_000)
                return
            chunk = b"x" * (1 << 16)
            try:
                for _ in range(3200):  # 200 MB if it were all read
                    self.wfile.write(chunk)
                    sent.append(len(chunk))
            except OSError:
                return  # the cockpit hung up: what we want

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = probe(PROMETHEUS, url, origin_name="PROMETHEUS_URL", timeout=5, named=True)
    finally:
        server.shutdown()
        server.server_close()
    assert "not the expected JSON" in result.report.detail, result.report.detail
    assert sum(sent) < 64 << 20  # stopped near the 1 MB cap, not at the end of the stream


def test_patterns_groups_the_discovered_sources_without_a_config(tmp_path: Path) -> None:
    """`cockpit patterns`, like `cockpit search`, reads what discovery found when there is no
    config file."""
    root = tmp_path / "host"
    build_host(root)
    folder = tmp_path / "work"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS and not k.startswith("GIT_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        PYTHONPATH=str(REPO),
        ALERTMANAGER_URL=f"http://127.0.0.1:{free_port()}",
        COCKPIT_DISCOVERY_DEADLINE="10",
    )
    found = _cockpit(
        "--root", str(root), "patterns", "--match", '"oops"', "--json", cwd=folder, env=env
    )
    assert found.returncode == 0, found.stderr
    (record,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert record["example"].endswith('GET /cart 500 "oops"')
