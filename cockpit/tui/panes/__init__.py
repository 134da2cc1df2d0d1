"""One pane per file. Each pane is a `Pane` subclass (see base.py)."""
