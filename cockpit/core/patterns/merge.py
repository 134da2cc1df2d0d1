"""Merging provisional templates that differ only where a value varies.

Masking (`masking.py`) replaces what is variable by its form: numbers, ids, paths. A word
without a digit (a user name, a host, a program) stays, so `Invalid user admin from <*>` and
`Invalid user oracle from <*>` are two provisional templates. This step merges them, from
the set of templates alone, in the spirit of Drain's similarity over token positions:

- Two templates of the same length that are equal except at one position are candidates.
- They merge when one of the values there already stands for a variable and matches the
  others as a glob (`chdir(<*>)` covers `chdir(pwd)`, `<*>` covers `root`); or when that
  position takes at least `MIN_DISTINCT_WORDS` different words while at least two other
  words stay fixed, and it is not the first word (a message's first word names what happened:
  `cupsd startup succeeded` and `klogd startup succeeded` are different events).
- Repeated until nothing changes; merged templates show the common part of the values
  (`user=root`, `user=git` -> `user=<*>`).

The result depends only on the set of templates, never on counts or on the order lines
arrived in: groups are connected components (which do not depend on the order of the
unions), and each group's template is made from its members' values in sorted order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from cockpit.core.patterns.masking import VAR

MIN_DISTINCT_WORDS = 4
"""Different words at one position that make it a variable. Fewer stay separate templates:
`for user=root` and `for user=guest` may be different events (a few states, a few roles),
while four or more different words at one place read as a value (user names, hosts)."""
MIN_ANCHOR_WORDS = 2
"""Fixed words a template must keep around a position for that position to vary by count."""

Tokens = tuple[str, ...]


def glob_match(pattern: str, token: str) -> bool:
    """Does `pattern` (with `<*>` matching any text, even empty) match `token`?"""
    parts = pattern.split(VAR)
    head, tail = parts[0], parts[-1]
    if len(token) < len(head) + len(tail) or not token.startswith(head):
        return False
    if not token.endswith(tail):
        return False
    position, end = len(head), len(token) - len(tail)
    for middle in parts[1:-1]:
        found = token.find(middle, position, end)
        if found < 0:
            return False
        position = found + len(middle)
    return True


def generalize(values: Iterable[str]) -> str:
    """One token standing for all `values`: their common prefix and suffix around `<*>`,
    cut at a word boundary (`user=root`, `user=git` -> `user=<*>`; `cyrus`, `news` -> `<*>`)."""
    ordered = sorted(set(values))
    if len(ordered) == 1:
        return ordered[0]
    shortest = min(len(v) for v in ordered)
    head = ordered[0]
    for value in ordered[1:]:
        while not value.startswith(head):
            head = head[:-1]
    head = _trim_head(head)
    tail = ordered[0][len(head) :]
    for value in ordered[1:]:
        rest = value[len(head) :]
        while tail and not rest.endswith(tail):
            tail = tail[1:]
    tail = _trim_tail(tail)
    if len(head) + len(tail) > shortest:
        tail = ""
    return head + VAR + tail


def _trim_head(head: str) -> str:
    while head.endswith(VAR):
        head = head[: -len(VAR)]
    while head and (head[-1].isalnum() or head[-1] == "_"):
        head = head[:-1]
    return head


def _trim_tail(tail: str) -> str:
    while tail.startswith(VAR):
        tail = tail[len(VAR) :]
    while tail and (tail[0].isalnum() or tail[0] == "_"):
        tail = tail[1:]
    return tail


def _is_word(token: str) -> bool:
    return VAR not in token and any(c.isalpha() for c in token)


def _mergeable(values: set[str], anchors: int, position: int) -> bool:
    """May the templates that differ only at `position`, where they hold `values`, merge?"""
    for pattern in values:
        if VAR in pattern and all(v == pattern or glob_match(pattern, v) for v in values):
            return True
    if position == 0 or anchors < MIN_ANCHOR_WORDS:
        return False
    return len(values) >= MIN_DISTINCT_WORDS


class _Components:
    """Union-find over templates; the smallest template (sorted) names each component."""

    def __init__(self, items: Iterable[Tokens]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: Tokens) -> Tokens:
        parent = self.parent
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def union(self, one: Tokens, other: Tokens) -> bool:
        a, b = self.find(one), self.find(other)
        if a == b:
            return False
        if b < a:
            a, b = b, a
        self.parent[b] = a
        return True


def _merge_once(templates: list[Tokens]) -> dict[Tokens, Tokens] | None:
    """One round over templates of one length: which merge, and into what (None: none)."""
    # Templates equal but at one position share the tokens around it.
    by_hole: dict[tuple[int, Tokens], list[Tokens]] = {}
    length = len(templates[0])
    for tokens in templates:
        for position in range(length):
            hole = (position, tokens[:position] + tokens[position + 1 :])
            group = by_hole.get(hole)
            if group is None:
                by_hole[hole] = [tokens]
            else:
                group.append(tokens)
    components = _Components(templates)
    changed = False
    # Components do not depend on the order unions are made in.
    for (position, around), group in by_hole.items():
        if len(group) < 2:
            continue
        values = {tokens[position] for tokens in group}
        anchors = sum(1 for token in around if _is_word(token))
        if not _mergeable(values, anchors, position):
            continue
        first = min(group)
        for tokens in group:
            changed = components.union(first, tokens) or changed
    if not changed:
        return None
    grouped: dict[Tokens, list[Tokens]] = defaultdict(list)
    for tokens in templates:
        grouped[components.find(tokens)].append(tokens)
    result: dict[Tokens, Tokens] = {}
    for members in grouped.values():
        if len(members) == 1:
            result[members[0]] = members[0]
            continue
        merged = tuple(generalize(tokens[p] for tokens in members) for p in range(length))
        for tokens in members:
            result[tokens] = merged
    return result


def merge_bucket(templates: Iterable[Tokens]) -> dict[Tokens, Tokens]:
    """`merge_templates` for templates that all have the same length."""
    originals = sorted(set(templates))
    current = {tokens: tokens for tokens in originals}
    if originals and len(originals[0]) > 1:
        while True:
            step = _merge_once(sorted(set(current.values())))
            if step is None:
                break
            current = {tokens: step[now] for tokens, now in current.items()}
    return current


def merge_templates(templates: Iterable[Tokens]) -> dict[Tokens, Tokens]:
    """Map every template to the template of its group (itself when nothing merges)."""
    by_length: dict[int, list[Tokens]] = defaultdict(list)
    for tokens in set(templates):
        by_length[len(tokens)].append(tokens)
    result: dict[Tokens, Tokens] = {}
    for length in sorted(by_length):
        result.update(merge_bucket(by_length[length]))
    return result
