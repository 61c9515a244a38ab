#!/usr/bin/env python3
"""Webhook suite: a real cmdbd delivering to a real local receiver (an http.server started here).

Checks ordered delivery with signatures the receiver verifies, a receiver that is down and comes
back, cmdbd SIGKILLed between commit and delivery, filters, excluded actors, the allow list,
3xx answers not followed, dead letters and redelivery.

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
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback

ARGS = None
SECRET = "s3cret-s3cret-s3cret"


class Receiver:
    """Records every POST; mode 'ok' answers 204, 'down' 503, and /redirect always 302."""

    def __init__(self):
        self.events = []  # (path, event_id, body dict), only signed-and-accepted ones
        self.bad_signatures = 0
        self.redirect_followed = 0
        self.mode = "ok"
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
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
    return event[2]["transaction"]["tx"]


def check_order(events):
    txs = [tx_of(e) for e in events]
    assert txs == sorted(txs), txs
    for e in events:
        hook, tx = e[1].split("-")
        assert int(tx) == tx_of(e) and int(hook) == e[2]["webhook"], e


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
        hook_dc = s.hook(rx.url("/dc"), filter={"class": "Datacenter"})
        hook_noimp = s.hook(rx.url("/noimp"), exclude_actors=["sync-bot"])
        hook_redirect = s.hook(rx.url("/redirect"))

        def ordered_signed():
            vm = s.new_vm("wh-vm-1")
            for i in range(1, 21):
                s.touch(vm, i)
            events = rx.wait("/all", 21)
            check_order(events)
            assert [e[2]["cis"][0]["attributes"].get("cpu_count") for e in events[1:]] == \
                list(range(1, 21))
            assert events[0][2]["cis"][0]["op"] == "created"
            assert rx.bad_signatures == 0
            assert len({e[1] for e in events}) == len(events)

        run("ordered delivery, signatures verified", ordered_signed)

        def filtered():
            status, body = s.request("POST", "/v1/cis", {"class": "Datacenter", "attributes": {
                "name": "dc-wh", "address": "Paris", "country": "FR", "owner": "x",
                "provider": "y", "tier": 2}})
            assert status == 201, body
            dc_events = rx.wait("/dc", 1)
            time.sleep(0.5)
            dc_events = rx.on("/dc")
            assert len(dc_events) == 1, dc_events
            assert [c["class"] for c in dc_events[0][2]["cis"]] == ["Datacenter"]

        run("a filtered webhook gets exactly its events", filtered)

        def excluded_actor():
            before_all, before_noimp = len(rx.on("/all")), len(rx.on("/noimp"))
            vm = s.new_vm("wh-vm-imp", token="importer")
            s.touch(vm, 3, token="importer")
            rx.wait("/all", before_all + 2)
            s.touch(vm, 4)  # an admin write after them: once it arrives, nothing else is coming
            got = rx.wait("/noimp", before_noimp + 1)
            time.sleep(0.3)
            got = rx.on("/noimp")[before_noimp:]
            assert len(got) == 1 and got[0][2]["transaction"]["actor"] != "sync-bot", got

        run("an excluded actor's writes are not sent", excluded_actor)

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
            check_order(events)
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
            check_order(events)
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

    # Dead letters and redelivery.
    s2 = Server(["--webhook-allow", "127.0.0.1", "--webhook-retry-base", "50",
                 "--webhook-retry-cap", "100", "--webhook-max-attempts", "3"])
    try:

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
