#!/usr/bin/env python3
"""Soak test of a running `jarvis serve`: N minutes of mixed clients.

Each of CLIENTS threads loops over a random mix of requests until the time is
up: OpenAI completions and chat, Ollama generate and chat, streaming and not,
some repeated verbatim (response-cache hits), some cancelled mid-stream (the
client closes the connection after a few events), and /health. Every
REPORT_S seconds it samples the server's RSS (/proc/PID/status, else
/api/system/metrics). At the end it prints one JSON document: requests,
responses by status, errors that were not intended, latency percentiles per
kind, and RSS over time with the drift after warm-up.

  bench/soak.py --url http://127.0.0.1:5050 --pid PID --minutes 10 --clients 32

Only the Python standard library. Exit status 1 when an unintended error
happened (a status other than 200, or 429 from an overloaded queue, or a
broken stream) or the RSS drift after warm-up is 5% or more.
"""
import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse

PROMPTS = ["Once upon a time", "Tom had a big red ball", "Lily went to the park", "The cat sat on the mat"]


def percentile(values, q):
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(q * len(s)))], 2)


class Soak:
    def __init__(self, args):
        self.args = args
        u = urllib.parse.urlparse(args.url)
        self.host, self.port = u.hostname, u.port or 80
        self.lock = threading.Lock()
        self.by_status = {}
        self.latency = {}
        self.unintended = []
        self.requests = 0
        self.cancelled = 0
        self.headers = {"Content-Type": "application/json"}
        if args.api_key:
            self.headers["Authorization"] = "Bearer " + args.api_key

    def record(self, kind, status, ms, error=None):
        with self.lock:
            self.requests += 1
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.latency.setdefault(kind, []).append(ms)
            if error is not None:
                self.unintended.append(error)

    def one(self, rng):
        kind = rng.choice(["openai_completion", "openai_chat", "ollama_generate", "ollama_chat", "health"])
        stream = rng.random() < 0.5
        cancel = stream and rng.random() < 0.2
        cached = rng.random() < 0.2  # same body every time: a response-cache hit after the first
        prompt = PROMPTS[0] if cached else rng.choice(PROMPTS) + " " + str(rng.randrange(10**6))
        n = 8 if cached else rng.randrange(4, 48)
        if kind == "health":
            method, path, body = "GET", "/health", None
        elif kind == "openai_completion":
            method, path = "POST", "/v1/completions"
            body = {"prompt": prompt, "max_tokens": n, "stream": stream, "temperature": 0 if cached else 0.8}
        elif kind == "openai_chat":
            method, path = "POST", "/v1/chat/completions"
            body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": n, "stream": stream,
                    "temperature": 0 if cached else 0.8}
        elif kind == "ollama_generate":
            method, path = "POST", "/api/generate"
            body = {"prompt": prompt, "stream": stream, "options": {"num_predict": n, "temperature": 0 if cached else 0.8}}
        else:
            method, path = "POST", "/api/chat"
            body = {"messages": [{"role": "user", "content": prompt}], "stream": stream,
                    "options": {"num_predict": n, "temperature": 0 if cached else 0.8}}
        if kind == "health":
            stream = cancel = cached = False
        label = kind + ("_stream" if stream else "") + ("_cached" if cached else "")
        t0 = time.monotonic()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None, self.headers)
            resp = conn.getresponse()
            if cancel and resp.status == 200:
                resp.read(64)  # the first event or so, then hang up
                conn.close()
                with self.lock:
                    self.cancelled += 1
                self.record("cancelled", "cancelled", (time.monotonic() - t0) * 1000)
                return
            data = resp.read()
            ms = (time.monotonic() - t0) * 1000
            error = None
            if resp.status not in (200, 429):
                error = f"{method} {path}: {resp.status} {data[:200]!r}"
            elif resp.status == 200 and stream and kind.startswith("openai") and not data.rstrip().endswith(b"[DONE]"):
                error = f"{method} {path}: stream without [DONE]"
            elif resp.status == 200 and stream and kind.startswith("ollama") and b'"done":true' not in data:
                error = f"{method} {path}: stream without done:true"
            self.record(label, resp.status, ms, error)
        except Exception as e:  # noqa: BLE001 - any transport failure is an unintended error
            self.record(label, "exception", (time.monotonic() - t0) * 1000, f"{method} {path}: {e!r}")
        finally:
            conn.close()

    def client(self, seed, end):
        rng = random.Random(seed)
        while time.monotonic() < end:
            self.one(rng)

    def rss_kib(self):
        if self.args.pid:
            with open(f"/proc/{self.args.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        conn.request("GET", "/api/system/metrics", headers=self.headers)
        j = json.loads(conn.getresponse().read())
        conn.close()
        return int(j.get("process", {}).get("rss_bytes", 0) / 1024)

    def run(self):
        start = time.monotonic()
        end = start + self.args.minutes * 60
        threads = [threading.Thread(target=self.client, args=(i, end), daemon=True) for i in range(self.args.clients)]
        for t in threads:
            t.start()
        rss = []
        while time.monotonic() < end:
            rss.append({"t_s": round(time.monotonic() - start), "rss_mib": round(self.rss_kib() / 1024, 1)})
            time.sleep(min(self.args.report_s, max(0.0, end - time.monotonic())))
        for t in threads:
            t.join()
        rss.append({"t_s": round(time.monotonic() - start), "rss_mib": round(self.rss_kib() / 1024, 1)})
        warm = [r["rss_mib"] for r in rss if r["t_s"] >= self.args.warmup_s] or [rss[-1]["rss_mib"]]
        drift = (warm[-1] - warm[0]) / warm[0] * 100 if warm[0] else 0.0
        report = {
            "minutes": self.args.minutes,
            "clients": self.args.clients,
            "requests": self.requests,
            "cancelled_by_client": self.cancelled,
            "by_status": {str(k): v for k, v in sorted(self.by_status.items(), key=lambda kv: str(kv[0]))},
            "unintended_errors": len(self.unintended),
            "first_unintended": self.unintended[:5],
            "latency_ms": {k: {"n": len(v), "p50": percentile(v, 0.5), "p95": percentile(v, 0.95),
                               "p99": percentile(v, 0.99)} for k, v in sorted(self.latency.items())},
            "rss": rss,
            "rss_drift_after_warmup_percent": round(drift, 2),
        }
        print(json.dumps(report, indent=1))
        return 0 if not self.unintended and abs(drift) < 5 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:5050")
    p.add_argument("--pid", type=int, help="server PID, for RSS from /proc (else /api/system/metrics)")
    p.add_argument("--api-key")
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--report-s", type=float, default=30)
    p.add_argument("--warmup-s", type=float, default=60)
    raise SystemExit(Soak(p.parse_args()).run())


if __name__ == "__main__":
    main()
