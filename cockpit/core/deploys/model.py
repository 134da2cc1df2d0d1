"""The shapes shared by every deploy source, the health check and the rollback ranking."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from cockpit.core.timefmt import iso_utc

SHORT_SHA_LEN = 7


class DeployError(Exception):
    """A deploy source failed; the message is one line naming the service and the source."""


@dataclass(frozen=True)
class Deploy:
    """One deploy of one service. Text fields come from outside: sanitize before display."""

    service: str
    time: datetime
    """When it went out, in UTC."""
    sha: str | None = None
    version: str | None = None
    revision: str | None = None
    """The deploy tool's revision (helm/kubectl revision, Argo CD history id)."""
    actor: str | None = None
    status: str | None = None
    source: str = ""
    """Where it was read: "git-tag", "git-branch", "deploy-log", "helm", "kubectl", "argocd"."""
    ref: str | None = None
    """The deploy tag, when it came from one."""
    subject: str | None = None
    """First line of the commit or tag message (untrusted text)."""
    sources: tuple[str, ...] = ()
    """Every source that reported this deploy, after merging."""

    @property
    def short_sha(self) -> str | None:
        """The first seven hex digits of the sha, the form people paste into chat."""
        return self.sha[:SHORT_SHA_LEN] if self.sha else None

    @property
    def label(self) -> str:
        """How a human refers to this deploy: short sha, else version, else revision."""
        if self.sha:
            return self.sha[:SHORT_SHA_LEN]
        if self.version:
            return self.version
        return f"rev {self.revision}" if self.revision else "?"

    def merged_with(self, other: Deploy) -> Deploy:
        """This deploy with the blanks filled from `other` (the same deploy seen elsewhere)."""
        updates: dict[str, Any] = {}
        for name in ("sha", "version", "revision", "actor", "status", "ref", "subject"):
            if getattr(self, name) is None and getattr(other, name) is not None:
                updates[name] = getattr(other, name)
        if (
            self.sha
            and other.sha
            and len(other.sha) > len(self.sha)
            and other.sha.startswith(self.sha)
        ):
            updates["sha"] = other.sha
        names = tuple(dict.fromkeys((*self.all_sources, *other.all_sources)))
        updates["sources"] = names
        return replace(self, **updates)

    @property
    def all_sources(self) -> tuple[str, ...]:
        """Every source that reported it (at least its own)."""
        return self.sources or ((self.source,) if self.source else ())

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 UTC)."""
        return {
            "service": self.service,
            "time": iso_utc(self.time),
            "sha": self.sha,
            "short_sha": self.short_sha,
            "version": self.version,
            "revision": self.revision,
            "actor": self.actor,
            "status": self.status,
            "source": self.source,
            "sources": list(self.all_sources),
            "ref": self.ref,
            "subject": self.subject,
        }


@dataclass
class DeployListing:
    """What a listing found: the deploys, newest first, plus notes and per-source errors."""

    deploys: list[Deploy] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Non-fatal facts worth showing, e.g. "history truncated at 50 commits (shallow clone)"."""
    errors: list[str] = field(default_factory=list)
    """One line per source that failed, naming the service and the source."""
