#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Read the JSON of xlb-client.py and `lbctl --json stats` for the lab.

  get FILE PATH [DEFAULT]   print one value, e.g.
        by_real.real1
        by_src[10.99.0.100].real2
        vips[vip=10.100.0.10:80/tcp].reals[address=10.98.1.2].new_flows
  len FILE PATH             the number of items (keys) there
  bars FILE [WEIGHTS]       the client's per-real counts as a bar chart,
                            with the share WEIGHTS (e.g. "100 100 200")
                            predict
"""

import json
import sys

def steps(path):
    """Split a path into ("name", x) and ("[]", x) steps. Names are joined
    by dots; a bracket may hold brackets itself ([vip=[fd00::1]:80/tcp])."""
    out, i = [], 0
    while i < len(path):
        if path[i] == ".":
            i += 1
        elif path[i] == "[":
            depth, j = 0, i
            while True:
                depth += {"[": 1, "]": -1}.get(path[j], 0)
                if depth == 0:
                    break
                j += 1
                if j == len(path):
                    raise KeyError(f"unbalanced [ in {path}")
            out.append(("[]", path[i + 1:j]))
            i = j + 1
        else:
            j = i
            while j < len(path) and path[j] not in ".[":
                j += 1
            out.append(("name", path[i:j]))
            i = j
    return out


def get(doc, path):
    """Follow PATH from doc: [FIELD=VALUE] picks the list item whose FIELD
    is VALUE, [KEY] is a key that holds dots itself."""
    for kind, step in steps(path):
        if kind == "[]" and "=" in step:
            field, value = step.split("=", 1)
            doc = next(x for x in doc if str(x.get(field)) == value)
        else:
            doc = doc[step]
    return doc


def cmd_get(args):
    with open(args[0]) as f:
        doc = json.load(f)
    try:
        value = get(doc, args[1])
    except (KeyError, IndexError, StopIteration, TypeError):
        if len(args) < 3:
            print(f"show.py: no {args[1]} in {args[0]}", file=sys.stderr)
            return 1
        value = args[2]
    print(json.dumps(value) if isinstance(value, (dict, list)) else value)
    return 0


def cmd_len(args):
    with open(args[0]) as f:
        print(len(get(json.load(f), args[1])))
    return 0


def cmd_bars(args):
    with open(args[0]) as f:
        res = json.load(f)
    weights = [int(w) for w in args[1].split()] if len(args) > 1 else []
    reals = sorted(res["by_real"])
    total = max(res["ok"], 1)
    width = round(100.0 * max(res["by_real"].values(), default=0) / total
                  / 2.5)
    for i, real in enumerate(reals):
        n = res["by_real"][real]
        share = 100.0 * n / total
        bar = "#" * round(share / 2.5)
        line = f"    {real:<7} {n:5d}  {share:5.1f}%  {bar:<{width}}"
        if i < len(weights):
            line += f" (weight {weights[i]}: " \
                    f"{100.0 * weights[i] / sum(weights):.0f}% expected)"
        print(line.rstrip())
    failed = f", {res['failed']} FAILED {res.get('errors')}" \
        if res["failed"] else ""
    print(f"    {res['ok']} of {res['total']} answered{failed}")
    if "by_peer" in res:
        peers = ", ".join(f"{p} ({n})" for p, n in res["by_peer"].items())
        print(f"    the servers saw the client as: {peers or 'nothing'}")
    return 0


def main():
    cmds = {"get": cmd_get, "len": cmd_len, "bars": cmd_bars}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
