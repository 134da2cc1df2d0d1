"""The Logs pane's keys: search options (the `alt+` forms work from the pattern box), marks,
re-run, pin, back to the pattern, stop."""

from __future__ import annotations

from textual.binding import Binding, BindingType

BINDINGS: list[BindingType] = [
    Binding(
        "alt+x,x",
        "toggle_regex",
        "Regex",
        id="log-search-toggle-regex",
        tooltip="Treat the pattern as a regex or as a literal string",
    ),
    Binding(
        "alt+i,i",
        "toggle_case",
        "Case",
        id="log-search-toggle-case",
        tooltip="Match case-sensitively or not",
    ),
    Binding(
        "alt+t,t",
        "cycle_window",
        "Time window",
        id="log-search-window",
        tooltip="Time window: 15m, 1h, 6h, since the incident started, all, custom",
    ),
    Binding(
        "alt+s,s",
        "cycle_service",
        "Service",
        id="log-search-service",
        tooltip="Search all services or only one",
    ),
    Binding(
        "alt+v,v",
        "toggle_view",
        "Lines/Patterns",
        id="log-search-view",
        tooltip="Switch between matching lines and error patterns",
    ),
    Binding(
        "alt+m,m",
        "pick_deploy",
        "New since deploy",
        id="log-search-new-since-deploy",
        show=False,
        tooltip="Pick a recent deploy: signatures first seen after it are marked NEW",
    ),
    Binding(
        "M",
        "mark_new_since",
        "New since time",
        id="log-search-new-since",
        show=False,
        tooltip="Mark signatures first seen after a time you type (30m, or an ISO time)",
    ),
    Binding(
        "r",
        "rerun",
        "Re-run",
        id="log-search-rerun",
        show=False,
        tooltip="Run the last search again (new lines keep arriving)",
    ),
    Binding(
        "p",
        "pin",
        "Pin",
        id="log-search-pin",
        tooltip="Pin the selected line or signature to the timeline as evidence",
    ),
    Binding(
        "slash",
        "focus_pattern",
        "Pattern",
        id="log-search-focus-pattern",
        show=False,
        tooltip="Go back to the pattern box",
    ),
    Binding(
        "escape",
        "stop",
        "Stop",
        id="log-search-stop",
        show=False,
        tooltip="Stop the running search",
    ),
]
