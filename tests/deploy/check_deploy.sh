#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Checks the deployment files in deploy/: Prometheus config and alert rules (with their unit
# tests), the systemd unit, the Kubernetes manifest and the Grafana dashboard.
# Prints `PASS name` or `FAIL name: reason` per check (`SKIP name: reason` when a tool is
# missing), then `N passed, N failed`. Exits 1 if anything failed.
# Run from anywhere: tests/deploy/check_deploy.sh
set -u

cd "$(dirname "$0")/../.." || exit 2

passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
skip() { echo "SKIP $1: $2"; }
# A one-line reason from a tool's output: the first line that says what is wrong, else the
# first non-empty line; trimmed.
reason() {
	{ grep -m1 -iE 'could not|error|invalid|unknown|not found|no such' "$1" ||
		grep -m1 -vE '^[[:space:]]*$|^Checking |^Unit Testing' "$1"; } |
		sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | cut -c1-300
}

have_py_yaml=0
command -v python3 >/dev/null 2>&1 && python3 -c 'import yaml' 2>/dev/null && have_py_yaml=1

# --- Prometheus ---------------------------------------------------------------------------
if command -v promtool >/dev/null 2>&1; then
	if promtool check config deploy/prometheus/prometheus.yml >"$tmp/out" 2>&1; then
		pass "promtool-check-config"
	else
		fail "promtool-check-config" "$(reason "$tmp/out")"
	fi

	if promtool check rules deploy/prometheus/tcpstate-alerts.yml >"$tmp/out" 2>&1; then
		pass "promtool-check-rules"
	else
		fail "promtool-check-rules" "$(reason "$tmp/out")"
	fi

	if promtool test rules tests/deploy/alerts_test.yml >"$tmp/out" 2>&1; then
		pass "promtool-test-rules"
	else
		# "name: <test>," and "alertname: <alert>, time: <t>," of the first failed case.
		why=$(grep -m2 -E '^[[:space:]]+(name|alertname):' "$tmp/out" | sed 's/^[[:space:]]*//' |
			tr '\n' ' ' | sed 's/[[:space:]]*$//')
		fail "promtool-test-rules" "${why:-$(reason "$tmp/out")}"
	fi
else
	for c in promtool-check-config promtool-check-rules promtool-test-rules; do
		fail "$c" "promtool not found (apt-get install prometheus)"
	done
fi

# --- systemd unit -------------------------------------------------------------------------
# The binary is not installed on a build machine; that one complaint is expected.
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify deploy/tcpstate.service >"$tmp/out" 2>&1
	grep -v -E '/usr/local/sbin/tcpstate( is not executable|: No such file)' "$tmp/out" \
		| grep -v '^[[:space:]]*$' >"$tmp/rest"
	if [ -s "$tmp/rest" ]; then
		fail "systemd-analyze-verify" "$(reason "$tmp/rest")"
	else
		pass "systemd-analyze-verify"
	fi
else
	skip "systemd-analyze-verify" "systemd-analyze not installed"
fi

# --- Kubernetes manifest ------------------------------------------------------------------
# Parse it, and check the parts the tracer depends on, since no API server is at hand.
if [ "$have_py_yaml" = 1 ]; then
	if python3 - deploy/kubernetes/daemonset.yaml deploy/tcpstate.service >"$tmp/out" 2>&1 <<'EOF'
import re, sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
assert len(ds) == 1, "expected one DaemonSet"
ds = ds[0]
assert ds["apiVersion"] == "apps/v1", "DaemonSet apiVersion is not apps/v1"
assert ds["metadata"]["namespace"] == "monitoring", "DaemonSet not in namespace monitoring"
tpl = ds["spec"]["template"]
assert ds["spec"]["selector"]["matchLabels"].items() <= tpl["metadata"]["labels"].items(), \
    "selector does not match the pod labels"
pod = tpl["spec"]
assert pod.get("hostPID") is True and pod.get("hostNetwork") is True, "needs hostPID and hostNetwork"
assert {"operator": "Exists"} in pod.get("tolerations", []), "must tolerate every taint"
(c,) = pod["containers"]
sc = c["securityContext"]
assert sc.get("privileged") is False, "must not be privileged"
assert "ALL" in sc["capabilities"]["drop"], "must drop ALL capabilities"
k8s_caps = {"CAP_" + x for x in sc["capabilities"]["add"]}
unit = open(sys.argv[2]).read()
m = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M)
unit_caps = set(m.group(1).split())
assert k8s_caps == unit_caps, f"capabilities differ from the systemd unit: {sorted(k8s_caps ^ unit_caps)}"
args = c.get("args", [])
assert "--listen" in args and args[args.index("--listen") + 1].endswith(":9976"), "no --listen ...:9976"
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
assert ports.get("metrics") == 9976, "container port metrics != 9976"
ann = tpl["metadata"].get("annotations", {})
assert ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9976", \
    "prometheus.io annotations missing"
rp = c["readinessProbe"]["httpGet"]
assert rp["path"] == "/healthz", "readiness probe is not /healthz"
res = c["resources"]
assert res["requests"] and res["limits"], "resources need requests and limits"
vols = {v["name"]: v for v in pod["volumes"]}
mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
for path in ("/sys/kernel/btf", "/run/netns"):
    assert path in mounts and mounts[path].get("readOnly") is True, f"{path} not mounted read-only"
    assert vols[mounts[path]["name"]]["hostPath"]["path"] == path, f"{path} is not the host's"
assert mounts["/run/netns"].get("mountPropagation") == "HostToContainer", \
    "/run/netns needs HostToContainer propagation"
EOF
	then
		pass "daemonset-yaml"
	else
		fail "daemonset-yaml" "$(tail -n1 "$tmp/out")"
	fi
else
	skip "daemonset-yaml" "python3-yaml not installed"
fi

# --- Grafana dashboard --------------------------------------------------------------------
if command -v python3 >/dev/null 2>&1; then
	if python3 - deploy/grafana/tcpstate-dashboard.json "$tmp/dash-rules.yml" >"$tmp/out" 2>&1 <<'EOF'
import json, sys

d = json.load(open(sys.argv[1]))
assert 36 <= d.get("schemaVersion", 0) <= 40, "schemaVersion not ~38"
assert any(i.get("name") == "DS_PROMETHEUS" for i in d.get("__inputs", [])), "no DS_PROMETHEUS input"
names = [v["name"] for v in d["templating"]["list"]]
assert "instance" in names, "no instance variable"
exprs, ids = [], set()
def walk(panels):
    for p in panels:
        assert p["id"] not in ids, f"duplicate panel id {p['id']}"
        ids.add(p["id"])
        walk(p.get("panels", []))
        if p["type"] == "row":
            continue
        assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", f"panel {p['title']!r}: datasource"
        for t in p.get("targets", []):
            exprs.append((p["title"], t["expr"]))
walk(d["panels"])
assert exprs, "no queries"
# Write the queries, Grafana variables substituted, as recording rules for promtool to parse.
sub = {"$__rate_interval": "1m", "$__range": "1h", "$job": ".+", "$instance": ".+"}
with open(sys.argv[2], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        for k, v in sub.items():
            e = e.replace(k, v)
        f.write(f"      - record: dashboard:q{i}\n        expr: {json.dumps(e)}\n")
print(len(exprs), "queries")
EOF
	then
		if ! command -v promtool >/dev/null 2>&1; then
			pass "grafana-dashboard-json"
		elif promtool check rules "$tmp/dash-rules.yml" >"$tmp/out2" 2>&1; then
			pass "grafana-dashboard-json"
		else
			fail "grafana-dashboard-json" "a query does not parse: $(reason "$tmp/out2")"
		fi
	else
		fail "grafana-dashboard-json" "$(tail -n1 "$tmp/out")"
	fi
else
	skip "grafana-dashboard-json" "python3 not installed"
fi

# --- Metric names -------------------------------------------------------------------------
# Every tcpstate_* name used by the rules and the dashboard must be one the exporter exposes.
families="sockets netns_sockets process_sockets state_transitions_total close_wait_oldest_seconds
close_wait_duration_seconds listener_close_wait_sockets time_wait_sockets
time_wait_port_range_ratio local_port_range_size connect_latency_seconds
connection_lifetime_seconds retransmits_total resets_sent_total resets_received_total
socket_errors_total listen_accept_queue listen_accept_queue_max listen_accept_queue_high
listen_syn_queue listen_drops_total netns_listen_overflows_total netns_listen_drops_total
accept_wait_seconds events_total events_lost_total table_sockets table_capacity
table_full_total audit_corrections_total scrape_duration_seconds series series_folded
build_info"
histograms="close_wait_duration_seconds connect_latency_seconds connection_lifetime_seconds
accept_wait_seconds"
known=" "
for f in $families; do known="$known tcpstate_$f "; done
for h in $histograms; do known="$known tcpstate_${h}_bucket tcpstate_${h}_sum tcpstate_${h}_count "; done
unknown=""
for n in $(grep -ohE 'tcpstate_[a-z0-9_]+' deploy/prometheus/tcpstate-alerts.yml \
		tests/deploy/alerts_test.yml deploy/grafana/tcpstate-dashboard.json | sort -u); do
	case "$known" in *" $n "*) ;; *) unknown="$unknown $n" ;; esac
done
if [ -z "$unknown" ]; then
	pass "metric-names"
else
	fail "metric-names" "unknown metric names:$unknown"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
