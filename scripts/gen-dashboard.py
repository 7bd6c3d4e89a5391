"""Generates the Grafana dashboard of the Helm chart: charts/dubbomesh/dashboards/dubbomesh.json.

Why a generator instead of hand-edited JSON: a Grafana dashboard is ~1,500 lines of layout noise
around ~40 PromQL expressions. Declaring the panels here (title, queries, unit) keeps the queries
reviewable, the grid layout computed, and every panel in the same shape. The chart test
tests/charts/test_dashboard.py checks that the committed JSON is exactly this script's output and
evaluates every query against a real Prometheus scraping a real agent.

Usage: python scripts/gen-dashboard.py [--check]   (--check: exit 1 when the JSON is stale)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "charts/dubbomesh/dashboards/dubbomesh.json"
S = 'job=~"$job",instance=~"$instance"'
"""Label matchers every query carries: the dashboard's job and instance variables."""
RI = "$__rate_interval"


@dataclass(frozen=True)
class P:
    """One panel: title, description, kind (stat | ts | bars), unit, width, (expr, legend)s."""

    title: str
    desc: str
    kind: str
    unit: str
    width: int
    queries: tuple[tuple[str, str], ...]


def now(metric: str, agg: str = "sum", by: str = "") -> str:
    """An instant aggregate of a gauge over the selected agents."""
    clause = f" by ({by}) " if by else ""
    return f"{agg}{clause}({metric}{{{S}}})"


def per_s(metric: str, by: str = "", fn: str = "rate", window: str = RI) -> str:
    """A summed rate (or increase) of a counter over the selected agents."""
    clause = f" by ({by}) " if by else ""
    return f"sum{clause}({fn}({metric}{{{S}}}[{window}]))"


def quantile(q: float) -> str:
    """A propagation-latency quantile per sink."""
    return f"histogram_quantile({q}, {per_s('dubbomesh_propagation_seconds_bucket', 'le, sink')})"


ROWS: list[tuple[str, list[P]]] = [
    (
        "Health",
        [
            P(
                "Agents up",
                "Scrape targets answering (Prometheus `up`).",
                "stat",
                "none",
                4,
                ((now("up"), "up"),),
            ),
            P(
                "ZooKeeper connected",
                "Per registry: 1 while the ZooKeeper session is connected "
                "(0 = reconnecting; the last good catalog is still served).",
                "stat",
                "none",
                4,
                ((now("dubbomesh_zookeeper_connected", "min", "registry"), "{{registry}}"),),
            ),
            P(
                "First listing complete",
                "Per registry: 1 once the first complete listing is done; "
                "nothing is published before.",
                "stat",
                "none",
                4,
                ((now("dubbomesh_zookeeper_listing_complete", "min", "registry"), "{{registry}}"),),
            ),
            P(
                "Serving last-known-good",
                "1 while an agent serves the state file's catalog because "
                "ZooKeeper has not been listed yet.",
                "stat",
                "none",
                4,
                ((now("dubbomesh_catalog_stale", "max"), "stale"),),
            ),
            P(
                "Stale catalog age",
                "Age of the last-known-good catalog being served (0 when fresh).",
                "stat",
                "s",
                4,
                ((now("dubbomesh_state_file_age_seconds", "max"), "age"),),
            ),
            P(
                "Kubernetes leader / API",
                "Replicas holding the Lease, and whether every agent's API "
                "server answers (Kubernetes sink).",
                "stat",
                "none",
                4,
                (
                    (now("dubbomesh_kubernetes_leader"), "leaders"),
                    (now("dubbomesh_kubernetes_api_reachable", "min"), "API reachable"),
                ),
            ),
        ],
    ),
    (
        "Catalog and propagation",
        [
            P(
                "Services and endpoints",
                "Size of the current catalog per agent.",
                "ts",
                "none",
                8,
                (
                    (now("dubbomesh_catalog_services", "max", "instance"), "services {{instance}}"),
                    (
                        now("dubbomesh_catalog_endpoints", "max", "instance"),
                        "endpoints {{instance}}",
                    ),
                ),
            ),
            P(
                "Mesh objects",
                "Istio objects in the current intent, by kind.",
                "ts",
                "none",
                8,
                ((now("dubbomesh_mesh_objects", "max", "kind"), "{{kind}}"),),
            ),
            P(
                "Propagation latency",
                "ZooKeeper event to delivery by each sink (xDS push, API in step): p50 and p99.",
                "ts",
                "s",
                8,
                ((quantile(0.5), "p50 {{sink}}"), (quantile(0.99), "p99 {{sink}}")),
            ),
            P(
                "Deliveries",
                "Catalog versions delivered per second, by sink.",
                "ts",
                "ops",
                8,
                ((per_s("dubbomesh_propagation_seconds_count", "sink"), "{{sink}}"),),
            ),
            P(
                "Decode errors",
                "Registry nodes the catalog builder rejected or doubted, per second, by reason "
                "(/debug/catalog lists recent examples).",
                "ts",
                "ops",
                8,
                ((per_s("dubbomesh_decode_errors_total", "reason"), "{{reason}}"),),
            ),
            P(
                "Rendering problems",
                "Problems in the current intent (host collisions...), by code "
                "(/debug/intent names them).",
                "bars",
                "none",
                8,
                ((now("dubbomesh_mesh_problems", by="code"), "{{code}}"),),
            ),
        ],
    ),
    (
        "Churn",
        [
            P(
                "ZooKeeper watch events",
                "Watch notifications per second, by kind.",
                "ts",
                "ops",
                8,
                ((per_s("dubbomesh_zookeeper_watch_events_total", "kind"), "{{kind}}"),),
            ),
            P(
                "Catalog versions and events",
                "Registry events folded into catalogs, and catalog "
                "versions published (debounce coalesces bursts).",
                "ts",
                "ops",
                8,
                (
                    (per_s("dubbomesh_catalog_events_total"), "events"),
                    (per_s("dubbomesh_catalog_versions_total"), "versions"),
                ),
            ),
            P(
                "ZooKeeper sessions",
                "Session state changes per second (expired and suspended are "
                "the interesting ones).",
                "bars",
                "ops",
                8,
                ((per_s("dubbomesh_zookeeper_session_events_total", "event"), "{{event}}"),),
            ),
            P(
                "Relistings",
                "Completed full listings per hour, by reason.",
                "bars",
                "none",
                8,
                (
                    (
                        per_s("dubbomesh_zookeeper_resyncs_total", "reason", "increase", "1h"),
                        "{{reason}}",
                    ),
                ),
            ),
            P(
                "Relisting drift and bad nodes",
                "Per hour: directories a relisting found different "
                "from the watched view (missed watches), and nodes that could not be read.",
                "bars",
                "none",
                8,
                (
                    (
                        per_s("dubbomesh_zookeeper_resync_drift_total", "", "increase", "1h"),
                        "drift",
                    ),
                    (
                        per_s("dubbomesh_zookeeper_bad_nodes_total", "reason", "increase", "1h"),
                        "bad: {{reason}}",
                    ),
                ),
            ),
            P(
                "State file",
                "Last-known-good writes per second, and read/write failures.",
                "ts",
                "ops",
                8,
                (
                    (per_s("dubbomesh_state_file_writes_total"), "writes"),
                    (
                        per_s("dubbomesh_state_file_errors_total", "operation"),
                        "errors {{operation}}",
                    ),
                ),
            ),
        ],
    ),
    (
        "xDS",
        [
            P(
                "Open streams",
                "Open xDS streams by protocol (istiod's MCP stream, Envoy and proxyless clients).",
                "ts",
                "none",
                6,
                ((now("dubbomesh_xds_streams", by="protocol"), "{{protocol}}"),),
            ),
            P(
                "Pushes",
                "xDS responses sent per second, by type.",
                "ts",
                "ops",
                6,
                ((per_s("dubbomesh_xds_pushes_total", "type"), "{{type}}"),),
            ),
            P(
                "ACKs and NACKs",
                "Responses acknowledged and rejected by clients, per second. A NACK "
                "means a client refused our resources: see the agent's log.",
                "ts",
                "ops",
                6,
                (
                    (per_s("dubbomesh_xds_acks_total", "type"), "ack {{type}}"),
                    (per_s("dubbomesh_xds_nacks_total", "type"), "nack {{type}}"),
                ),
            ),
            P(
                "Refused requests",
                "xDS requests or streams refused per second, by reason.",
                "bars",
                "ops",
                6,
                ((per_s("dubbomesh_xds_rejected_requests_total", "reason"), "{{reason}}"),),
            ),
        ],
    ),
    (
        "Kubernetes API",
        [
            P(
                "Writes",
                "Objects applied or deleted per second, by kind and operation.",
                "ts",
                "ops",
                8,
                (
                    (
                        per_s("dubbomesh_kubernetes_writes_total", "kind, operation"),
                        "{{operation}} {{kind}}",
                    ),
                ),
            ),
            P(
                "No-op skips and conflicts",
                "Desired objects already up to date (no request sent), "
                "and 409 conflicts retried, per second.",
                "ts",
                "ops",
                8,
                (
                    (per_s("dubbomesh_kubernetes_noop_skips_total"), "no-op skips"),
                    (per_s("dubbomesh_kubernetes_conflicts_total"), "conflicts"),
                ),
            ),
            P(
                "API errors",
                "Failed API requests per second, by reason (status code, transport, "
                "rejected object).",
                "bars",
                "ops",
                8,
                ((per_s("dubbomesh_kubernetes_errors_total", "reason"), "{{reason}}"),),
            ),
        ],
    ),
]

DS = {"type": "prometheus", "uid": "${datasource}"}


def _panel(pid: int, panel: P, x: int, y: int) -> dict[str, Any]:
    kind = panel.kind
    height = 4 if kind == "stat" else 8
    targets = [
        {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + i)}
        for i, (expr, legend) in enumerate(panel.queries)
    ]
    defaults: dict[str, Any] = {"unit": panel.unit, "noValue": "0"}
    if kind == "stat":
        options: dict[str, Any] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "none",
            "textMode": "value_and_name",
        }
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "green", "value": None}]}
        ptype = "stat"
    else:
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
        defaults["custom"] = {
            "drawStyle": "bars" if kind == "bars" else "line",
            "fillOpacity": 60 if kind == "bars" else 10,
            "stacking": {"mode": "normal" if kind == "bars" else "none"},
            "lineWidth": 1,
            "showPoints": "never",
        }
        ptype = "timeseries"
    return {
        "id": pid,
        "type": ptype,
        "title": panel.title,
        "description": panel.desc,
        "datasource": DS,
        "gridPos": {"h": height, "w": panel.width, "x": x, "y": y},
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
    }


def _variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "query": {"query": query, "refId": name},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".+",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
        "regex": "",
        "options": [],
    }


def dashboard() -> dict[str, Any]:
    """The whole dashboard document."""
    panels: list[dict[str, Any]] = []
    pid, y = 1, 0
    for row_title, row_panels in ROWS:
        panels.append(
            {
                "id": pid,
                "type": "row",
                "title": row_title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
                "panels": [],
            }
        )
        pid, y, x, row_h = pid + 1, y + 1, 0, 0
        for p in row_panels:
            if x + p.width > 24:
                x, y, row_h = 0, y + row_h, 0
            built = _panel(pid, p, x, y)
            panels.append(built)
            pid, x = pid + 1, x + p.width
            row_h = max(row_h, built["gridPos"]["h"])
        y += row_h
    return {
        "title": "dubbomesh",
        "uid": "dubbomesh-agent",
        "editable": True,
        "graphTooltip": 1,
        "description": "Dubbo-in-ZooKeeper to Istio agent: health, propagation latency, churn, "
        "xDS and Kubernetes API activity. Generated by scripts/gen-dashboard.py.",
        "tags": ["dubbomesh", "istio", "dubbo", "zookeeper"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "annotations": {"list": []},
        "links": [],
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "regex": "",
                    "options": [],
                },
                _variable("job", "Job", "label_values(dubbomesh_build_info, job)"),
                _variable(
                    "instance",
                    "Instance",
                    'label_values(dubbomesh_build_info{job=~"$job"}, instance)',
                ),
            ]
        },
        "panels": panels,
    }


def render() -> str:
    """The JSON text as committed."""
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is stale: run python scripts/gen-dashboard.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
