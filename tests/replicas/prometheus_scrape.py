#!/usr/bin/env python3
"""A real Prometheus (deploy/prometheus/prometheus.yml and jarvis_rules.yml,
targets rewritten to two loopback replicas) scrapes both replicas: its HTTP
API returns the request counter summed over them, the queue gauge of each,
and the recording rules evaluated over them. So jarvis's exposition format is
checked by the real scraper.
Usage: prometheus_scrape.py JARVIS MODEL"""

import json
import os
import subprocess
import sys
import urllib.parse

import yaml

from replicas import DEPLOY, Cluster, Process, check, free_port, generate, get, need, wait_for


def query(base, promql):
    status, _, body = get(base + "/api/v1/query?query=" + urllib.parse.quote(promql))
    check(status == 200, f"query {promql!r} answered {status}: {body[:200]}")
    j = json.loads(body)
    check(j["status"] == "success", f"query {promql!r}: {body[:200]}")
    return j["data"]["result"]


def main(binary, model):
    need("prometheus", "promtool")
    with Cluster() as c:
        args = ["--cache-ttl", "0"]
        a = c.jarvis("replica-a", binary, model, *args)
        b = c.jarvis("replica-b", binary, model, *args)
        for i in range(3):
            generate(a.url, f"Prometheus {i}", max_tokens=8, temperature=0)
        for i in range(2):
            generate(b.url, f"Prometheus {i}", max_tokens=8, temperature=0, stream=True)

        with open(os.path.join(DEPLOY, "prometheus", "prometheus.yml")) as f:
            config = yaml.safe_load(f)
        config["global"].update({"scrape_interval": "1s", "evaluation_interval": "1s"})
        config["rule_files"] = [os.path.join(DEPLOY, "prometheus", r) for r in config["rule_files"]]
        job = config["scrape_configs"][0]
        job["static_configs"][0]["targets"] = [a.url[len("http://"):], b.url[len("http://"):]]
        path = c.path("prometheus.yml")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        checked = subprocess.run(["promtool", "check", "config", path], capture_output=True, text=True)
        check(checked.returncode == 0, f"promtool check config:\n{checked.stdout}{checked.stderr}")

        port = free_port()
        prom = Process("prometheus", ["prometheus", f"--config.file={path}", f"--storage.tsdb.path={c.path('tsdb')}",
                                      f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                       c.path("prometheus.log"))
        c.procs.append(prom)
        base = f"http://127.0.0.1:{port}"

        def answered(promql, want):
            try:
                r = query(base, promql)
            except (AssertionError, OSError):
                if not prom.alive():
                    raise AssertionError("prometheus exited:\n" + prom.output())
                return None
            return r if want(r) else None

        up = wait_for(lambda: answered('up{job="jarvis"}', lambda r: len(r) == 2 and all(x["value"][1] == "1" for x in r)),
                      30, "both replicas to be scraped (up == 1)")
        total = wait_for(lambda: answered("sum(jarvis_requests_total)", lambda r: r and float(r[0]["value"][1]) == 5),
                         20, "Prometheus to report 5 requests summed over the replicas")
        ok = query(base, 'sum by (instance) (jarvis_requests_total{outcome="ok"})')
        per_instance = sorted(int(float(x["value"][1])) for x in ok)
        check(per_instance == [2, 3], f"per-replica request counts: {per_instance}")
        waiting = query(base, "jarvis_server_requests_waiting")
        check(len(waiting) == 2 and all(float(x["value"][1]) == 0 for x in waiting),
              f"queue gauge of both replicas: {waiting}")
        rule = wait_for(lambda: answered("jarvis:requests_waiting:sum", lambda r: len(r) == 1), 20,
                        "the recording rule jarvis:requests_waiting:sum")
        print(f"up: {len(up)} targets; sum(jarvis_requests_total) = {total[0]['value'][1]}; "
              f"jarvis:requests_waiting:sum = {rule[0]['value'][1]}")
        print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
