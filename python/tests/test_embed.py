"""LLM.embed and AsyncLLM.embed on stories260K (a decoder embedder)."""

import asyncio
import math

import pytest

import jarvis

TEXTS = ["Once upon a time there was a cat.", "The dog ran to the park.", "Lily and Tom went"]


def _norm(v):
    return math.sqrt(sum(x * x for x in v))


def test_embed_vectors_dimensions_and_errors(model_path):
    llm = jarvis.LLM(model_path, threads=1)
    vectors = llm.embed(TEXTS)
    assert len(vectors) == 3
    width = len(vectors[0])
    assert width > 8 and all(len(v) == width for v in vectors)
    assert all(abs(_norm(v) - 1.0) < 1e-4 for v in vectors)
    assert vectors[0] != vectors[1]
    # A single string is one text; the same text gives the same vector.
    assert llm.embed(TEXTS[1]) == [vectors[1]]
    cut = llm.embed(TEXTS[:1], dimensions=8)[0]
    assert len(cut) == 8 and abs(_norm(cut) - 1.0) < 1e-4
    head = vectors[0][:8]
    assert all(abs(a - b / _norm(head)) < 1e-5 for a, b in zip(cut, head))
    long_text = "once upon a time " * 1000
    assert len(llm.embed(long_text)) == 1  # truncated to the context
    with pytest.raises(ValueError, match="context"):
        llm.embed(long_text, truncate=False)
    with pytest.raises(ValueError):
        llm.embed([""])
    with pytest.raises(ValueError):
        llm.embed(TEXTS, dimensions=width + 1)
    with pytest.raises(ValueError):
        llm.embed(TEXTS, dimensions=0)
    with pytest.raises(FileNotFoundError):
        llm.embed(TEXTS, model="no-such-model")
    stats = llm.stats()
    assert stats["counters"]["embedding_requests_ok"] >= 4
    assert stats["embedding_request"]["count"] >= 4
    llm.close()


def test_async_embed_batches_concurrent_awaits(model_path):
    llm = jarvis.AsyncLLM(model_path, threads=2)
    solo = jarvis.LLM(model_path, threads=1)
    expected = solo.embed(TEXTS)
    solo.close()

    async def main():
        return await asyncio.gather(*(llm.embed([TEXTS[i % 3]]) for i in range(12)))

    results = asyncio.run(main())
    for i, r in enumerate(results):
        assert len(r) == 1
        assert all(abs(a - b) < 1e-5 for a, b in zip(r[0], expected[i % 3])), f"request {i}"
    llm.close()
