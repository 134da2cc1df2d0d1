"""The cockpit's core: incident model, store, search, deploys, AI tools, comms and drills.

Nothing under this package imports textual; `tests/test_import_hygiene.py` enforces it.
"""
