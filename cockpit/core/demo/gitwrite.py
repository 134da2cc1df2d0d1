"""Write a git repository directly as loose objects, without spawning git.

The cockpit only ever spawns read-only readers, so the demo generator writes the objects git
would write: zlib-compressed `<type> <len>\\0<body>` files named by their SHA-1 under
`.git/objects/xx/`, plus refs, HEAD and a minimal config. Output is deterministic: the same
commits, times and messages give the same SHAs and the same bytes.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE_MODE = b"100644"
TREE_MODE = b"40000"

_GIT_CONFIG = """[core]
\trepositoryformatversion = 0
\tfilemode = true
\tbare = false
\tlogallrefupdates = true
"""


@dataclass(frozen=True)
class Person:
    """An author or committer identity."""

    name: str
    email: str

    def line(self, moment: datetime) -> bytes:
        stamp = int(moment.astimezone(UTC).timestamp())
        return f"{self.name} <{self.email}> {stamp} +0000".encode()


class LooseRepo:
    """A new repository at `root/.git`, written object by object."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        self.git_dir = root / ".git"
        self.branch = branch
        self._written: set[str] = set()
        for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
            (self.git_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.git_dir / "HEAD").write_bytes(f"ref: refs/heads/{branch}\n".encode())
        (self.git_dir / "config").write_text(_GIT_CONFIG, encoding="utf-8")
        (self.git_dir / "description").write_text("Demo sandbox repository (generated).\n")

    def _write_object(self, kind: bytes, body: bytes) -> str:
        data = kind + b" " + str(len(body)).encode() + b"\0" + body
        sha = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        if sha not in self._written:
            self._written.add(sha)
            path = self.git_dir / "objects" / sha[:2] / sha[2:]
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(zlib.compress(data, 1))
        return sha

    def blob(self, content: bytes) -> str:
        """Store file content; returns its SHA-1."""
        return self._write_object(b"blob", content)

    def tree(self, files: dict[str, bytes]) -> str:
        """Store a whole tree from `{"dir/file": content}`; returns the root tree's SHA-1."""
        nested: dict[str, object] = {}
        for path, content in files.items():
            node = nested
            *dirs, name = path.split("/")
            for part in dirs:
                node = node.setdefault(part, {})  # type: ignore[assignment]
            node[name] = content
        return self._tree_node(nested)

    def _tree_node(self, node: dict[str, object]) -> str:
        entries: list[tuple[bytes, bytes, bytes]] = []
        for name, value in node.items():
            encoded = name.encode()
            if isinstance(value, dict):
                # git orders a directory as if its name ended in "/".
                entries.append((encoded + b"/", TREE_MODE + b" " + encoded, self._tree_node(value).encode()))
            else:
                assert isinstance(value, bytes)
                entries.append((encoded, FILE_MODE + b" " + encoded, self.blob(value).encode()))
        entries.sort(key=lambda entry: entry[0])
        body = b"".join(head + b"\0" + bytes.fromhex(sha.decode()) for _, head, sha in entries)
        return self._write_object(b"tree", body)

    def commit(
        self, tree: str, parent: str | None, author: Person, committer: Person, when: datetime, message: str
    ) -> str:
        """Store a commit; returns its SHA-1."""
        lines = [b"tree " + tree.encode()]
        if parent:
            lines.append(b"parent " + parent.encode())
        lines.append(b"author " + author.line(when))
        lines.append(b"committer " + committer.line(when))
        body = b"\n".join(lines) + b"\n\n" + message.rstrip("\n").encode() + b"\n"
        return self._write_object(b"commit", body)

    def annotated_tag(self, name: str, target: str, tagger: Person, when: datetime, message: str) -> str:
        """Store an annotated tag object pointing at a commit and its ref; returns the tag's SHA-1."""
        body = (
            b"object " + target.encode() + b"\ntype commit\ntag " + name.encode()
            + b"\ntagger " + tagger.line(when) + b"\n\n" + message.rstrip("\n").encode() + b"\n"
        )
        sha = self._write_object(b"tag", body)
        self.set_ref(f"refs/tags/{name}", sha)
        return sha

    def write_index(self, files: dict[str, bytes]) -> None:
        """Write `.git/index` (version 2) for a checkout of `files`, so `git status` is clean.

        Stat fields are zero (deterministic); git re-hashes the work tree once and finds no change.
        """
        entries = sorted((path.encode(), self.blob(content)) for path, content in files.items())
        out = [b"DIRC", struct.pack(">II", 2, len(entries))]
        for name, sha in entries:
            stat = struct.pack(">10I", 0, 0, 0, 0, 0, 0, 0o100644, 0, 0, len(files[name.decode()]))
            entry = stat + bytes.fromhex(sha) + struct.pack(">H", min(len(name), 0xFFF)) + name
            out.append(entry + b"\0" * (8 - len(entry) % 8))
        body = b"".join(out)
        (self.git_dir / "index").write_bytes(body + hashlib.sha1(body, usedforsecurity=False).digest())

    def set_ref(self, ref: str, sha: str) -> None:
        path = self.git_dir / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sha.encode() + b"\n")

    def set_branch(self, sha: str) -> None:
        self.set_ref(f"refs/heads/{self.branch}", sha)
