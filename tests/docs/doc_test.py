#!/usr/bin/env python3
"""Documentation that runs: every shell and query example in README.md and docs/*.md is run
against a real cmdbd with the demo data, and its output is compared with what the document shows.

Usage: doc_test.py --cmdbd PATH --source DIR [--only FILE ...] [--show]

How a document is written (see CONTRIBUTING.md):

- A ```sh block is run with bash, as a reader would paste it after the README's Quick start:
  `cmdb` is the README's alias (curl with the admin token in $CMDB_TOKEN) and the server answers
  at localhost:8080 (the test reroutes that address to its own server; `build/api/cmdbd import`
  likewise). The blocks of one document run in one shell, in order, so variables set by one
  block (ids found by name: `PG=$(cmdb '...' | jq .items[0].id)`) are seen by the next ones.
  The working directory looks like the repository root: `data/admin-token`, `data/cmdb.sqlite`,
  `schema/` and `tests/data/` are there.
- A ```cypher or ```sql block is a query (or DDL) sent to POST /v1/query with the admin token.
- What the example prints is the block right after it (only blank lines and doc-test comments
  between): ```json (one or more JSON values, compared as JSON), ```text (compared as text) or,
  after a query, a Markdown table of its columns and rows (or ```json for the whole answer, or
  ```text for the error message). A runnable block without one must print nothing (a query:
  return no row).
- Elisions must be visible: in JSON, `...` as the last element of a list (more elements follow)
  or as the last member of an object (more fields follow); in text, a line `...` stands for any
  lines and `...` inside a line for any text; in a table, a last row whose first cell is `...`
  (or `... (N more)`, checked) stands for more rows.
- Directives are HTML comments a reader does not see, on their own line before the block:
    <!-- doc-test: skip REASON -->            do not run the next block (REASON is printed)
    <!-- doc-test: volatile F1 F2 -->         in the next block's JSON, fields named F1, F2 (at any
                                              depth) must be present but their values are not compared
    <!-- doc-test: volatile-in-file F1 F2 --> the same for every later block of the document
    <!-- doc-test: run COMMAND -->            run COMMAND in the document's shell first (unseen
                                              setup; its output is ignored, it must succeed)
    <!-- doc-test: quote FILE -->             the next block is a quotation: each of its lines must
                                              appear in FILE (relative to the repository root)
    <!-- doc-test: parameters {JSON} -->      the next query's "parameters"
  A ```sh, ```cypher or ```sql block is always either run, quoted or skipped with a reason, and
  a plain ``` block that starts like a query is refused, so no example goes unchecked.

Prints each failure with file:line, the command, and expected vs got as a diff; ends with
'docs: N passed, N failed, N skipped'. Standard library only.
"""
import argparse
import difflib
import glob
import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ARGS = None
RUNNABLE_SH = ("sh", "bash", "shell")
RUNNABLE_QUERY = ("cypher", "sql", "gql")
OUTPUT_LANGS = ("json", "text")
QUERY_START = re.compile(r"^\s*(MATCH|OPTIONAL MATCH|AS OF|USE BASELINE|CALL|UNWIND|RETURN|EXPLAIN|PROFILE)\b", re.I)


# ---------------------------------------------------------------------------------------------
# Markdown


class Block:
    def __init__(self, kind, line, lang="", text="", rows=None):
        self.kind = kind      # "fence", "table", "directive", "prose"
        self.line = line      # 1-based line of the opening fence / first table row
        self.lang = lang
        self.text = text
        self.rows = rows


FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
DIRECTIVE = re.compile(r"^\s*<!--\s*doc-test:\s*(.*?)\s*-->\s*$")


def parse_markdown(text):
    """The document as a list of Blocks: fenced blocks, tables, doc-test directives and prose."""
    lines = text.split("\n")
    out = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        if m:
            indent, fence, lang = len(m.group(1)), m.group(2), m.group(3).lower()
            body = []
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
                j += 1
            out.append(Block("fence", i + 1, lang, "\n".join(body)))
            i = j + 1
            continue
        d = DIRECTIVE.match(line)
        if d:
            out.append(Block("directive", i + 1, text=d.group(1)))
        elif line.lstrip().startswith("|"):
            rows = []
            start = i
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                rows.append(lines[i].strip())
                i += 1
            out.append(Block("table", start + 1, rows=rows))
            continue
        elif line.strip():
            out.append(Block("prose", i + 1, text=line))
        i += 1
    return out


def split_row(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    cells, cur, k = [], "", 0
    while k < len(row):
        if row[k] == "\\" and k + 1 < len(row) and row[k + 1] == "|":
            cur += "|"
            k += 2
            continue
        if row[k] == "|":
            cells.append(cur.strip())
            cur = ""
        else:
            cur += row[k]
        k += 1
    cells.append(cur.strip())
    return cells


# ---------------------------------------------------------------------------------------------
# Expected JSON: JSON plus `...` as a list tail or an object tail.


class Open(dict):
    """An object whose `...` says more fields may follow."""


class Tail(list):
    """A list whose `...` says more elements may follow."""


class ExpectedJson:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def error(self, what):
        line = self.s.count("\n", 0, self.i) + 1
        raise ValueError("expected JSON, line %d: %s (at %r)" % (line, what, self.s[self.i:self.i + 30]))

    def ws(self):
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def ellipsis(self):
        self.ws()
        if self.s.startswith("...", self.i):
            self.i += 3
            return True
        return False

    def values(self):
        out = []
        self.ws()
        while self.i < len(self.s):
            out.append(self.value())
            self.ws()
        return out

    def value(self):
        self.ws()
        if self.i >= len(self.s):
            self.error("unexpected end")
        c = self.s[self.i]
        if c == "{":
            self.i += 1
            obj = {}
            is_open = False
            self.ws()
            if self.s[self.i] == "}":
                self.i += 1
                return obj
            while True:
                if self.ellipsis():
                    is_open = True
                    self.ws()
                    if self.s[self.i] != "}":
                        self.error("'...' must be the last member of an object")
                    self.i += 1
                    break
                self.ws()
                key = self.value()
                if not isinstance(key, str):
                    self.error("object key must be a string")
                self.ws()
                if self.s[self.i] != ":":
                    self.error("expected ':'")
                self.i += 1
                if key in obj:
                    self.error("duplicate key %r" % key)
                obj[key] = self.value()
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                if self.s[self.i] == "}":
                    self.i += 1
                    break
                self.error("expected ',' or '}'")
            return Open(obj) if is_open else obj
        if c == "[":
            self.i += 1
            arr = []
            tail = False
            self.ws()
            if self.s[self.i] == "]":
                self.i += 1
                return arr
            while True:
                if self.ellipsis():
                    tail = True
                    self.ws()
                    if self.s[self.i] != "]":
                        self.error("'...' must be the last element of a list")
                    self.i += 1
                    break
                arr.append(self.value())
                self.ws()
                if self.s[self.i] == ",":
                    self.i += 1
                    continue
                if self.s[self.i] == "]":
                    self.i += 1
                    break
                self.error("expected ',' or ']'")
            return Tail(arr) if tail else arr
        try:
            v, end = json.JSONDecoder().raw_decode(self.s, self.i)
        except ValueError:
            self.error("not a JSON value")
        self.i = end
        return v


def parse_got_json(text):
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text):
            return out
        v, i = dec.raw_decode(text, i)
        out.append(v)


def same_scalar(a, b):
    """Equal and of the same JSON type (1 is not 1.0, true is not 1)."""
    return type(a) is type(b) and a == b


def match_json(exp, got, volatile, path="$"):
    """None when `got` fits `exp`, else where and how it does not."""
    if isinstance(exp, dict):
        if not isinstance(got, dict):
            return "%s: expected an object, got %s" % (path, json.dumps(got)[:200])
        for k, v in exp.items():
            if k not in got:
                return "%s: field %r is missing" % (path, k)
            if k in volatile:
                continue
            r = match_json(v, got[k], volatile, "%s.%s" % (path, k))
            if r:
                return r
        if not isinstance(exp, Open):
            extra = [k for k in got if k not in exp]
            if extra:
                return "%s: fields not shown: %s (end the object with '...' if that is meant)" % (
                    path, ", ".join(extra))
        return None
    if isinstance(exp, list):
        if not isinstance(got, list):
            return "%s: expected a list, got %s" % (path, json.dumps(got)[:200])
        if isinstance(exp, Tail):
            if len(got) < len(exp):
                return "%s: expected at least %d elements, got %d" % (path, len(exp), len(got))
        elif len(got) != len(exp):
            return "%s: expected %d elements, got %d" % (path, len(exp), len(got))
        for n, v in enumerate(exp):
            r = match_json(v, got[n], volatile, "%s[%d]" % (path, n))
            if r:
                return r
        return None
    if not same_scalar(exp, got):
        return "%s: expected %s, got %s" % (path, json.dumps(exp), json.dumps(got)[:300])
    return None


def align(exp, got, volatile):
    """`got` shaped like `exp` for a readable diff: the document's key order, volatile values and
    elisions taken from the document, so the diff shows only what differs."""
    if isinstance(exp, dict) and isinstance(got, dict):
        out = Open() if isinstance(exp, Open) else {}
        for k, v in exp.items():
            if k in got:
                out[k] = v if k in volatile else align(v, got[k], volatile)
        if not isinstance(exp, Open):
            for k, v in got.items():
                if k not in exp:
                    out[k] = v
        return out
    if isinstance(exp, list) and isinstance(got, list):
        if isinstance(exp, Tail) and len(got) > len(exp):
            return Tail(align(e, g, volatile) for e, g in zip(exp, got))
        return [align(exp[n], g, volatile) if n < len(exp) else g for n, g in enumerate(got)]
    return got


def show_json(v, indent=0):
    """Pretty text of an expected (or got) value, `...` included, for diffs."""
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            return "{...}" if isinstance(v, Open) else "{}"
        items = [pad + "  " + json.dumps(k) + ": " + show_json(x, indent + 1).lstrip() for k, x in v.items()]
        if isinstance(v, Open):
            items.append(pad + "  ...")
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(v, list):
        if not v:
            return "[...]" if isinstance(v, Tail) else "[]"
        if all(not isinstance(x, (dict, list)) for x in v) and len(json.dumps(v)) < 80:
            return json.dumps(v, ensure_ascii=False)[:-1] + (", ...]" if isinstance(v, Tail) else "]")
        items = [pad + "  " + show_json(x, indent + 1).lstrip() for x in v]
        if isinstance(v, Tail):
            items.append(pad + "  ...")
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(v, ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Expected text and tables


def match_text(exp, got):
    """`...` alone on a line: any lines; inside a line: any text."""
    exp_lines = [l.rstrip() for l in exp.strip("\n").split("\n")]
    got_lines = [l.rstrip() for l in got.strip("\n").split("\n")] if got.strip() else []
    parts = []
    for l in exp_lines:
        if l.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(p) for p in l.split("...")) + r"\n")
    return re.fullmatch("".join(parts), "".join(l + "\n" for l in got_lines), re.S) is not None


def cell_text(v):
    if isinstance(v, str):
        return v
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def table_text(columns, rows):
    esc = lambda s: s.replace("|", "\\|")
    out = ["| " + " | ".join(esc(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        out.append("| " + " | ".join(esc(cell_text(v)) for v in r) + " |")
    return "\n".join(out)


def cell_matches(exp, v):
    if exp == cell_text(v):
        return True
    try:
        return not isinstance(v, str) and json.loads(exp) == v
    except ValueError:
        return False


def match_table(rows_md, columns, rows):
    if len(rows_md) < 2:
        return "a result table needs a header and a separator line"
    header = split_row(rows_md[0])
    if header != list(columns):
        return "columns: expected %s, got %s" % (header, list(columns))
    body = [split_row(r) for r in rows_md[2:]]
    more = None
    if body and body[-1][0].startswith("..."):
        m = re.search(r"\((\d+) more\)", body[-1][0])
        more = int(m.group(1)) if m else -1
        body = body[:-1]
    if more is None and len(rows) != len(body):
        return "expected %d rows, got %d" % (len(body), len(rows))
    if more is not None and more >= 0 and len(rows) != len(body) + more:
        return "expected %d + %d rows, got %d" % (len(body), more, len(rows))
    if len(rows) < len(body):
        return "expected at least %d rows, got %d" % (len(body), len(rows))
    for n, (e, g) in enumerate(zip(body, rows)):
        if len(e) != len(g) or not all(cell_matches(a, b) for a, b in zip(e, g)):
            return "row %d: expected %s, got %s" % (n + 1, e, [cell_text(x) for x in g])
    return None


# ---------------------------------------------------------------------------------------------
# The server and the shell


class Server:
    """A cmdbd started as scripts/run.sh starts it, in a temporary folder laid out like the
    repository root (data/, schema/, tests/, build/api/cmdbd)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cmdb-docs-")
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "build", "api"))
        for name in ("schema", "tests", "scripts"):
            os.symlink(os.path.join(ARGS.source, name), os.path.join(self.dir, name))
        port_file = os.path.join(self.dir, "port")
        self.log_path = os.path.join(self.dir, "cmdbd.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [ARGS.cmdbd, "--db", "./data/cmdb.sqlite", "--listen", "127.0.0.1:0", "--schema", "./schema",
             "--admin-token-file", "./data/admin-token", "--port-file", port_file, "--quiet", "--threads", "4"],
            cwd=self.dir, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("cmdbd did not start: " + open(self.log_path).read()[-2000:])
            time.sleep(0.02)
        self.port = int(open(port_file).read())
        self.token = open(os.path.join(self.dir, "data", "admin-token")).read().strip()
        # build/api/cmdbd: the real one, with the README's address rerouted to this server.
        wrapper = os.path.join(self.dir, "build", "api", "cmdbd")
        with open(wrapper, "w") as f:
            f.write("""#!/usr/bin/env bash
# doc_test.py: the real cmdbd; http://127.0.0.1:8080 and http://localhost:8080 mean this test's server.
args=()
for a in "$@"; do
  case "$a" in
    http://127.0.0.1:8080*|http://localhost:8080*) a="http://127.0.0.1:%d${a#http://*:8080}" ;;
  esac
  args+=("$a")
done
if [ "${1:-}" = import ]; then
  set -- "${args[@]:1}"
  exec %s import --url http://127.0.0.1:%d "$@"
fi
exec %s "${args[@]}"
""" % (self.port, ARGS.cmdbd, self.port, ARGS.cmdbd))
        os.chmod(wrapper, 0o755)

    def query(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request("POST", "/v1/query", body=json.dumps(body),
                     headers={"Authorization": "Bearer " + self.token})
        r = conn.getresponse()
        raw = r.read()
        conn.close()
        return r.status, json.loads(raw)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def readme_alias():
    """The README's `alias cmdb='...'`, as a shell function (aliases do not work in scripts)."""
    text = open(os.path.join(ARGS.source, "README.md")).read()
    m = re.search(r"^alias cmdb='([^']*)'", text, re.M)
    if not m:
        raise RuntimeError("README.md has no line alias cmdb='...' (the examples use it)")
    return "cmdb() { %s \"$@\"; }\n" % m.group(1)


class Shell:
    """One bash for a document: blocks run in it in order, sharing variables."""

    MARK = "__doc_test_done__"

    def __init__(self, server):
        self.server = server
        env = dict(os.environ)
        env.pop("CMDB_TOKEN", None)
        env["LC_ALL"] = "C.UTF-8"
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=server.dir, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        prelude = (
            "curl() { command curl --connect-to localhost:8080:127.0.0.1:%d "
            "--connect-to 127.0.0.1:8080:127.0.0.1:%d \"$@\"; }\n" % (server.port, server.port)
            + readme_alias() + "export CMDB_TOKEN=$(cat data/admin-token)\n")
        status, out = self.run(prelude)
        if status != 0:
            raise RuntimeError("shell prelude failed: " + out)

    def run(self, script):
        timeout = ARGS.timeout
        n = int(time.time() * 1e6)
        path = os.path.join(self.server.dir, "block-%d.sh" % n)
        out_path = os.path.join(self.server.dir, "block-%d.out" % n)
        with open(path, "w") as f:
            f.write(script + "\n")
        self.proc.stdin.write(("{ . %s; } >%s 2>&1 </dev/null; echo %s $?\n" % (path, out_path, self.MARK)).encode())
        self.proc.stdin.flush()
        deadline = time.time() + timeout
        buf = b""
        while self.MARK.encode() not in buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill()
                raise RuntimeError("the block did not finish within %d s (its shell was stopped; later "
                                   "blocks of this document run without its variables)" % timeout)
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise RuntimeError("the shell exited (does the block call exit?)")
            buf += chunk
        status = int(buf.split(self.MARK.encode())[1].split()[0])
        return status, open(out_path, encoding="utf-8", errors="replace").read()

    def kill(self):
        """Stops the shell and whatever it started (its own process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(10)
        except Exception:
            self.kill()


# ---------------------------------------------------------------------------------------------
# Running a document


class Result:
    def __init__(self):
        self.passed = self.failed = 0
        self.skipped = []   # (where, reason)


def diff(exp, got):
    return "\n".join(difflib.unified_diff(exp.strip("\n").split("\n"), got.strip("\n").split("\n"),
                                          "expected (the document)", "got", lineterm="", n=2))


def check_output(exp_block, got_text, volatile):
    """None or a failure text."""
    if exp_block is None:
        if got_text.strip():
            return "the document shows no output, but the example printed:\n" + got_text.rstrip()
        return None
    if exp_block.lang == "json":
        try:
            exp = ExpectedJson(exp_block.text).values()
        except ValueError as e:
            return "the document's JSON does not parse: %s" % e
        try:
            got = parse_got_json(got_text)
        except ValueError:
            return "the output is not JSON:\n" + diff(exp_block.text, got_text)
        if len(exp) != len(got):
            return "expected %d JSON values, got %d:\n%s" % (
                len(exp), len(got), diff(exp_block.text, "\n".join(show_json(g) for g in got)))
        for e, g in zip(exp, got):
            r = match_json(e, g, volatile)
            if r:
                return r + "\n" + diff(show_json(e), show_json(align(e, g, volatile)))
        return None
    if not match_text(exp_block.text, got_text):
        return "text differs:\n" + diff(exp_block.text, got_text)
    return None


def run_document(path, res, show):
    rel = os.path.relpath(path, ARGS.source)
    blocks = parse_markdown(open(path, encoding="utf-8").read())
    for b in blocks:
        if b.kind == "fence" and b.lang == "" and QUERY_START.match(b.text):
            res.failed += 1
            print("FAIL %s:%d: a query example in a plain ``` block; fence it as ```cypher so it runs" % (rel, b.line))
    server = None   # started for the first example that needs it
    shell = None
    file_volatile = set()
    try:
        pending = []   # directives for the next runnable block
        i = 0
        while i < len(blocks):
            b = blocks[i]
            i += 1
            if b.kind == "directive":
                word, _, rest = b.text.partition(" ")
                if word not in ("skip", "volatile", "volatile-in-file", "run", "quote", "parameters"):
                    res.failed += 1
                    print("FAIL %s:%d: unknown doc-test directive %r" % (rel, b.line, word))
                elif word == "volatile-in-file":
                    file_volatile.update(rest.replace(",", " ").split())
                else:
                    pending.append((word, rest.strip(), b.line))
                continue
            if b.kind != "fence":
                continue
            directives = pending
            pending = []
            where = "%s:%d" % (rel, b.line)
            if b.lang not in RUNNABLE_SH + RUNNABLE_QUERY:
                quote = [d for d in directives if d[0] == "quote"]
                if directives and not quote:
                    res.failed += 1
                    print("FAIL %s: directive %r (line %d) before a block that is not run (a ```%s block)" % (
                        where, directives[0][0], directives[0][2], b.lang))
                elif quote:
                    fail = check_quote(b, quote[0][1])
                    if fail:
                        res.failed += 1
                        print("FAIL %s: %s" % (where, fail))
                    else:
                        res.passed += 1
                continue
            # The expected output: the very next block (only blank lines between).
            exp = None
            if i < len(blocks):
                nb = blocks[i]
                if (nb.kind == "fence" and nb.lang in OUTPUT_LANGS) or (nb.kind == "table" and b.lang in RUNNABLE_QUERY):
                    exp = nb
                    i += 1
            skip = [d for d in directives if d[0] == "skip"]
            if skip:
                if not skip[0][1]:
                    res.failed += 1
                    print("FAIL %s: a skip needs a reason" % where)
                else:
                    res.skipped.append((where, skip[0][1]))
                continue
            quote = [d for d in directives if d[0] == "quote"]
            if quote:
                fail = check_quote(b, quote[0][1])
                if fail:
                    res.failed += 1
                    print("FAIL %s: %s" % (where, fail))
                else:
                    res.passed += 1
                continue
            volatile = set(file_volatile)
            for d in directives:
                if d[0] == "volatile":
                    volatile.update(d[1].replace(",", " ").split())
            fail = None
            try:
                if server is None:
                    server = Server()
                if shell is None or shell.proc.poll() is not None:
                    shell = Shell(server)
                for d in directives:
                    if d[0] == "run":
                        status, out = shell.run(d[1])
                        if status != 0:
                            raise RuntimeError("setup `%s` (line %d) failed with %d:\n%s" % (d[1], d[2], status, out))
                if b.lang in RUNNABLE_SH:
                    status, got = shell.run(b.text)
                    if show:
                        print("---- %s\n%s" % (where, got))
                    if status != 0:
                        fail = "the block exited with status %d; output:\n%s" % (status, got)
                    else:
                        fail = check_output(exp, got, volatile)
                else:
                    fail = run_query(server, b, exp, directives, volatile, show, where)
            except Exception as e:  # a broken server or shell fails this example, not the run
                fail = "%s: %s" % (type(e).__name__, e)
            if fail:
                res.failed += 1
                print("FAIL %s (%s block)\n%s\n%s\n" % (where, b.lang, indent_text(b.text, "  $ "), indent_text(fail, "  ")))
            else:
                res.passed += 1
        if pending:
            res.failed += 1
            print("FAIL %s:%d: directive before no runnable block" % (rel, pending[0][2]))
    finally:
        if shell:
            shell.stop()
        if server:
            if server.proc.poll() is not None:
                res.failed += 1
                print("FAIL %s: cmdbd died: %s" % (rel, open(server.log_path).read()[-2000:]))
            server.stop()


def indent_text(text, prefix):
    return "\n".join(prefix + l for l in text.rstrip().split("\n"))


def check_quote(b, file):
    path = os.path.join(ARGS.source, file)
    if not os.path.exists(path):
        return "quoted file %s does not exist" % file
    content = open(path, encoding="utf-8").read()
    if b.lang == "json":
        try:
            exp = ExpectedJson(b.text).values()
            got = parse_got_json(content)
        except ValueError as e:
            return "quote: %s" % e
        r = match_json(exp[0], got[0], set()) if len(exp) == 1 and len(got) == 1 else "one JSON value each"
        return ("the quotation differs from %s: %s" % (file, r)) if r else None
    lines = [l.strip() for l in content.split("\n")]
    for l in b.text.split("\n"):
        if l.strip() and l.strip() not in lines:
            return "line %r is not in %s" % (l.strip(), file)
    return None


def run_query(server, b, exp, directives, volatile, show, where):
    body = {"query": b.text}
    for d in directives:
        if d[0] == "parameters":
            body["parameters"] = json.loads(d[1])
    status, answer = server.query(body)
    if show:
        print("---- %s\n%s" % (where, json.dumps(answer)[:3000]))
    if exp is not None and exp.kind == "fence" and exp.lang == "json":
        return check_output(exp, json.dumps(answer), volatile)
    if "error" in answer:
        if exp is not None and exp.kind == "fence" and exp.lang == "text":
            if match_text(exp.text, answer["error"]["message"]):
                return None
            return "error message differs:\n" + diff(exp.text, answer["error"]["message"])
        return "the query failed (HTTP %d): %s" % (status, answer["error"]["message"])
    if exp is None:
        if answer.get("rows"):
            return "the document shows no result, but the query returned:\n" + table_text(answer["columns"], answer["rows"])
        return None
    if exp.kind == "fence":
        return "the query succeeded; the document shows an error:\n" + exp.text
    r = match_table(exp.rows, answer["columns"], answer["rows"])
    if r:
        return r + "\n" + diff("\n".join(exp.rows), table_text(answer["columns"], answer["rows"]))
    return None


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--cmdbd", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--only", nargs="*", help="documents to run (paths relative to --source)")
    p.add_argument("--show", action="store_true", help="print what every example printed")
    p.add_argument("--timeout", type=float, default=60, help="seconds one block may take")
    ARGS = p.parse_args()
    ARGS.cmdbd = os.path.abspath(ARGS.cmdbd)
    ARGS.source = os.path.abspath(ARGS.source)
    if not shutil.which("jq"):
        print("FAIL: the examples use jq; install it (scripts/setup.sh does)")
        print("docs: 0 passed, 1 failed")
        sys.exit(1)
    docs = [os.path.join(ARGS.source, "README.md")] + sorted(glob.glob(os.path.join(ARGS.source, "docs", "*.md")))
    if ARGS.only:
        docs = [d for d in docs if os.path.relpath(d, ARGS.source) in ARGS.only]
    res = Result()
    start = time.time()
    for d in docs:
        before = (res.passed, res.failed, len(res.skipped))
        run_document(d, res, ARGS.show)
        n = (res.passed - before[0], res.failed - before[1], len(res.skipped) - before[2])
        if any(n):
            print("%-30s %3d passed, %d failed, %d skipped" % (os.path.relpath(d, ARGS.source), *n), flush=True)
    for where, why in res.skipped:
        print("skipped %s: %s" % (where, why))
    print("%d examples run, %d skipped, in %.1f s" % (res.passed + res.failed, len(res.skipped), time.time() - start))
    print("docs: %d passed, %d failed, %d skipped" % (res.passed, res.failed, len(res.skipped)))
    sys.exit(1 if res.failed else 0)


if __name__ == "__main__":
    main()
