"""Ray's Serve library is not part of moray (issue 14's scope: Ray Core only)."""

raise ImportError(
    "ray.serve (Ray Serve) is not part of moray: moray implements Ray Core - tasks, actors, "
    "objects, placement groups and runtime envs. Use Ray itself for its libraries.")
