#!/usr/bin/env python3
"""Measurement, not a test (not in CTest): the response-cache hit rate across
two replicas behind nginx, with and without the shared Redis level. Each of
N distinct deterministic prompts is asked twice through nginx, the second time
(sequential requests are spread round-robin) on the other replica: it can be a
hit only if that replica can see the first answer.
Usage: measure_shared_cache.py JARVIS MODEL [N]"""

import sys

from replicas import Cluster, free_port, generate, need


def run(binary, model, n, shared):
    with Cluster() as c:
        extra = ["--cache-prefix", "measure:"]
        if shared:
            port = free_port()
            c.redis(port)
            extra += ["--cache-url", f"redis://127.0.0.1:{port}/0"]
        replicas = [c.jarvis(f"replica-{i}", binary, model, *extra) for i in range(2)]
        front_port = free_port()
        c.nginx([r.url[len("http://"):] for r in replicas], front_port)
        front = f"http://127.0.0.1:{front_port}"
        hits = 0
        for i in range(n):
            generate(front, f"Question {i}: once upon a time", max_tokens=32, temperature=0)
        # nginx breaks least_conn ties round-robin: one extra request shifts
        # the second pass so that each prompt goes to the other replica.
        generate(front, "shift", max_tokens=4, temperature=0.7)
        for i in range(n):
            _, _, h = generate(front, f"Question {i}: once upon a time", max_tokens=32, temperature=0)
            hits += h.get("x-jarvis-cache") == "hit"
        by_backend = {b: sum(r.metric("jarvis_response_cache_backend_hits_total", backend=b) for r in replicas)
                      for b in ("local", "redis")}
        return hits, by_backend


def main(binary, model, n=100):
    need("nginx", "redis-server")
    for shared in (False, True):
        hits, by_backend = run(binary, model, n, shared)
        print(f"{'with Redis' if shared else 'local only'}: second askings answered from a cache: {hits}/{n} "
              f"({100.0 * hits / n:.0f}%); hits by level {by_backend}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], *[int(a) for a in sys.argv[3:]]))
