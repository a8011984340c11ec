"""LLM (blocking), the response cache, errors."""

import threading

import pytest

import jarvis


def test_generate_stream_and_threads(model_path):
    llm = jarvis.LLM(model_path, threads=1)
    text = llm.generate("Once upon a time", max_tokens=16, temperature=0, cache=False)
    assert text
    assert "".join(llm.stream("Once upon a time", max_tokens=16, temperature=0)) == text
    # Python threads calling at once (the GIL is released while native code waits).
    results = [None] * 4

    def worker(i):
        results[i] = llm.generate("Once upon a time", max_tokens=16, temperature=0, cache=False)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [text] * 4
    c = llm.complete("Once upon a time", max_tokens=4, temperature=0, cache=False)
    assert c.completion_tokens == 4 and c.finish_reason == "length" and c.prompt_tokens > 0
    llm.close()


def test_kv_type_q8_0(model_path):
    # A Q8_0 KV cache (CPU only): generates, and repeats itself exactly.
    llm = jarvis.LLM(model_path, threads=1, kv_type="q8_0", gpu_layers=0)
    text = llm.generate("Once upon a time", max_tokens=16, temperature=0, cache=False)
    assert text
    assert llm.generate("Once upon a time", max_tokens=16, temperature=0, cache=False) == text
    llm.close()


def test_response_cache_hit(model_path):
    llm = jarvis.LLM(model_path, threads=1)
    first = llm.complete("The little dog", max_tokens=12, temperature=0)
    second = llm.complete("The little dog", max_tokens=12, temperature=0)
    assert not first.from_cache
    assert second.from_cache and second.text == first.text
    # enable_cache=False computes again.
    again = llm.complete("The little dog", max_tokens=12, temperature=0, cache=False)
    assert not again.from_cache and again.text == first.text
    assert llm.generate_response("The little dog", enable_cache=True, max_tokens=12, temperature=0) == first.text
    llm.close()


def test_errors(model_path, tmp_path):
    with pytest.raises(FileNotFoundError):
        jarvis.LLM(str(tmp_path / "missing.gguf"))
    with pytest.raises(ValueError, match="kv_type must be one of f32, f16, q8_0"):
        jarvis.LLM(model_path, kv_type="f8")
    with pytest.raises(ValueError, match="unknown option"):
        jarvis.LLM(model_path, no_such_option=1)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)
    with pytest.raises(jarvis.ModelError):
        jarvis.LLM(str(bad))
    not_gguf = tmp_path / "text.gguf"
    not_gguf.write_bytes(b"hello, this is not a model at all" * 4)
    with pytest.raises(jarvis.ModelError):
        jarvis.LLM(str(not_gguf))

    llm = jarvis.LLM(model_path, threads=1, parallel=1, max_queue=1)
    with pytest.raises(ValueError, match="temperature"):
        llm.generate("x", temperature=-1)
    with pytest.raises(ValueError, match="unknown generation parameter"):
        llm.generate("x", temprature=0)
    with pytest.raises(FileNotFoundError):
        llm.generate("x", model="no-such-model")
    with pytest.raises(ValueError, match="tools"):
        llm.chat([{"role": "user", "content": "hi"}], tools=[{"type": "function"}])
    # One running, one queued: the next is refused.
    streams = []
    with pytest.raises(jarvis.QueueFullError):
        for _ in range(4):
            streams.append(llm._runtime.submit("Once upon a time", None,
                                               {"max_tokens": -1, "ignore_eos": True, "cache": False}))
    assert issubclass(jarvis.QueueFullError, jarvis.JarvisError)
    for r in streams:
        r.cancel()
    llm.close()


def test_speculative_lookup_keeps_the_output(model_path):
    prompt = "Once upon a time, there was a little girl named Lily. Lily"
    plain = jarvis.LLM(model_path, threads=1)
    expected = plain.generate(prompt, max_tokens=96, temperature=0, cache=False)
    plain.close()
    llm = jarvis.LLM(model_path, threads=1, speculative="lookup", draft_max=4)
    assert jarvis.DEFAULT_OPTIONS["speculative"] == "off"
    assert llm.generate(prompt, max_tokens=96, temperature=0, cache=False) == expected
    stats = [m for m in llm.models() if m["loaded"]]
    assert stats and stats[0]["accepted_draft_tokens"] > 0
    assert stats[0]["accepted_draft_tokens"] <= stats[0]["draft_tokens"]
    llm.close()
    with pytest.raises(ValueError, match="speculative"):
        jarvis.LLM(model_path, speculative="medusa")
    with pytest.raises(ValueError, match="draft_max"):
        jarvis.LLM(model_path, speculative="lookup", draft_max=0)


def test_draft_model_keeps_the_output(model_path):
    prompt = "Once upon a time, there was a little girl named Lily. Lily"
    plain = jarvis.LLM(model_path, threads=1)
    expected = plain.generate(prompt, max_tokens=64, temperature=0, cache=False)
    plain.close()
    assert jarvis.DEFAULT_OPTIONS["draft_model"] == ""
    # The model drafting for itself: its greedy drafts are all accepted.
    llm = jarvis.LLM(model_path, threads=1, draft_model=model_path)
    assert llm.generate(prompt, max_tokens=64, temperature=0, cache=False) == expected
    stats = [m for m in llm.models() if m["loaded"]]
    assert stats and stats[0]["accepted_draft_tokens"] > 0
    llm.close()
    with pytest.raises(ValueError, match="needs a draft model"):
        jarvis.LLM(model_path, speculative="draft")
