"""The performance monitor: the same registry the jarvis engine records into.

Every LLM / AsyncLLM created without its own `monitor=` records its request
timings here (``llm_inference``, ``time_to_first_token``, ``queue_wait``,
``scheduler_step``, the ``llm_requests_*`` counters, ...), so Python-side
timings and engine timings sit side by side, and ``jarvis.serve()`` shows
them all on ``/api/performance/stats`` and ``/metrics``::

    from jarvis import perf_monitor
    from jarvis.perf_monitor import measure

    @measure("handle_query")          # sync or async functions
    async def handle_query(q): ...

    with measure("render"):           # or a block
        ...

    perf_monitor.get_stats("handle_query")
    # {'count': 3, 'avg_ms': 12.1, 'min_ms': ..., 'max_ms': ..., 'p50_ms': ...,
    #  'p95_ms': ..., 'p99_ms': ..., 'success_rate': 1.0, ...}

Percentiles come from a log-linear histogram (relative error <= 1/32);
count, min, max and avg are exact. Thread-safe.
"""

import functools
import inspect
import time
from typing import Any, Callable, Dict, Optional, TypeVar

from . import _native

#: The process-wide native monitor (a handle; the engine records into it).
monitor: "_native.Monitor" = _native.Monitor()

F = TypeVar("F", bound=Callable[..., Any])


def record_event(name: str, ms: float, success: bool = True) -> None:
    """Records one sample of the timer `name` (milliseconds)."""
    monitor.record_event(name, float(ms), bool(success))


def increment_counter(name: str, n: int = 1) -> None:
    """Adds `n` to the counter `name`."""
    monitor.increment_counter(name, int(n))


def set_gauge(name: str, value: float) -> None:
    """Sets the gauge `name`."""
    monitor.set_gauge(name, float(value))


def get_stats(name: str) -> Dict[str, float]:
    """Lifetime stats of the timer `name`: count, avg_ms, min_ms, max_ms,
    p50_ms, p95_ms, p99_ms, success_rate, failures, total_ms; {} when it was
    never recorded."""
    stats = monitor.get_stats(name)
    return dict(stats) if stats is not None else {}


def get_system_stats() -> Dict[str, Any]:
    """cpu_percent, memory_percent, gpu_memory_allocated_gb,
    gpu_memory_reserved_gb (0.0 where there is no GPU or it cannot be read),
    plus cpu_count, process_cpu_percent, process_rss_bytes, ... (None when
    unreadable)."""
    stats = dict(_native.system_stats())
    for key in ("cpu_percent", "memory_percent", "gpu_memory_allocated_gb", "gpu_memory_reserved_gb"):
        if stats.get(key) is None:
            stats[key] = 0.0
    return stats


def get_all_stats() -> Dict[str, Any]:
    """{timer name: get_stats(name)} for every unlabeled timer, plus
    "counters" ({name: value}), "gauges" ({name: value}), "models" (the
    engine's per-model timers: {model: {timer: stats}}) and "system"
    (get_system_stats())."""
    out: Dict[str, Any] = {}
    counters: Dict[str, int] = {}
    gauges: Dict[str, float] = {}
    models: Dict[str, Dict[str, Any]] = {}
    for metric in monitor.get_all_stats():
        labels = dict(metric["labels"])
        kind = metric["type"]
        if kind == "timer":
            if not labels:
                out[metric["name"]] = dict(metric["lifetime"])
            elif "model" in labels:
                models.setdefault(labels["model"], {})[metric["name"]] = dict(metric["lifetime"])
        elif kind == "counter" and not labels:
            counters[metric["name"]] = int(metric["value"])
        elif kind == "gauge" and not labels:
            gauges[metric["name"]] = metric["value"]
    out["counters"] = counters
    out["gauges"] = gauges
    out["models"] = models
    out["system"] = get_system_stats()
    return out


class measure:
    """Times a function (sync or async) or a ``with`` block as the timer
    `name`; an exception counts as a failure (and propagates)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._starts: list = []

    def __call__(self, fn: F) -> F:
        name = self.name
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                ok = False
                try:
                    result = await fn(*args, **kwargs)
                    ok = True
                    return result
                finally:
                    record_event(name, (time.perf_counter() - start) * 1000.0, ok)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            ok = False
            try:
                result = fn(*args, **kwargs)
                ok = True
                return result
            finally:
                record_event(name, (time.perf_counter() - start) * 1000.0, ok)

        return wrapper  # type: ignore[return-value]

    def __enter__(self) -> "measure":
        self._starts.append(time.perf_counter())
        return self

    def __exit__(self, exc_type: Optional[type], exc: Optional[BaseException], tb: Any) -> None:
        start = self._starts.pop()
        record_event(self.name, (time.perf_counter() - start) * 1000.0, exc_type is None)

    async def __aenter__(self) -> "measure":
        return self.__enter__()

    async def __aexit__(self, exc_type: Optional[type], exc: Optional[BaseException], tb: Any) -> None:
        self.__exit__(exc_type, exc, tb)
