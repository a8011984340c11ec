#!/usr/bin/env python3
"""The performance guide's benchmark, through jarvis's Python API.

    seed_benchmark.py MODEL [--prompt-tokens 50] [--max-tokens 256] [--threads N] [--quick]
    seed_benchmark.py MODEL --streams 16     # Python API overhead: 16 concurrent streams

Four tables, each sync (LLM, one request after another) vs async (AsyncLLM,
asyncio.gather; the scheduler batches the concurrent requests):
  1. a single request;
  2. 4 parallel requests;
  3. 10 requests with batching (generate_with_batching);
  4. a response-cache hit (the same deterministic request twice).
Rows: wall time, throughput (req/s and generated tokens/s), mean latency per
request. Prompts are ~`--prompt-tokens` tokens (the measured count is
printed), generation is greedy with ignore_eos so every request makes exactly
`--max-tokens` tokens.

--streams N measures the Python API's overhead instead: N clients, each
streaming --requests-per-client requests one after another through
AsyncLLM.stream (the shape of `jarvis bench-serve --clients N
--requests-per-client R -n T --prompt-tokens P --modes on`), and prints the
aggregate generated tokens/s to compare with bench-serve's on the same model.
"""

import argparse
import asyncio
import statistics
import sys
import time

import jarvis

WORDS = ("the cat sat on a warm mat and looked at the little dog who ran around the garden "
         "while the sun was shining over the hill near a small river full of fish").split()


def make_prompt(llm, n_tokens, salt):
    """A prompt of about n_tokens tokens (measured with the model's tokenizer)."""
    words = [f"Story {salt}:"]
    i = salt
    while True:
        words.append(WORDS[i % len(WORDS)])
        i += 7
        text = " ".join(words)
        if len(words) % 8 == 0 or len(words) > 4 * n_tokens:
            c = llm.complete(text, max_tokens=1, temperature=0, cache=False)
            if c.prompt_tokens >= n_tokens:
                return text, c.prompt_tokens


def row(name, wall_s, results):
    reqs = len(results)
    tokens = sum(r.completion_tokens for r in results)
    lat = statistics.mean(r.timings["total_ms"] for r in results) / 1000.0
    print(f"| {name:<28} | {wall_s:8.2f} | {reqs / wall_s:7.2f} | {tokens / wall_s:8.1f} | {lat:8.2f} |")


def header(title):
    print(f"\n### {title}\n")
    print("| mode                         |   wall s |   req/s | tokens/s |  lat s/req |")
    print("|------------------------------|---------:|--------:|---------:|---------:|")


def tables(args):
    opts = dict(threads=args.threads, ctx_size=args.ctx_size, parallel=max(10, args.parallel))
    # Prompts are sized with a separate runtime, so that the measured ones
    # find no prompt prefix cached.
    probe = jarvis.LLM(args.model, **opts)
    prompts = []
    for i in range(10):
        text, n = make_prompt(probe, args.prompt_tokens, i)
        prompts.append(text)
    probe.close()
    del probe
    llm = jarvis.LLM(args.model, **opts)
    allm = jarvis.AsyncLLM(args.model, **opts)
    params = dict(max_tokens=args.max_tokens, temperature=0, ignore_eos=True, cache=False)
    print(f"model {args.model}; prompt ~{n} tokens; {args.max_tokens} generated tokens per request; "
          f"threads {args.threads}; backend {llm.models()[0]['backend']}")

    def sync_run(batch):
        t0 = time.perf_counter()
        out = [llm.complete(p, **params) for p in batch]
        return time.perf_counter() - t0, out

    def async_run(batch):
        async def main():
            call = allm.complete
            t0 = time.perf_counter()
            out = await asyncio.gather(*(call(p, **params) for p in batch))
            return time.perf_counter() - t0, list(out)
        return asyncio.run(main())

    header("1. Single request")
    row("sync  LLM.generate", *sync_run(prompts[:1]))
    row("async await generate", *async_run(prompts[:1]))

    header("2. 4 parallel requests")
    row("sync  (one after another)", *sync_run(prompts[:4]))
    row("async asyncio.gather", *async_run(prompts[:4]))

    header("3. 10 requests with batching")
    row("sync  (one after another)", *sync_run(prompts[:10]))
    row("async generate_with_batching", *async_run(prompts[:10]))

    header("4. Cache hit (same deterministic request twice)")
    cached = dict(params, cache=True)
    for name, fn in (("sync ", lambda: llm.complete(prompts[0] + " again", **cached)),
                     ("async", lambda: asyncio.run(allm.complete(prompts[0] + " again, async", **cached)))):
        t0 = time.perf_counter()
        miss = fn()
        t_miss = time.perf_counter() - t0
        t0 = time.perf_counter()
        hit = fn()
        t_hit = time.perf_counter() - t0
        assert not miss.from_cache and hit.from_cache and hit.text == miss.text
        row(f"{name} miss", t_miss, [miss])
        print(f"| {name + ' hit':<28} | {t_hit:8.4f} | {1 / t_hit:7.0f} |        - | {t_hit:8.4f} |")
        print(f"  {name}: cache hit {t_miss / t_hit:.0f}x faster than computing")


def streams(args):
    allm = jarvis.AsyncLLM(args.model, threads=args.threads, ctx_size=args.ctx_size, parallel=args.streams)
    # Distinct prompts of ~prompt_tokens tokens (as bench-serve's synthetic ones).
    sync_llm = jarvis.LLM(args.model, threads=args.threads, ctx_size=args.ctx_size, preload=False)
    prompts = {(c, r): make_prompt(sync_llm, args.prompt_tokens, 1000 + c * 100 + r)[0]
               for c in range(args.streams) for r in range(args.requests_per_client)}
    sync_llm.close()
    params = dict(max_tokens=args.max_tokens, temperature=0, ignore_eos=True, cache=False)

    async def client(c):
        tokens = 0
        for r in range(args.requests_per_client):
            async for _ in allm.stream(prompts[(c, r)], **params):
                pass
            tokens += args.max_tokens
        return tokens

    async def main():
        t0 = time.perf_counter()
        done = await asyncio.gather(*(client(c) for c in range(args.streams)))
        return sum(done), time.perf_counter() - t0

    tokens, wall = asyncio.run(main())
    print(f"AsyncLLM.stream: {args.streams} clients x {args.requests_per_client} requests x {args.max_tokens} "
          f"tokens: {tokens} tokens in {wall:.2f} s = {tokens / wall:.1f} tokens/s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--prompt-tokens", type=int, default=50)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx-size", type=int, default=512)
    ap.add_argument("--parallel", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="16-token prompts, 16 generated tokens")
    ap.add_argument("--streams", type=int, default=0, help="overhead mode: N concurrent streaming clients")
    ap.add_argument("--requests-per-client", type=int, default=2)
    args = ap.parse_args()
    if args.quick:
        args.prompt_tokens, args.max_tokens = 16, 16
    if args.prompt_tokens + args.max_tokens >= args.ctx_size:
        sys.exit("--ctx-size must exceed prompt + max tokens")
    if args.streams:
        streams(args)
    else:
        tables(args)


if __name__ == "__main__":
    main()
