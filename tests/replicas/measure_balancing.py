#!/usr/bin/env python3
"""Measurement, not a test (not in CTest): requests per second and p95
latency through nginx (deploy/nginx/jarvis.conf) with 1 replica of 2 engine
threads and with 2 replicas of 1 thread each (the machine has 2 cores), the
same requests, interleaved in one run so the figures compare.
Usage: measure_balancing.py JARVIS MODEL [REQUESTS] [CONCURRENCY] [MAX_TOKENS]"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor

from replicas import Cluster, free_port, generate, need, percentile


def run(front, n, concurrency, max_tokens):
    def one(i):
        t0 = time.monotonic()
        generate(front, f"Measure {i}: once upon a time", stream=i % 2 == 1, max_tokens=max_tokens,
                 temperature=0.7, seed=i)
        return time.monotonic() - t0
    t0 = time.monotonic()
    with ThreadPoolExecutor(concurrency) as pool:
        lat = list(pool.map(one, range(n)))
    wall = time.monotonic() - t0
    return n / wall, percentile(lat, 95)


def main(binary, model, n=256, concurrency=16, max_tokens=64):
    need("nginx")
    results = {}
    for replicas in (1, 2, 1, 2):  # twice each, interleaved, against drift of the machine's load
        with Cluster() as c:
            # The same engine threads in all: 2 for one replica, 1 each for two.
            servers = [c.jarvis(f"replica-{i}", binary, model, "--cache-ttl", "0", threads=2 // replicas)
                       for i in range(replicas)]
            port = free_port()
            c.nginx([s.url[len("http://"):] for s in servers], port)
            rps, p95 = run(f"http://127.0.0.1:{port}", n, concurrency, max_tokens)
            results.setdefault(replicas, []).append((rps, p95))
            print(f"{replicas} replica(s): {rps:.1f} req/s, p95 {p95 * 1000:.0f} ms")
    for k, v in results.items():
        print(f"{k} replica(s) best: {max(r for r, _ in v):.1f} req/s, p95 {min(p for _, p in v) * 1000:.0f} ms")
    best = {k: max(r for r, _ in v) for k, v in results.items()}
    print(f"2 / 1 replicas throughput ratio: {best[2] / best[1]:.2f}")
    return 0


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[3:]]
    sys.exit(main(sys.argv[1], sys.argv[2], *args))
