#!/usr/bin/env python3
"""Hostile-input suite: replays what an outside tester sent to a real cmdbd (a reader's or an
importer's token, requests of a few KB, slow and truncated uploads) and asserts that each ends in
a clear 4xx with our error body, that the server keeps serving, and that nothing changed.

Usage: hostile_test.py --cmdbd PATH --source DIR [--only NAME ...]
Starts cmdbd itself on a free loopback port in a temporary directory (demo data loaded) and prints
'N passed, N failed' at the end. Standard library only.
"""
import argparse
import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ARGS = None
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Server:
    """A cmdbd in a temporary directory, with tokens for each role."""

    def __init__(self, extra=(), quiet=True):
        self.dir = tempfile.mkdtemp(prefix="cmdb-hostile-")
        self.db = os.path.join(self.dir, "db.sqlite")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log.txt"), "w")
        cmd = [ARGS.cmdbd, "--db", self.db, "--schema", os.path.join(ARGS.source, "schema"),
               "--listen", "127.0.0.1:0", "--port-file", port_file] + (["--quiet"] if quiet else []) + [
               "--admin-token-file", os.path.join(self.dir, "admin")] + list(extra)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("cmdbd did not start: " + self.read_log())
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        self.admin = open(os.path.join(self.dir, "admin")).read().strip()
        self.tokens = {"admin": self.admin}
        for role in ("reader", "importer"):
            status, body = self.request("POST", "/v1/tokens", {"name": "t-" + role, "role": role})
            assert status == 201 or status == 200, (status, body)
            self.tokens[role] = body["token"]

    def read_log(self):
        self.log.flush()
        return open(os.path.join(self.dir, "log.txt")).read()[-2000:]

    def alive(self):
        return self.proc.poll() is None

    def request(self, method, path, body=None, token="admin", headers=None, timeout=60):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Authorization": "Bearer " + self.tokens[token]} if token else {}
        h.update(headers or {})
        data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return r.status, parsed

    def raw(self, data, read=True, timeout=10, shut_write=False):
        """Sends raw bytes; returns the raw answer (until the server closes or `timeout`)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        s.sendall(data)
        if shut_write:
            s.shutdown(socket.SHUT_WR)
        out = b""
        if read:
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
                    if b"\r\n\r\n" in out:
                        head, _, rest = out.partition(b"\r\n\r\n")
                        length = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                        if length and len(rest) >= int(length[0].split(b":")[1]):
                            break
            except socket.timeout:
                pass
        s.close()
        return out

    def state(self):
        """What must not change: the log's head and the number of CIs and relationships."""
        status, health = self.request("GET", "/healthz", token=None)
        assert status == 200, (status, health)
        return (health["tx"], health["cis"], health["relationships"])

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def status_of(raw):
    line = raw.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


def body_of(raw):
    return json.loads(raw.partition(b"\r\n\r\n")[2] or b"null")


def expect_error(status, body, want_status, code, message=None):
    assert status == want_status, "status %s, want %s: %s" % (status, want_status, body)
    assert isinstance(body, dict) and "error" in body, body
    assert body["error"]["code"] == code, body
    if message is not None:
        assert body["error"]["message"] == message, "message %r, want %r" % (body["error"]["message"], message)


# ---------------------------------------------------------------------------------------------
# Connections and bodies


@test
def slow_headers_do_not_block_requests(s):
    # 3x the worker threads trickle header lines; health checks and queries are still served.
    holders = []
    for _ in range(24):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(b"GET /v1/cis HTTP/1.1\r\nHost: x\r\n")
        holders.append(c)
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for c in holders:
                try:
                    c.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            stop.wait(0.5)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        time.sleep(1)
        started = time.time()
        for _ in range(5):
            assert s.request("GET", "/healthz", token=None, timeout=5)[0] == 200
            assert s.request("GET", "/v1/cis?limit=1", token="reader", timeout=5)[0] == 200
        assert time.time() - started < 5, "requests waited behind slow clients"
    finally:
        stop.set()
        t.join()
        for c in holders:
            c.close()


@test
def slow_header_is_cut_off_with_408(s):
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"GET /healthz HTTP/1.1\r\n")
    started = time.time()
    answer = b""
    while True:
        try:
            c.sendall(b"X-Slow: 1\r\n")
        except OSError:
            break
        try:
            c.settimeout(0.5)
            chunk = c.recv(4096)
            if not chunk:
                break
            answer += chunk
        except socket.timeout:
            pass
        if time.time() - started > 8:
            break
    c.close()
    assert status_of(answer) == 408, answer
    assert time.time() - started < 6, "header deadline not enforced"
    expect_error(408, body_of(answer), 408, "BadRequest",
                 "the request header was not received within 2000 ms")


@test
def connections_per_client_are_capped(s):
    # The suite's server allows 40 connections per address: of 45 opened at once, at least 5 are
    # answered 503 and closed at once (more while connections of earlier cases are still closing).
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(45)]
    try:
        time.sleep(0.5)
        refused = 0
        readable, _, _ = select.select(held, [], [], 0)
        for c in readable:
            answer = c.recv(4096)
            assert status_of(answer) == 503, answer
            expect_error(503, body_of(answer), 503, "Unavailable",
                         "too many connections from this address; retry in a moment")
            refused += 1
        assert 5 <= refused <= 10, refused
    finally:
        for c in held:
            c.close()
    time.sleep(0.3)
    assert s.request("GET", "/healthz", token=None)[0] == 200


@test
def slow_bodies_do_not_block_requests(s):
    # 3x the workers send a header and then trickle (or stall) their bodies, without a token on
    # /healthz and with a reader's token on /v1/query; everyone else is still served at once.
    holders = []
    for i in range(12):
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        holders.append(c)
        c = socket.create_connection(("127.0.0.1", s.port))
        c.sendall(("POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{"
                   % s.tokens["reader"]).encode())
        holders.append(c)
    try:
        time.sleep(0.5)
        started = time.time()
        for _ in range(5):
            assert s.request("GET", "/healthz", token=None, timeout=5)[0] == 200
            assert s.request("POST", "/v1/query", {"query": "RETURN 1"}, token="reader", timeout=5)[0] == 200
        assert time.time() - started < 3, "requests waited behind slow bodies"
        # The unauthenticated ones were refused before their bodies were read.
        answer = holders[0].recv(4096)
        expect_error(status_of(answer), body_of(answer), 401, "Unauthenticated",
                     "authentication required; send 'Authorization: Bearer <token>'")
    finally:
        for c in holders:
            c.close()


@test
def a_body_on_get_is_refused_not_parsed_as_a_request(s):
    smuggled = b"GET /v1/cis HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = s.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled)
    expect_error(status_of(answer), body_of(answer), 400, "BadRequest", "a GET request may not carry a body")
    assert answer.count(b"HTTP/1.1 ") == 1, answer


@test
def malformed_chunks_apply_nothing(s):
    before = s.state()
    body = json.dumps({"class": "VirtualMachine", "attributes": {"name": "vm-chunks", "cpu_count": 1}}).encode()
    for ending, why in ((b"XX0\r\n\r\n", "chunk data must be followed by CRLF"),
                        (b"0\r\n\r\n", "chunk data must be followed by CRLF"),
                        (b"\r\n0\r\nX-Trailer: 1\r\n\r\n", "chunked trailer fields are not accepted"),
                        (b"\r\nzz\r\n\r\n", "malformed chunk size")):
        head = ("POST /v1/cis HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                % s.tokens["importer"]).encode()
        answer = s.raw(head + b"%x\r\n" % len(body) + body + ending)
        expect_error(status_of(answer), body_of(answer), 400, "BadRequest",
                     "malformed chunked body (%s); nothing was applied" % why)
    assert s.state() == before
    # A well-formed chunked body is applied.
    answer = s.raw(head + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    assert status_of(answer) == 201, answer


@test
def ambiguous_headers_are_refused(s):
    token = s.tokens["reader"].encode()
    for raw, message in (
        (b"GET /v1/whoami HTTP/1.1\r\nAuthorization: Bearer " + token + b"\r\nAuthorization: Bearer x\r\n\r\n",
         "duplicate Authorization headers"),
        (b"GET /v1/whoami HTTP/1.1\r\nAuthorization: Bearer " + token + b"\r\nX-A: a\x00b\r\n\r\n",
         "the request header holds a control character (byte 0)"),
        (b"POST /v1/query HTTP/1.1\r\nAuthorization: Bearer " + token +
         b"\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         "duplicate Transfer-Encoding headers"),
        (b"GET /v1/whoami HTTP/1.1\r\nAuthorization: Bearer " + token + b"\r\n folded\r\n\r\n",
         "folded header lines are not accepted"),
        (b"POST /v1/query HTTP/1.0\r\nAuthorization: Bearer " + token +
         b"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP/1.0 has no chunked transfer coding"),
    ):
        answer = s.raw(raw)
        expect_error(status_of(answer), body_of(answer), 400, "BadRequest", message)


def truncated(s, method, path, token, body, cut):
    before = s.state()
    head = ("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (method, path, s.tokens[token], len(body))).encode()
    answer = s.raw(head + body[:cut], shut_write=True)
    assert status_of(answer) == 400, answer
    err = body_of(answer)["error"]
    assert err["code"] == "BadRequest", err
    assert err["message"] == ("the request body ended after %d of %d bytes (connection closed, too slow or "
                              "malformed chunks); nothing was applied" % (cut, len(body))), err
    assert s.state() == before


@test
def truncated_bodies_apply_nothing(s):
    ci = json.dumps({"class": "VirtualMachine", "attributes": {"name": "vm-truncated", "cpu_count": 2}}).encode()
    truncated(s, "POST", "/v1/cis", "admin", ci, len(ci) - 5)
    status, listing = s.request("GET", "/v1/cis?class=VirtualMachine&limit=1", token="reader")
    ci_id = listing["items"][0]["id"]
    patch = json.dumps({"attributes": {"cpu_count": 7}}).encode()
    truncated(s, "PATCH", "/v1/cis/%d" % ci_id, "admin", patch, 10)
    lines = "\n".join(json.dumps({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "trunc-%d" % i}})
                      for i in range(5)).encode()
    truncated(s, "POST", "/v1/imports?format=ndjson&full=true&source=hostile", "importer", lines,
              lines.index(b"\n", lines.index(b"\n") + 1) + 1)
    truncated(s, "POST", "/v1/query", "reader", b'{"query": "RETURN 1"}', 8)


@test
def content_length_over_the_limit_is_refused_at_once(s):
    for value, status, message in [
        ("99999999999", 413, "request body of 99999999999 bytes exceeds the limit of 1048576 bytes"),
        ("-1", 400, "invalid Content-Length '-1': expected a number of bytes"),
        ("99999999999999999999999", 400, "invalid Content-Length '99999999999999999999999': expected a number of bytes"),
        ("12abc", 400, "invalid Content-Length '12abc': expected a number of bytes"),
    ]:
        started = time.time()
        head = ("POST /v1/cis HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %s\r\n\r\n"
                % (s.tokens["importer"], value)).encode()
        answer = s.raw(head + b"{", timeout=10)
        assert time.time() - started < 3, "waited for the body"
        expect_error(status_of(answer), body_of(answer), status, "PayloadTooLarge" if status == 413 else "BadRequest",
                     message)


@test
def conflicting_framing_is_refused(s):
    head = ("POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 5\r\n"
            "Transfer-Encoding: chunked\r\n\r\n" % s.tokens["reader"]).encode()
    answer = s.raw(head + b"0\r\n\r\n")
    expect_error(status_of(answer), body_of(answer), 400, "BadRequest",
                 "a request may not carry both Content-Length and Transfer-Encoding")
    head = ("POST /v1/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 5\r\n"
            "Content-Length: 6\r\n\r\n" % s.tokens["reader"]).encode()
    answer = s.raw(head + b"123456")
    expect_error(status_of(answer), body_of(answer), 400, "BadRequest", "conflicting Content-Length headers")


@test
def unauthenticated_uploads_are_refused_before_the_body(s):
    # 200 MiB announced without a token: 401 at once; the server never buffers it.
    started = time.time()
    head = b"POST /v1/imports?format=ndjson HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n\r\n"
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(head)
    sent = 0
    chunk = b"x" * 65536
    try:
        while sent < 8 << 20:
            c.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass  # the server closed the connection after its answer
    answer = b""
    try:
        while True:
            data = c.recv(65536)
            if not data:
                break
            answer += data
    except OSError:
        pass
    c.close()
    assert time.time() - started < 5
    if answer:  # the answer may be lost to a reset once the server closes a half-sent body
        assert status_of(answer) == 401, answer[:200]
    # With Expect: 100-continue the client learns it before sending anything.
    answer = s.raw(b"POST /v1/imports?format=ndjson HTTP/1.1\r\nHost: x\r\nContent-Length: 209715200\r\n"
                   b"Expect: 100-continue\r\n\r\n")
    expect_error(status_of(answer), body_of(answer), 401, "Unauthenticated",
                 "authentication required; send 'Authorization: Bearer <token>'")
    rss_kb = int([l for l in open("/proc/%d/status" % s.proc.pid) if l.startswith("VmRSS")][0].split()[1])
    assert rss_kb < 400 * 1024, "resident %d KiB" % rss_kb


@test
def head_answers_like_get_without_a_body(s):
    c = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    for path in ("/v1/cis?limit=2", "/v1/cis/999999", "/healthz"):
        c.request("GET", path, headers={"Authorization": "Bearer " + s.tokens["reader"]})
        g = c.getresponse()
        gbody = g.read()
        c.request("HEAD", path, headers={"Authorization": "Bearer " + s.tokens["reader"]})
        h = c.getresponse()
        hbody = h.read()
        assert h.status == g.status, (path, h.status, g.status)
        assert hbody == b"", hbody
        assert h.getheader("Content-Type") == g.getheader("Content-Type")
        assert h.getheader("Content-Length") == str(len(gbody)), (h.getheader("Content-Length"), len(gbody))
    c.close()


@test
def one_server_per_address(s):
    out = subprocess.run([ARGS.cmdbd, "--db", os.path.join(s.dir, "other.sqlite"), "--no-demo",
                          "--schema", os.path.join(ARGS.source, "schema"), "--listen", "127.0.0.1:%d" % s.port],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert ("cmdbd: cannot listen on 127.0.0.1:%d: the address is in use (is another cmdbd or another "
            "program listening there?)" % s.port) in out.stderr, out.stderr
    assert not os.path.exists(os.path.join(s.dir, "other.sqlite")), "created a database before failing"


@test
def file_uris_cannot_reach_a_held_database(s):
    # SQLite reads "file:..." as a URI naming another file: refused, and nothing is created.
    out = subprocess.run([ARGS.cmdbd, "--db", "file:" + s.db, "--listen", "127.0.0.1:0", "--no-demo",
                          "--schema", os.path.join(ARGS.source, "schema")], capture_output=True, text=True,
                         timeout=30, cwd=s.dir)
    assert out.returncode != 0
    assert ("cmdbd: the database path 'file:%s' starts with 'file:', which SQLite reads as a URI; give a file "
            "path (for a file of that name: ./file:%s)" % (s.db, s.db)) in out.stderr, out.stderr
    assert not os.path.exists(os.path.join(s.dir, "file:")), "created a directory"


@test
def admission_keeps_workers_for_others(s):
    out = subprocess.run([ARGS.cmdbd, "--db", os.path.join(s.dir, "x.sqlite"), "--threads", "8",
                          "--max-queries", "8", "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
    assert out.returncode != 0
    assert "cmdbd: --max-queries (8) must be below --threads (8), so that other requests keep a worker" in out.stderr, out.stderr


# ---------------------------------------------------------------------------------------------
# Queries, parameters and bodies that used to overflow the stack or take the machine


def refused_unchanged(s, method, path, body, token, statuses=(400,), codes=None, headers=None):
    """Sends one request; asserts a clear refusal with our error body and that nothing changed."""
    before = s.state()
    status, answer = s.request(method, path, body, token=token, headers=headers)
    assert status in statuses, "status %s: %s" % (status, str(answer)[:300])
    assert isinstance(answer, dict) and "error" in answer, str(answer)[:300]
    assert set(answer["error"]) >= {"code", "message"}, answer
    assert "std::" not in answer["error"]["message"] and "nlohmann" not in answer["error"]["message"], answer
    if codes:
        assert answer["error"]["code"] in codes, answer
    if os.environ.get("HOSTILE_SHOW"):
        print("   %s %s -> %d %s: %s" % (method, path, status, answer["error"]["code"], answer["error"]["message"][:200]))
    assert s.alive()
    assert s.state() == before, "data changed"
    return answer["error"]


@test
def deeply_nested_expressions_are_refused(s):
    deep = "RETURN " + "(" * 700 + "1" + ")" * 700
    refused_unchanged(s, "POST", "/v1/query", {"query": deep}, "reader", codes=("SyntaxError", "ResourceExhausted"))
    seed = "MATCH (h:PhysicalServer) WHERE " + "(" * 700 + "true" + ")" * 700 + " RETURN h"
    refused_unchanged(s, "POST", "/v1/impact", {"query": seed}, "reader")
    refused_unchanged(s, "POST", "/v1/baselines", {"name": "deep", "scope": {"query": seed}}, "admin")
    hidden = "RETURN 1 AS x // c\r, " + "(" * 1000 + "1" + ")" * 1000 + " AS y"
    refused_unchanged(s, "POST", "/v1/query", {"query": hidden}, "reader")
    refused_unchanged(s, "POST", "/v1/windows", {"name": "w", "kind": "blackout", "start": "2030-01-01T00:00:00Z",
                                                 "end": "2030-01-02T00:00:00Z", "scope": {"query": hidden}}, "admin")
    for blank in ("   ", "// c", "/* c */", ";", "EXPLAIN", "AS OF 1", "PROFILE ;"):
        err = refused_unchanged(s, "POST", "/v1/query", {"query": blank}, "reader")
        assert "boost" not in err["message"] and "N5" not in err["message"], err
    deep_list = "RETURN " + "[" * 5000 + "]" * 5000
    refused_unchanged(s, "POST", "/v1/query", {"query": deep_list}, "reader")


@test
def long_flat_chains_answer_or_refuse(s):
    for query, want in (("RETURN " + "+".join(["1"] * 10001) + " AS x", 10001),
                        ("RETURN " + " AND ".join(["true"] * 10001) + " AS x", True),
                        ("RETURN " + " OR ".join(["false"] * 10001) + " AS x", False)):
        status, answer = s.request("POST", "/v1/query", {"query": query}, token="reader")
        assert s.alive()
        if status == 200:
            assert answer["rows"] == [[want]], str(answer)[:200]
        else:
            assert status == 400 and "error" in answer, (status, str(answer)[:200])


@test
def deeply_nested_json_is_refused(s):
    params = '{"query": "RETURN $p", "parameters": {"p": ' + "[" * 20000 + "]" * 20000 + "}}"
    refused_unchanged(s, "POST", "/v1/query", params, "reader")
    arrays = "[" * 50000 + "]" * 50000
    objects = '{"a":' * 100000 + "1" + "}" * 100000
    for value in (arrays, objects):
        ci = '{"class": "VirtualMachine", "attributes": {"name": "vm-deep", "tags": ' + value + "}}"
        refused_unchanged(s, "POST", "/v1/cis", ci, "importer")
        refused_unchanged(s, "PATCH", "/v1/cis/1", '{"attributes": {"tags": ' + value + "}}", "importer")
        line = '{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "vm-deep", "tags": ' + value + "}}\n"
        refused_unchanged(s, "POST", "/v1/bulk", line, "importer")
        record = '{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "vm-deep", "tags": ' + value + "}}\n"
        refused_unchanged(s, "POST", "/v1/imports?format=ndjson&source=hostile", record, "importer")


@test
def regular_expressions_stay_linear(s):
    for text, pattern, want in (("a" * 30000, ".*", True), ("ab" * 10000, "(a|b)*", True),
                                ("a" * 5000 + "!", "(a+)+$", False)):
        started = time.time()
        status, answer = s.request("POST", "/v1/query", {"query": "RETURN $s =~ $p AS m",
                                                         "parameters": {"s": text, "p": pattern}}, token="reader")
        assert status == 200, (status, str(answer)[:300])
        assert answer["rows"] == [[want]], answer
        assert time.time() - started < 5
    refused_unchanged(s, "POST", "/v1/query", {"query": "RETURN 'a' =~ '(a' AS m"}, "reader")


@test
def one_query_cannot_take_the_machine(s):
    for query in ("MATCH p=(a)-[*..1000]-(b) RETURN count(p)", "MATCH (a), (b), (c), (d) RETURN count(*)",
                  "MATCH (a), (b), (c) RETURN collect([a, b, c])",
                  "RETURN size(range(1,10000000) + range(1,10000000) + range(1,10000000)) AS n"):
        started = time.time()
        status, answer = s.request("POST", "/v1/query", {"query": query, "timeout_ms": 5000}, token="reader",
                                   timeout=120)
        assert s.alive()
        assert status in (200, 400, 503), (status, str(answer)[:300])
        if status != 200:
            assert answer["error"]["code"] in ("ResourceExhausted", "Timeout", "TransientError"), answer
        assert time.time() - started < 30, "ran %.1f s" % (time.time() - started)
        rss_kb = int([l for l in open("/proc/%d/status" % s.proc.pid) if l.startswith("VmHWM")][0].split()[1])
        assert rss_kb < 3 * 1024 * 1024, "peak resident %d KiB after %s" % (rss_kb, query)


@test
def numbers_and_strings(s):
    for query in ("RETURN abs(-9223372036854775807 - 1) AS x", "RETURN toInteger(1e300) AS x",
                  "RETURN 9223372036854775807 + 1 AS x", "RETURN -(-9223372036854775807 - 1) AS x"):
        refused_unchanged(s, "POST", "/v1/query", {"query": query}, "reader")
    status, answer = s.request("POST", "/v1/query", {"query": "RETURN size('世界') AS a, reverse('世界') AS b, "
                                                                "substring('世界x', 1, 1) AS c, left('世界', 1) AS d"},
                               token="reader")
    assert status == 200 and answer["rows"] == [[2, "界世", "界", "世"]], answer


@test
def feed_parameters_are_checked(s):
    status, page = s.request("GET", "/v1/feed?limit=1", token="reader")
    assert status == 200, page
    head = page["head"]
    for path, message in (
            ("/v1/feed?since=-1", "invalid since '-1': expected a non-negative integer"),
            ("/v1/feed?since=99999999999999999999999", None),
            ("/v1/feed?since=%d" % (head + 1000), "since %d is past the last transaction %d" % (head + 1000, head)),
            ("/v1/feed?class=Sever", None),
            ("/v1/feed?class=", "the query parameter 'class' has no value"),
            ("/v1/feed?type=RUNS_ON,,HOSTED_ON", "filter 'type' has an empty name"),
            ("/v1/feed?actor=a&actor=b", "parameter 'actor' is given 2 times; give it once"),
            ("/v1/feed?not_source=", "the query parameter 'not_source' has no value"),
            ("/v1/feed?not_source=bulk,", "filter 'not_source' has an empty name"),
            ("/v1/feed/stream?since=%d" % (head + 1000), "since %d is past the last transaction %d" % (head + 1000, head)),
            ("/v1/feed/stream?heartbeat=0", None),
            ("/v1/feed/stream?heartbeat=100000", "heartbeat must be at most 300 seconds, got 100000")):
        status, body = s.request("GET", path, token="reader")
        expect_error(status, body, 400, "BadRequest", message)
    status, body = s.request("GET", "/v1/feed/stream", token="reader", headers={"Last-Event-ID": "-5"})
    expect_error(status, body, 400, "BadRequest")
    # A huge limit is lowered to the largest page, as everywhere.
    status, page = s.request("GET", "/v1/feed?limit=1000000000", token="reader")
    assert status == 200 and len(page["items"]) <= 1000, page
    # An export refuses paging instead of ignoring it.
    status, body = s.request("GET", "/v1/cis?limit=5", token="reader", headers={"Accept": "text/csv"})
    expect_error(status, body, 400, "BadRequest")


@test
def invalid_utf8_is_never_stored(s):
    refused_unchanged(s, "POST", "/v1/query", {"query": "CREATE (v:VirtualMachine {name: '\\uD800'}) RETURN v"},
                      "admin")
    csv = b"name,ip\nvm-bad-\xff,10.9.9.9\n"
    refused_unchanged(s, "POST", "/v1/imports?format=csv&source=hostile&mapping=snipe-it-assets", csv, "importer",
                      statuses=(400, 422))
    before = s.state()
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
    body = json.dumps({"class": "VirtualMachine", "attributes": {"name": "vm-msg", "cpu_count": 1}})
    conn.putrequest("POST", "/v1/cis")
    conn.putheader("Authorization", "Bearer " + s.tokens["importer"])
    conn.putheader("Content-Length", str(len(body)))
    conn.putheader("X-Message", b"bad \xc3\x28 message")
    conn.endheaders(body.encode())
    r = conn.getresponse()
    answer = json.loads(r.read())
    conn.close()
    assert r.status == 400, (r.status, answer)
    assert s.state() == before


@test
def validation_protects_people_from_themselves(s):
    for scope in ({"cis_typo": [57]}, {}, {"all": False}):
        refused_unchanged(s, "POST", "/v1/windows", {"name": "freeze", "kind": "blackout",
                                                     "start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z",
                                                     "scope": scope}, "admin")
    refused_unchanged(s, "POST", "/v1/cis", '{"class": "VirtualMachine", "class": "Switch", "attributes": {"name": "x"}}',
                      "importer")
    refused_unchanged(s, "DELETE", "/v1/tokens/admin", None, "admin", statuses=(409,))
    refused_unchanged(s, "POST", "/v1/tokens", {"name": "anonymous", "role": "reader"}, "admin", statuses=(400, 409))
    refused_unchanged(s, "POST", "/v1/imports?format=ndjson&source=manual",
                      '{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "vm-manual"}}\n', "importer",
                      statuses=(403,))
    for when in ("'1999-01-01T00:00:00Z'", "'2999-01-01T00:00:00Z'", "999999", "'2026-01-01T00:00:00+25:00'"):
        refused_unchanged(s, "POST", "/v1/query", {"query": "AS OF %s MATCH (n) RETURN count(n)" % when}, "reader")
    refused_unchanged(s, "POST", "/v1/query", {"query": "RETURN 1", "timeout_ms": -5}, "reader")
    lines = ('{"op": "ci", "class": "VirtualMachine", "ref": "a", "attributes": {"name": "vm-r1"}}\n'
             '{"op": "ci", "class": "VirtualMachine", "ref": "a", "attributes": {"name": "vm-r2"}}\n')
    refused_unchanged(s, "POST", "/v1/bulk", lines, "importer")
    refused_unchanged(s, "PATCH", "/v1/cis/1", {"class": "Switch", "attributes": {"name": "renamed"}}, "importer",
                      statuses=(400, 409, 422))
    refused_unchanged(s, "POST", "/v1/imports?format=kubernetes&source=k8s", {"kind": "List", "items": "x"},
                      "importer")
    for path in ("/v1/cis?foo=1", "/v1/cis?limit=1&limit=5", "/v1/cis/1/history?limit=-1", "/v1/changes?limit=abc",
                 "/v1/cis?where.=x", "/v1/cis?limit=5=1", "/v1/cis?limit=1;limit=2", "/v1/cis?limit=1&",
                 "/v1/cis?&&limit=1", "/v1/cis?class=", "/v1/transactions/verify?head=", "/v1/cis?where.name=%FF",
                 "/v1/cis?limit=%zz"):
        refused_unchanged(s, "GET", path, None, "reader")
    refused_unchanged(s, "POST", "/v1/bulk?refs=maybe", '{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "b"}}\n',
                      "importer")
    refused_unchanged(s, "POST", "/v1/cis",
                      b'{"class": "VirtualMachine", "attributes": {"name": "vm-nul"}}\x00garbage', "importer")
    refused_unchanged(s, "POST", "/v1/imports?format=ndjson&source=ndjson", lines, "importer")
    refused_unchanged(s, "POST", "/v1/schema", {"ddl": "  "}, "admin")
    status, _ = s.request("POST", "/v1/tokens", {"name": "reader-case", "role": "reader"})
    assert status in (200, 201)
    refused_unchanged(s, "POST", "/v1/tokens", {"name": "READER-CASE", "role": "admin"}, "admin", statuses=(409,))


@test
def importers_say_what_they_skip(s):
    for vcpus in ('"many"', "1e30"):
        facts = ('{"ansible_facts": {"ansible_hostname": "h-vcpus", "ansible_fqdn": "h-vcpus.example",'
                 ' "ansible_processor_vcpus": %s, "ansible_product_serial": "SER-VCPUS-1"}}' % vcpus)
        before = s.state()
        status, answer = s.request("POST", "/v1/imports?format=ansible&source=ansible", facts, token="importer")
        assert s.alive()
        if status == 200:  # a partial import must name what it skipped
            assert "vcpus" in json.dumps(answer), answer
        else:
            assert status in (400, 422) and "error" in answer, (status, answer)
            assert s.state() == before


@test
def a_huge_attribute_does_not_break_ordinary_queries(s):
    # Last: it stores a 10 MB description (through bulk, whose limit allows it).
    line = json.dumps({"op": "ci", "class": "VirtualMachine",
                       "attributes": {"name": "vm-huge", "description": "x" * (10 << 20)}}) + "\n"
    status, answer = s.request("POST", "/v1/bulk", line, token="importer", timeout=120)
    assert status == 200, (status, str(answer)[:300])
    started = time.time()
    status, answer = s.request("POST", "/v1/query", {"query": "MATCH (n) WHERE n.description =~ '.*foo.*' "
                                                              "RETURN count(n) AS c"}, token="reader")
    assert status == 200 and answer["rows"] == [[0]], (status, str(answer)[:300])
    assert time.time() - started < 10


@test
def tampering_is_detected(s):
    """Edits the SQLite file of a stopped server as an attacker with file access would."""
    import sqlite3
    other = Server(["--threads", "2"])
    try:
        status, ci = other.request("POST", "/v1/cis", {"class": "VirtualMachine",
                                                      "attributes": {"name": "vm-tamper", "cpu_count": 1}})
        assert status == 201, ci
        status, report = other.request("POST", "/v1/imports?format=ndjson&source=ndjson&mode=apply",
                                       '{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "vm-imported", "cpu_count": 2}}\n')
        assert status == 200, report
        status, verify = other.request("GET", "/v1/transactions/verify")
        assert status == 200 and verify["ok"], verify
        head = verify["head"]
        db, key = other.db, other.db + ".key"
        other.proc.send_signal(signal.SIGTERM)
        other.proc.wait(20)
        edits = {
            "valid_to": ("UPDATE ci_versions SET valid_to = valid_from WHERE id = %d AND valid_to IS NULL" % ci["id"],
                         "ci_versions"),
            "token role": ("UPDATE tokens SET role = 'admin' WHERE name = 't-reader'", "tokens"),
            "provenance": ("UPDATE provenance SET last_seen = last_seen + 1 WHERE id = (SELECT max(id) FROM provenance)",
                           "provenance"),
            "tail": ("DELETE FROM ci_versions WHERE valid_from = (SELECT max(id) FROM transactions);"
                     "DELETE FROM transactions WHERE id = (SELECT max(id) FROM transactions)", None),
        }
        for name, (sql, table) in edits.items():
            copy = os.path.join(other.dir, "copy.sqlite")
            shutil.copy(db, copy)
            shutil.copy(key, copy + ".key")
            c = sqlite3.connect(copy)
            c.executescript(sql)
            changed = c.total_changes
            c.close()
            assert changed > 0, name
            out = subprocess.run([ARGS.cmdbd, "verify", "--db", copy, "--head", head], capture_output=True,
                                 text=True, timeout=60)
            assert out.returncode == 1, (name, out.stdout, out.stderr)
            assert "FAILED" in out.stdout, (name, out.stdout)
            if table:
                assert any(line.startswith(table + " ") for line in out.stdout.splitlines()), (name, out.stdout)
            for f in (copy, copy + ".key", copy + ".lock"):
                if os.path.exists(f):
                    os.remove(f)
        # A reader promoted to admin in the file is not accepted by a restarted server.
        c = sqlite3.connect(db)
        c.execute("UPDATE tokens SET role = 'admin' WHERE name = 't-reader'")
        c.commit()
        c.close()
        port_file = os.path.join(other.dir, "port")
        os.remove(port_file)
        other.proc = subprocess.Popen([ARGS.cmdbd, "--db", db, "--schema", os.path.join(ARGS.source, "schema"),
                                       "--listen", "127.0.0.1:0", "--port-file", port_file, "--quiet"],
                                      stdout=other.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not os.path.exists(port_file) and time.time() < deadline:
            time.sleep(0.05)
        other.port = int(open(port_file).read())
        status, answer = other.request("GET", "/v1/tokens", token="reader")
        assert status == 401, (status, answer)
        status, verify = other.request("GET", "/v1/transactions/verify?head=" + head)
        assert status == 200 and not verify["ok"], verify
        assert [p["table"] for p in verify["problems"]] == ["tokens"], verify
    finally:
        other.stop()


# ---------------------------------------------------------------------------------------------
# Request ids, the JSON log and the metrics


def header_of(raw, name):
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


@test
def request_ids_are_bounded_and_never_echo_newlines(s):
    js = Server(["--no-demo", "--log-format", "json"], quiet=False)
    try:
        auth = ("Authorization: Bearer %s\r\n" % js.admin).encode()
        long_id = b"a" * 10240
        r = js.raw(b"GET /v1/whoami HTTP/1.1\r\n" + auth + b"X-Request-Id: " + long_id +
                   b"\r\nConnection: close\r\n\r\n")
        got = header_of(r, "X-Request-Id")
        assert got is not None and len(got) == 16 and "a" * 17 not in got, r[:300]
        # A bare CR, an obsolete line fold and a NUL: refused or answered, never echoed.
        for evil in (b"abc\rinjected: 1", b"abc\r\n injected: 2", b"abc\x00injected: 3"):
            r = js.raw(b"GET /v1/whoami HTTP/1.1\r\n" + auth + b"X-Request-Id: " + evil +
                       b"\r\nConnection: close\r\n\r\n")
            assert b"injected" not in r.partition(b"\r\n\r\n")[0], r[:300]
            assert status_of(r) in (200, 400), r[:300]
        good = js.raw(b"GET /v1/whoami HTTP/1.1\r\n" + auth + b"X-Request-Id: hostile-ok\r\nConnection: close\r\n\r\n")
        assert header_of(good, "X-Request-Id") == "hostile-ok", good[:300]
        js.proc.send_signal(signal.SIGTERM)
        js.proc.wait(20)
        js.log.flush()
        log = open(os.path.join(js.dir, "log.txt"), encoding="utf-8", errors="replace").read()
        lines = [json.loads(l) for l in log.splitlines() if l.startswith("{")]
        assert any(l.get("request_id") == "hostile-ok" for l in lines), log[-2000:]
        assert "a" * 200 not in log, "the long request id reached the log"
        assert "injected" not in log, "a forged header reached the log"
        assert js.admin not in "\n".join(l for l in log.splitlines() if l.startswith("{"))
        for l in lines:
            assert "\n" not in l.get("request_id", ""), l
    finally:
        js.stop()


# The text exposition format (0.0.4), strictly: HELP/TYPE once per family before its samples,
# names and labels by the grammar, escapes only \\ \" \n, values as floats, histograms with
# ascending le and a +Inf bucket equal to _count.
METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'


def check_exposition(text):
    import re
    sample_re = re.compile(r"^(%s)(\{(?:%s(?:,%s)*)?\})? (\S+)$" % (METRIC_NAME, LABEL, LABEL))
    types, helps, seen_samples = {}, set(), set()
    buckets = {}
    assert text.endswith("\n"), "no final newline"
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert re.fullmatch(METRIC_NAME, name) and name not in helps, line
            helps.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types and name not in seen_samples, line
            types[name] = kind
        else:
            m = sample_re.match(line)
            assert m, "not a sample: %r" % line
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            float(value.replace("+Inf", "inf").replace("-Inf", "-inf").replace("NaN", "nan"))
            family = name
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and types.get(name[: -len(suffix)]) == "histogram":
                    family = name[: -len(suffix)]
            assert family in types, "sample before its TYPE: %r" % line
            seen_samples.add(family)
            if name.endswith("_bucket") and family != name:
                le = re.search(r'le="([^"]*)"', labels).group(1)
                rest = re.sub(r',?le="[^"]*"', "", labels).replace("{,", "{")
                rest = "" if rest == "{}" else rest
                buckets.setdefault((family, rest), []).append((le, float(value)))
            if name.endswith("_count") and family != name:
                bs = buckets.get((family, labels))
                assert bs and bs[-1][0] == "+Inf" and bs[-1][1] == float(value), line
    for (family, _), bs in buckets.items():
        bounds = [float(le.replace("+Inf", "inf")) for le, _ in bs]
        counts = [c for _, c in bs]
        assert bounds == sorted(bounds) and counts == sorted(counts), (family, bs)


@test
def metrics_parse_strictly_and_with_promtool(s):
    for token in (None, "reader"):
        status, body = s.request("GET", "/metrics", token=token)
        if token is None:
            expect_error(status, body, 401, "Unauthenticated")
    # An odd route, method and id do not become labels.
    s.raw(b"GET /v1/cis/1%0A%22x HTTP/1.1\r\nConnection: close\r\n\r\n")
    s.request("GET", "/v1/no/such/\"path", token="reader")
    conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + s.tokens["reader"]})
    r = conn.getresponse()
    text = r.read().decode("utf-8")
    conn.close()
    assert r.status == 200 and r.getheader("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    check_exposition(text)
    assert "no/such" not in text and "%0A" not in text
    promtool = shutil.which("promtool")
    if promtool:
        out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--cmdbd", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--only", nargs="*")
    ARGS = p.parse_args()
    ARGS.cmdbd = os.path.abspath(ARGS.cmdbd)
    ARGS.source = os.path.abspath(ARGS.source)
    server = Server(["--header-timeout", "2000", "--max-connections-per-client", "40", "--threads", "4"])
    passed = failed = 0
    try:
        for t in TESTS:
            if ARGS.only and t.__name__ not in ARGS.only:
                continue
            try:
                t(server)
                assert server.alive(), "cmdbd died: " + server.read_log()
                print("ok   " + t.__name__, flush=True)
                passed += 1
            except Exception:
                failed += 1
                print("FAIL " + t.__name__, flush=True)
                traceback.print_exc()
                if not server.alive():
                    print("cmdbd died; restarting it. Log:\n" + server.read_log())
                    server.stop()
                    server = Server(["--header-timeout", "2000", "--max-connections-per-client", "40",
                                     "--threads", "4"])
    finally:
        server.stop()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
