"""jarvis.serve(): HTTP in-process, sharing the models with Python."""

import asyncio
import json
import urllib.request

import jarvis
from jarvis import perf_monitor


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.read().decode()


def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read().decode())


def test_serve_answers_http_while_python_generates(model_path):
    llm = jarvis.AsyncLLM(model_path, threads=1)
    server = jarvis.serve(llm, port=0)
    assert server.port > 0
    perf_monitor.record_event("py_side_timer", 2.0)

    async def main():
        loop = asyncio.get_running_loop()
        python_side = asyncio.gather(*(llm.generate("Once upon a time", max_tokens=32, temperature=0, cache=False)
                                       for _ in range(4)))
        health = loop.run_in_executor(None, _get, server.url + "/health")
        completion = loop.run_in_executor(None, _post, server.url + "/v1/completions",
                                          {"prompt": "Once upon a time", "max_tokens": 32, "temperature": 0})
        return await python_side, await health, await completion

    texts, health, completion = asyncio.run(main())
    assert health[0] == 200
    status, body = completion
    assert status == 200
    # The HTTP request ran on the same loaded model: the same greedy text.
    assert body["choices"][0]["text"] == texts[0]
    # The monitor is shared: Python's own timer shows on the monitoring API.
    status, stats = _get(server.url + "/api/performance/stats")
    assert status == 200 and json.loads(stats)["py_side_timer"]["count"] == 1
    status, metrics = _get(server.url + "/metrics")
    assert status == 200 and "jarvis_request_duration_seconds" in metrics
    server.stop()
    server.stop()  # idempotent
    llm.close()
