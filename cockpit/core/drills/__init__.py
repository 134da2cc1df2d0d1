"""Game-day drills: scenario files, the live replay with injects, and the scored debrief.

Nothing here imports textual or executes anything: the replay appends to the sandbox's files
and to the drill incident's event log; the debrief only reads.
"""
