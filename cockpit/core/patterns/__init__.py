"""Error patterns: log lines grouped into templates, the one clusterer every consumer uses.

`PatternIndex` groups lines (search hits) as they stream in, from any number of parallel
sources, into `Signature`s: a template with its variable parts as `<*>` (`PacketResponder
<*> for block blk_<*> terminating`), its count, first and last seen, per-minute counts, an
example line and the header's fields as attributes (service, level, host). The Logs pane's
patterns view, the heuristics, the AI tools, triage and `cockpit patterns` all use it.

How a line is read: `header.py` recognises its header (timestamps, level, host, process,
component, JSON and logfmt envelopes) and leaves it out; `masking.py` replaces what is
variable by its form; `merge.py` merges templates that differ only where a word varies.
The result does not depend on the order lines arrive in; see `index.py` for the bounds.
"""

from cockpit.core.patterns.display import short_template, short_templates
from cockpit.core.patterns.index import (
    MAX_SHAPES,
    LineShape,
    PatternIndex,
    Signature,
    clear_caches,
    read_line,
    sparkline,
)
from cockpit.core.patterns.masking import VAR

__all__ = [
    "MAX_SHAPES",
    "VAR",
    "LineShape",
    "PatternIndex",
    "Signature",
    "clear_caches",
    "read_line",
    "short_template",
    "short_templates",
    "sparkline",
    "template_of",
]


def template_of(text: str) -> str:
    """The provisional template of one line on its own (before merging with others)."""
    return read_line(text).template
