#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Turn xlb-bench's records (one JSON object per line) into the table on
stdout, results.json, the gnuplot PNGs and a docs/PERFORMANCE.md section.

results.json: {"figures": [{"name", "unit", "min", "median", "baseline",
"ratio", "target", "met", ...}]}, one object per figure, in run order;
extra keys (group, baseline_name, target_value, note) explain a figure.
"""
import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys

KEYS = ("name", "unit", "min", "median", "baseline", "ratio", "target", "met")


def num(v, digits=4):
    """A number for the table: 4 significant digits, '-' when missing."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}"


def met_str(f):
    if f.get("target") is None and f.get("median") is not None:
        return ""
    if f.get("target") is None:
        return "no (not measured)"
    return "yes" if f["met"] else "NO"


def read_records(path):
    figures = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                figures.append(json.loads(line))
    return figures


def print_table(figures):
    rows = [("figure", "min", "median", "unit", "baseline", "ratio",
             "target", "met?")]
    for f in figures:
        rows.append((f["name"], num(f["min"]), num(f["median"]), f["unit"],
                     num(f["baseline"]), num(f["ratio"], 3),
                     f.get("target") or "", met_str(f)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) if j in (0, 3, 6, 7) else c.rjust(w)
                        for j, (c, w) in enumerate(zip(r, widths))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def markdown(figures, elapsed):
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    out = [f"Run of {datetime.date.today().isoformat()}: kernel "
           f"{platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
           f"{elapsed} s of measurements.", "",
           "| figure | min | median | unit | baseline | ratio | target | met? |",
           "|---|---:|---:|---|---:|---:|---|---|"]
    for f in figures:
        base = num(f["baseline"])
        if f.get("baseline_name") and base != "-":
            base += f" ({f['baseline_name']})"
        met = met_str(f)
        out.append("| " + " | ".join((
            f["name"], num(f["min"]), num(f["median"]), f["unit"], base,
            num(f["ratio"], 3), f.get("target") or "",
            "**NO**" if met == "NO" else met)) + " |")
    notes = [f for f in figures if f.get("note")]
    if notes:
        out += ["", "Notes from this run:", ""]
        out += [f"- {f['name']}: {f['note']}" for f in notes]
    return "\n".join(out) + "\n"


def find(figures, name):
    for f in figures:
        if f["name"] == name:
            return f
    return None


def gnuplot(script, work):
    path = os.path.join(work, "plot.gp")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(script)
    subprocess.run(["gnuplot", path], check=True)


def value(f, key="median"):
    if not f or f.get(key) is None:
        return float("nan")
    return f[key]


def plot_e2e(figures, plots, work):
    """Received Mpps and Mpps per node CPU, per protocol and case."""
    cases = ("XLB", "nftables DNAT", "bare XDP forwarder")
    lines = []
    for proto in ("UDP", "TCP"):
        raw = [value(find(figures, f"e2e {proto}: {c}")) for c in cases]
        vs_nft = find(figures, f"e2e {proto}: XLB vs nftables DNAT, "
                      "per node CPU")
        vs_bare = find(figures, f"e2e {proto}: XLB vs bare XDP forwarder, "
                       "per node CPU")
        cap = [value(vs_nft), value(vs_nft, "baseline"),
               value(vs_bare, "baseline")]
        lines.append(f'"{proto}, received" ' +
                     " ".join(f"{v:.4f}" for v in raw))
        lines.append(f'"{proto}, per node CPU" ' +
                     " ".join(f"{v:.4f}" for v in cap))
    if all("nan" in line for line in lines):
        return None
    dat = os.path.join(work, "e2e.dat")
    with open(dat, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    out = os.path.join(plots, "e2e-pps.png")
    gnuplot(f"""set terminal pngcairo size 900,500 font "sans,10" noenhanced
set output "{out}"
set title "Packets per second through one node (medians, 64-byte frames)"
set ylabel "Mpps"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:*]
set offsets 0, 0, graph 0.15, 0
plot "{dat}" using 2:xtic(1) title "XLB", \\
     "" using 3 title "nftables DNAT", \\
     "" using 4 title "bare XDP forwarder"
""", work)
    return out


def plot_datapath(figures, plots, work):
    """ns per packet of each case, methods (a) and (b)."""
    cases = []
    for f in figures:
        if f.get("group") == "datapath" and f["name"].startswith("(b) "):
            case = f["name"][4:]
            if f.get("median") is None or case.startswith(("wrapper",
                                                           "empty")):
                continue
            cases.append(case)
    if not cases:
        return None
    dat = os.path.join(work, "datapath.dat")
    with open(dat, "w", encoding="utf-8") as fh:
        for case in cases:
            a = value(find(figures, "(a) " + case))
            b = value(find(figures, "(b) " + case))
            fh.write(f'"{case}" {a:.2f} {b:.2f}\n')
    out = os.path.join(plots, "datapath-ns.png")
    gnuplot(f"""set terminal pngcairo size 1000,560 font "sans,10" noenhanced
set output "{out}"
set title "Cost per packet (medians): (a) one packet per call, (b) repeat loop"
set ylabel "ns per packet"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set key top left
set xtics rotate by -30 left
set bmargin 9
set rmargin 16
set yrange [0:*]
plot "{dat}" using 2:xtic(1) title "(a) one packet per call", \\
     "" using 3 title "(b) repeat, wrapper cost subtracted"
""", work)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--plots", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--elapsed", type=int, default=0)
    args = ap.parse_args()

    figures = read_records(args.records)
    with open(args.json, "w", encoding="utf-8") as fh:
        json.dump({"figures": [dict({k: f.get(k) for k in KEYS}, **{
            k: v for k, v in f.items() if k not in KEYS})
            for f in figures]}, fh, indent=1)
        fh.write("\n")
    print()
    print_table(figures)
    with open(args.markdown, "w", encoding="utf-8") as fh:
        fh.write(markdown(figures, args.elapsed))
    os.makedirs(args.plots, exist_ok=True)
    made = []
    try:
        made = [p for p in (plot_e2e(figures, args.plots, args.work),
                            plot_datapath(figures, args.plots, args.work))
                if p]
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"report: plots failed: {e}", file=sys.stderr)
        return 1
    missed = [f["name"] for f in figures
              if f.get("target") is not None and not f["met"]]
    print(f"\n{len(figures)} figures, {len(missed)} targets missed; "
          f"plots: {', '.join(made) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
