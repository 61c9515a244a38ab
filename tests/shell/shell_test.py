#!/usr/bin/env python3
"""The cmdb shell against a real cmdbd: the interactive shell driven in a pseudo-terminal
(multi-line input, completion from the schema, history kept between runs, :param, :asof,
:explain, errors with a caret), -c, -f and standard input with their exact output and exit
codes, where the server and token come from (flags, environment, config file), and each
sub-command against the demo data.

Usage: shell_test.py --cmdb PATH --cmdbd PATH --source DIR [--only NAME ...]
Starts cmdbd itself on a free loopback port in a temporary directory (demo data loaded) and
prints 'N passed, N failed' at the end. Standard library only.
"""
import argparse
import fcntl
import http.client
import json
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
import traceback

ARGS = None
TESTS = []
SERVER = None


def test(fn):
    TESTS.append(fn)
    return fn


class Server:
    """A cmdbd with the demo data in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cmdb-shell-")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log.txt"), "w")
        cmd = [ARGS.cmdbd, "--db", os.path.join(self.dir, "db.sqlite"),
               "--schema", os.path.join(ARGS.source, "schema"), "--listen", "127.0.0.1:0",
               "--port-file", port_file, "--quiet", "--threads", "4",
               "--admin-token-file", os.path.join(self.dir, "admin")]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("cmdbd did not start")
            time.sleep(0.05)
        self.port = int(open(port_file).read())
        self.url = "http://127.0.0.1:%d" % self.port
        self.token = open(os.path.join(self.dir, "admin")).read().strip()
        self._reader = None

    @property
    def reader(self):
        """A reader's token, made when first asked for (the manual's examples run before, on the
        demo database as a reader's fresh one is)."""
        if self._reader is None:
            status, body = self.request("POST", "/v1/tokens", {"name": "viewer", "role": "reader"})
            assert status == 201, (status, body)
            self._reader = body["token"]
        return self._reader

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        data = None if body is None else json.dumps(body)
        conn.request(method, path, body=data, headers={"Authorization": "Bearer " + self.token})
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        return r.status, json.loads(raw) if raw else None

    def query(self, text):
        status, body = self.request("POST", "/v1/query", {"query": text})
        assert status == 200, (status, body)
        return body["rows"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def clean_env(home, **extra):
    """An environment with no cmdb settings but those given, and its own HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMDB_")}
    env.update(HOME=home, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="dumb")
    env.pop("XDG_CONFIG_HOME", None)
    env.update(extra)
    return env


def run(args, home, stdin=None, **env):
    """Runs cmdb (standard input not a terminal); returns (exit code, stdout, stderr)."""
    p = subprocess.run([ARGS.cmdb] + args, input=None if stdin is None else stdin.encode(),
                       capture_output=True, env=clean_env(home, **env), timeout=30)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def run_env(home):
    return {"CMDB_URL": SERVER.url, "CMDB_TOKEN": SERVER.token}


def expect(actual, expected, what=""):
    if actual != expected:
        raise AssertionError("%s\n--- expected\n%s\n--- actual\n%s" % (what, expected, actual))


class Terminal:
    """cmdb in a pseudo-terminal of 24x`cols`."""

    ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\x07")

    def __init__(self, home, args=(), cols=100, **env):
        pid, fd = pty.fork()
        if pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
            os.execve(ARGS.cmdb, [ARGS.cmdb] + list(args), clean_env(home, **env))
        self.pid, self.fd = pid, fd
        self.buf = ""

    def read_until(self, pattern, timeout=10):
        """Reads until `pattern` (a regex) shows in the cleaned output; returns the output up to
        and including the match, and keeps the rest."""
        rx = re.compile(pattern)
        deadline = time.time() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; got %r" % (pattern, self.buf))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError("cmdb ended waiting for %r; got %r" % (pattern, self.buf))
                self.buf += self.ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")

    def send(self, text):
        """Types `text` once the line editor reads the terminal (echo off, raw mode): typed
        earlier, the terminal driver would echo it a second time, as it would for a person
        typing ahead."""
        deadline = time.time() + 5
        while termios.tcgetattr(self.fd)[3] & termios.ECHO and time.time() < deadline:
            time.sleep(0.005)
        os.write(self.fd, text.encode())

    def prompt(self, timeout=10):
        """Waits for the next main prompt; returns what came before it."""
        return self.read_until(r"cmdb(\[AS OF [^\]]*\])?> $", timeout)

    def finish(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:
                r, _, _ = select.select([self.fd], [], [], 0.1)
                if r:
                    os.read(self.fd, 65536)
            except OSError:
                time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError("cmdb did not end")


SERVICES_TABLE = """\
+-----------------+------------------------------------+---+
| s.name          | deps                               | n |
+-----------------+------------------------------------+---+
| Customer Portal | ["portal-web", "shop-api"]         | 2 |
| HR Self-Service | ["hr-app"]                         | 1 |
| Payments        | ["payment-gateway", "fraud-check"] | 2 |
+-----------------+------------------------------------+---+
(3 rows)
"""
SERVICES_QUERY = ("MATCH (s:BusinessService)-[:DEPENDS_ON]->(a) WHERE s.name <> 'Online Shop' "
                  "RETURN s.name, collect(a.name) AS deps, count(*) AS n ORDER BY s.name")


def matches(expected, got):
    """`got` equals `expected` line for line, where a line '...' stands for any lines (none
    included) and '...' inside a line for any text."""
    exp = expected.rstrip("\n").split("\n")
    lines = got.rstrip("\n").split("\n")

    def line_ok(e, g):
        return re.fullmatch(".*?".join(re.escape(x) for x in e.split("...")), g) is not None

    def walk(i, j):
        if i == len(exp):
            return j == len(lines)
        if exp[i] == "...":
            return any(walk(i + 1, k) for k in range(j, len(lines) + 1))
        return j < len(lines) and line_ok(exp[i], lines[j]) and walk(i + 1, j + 1)

    return walk(0, 0)


@test
def manual_transcript(home):
    """The interactive session docs/shell.md shows (the ```text block that starts with '$ cmdb'):
    its input lines typed into the shell in a pseudo-terminal give exactly its output."""
    text = open(os.path.join(ARGS.source, "docs", "shell.md"), encoding="utf-8").read()
    m = re.search(r"```text\n\$ cmdb\n(.*?)```", text, re.S)
    assert m, "docs/shell.md has no transcript"
    transcript = m.group(1)
    prompt = re.compile(r"^(cmdb(?:\[[^\]]*\])?> |   -> )(.*)$")
    inputs = [prompt.match(l).group(2) for l in transcript.splitlines() if prompt.match(l)]
    t = Terminal(home, [], cols=100, **run_env(home))
    out = t.read_until(r"cmdb> $")
    for line in inputs:
        t.send(line + "\n")
        if line == ":quit":
            out += t.read_until(r":quit\n")
            break
        out += t.read_until(r"(cmdb(\[[^\]]*\])?> |   -> )$")
    expect(t.finish(), 0)
    out = out.replace(SERVER.url, "http://127.0.0.1:8080")
    expect(out, transcript)


@test
def manual_examples(home):
    """Every ```sh example of docs/shell.md (each marked for this test) runs with the real cmdb
    against a fresh demo database and prints what the manual shows after it. First of all tests:
    the examples see the demo data as loaded."""
    text = open(os.path.join(ARGS.source, "docs", "shell.md"), encoding="utf-8").read()
    blocks = re.findall(r"<!-- doc-test: skip run by tests/shell/shell_test\.py[^>]*-->\n```sh\n(.*?)```\n\n?"
                        r"```text\n(.*?)```", text, re.S)
    if len(blocks) != text.count("```sh"):
        raise AssertionError("docs/shell.md: %d ```sh blocks, %d with the marker and a ```text block after"
                             % (text.count("```sh"), len(blocks)))
    bindir = os.path.join(home, "bin")
    os.makedirs(bindir)
    os.symlink(ARGS.cmdb, os.path.join(bindir, "cmdb"))
    env = clean_env(home, CMDB_URL=SERVER.url, CMDB_TOKEN=SERVER.token)
    env["PATH"] = bindir + ":" + env.get("PATH", "/usr/bin:/bin")
    for script, expected in blocks:
        p = subprocess.run(["bash", "-c", script], cwd=ARGS.source, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        got = p.stdout.decode().replace("\r\n", "\n")  # CSV's line ends, shown as lines
        if ARGS.show:
            print("---- $ %s\n%s" % (script, got))
        if not matches(expected, got):
            raise AssertionError("docs/shell.md example\n%s--- expected\n%s--- got\n%s" % (script, expected, got))


@test
def command_table_csv_json(home):
    rc, out, err = run(["-c", SERVICES_QUERY + ";"], home, **run_env(home))
    expect((rc, err), (0, ""))
    expect(out, SERVICES_TABLE)
    rc, out, err = run(["-F", "csv", "-c", SERVICES_QUERY], home, **run_env(home))
    expect((rc, err), (0, ""))
    expect(out, 's.name,deps,n\r\nCustomer Portal,"[""portal-web"",""shop-api""]",2\r\n'
                'HR Self-Service,"[""hr-app""]",1\r\nPayments,"[""payment-gateway"",""fraud-check""]",2\r\n')
    rc, out, err = run(["--format", "json", "-c", SERVICES_QUERY], home, **run_env(home))
    expect((rc, err), (0, ""))
    expect(out, '{"s.name":"Customer Portal","deps":["portal-web","shop-api"],"n":2}\n'
                '{"s.name":"HR Self-Service","deps":["hr-app"],"n":1}\n'
                '{"s.name":"Payments","deps":["payment-gateway","fraud-check"],"n":2}\n')
    # Graph values, null, nested values, a value with a line break, a write's footer.
    rc, out, err = run(["-c", "MATCH (s:BusinessService {name: 'Payments'})-[r:DEPENDS_ON]->(a {name: 'hr-app'}) "
                        "RETURN s, r; MATCH p = (s:BusinessService {name: 'HR Self-Service'})-[:DEPENDS_ON]->() "
                        "RETURN p, null AS nothing, {a: [1, 2.5, true]} AS m, 'two\nlines' AS t"], home, **run_env(home))
    expect((rc, err), (0, ""))
    rule = "+" + "-" * 97 + "+---------+---------------------+------------+\n"
    expect(out, "+---+---+\n| s | r |\n+---+---+\n(0 rows)\n" + rule +
           "| p" + " " * 95 + "| nothing | m                   | t          |\n" + rule +
           '| (61:BusinessService {name: "HR Self-Service"})-[:DEPENDS_ON]->(57:Application {name: "hr-app"}) '
           "| null    | {a: [1, 2.5, true]} | two\\nlines |\n" + rule + "(1 row)\n")


@test
def errors_with_caret_and_exit_codes(home):
    rc, out, err = run(["-c", "RETURN 1 AS one;\nMATCH (n:Sevice)\n  RETURN n;\nRETURN 2;"], home, **run_env(home))
    expect(rc, 1)
    expect(out, "+-----+\n| one |\n+-----+\n|   1 |\n+-----+\n(1 row)\n")  # stopped at the error
    expect(err, "SemanticError: line 2, column 10: unknown class 'Sevice' (did you mean 'Service'?)\n"
                "MATCH (n:Sevice)\n         ^\n")
    # A statement that starts inside a line: the column is the input's, counted in characters as
    # the server counts them; the caret sits under the character even after multi-byte ones.
    rc, out, err = run(["-c", "RETURN 1 AS one; RETURN 'é€' + x;"], home, **run_env(home))
    expect(rc, 1)
    expect(err, "SemanticError: line 1, column 32: variable 'x' is not defined\nRETURN 'é€' + x\n              ^\n")
    # Wide characters take two terminal columns: the caret goes by display width, the column
    # number by characters (the server's, after a statement with a multi-byte character before).
    rc, out, err = run(["-c", "RETURN 'ü' AS u; RETURN '日本' + y;"], home, **run_env(home))
    expect(rc, 1)
    expect(err, "SemanticError: line 1, column 32: variable 'y' is not defined\nRETURN '日本' + y\n"
                + " " * 16 + "^\n")
    rc, out, err = run(["-c", "RETURN 'é' +"], home, **run_env(home))
    expect((rc, err), (1, "SyntaxError: line 1, column 13: expected expression, found the end of the query\n"
                          "RETURN 'é' +\n            ^\n"))
    # An empty projection is a syntax error (exit 1, as any query error).
    rc, out, err = run(["-c", "RETURN"], home, **run_env(home))
    expect((rc, out, err), (1, "", "SyntaxError: line 1, column 7: expected return item, found the end of the query\n"
                                   "RETURN\n      ^\n"))
    # A bad :param in a script or -P: the error in the user's own expression (never the shell's
    # wrapper query), exit 2 as docs/shell.md's table says.
    rc, out, err = run(["-c", ":param x => 1 +", "-c", "RETURN 1"], home, **run_env(home))
    expect((rc, out, err), (2, "", "SyntaxError: line 1, column 16: expected expression, found the end of the query\n"
                                   "1 +\n   ^\n"))
    rc, out, err = run(["-P", "x => 1 +", "-c", "RETURN 1"], home, **run_env(home))
    expect((rc, out, err), (2, "", "SyntaxError: line 1, column 9: expected expression, found the end of the query\n"
                                   "1 +\n   ^\n"))
    rc, out, err = run(["-F", "csv", "-c", ":param x => 40 + 2 // a comment", "-c", "RETURN $x AS x"], home,
                       **run_env(home))
    expect((rc, out, err), (0, "x\r\n42\r\n", ""))
    # :width below the least says so.
    rc, out, err = run(["-c", ":width 5", "-c", "RETURN 1 AS a"], home, **run_env(home))
    expect((rc, err), (0, ":width 5 is less than the least width: tables are cut to 20 columns\n"))
    # --fail-at-end runs the rest and still fails.
    rc, out, err = run(["--fail-at-end", "-F", "csv", "-c", "RETURN x; RETURN 2 AS two"], home, **run_env(home))
    expect((rc, out), (1, "two\r\n2\r\n"))
    rc, out, err = run(["-c", "RETURN 1"], home, CMDB_URL="http://127.0.0.1:1", CMDB_TOKEN=SERVER.token)
    expect((rc, out, err), (3, "", "cannot reach http://127.0.0.1:1: cannot connect\n"))
    rc, out, err = run(["-c", "RETURN 1"], home, CMDB_URL=SERVER.url, CMDB_TOKEN="cmdb_wrong")
    expect(rc, 4)
    assert err.startswith("Unauthenticated: "), err
    rc, out, err = run(["-c", "CREATE (:VirtualMachine {name: 'x'})"], home, CMDB_URL=SERVER.url,
                       CMDB_TOKEN=SERVER.reader)
    expect(rc, 4)
    assert err.startswith("Forbidden: "), err
    rc, out, err = run(["-c", "RETURN 1"], home, CMDB_URL=SERVER.url, CMDB_TOKEN=SERVER.token + "\r\nX-Evil: 1")
    expect((rc, err), (2, "cmdb: the token holds a space, a line break or another character tokens do not have\n"))
    rc, out, err = run(["--format", "xml", "-c", "RETURN 1"], home, **run_env(home))
    expect(rc, 2)
    rc, out, err = run(["-c", ":nonsense"], home, **run_env(home))
    expect((rc, err), (2, "unknown shell command ':nonsense' (:help lists them)\n"))
    rc, out, err = run(["-f", os.path.join(home, "missing.gql")], home, **run_env(home))
    expect((rc, err), (2, "cmdb: cannot read %s\n" % os.path.join(home, "missing.gql")))
    rc, out, err = run(["--url", "ftp://x", "-c", "RETURN 1"], home)
    expect((rc, err), (2, "cmdb: --url: 'ftp://x' is not http://HOST[:PORT] or https://HOST[:PORT]\n"))
    rc, out, err = run(["--url", "http://h:99999", "-c", "RETURN 1"], home)
    expect((rc, err), (2, "cmdb: --url: the port of 'http://h:99999' is past 65535\n"))
    # A path prefix goes before every API path (a server behind a reverse proxy).
    rc, out, err = run(["--url", SERVER.url + "/cmdb/", "-c", "RETURN 1"], home, CMDB_TOKEN=SERVER.token)
    expect((rc, err), (1, "NotFound: no such endpoint: POST /cmdb/v1/query\n"))


@test
def file_and_stdin(home):
    path = os.path.join(home, "q.gql")
    with open(path, "w") as f:
        f.write("// the services\n:param name => 'Pay' + 'ments'\n\nMATCH (s:BusinessService {name: $name})\n"
                "RETURN s.name AS name, s.sla_hours AS sla; /* a ; in a comment */ RETURN 'a;b' AS s;\n"
                "RETURN size($name) AS n,\n  nope(1);\nRETURN 3;\n")
    rc, out, err = run(["-F", "csv", "-f", path], home, **run_env(home))
    expect(out, "name,sla\r\nPayments,4\r\ns\r\na;b\r\n")
    expect((rc, err), (1, "SemanticError: %s, line 7, column 3: unknown function 'nope' (did you mean 'nodes'?)\n  nope(1)\n  ^\n" % path))
    # Shell commands in a file: their errors are placed in the file too.
    path2 = os.path.join(home, "commands.gql")
    with open(path2, "w") as f:
        f.write("RETURN 1 AS a;\n\n  :param p => [1,\n:explain RETURN nope(2)\n")
    rc, out, err = run(["-f", path2], home, **run_env(home))
    expect(rc, 2)  # a bad :param in a script
    expect(err, "SyntaxError: %s, line 3, column 15: expected the end of the query, found '['\n"
                "[1,\n^\n" % path2)
    rc, out, err = run(["--fail-at-end", "-f", path2], home, **run_env(home))
    assert err.endswith("SemanticError: %s, line 4, column 17: unknown function 'nope' (did you mean 'nodes'?)\n"
                        "RETURN nope(2)\n       ^\n" % path2), err
    rc, out, err = run(["-F", "json"], home, stdin="RETURN 1 AS a;\nRETURN [1,\n 2] AS b;\n"
                       "RETURN 'it\\'s; \"fine\"' AS `c;d`; // a ; in a comment\nEXPLAIN RETURN 1", **run_env(home))
    expect((rc, out, err), (0, '{"a":1}\n{"b":[1,2]}\n{"c;d":"it\'s; \\"fine\\""}\n{"plan":"Projection\\n"}\n', ""))
    # A write's footer says what it did.
    rc, out, err = run([], home, stdin="CREATE (v:VirtualMachine {name: 'shell-vm'}) RETURN v.name;\n"
                       "MATCH (v:VirtualMachine {name: 'shell-vm'}) DETACH DELETE v", **run_env(home))
    expect((rc, err), (0, ""))
    assert re.fullmatch(r"\+-+\+\n\| v\.name   \|\n\+-+\+\n\| shell-vm \|\n\+-+\+\n"
                        r"\(1 row; 1 node created, 1 property set; tx \d+\)\n\(1 node deleted; tx \d+\)\n", out), out
    # -c and -f in the order given; -P parameters.
    rc, out, err = run(["-F", "csv", "-P", "x => 40 + 2", "-c", "RETURN $x AS x", "-f", path, "-c", "RETURN 0 AS z"],
                       home, **run_env(home))
    expect(out, "x\r\n42\r\nname,sla\r\nPayments,4\r\ns\r\na;b\r\n")
    expect(rc, 1)


@test
def settings_precedence(home):
    """--url/--token over CMDB_URL/CMDB_TOKEN over the config file over the defaults."""
    cfg_dir = os.path.join(home, ".config", "cmdb")
    os.makedirs(cfg_dir, exist_ok=True)
    cfg = os.path.join(cfg_dir, "config")
    with open(cfg, "w") as f:
        f.write("# test\nurl = %s\ntoken = %s\nformat = csv\n" % (SERVER.url, SERVER.reader))
    os.chmod(cfg, 0o600)
    whoami = "MATCH (n:Datacenter) RETURN count(n) AS n"
    # The config file alone: its url, token and format.
    rc, out, err = run(["-c", whoami], home)
    expect((rc, out, err), (0, "n\r\n2\r\n", ""))
    # The reader token of the file cannot write; the environment's admin token can.
    write = "MATCH (n:Datacenter {name: 'dc-fra1'}) SET n.description = 'main' RETURN n.description AS d"
    rc, out, err = run(["-c", write], home)
    expect(rc, 4)
    rc, out, err = run(["-c", write], home, CMDB_TOKEN=SERVER.token)
    expect((rc, out, err), (0, "d\r\nmain\r\n", ""))
    # A flag beats the environment.
    rc, out, err = run(["--token", SERVER.reader, "-c", write], home, CMDB_TOKEN=SERVER.token)
    expect(rc, 4)
    tf = os.path.join(home, "tok")
    with open(tf, "w") as f:
        f.write(SERVER.token + "\n")
    rc, out, err = run(["--token-file", tf, "-c", write], home, CMDB_TOKEN=SERVER.reader)
    expect(rc, 0)
    # URL: environment over file, flag over environment.
    rc, out, err = run(["-c", whoami], home, CMDB_URL="http://127.0.0.1:1")
    expect(rc, 3)
    rc, out, err = run(["--url", SERVER.url, "-c", whoami], home, CMDB_URL="http://127.0.0.1:1")
    expect(rc, 0)
    # The format: a flag over the file.
    rc, out, err = run(["-F", "json", "-c", whoami], home)
    expect(out, '{"n":2}\n')
    # CMDB_CONFIG and --config name another file; a named file must exist; bad keys are refused.
    other = os.path.join(home, "other.conf")
    with open(other, "w") as f:
        f.write('url = "http://127.0.0.1:1"\n')
    rc, out, err = run(["-c", whoami], home, CMDB_CONFIG=other)
    expect(rc, 3)
    rc, out, err = run(["--config", other, "--url", SERVER.url, "-c", whoami], home, CMDB_TOKEN=SERVER.token)
    expect((rc, out), (0, "+---+\n| n |\n+---+\n| 2 |\n+---+\n(1 row)\n"))
    rc, out, err = run(["--config", os.path.join(home, "nope.conf"), "-c", whoami], home)
    expect((rc, err), (2, "cmdb: cannot read the config file %s\n" % os.path.join(home, "nope.conf")))
    with open(other, "w") as f:
        f.write("url = %s\ntokn = x\n" % SERVER.url)
    rc, out, err = run(["--config", other, "-c", whoami], home)
    expect((rc, err), (2, "cmdb: %s line 2: unknown key 'tokn' (url, token, token_file, format, history, width)\n"
                        % other))
    # A token in a file others may read: a warning, and it still works.
    os.chmod(cfg, 0o644)
    rc, out, err = run(["-c", whoami], home)
    expect((rc, err), (0, "cmdb: warning: %s holds a token and others may read it (chmod 600 %s)\n" % (cfg, cfg)))
    os.remove(cfg)


@test
def interactive_session(home):
    t = Terminal(home, ["--width", "off"], **run_env(home))
    banner = t.prompt()
    assert "cmdb shell on %s (144 CIs" % SERVER.url in banner, banner
    # Multi-line input: the continuation prompt until the ';'.
    t.send("MATCH (s:BusinessService)-[:DEPENDS_ON]->(a) WHERE s.name <> 'Online Shop'\n")
    t.read_until(r"   -> $")
    t.send("RETURN s.name, collect(a.name) AS deps, count(*) AS n\n")
    t.read_until(r"   -> $")
    t.send("ORDER BY s.name;\n")
    out = t.prompt()
    assert SERVICES_TABLE in out, out
    # Completion from the schema: a class, a relationship type, an attribute, a keyword, a
    # shell command (Tab, one candidate each).
    t.send("MATCH (s:BusinessSer\t")
    t.read_until(r"BusinessService$")
    t.send(")-[:DEPENDS_\t")
    t.read_until(r"DEPENDS_ON$")
    t.send("]->(a) RETU\t")
    t.read_until(r"RETURN $")
    t.send("s.critical\t")
    t.read_until(r"s\.criticality$")
    t.send(" AS c, count(*) AS n;\n")
    out = t.prompt()
    assert ("+----------+---+\n| c        | n |\n+----------+---+\n| critical | 6 |\n| high     | 2 |\n"
            "| medium   | 1 |\n+----------+---+\n(3 rows)\n") in out, out
    # Functions by namespace; a unique completion rings no bell.
    t.send("RETURN duration.in\t\t")
    out = t.read_until(r"inSeconds")
    assert "inDays" in out and "inMonths" in out, out
    t.send("\x15")  # Ctrl-U: drop the line
    t.send("CALL db.lab\t")
    out = t.read_until(r"db\.labels$")
    assert "\a" not in out, repr(out)
    t.send("\x15RETURN cmdb.crea\t")
    out = t.read_until(r"cmdb\.created_$")
    t.send("\x15RETURN toUpp\t")
    out = t.read_until(r"toUpper $")
    assert "\a" not in out, repr(out)
    t.send("\x15;\n")
    t.prompt()
    t.send(":expl\t")
    t.read_until(r":explain $")
    t.send("RETURN 1\n")
    assert "Projection" in t.prompt()
    t.send(":param svc => 'Pay' + 'ments'\n")
    t.prompt()
    t.send("MATCH (s:BusinessService {name: $sv\t")
    t.read_until(r"\$svc$")
    t.send("}) RETURN s.sla_hours AS sla;\n")
    out = t.prompt()
    assert "| sla |\n+-----+\n|   4 |\n+-----+\n(1 row)\n" in out, out
    t.send(":params\n")
    out = t.prompt()
    assert ':param svc => "Payments"\n' in out, out
    # An error: line, column and caret; the session goes on.
    t.send("MATCH (n)\nRETURN n.name LIMIT;\n")
    out = t.prompt()
    assert ("SyntaxError: line 2, column 20: expected expression, found ';'\nRETURN n.name LIMIT;\n"
            in out) or "SyntaxError: line 2, column 20: " in out, out
    # :format, :explain
    t.send(":format csv\nMATCH (d:Datacenter) RETURN d.name ORDER BY d.name;\n")
    out = t.prompt()
    out = t.prompt() if "d.name" not in out else out
    assert "d.name\ndc-ams1\ndc-fra1\n" in out, out
    t.send(":format table\n")
    t.prompt()
    t.send(":explain MATCH (d:Datacenter) RETURN d\n")
    out = t.prompt()
    assert "NodeScan(:Datacenter)" in out, out
    # DDL through the shell: the new attribute completes at once.
    t.send("ALTER NODE TYPE Datacenter ADD { shell_zone_label STRING };\n")
    out = t.prompt()
    assert "(schema version 2; tx " in out, out
    t.send("MATCH (d:Datacenter) RETURN d.shell_zo\t")
    t.read_until(r"d\.shell_zone_label$")
    t.send(";\n")
    out = t.prompt()
    assert "| d.shell_zone_label |" in out, out
    t.send(":quit\n")
    expect(t.finish(), 0)


@test
def interactive_asof_and_width(home):
    # A change after tx 2 (the demo load); :asof 2 reads before it.
    SERVER.query("MATCH (n:Datacenter {name: 'dc-ams1'}) SET n.description = 'asof-test' RETURN n")
    t = Terminal(home, ["-q"], cols=40, **run_env(home))
    t.prompt()
    t.send(":asof 2\n")
    out = t.prompt()
    assert "queries now read the state after tx 2 (AS OF 2; :asof off returns to the present)" in out, out
    t.send("MATCH (n:Datacenter {name: 'dc-ams1'}) RETURN n.description AS d;\n")
    out = t.prompt()
    assert "| d    |\n+------+\n| null |\n+------+\n(1 row; as of tx 2)\n" in out, out
    # EXPLAIN under :asof, and an error position still the statement's own.
    t.send("EXPLAIN MATCH (n:Datacenter) RETURN n;\n")
    out = t.prompt()
    assert "NodeScan(:Datacenter)" in out, out
    t.send("RETURN\n  y;\n")
    out = t.prompt()
    assert "SemanticError: line 2, column 3: variable 'y' is not defined\n  y\n  ^\n" in out, out
    t.send(":asof 999999\n")
    out = t.prompt()
    assert re.search(r"\nArgumentError: AS OF 999999: there is no such transaction \(the history runs from 1 to \d+\)\n"
                     r"cmdb\[AS OF 2\]> $", out), out
    t.send(":asof 2999-01-01T00:00:00Z\n")
    out = t.prompt()
    assert out.endswith("\nArgumentError: AS OF '2999-01-01T00:00:00Z' is in the future\ncmdb[AS OF 2]> "), out
    t.send(":asof off\n")
    t.prompt()
    # 40 columns: the wide value is cut with an ellipsis.
    t.send("MATCH (n:Datacenter {name: 'dc-ams1'}) RETURN n.name, n.description + ' and a long tail of text' AS d;\n")
    out = t.prompt()
    assert ("+---------+----------------------------+\n| n.name  | d                          |\n"
            "+---------+----------------------------+\n| dc-ams1 | asof-test and a long tail… |\n") in out, out
    t.send("\x04")  # Ctrl-D ends the shell
    expect(t.finish(), 0)


@test
def interactive_interrupt_and_help(home):
    t = Terminal(home, ["-q"], **run_env(home))
    t.prompt()
    t.send(":help\n")
    out = t.prompt()
    assert ":param NAME => EXPR       set $NAME to EXPR, evaluated by the server" in out, out
    # Ctrl-C drops a half-typed statement: the next line starts a new one.
    t.send("MATCH (n)\n")
    t.read_until(r"   -> $")
    t.send("\x03")
    t.prompt()
    t.send("RETURN 5 AS five;\n")
    out = t.prompt()
    assert "| five |\n+------+\n|    5 |\n" in out, out
    # Ctrl-C while a statement runs stops the wait (the server stops it at the :timeout).
    t.send(":timeout 3000\n")
    t.prompt()
    t.send("MATCH (a), (b), (c), (d) RETURN count(*) AS c;\n")
    t.read_until(r"RETURN count\(\*\) AS c;\n")
    time.sleep(0.2)
    os.write(t.fd, b"\x03")
    out = t.prompt(timeout=20)
    assert "interrupted: the shell stopped waiting; the server may still finish the request\n" in out, out
    assert "TransientError" not in out, out
    t.send("RETURN 6 AS six;\n")
    out = t.prompt()
    assert "|   6 |" in out, out
    t.send(":quit\n")
    expect(t.finish(), 0)
    # --timeout: the server stops the statement.
    rc, out, err = run(["--timeout", "200", "-c", "MATCH (a), (b), (c), (d) RETURN count(*) AS c"], home, **run_env(home))
    expect((rc, err), (1, "TransientError: the query ran past its time limit and was stopped\n"))


@test
def history_between_runs(home):
    hist = os.path.join(home, ".cmdb_history")
    if os.path.exists(hist):
        os.remove(hist)
    t = Terminal(home, ["-q"], **run_env(home))
    t.prompt()
    t.send("RETURN 'first' AS h;\n")
    t.prompt()
    t.send("RETURN 'two'\n")
    t.read_until(r"   -> $")
    t.send("  AS h;\n")
    t.prompt()
    t.send(":quit\n")
    expect(t.finish(), 0)
    assert os.path.exists(hist)
    assert "first" in open(hist, encoding="utf-8", errors="replace").read()
    # The next run recalls the entries with the Up arrow, newest first (:quit, then the
    # two-line statement as one entry, then the first).
    t = Terminal(home, ["-q"], **run_env(home))
    t.prompt()
    t.send("\x1b[A\x1b[A\n")
    out = t.prompt()
    assert "RETURN 'two'\n  AS h;\n+-----+\n| h   |\n+-----+\n| two |\n" in out, out
    t.send("\x1b[A\x1b[A\x1b[A\x1b[A\n")
    out = t.prompt()
    assert "| first |" in out, out
    t.send(":quit\n")
    expect(t.finish(), 0)


@test
def sub_impact(home):
    rc, out, err = run(["impact", "dc-fra1", "--depth", "1", "--paths"], home, **run_env(home))
    expect((rc, err), (0, ""))
    expect(out, """\
+----+-------+-------------+----------+-------+-----------------------+
| id | class | name        | distance | state | path                  |
+----+-------+-------------+----------+-------+-----------------------+
| 11 | Rack  | fra1-rack01 |        1 | down  | dc-fra1 > fra1-rack01 |
| 16 | Rack  | fra1-rack02 |        1 | down  | dc-fra1 > fra1-rack02 |
| 21 | Rack  | fra1-rack03 |        1 | down  | dc-fra1 > fra1-rack03 |
+----+-------+-------------+----------+-------+-----------------------+
(3 CIs impacted by dc-fra1 (1); stopped at depth 1; --depth goes further; tx %d)
""" % SERVER.request("GET", "/healthz")[1]["tx"])
    # The same as the API's answer, CI for CI (CSV, ids and names resolved alike).
    rc, out, err = run(["-F", "csv", "impact", "1", "payment-gateway", "--depth", "4"], home, **run_env(home))
    expect((rc, err), (0, ""))
    pg = SERVER.query("MATCH (n {name: 'payment-gateway'}) RETURN id(n)")[0][0]
    status, api = SERVER.request("POST", "/v1/impact", {"cis": [1, pg], "max_depth": 4})
    expected = "id,class,name,distance,state\r\n" + "".join(
        "%d,%s,%s,%d,%s\r\n" % (c["id"], c["class"], c["name"], c["distance"], c["state"]) for c in api["impacted"])
    expect(out, expected)
    rc, out, err = run(["-F", "json", "impact", "1", "--direction", "depends_on", "--depth", "2"], home, **run_env(home))
    status, api = SERVER.request("POST", "/v1/impact", {"cis": [1], "max_depth": 2, "direction": "depends_on"})
    expect((rc, json.loads(out)), (0, api))
    rc, out, err = run(["impact", "no-such-ci"], home, **run_env(home))
    expect((rc, out, err), (1, "", "no CI is named 'no-such-ci'\n"))
    rc, out, err = run(["impact", "1", "--direction", "sideways"], home, **run_env(home))
    expect(rc, 2)


@test
def sub_import(home):
    data = os.path.join(ARGS.source, "tests", "data", "libnmap-2_hosts_version-localhost-scanme.xml")
    before = SERVER.request("GET", "/healthz")[1]
    rc, out, err = run(["import", "nmap", data, "--dry-run", "--source", "nmap-shell"], home, **run_env(home))
    expect((rc, err), (0, ""))
    assert out.endswith("nmap import from source 'nmap-shell', dry run: nothing was applied\n"
                        "CIs: 5 created, 0 merged, 0 resurrected, 0 stale, 0 unchanged, 0 updated\n"
                        "relationships: 4 created, 0 stale, 0 unchanged, 0 updated\n"
                        "skipped:\n  {location: \"<host> #1 (line 14)\", reason: \"the host is the scanning machine's loopback address 127.0.0.1 (not a host of the network)\"}\n"), out
    assert "| create |" in out and "scanme.nmap.org" in out, out
    expect(SERVER.request("GET", "/healthz")[1], before)  # a dry run changes nothing
    rc, out, err = run(["import", "nmap", data, "--source", "nmap-shell"], home, **run_env(home))
    expect((rc, err), (0, ""))
    tx = SERVER.request("GET", "/healthz")[1]["tx"]
    expect(out, ("nmap import from source 'nmap-shell', applied in tx %d\n"
                 "CIs: 5 created, 0 merged, 0 resurrected, 0 stale, 0 unchanged, 0 updated\n"
                 "relationships: 4 created, 0 stale, 0 unchanged, 0 updated\n" % tx) +
                "skipped:\n  {location: \"<host> #1 (line 14)\", reason: \"the host is the scanning machine's loopback address 127.0.0.1 (not a host of the network)\"}\n")
    bad = os.path.join(home, "bad.xml")
    with open(bad, "w") as f:
        f.write("garbage\n")
    # Refused records are listed with their location; standard input as the file.
    rc, out, err = run(["import", "ndjson", "-", "--dry-run"], home,
                       stdin='{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "x1", "cpu_count": "four"}}\n'
                             '{"op": "cis"}\n', **run_env(home))
    expect((rc, out), (1, ""))
    # An ndjson import is refused as POST /v1/bulk refuses the same bytes: every line with its code.
    expect(err, "SchemaViolation: 2 of 2 lines are invalid; nothing was applied\n"
                "  line 1: SchemaViolation: VirtualMachine.cpu_count: expected INT, got STRING 'four'\n"
                "  line 2: BadRequest: unknown op \"cis\" (\"ci\" or \"rel\")\n")
    rc, out, err = run(["import", "nmap", bad], home, **run_env(home))
    expect((rc, out, err), (1, "", "BadRequest: malformed XML at line 2, column 1: No document element found\n"))
    # Dangling references are listed as the answer lists them; --cluster reaches the server.
    aws = os.path.join(ARGS.source, "tests", "data", "aws", "ec2-describe-instances.json")
    rc, out, err = run(["import", "aws", aws, "--dry-run"], home, **run_env(home))
    expect((rc, err), (0, ""))
    assert out.endswith("dangling:\n" + "".join(
        "  {location: \"$.Reservations[0].Instances[%d]\", reason: \"relationship CONTAINS not created: Subnet "
        "cloud_id=subnet-0000000%d is neither in the source nor in the CMDB\"}\n" % (i, n)
        for i, n in ((0, 1), (1, 3), (2, 4)))), out
    k3s = os.path.join(ARGS.source, "tests", "data", "k3s", "services-default.json")
    rc, out, err = run(["import", "kubernetes", k3s, "--source", "k3s-shell", "--cluster", "lab a&b"], home, **run_env(home))
    expect((rc, err), (0, ""))
    expect(SERVER.query("MATCH (n:K8sService) WHERE n.cluster = 'lab a&b' RETURN count(n)"), [[4]])


@test
def sub_baseline_diff(home):
    status, body = SERVER.request("POST", "/v1/baselines", {"name": "shell-a", "scope": {"query": "MATCH (s:Switch) RETURN s"}})
    assert status == 201, (status, body)
    SERVER.query("MATCH (s:Switch {name: 'fra1-core-sw2'}) SET s.owner = 'shell-team' RETURN s")
    rc, out, err = run(["baseline", "diff", "shell-a"], home, **run_env(home))
    expect((rc, err), (0, ""))
    status, api = SERVER.request("GET", "/v1/baselines/shell-a/diff")
    before = [a["before"] for a in api["entries"][0]["attributes"]][0]
    lines = out.splitlines()
    expect(lines[3], "| ci   | changed |  5 | Switch | fra1-core-sw2 | owner: %s -> \"shell-team\" |" % json.dumps(before))
    expect(lines[-1], "(baseline shell-a (tx %d) against current (tx %d); cis 0 added, 0 removed, 1 changed; "
                      "relationships 0 added, 0 removed, 0 changed)" % (api["from_tx"], api["to_tx"]))
    status, body = SERVER.request("POST", "/v1/baselines", {"name": "shell-b", "scope": {"query": "MATCH (s:Switch) RETURN s"}})
    rc, out, err = run(["-F", "json", "baseline", "diff", "shell-a", "shell-b"], home, **run_env(home))
    status, api = SERVER.request("GET", "/v1/baselines/shell-a/diff?against=shell-b")
    api.pop("offset")
    expect((rc, json.loads(out)), (0, api))
    # Against a time: the as_of form of the API.
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    time.sleep(1.1)
    rc, out, err = run(["-F", "json", "baseline", "diff", "shell-a", now], home, **run_env(home))
    status, api = SERVER.request("GET", "/v1/baselines/shell-a/diff?as_of=" + now)
    assert status == 200 and api["summary"]["cis"]["changed"] == 1, (status, api)
    api.pop("offset")
    expect((rc, json.loads(out)), (0, api))
    rc, out, err = run(["baseline", "diff", "no-such-baseline"], home, **run_env(home))
    expect(rc, 1)
    assert err.startswith("NotFound: "), err


@test
def sub_change_show(home):
    cluster = SERVER.query("MATCH (c:DatabaseCluster {name: 'pg-cluster-fra1'}) RETURN id(c)")[0][0]
    status, change = SERVER.request("POST", "/v1/changes", {"title": "Patch the cluster", "affected": [cluster],
                                                            "risk": "low"})
    assert status == 201, (status, change)
    SERVER.request("POST", "/v1/changes/%d/transition" % change["id"], {"to": "submitted"})
    status, change = SERVER.request("POST", "/v1/changes/%d/transition" % change["id"], {"to": "assessed"})
    rc, out, err = run(["change", "show", change["ref"]], home, **run_env(home))
    expect((rc, err), (0, ""))
    a = change["assessments"][-1]
    lines = out.splitlines()
    expect(lines[0], "%s  Patch the cluster" % change["ref"])
    expect(lines[1], "state:      assessed (next: %s)" % ", ".join(change["allowed_transitions"]))
    assert "affected:   %d pg-cluster-fra1 (DatabaseCluster)" % cluster in lines, lines
    assert ("assessment 1 of 1 (tx %d, %s): %d impacted, 0 degraded; risk %s %s"
            % (a["tx"], a["time"], a["impacted_count"], a["risk"]["score"], a["risk"]["level"])) in lines, lines
    assert "journal:" in lines and any("| created " in l for l in lines), lines
    rc, out, err = run(["-F", "json", "change", "show", str(change["id"])], home, **run_env(home))
    expect((rc, json.loads(out)["ref"]), (0, change["ref"]))
    rc, out, err = run(["change", "show", "CHG-9999"], home, **run_env(home))
    expect(rc, 1)
    rc, out, err = run(["change", "show", "abc"], home, **run_env(home))
    expect((rc, err), (2, "change show: 'abc' is not a change id (42 or CHG-42)\n"))


def main():
    global ARGS, SERVER
    p = argparse.ArgumentParser()
    p.add_argument("--cmdb", required=True)
    p.add_argument("--cmdbd", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--only", nargs="*")
    p.add_argument("--show", action="store_true", help="print what each manual example printed")
    ARGS = p.parse_args()
    ARGS.cmdb, ARGS.cmdbd, ARGS.source = (os.path.abspath(x) for x in (ARGS.cmdb, ARGS.cmdbd, ARGS.source))
    SERVER = Server()
    passed = failed = 0
    try:
        for fn in TESTS:
            if ARGS.only and fn.__name__ not in ARGS.only:
                continue
            home = tempfile.mkdtemp(prefix="cmdb-shell-home-")
            started = time.time()
            try:
                fn(home)
                passed += 1
                print("ok   %s (%.1f s)" % (fn.__name__, time.time() - started))
            except Exception:
                failed += 1
                print("FAIL %s" % fn.__name__)
                traceback.print_exc()
            finally:
                shutil.rmtree(home, ignore_errors=True)
    finally:
        SERVER.stop()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
