"""Ray's Train library is not part of moray (issue 14's scope: Ray Core only)."""

raise ImportError(
    "ray.train (Ray Train) is not part of moray: moray implements Ray Core - tasks, actors, "
    "objects, placement groups and runtime envs. Use Ray itself for its libraries.")
