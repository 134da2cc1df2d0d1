"""Templates made readable in a narrow column: the part that tells one from its neighbours.

At 80 columns the patterns view has about 40 characters for a template. Two templates that
share a long start (`pam_unix(sshd:auth): authentication failure; ... rhost=<*>` with and
without ` user=<*>`) would look the same cut at the edge, so a long template keeps its first
token, then ` … `, then the tokens from where it parts from the most similar other template.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

ELLIPSIS = "…"


def _shared_prefix(one: Sequence[str], other: Sequence[str]) -> int:
    count = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        count += 1
    return count


def short_templates(templates: Sequence[str], width: int) -> list[str]:
    """Each template as it fits in `width` characters, keeping what tells it apart."""
    split = [template.split(" ") for template in templates]
    # Neighbours in sorted order share the longest prefixes.
    order = sorted(range(len(split)), key=lambda k: split[k])
    shared = [0] * len(split)
    for before, after in pairwise(order):
        common = _shared_prefix(split[before], split[after])
        shared[before] = max(shared[before], common)
        shared[after] = max(shared[after], common)
    return [
        short_template(template, width, shared_tokens=shared[k])
        for k, template in enumerate(templates)
    ]


def short_template(template: str, width: int, *, shared_tokens: int = 0) -> str:
    """`template` in at most `width` characters. When it is too long, and its first
    `shared_tokens` tokens are shared with another template so that cutting it would hide
    where they part, the middle is elided: `pam_unix(sshd:auth): … user=<*>`."""
    width = max(width, 8)
    if len(template) <= width:
        return template
    tokens = template.split(" ")
    parting = len(" ".join(tokens[: shared_tokens + 1]))
    if parting < width:
        return _cut(template, width)  # where it parts from its neighbour shows anyway
    best = ""
    if shared_tokens >= 2:
        # The tail from one token before the parting (the difference with its context), or
        # from the parting itself; before it as many leading tokens as fit.
        for start in (shared_tokens - 1, shared_tokens):
            start = min(start, len(tokens) - 1)
            tail = " ".join(tokens[start:])
            for keep in range(start - 1, 0, -1):
                candidate = f"{' '.join(tokens[:keep])} {ELLIPSIS} {tail}"
                if len(candidate) <= width:
                    if len(candidate) > len(best):
                        best = candidate
                    break
        if best:
            return best
        tail = " ".join(tokens[min(shared_tokens, len(tokens) - 1) :])
        if len(tail) + 2 <= width:
            return f"{ELLIPSIS} {tail}"
    return _cut(template, width)


def _cut(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    return text[: width - 1].rstrip() + ELLIPSIS
