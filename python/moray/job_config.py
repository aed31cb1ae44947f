"""JobConfig: what moray.init(job_config=...) says about the job (Ray's ray.job_config)."""

import os


class JobConfig:
    """The job's settings, given to `moray.init(job_config=JobConfig(...))`.

    code_search_path: shared libraries (or directories of them) whose RAY_REMOTE functions and
        actors the job calls with `moray.cross_language` (the C++ workers run `moray worker`,
        which loads them); directories are on the Python workers' sys.path too. An entry may
        hold several paths separated by ':'.
    runtime_env: the job's runtime env (as `init(runtime_env=...)`, which wins when both are given).
    ray_namespace: the job's namespace (as `init(namespace=...)`, which wins).
    """

    def __init__(self, code_search_path=None, runtime_env=None, ray_namespace=None):
        if code_search_path is None:
            code_search_path = []
        if isinstance(code_search_path, str):
            code_search_path = [code_search_path]
        if not isinstance(code_search_path, (list, tuple)) or not all(
                isinstance(p, str) for p in code_search_path):
            raise TypeError("code_search_path must be a list of str")
        if runtime_env is not None and not isinstance(runtime_env, dict):
            raise TypeError("runtime_env must be a dict")
        if ray_namespace is not None and not isinstance(ray_namespace, str):
            raise TypeError("ray_namespace must be a str")
        self.code_search_path = list(code_search_path)
        self.runtime_env = runtime_env
        self.ray_namespace = ray_namespace

    def _code_search_path(self):
        """The paths, split at ':' and made absolute (workers do not share the driver's cwd)."""
        out = []
        for entry in self.code_search_path:
            for path in entry.split(":"):
                if path:
                    out.append(os.path.abspath(path))
        return out

    def __repr__(self):
        return (f"JobConfig(code_search_path={self.code_search_path!r}, "
                f"runtime_env={self.runtime_env!r}, ray_namespace={self.ray_namespace!r})")
