#!/usr/bin/env python3
"""Webhook suite: a real cmdbd delivering to a real local receiver (an http.server started here).

Checks that a delivery's body is the change feed's element for its transaction (GET /v1/feed
fetched and compared: before/after values, hash), that a webhook's filter keeps what the feed's
filter with the same names keeps, ordered delivery with signatures the receiver verifies (the
receiver of docs/integrations.md, run as a process), a receiver that is down and comes back, a
hanging receiver that does not delay another webhook, PUT, cmdbd SIGKILLed between commit and
delivery, the allow list, 3xx answers not followed, dead letters and redelivery.

Usage: webhook_test.py --cmdbd PATH --source DIR
Standard library only; prints 'N passed, N failed' and exits non-zero on a failure.
"""
import argparse
import hashlib
import hmac
import http.client
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

ARGS = None
SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """Records every POST; mode 'ok' answers 204, 'down' 503, and /redirect always 302."""

    def __init__(self):
        self.events = []  # (path, event_id, body dict), only signed-and-accepted ones
        self.bad_signatures = 0
        self.redirect_followed = 0
        self.mode = "ok"
        self.hang_seconds = 0  # /hang sleeps this long, then answers nothing
        self.hangs = 0         # /hang requests that hung
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == "/hang" and receiver.hang_seconds:
                    with receiver.lock:
                        receiver.hangs += 1
                    time.sleep(receiver.hang_seconds)  # the sender has given up by then
                    return
                if self.path == "/followed":
                    receiver.redirect_followed += 1
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "/followed")
                    self.end_headers()
                    return
                if receiver.mode != "ok":
                    self.send_response(503)
                    self.end_headers()
                    return
                # The check docs/integrations.md shows.
                ts = self.headers["X-Cmdb-Timestamp"]
                expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                                hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers["X-Cmdb-Signature"]):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.events.append((self.path, self.headers["X-Cmdb-Event-Id"],
                                            json.loads(body)))
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def on(self, path):
        with self.lock:
            return [e for e in self.events if e[0] == path]

    def wait(self, path, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.on(path)) >= n:
                return self.on(path)
            time.sleep(0.05)
        raise AssertionError("%s: %d events, expected %d" % (path, len(self.on(path)), n))


class Server:
    def __init__(self, extra=(), directory=None):
        self.dir = directory or tempfile.mkdtemp(prefix="cmdb-webhook-")
        self.extra = list(extra)
        self.tokens = {}
        self.start()

    def start(self):
        port_file = os.path.join(self.dir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(self.dir, "log.txt"), "a")
        cmd = [ARGS.cmdbd, "--db", os.path.join(self.dir, "db.sqlite"),
               "--schema", os.path.join(ARGS.source, "schema"), "--listen", "127.0.0.1:0",
               "--port-file", port_file, "--quiet",
               "--admin-token-file", os.path.join(self.dir, "admin")] + self.extra
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("cmdbd did not start")
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        self.tokens["admin"] = open(os.path.join(self.dir, "admin")).read().strip()
        if "importer" not in self.tokens:
            status, body = self.request("POST", "/v1/tokens", {"name": "sync-bot", "role": "importer"})
            assert status == 201, (status, body)
            self.tokens["importer"] = body["token"]

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    def request(self, method, path, body=None, token="admin"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Authorization": "Bearer " + self.tokens[token], "Content-Type": "application/json"}
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=h)
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        return r.status, (json.loads(raw) if raw else None)

    def hook(self, url, **fields):
        fields.update({"url": url, "secret": SECRET})
        status, body = self.request("POST", "/v1/webhooks", fields)
        assert status == 201, (status, body)
        assert "secret" not in body, body
        return body["id"]

    def new_vm(self, name, token="admin"):
        status, body = self.request("POST", "/v1/cis", {"class": "VirtualMachine",
                                                         "attributes": {"name": name}}, token)
        assert status == 201, (status, body)
        return body["id"]

    def touch(self, ci, n, token="admin"):
        status, body = self.request("PATCH", "/v1/cis/%d" % ci,
                                    {"attributes": {"cpu_count": n}}, token)
        assert status == 200, (status, body)


def tx_of(event):
    return event[2]["tx"]


def check_order(events, hook=None):
    txs = [tx_of(e) for e in events]
    assert txs == sorted(txs), txs
    for e in events:
        h, tx = e[1].split("-")
        assert int(tx) == tx_of(e), e
        assert hook is None or int(h) == hook, (hook, e)


def feed_query(flt):
    """A webhook filter as the feed's query parameters (the same names; lists comma-joined)."""
    return "".join("&%s=%s" % (k, urllib.parse.quote(",".join(v) if isinstance(v, list) else v))
                   for k, v in sorted(flt.items()))


def feed_after(s, since, query=""):
    """Every element of GET /v1/feed after `since` with the filter `query`, following `next`."""
    items = []
    while True:
        status, body = s.request("GET", "/v1/feed?since=%d&limit=1000%s" % (since, query))
        assert status == 200, body
        items += body["items"]
        since = body["next"]
        if not body["more"]:
            return items


def feed_head(s):
    status, body = s.request("GET", "/v1/feed?limit=1")
    assert status == 200, body
    return body["head"]


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--cmdbd", required=True)
    p.add_argument("--source", required=True)
    ARGS = p.parse_args()
    rx = Receiver()
    results = []

    def run(name, fn):
        try:
            fn()
            results.append((name, None))
            print("ok   " + name)
        except Exception:
            results.append((name, traceback.format_exc()))
            print("FAIL " + name + "\n" + traceback.format_exc())

    fast = ["--webhook-allow", "127.0.0.1", "--webhook-retry-base", "50",
            "--webhook-retry-cap", "200", "--webhook-max-attempts", "1000"]
    s = Server(fast)
    try:
        def allow_list():
            for url in ("http://example.com/hook", "http://10.0.0.1/x", "http://169.254.169.254/",
                        "ftp://127.0.0.1/x", "http://127.0.0.1:1@x/"):
                status, body = s.request("POST", "/v1/webhooks", {"url": url, "secret": SECRET})
                assert status == 400, (url, status, body)
                assert body["error"]["code"] == "WebhookDestinationRefused", body
            status, body = s.request("POST", "/v1/webhooks", {"url": rx.url("/a"), "secret": "x"})
            assert status == 400 and "secret" in body["error"]["message"], body
            status, body = s.request("POST", "/v1/webhooks", {"url": rx.url("/gen")})
            assert status == 201 and len(body["secret"]) == 64, body
            status, body = s.request("GET", "/v1/webhooks/%d" % body["id"])
            assert status == 200 and "secret" not in body, body
            assert s.request("DELETE", "/v1/webhooks/%d" % body["id"])[0] == 200
            assert s.request("GET", "/v1/webhooks/%d" % body["id"])[0] == 404
            assert s.request("GET", "/v1/webhooks", token="importer")[0] == 403

        run("allow list and admin API", allow_list)

        hook_all = s.hook(rx.url("/all"))
        hook_redirect = s.hook(rx.url("/redirect"))

        def ordered_signed():
            start = feed_head(s)
            vm = s.new_vm("wh-vm-1")
            for i in range(1, 21):
                s.touch(vm, i)
            events = rx.wait("/all", 21)
            check_order(events, hook_all)
            changes = [e[2]["entries"][0]["changes"] for e in events]
            assert [c["cpu_count"] for c in changes[2:]] == \
                [{"before": i - 1, "after": i} for i in range(2, 21)], changes
            assert events[0][2]["entries"][0]["op"] == "created"
            assert rx.bad_signatures == 0
            assert len({e[1] for e in events}) == len(events)
            # The oracle: each body is the feed's element for its transaction, hash included.
            feed = feed_after(s, start)
            assert [e[2] for e in events] == feed, (events[:2], feed[:2])
            assert all(e[2]["hash"] and e[2]["prev_hash"] for e in events)

        run("ordered delivery, signatures verified, body = the feed's element", ordered_signed)

        def filters_as_the_feed():
            # Each webhook gets exactly what GET /v1/feed gives with the same filter.
            filters = {"/f-class": {"class": "Computer"},  # a superclass: VirtualMachine too
                       "/f-dc": {"class": ["Datacenter"]},
                       "/f-type": {"type": "HOSTED_ON"},
                       "/f-actor": {"actor": "sync-bot", "class": "VirtualMachine"},
                       "/f-not-actor": {"not_actor": ["sync-bot"]},
                       "/f-not-source": {"not_source": "query"},
                       "/f-source": {"source": ["query", "bulk"]}}
            hooks = {path: s.hook(rx.url(path), filter=f) for path, f in filters.items()}
            status, body = s.request("GET", "/v1/webhooks/%d" % hooks["/f-class"])
            assert status == 200 and body["filter"] == {"class": "Computer"}, body
            start = feed_head(s)
            vm = s.new_vm("wh-filter-vm")
            vm2 = s.new_vm("wh-filter-vm-imp", token="importer")
            s.touch(vm2, 3, token="importer")
            status, body = s.request("POST", "/v1/cis", {"class": "Datacenter", "attributes": {
                "name": "dc-wh", "address": "Paris", "country": "FR", "owner": "x",
                "provider": "y", "tier": 2}})
            assert status == 201, body
            status, body = s.request("POST", "/v1/cis", {"class": "PhysicalServer",
                                                         "attributes": {"name": "wh-ps-1"}})
            assert status == 201, body
            ps = body["id"]
            status, body = s.request("POST", "/v1/relationships",
                                     {"type": "HOSTED_ON", "from": vm, "to": ps})
            assert status == 201, body
            status, body = s.request("POST", "/v1/query", {
                "query": "CREATE (:VirtualMachine {name: 'wh-filter-q'})"})
            assert status == 200, body
            s.touch(vm, 7)
            status, body = s.request("DELETE", "/v1/cis/%d" % vm2, token="importer")
            assert status == 200, body
            for path, f in filters.items():
                expected = feed_after(s, start, feed_query(f))
                assert expected, path  # every filter keeps something here
                got = rx.wait(path, len(expected))
                time.sleep(0.3)
                got = rx.on(path)
                check_order(got, hooks[path])
                assert [e[2] for e in got] == expected, (path, [tx_of(e) for e in got],
                                                         [x["tx"] for x in expected])
            # The feed's own semantics, asserted once more by hand for two of them.
            assert all(e[2]["actor"] != "sync-bot" for e in rx.on("/f-not-actor"))
            assert all(e[2]["source"] != "query" for e in rx.on("/f-not-source"))
            assert {x["class"] for e in rx.on("/f-class") for x in e[2]["entries"]} == \
                {"VirtualMachine"}, rx.on("/f-class")
            assert {x["type"] for e in rx.on("/f-type") for x in e[2]["entries"]} == {"HOSTED_ON"}
            # A retirement: every attribute's value before, null after.
            retired = [x for e in rx.on("/f-actor") for x in e[2]["entries"] if x["op"] == "retired"]
            assert len(retired) == 1 and retired[0]["changes"]["cpu_count"] == \
                {"before": 3, "after": None}, retired
            # The feed's checks and messages.
            status, body = s.request("POST", "/v1/webhooks", {"url": rx.url("/x"), "secret": SECRET,
                                                              "filter": {"class": "VirtualMachin"}})
            assert status == 400 and body["error"]["message"] == "unknown class 'VirtualMachin' " \
                "(did you mean 'VirtualMachine'?) in filter 'class'", body
            assert body == s.request("GET", "/v1/feed?class=VirtualMachin")[1]
            status, body = s.request("POST", "/v1/webhooks", {"url": rx.url("/x"), "secret": SECRET,
                                                              "exclude_actors": ["sync-bot"]})
            assert status == 400 and body["error"]["code"] == "BadRequest", body
            assert "exclude_actors" in body["error"]["message"], body

        run("a webhook's filter keeps what the feed's keeps (class, type, actor, not_actor, "
            "source, not_source)", filters_as_the_feed)

        def put_replaces():
            hook = s.hook(rx.url("/put"), filter={"class": "Datacenter"}, enabled=False)
            status, body = s.request("PUT", "/v1/webhooks/%d" % hook, {"url": rx.url("/put2")})
            assert status == 200, body
            assert (body["url"], body["filter"], body["enabled"]) == (rx.url("/put2"), {}, True), body
            status, body = s.request("PUT", "/v1/webhooks/%d" % hook, {"filter": {}})
            assert status == 400 and body["error"]["message"] == "url: required", body
            status, body = s.request("PUT", "/v1/webhooks/999999", {"url": rx.url("/put2")})
            assert status == 404, body
            # The secret was kept: the receiver verifies the signature of what comes now.
            bad = rx.bad_signatures
            s.new_vm("wh-vm-put")
            got = rx.wait("/put2", 1)
            assert rx.bad_signatures == bad and rx.on("/put") == [], got
            status, body = s.request("PATCH", "/v1/webhooks/%d" % hook, {"enabled": False})
            assert status == 200 and body["url"] == rx.url("/put2") and not body["enabled"], body

        run("PUT replaces the definition, the secret kept", put_replaces)

        def down_and_back():
            before = len(rx.on("/all"))
            rx.mode = "down"
            vm = s.new_vm("wh-vm-down")
            for i in range(5):
                s.touch(vm, 100 + i)
            time.sleep(1.0)
            assert len(rx.on("/all")) == before
            rx.mode = "ok"
            events = rx.wait("/all", before + 6)
            assert len(events) == before + 6, len(events)
            check_order(events, hook_all)
            status, body = s.request("GET", "/v1/webhooks/%d/deliveries" % hook_all)
            assert status == 200
            assert any(d["status"] == 503 and d["error"] == "HTTP 503" for d in body["items"]), body
            assert any(d["status"] == 204 and d["error"] is None for d in body["items"])

        run("receiver down then back: every event, in order", down_and_back)

        def redirect():
            status, body = s.request("GET", "/v1/webhooks/%d/deliveries" % hook_redirect)
            assert status == 200 and body["items"], body
            d = body["items"][0]
            assert d["status"] == 302 and d["error"] == "HTTP 302: redirect not followed", d
            assert rx.redirect_followed == 0

        run("a 3xx is a failure and is not followed", redirect)

        def tls_verified():
            # An HTTPS receiver with a self-signed certificate: cmdbd must refuse it.
            d = tempfile.mkdtemp(prefix="cmdb-webhook-tls-")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                            "-subj", "/CN=127.0.0.1", "-keyout", d + "/key.pem",
                            "-out", d + "/cert.pem"], check=True, capture_output=True)
            tls = Receiver()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
            tls.server.socket = ctx.wrap_socket(tls.server.socket, server_side=True)
            hook = s.hook("https://127.0.0.1:%d/tls" % tls.port)
            s.new_vm("wh-vm-tls")
            deadline = time.time() + 10
            items = []
            while time.time() < deadline and not items:
                items = s.request("GET", "/v1/webhooks/%d/deliveries" % hook)[1]["items"]
                time.sleep(0.1)
            assert items and items[0]["status"] == 0, items
            assert "certificate" in items[0]["error"].lower(), items[0]
            assert tls.events == [], tls.events
            shutil.rmtree(d, ignore_errors=True)

        run("TLS certificates are verified (a self-signed one is refused)", tls_verified)

        def sigkill():
            hook = s.hook(rx.url("/kill"))
            rx.mode = "down"
            vm = s.new_vm("wh-vm-kill")
            for i in range(1, 11):
                s.touch(vm, i)
            s.kill()  # the 11 events are committed, none delivered (the receiver is down)
            assert rx.on("/kill") == []
            rx.mode = "ok"
            s.start()  # no redelivery asked: the outbox resumes by itself
            events = rx.wait("/kill", 11)
            check_order(events, hook)
            ids = [e[1] for e in events]
            assert len(set(ids)) == 11, ids
            for eid in set(ids):  # a duplicate is the same event (same id, same body)
                bodies = {json.dumps(e[2], sort_keys=True) for e in events if e[1] == eid}
                assert len(bodies) == 1, eid
            status, body = s.request("GET", "/v1/webhooks/%d/dead-letters" % hook)
            assert status == 200 and body["items"] == [], body

        run("SIGKILL between commit and delivery loses nothing", sigkill)
    finally:
        s.stop()

    # A hanging receiver, dead letters and redelivery.
    s2 = Server(["--webhook-allow", "127.0.0.1", "--webhook-retry-base", "50",
                 "--webhook-retry-cap", "100", "--webhook-max-attempts", "3",
                 "--webhook-timeout", "5000"])
    try:

        def hanging_receiver():
            # Webhook A's receiver hangs past the timeout; webhook B's events all arrive, in
            # order, while A's first attempt is still in flight.
            rx.hang_seconds = 12
            slow = s2.hook(rx.url("/hang"))
            fast = s2.hook(rx.url("/fast"))
            vm = s2.new_vm("wh-vm-hang")
            for i in range(1, 5):
                s2.touch(vm, i)
            got = rx.wait("/fast", 5, timeout=30)
            check_order(got, fast)
            assert rx.hangs == 1, rx.hangs  # A: one request, hanging
            status, body = s2.request("GET", "/v1/webhooks/%d/deliveries" % slow)
            assert status == 200 and body["items"] == [], body  # ... and not over yet
            rx.hang_seconds = 0
            got = rx.wait("/hang", 5, timeout=30)  # after the timeout, the retry gets through
            check_order(got, slow)
            assert [tx_of(e) for e in got] == [tx_of(e) for e in rx.on("/fast")]
            status, body = s2.request("GET", "/v1/webhooks/%d/deliveries" % slow)
            assert "timed out" in body["items"][-1]["error"], body["items"][-1]

        run("a hanging receiver does not delay another webhook", hanging_receiver)

        def docs_receiver():
            # The receiver docs/integrations.md shows, run as it is.
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            probe.close()
            env = dict(os.environ, CMDB_WEBHOOK_SECRET=SECRET, PORT=str(port))
            proc = subprocess.Popen([sys.executable, os.path.join(ARGS.source, "tests", "webhook",
                                                                  "receiver_example.py")],
                                    env=env, stdout=subprocess.PIPE, text=True)
            try:
                deadline = time.time() + 10
                while True:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        break
                    except OSError:
                        assert time.time() < deadline, "the example receiver did not start"
                        time.sleep(0.05)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", "/", body=b"{}", headers={
                    "X-Cmdb-Timestamp": str(int(time.time())), "X-Cmdb-Event-Id": "0-0",
                    "X-Cmdb-Signature": "sha256=" + "0" * 64})
                assert conn.getresponse().status == 401  # a forged request is refused
                conn.close()
                s2.hook("http://127.0.0.1:%d/" % port, filter={"class": "VirtualMachine"})
                vm = s2.new_vm("wh-vm-docs")
                s2.touch(vm, 8)
                lines = [proc.stdout.readline().strip() for _ in range(2)]
                assert lines[0].split(" ")[1:5] == ["admin", "created", "VirtualMachine", str(vm)]
                assert lines[1].split(" ", 5)[1:] == ["admin", "updated", "VirtualMachine", str(vm),
                                                     '{"cpu_count": {"after": 8, "before": null}}'], lines
            finally:
                proc.terminate()
                proc.wait()

        run("the receiver of docs/integrations.md verifies and reads deliveries", docs_receiver)

        def dead_letters():
            hook = s2.hook(rx.url("/park"))
            rx.mode = "down"
            s2.new_vm("wh-vm-park")
            deadline = time.time() + 10
            while time.time() < deadline:
                status, body = s2.request("GET", "/v1/webhooks/%d/dead-letters" % hook)
                if body["items"]:
                    break
                time.sleep(0.1)
            assert status == 200 and len(body["items"]) == 1, body
            assert body["items"][0]["attempts"] == 3 and body["items"][0]["last_error"] == "HTTP 503"
            rx.mode = "ok"
            time.sleep(0.3)
            assert rx.on("/park") == []
            status, body = s2.request("POST", "/v1/webhooks/%d/redeliver" % hook,
                                      {"event": body["items"][0]["event"]})
            assert status == 200 and body == {"requeued": 1}, body
            rx.wait("/park", 1)

        run("dead letters are parked and redelivered", dead_letters)
    finally:
        s2.stop()
    failed = [r for r in results if r[1]]
    print("%d passed, %d failed" % (len(results) - len(failed), len(failed)))
    if not failed:
        shutil.rmtree(s.dir, ignore_errors=True)
        shutil.rmtree(s2.dir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
