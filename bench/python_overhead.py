#!/usr/bin/env python3
"""Overhead of the Python API: N concurrent streams through jarvis.AsyncLLM
against `jarvis bench-serve` (C++ clients on the scheduler) on the same model.

    bench/python_overhead.py --model M.gguf --jarvis build/ci/bin/jarvis \
        [--clients 16] [--requests-per-client 1] [--max-tokens 32] [--prompt-tokens 32] \
        [--threads 2] [--rounds 3]

Both sides make the same work: CLIENTS clients, each sending REQUESTS
requests one after another, greedy, ignore_eos (so every request makes
exactly MAX_TOKENS tokens), distinct prompts of about PROMPT_TOKENS tokens,
CLIENTS sequences batched at once, the same context, threads and batch
tokens. Each measurement is a fresh process (model load and a warm-up
request not timed); the two kinds alternate (C++, Python, C++, ...), so a
change in machine load hits both. Printed: every run's generated tokens/s,
the medians, and Python / C++.

What the Python side adds: the Service (response-cache lookup, metrics),
the pybind11 calls, the event-queue hand-off to the asyncio loop and one
Python await per streamed piece. bench-serve's prompts are token ids; the
Python ones are texts of exactly as many tokens (`jarvis tokenize`; the
count the runtime saw is printed).
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

WORDS = ("the cat sat on a warm mat and looked at the little dog who ran around the garden "
         "while the sun was shining over the hill near a small river full of fish").split()


def prompt_text(salt, n_words):
    words = [f"Story {salt}:"] + [WORDS[(salt + 7 * i) % len(WORDS)] for i in range(n_words)]
    return " ".join(words)


def tokenize(args, text):
    out = subprocess.run([args.jarvis, "tokenize", "--model", args.model, "--json", "--text", text],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def sized_prompts(args):
    """Distinct texts of exactly PROMPT_TOKENS tokens (BOS included, as
    bench-serve counts): the first pieces of a longer text, checked with
    `jarvis tokenize`."""
    prompts = []
    for c in range(args.clients):
        for r in range(args.requests_per_client):
            salt = 100 * c + r
            long_text = prompt_text(salt, 2 * args.prompt_tokens)
            pieces = tokenize(args, long_text)["pieces"][1:]  # without BOS
            n = args.prompt_tokens - 1
            while n > 0:
                text = "".join(pieces[:n]).strip()
                if len(tokenize(args, text)["ids"]) == args.prompt_tokens:
                    break
                n -= 1
            prompts.append(text)
    return prompts


def python_run(args):
    """One Python measurement (runs in its own process): prints one JSON line."""
    import jarvis

    opts = dict(threads=args.threads, ctx_size=args.ctx_size, parallel=args.clients, batch_tokens=args.batch_tokens)
    with open(args.prompts_file) as f:
        flat = json.load(f)
    prompts = {(c, r): flat[c * args.requests_per_client + r]
               for c in range(args.clients) for r in range(args.requests_per_client)}
    llm = jarvis.LLM(args.model, **opts)
    sizes = [llm.complete(prompts[(c, 0)], max_tokens=1, cache=False).prompt_tokens for c in range(2)]
    llm.close()
    del llm

    allm = jarvis.AsyncLLM(args.model, **opts)
    params = dict(max_tokens=args.max_tokens, temperature=0, ignore_eos=True, cache=False)

    async def client(c):
        pieces = 0
        for r in range(args.requests_per_client):
            async for _ in allm.stream(prompts[(c, r)], **params):
                pieces += 1
        return pieces

    async def main():
        await allm.generate("Warm up", max_tokens=4, cache=False)  # as bench-serve's warm-up
        t0 = time.perf_counter()
        pieces = await asyncio.gather(*(client(c) for c in range(args.clients)))
        return time.perf_counter() - t0, sum(pieces)

    wall, pieces = asyncio.run(main())
    tokens = args.clients * args.requests_per_client * args.max_tokens
    # Marked: the library's log lines share stdout.
    print("RESULT " + json.dumps({"tokens": tokens, "wall_s": wall, "tokens_per_s": tokens / wall, "pieces": pieces,
                      "prompt_tokens": sizes}), flush=True)


def cpp_run(args):
    cmd = [args.jarvis, "bench-serve", "--model", args.model, "--clients", str(args.clients),
           "--requests-per-client", str(args.requests_per_client), "-n", str(args.max_tokens),
           "--prompt-tokens", str(args.prompt_tokens), "-t", str(args.threads), "-c", str(args.ctx_size),
           "--max-sequences", str(args.clients), "--modes", "on"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    # | clients | batching | reqs | tokens/s | ...
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 3 and cells[0] == str(args.clients) and cells[1] == "on":
            return float(cells[3])
    raise RuntimeError("no result row in bench-serve's output:\n" + out)


def python_subprocess(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--python-only", "--model", args.model,
           "--clients", str(args.clients), "--requests-per-client", str(args.requests_per_client),
           "--max-tokens", str(args.max_tokens), "--prompt-tokens", str(args.prompt_tokens),
           "--threads", str(args.threads), "--ctx-size", str(args.ctx_size),
           "--batch-tokens", str(args.batch_tokens), "--jarvis", args.jarvis, "--prompts-file", args.prompts_file]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads([line for line in out.splitlines() if line.startswith("RESULT ")][-1][len("RESULT "):])


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--jarvis", default="build/ci/bin/jarvis", help="the jarvis binary (for bench-serve)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests-per-client", type=int, default=1)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx-size", type=int, default=512)
    ap.add_argument("--batch-tokens", type=int, default=512, help="bench-serve's: max(512, clients)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--python-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--prompts-file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.python_only:
        python_run(args)
        return
    args.batch_tokens = max(args.batch_tokens, args.clients)
    prompts = sized_prompts(args)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(prompts, f)
        args.prompts_file = f.name
    print(f"model {args.model}: {args.clients} clients x {args.requests_per_client} requests x "
          f"{args.max_tokens} tokens, prompts ~{args.prompt_tokens} tokens, {args.threads} threads")
    cpp, py = [], []
    for i in range(args.rounds):
        cpp.append(cpp_run(args))
        print(f"round {i + 1}: bench-serve {cpp[-1]:8.2f} tokens/s   (load {loadavg()})", flush=True)
        r = python_subprocess(args)
        py.append(r["tokens_per_s"])
        print(f"round {i + 1}: AsyncLLM    {py[-1]:8.2f} tokens/s   (load {loadavg()}; prompt tokens "
              f"{r['prompt_tokens']}, {r['pieces']} pieces)", flush=True)
    c, p = statistics.median(cpp), statistics.median(py)
    print(f"median: bench-serve {c:.2f} tokens/s, AsyncLLM {p:.2f} tokens/s, Python / C++ = {p / c:.3f}")
    os.unlink(args.prompts_file)


if __name__ == "__main__":
    main()
