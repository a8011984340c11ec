#!/usr/bin/env python3
"""Two jarvis replicas sharing a response cache in a real Redis (loopback,
password set): a deterministic answer computed by replica A is a Redis hit on
replica B, streamed or not; with Redis stopped every request still succeeds
(local cache or the model) without stalling; with Redis back, sharing resumes.
Usage: shared_cache.py JARVIS MODEL"""

import sys
import time

from replicas import Cluster, check, free_port, generate, need, wait_for

PASSWORD = "replica-test-secret"


def redis_stats(replica):
    return replica.stats()["response_cache"]["backends"]["redis"]


def main(binary, model):
    need("redis-server")
    with Cluster() as c:
        port = free_port()
        redis = c.redis(port, "--requirepass", PASSWORD)
        url = f"redis://:{PASSWORD}@127.0.0.1:{port}/2"
        args = ["--cache-url", url, "--cache-prefix", "replicas-test:"]
        a = c.jarvis("replica-a", binary, model, *args)
        b = c.jarvis("replica-b", binary, model, *args)
        for r in (a, b):
            wait_for(lambda r=r: redis_stats(r)["connected"], 10, f"{r.name} to connect to Redis")

        # A computes, B finds it in Redis (same text, marked as a hit).
        text_a, _, h = generate(a.url, "Once upon a time", max_tokens=24, temperature=0)
        check(h.get("x-jarvis-cache") == "miss", f"first answer on A should be computed: {h}")
        wait_for(lambda: redis_stats(a)["stores"] >= 1, 10, "A to store its answer in Redis")
        text_b, _, h = generate(b.url, "Once upon a time", max_tokens=24, temperature=0)
        check(h.get("x-jarvis-cache") == "hit", f"B should answer from the shared cache: {h}")
        check(text_b == text_a, f"B's cached answer differs: {text_b!r} vs {text_a!r}")
        check(b.metric("jarvis_response_cache_backend_hits_total", backend="redis") == 1, "B's redis hit counter")
        check(b.metric("jarvis_response_cache_backend_hits_total", backend="local") == 0, "B's local hit counter")

        # A streamed request on B replays A's answer as a stream.
        full, _, _ = generate(a.url, "The little dog", max_tokens=32, temperature=0)
        wait_for(lambda: redis_stats(a)["stores"] >= 2, 10, "A to store its second answer")
        streamed, chunks, h = generate(b.url, "The little dog", stream=True, max_tokens=32, temperature=0)
        check(h.get("x-jarvis-cache") == "hit", f"B's stream should be a cache hit: {h}")
        check(streamed == full, f"streamed hit differs: {streamed!r} vs {full!r}")
        check(chunks >= 2, f"a cached stream should arrive in pieces, got {chunks} chunk(s)")
        check(b.metric("jarvis_response_cache_backend_hits_total", backend="redis") == 2, "B's redis hits after the stream")

        # Redis stops: nothing fails, nothing stalls.
        redis.stop()
        t0 = time.monotonic()
        again, _, h = generate(a.url, "Once upon a time", max_tokens=24, temperature=0)
        check(again == text_a and h.get("x-jarvis-cache") == "hit", "A's local cache still answers")
        for i in range(6):
            generate(b.url, f"Redis is down {i}", max_tokens=8, temperature=0)
            generate(a.url, f"Redis is down {i}", max_tokens=8, temperature=0, stream=True)
        took = time.monotonic() - t0
        check(took < 20, f"requests stalled while Redis was down: {took:.1f}s for 13 requests")
        for r in (a, b):
            wait_for(lambda r=r: not redis_stats(r)["connected"], 10, f"{r.name} to notice Redis is down")
            check(r.metric("jarvis_response_cache_redis_up") == 0, f"{r.name} redis_up gauge")
            errors = r.metric("jarvis_response_cache_backend_errors_total", backend="redis")
            skipped = r.metric("jarvis_response_cache_redis_skipped_total")
            check(errors + skipped >= 1, f"{r.name} counted neither errors nor skips while Redis was down")

        # Redis is back (same port, empty): both reconnect and share again.
        c.redis(port, "--requirepass", PASSWORD, name="redis-restarted")
        for r in (a, b):
            wait_for(lambda r=r: redis_stats(r)["connected"], 15, f"{r.name} to reconnect to Redis")
        stores_before = redis_stats(a)["stores"]
        text_a2, _, _ = generate(a.url, "After the restart", max_tokens=24, temperature=0)
        wait_for(lambda: redis_stats(a)["stores"] > stores_before, 10, "A to store after the restart")
        text_b2, _, h = generate(b.url, "After the restart", max_tokens=24, temperature=0)
        check(h.get("x-jarvis-cache") == "hit" and text_b2 == text_a2, "sharing did not resume after the restart")

        for r in (a, b):
            log = r.output()
            check(PASSWORD not in log, f"{r.name} logged the Redis password")
            check(f"shared level redis://127.0.0.1:{port}/2" in log, f"{r.name} did not log where its shared cache is")
            warnings = log.count("unavailable")
            check(1 <= warnings <= 3, f"{r.name}: expected one outage warning (rate-limited), got {warnings}")
        sb = redis_stats(b)
        lookups = sb["hits"] + sb["misses"]
        print(f"replica B: redis hits {sb['hits']} / lookups {lookups}; "
              f"errors {sb['errors']}, skipped {sb['skipped']}, connects {sb['connects']}")
        print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
