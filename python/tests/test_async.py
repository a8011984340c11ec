"""AsyncLLM: batching, cancellation, streaming, the guide's names."""

import asyncio
import time

import jarvis
from jarvis import perf_monitor

PROMPTS = ["Once upon a time", "The little dog", "Lily and Tom went", "One day, a bird"]


def test_concurrent_awaits_equal_solo_greedy_outputs(model_path):
    llm = jarvis.AsyncLLM(model_path, parallel=16, threads=2)

    async def main():
        # Solo: one request at a time, response cache off (every one computed).
        solo = [await llm.generate(p, max_tokens=24, temperature=0, cache=False) for p in PROMPTS]
        before = perf_monitor.monitor.get_stats  # noqa: F841 (the shared monitor)
        # 16 at once: the scheduler batches them.
        batched = await asyncio.gather(
            *(llm.generate(PROMPTS[i % 4], max_tokens=24, temperature=0, cache=False) for i in range(16)))
        return solo, batched

    solo, batched = asyncio.run(main())
    assert all(len(s) > 0 for s in solo)
    for i, text in enumerate(batched):
        assert text == solo[i % 4], f"request {i} differs when batched"
    # Batching happened: some step ran more than one sequence.
    seqs = [m for m in perf_monitor.monitor.get_all_stats() if m["name"] == "batch_sequences" and not m["labels"]]
    assert seqs and seqs[0]["lifetime"]["max_ms"] > 1  # histogram: "ms" keys hold its unit (sequences)
    llm.close()


def _kv_used(llm):
    m = [m for m in llm.models() if m["loaded"]][0]
    return m["kv_blocks_used"], m["running"]


def test_cancelling_the_task_cancels_the_request_and_frees_its_kv(long_context_model_path):
    llm = jarvis.AsyncLLM(long_context_model_path, threads=1)
    cancelled_before = perf_monitor.monitor.counter_value("llm_requests_cancelled")

    async def main():
        started = asyncio.Event()
        pieces = []

        async def consume():
            async for piece in llm.stream("Once upon a time", max_tokens=-1, temperature=0, ignore_eos=True,
                                          cache=False):
                pieces.append(piece)
                started.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(started.wait(), 30)
        # The scheduler publishes its stats between steps: poll briefly.
        deadline = time.monotonic() + 5
        used, running = _kv_used(llm)
        while not (used > 0 and running == 1) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
            used, running = _kv_used(llm)
        assert used > 0 and running == 1
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        deadline = time.monotonic() + 10
        while _kv_used(llm) != (0, 0) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return pieces

    pieces = asyncio.run(main())
    assert pieces
    assert _kv_used(llm) == (0, 0)
    assert perf_monitor.monitor.counter_value("llm_requests_cancelled") == cancelled_before + 1

    # The same for a plain `await generate(...)` task.
    async def cancel_generate():
        task = asyncio.create_task(llm.generate("The little dog", max_tokens=-1, ignore_eos=True, cache=False))
        while _kv_used(llm)[1] == 0:
            await asyncio.sleep(0.005)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        deadline = time.monotonic() + 10
        while _kv_used(llm) != (0, 0) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    asyncio.run(cancel_generate())
    assert _kv_used(llm) == (0, 0)
    llm.close()


def test_stream_pieces_concatenate_to_the_text_and_guide_names_work(model_path):
    llm = jarvis.AsyncLLM(model_path, threads=1)

    async def main():
        pieces = [p async for p in llm.stream("Once upon a time", max_tokens=20, temperature=0)]
        full = await llm.generate("Once upon a time", max_tokens=20, temperature=0, cache=False)
        guide = await llm.generate_response("Once upon a time", enable_cache=True, max_tokens=20, temperature=0)
        batched = await asyncio.gather(*(llm.generate_with_batching(p, max_tokens=8, temperature=0) for p in PROMPTS))
        assert llm.start_batch_processor() is None
        return pieces, full, guide, batched

    pieces, full, guide, batched = asyncio.run(main())
    assert len(pieces) > 1
    assert "".join(pieces) == full == guide
    assert len(batched) == 4
    llm.close()
