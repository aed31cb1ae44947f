"""moray.util.metrics: application metrics with Ray's Python signatures.

A metric records values per tag set in this process; the process's core worker sends them to its
node's raylet (at most once a second, when one changed), which exports them on the node's
Prometheus endpoint (GET /metrics on --metrics-export-port) as ``moray_<name>`` (counters:
``moray_<name>_total``) with the tags and a WorkerId label. The same path as C++'s ray::Counter.

    requests = Counter("requests", description="Requests served.", tag_keys=("route",))
    requests.set_default_tags({"route": "/"})
    requests.inc()
    Gauge("queue_depth").set(4)
    Histogram("latency_ms", boundaries=[1, 10, 100]).observe(3.5)
"""

from typing import Dict, List, Optional, Tuple

from moray import _moray_core as core

__all__ = ["Counter", "Gauge", "Histogram", "Metric"]


class Metric:
    """What every metric has: a name, a description, tag keys and default tags."""

    def __init__(self, name: str, description: str = "", tag_keys: Optional[Tuple[str, ...]] = None,
                 *, _kind: str = "GAUGE", _boundaries: Optional[List[float]] = None):
        if not isinstance(name, str) or not name:
            raise ValueError("Empty name is not allowed. Please provide a metric name.")
        tag_keys = tuple(tag_keys) if tag_keys is not None else tuple()
        if not all(isinstance(key, str) for key in tag_keys):
            raise TypeError(f"tag_keys must be a tuple of str, not {tag_keys!r}")
        self._name = name
        self._description = description
        self._tag_keys = tag_keys
        self._default_tags: Dict[str, str] = {}
        self._handle = core.metric_define(name, description, "", _kind, list(_boundaries or []),
                                          list(tag_keys))

    def set_default_tags(self, default_tags: Dict[str, str]):
        """Tags used when a call does not give them; returns the metric."""
        for key in default_tags:
            if key not in self._tag_keys:
                raise ValueError(f"Unrecognized tag key {key!r}.")
        self._default_tags = dict(default_tags)
        return self

    @property
    def info(self) -> Dict:
        return {"name": self._name, "description": self._description,
                "tag_keys": self._tag_keys, "default_tags": self._default_tags}

    def _tags(self, tags: Optional[Dict[str, str]]) -> Dict[str, str]:
        merged = dict(self._default_tags)
        for key, value in (tags or {}).items():
            if key not in self._tag_keys:
                raise ValueError(f"Unrecognized tag key {key!r}.")
            merged[key] = str(value)
        missing = [key for key in self._tag_keys if key not in merged]
        if missing:
            raise ValueError(f"Missing value for tag key(s): {', '.join(missing)}.")
        return merged

    def _record(self, value: float, tags: Optional[Dict[str, str]]):
        core.metric_record(self._handle, float(value), self._tags(tags))


class Counter(Metric):
    """A count that only goes up (a Prometheus counter)."""

    def __init__(self, name: str, description: str = "",
                 tag_keys: Optional[Tuple[str, ...]] = None):
        super().__init__(name, description, tag_keys, _kind="COUNTER")

    def inc(self, value: float = 1.0, tags: Optional[Dict[str, str]] = None):
        if value <= 0:
            raise ValueError(f"value must be > 0, got {value}")
        self._record(value, tags)


class Gauge(Metric):
    """The last value set."""

    def __init__(self, name: str, description: str = "",
                 tag_keys: Optional[Tuple[str, ...]] = None):
        super().__init__(name, description, tag_keys, _kind="GAUGE")

    def set(self, value: Optional[float], tags: Optional[Dict[str, str]] = None):
        if value is None:
            return
        self._record(value, tags)


class Histogram(Metric):
    """Observations counted in buckets with the given upper boundaries."""

    def __init__(self, name: str, description: str = "", boundaries: Optional[List[float]] = None,
                 tag_keys: Optional[Tuple[str, ...]] = None):
        if not boundaries:
            raise ValueError("boundaries must be a non-empty list of positive numbers")
        if any(b <= 0 for b in boundaries):
            raise ValueError(f"boundaries must be positive, got {boundaries}")
        self._boundaries = list(boundaries)
        super().__init__(name, description, tag_keys, _kind="HISTOGRAM",
                         _boundaries=self._boundaries)

    def observe(self, value: float, tags: Optional[Dict[str, str]] = None):
        self._record(value, tags)

    @property
    def info(self) -> Dict:
        info = super().info
        info["boundaries"] = self._boundaries
        return info
