"""Parallel log search: local files (ripgrep or an in-process engine), journald, Loki, Elasticsearch."""
