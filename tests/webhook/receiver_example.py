#!/usr/bin/env python3
# A webhook receiver that checks the signature: docs/integrations.md quotes this file and the
# webhook suite (webhook_test.py) runs it. Python 3, standard library only.
import hashlib, hmac, http.server, json, os, time

SECRET = os.environ["CMDB_WEBHOOK_SECRET"].encode()  # the secret given when creating the webhook
PORT = int(os.environ.get("PORT", "9000"))
seen = set()  # event ids handled (a real receiver keeps them somewhere durable)


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers["X-Cmdb-Timestamp"]
        good = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(ts)) < 300  # refuse a replay older than five minutes
        if not (hmac.compare_digest(good, self.headers["X-Cmdb-Signature"]) and fresh):
            self.send_response(401)
            self.end_headers()
            return
        event_id = self.headers["X-Cmdb-Event-Id"]
        if event_id not in seen:  # at-least-once: a retry after a crash is the same event
            seen.add(event_id)
            tx = json.loads(body)  # one element of GET /v1/feed
            for e in tx["entries"]:
                print(tx["tx"], tx["actor"], e["op"], e.get("class") or e["type"], e["id"],
                      json.dumps(e["changes"], sort_keys=True), flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Receiver).serve_forever()
