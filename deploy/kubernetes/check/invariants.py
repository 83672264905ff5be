#!/usr/bin/env python3
"""invariants.py - what snowsignal's Kubernetes manifests must say, checked
offline (python3 + PyYAML): the things a schema cannot know.

    invariants.py VERSION MANIFEST.yaml...

For each manifest: one headless Service and one DaemonSet; the Service
selects the DaemonSet's pods and is the name the relays are given as peers;
the mesh port agrees everywhere; only SnowSignal's variables; the image is
snowsignal:VERSION; the relay starts as uid 0, gid 999 (the image's USER)
with exactly the five capabilities it needs; probes ask `snowsignal status`;
updates are stop-first; a read-only root has /run/snowsignal mounted
writable; hostNetwork pods use the cluster DNS.  Prints ok/FAIL per
manifest; exit 1 on any failure.
"""
import sys

import yaml

SNOWSIGNAL_ENV = {"TARGET_INTERFACE", "BDCAST_PORT", "MESH_PORT", "LOGLEVEL", "SERVICENAME"}
CAPS_ADD = {"NET_RAW", "SETUID", "SETGID", "SETPCAP", "CHOWN"}
PROBE = ["snowsignal", "status"]
CONTROL_DIR = "/run/snowsignal"


def check(path, version):
    docs = [d for d in yaml.safe_load_all(open(path)) if d]
    problems = []
    services = [d for d in docs if d.get("kind") == "Service"]
    daemonsets = [d for d in docs if d.get("kind") == "DaemonSet"]
    if len(services) != 1 or len(daemonsets) != 1:
        return ["wants one Service and one DaemonSet, has %d and %d" % (len(services), len(daemonsets))]
    svc, ds = services[0], daemonsets[0]
    sspec, dspec = svc["spec"], ds["spec"]
    pod = dspec["template"]
    labels = pod["metadata"].get("labels", {})
    pspec = pod["spec"]

    def need(cond, what):
        if not cond:
            problems.append(what)

    need(sspec.get("clusterIP") == "None", "the Service is not headless (clusterIP: None)")
    need(sspec.get("publishNotReadyAddresses") is True,
         "the Service leaves out relays not ready yet (publishNotReadyAddresses: true)")
    need(all(labels.get(k) == v for k, v in sspec.get("selector", {}).items()) and sspec.get("selector"),
         "the Service's selector does not select the DaemonSet's pods")
    need(all(labels.get(k) == v for k, v in dspec["selector"]["matchLabels"].items()),
         "the DaemonSet's selector does not match its template's labels")
    containers = pspec["containers"]
    need(len(containers) == 1, "one container expected")
    c = containers[0]
    need(c.get("image") == "snowsignal:%s" % version,
         "image is %s, the tree builds snowsignal:%s" % (c.get("image"), version))
    args = c.get("args", [])
    need("--other-relays" in args and args[args.index("--other-relays") + 1:][:1] == [svc["metadata"]["name"]],
         "the relays are not given the Service's name as peers (--other-relays %s)" % svc["metadata"]["name"])
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    need(set(env) <= SNOWSIGNAL_ENV, "variables SnowSignal does not read: %s" % sorted(set(env) - SNOWSIGNAL_ENV))
    need("SERVICENAME" not in env, "SERVICENAME means tasks.NAME, a Docker Swarm name: use --other-relays")
    mesh_port = int(env.get("MESH_PORT", 7124))
    ports = sspec.get("ports", [])
    need(len(ports) == 1 and ports[0].get("protocol") == "UDP" and ports[0].get("port") == mesh_port,
         "the Service's port is not UDP %d (MESH_PORT)" % mesh_port)
    if ports and isinstance(ports[0].get("targetPort"), str):
        named = {p.get("name"): p for p in c.get("ports", [])}
        tp = named.get(ports[0]["targetPort"])
        need(tp is not None and tp.get("containerPort") == mesh_port and tp.get("protocol") == "UDP",
             "the Service's targetPort %s is not the container's UDP %d" % (ports[0]["targetPort"], mesh_port))
    sc = c.get("securityContext", {})
    need(sc.get("runAsUser") == 0 and sc.get("runAsGroup") == 999,
         "the relay must start as uid 0, gid 999 (it gives up root itself; gid 999 reaches the control socket)")
    caps = sc.get("capabilities", {})
    need(caps.get("drop") == ["ALL"] and set(caps.get("add", [])) == CAPS_ADD,
         "capabilities: drop ALL, add exactly %s" % sorted(CAPS_ADD))
    for probe in ("readinessProbe", "livenessProbe"):
        need(c.get(probe, {}).get("exec", {}).get("command") == PROBE, "%s is not `snowsignal status`" % probe)
    ru = dspec.get("updateStrategy", {}).get("rollingUpdate", {})
    need(ru.get("maxSurge", 0) in (0, "0", "0%"),
         "maxSurge must be 0: stop-first, never two relays on one node (see ../swarm/README.md)")
    if sc.get("readOnlyRootFilesystem"):
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        vols = {v["name"] for v in pspec.get("volumes", [])}
        need(mounts.get(CONTROL_DIR) in vols, "read-only root but nothing writable at %s (control socket)" % CONTROL_DIR)
    if pspec.get("hostNetwork"):
        need(pspec.get("dnsPolicy") == "ClusterFirstWithHostNet",
             "hostNetwork pods need dnsPolicy ClusterFirstWithHostNet to resolve the Service's name")
    grace = pspec.get("terminationGracePeriodSeconds", 30)
    need(grace >= 5, "terminationGracePeriodSeconds below 5 s")
    return problems


def main():
    version, paths = sys.argv[1], sys.argv[2:]
    failed = 0
    for path in paths:
        problems = check(path, version)
        if problems:
            failed += 1
            print("FAIL: %s: %s" % (path, "; ".join(problems)))
        else:
            print("ok: %s: Service and DaemonSet agree (selector, peers, port, caps, probes, stop-first)" % path)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
