#!/usr/bin/env python3
"""The web console's class browser on a large class (issue 23): times the queries the Browse page
sends (web/src/pages/browse.tsx: a page with ORDER BY ... SKIP ... LIMIT 50, and a count, each
with the page's "contains" filters) against a real cmdbd holding N VirtualMachines, over HTTP as
the console sends them. The baseline, in the same run, is one full scan of the class that reads
an attribute of every CI and returns nothing (MATCH (n:VirtualMachine) WHERE n.cpu_count < 0
RETURN n): what any answer that must look at every CI costs at least.

    bench/browse_bench.py --cmdbd build/api/cmdbd [--size 250000] [--runs 7] [--out FILE]

Prints one JSON document (also written to --out): per query the median and max wall time in ms,
and its ratio to the baseline's median. Starts its own cmdbd in a temporary folder.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
PAGE = 50


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cmdbd", default=os.path.join(SOURCE, "build", "api", "cmdbd"))
    ap.add_argument("--size", type=int, default=250000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cmdb-browse-bench-")
    server = subprocess.Popen(
        [args.cmdbd, "--db", os.path.join(tmp, "cmdb.sqlite"), "--listen", "127.0.0.1:0",
         "--port-file", os.path.join(tmp, "port"), "--schema", os.path.join(SOURCE, "schema"),
         "--admin-token-file", os.path.join(tmp, "token"), "--no-web", "--quiet"],
        stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not os.path.exists(os.path.join(tmp, "port")):
            if time.time() > deadline or server.poll() is not None:
                sys.exit("cmdbd did not start")
            time.sleep(0.05)
        time.sleep(0.1)
        base = "http://127.0.0.1:" + open(os.path.join(tmp, "port")).read().strip()
        token = open(os.path.join(tmp, "token")).read().strip()

        def call(path, body, content_type="application/json"):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            req = urllib.request.Request(base + path, data=data, method="POST", headers={
                "Authorization": "Bearer " + token, "Content-Type": content_type})
            with urllib.request.urlopen(req, timeout=600) as r:
                return json.loads(r.read() or b"null")

        t0 = time.time()
        envs = ["production", "staging", "development", "test"]
        for start in range(0, args.size, 50000):
            lines = []
            for i in range(start, min(start + 50000, args.size)):
                # Names in a shuffled order, so that sorting by name is not the insertion order.
                k = (i * 7919) % args.size
                lines.append(json.dumps({"op": "ci", "ref": "v%d" % i, "class": "VirtualMachine", "attributes": {
                    "name": "vm-%07d" % k, "cpu_count": 1 + (k * 13) % 64, "memory_gb": 1 + (k * 7) % 512,
                    "os_version": "%d.%d" % (k % 9, k % 17), "environment": envs[k % 4],
                    "ip_address": "10.%d.%d.%d" % (k >> 16 & 255, k >> 8 & 255, k & 255)}}))
            call("/v1/bulk", ("\n".join(lines) + "\n").encode(), "application/x-ndjson")
        load_s = time.time() - t0

        def query(text, params):
            return call("/v1/query", {"query": text, "parameters": params})

        def browse(sort, desc=False, page=1, filters=None):
            # The two queries of web/src/pages/browse.tsx loadPage, built the same way.
            where, params = [], {}
            for i, (k, v) in enumerate((filters or {}).items()):
                where.append("toLower(toString(n.%s)) CONTAINS $f%d" % (k, i))
                params["f%d" % i] = v.lower()
            w = (" WHERE " + " AND ".join(where)) if where else ""
            order = "id(n)" if sort == "id" else "n." + sort
            rows = dict(params, skip=(page - 1) * PAGE, limit=PAGE)
            return [
                ("MATCH (n:VirtualMachine)%s RETURN n ORDER BY %s %s, id(n) SKIP $skip LIMIT $limit"
                 % (w, order, "DESC" if desc else "ASC"), rows),
                ("MATCH (n:VirtualMachine)%s RETURN count(n)" % w, params),
            ]

        cases = [
            ("baseline: a full scan of the class", [("MATCH (n:VirtualMachine) WHERE n.cpu_count < 0 RETURN n", {})]),
            ("first page, sorted by name", browse("name")[:1]),
            ("first page, sorted by name descending", browse("name", desc=True)[:1]),
            ("first page, sorted by cpu_count", browse("cpu_count")[:1]),
            ("page 2000, sorted by name", browse("name", page=2000)[:1]),
            ("last page, sorted by memory_gb descending", browse("memory_gb", desc=True, page=args.size // PAGE)[:1]),
            ("the count of the class", browse("name")[1:]),
            ("first page, filter name contains '00042', sorted by name", browse("name", filters={"name": "00042"})[:1]),
            ("the count with that filter", browse("name", filters={"name": "00042"})[1:]),
            ("first page, filter environment contains 'prod', sorted by os_version",
             browse("os_version", filters={"environment": "prod"})[:1]),
            ("a whole page view (page 2 by name: page and count)", browse("name", page=2)),
        ]
        results = []
        for name, queries in cases:
            times = []
            for _ in range(args.runs):
                t = time.perf_counter()
                for text, params in queries:
                    answer = query(text, params)
                times.append((time.perf_counter() - t) * 1000)
            results.append({"case": name, "median_ms": round(statistics.median(times), 2),
                            "max_ms": round(max(times), 2), "rows": len(answer["rows"])})
        base_ms = results[0]["median_ms"]
        for r in results:
            r["ratio_to_scan"] = round(r["median_ms"] / base_ms, 2)
        doc = {"size": args.size, "runs": args.runs, "bulk_load_s": round(load_s, 1),
               "load_average": os.getloadavg()[0], "cases": results}
        text = json.dumps(doc, indent=1)
        print(text)
        if args.out:
            with open(args.out, "w") as f:
                f.write(text + "\n")
    finally:
        server.terminate()
        server.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
