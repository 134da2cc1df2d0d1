"""The cockpit's Textual UI: a thin app and one pane per file under `panes/`."""
