#!/usr/bin/env python3
"""The floor of an update: about the fewest bytes any tool could send.

    floor.py --shared DIR OLD NEW [--jobs 2] [--threshold 0.05] > floor.json

OLD and NEW are two trees (a release and the next). The floor is the sum
of what a client holding OLD must still be told to make NEW, each part
sized with the best general-purpose compressor at hand (zstd 19):
  replaced  files modified in NEW that zstd -19 against their OLD version
            shrinks by less than --threshold (5%): new incompressible
            bytes (a re-encoded video, a replaced image); their raw size,
            as a tool would best send them whole;
  patched   every other modified file: zstd -19 --long=27
            --patch-from=OLD/f NEW/f, the old version as the dictionary;
  added     files only in NEW, all together: tar (sorted, numeric
            owners) | zstd -19 --long=27, so they share one window;
  metadata  (reported apart) NEW's listing "sha256  size  path", one line
            a file, as zstd -19 --patch-from its OLD listing: the names,
            sizes and digests a client needs to place and check the
            changed files and to drop the deleted ones.
floor = replaced + patched + added + metadata; data = the first three.
Beside it, for information, a joint floor: the patched and the added files
as one stream, tar of their NEW versions | zstd -19 --long=27
--patch-from=(tar of the patched files' OLD versions), so files that
share words share one window (many rewritten pages compress better
together than one by one, as rsync -z's single stream shows), plus
replaced and metadata as above.
Prints one JSON object (the parts, the totals, and each modified file's
raw and patch sizes); a summary goes to stderr.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor


def zstd_size(cmd):
    # zstd writes the frame to stdout; only its length matters, and the
    # optimal parser's advice on stderr is noise here.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)
    n = 0
    while True:
        b = p.stdout.read(1 << 20)
        if not b:
            break
        n += len(b)
    err = p.stderr.read()
    if p.wait() != 0:
        sys.exit(f"floor.py: {' '.join(cmd)} failed: {err.decode(errors='replace').strip()}")
    return n


def patch_size(old, new):
    return zstd_size(["zstd", "-19", "--long=27", "--single-thread", "-q", "-c",
        "--patch-from=" + old, new])


def tar_cmd(root, lst):
    return ["tar", "-C", root, "--sort=name", "--numeric-owner", "--owner=0",
        "--group=0", "--null", "--no-recursion", "-T", lst, "-cf", "-"]


def list_file(td, name, rels):
    p = os.path.join(td, name)
    with open(p, "wb") as f:
        f.write(b"".join(r.encode() + b"\0" for r in sorted(rels)))
    return p


def tar_file(td, name, root, rels):
    out = os.path.join(td, name + ".tar")
    with open(out, "wb") as f:
        if subprocess.run(tar_cmd(root, list_file(td, name, rels)),
                stdout=f).returncode != 0:
            sys.exit(f"floor.py: tar of {len(rels)} files of {root} failed")
    return out


def tar_zstd_size(root, rels, dict_root=None, dict_rels=()):
    """tar of ROOT's RELS | zstd -19 --long=27, --patch-from a tar of
    DICT_ROOT's DICT_RELS when there are any (zstd needs both as files
    then: it sizes its window from them)."""
    if not rels:
        return 0
    with tempfile.TemporaryDirectory() as td:
        z = ["zstd", "-19", "--long=27", "--single-thread", "-q", "-c"]
        if dict_rels:
            z.append("--patch-from=" + tar_file(td, "old", dict_root, dict_rels))
        return zstd_size(z + [tar_file(td, "new", root, rels)])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True, help="the shared harness (treehash.py)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--threshold", type=float, default=0.05)
    ap.add_argument("old")
    ap.add_argument("new")
    a = ap.parse_args()
    sys.path.insert(0, a.shared)
    import treehash

    l1, bad1 = treehash.walk(a.old, set())
    l2, bad2 = treehash.walk(a.new, set())
    if bad1 or bad2:
        sys.exit(f"floor.py: non-regular files: {(bad1 + bad2)[:3]}")
    added = sorted(set(l2) - set(l1))
    deleted = sorted(set(l1) - set(l2))
    modified = sorted(k for k in set(l1) & set(l2) if l1[k] != l2[k])

    # The biggest first, so two workers end together.
    order = sorted(modified, key=lambda k: -l2[k][1])
    with ThreadPoolExecutor(max(1, a.jobs)) as ex:
        futs = {k: ex.submit(patch_size, os.path.join(a.old, k),
            os.path.join(a.new, k)) for k in order}
        add = ex.submit(tar_zstd_size, a.new, added)
        patches = {k: f.result() for k, f in futs.items()}
        add_bytes = add.result()

    with tempfile.TemporaryDirectory() as td:
        ol, nl = os.path.join(td, "old"), os.path.join(td, "new")
        with open(ol, "w") as f:
            f.write(treehash.fmt(l1))
        with open(nl, "w") as f:
            f.write(treehash.fmt(l2))
        meta = patch_size(ol, nl)
        meta_raw = os.path.getsize(nl)

    per = []
    rep = {"files": 0, "raw_bytes": 0, "bytes": 0}
    pat = {"files": 0, "raw_bytes": 0, "bytes": 0}
    for k in modified:
        raw, p = l2[k][1], patches[k]
        whole = p >= (1 - a.threshold) * raw
        part = rep if whole else pat
        part["files"] += 1
        part["raw_bytes"] += raw
        part["bytes"] += raw if whole else p
        per.append({"path": k, "raw": raw, "patch": p,
            "kind": "replaced" if whole else "patched"})
    add = {"files": len(added), "raw_bytes": sum(l2[k][1] for k in added),
        "bytes": add_bytes}
    pfiles = [x["path"] for x in per if x["kind"] == "patched"]
    joint = tar_zstd_size(a.new, pfiles + added, a.old, pfiles)
    data = rep["bytes"] + pat["bytes"] + add["bytes"]
    ver = subprocess.run(["zstd", "--version"], stdout=subprocess.PIPE,
        text=True).stdout.strip()
    m = re.search(r"v[0-9.]+", ver)
    ver = m.group(0) if m else ver
    out = {"old": os.path.abspath(a.old), "new": os.path.abspath(a.new),
        "zstd": ver, "threshold": a.threshold,
        "replaced": rep, "patched": pat, "added": add,
        "deleted": {"files": len(deleted)},
        "metadata": {"files": len(l2), "raw_bytes": meta_raw, "bytes": meta},
        "data_bytes": data, "floor_bytes": data + meta,
        "joint": {"files": len(pfiles) + len(added), "bytes": joint,
            "floor_bytes": rep["bytes"] + joint + meta},
        "per_file": per}
    json.dump(out, sys.stdout, indent=1)
    print()
    print(f"floor {a.old} -> {a.new}: {rep['files']} replaced {rep['bytes']} B, "
        f"{pat['files']} patched {pat['bytes']} B, {add['files']} added {add['bytes']} B, "
        f"metadata {meta} B; total {data + meta} B (joint {rep['bytes'] + joint + meta} B)",
        file=sys.stderr)


if __name__ == "__main__":
    main()
