"""Shared helpers of the replica tests: real jarvis, Redis, nginx and
Prometheus processes on free loopback ports in a temporary directory, never
the system's services. Every process started here is stopped on exit.

Usage in a test: `with Cluster() as c: a = c.jarvis(...)`; exit code 77 (CTest
SKIP) when a program is not installed (scripts/bootstrap installs them)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEPLOY = os.path.join(REPO, "deploy")


def need(*programs):
    for p in programs:
        if shutil.which(p) is None:
            print(f"SKIP: {p} is not installed (scripts/bootstrap installs it)")
            sys.exit(SKIP)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout, what, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def check(cond, message):
    if not cond:
        raise AssertionError(message)


# ---- HTTP ---------------------------------------------------------------


def request(method, url, body=None, timeout=30, headers=None):
    """(status, headers dict with lower-case names, body text); never raises on HTTP errors."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def get(url, timeout=10):
    return request("GET", url, timeout=timeout)


def generate(base, prompt, kind="completion", stream=False, max_tokens=16, timeout=60, **fields):
    """One generation; returns (text, headers, chunks). Raises unless it was
    answered completely (200; a stream that ends with its end marker)."""
    if kind == "completion":
        path, body = "/v1/completions", {"prompt": prompt, "max_tokens": max_tokens, **fields}
    elif kind == "chat":
        path = "/v1/chat/completions"
        body = {"messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens, **fields}
    else:  # Ollama's API: NDJSON when streamed; sampling fields go into options
        options = {"num_predict": max_tokens, "temperature": fields.pop("temperature", 0)}
        if "seed" in fields:
            options["seed"] = fields.pop("seed")
        path, body = "/api/generate", {"prompt": prompt, "options": options, **fields}
    body["stream"] = stream
    status, headers, text = request("POST", base + path, body, timeout=timeout)
    if status != 200:
        raise AssertionError(f"{path} answered {status}: {text[:300]}")
    return parse_answer(kind, stream, text) + (headers,)


def parse_answer(kind, stream, text):
    """(text, chunks) of an answer body; raises if a stream is cut short."""
    if not stream:
        j = json.loads(text)
        if kind == "completion":
            return j["choices"][0]["text"], 1
        if kind == "chat":
            return j["choices"][0]["message"]["content"], 1
        return j["response"], 1
    out, chunks = [], 0
    if kind == "ollama":
        lines = [json.loads(l) for l in text.splitlines() if l.strip()]
        check(lines and lines[-1].get("done") is True, "NDJSON stream did not end with done=true")
        for j in lines:
            out.append(j.get("response", ""))
            chunks += 1
        return "".join(out), chunks
    events = [l[len("data: "):] for l in text.splitlines() if l.startswith("data: ")]
    check(events and events[-1] == "[DONE]", "SSE stream did not end with [DONE]")
    for e in events[:-1]:
        j = json.loads(e)
        check("error" not in j, f"stream carried an error: {e}")
        for c in j.get("choices", []):
            out.append(c.get("text") or (c.get("delta") or {}).get("content") or "")
        chunks += 1
    return "".join(out), chunks


# ---- /metrics ---------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {labels}, value)] of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        check(m is not None, f"unparsable /metrics line: {line!r}")
        out.append((m.group(1), dict(_LABEL.findall(m.group(3) or "")), float(m.group(4))))
    return out


# ---- processes ----------------------------------------------------------------


class Process:
    def __init__(self, name, argv, log_path, env=None):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM, wait; SIGKILL if it does not exit. Returns the exit status."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


class Jarvis(Process):
    def __init__(self, cluster, name, binary, model, extra, threads):
        argv = [binary, "serve", "--model", model, "--host", "127.0.0.1", "--port", "0", "--threads", str(threads)]
        argv += extra
        super().__init__(name, argv, os.path.join(cluster.dir, name + ".log"))
        self.url = None

    def wait_ready(self, timeout=30):
        def ready():
            if not self.alive():
                raise AssertionError(f"{self.name} exited early:\n{self.output()}")
            out = self.output()
            m = re.search(r"^jarvis: listening on (http://\S+)$", out, re.M)
            if m and "ready" in out:
                self.url = m.group(1)
                return True
            return False
        wait_for(ready, timeout, f"{self.name} to be ready")
        return self

    def metrics(self):
        status, _, text = get(self.url + "/metrics")
        check(status == 200, f"{self.name} /metrics answered {status}")
        return parse_metrics(text)

    def metric(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels`."""
        return sum(v for n, l, v in self.metrics() if n == name and all(l.get(k) == x for k, x in labels.items()))

    def requests_ok(self):
        return self.metric("jarvis_requests_total", outcome="ok")

    def stats(self):
        status, _, text = get(self.url + "/api/performance/stats")
        check(status == 200, f"{self.name} /api/performance/stats answered {status}")
        return json.loads(text)


class Cluster:
    """Owns a temporary directory and every process started through it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="jarvis-replicas-")
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for p in reversed(self.procs):
            p.stop(timeout=10)
        if exc_type is not None:
            for p in self.procs:
                print(f"--- {p.name} log (tail) ---")
                print("\n".join(p.output().splitlines()[-30:]))
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def jarvis(self, name, binary, model, *extra, wait=True, threads=1):
        j = Jarvis(self, name, binary, model, list(extra), threads)
        self.procs.append(j)
        return j.wait_ready() if wait else j

    def redis(self, port, *extra, name="redis"):
        data = self.path(name)
        os.makedirs(data, exist_ok=True)
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", data] + list(extra)
        p = Process(name, argv, self.path(name + ".log"))
        self.procs.append(p)

        def pong():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    reply = s.recv(64)
                    return reply.startswith(b"+PONG") or reply.startswith(b"-NOAUTH")
            except OSError:
                return False
        wait_for(pong, 10, "redis-server to answer")
        return p

    def nginx(self, upstreams, port):
        """nginx running deploy/nginx/jarvis.conf with `upstreams` (host:port)
        and listening on `port`: only the lines marked for tests are rewritten."""
        conf = rewrite_nginx_conf(upstreams, port)
        site = self.path("jarvis.conf")
        with open(site, "w") as f:
            f.write(conf)
        main = self.path("nginx.conf")
        temp = self.path("nginx-temp")
        os.makedirs(temp, exist_ok=True)
        with open(main, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
pid {self.path('nginx.pid')};
error_log {self.path('nginx-error.log')} warn;
{'user root;' if os.geteuid() == 0 else ''}
events {{ worker_connections 512; }}
http {{
    access_log {self.path('nginx-access.log')};
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {site};
}}
""")
        test = subprocess.run(["nginx", "-t", "-p", self.dir, "-c", main, "-e", self.path("nginx-error.log")],
                              capture_output=True, text=True)
        check(test.returncode == 0, f"nginx -t failed:\n{test.stderr}")
        p = Process("nginx", ["nginx", "-p", self.dir, "-c", main, "-e", self.path("nginx-error.log")],
                    self.path("nginx.log"))
        self.procs.append(p)

        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                if not p.alive():
                    raise AssertionError(f"nginx exited: {p.output()}")
                return False
        wait_for(up, 10, "nginx to listen")
        return p


def rewrite_nginx_conf(upstreams, port):
    with open(os.path.join(DEPLOY, "nginx", "jarvis.conf")) as f:
        lines = f.read().splitlines()
    out, replaced = [], False
    for line in lines:
        if line.rstrip().endswith("# replica") or "# replica (tests rewrite" in line:
            if not replaced:  # the first marked line's parameters, for every upstream
                for u in upstreams:
                    out.append(re.sub(r"server \S+", f"server {u}", line.split("#")[0].rstrip()))
                replaced = True
            continue
        if "# listen (tests rewrite" in line:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}listen 127.0.0.1:{port};")
            continue
        out.append(line)
    check(replaced, "deploy/nginx/jarvis.conf lost its marked upstream lines")
    return "\n".join(out) + "\n"


def percentile(values, p):
    s = sorted(values)
    if not s:
        return 0.0
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]
