#!/usr/bin/env python3
"""Layering check: what the compiler says each translation unit includes, against the rules.

1. No translation unit of api/, process/, analysis/, importers/, store/ or cmdb/ includes a
   Spirit header (boost/spirit/...), directly or through other headers: Spirit stays in the
   parser targets of query/.
2. query/runtime/ and query/binder/ do not include each other both ways (the binder may use the
   runtime's values and functions; the runtime knows nothing of bound queries).
3. The query engine's public header (query/engine.hpp) pulls no header of query/parser/,
   query/binder/, query/planner/ or query/executor/, and no Spirit header.
4. libpq's header (libpq-fe.h) is included only by the PostgreSQL store's units (store/pg_*.cpp,
   the migration from SQLite, pg_migrate.cpp, among them):
   no other unit of those layers compiles it, not even api/main.cpp, which names PgStore.

Where the dependency lists come from: the compiler. For a translation unit, the depfile the build
left next to its object (when it is newer than the source and every header it names), otherwise
the unit's command from compile_commands.json rerun with -M. A header is checked by preprocessing
it alone (-M) with the flags of a query/ unit.

Usage: layering_test.py --build DIR --source DIR
Prints every violation with the chain of files that leads to it and exits 1 when there is one.
Standard library only.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

GUARDED_DIRS = ("api", "process", "analysis", "importers", "store", "cmdb")
ENGINE_HEADER = "query/engine.hpp"
ENGINE_HEADER_MUST_NOT_PULL = ("query/parser/", "query/binder/", "query/planner/",
                               "query/executor/")
SPIRIT = "boost/spirit/"
LIBPQ = "libpq-fe.h"


def parse_depfile(text, directory):
    """The prerequisites of a Make-style depfile, as absolute normalized paths."""
    text = text.replace("\\\n", " ")
    _, _, deps = text.partition(": ")
    paths, current, i = [], "", 0
    while i < len(deps):
        c = deps[i]
        if c == "\\" and i + 1 < len(deps) and deps[i + 1] == " ":
            current += " "
            i += 2
            continue
        if c.isspace():
            if current:
                paths.append(current)
            current = ""
        else:
            current += c
        i += 1
    if current:
        paths.append(current)
    return [os.path.normpath(os.path.join(directory, p)) for p in paths]


def preprocess_args(command):
    """A compile command turned into one that prints the dependencies (-M) and compiles nothing."""
    args, out, skip = shlex.split(command), [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD"):
            continue
        out.append(a)
    return out, args


def run_m(args, directory):
    r = subprocess.run(args + ["-M"], cwd=directory, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("the compiler failed on: " + " ".join(args) + "\n" + r.stderr)
    return parse_depfile(r.stdout, directory)


def unit_deps(entry):
    """The files a translation unit includes (itself first), from its depfile when fresh."""
    directory = entry["directory"]
    args, full = preprocess_args(entry["command"])
    obj = None
    if "-o" in full:
        obj = os.path.join(directory, full[full.index("-o") + 1])
    depfile = obj + ".d" if obj else None
    if depfile and os.path.exists(depfile):
        deps = parse_depfile(open(depfile).read(), directory)
        stamp = os.path.getmtime(depfile)
        if deps and all(os.path.exists(d) and os.path.getmtime(d) <= stamp for d in deps):
            return deps, "depfile"
    source = entry["file"]
    return run_m([a for a in args if a != source] + [source], directory), "-M"


def header_deps(header, template_entry):
    """The files a header includes when preprocessed alone with a query/ unit's flags."""
    args, _ = preprocess_args(template_entry["command"])
    args = [a for a in args if a != template_entry["file"]]
    return run_m(args + ["-x", "c++", header], template_entry["directory"])


def include_chain(root, target, source):
    """The #include chain from `root` to `target` (breadth first over the #include lines, looked
    up in `source`, /usr/include and the including file's folder): for the message only."""
    seen, todo = {root: None}, [root]
    while todo:
        f = todo.pop(0)
        if f == target:
            chain = [f]
            while seen[chain[-1]] is not None:
                chain.append(seen[chain[-1]])
            return list(reversed(chain))
        try:
            lines = open(f, errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            s = line.strip()
            if not s.startswith("#include"):
                continue
            name = s[len("#include"):].strip()
            if len(name) < 2:
                continue
            name = name[1:].split(name[0] if name[0] == '"' else ">")[0]
            for base in (source, "/usr/include", os.path.dirname(f)):
                p = os.path.normpath(os.path.join(base, name))
                if os.path.exists(p):
                    if p not in seen:
                        seen[p] = f
                        todo.append(p)
                    break
    return [root, "...", target]


def rel(path, source):
    return os.path.relpath(path, source) if path.startswith(source + os.sep) else path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the build directory (compile_commands.json)")
    ap.add_argument("--source", required=True, help="the source directory")
    a = ap.parse_args()
    source = os.path.realpath(a.source)
    db_path = os.path.join(a.build, "compile_commands.json")
    if not os.path.exists(db_path):
        print("no " + db_path + ": configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON")
        return 1
    entries = json.load(open(db_path))
    problems, counts = [], {"depfile": 0, "-M": 0}

    # 1. Spirit stays out of the guarded layers.
    guarded = 0
    for e in entries:
        r = rel(os.path.realpath(e["file"]), source)
        if r.split(os.sep)[0] not in GUARDED_DIRS:
            continue
        guarded += 1
        deps, how = unit_deps(e)
        counts[how] += 1
        spirit = [d for d in deps if SPIRIT in d]
        if spirit:
            chain = include_chain(os.path.realpath(e["file"]), spirit[0], source)
            problems.append(r + " includes Spirit (" + str(len(spirit)) + " headers): " +
                            " -> ".join(rel(c, source) for c in chain))
        # 4. libpq only in the PostgreSQL store's units.
        libpq = [d for d in deps if d.endswith(os.sep + LIBPQ)]
        if libpq and not r.startswith(os.path.join("store", "pg_")):
            chain = include_chain(os.path.realpath(e["file"]), libpq[0], source)
            problems.append(r + " includes libpq: " + " -> ".join(rel(c, source) for c in chain))
    if guarded == 0:
        problems.append("no translation unit of " + ", ".join(GUARDED_DIRS) +
                        " in compile_commands.json")

    # 2. query/runtime and query/binder: one way at most. Every unit and header of both folders
    # is asked what it includes.
    template = next((e for e in entries
                     if rel(os.path.realpath(e["file"]), source).startswith("query" + os.sep)),
                    None)
    if template is None:
        problems.append("no translation unit of query/ in compile_commands.json")
    else:
        reaches = {}
        for here, there in (("runtime", "binder"), ("binder", "runtime")):
            folder = os.path.join(source, "query", here)
            files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
            for f in files:
                if f.endswith(".hpp"):
                    deps = header_deps(f, template)
                    counts["-M"] += 1
                else:
                    unit = next((e for e in entries if os.path.realpath(e["file"]) == f), None)
                    if unit is None:
                        continue
                    deps, how = unit_deps(unit)
                    counts[how] += 1
                prefix = os.path.join(source, "query", there) + os.sep
                hit = next((d for d in deps if d.startswith(prefix)), None)
                if hit and here not in reaches:
                    reaches[here] = (f, hit)
        if len(reaches) == 2:
            for here, (f, hit) in sorted(reaches.items()):
                chain = include_chain(f, hit, source)
                problems.append("query/runtime and query/binder include each other: " +
                                " -> ".join(rel(c, source) for c in chain))

        # 3. The engine's public header stays small.
        deps = header_deps(os.path.join(source, ENGINE_HEADER), template)
        counts["-M"] += 1
        for d in deps:
            r = rel(d, source)
            if r.startswith(ENGINE_HEADER_MUST_NOT_PULL) or SPIRIT in d:
                chain = include_chain(os.path.join(source, ENGINE_HEADER), d, source)
                problems.append(ENGINE_HEADER + " pulls " + r + ": " +
                                " -> ".join(rel(c, source) for c in chain))
                break

    for p in problems:
        print("LAYERING: " + p)
    print("%d translation units of %s checked; dependency lists: %d from depfiles, %d by -M; "
          "%d problems" % (guarded, "/".join(GUARDED_DIRS), counts["depfile"], counts["-M"],
                           len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
