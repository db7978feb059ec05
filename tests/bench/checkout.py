#!/usr/bin/env python3
"""Lay out a store's current release of a bundle as a plain tree, by hard
links into the store's objects (the Satchel counterpart of
`ostree checkout -U`), so that the benchmark harness can check the tree
against its reference listing.

    checkout.py STORE NAME DIR

Why not `satchel archive | tar -x`: that re-reads, re-hashes and
re-compresses every byte to rebuild the archive, work a mirror never does
(it serves from objects/); the harness's other peers end with a checkout
of the same kind (git's worktree, ostree's hard links, casync's extract).
Objects are the files' exact bytes named by SHA-256 (SPEC §10), so a link
is the file; the harness then hashes every file it finds.
"""
import os
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: checkout.py STORE NAME DIR")
    store, name, out = sys.argv[1:]
    serial = None
    # The catalog says which release is current (SPEC §9).
    with open(os.path.join(store, "meta", "catalog"), encoding="utf-8") as f:
        for line in f:
            w = line.split()
            if len(w) == 5 and w[0] == "bundle" and w[1] == name:
                serial = w[2]
    if serial is None:
        sys.exit(f"checkout.py: {store}: the catalog names no bundle {name}")
    signed = os.path.join(store, "meta", "releases", name, serial + ".signed")
    n = 0
    with open(signed, encoding="utf-8") as f:
        for line in f:
            if line == "end\n":
                break
            if not line.startswith("file "):
                continue
            _, mode, size, sha, path = line.rstrip("\n").split(" ", 4)
            obj = os.path.join(store, "objects", sha[:2], sha[2:])
            if os.path.getsize(obj) != int(size):
                sys.exit(f"checkout.py: {obj}: size {os.path.getsize(obj)}, "
                         f"manifest says {size}")
            dst = os.path.join(out, path)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            os.link(obj, dst)
            n += 1
    print(f"checkout.py: {name}@{serial}: {n} files into {out}")


if __name__ == "__main__":
    main()
