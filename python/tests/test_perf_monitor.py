"""jarvis.perf_monitor: the guide's API, shared with the engine."""

import asyncio

import pytest

import jarvis
from jarvis import perf_monitor
from jarvis.perf_monitor import measure


def test_measure_sync_async_and_block():
    @measure("py_sync_op")
    def work(x):
        return x * 2

    @measure("py_async_op")
    async def awork(x):
        await asyncio.sleep(0.01)
        return x + 1

    @measure("py_failing_op")
    def fail():
        raise RuntimeError("boom")

    assert work(21) == 42
    assert work(1) == 2
    assert asyncio.run(awork(1)) == 2
    with pytest.raises(RuntimeError):
        fail()
    with measure("py_block"):
        sum(range(1000))

    s = perf_monitor.get_stats("py_sync_op")
    assert s["count"] == 2 and s["success_rate"] == 1.0
    for key in ("avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms", "count", "success_rate"):
        assert key in s
    a = perf_monitor.get_stats("py_async_op")
    assert a["count"] == 1 and a["min_ms"] >= 9.0  # slept 10 ms
    f = perf_monitor.get_stats("py_failing_op")
    assert f["count"] == 1 and f["success_rate"] == 0.0
    assert perf_monitor.get_stats("py_block")["count"] == 1
    assert perf_monitor.get_stats("never_recorded") == {}


def test_events_counters_and_all_stats():
    perf_monitor.record_event("py_manual", 5.0)
    perf_monitor.record_event("py_manual", 15.0, success=False)
    perf_monitor.increment_counter("py_clicks")
    perf_monitor.increment_counter("py_clicks", 2)
    s = perf_monitor.get_stats("py_manual")
    assert s["count"] == 2 and s["min_ms"] == 5.0 and s["max_ms"] == 15.0 and s["avg_ms"] == 10.0
    assert s["success_rate"] == 0.5
    all_stats = perf_monitor.get_all_stats()
    assert all_stats["py_manual"]["count"] == 2
    assert all_stats["counters"]["py_clicks"] == 3
    system = all_stats["system"]
    for key in ("cpu_percent", "memory_percent", "gpu_memory_allocated_gb", "gpu_memory_reserved_gb"):
        assert isinstance(system[key], float)
    assert 0.0 <= system["memory_percent"] <= 100.0


def test_engine_records_into_the_same_monitor(model_path):
    before = perf_monitor.get_stats("llm_inference").get("count", 0)
    llm = jarvis.LLM(model_path, threads=1)
    llm.generate("Once upon a time", max_tokens=4, temperature=0, cache=False)
    assert perf_monitor.get_stats("llm_inference")["count"] == before + 1
    # And the engine's document shows the Python-side timers.
    perf_monitor.record_event("py_visible_in_engine_stats", 1.0)
    assert llm.stats()["py_visible_in_engine_stats"]["count"] == 1
    llm.close()
