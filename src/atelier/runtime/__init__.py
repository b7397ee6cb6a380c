"""Where pipelines run (the in-process runner) and how their events travel (the bus)."""
