#!/usr/bin/env python3
"""nginx (deploy/nginx/jarvis.conf) in front of two jarvis replicas:
 1. 64 concurrent requests, half of them streamed (SSE and NDJSON), all
    complete and are split across both replicas;
 2. under continuous load, replica A gets SIGTERM: its readiness (/health)
    answers 503 while liveness (/livez) answers 200 and it keeps serving
    (--drain-delay), then it stops accepting, lets in-flight requests finish
    and exits 0; nginx moves new requests to B; no request fails.
Usage: nginx_balancing.py JARVIS MODEL"""

import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from replicas import Cluster, check, free_port, generate, get, need, wait_for

KINDS = [("completion", False), ("completion", True), ("chat", False), ("ollama", True)]


def one(base, i, max_tokens=16):
    kind, stream = KINDS[i % len(KINDS)]
    t0 = time.monotonic()
    text, chunks, _ = generate(base, f"Request {i}: once upon a time", kind=kind, stream=stream,
                               max_tokens=max_tokens, temperature=0.7, seed=i)
    check(len(text) > 0 or chunks > 0, f"request {i} answered nothing")
    return time.monotonic() - t0


def main(binary, model):
    need("nginx")
    with Cluster() as c:
        # No response cache: every request is computed where nginx sent it.
        args = ["--cache-ttl", "0", "--drain-delay", "1500ms", "--grace", "10s"]
        a = c.jarvis("replica-a", binary, model, *args)
        b = c.jarvis("replica-b", binary, model, *args)
        port = free_port()
        c.nginx([a.url[len("http://"):], b.url[len("http://"):]], port)
        front = f"http://127.0.0.1:{port}"

        # 1. 64 at once, half streamed.
        before = {r.name: r.requests_ok() for r in (a, b)}
        with ThreadPoolExecutor(64) as pool:
            latencies = list(pool.map(lambda i: one(front, i), range(64)))
        split = {r.name: r.requests_ok() - before[r.name] for r in (a, b)}
        check(sum(split.values()) == 64, f"replicas counted {split}, not 64 requests")
        check(min(split.values()) > 0, f"nginx sent everything to one replica: {split}")
        print(f"64 concurrent requests: split {split}, slowest {max(latencies):.2f}s")

        # 2. Drain A under load.
        failures, done, stop = [], [0], threading.Event()
        lock = threading.Lock()

        def client(n):
            i = n * 100000
            while not stop.is_set():
                try:
                    one(front, i, max_tokens=48)
                    with lock:
                        done[0] += 1
                except Exception as e:  # noqa: BLE001 - every failure is the finding
                    with lock:
                        failures.append(repr(e))
                i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        a.signal(signal.SIGTERM)
        sigterm_at = time.monotonic()
        # Readiness fails at once; liveness holds; A still serves its routes.
        wait_for(lambda: get(a.url + "/health")[0] == 503, 1.0, "A's /health to answer 503 after SIGTERM")
        status, _, body = get(a.url + "/livez")
        check(status == 200, f"A's /livez answered {status} while draining")
        check(time.monotonic() - sigterm_at < 1.5, "the checks above took longer than the drain delay")
        rc = wait_for(lambda: a.proc.poll() is not None and (a.proc.returncode,), 20, "A to exit")[0]
        check(rc == 0, f"replica A exited with {rc} after SIGTERM")
        after_exit = b.requests_ok()
        time.sleep(1.0)  # load continues on B alone
        stop.set()
        for t in threads:
            t.join(60)
        check(not failures, f"{len(failures)} request(s) failed during the drain: {failures[:3]}")
        check(done[0] > 0, "no request completed during the drain")
        check(b.requests_ok() > after_exit, "B served nothing after A exited")
        before_b = b.requests_ok()
        for i in range(8):
            one(front, 900 + i)
        check(b.requests_ok() - before_b == 8, "after A stopped, nginx did not send every request to B")
        print(f"drain: {done[0]} requests during SIGTERM of A, 0 failed; A exited 0")
        print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
