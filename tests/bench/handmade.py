#!/usr/bin/env python3
"""The hand-made second update of the benchmark corpus (issue 6).

    handmade.py --shared DIR --old V2DIR --out V3DIR [--seed 42]
                [--base-manifest CORPUS/manifest.json] [--manifest OUT.json]

Makes V3DIR from V2DIR (the v2 tree of ../shared/bench/gen_corpus.py) as a
publisher's next release would differ from it, deterministically from
--seed (the same bytes on any machine, like gen_corpus.py):
  three lessons rewritten: every HTML page in three of the lessons/unit-*/
      directories (a Satchel lesson each) replaced by new text of about
      the same length, drawn from the corpus's own word list;
  one video re-encoded: the largest videos/*.mp4 replaced by new random
      (incompressible) bytes within 1% of its size;
  one PDF corrected: 4 KiB in the middle of one docs/*.pdf (not the one
      v2 already edited) overwritten, the size unchanged.
Every other file is a hard link to V2DIR's (no space, same mtime), and
every new file is written to a temporary name and renamed, so V2DIR's
inodes are never written; changed files get mtime T3 = T2 + 1 day, so
mtime quick checks (rsync) see a real publish.

--manifest writes a manifest.json for ../shared/bench/run_all.sh, whose
v1/v2 are this update's old and new trees: seed and scale copied from
--base-manifest (run_all.sh reuses a corpus whose seed and scale match;
it would regenerate any other), T1/T2 the two trees' times, and the
paths modified. Written last, so its presence means a whole tree.
"""
import argparse
import json
import os
import shutil
import sys

KiB = 1024
DAY = 86_400


def load_gen(shared):
    # The shared generator's own functions (word list, paragraphs, page
    # layout, write-then-rename), so v3 pages look like v1's.
    sys.path.insert(0, shared)
    import gen_corpus
    return gen_corpus


def rewrite_lessons(g, seed, words, new, t3, changed):
    lessons = os.path.join(new, "lessons")
    units = sorted(d for d in os.listdir(lessons)
        if os.path.isdir(os.path.join(lessons, d)))
    pick = sorted(g.rng_for(seed, "v3-lessons").sample(units, min(3, len(units))))
    for u in pick:
        for fn in sorted(os.listdir(os.path.join(lessons, u))):
            if not fn.endswith(".html"):
                continue
            rel = os.path.join("lessons", u, fn)
            p = os.path.join(new, rel)
            r = g.rng_for(seed, "v3-html", rel)
            # new text of about the old page's length
            target = os.path.getsize(p)
            title = " ".join(r.choices(words, k=r.randint(2, 5))).title()
            paras = []
            size = 300
            while size < target:
                para = g.paragraph(r, words)
                paras.append(para)
                size += len(para) + 1
            idx = int(fn.split("-")[-1].split(".")[0]) \
                if fn.startswith("lesson-") else 0
            g.write_file(p, g.render_html(idx, title, paras), t3)
            changed.append(rel)
    return pick


def reencode_video(g, seed, new, t3, changed):
    d = os.path.join(new, "videos")
    vids = sorted((os.path.getsize(os.path.join(d, f)), f)
        for f in os.listdir(d) if f.endswith(".mp4"))
    if not vids:
        return None
    size, f = max(vids, key=lambda v: (v[0], v[1]))
    r = g.rng_for(seed, "v3-video", f)
    nsize = size + r.randint(-size // 100, size // 100)
    rel = os.path.join("videos", f)
    g.write_file(os.path.join(new, rel), r.randbytes(nsize), t3)
    changed.append(rel)
    return {"path": rel, "old_size": size, "new_size": nsize}


def correct_pdf(g, seed, new, edited, t3, changed):
    d = os.path.join(new, "docs")
    pdfs = sorted(f for f in os.listdir(d) if f.endswith(".pdf"))
    cand = [f for f in pdfs if os.path.join("docs", f) != edited] or pdfs
    if not cand:
        return None
    r = g.rng_for(seed, "v3-pdf")
    f = r.choice(cand)
    rel = os.path.join("docs", f)
    p = os.path.join(new, rel)
    with open(p, "rb") as fh:
        data = bytearray(fh.read())
    n = min(4 * KiB, len(data))
    off = len(data) // 2 - n // 2
    data[off:off + n] = r.randbytes(n)
    g.write_file(p, bytes(data), t3)
    changed.append(rel)
    return {"path": rel, "offset": off, "length": n}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", required=True,
        help="the shared harness (holds gen_corpus.py)")
    ap.add_argument("--old", required=True, help="the v2 tree")
    ap.add_argument("--out", required=True, help="the v3 tree to make")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--base-manifest")
    ap.add_argument("--manifest")
    a = ap.parse_args()

    g = load_gen(a.shared)
    base = {}
    if a.base_manifest:
        with open(a.base_manifest) as f:
            base = json.load(f)
    seed = a.seed if a.seed is not None else base.get("seed", 42)
    t2 = base.get("T2", g.T2)
    t3 = t2 + DAY
    edited = base.get("pdf_edit", {}).get("path")

    old, new = os.path.abspath(a.old), os.path.abspath(a.out)
    if a.manifest and os.path.exists(a.manifest):
        os.unlink(a.manifest)
    if os.path.exists(new):
        shutil.rmtree(new)
    shutil.copytree(old, new, copy_function=os.link)

    words = g.make_wordlist(seed)
    changed = []
    units = rewrite_lessons(g, seed, words, new, t3, changed)
    pages = len(changed)
    video = reencode_video(g, seed, new, t3, changed)
    pdf = correct_pdf(g, seed, new, edited, t3, changed)

    print(f"v3: lessons {', '.join(units)} rewritten ({pages} pages), "
        f"{video['path'] if video else 'no video'} re-encoded, "
        f"{pdf['path'] if pdf else 'no PDF'} corrected")
    if a.manifest:
        man = {"seed": seed, "scale": base.get("scale"),
            "update": "handmade v2->v3 (tests/bench/handmade.py)",
            "T1": t2, "T2": t3, "added": [], "deleted": [],
            "modified": sorted(changed), "lessons": units,
            "video": video, "pdf_edit": pdf}
        tmp = a.manifest + ".tmp"
        with open(tmp, "w") as f:
            json.dump(man, f, indent=1)
        os.replace(tmp, a.manifest)


if __name__ == "__main__":
    main()
