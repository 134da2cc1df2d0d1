"""Deploys from real git repositories: tags, first-parent branches, shallow, detached, 100k."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cockpit.core.deploys.git_source import (
    GitRepo,
    branch_deploys,
    file_diff,
    suspect_diff,
    tag_deploys,
)
from cockpit.core.deploys.model import DeployError
from cockpit.core.deploys.sources import list_repo_deploys
from tests.deploys_support import (
    BASE_TIME,
    build_fast_import_repo,
    commit,
    git,
    init_repo,
    minutes,
    tag,
)


@pytest.fixture
def tagged_repo(tmp_path: Path) -> tuple[Path, list[str]]:
    """Five commits; deploy tags for checkout (annotated and lightweight) and payments."""
    repo = init_repo(tmp_path / "repo")
    shas = [commit(repo, f"commit {i}", BASE_TIME + minutes(10 * i)) for i in range(5)]
    tag(repo, "deploy/checkout/v1", shas[0], BASE_TIME + minutes(1), message="ship v1")
    tag(repo, "deploy/checkout/v2", shas[2], BASE_TIME + minutes(21), annotated=False)
    tag(repo, "deploy/checkout/v3", shas[4], BASE_TIME + minutes(41), message="ship v3")
    tag(repo, "deploy/checkout/canary/x", shas[3], BASE_TIME + minutes(35))
    tag(repo, "deploy/payments/p1", shas[3], BASE_TIME + minutes(31))
    return repo, shas


def test_tags_newest_first_with_peeled_sha_actor_and_subject(tagged_repo):
    repo_path, shas = tagged_repo
    deploys = tag_deploys(GitRepo(repo_path), "deploy/{service}/*", "checkout")
    assert [d.ref for d in deploys] == [
        "deploy/checkout/v3",
        "deploy/checkout/v2",
        "deploy/checkout/v1",
    ]  # `*` stops at `/`: the canary tag is not a checkout deploy
    v3, v2, v1 = deploys
    assert v3.sha == shas[4] and v3.short_sha == shas[4][:7]  # peeled, not the tag object
    assert v3.version == "v3" and v3.subject == "ship v3" and v3.actor == "Ada"
    assert v3.time == BASE_TIME + minutes(41)
    assert v2.sha == shas[2] and v2.subject == "commit 2"  # lightweight: the commit's subject
    assert v1.time == BASE_TIME + minutes(1)


def test_tags_since_and_limit(tagged_repo):
    repo = GitRepo(tagged_repo[0])
    assert len(tag_deploys(repo, "deploy/checkout/*", "checkout", limit=2)) == 2
    recent = tag_deploys(repo, "deploy/checkout/*", "checkout", since=BASE_TIME + minutes(20))
    assert [d.version for d in recent] == ["v3", "v2"]


def test_branch_lists_first_parent_commits_only(tmp_path):
    repo = init_repo(tmp_path / "repo")
    first = commit(repo, "base", BASE_TIME)
    git(repo, "checkout", "-q", "-b", "feature")
    side = commit(repo, "side work", BASE_TIME + minutes(5))
    git(repo, "checkout", "-q", "main")
    commit(repo, "main work", BASE_TIME + minutes(6))
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "merge feature",
        "feature",
        when=BASE_TIME + minutes(7),
    )
    deploys = branch_deploys(GitRepo(repo), "main", "checkout")
    assert [d.subject for d in deploys] == ["merge feature", "main work", "base"]
    assert side not in {d.sha for d in deploys} and deploys[-1].sha == first


def test_detached_head_works(tagged_repo):
    repo_path, shas = tagged_repo
    git(repo_path, "checkout", "-q", "--detach", shas[2])
    repo = GitRepo(repo_path)
    assert [d.sha for d in branch_deploys(repo, None, "checkout")] == shas[2::-1]
    assert len(tag_deploys(repo, "deploy/checkout/*", "checkout")) == 3
    listing = list_repo_deploys(repo_path)
    assert not listing.errors and {d.service for d in listing.deploys} == {"checkout", "payments"}


def test_shallow_clone_says_history_truncated(tagged_repo, tmp_path):
    repo_path, _ = tagged_repo
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", "--no-tags", f"file://{repo_path}", str(clone)],
        check=True,
        capture_output=True,
    )
    listing = list_repo_deploys(clone)
    assert "history truncated at 2 commits (shallow clone)" in listing.notes
    assert "no tags match deploy/*/*; showing first-parent commits of HEAD" in listing.notes
    assert [d.subject for d in listing.deploys] == ["commit 4", "commit 3"]


def test_missing_and_non_repo_paths_give_one_clear_line(tmp_path):
    with pytest.raises(DeployError, match=r"git repo .*/nowhere not found"):
        GitRepo(tmp_path / "nowhere")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DeployError, match=r"plain is not a git repository"):
        GitRepo(tmp_path / "plain")
    listing = list_repo_deploys(tmp_path / "nowhere")
    assert listing.deploys == [] and len(listing.errors) == 1


def test_option_like_refs_cannot_write_files(tagged_repo, tmp_path):
    repo = GitRepo(tagged_repo[0])
    victim = tmp_path / "written"
    with pytest.raises(DeployError):
        branch_deploys(repo, f"--output={victim}", "checkout")
    assert tag_deploys(repo, f"--output={victim}", "checkout") == []
    with pytest.raises(DeployError):
        suspect_diff(repo, f"--output={victim}", "HEAD")
    # After `--` it is a path that matches nothing: an empty diff, no file written.
    assert file_diff(repo, "HEAD~1", "HEAD", f"--output={victim}") == ([], None)
    assert not victim.exists()
    with pytest.raises(DeployError, match="not allowed"):
        repo.read("log", f"--output={victim}")
    with pytest.raises(DeployError, match="not a read-only subcommand"):
        repo.read("tag", "evil")
    assert not victim.exists()


def test_every_git_call_is_read_only_with_refs_after_end_of_options(tagged_repo, git_command_log):
    repo_path, shas = tagged_repo
    repo = GitRepo(repo_path)
    tag_deploys(repo, "deploy/checkout/*", "checkout")
    branch_deploys(repo, "main", "checkout")
    diff = suspect_diff(repo, shas[0], shas[4])
    file_diff(repo, shas[0], shas[4], diff.files[0][1])
    list_repo_deploys(repo_path)
    git_command_log.assert_read_only()
    assert len(git_command_log.commands) >= 7
    for argv in git_command_log.commands:
        if argv[1] in ("log", "diff", "for-each-ref", "rev-list"):
            assert "--end-of-options" in argv, argv
        if argv[1] == "diff":
            assert "--no-ext-diff" in argv and "--no-textconv" in argv


def test_repo_config_cannot_make_diff_run_a_program(tagged_repo, tmp_path):
    repo_path, shas = tagged_repo
    marker = tmp_path / "ran"
    git(repo_path, "config", "diff.external", f"/bin/sh -c 'touch {marker}'")
    git(repo_path, "config", "core.pager", f"touch {marker}")
    repo = GitRepo(repo_path)
    diff = suspect_diff(repo, shas[0], shas[4])
    lines, _ = file_diff(repo, shas[0], shas[4], diff.files[0][1])
    assert lines and lines[0].startswith("diff --git")
    assert not marker.exists()


def test_suspect_diff_commits_files_shortstat_and_bounded_file_diff(tmp_path):
    repo = init_repo(tmp_path / "repo")
    base = commit(repo, "base", BASE_TIME, {"app/config.py": "TIMEOUT = 5000\n", "old.txt": "x\n"})
    commit(repo, "lower timeout", BASE_TIME + minutes(1), {"app/config.py": "TIMEOUT = 800\n"})
    git(repo, "mv", "old.txt", "renamed.txt")
    big = "".join(f"line {i}\n" for i in range(1000))
    head = commit(repo, "rename and grow", BASE_TIME + minutes(2), {"big.txt": big})
    diff = suspect_diff(GitRepo(repo), base, head)
    assert diff.commit_count == 2
    assert [c.subject for c in diff.commits] == ["rename and grow", "lower timeout"]
    assert ("M", "app/config.py") in diff.files and ("A", "big.txt") in diff.files
    assert ("R", "old.txt -> renamed.txt") in diff.files
    assert diff.shortstat.startswith("3 files changed")
    lines, note = file_diff(GitRepo(repo), base, head, "app/config.py")
    assert "-TIMEOUT = 5000" in lines and "+TIMEOUT = 800" in lines and note is None
    lines, note = file_diff(GitRepo(repo), base, head, "big.txt", max_lines=50)
    assert len(lines) == 50 and note == "showing 50 of 1006 lines"
    limited = suspect_diff(GitRepo(repo), base, head, max_commits=1)
    assert len(limited.commits) == 1 and limited.notes == ["showing 1 of 2 commits"]


@pytest.fixture(scope="session")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100,000 commits with 1,000 annotated deploy tags, built once per session."""
    return build_fast_import_repo(tmp_path_factory.mktemp("big") / "repo")


def test_100k_commit_repo_lists_recent_deploys_correctly(big_repo):
    repo = GitRepo(big_repo)
    deploys = tag_deploys(repo, "deploy/big/*", "big", limit=50)
    assert len(deploys) == 50
    assert [d.version for d in deploys[:3]] == ["100000", "099900", "099800"]
    assert deploys[0].subject == "deploy 100000" and deploys[0].actor == "Bot"
    head = git(big_repo, "rev-parse", "HEAD").strip()
    assert deploys[0].sha == head
    branch = branch_deploys(repo, "main", "big", limit=20)
    assert len(branch) == 20 and branch[0].subject == "change 100000"
    assert repo.shallow_depth() is None
