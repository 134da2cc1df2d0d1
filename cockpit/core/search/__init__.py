"""Parallel log search: local files (ripgrep or the in-process engine), journald, Loki and
Elasticsearch, with error patterns. `engine.run_search` is the entry point."""
