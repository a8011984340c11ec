#!/usr/bin/env python3
"""Checks deploy/ without a cluster: every YAML file parses; the Kubernetes
manifests reference each other consistently (labels, ports, ConfigMap,
ServiceAccount) and reference only what jarvis has (its probe routes answer as
documented, its flags exist, every metric the picker and the recording rules
name is in a live replica's /metrics); terminationGracePeriodSeconds exceeds
drain delay + grace; `nginx -t` accepts deploy/nginx/jarvis.conf; promtool
accepts the Prometheus config and rules.
Usage: check_deploy.py JARVIS MODEL"""

import glob
import os
import re
import subprocess
import sys

import yaml

from replicas import DEPLOY, Cluster, check, get, need


def seconds(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", text)
    check(m is not None, f"unparsable duration {text!r}")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[m.group(2)]


def main(binary, model):
    need("nginx", "promtool")
    docs = {}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "**", "*.yml"), recursive=True) +
                       glob.glob(os.path.join(DEPLOY, "**", "*.yaml"), recursive=True)):
        with open(path) as f:
            docs[os.path.relpath(path, DEPLOY)] = [d for d in yaml.safe_load_all(f) if d is not None]
    k8s = [d for name, ds in docs.items() if name.startswith("k8s/") for d in ds]
    by_kind = {}
    for d in k8s:
        check("apiVersion" in d and "kind" in d and "name" in d.get("metadata", {}), f"incomplete object: {d}")
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    deploy = by_kind["Deployment"]["jarvis"]
    pod = deploy["spec"]["template"]
    labels = pod["metadata"]["labels"]
    check(deploy["spec"]["selector"]["matchLabels"].items() <= labels.items(), "Deployment selector vs pod labels")
    check(by_kind["Service"]["jarvis"]["spec"]["selector"].items() <= labels.items(), "Service selector vs pod labels")
    pool = by_kind["InferencePool"]["jarvis"]
    check(pool["apiVersion"] == "inference.networking.k8s.io/v1", "InferencePool API version")
    check(pool["spec"]["selector"]["matchLabels"].items() <= labels.items(), "InferencePool selector vs pod labels")
    container = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    port_arg = [a for a in container["args"] if a.startswith("--port=")][0]
    check(ports["http"] == int(port_arg.split("=")[1]), "containerPort vs --port")
    check([p["number"] for p in pool["spec"]["targetPorts"]] == [ports["http"]], "InferencePool targetPorts")
    check(by_kind["Service"]["jarvis"]["spec"]["ports"][0]["targetPort"] in ports, "Service targetPort name")
    epp_ref = pool["spec"]["endpointPickerRef"]
    epp_service = by_kind["Service"][epp_ref["name"]]
    check(epp_service["spec"]["ports"][0]["port"] == epp_ref["port"]["number"], "endpointPickerRef port")
    epp = by_kind["Deployment"][epp_ref["name"]]
    epp_pod = epp["spec"]["template"]
    check(epp_service["spec"]["selector"].items() <= epp_pod["metadata"]["labels"].items(), "EPP Service selector")
    check(epp_pod["spec"]["serviceAccountName"] in by_kind["ServiceAccount"], "EPP ServiceAccount")
    config_map = epp_pod["spec"]["volumes"][0]["configMap"]["name"]
    picker = yaml.safe_load(by_kind["ConfigMap"][config_map]["data"]["config.yaml"])
    check(picker["kind"] == "EndpointPickerConfig", "EPP config kind")
    declared = {p["type"] for p in picker["plugins"]}
    used = {r["pluginRef"] for prof in picker["schedulingProfiles"] for r in prof["plugins"]}
    check(used <= declared, f"scheduling profile refers to undeclared plugins: {used - declared}")
    route = by_kind["HTTPRoute"]["jarvis"]
    check(route["spec"]["rules"][0]["backendRefs"][0]["name"] == pool["metadata"]["name"], "HTTPRoute -> pool")

    # Graceful termination outlasts the drain delay and the grace period.
    args = dict(a[2:].split("=", 1) for a in container["args"] if a.startswith("--") and "=" in a)
    needed = seconds(args["drain-delay"]) + seconds(args["grace"]) + 2
    check(pod["spec"]["terminationGracePeriodSeconds"] > needed,
          f"terminationGracePeriodSeconds must exceed drain delay + grace + 2 s = {needed}")

    # Every flag the manifest passes exists.
    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    for flag in args:
        check(f"--{flag}" in help_text, f"jarvis serve has no --{flag}")

    # Metric names referenced by the picker and the rules exist in a live /metrics.
    epp_args = epp_pod["spec"]["containers"][0]["args"]
    gauges = [a.split("=", 1)[1] for a in epp_args if "-metric=" in a and not a.endswith("=")]
    wanted = set(gauges)
    check(len(wanted) == 3, f"the picker should name three jarvis gauges, names {wanted}")
    rules = docs["prometheus/jarvis_rules.yml"][0]
    for group in rules["groups"]:
        for rule in group["rules"]:
            for name in re.findall(r"\b(jarvis_[a-z_]+)", rule["expr"]):
                wanted.add(re.sub(r"_(bucket|sum|count)$", "", name))
    with Cluster() as c:
        r = c.jarvis("replica", binary, model, "--cache-url", "redis://127.0.0.1:1/0")  # unreachable: still served
        families = {}
        for name, _, _ in r.metrics():
            families.setdefault(re.sub(r"_(bucket|sum|count)$", "", name), True)
        missing = sorted(n for n in wanted if n not in families)
        check(not missing, f"metrics referenced in deploy/ but absent from /metrics: {missing}")
        status, _, text = get(r.url + "/metrics")
        for g in gauges:
            check(f"# TYPE {g} gauge" in text, f"{g} must be a gauge (model-server protocol)")
            check(re.search(rf"^{g} \S+$", text, re.M), f"{g} must have one unlabelled, process-wide sample")
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            path = container[probe]["httpGet"]["path"]
            check(get(r.url + path)[0] == 200, f"{probe} path {path} does not answer 200 on a ready replica")

    # nginx and promtool on the files as they are.
    with Cluster() as c:
        conf = c.path("nginx.conf")
        with open(conf, "w") as f:
            f.write(f"pid {c.path('nginx.pid')};\nerror_log {c.path('error.log')};\nevents {{}}\n"
                    f"http {{ include {os.path.join(DEPLOY, 'nginx', 'jarvis.conf')}; }}\n")
        t = subprocess.run(["nginx", "-t", "-p", c.dir, "-c", conf, "-e", c.path("error.log")],
                           capture_output=True, text=True)
        check(t.returncode == 0, f"nginx -t:\n{t.stderr}")
    prom_dir = os.path.join(DEPLOY, "prometheus")
    for cmd in (["promtool", "check", "config", os.path.join(prom_dir, "prometheus.yml")],
                ["promtool", "check", "rules", os.path.join(prom_dir, "jarvis_rules.yml")]):
        t = subprocess.run(cmd, capture_output=True, text=True)
        check(t.returncode == 0, f"{' '.join(cmd)}:\n{t.stdout}{t.stderr}")
    print(f"{sum(len(d) for d in docs.values())} YAML documents; {len(wanted)} metric names found in /metrics")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
