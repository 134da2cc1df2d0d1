"""Review: the root cause in a human's words, the evidence that supports or contradicts it, the
postmortem draft, and what leaves the cockpit for a tracker or another store.

- `events`: the review event kinds (root cause, action items) and how to read them back;
- `evidence`: the one keyword match of a claim against the recorded evidence (the postmortem's
  table and the Comms pane's cross-check use it alike), and what the record lacks;
- `postmortem`: the Markdown draft;
- `exports`: action items as JSON/CSV, the whole incident exported and imported.

Everything here is heuristic where it judges and UNVERIFIED: a human reads it and decides.
"""
