#!/usr/bin/env python3
"""Exports (issue 24): the server's memory and speed while it streams a large class. Loads N
VirtualMachines (default 1,000,000) into a fresh cmdbd, then runs each export below to a client
that reads and discards it, sampling the server's VmRSS (/proc/<pid>/status) every 10 ms. The
baseline, in the same run, is the server's resting RSS measured right before each export, once it
holds still (two readings a second apart within 256 kB). The server runs with
MALLOC_CONF=dirty_decay_ms:0,muzzy_decay_ms:0 (jemalloc returns freed pages at once), so that its
RSS follows what it holds.

    bench/export_bench.py --cmdbd build/api/cmdbd [--size 1000000] [--out FILE]

Prints one JSON document (also written to --out): per export the rows, bytes, seconds, rows per
second, the resting RSS before it and the peak during it (kB), and the growth (peak - resting).
The exports: POST /v1/query as NDJSON and CSV (four columns; and whole nodes), GET /v1/cis as
NDJSON and CSV, and, for contrast, a query with ORDER BY (a blocking step: built whole first).
"""
import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
ENVS = ["production", "staging", "development", "test"]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmdbd", default=os.path.join(SOURCE, "build", "api", "cmdbd"))
    ap.add_argument("--size", type=int, default=1000000)
    ap.add_argument("--out")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cmdb-export-bench-")
    server = subprocess.Popen(
        [args.cmdbd, "--db", os.path.join(tmp, "cmdb.sqlite"), "--listen", "127.0.0.1:0",
         "--port-file", os.path.join(tmp, "port"), "--schema", os.path.join(SOURCE, "schema"),
         "--admin-token-file", os.path.join(tmp, "token"), "--no-web", "--no-demo", "--quiet",
         "--sync", "normal"],
        stdout=subprocess.DEVNULL,
        # Freed memory goes back to the system at once, so that the RSS follows what the server
        # holds (with jemalloc's default decay it falls for a minute after the load, hiding what
        # an export adds).
        env=dict(os.environ, MALLOC_CONF="dirty_decay_ms:0,muzzy_decay_ms:0"))
    try:
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(tmp, "port")):
            if time.time() > deadline or server.poll() is not None:
                sys.exit("cmdbd did not start")
            time.sleep(0.05)
        time.sleep(0.1)
        port = int(open(os.path.join(tmp, "port")).read())
        token = open(os.path.join(tmp, "token")).read().strip()

        def request(method, path, body=None, headers=None):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            h = {"Authorization": "Bearer " + token}
            h.update(headers or {})
            conn.request(method, path, body=body, headers=h)
            return conn, conn.getresponse()

        t0 = time.time()
        for start in range(0, args.size, 100000):
            lines = []
            for i in range(start, min(start + 100000, args.size)):
                lines.append(json.dumps({"op": "ci", "class": "VirtualMachine", "attributes": {
                    "name": "vm-%07d" % i, "cpu_count": 1 + (i * 13) % 64, "memory_gb": 1 + (i * 7) % 512,
                    "os_version": "%d.%d" % (i % 9, i % 17), "environment": ENVS[i % 4],
                    "ip_address": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)}}))
            conn, r = request("POST", "/v1/bulk?refs=false", ("\n".join(lines) + "\n").encode(),
                              {"Content-Type": "application/x-ndjson"})
            r.read()
            conn.close()
            if r.status != 200:
                sys.exit("bulk load failed: %d" % r.status)
        load_s = time.time() - t0

        def settle():
            """Waits until the server's RSS holds still (the allocator returns what the load or
            the last export freed over some seconds): two readings a second apart within 256 kB,
            at most 60 s. Returns the resting RSS."""
            last = rss_kb(server.pid)
            for _ in range(60):
                time.sleep(1)
                now = rss_kb(server.pid)
                if abs(now - last) <= 256:
                    return now
                last = now
            return last

        four = ("MATCH (n:VirtualMachine) RETURN n.name AS name, n.cpu_count AS cpu, "
                "n.environment AS env, n.ip_address AS ip")
        cases = [
            ("POST /v1/query NDJSON, 4 columns", "POST", "/v1/query", "application/x-ndjson", four),
            ("POST /v1/query CSV, 4 columns", "POST", "/v1/query", "text/csv", four),
            ("POST /v1/query NDJSON, whole nodes", "POST", "/v1/query", "application/x-ndjson",
             "MATCH (n:VirtualMachine) RETURN n"),
            ("GET /v1/cis NDJSON", "GET", "/v1/cis?class=VirtualMachine", "application/x-ndjson", None),
            ("GET /v1/cis CSV", "GET", "/v1/cis?class=VirtualMachine", "text/csv", None),
            ("POST /v1/query NDJSON, ORDER BY (blocking)", "POST", "/v1/query", "application/x-ndjson",
             four + " ORDER BY n.name DESC"),
        ]
        results = []
        for name, method, path, accept, query in cases:
            resting = settle()
            peak = [resting]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_kb(server.pid))
                    time.sleep(0.01)

            sampler = threading.Thread(target=sample)
            sampler.start()
            t = time.perf_counter()
            conn, r = request(method, path, None if query is None else json.dumps({"query": query}),
                              {"Accept": accept})
            rows, size = 0, 0
            while True:
                piece = r.read(1 << 20)
                if not piece:
                    break
                rows += piece.count(b"\n")
                size += len(piece)
            seconds = time.perf_counter() - t
            conn.close()
            done.set()
            sampler.join()
            if r.status != 200:
                sys.exit("%s: status %d" % (name, r.status))
            if accept == "text/csv":
                rows -= 1  # the header
            results.append({"export": name, "rows": rows, "bytes": size, "seconds": round(seconds, 2),
                            "rows_per_s": int(rows / seconds), "resting_rss_kb": resting,
                            "peak_rss_kb": peak[0], "growth_kb": peak[0] - resting})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
        out = {"size": args.size, "load_s": round(load_s, 1), "exports": results}
        text = json.dumps(out, indent=2)
        print(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text + "\n")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
