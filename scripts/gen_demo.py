#!/usr/bin/env python3
"""Writes schema/demo/demo.ndjson: a miniature but realistic estate for the demo database.

Deterministic (fixed seed): running it again produces the same bytes.
Usage: python3 scripts/gen_demo.py > schema/demo/demo.ndjson
"""
import json
import random

rng = random.Random(20261121)
out = []


def ci(ref, cls, **attrs):
    attrs.setdefault("name", ref)
    out.append({"op": "ci", "ref": ref, "class": cls, "attributes": attrs})
    return ref


def rel(typ, a, b, **attrs):
    line = {"op": "rel", "type": typ, "from": {"ref": a}, "to": {"ref": b}}
    if attrs:
        line["attributes"] = attrs
    out.append(line)


owners = ["platform-team", "payments-team", "web-team", "data-team", "hr-it"]
dcs = {"fra1": ("Frankfurt", "DE", "10.10"), "ams1": ("Amsterdam", "NL", "10.20")}
hosts, vms, switches, lbs, clusters, storage = {}, {}, {}, {}, {}, {}
for dc, (city, country, net) in dcs.items():
    ci(f"dc-{dc}", "Datacenter", address=city, country=country, tier=3, provider="Equinix",
       owner="platform-team")
    sub = ci(f"subnet-{dc}-servers", "Subnet", cidr=f"{net}.0.0/16", vlan=100, gateway=f"{net}.0.1")
    ci(f"net-{dc}", "Network", cidr=f"{net}.0.0/16")
    rel("CONTAINS", f"net-{dc}", sub)
    for name, cls in (("core-sw1", "Switch"), ("core-sw2", "Switch"), ("fw1", "Firewall"),
                      ("rtr1", "Router")):
        ref = ci(f"{dc}-{name}", cls, manufacturer="Arista" if cls == "Switch" else "Juniper",
                 mgmt_ip=f"{net}.255.{len(switches) + 10}", serial_number=f"NET-{dc}-{name}".upper(),
                 owner="network-team")
        if cls == "Switch":
            switches.setdefault(dc, []).append(ref)
    lb = ci(f"{dc}-lb1", "LoadBalancer", manufacturer="F5", model="BIG-IP i5800",
            mgmt_ip=f"{net}.255.50", vip=f"{net}.1.10", serial_number=f"F5-{dc}".upper(),
            owner="network-team")
    lbs[dc] = lb
    clusters[dc] = ci(f"esx-{dc}", "HostCluster", technology="VMware vSphere 8", quorum=2,
                      owner="platform-team")
    storage[dc] = ci(f"{dc}-san1", "StorageArray", manufacturer="NetApp", model="AFF A400",
                     capacity_tb=184.0, protocol="NFS", serial_number=f"SAN-{dc}".upper())
    for r in range(1, 4):
        rack = ci(f"{dc}-rack{r:02d}", "Rack", row=chr(64 + r), units=42)
        rel("LOCATED_IN", rack, f"dc-{dc}")
        for h in range(1, 5):
            n = sum(len(v) for v in hosts.values()) + 1
            host = ci(f"{dc}-esx{n:02d}", "PhysicalServer", hostname=f"{dc}-esx{n:02d}",
                      fqdn=f"{dc}-esx{n:02d}.infra.example.com", ip_address=f"{net}.0.{n + 10}",
                      os="VMware ESXi", os_version="8.0u2", cpu_count=64, memory_gb=512.0,
                      manufacturer="Dell", model="PowerEdge R760", serial_number=f"DELL{n:05d}{dc.upper()}",
                      rack_unit=h * 4, owner="platform-team")
            hosts.setdefault(dc, []).append(host)
            rel("LOCATED_IN", host, rack)
            rel("CONNECTED_TO", host, switches[dc][n % 2], port=f"Ethernet{n}", speed_gbps=25)
            rel("MEMBER_OF", host, clusters[dc])
            rel("USES", host, storage[dc])
    for name in ("core-sw1", "core-sw2", "fw1", "rtr1", "lb1", "san1"):
        rel("LOCATED_IN", f"{dc}-{name}", f"{dc}-rack01")


def vm(name, dc, os="Red Hat Enterprise Linux", ver="9.3", cpu=4, mem=16.0, env="production"):
    n = len(vms) + 1
    net = dcs[dc][2]
    ref = ci(name, "VirtualMachine", hostname=name, fqdn=f"{name}.prod.example.com",
             ip_address=f"{net}.{10 + n // 200}.{n % 200 + 20}", os=os, os_version=ver, cpu_count=cpu,
             memory_gb=mem, hypervisor="vSphere", environment=env, owner="platform-team")
    vms[name] = dc
    rel("HOSTED_ON", ref, rng.choice(hosts[dc]))
    return ref


# Business services and applications.
services = {
    "Online Shop": ("critical", ["shop-web", "shop-api", "catalog"]),
    "Payments": ("critical", ["payment-gateway", "fraud-check"]),
    "Customer Portal": ("high", ["portal-web", "shop-api"]),
    "HR Self-Service": ("medium", ["hr-app"]),
}
apps = {}
for app in ["shop-web", "shop-api", "catalog", "payment-gateway", "fraud-check", "portal-web", "hr-app"]:
    apps[app] = ci(app, "Application", app_code=app.upper().replace("-", "_"), vendor="in-house",
                   release=f"{rng.randint(1, 5)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}",
                   owner=rng.choice(owners))
for svc, (crit, svc_apps) in services.items():
    ci(svc, "BusinessService", criticality=crit, service_owner=rng.choice(owners), sla_hours=4 if crit == "critical" else 24)
    for a in svc_apps:
        rel("DEPENDS_ON", svc, a)
ci("Identity", "TechnicalService", criticality="critical", service_owner="platform-team")
ci("keycloak", "Application", app_code="KEYCLOAK", vendor="Red Hat", release="24.0.1", owner="platform-team")
rel("DEPENDS_ON", "Identity", "keycloak")
for a in ("shop-web", "portal-web", "hr-app"):
    rel("USES", a, "Identity")

# Databases: clusters shared by several applications.
ci("pg-cluster-fra1", "DatabaseCluster", technology="Patroni", quorum=2, owner="data-team")
ci("mysql-cluster-ams1", "DatabaseCluster", technology="Galera", quorum=2, owner="data-team")
dbs = {"orders-db": ("postgresql", "pg-cluster-fra1"), "payments-db": ("postgresql", "pg-cluster-fra1"),
       "customers-db": ("mysql", "mysql-cluster-ams1"), "hr-db": ("oracle", None),
       "keycloak-db": ("postgresql", "pg-cluster-fra1")}
for d, (engine, cluster) in dbs.items():
    ci(d, "Database", engine=engine, release={"postgresql": "15.6", "mysql": "8.0.36", "oracle": "19c"}[engine],
       owner="data-team")
    if cluster:
        rel("HOSTED_ON", d, cluster)
for cluster, dc, engine in (("pg-cluster-fra1", "fra1", "pg"), ("mysql-cluster-ams1", "ams1", "mysql")):
    for i in range(1, 4):
        host = vm(f"{engine}-{dc}-{i:02d}", dc, cpu=16, mem=128.0)
        inst = ci(f"{engine}-{dc}-{i:02d}-inst", "DatabaseInstance", port=5432 if engine == "pg" else 3306)
        rel("RUNS_ON", inst, host)
        rel("MEMBER_OF", inst, cluster)
ora = vm("ora-fra1-01", "fra1", os="Oracle Linux", ver="8.9", cpu=8, mem=64.0)
ci("ora-fra1-01-inst", "DatabaseInstance", port=1521)
rel("RUNS_ON", "ora-fra1-01-inst", ora)
rel("INSTANCE_OF", "ora-fra1-01-inst", "hr-db")
for a, d in (("shop-api", "orders-db"), ("catalog", "orders-db"), ("payment-gateway", "payments-db"),
             ("fraud-check", "payments-db"), ("portal-web", "customers-db"), ("shop-api", "customers-db"),
             ("hr-app", "hr-db"), ("keycloak", "keycloak-db")):
    rel("USES", a, d)
for d in dbs:
    rel("BACKED_UP_BY", d, storage["fra1"] if d != "customers-db" else storage["ams1"], schedule="daily 02:00")

# Application instances on VMs behind the load balancers.
for app in list(apps) + ["keycloak"]:
    for i, dc in enumerate(("fra1", "ams1", "fra1")[: 3 if app in ("shop-web", "shop-api") else 2]):
        v = vm(f"{app}-{dc}-{i + 1:02d}", dc, cpu=rng.choice([2, 4, 8]), mem=rng.choice([8.0, 16.0, 32.0]))
        inst = ci(f"{app}-{dc}-{i + 1:02d}-inst", "AppInstance", port=8443, url=f"https://{app}.example.com")
        rel("RUNS_ON", inst, v)
        rel("INSTANCE_OF", inst, app)
        if app.endswith("web") or app in ("shop-api", "payment-gateway", "keycloak"):
            rel("ROUTES_TO", lbs[dc], inst)
for app in ("shop-web", "portal-web", "payment-gateway"):
    rel("DEPENDS_ON", app, lbs["fra1"])

# Monitoring and CI tooling on a few more VMs, a couple of them in test.
for name, env in (("prometheus-fra1-01", "production"), ("grafana-fra1-01", "production"),
                  ("jenkins-ams1-01", "development"), ("shop-test-ams1-01", "test"), ("shop-test-ams1-02", "test")):
    vm(name, "fra1" if "fra1" in name else "ams1", env=env)

# A small Kubernetes cluster on VMs.
ci("k8s-prod-fra1", "K8sCluster", technology="Kubernetes", k8s_version="1.29.3", quorum=2,
   api_endpoint="https://k8s-prod-fra1.example.com:6443", owner="platform-team")
for i in range(1, 4):
    v = vm(f"k8s-fra1-node{i}", "fra1", cpu=16, mem=64.0)
    node = ci(f"k8s-fra1-node{i}.cluster", "K8sNode", kubelet_version="v1.29.3", os_image="Ubuntu 22.04.4 LTS")
    rel("RUNS_ON", node, v)
    rel("MEMBER_OF", node, "k8s-prod-fra1")
for ns in ("checkout", "observability"):
    ci(f"ns-{ns}", "K8sNamespace", uid=f"ns-{ns}-uid")
    rel("CONTAINS", "k8s-prod-fra1", f"ns-{ns}")
ci("checkout-deploy", "K8sWorkload", kind="Deployment", namespace="checkout", replicas=3, uid="wl-checkout")
rel("CONTAINS", "ns-checkout", "checkout-deploy")
ci("checkout-svc", "K8sService", namespace="checkout", cluster_ip="10.96.12.7", service_type="ClusterIP", uid="svc-checkout")
rel("CONTAINS", "ns-checkout", "checkout-svc")
for i in range(1, 4):
    pod = ci(f"checkout-7d9f-{i}", "K8sPod", namespace="checkout", phase="Running", pod_ip=f"10.244.{i}.15",
             uid=f"pod-checkout-{i}")
    rel("MEMBER_OF", pod, "checkout-deploy")
    rel("RUNS_ON", pod, f"k8s-fra1-node{i}.cluster")
    rel("CONTAINS", "ns-checkout", pod)
    rel("ROUTES_TO", "checkout-svc", pod)
ci("checkout", "Application", app_code="CHECKOUT", vendor="in-house", release="3.4.0", owner="web-team")
rel("DEPENDS_ON", "checkout", "checkout-deploy")
rel("DEPENDS_ON", "Online Shop", "checkout")

# Installed software with end-of-life dates.
for name, vendor, ver, eol in (("RHEL 9", "Red Hat", "9.3", "2032-05-31"), ("Oracle Linux 8", "Oracle", "8.9", "2029-07-31"),
                               ("PostgreSQL 15", "PGDG", "15.6", "2027-11-11"), ("MySQL 8.0", "Oracle", "8.0.36", "2026-04-30")):
    ci(name, "Software", vendor=vendor, release=ver, eol_date=eol)
for name, dc in sorted(vms.items()):
    if name.startswith("ora-"):
        rel("INSTALLED_ON", "Oracle Linux 8", name)
    else:
        rel("INSTALLED_ON", "RHEL 9", name)
    if name.startswith("pg-"):
        rel("INSTALLED_ON", "PostgreSQL 15", name)
    if name.startswith("mysql-"):
        rel("INSTALLED_ON", "MySQL 8.0", name)

for line in out:
    print(json.dumps(line, sort_keys=True))
