#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Check that the docs tell the truth about the tree (run by `make test`).

1. Every relative Markdown link in README.md and docs/ resolves: the file
   or directory exists and, for `FILE#anchor`, FILE has that heading.
2. Every docs/ Markdown file named anywhere in the tracked tree (code comments,
   scripts, man pages, docs) exists.
3. README's "Layout" block matches the tree: it lists every top-level
   directory that git tracks and no other; every file it names exists
   under its line's directory; every module it lists for bpf/ (headers)
   and user/ (sources) exists, and every such file of the tree is listed.

Prints one line per problem and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tracked():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return [f for f in out.splitlines() if os.path.exists(os.path.join(ROOT, f))]


def slug(heading):
    """The anchor a Markdown renderer gives a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[`*_]", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    out, fence = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                fence = not fence
            elif not fence and line.startswith("#"):
                out.add(slug(line.lstrip("#")))
    return out


def check_links(md_files, problems):
    link = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
    for md in md_files:
        base = os.path.dirname(os.path.join(ROOT, md))
        fence = False
        with open(os.path.join(ROOT, md), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.startswith("```"):
                    fence = not fence
                if fence:
                    continue
                for target in link.findall(line):
                    if re.match(r"^[a-z]+:", target):
                        continue  # http:, https:, mailto:
                    path, _, anchor = target.partition("#")
                    full = os.path.normpath(os.path.join(base, path)) \
                        if path else os.path.join(ROOT, md)
                    if not os.path.exists(full):
                        problems.append(f"{md}:{n}: link to {target}: "
                                        f"no such file")
                    elif anchor and full.endswith(".md") and \
                            anchor not in anchors(full):
                        problems.append(f"{md}:{n}: link to {target}: "
                                        f"no heading #{anchor}")


def check_doc_names(files, problems):
    name = re.compile(r"\bdocs/([A-Za-z0-9_-]+\.md)\b")
    for rel in files:
        try:
            with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, IsADirectoryError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            for doc in name.findall(line):
                if not os.path.exists(os.path.join(ROOT, "docs", doc)):
                    problems.append(f"{rel}:{n}: names docs/{doc}, "
                                    f"which does not exist")


def layout_block():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Layout\n.*?^```\n(.*?)^```", text, re.S | re.M)
    return m.group(1) if m else None


def check_layout(files, problems):
    block = layout_block()
    if block is None:
        problems.append("README.md: no Layout section with a code block")
        return
    # Join continuation lines to the directory they belong to.
    entries, cur = {}, None
    for line in block.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)/\s+(.*)$", line)
        if m:
            cur = m.group(1)
            entries[cur] = m.group(2)
        elif cur and line.strip():
            entries[cur] += " " + line.strip()
    top = {f.split("/")[0] for f in files if "/" in f and
           not f.startswith(".")}
    for d in sorted(top - entries.keys()):
        problems.append(f"README.md Layout: {d}/ is in the tree, not listed")
    for d in sorted(entries.keys() - top):
        problems.append(f"README.md Layout: {d}/ is listed, not in the tree")
    for d, text in entries.items():
        under = [f for f in files if f.startswith(d + "/")]
        for fname in re.findall(r"(?<![*\w.])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9]+)+",
                                text):
            if not any(os.path.basename(f) == fname or
                       f.startswith(f"{d}/{fname}/") for f in under):
                problems.append(f"README.md Layout: {d}/: {fname} "
                                f"is not in {d}/")
    modules = {"bpf": ("headers", ".h"), "user": ("modules", ".c")}
    for d, (word, ext) in modules.items():
        text = entries.get(d, "")
        m = re.search(word + r"[^(]*\(([^)]*)\)", text)
        if not m:
            problems.append(f"README.md Layout: {d}/: no '{word} (...)' "
                            f"list")
            continue
        listed = {w.strip() for w in m.group(1).split(",") if w.strip()}
        have = {os.path.basename(f)[:-len(ext)] for f in files
                if os.path.dirname(f) == d and f.endswith(ext)}
        if d == "user":
            have -= {"xlbd", "lbctl"}  # the programs, named on the line
        for x in sorted(listed - have):
            problems.append(f"README.md Layout: {d}/{x}{ext} is listed, "
                            f"not in the tree")
        for x in sorted(have - listed):
            problems.append(f"README.md Layout: {d}/{x}{ext} is in the "
                            f"tree, not listed")


def main():
    files = tracked()
    md = [f for f in files if f.endswith(".md") and
          (f == "README.md" or f.startswith("docs/"))]
    problems = []
    check_links(md, problems)
    check_doc_names([f for f in files if not f.startswith("tests/fuzz/")],
                    problems)
    check_layout(files, problems)
    for p in problems:
        print(p)
    print(f"check-docs: {len(md)} documents, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
