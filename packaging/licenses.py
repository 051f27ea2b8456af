#!/usr/bin/env python3
"""Writes the licence notices of every crate linked into karajod and karajoctl.

The crate set is cargo's own resolution (`cargo metadata --locked
--offline`), walked from the two binaries along normal dependencies for
this build's target: build and dev dependencies are not linked in, and
the workspace's own crates ship under LICENSE. For each crate the notice
names it, its version, its licence expression and its repository, then
holds the licence files the crate itself ships (LICENSE*, LICENCE*,
COPYING*, NOTICE*, UNLICENSE), read from the crate's source in cargo's
registry cache, so no network is needed.

Usage: licenses.py OUTPUT   (run from the workspace root)
A crate that ships no licence file is listed with its licence expression
and named on stderr, so a packager sees it.
"""

import json
import os
import re
import subprocess
import sys

ROOTS = ("karajod", "karajoctl")
NOTICE_FILE = re.compile(r"^(licen[cs]e|copying|notice|unlicense)([-._].*)?$", re.IGNORECASE)


def host_triple():
    out = subprocess.run(["rustc", "-vV"], check=True, capture_output=True, text=True).stdout
    return next(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("host: "))


def metadata():
    cmd = ["cargo", "metadata", "--format-version", "1", "--locked", "--offline",
           "--filter-platform", os.environ.get("CARGO_BUILD_TARGET") or host_triple()]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def linked_packages(meta):
    """Packages reachable from the binaries over normal dependencies."""
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    by_id = {p["id"]: p for p in meta["packages"]}
    members = set(meta["workspace_members"])
    todo = [i for i in members if by_id[i]["name"] in ROOTS]
    seen = set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    return sorted((by_id[i] for i in seen - members), key=lambda p: (p["name"], p["version"]))


def notice_files(pkg):
    root = os.path.dirname(pkg["manifest_path"])
    names = sorted(f for f in os.listdir(root) if NOTICE_FILE.match(f) and os.path.isfile(os.path.join(root, f)))
    return [(n, open(os.path.join(root, n), encoding="utf-8", errors="replace").read()) for n in names]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    packages = linked_packages(metadata())
    out = [
        "Licence notices of the Rust crates linked into karajod and karajoctl.",
        "karajo itself is GPL-3.0-or-later (see LICENSE / copyright).",
        f"{len(packages)} crates follow, each with the licence files it ships.",
        "",
    ]
    bare = []
    for p in packages:
        files = notice_files(p)
        out.append("=" * 78)
        out.append(f"{p['name']} {p['version']}")
        out.append(f"licence: {p.get('license') or p.get('license_file') or 'unstated'}")
        if p.get("repository"):
            out.append(f"source: {p['repository']}")
        out.append("=" * 78)
        if not files:
            bare.append(f"{p['name']} {p['version']} ({p.get('license')})")
            out.append("(this crate ships no licence file; its licence is named above)")
        for name, text in files:
            out.append(f"--- {name}")
            out.append(text.rstrip())
        out.append("")
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"licenses.py: {len(packages)} crates, {len(packages) - len(bare)} with their licence files")
    for b in bare:
        print(f"licenses.py: no licence file in {b}", file=sys.stderr)


if __name__ == "__main__":
    main()
