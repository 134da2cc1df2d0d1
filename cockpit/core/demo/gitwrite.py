"""Write a git repository directly, without spawning git.

The cockpit only ever spawns read-only readers, so the demo generator writes what git would
write. Objects (`<type> <len>\\0<body>`, named by their SHA-1) are collected in memory and
written as one version-2 pack with its version-2 index under `.git/objects/pack/`: two files
instead of a thousand loose ones, which matters on a busy disk. Tags go to `packed-refs`, the
branch to `refs/heads/main`. Output is deterministic: same commits, times and messages give
the same SHAs and the same bytes.
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


OBJECT_TYPES = {b"commit": 1, b"tree": 2, b"blob": 3, b"tag": 4}


class RepoWriter:
    """A new repository at `root/.git`; call `close()` to write the pack and the refs."""

    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        self.git_dir = root / ".git"
        self.branch = branch
        self._written: set[str] = set()
        self._objects: list[tuple[bytes, int, bytes]] = []
        self._packed_refs: list[tuple[str, str, str | None]] = []
        self._blob_cache: dict[bytes, str] = {}
        self._tree_cache: dict[bytes, str] = {}
        for sub in ("objects/info", "objects/pack", "refs/heads", "refs/tags", "info"):
            (self.git_dir / sub).mkdir(parents=True, exist_ok=True)
        (self.git_dir / "HEAD").write_bytes(f"ref: refs/heads/{branch}\n".encode())
        (self.git_dir / "config").write_text(_GIT_CONFIG, encoding="utf-8")
        (self.git_dir / "description").write_text("Demo sandbox repository (generated).\n")

    def _write_object(self, kind: bytes, body: bytes) -> str:
        data = kind + b" " + str(len(body)).encode() + b"\0" + body
        digest = hashlib.sha1(data, usedforsecurity=False).digest()
        sha = digest.hex()
        if sha not in self._written:
            self._written.add(sha)
            self._objects.append((digest, OBJECT_TYPES[kind], body))
        return sha

    def blob(self, content: bytes) -> str:
        """Store file content; returns its SHA-1."""
        sha = self._blob_cache.get(content)
        if sha is None:
            sha = self._blob_cache[content] = self._write_object(b"blob", content)
        return sha

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
                entries.append(
                    (encoded + b"/", TREE_MODE + b" " + encoded, self._tree_node(value).encode())
                )
            else:
                assert isinstance(value, bytes)
                entries.append((encoded, FILE_MODE + b" " + encoded, self.blob(value).encode()))
        entries.sort(key=lambda entry: entry[0])
        body = b"".join(head + b"\0" + bytes.fromhex(sha.decode()) for _, head, sha in entries)
        sha = self._tree_cache.get(body)
        if sha is None:
            sha = self._tree_cache[body] = self._write_object(b"tree", body)
        return sha

    def commit(
        self,
        tree: str,
        parent: str | None,
        author: Person,
        committer: Person,
        when: datetime,
        message: str,
    ) -> str:
        """Store a commit; returns its SHA-1."""
        lines = [b"tree " + tree.encode()]
        if parent:
            lines.append(b"parent " + parent.encode())
        lines.append(b"author " + author.line(when))
        lines.append(b"committer " + committer.line(when))
        body = b"\n".join(lines) + b"\n\n" + message.rstrip("\n").encode() + b"\n"
        return self._write_object(b"commit", body)

    def annotated_tag(
        self, name: str, target: str, tagger: Person, when: datetime, message: str
    ) -> str:
        """Store an annotated tag on a commit, and its ref; returns the tag object's SHA-1."""
        body = (
            b"object "
            + target.encode()
            + b"\ntype commit\ntag "
            + name.encode()
            + b"\ntagger "
            + tagger.line(when)
            + b"\n\n"
            + message.rstrip("\n").encode()
            + b"\n"
        )
        sha = self._write_object(b"tag", body)
        self._packed_refs.append((f"refs/tags/{name}", sha, target))
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
        (self.git_dir / "index").write_bytes(
            body + hashlib.sha1(body, usedforsecurity=False).digest()
        )

    def set_ref(self, ref: str, sha: str) -> None:
        path = self.git_dir / ref
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(sha.encode() + b"\n")

    def set_branch(self, sha: str) -> None:
        self.set_ref(f"refs/heads/{self.branch}", sha)

    def close(self) -> None:
        """Write the pack, its index and `packed-refs`."""
        pack = [b"PACK", struct.pack(">II", 2, len(self._objects))]
        offset = 12
        entries: list[tuple[bytes, int, int]] = []  # (sha, crc32, offset)
        for digest, kind, body in self._objects:
            size = len(body)
            header = bytearray([(kind << 4) | (size & 0x0F)])
            size >>= 4
            while size:
                header[-1] |= 0x80
                header.append(size & 0x7F)
                size >>= 7
            packed = bytes(header) + zlib.compress(body, 1)
            entries.append((digest, zlib.crc32(packed), offset))
            pack.append(packed)
            offset += len(packed)
        body = b"".join(pack)
        pack_digest = hashlib.sha1(body, usedforsecurity=False).digest()
        entries.sort()
        fanout = [0] * 256
        for digest, _, _ in entries:
            fanout[digest[0]] += 1
        for i in range(1, 256):
            fanout[i] += fanout[i - 1]
        index = b"".join(
            [
                b"\377tOc",
                struct.pack(">I", 2),
                struct.pack(">256I", *fanout),
                *(digest for digest, _, _ in entries),
                *(struct.pack(">I", crc) for _, crc, _ in entries),
                *(struct.pack(">I", at) for _, _, at in entries),
                pack_digest,
            ]
        )
        index += hashlib.sha1(index, usedforsecurity=False).digest()
        base = self.git_dir / "objects" / "pack" / f"pack-{pack_digest.hex()}"
        base.with_suffix(".pack").write_bytes(body + pack_digest)
        base.with_suffix(".idx").write_bytes(index)
        lines = ["# pack-refs with: peeled fully-peeled sorted \n"]
        for ref, sha, peeled in sorted(self._packed_refs):
            lines.append(f"{sha} {ref}\n")
            if peeled:
                lines.append(f"^{peeled}\n")
        (self.git_dir / "packed-refs").write_text("".join(lines), encoding="utf-8")
