#!/usr/bin/env python3
"""Turn bench/bench.py's results.json into the table (stdout), the plots
(SVG) and the generated blocks of docs/performance.md.

usage: report.py RESULTS.json --doc FILE --plots DIR [--plots-ref REL]

The document is hand-written around generated blocks:

    <!-- generated:begin NAME (make bench; do not edit) -->
    ...
    <!-- generated:end NAME -->

Only the blocks are rewritten; everything else in FILE is kept as it is,
so prose written by hand (by any area) survives every run.  A block that
FILE does not have yet is appended at the end; a FILE that does not exist
is created from the skeleton below.
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import svgplot  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAMS = ["2.7", "3.8", "3.10", "3.11", "3.12", "3.13+"]
NEW_LAYOUT = {"3.11", "3.12", "3.13+"}

SKELETON = """# Performance

Measured figures for pyspy, and how to reproduce them. The blocks marked
`generated` are written by `make bench` (bench/run.sh, bench/report.py) and
rewritten at every run; the prose around them is written by hand and kept.

@header

## Targets at a glance

@summary

## Capture cost

@capture

## Target slowdown

@slowdown

## Side by side with austin

@austin

## Capture file size

### Real captures

@size-real

### Synthetic captures (format)

@size-synth

## Analysis (pyspy-analyze)

@analysis

## Reproduce

@reproduce
"""

BLOCKS = ["header", "summary", "capture", "slowdown", "austin", "size-real", "size-synth",
          "analysis", "reproduce"]


# ------------------------------------------------------------------ formatting

def f(x, d=1, unit=""):
    if x is None:
        return "–"
    return "%.*f%s" % (d, x, unit)


def f2(x):
    """Two significant-ish digits for small costs, one decimal otherwise."""
    if x is None:
        return "–"
    if x < 10:
        return "%.2f" % x
    if x < 100:
        return "%.1f" % x
    return "%.0f" % x


def mb(kb):
    return "–" if kb is None else "%.1f MB" % (kb / 1024.0)


def ratio(a, b, d=2):
    if a is None or b is None or b == 0:
        return "–"
    return "%.*f" % (d, a / b)


def yesno(ok):
    if ok is None:
        return "not measured"
    return "yes" if ok else "**no**"


def table(head, rows, align=None):
    out = ["| " + " | ".join(head) + " |"]
    al = align or (["---"] + ["--:"] * (len(head) - 1))
    out.append("|" + "|".join(al) + "|")
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def scrub(obj):
    """Drop machine-specific absolute paths from committed results."""
    home = os.path.expanduser("~")
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items() if k not in ("cmd", "stderr")}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    if isinstance(obj, float):
        return float("%.4g" % obj)
    if isinstance(obj, str):
        s = obj.replace(ROOT, "<repo>")
        if home and home != "/":
            s = s.replace(home, "~")
        return s
    return obj


RAW_KEEP = ("cpu_s", "samples", "maxrss_kb", "wall_s", "rc", "bytes", "bytes_zstd", "partial")


def slim(obj):
    """The committed copy keeps, per run, only the figures the tables use."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k == "raw" and isinstance(v, list):
                out[k] = [{kk: vv for kk, vv in x.items() if kk in RAW_KEEP} for x in v]
            else:
                out[k] = slim(v)
        return out
    if isinstance(obj, list):
        return [slim(v) for v in obj]
    return obj


# ------------------------------------------------------------------ lookups

class R:
    def __init__(self, res):
        self.res = res

    def fam_label(self, fam):
        c = self.res.get("capture", {}).get(fam) or {}
        i = self.res.get("interpreters", {}).get(fam) or {}
        lab = c.get("label") or i.get("label")
        return lab

    def version(self, fam):
        i = self.res.get("interpreters", {}).get(fam) or {}
        m = re.match(r"Python ([0-9][0-9.]*[0-9])", i.get("note", ""))
        return m.group(1) if m else None

    def cap(self, fam, depth, threads, rate):
        c = self.res.get("capture", {}).get(fam) or {}
        for s in c.get("configs", []):
            if s.get("depth") == depth and s.get("threads") == threads and s.get("rate") == rate:
                return s
        return None

    def aus(self, depth, threads, rate):
        for s in self.res.get("austin", {}).get("configs", []):
            if s.get("depth") == depth and s.get("threads") == threads and s.get("rate") == rate:
                return s
        return None

    def an(self, wl, n, step):
        for r in self.res.get("analysis", {}).get("rows", []):
            if r["workload"] == wl and r["samples"] == n and r["step"] == step:
                return r
        return None

    def synth(self, wl, n, extra=()):
        for r in self.res.get("synth", {}).get("rows", []):
            if r["workload"] == wl and r["samples"] == n and list(r["extra"]) == list(extra):
                return r
        return None

    def floor(self, rate, syscalls):
        for x in self.res.get("floor", {}).get("rows", []):
            if x["rate"] == rate and x["syscalls"] == syscalls:
                return x.get("cost_us_median")
        return None

    def size(self, fam, wl, tool):
        for r in self.res.get("size", {}).get("runs", []):
            if r.get("family") == fam and r.get("workload") == wl and r.get("tool") == tool:
                return r
        return None


def fam_name(r, fam):
    v = r.version(fam)
    return "%s (%s)" % (fam, v) if v else fam


# ------------------------------------------------------------------ blocks

def block_header(r, args):
    e = r.res.get("env", {})
    la = e.get("load_start") or [None] * 3
    le = e.get("load_end") or [None] * 3
    lines = []
    mode = e.get("mode", "?")
    lines.append("Measured on %s by `%s` (%s run: %s repetitions per capture configuration, "
                 "%s s per capture at ≥ 1 kHz, twice as long at 100 Hz)." % (
                     e.get("date_utc", "?"), "make bench" if mode == "full" else "make bench-smoke",
                     mode, e.get("repeat", "?"), f(e.get("seconds"), 0)))
    lines.append("")
    rows = [
        ("CPU", "%s, %s CPUs%s" % (e.get("cpu_model", "?"), e.get("cpus", "?"),
                                   (", %s GB RAM" % e["mem_gb"]) if e.get("mem_gb") else "")),
        ("System", "%s, Linux %s" % (e.get("os", "?"), e.get("kernel", "?"))),
        ("Load average (1/5/15 min)", "%s at the start, %s at the end%s" % (
            "/".join(f(x, 2) for x in la), "/".join(f(x, 2) for x in le),
            " (waited %d s for a quieter machine first)" % r.res["waited_for_quiet_s"]
            if r.res.get("waited_for_quiet_s") else "")),
        ("pyspy", "%s, commit %s, built in `%s` (%s), %s" % (
            e.get("capture_version", "?"), e.get("git", "?"), e.get("build", "?"),
            "release: `-O2 -g -DNDEBUG`" if e.get("build") == "build/release" else "not the release build",
            e.get("cc", "?")) + ("; built with uncommitted changes to %s" % ", ".join(
                "`%s`" % x for x in e["git_dirty_files"]) if e.get("git_dirty_files") else "")),
        ("austin", e.get("austin") or "not installed"),
        ("zstd", (e.get("zstd") or "not installed").replace("*** ", "").replace(" ***", "")),
        ("SQLite", r.res.get("analysis", {}).get("sqlite", "?")),
        ("Wall time of the run", "%s s" % f(e.get("total_seconds"), 0)),
    ]
    interps = r.res.get("interpreters", {})
    for fam in FAMS:
        i = interps.get(fam, {})
        rows.append(("Python %s family" % fam,
                     "%s: %s" % (i["label"], i["note"]) if "note" in i and "label" in i
                     else "missing: %s" % i.get("missing", "?")))
    lines.append(table(["", ""], rows, ["---", "---"]))
    lines.append("")
    lines.append("The machine is a shared 2-vCPU VM on which other jobs may run; the load "
                 "average above says how busy it was. Timings are medians of several runs and "
                 "the pyspy/austin ratios come from runs interleaved in the same session, which "
                 "is what stays meaningful on a noisy machine. A benchmark never fails on a number.")
    return "\n".join(lines)


def summary_rows(r):
    rows = []
    for fam in FAMS:
        s = r.cap(fam, 30, 1, 1000)
        tgt = 10.0 if fam in NEW_LAYOUT else 25.0
        if s is None:
            rows.append(("Capture cost per sample, 1 thread × 30 frames, %s" % fam_name(r, fam),
                         "≤ %g µs median" % tgt, "not measured", yesno(None)))
            continue
        rows.append(("Capture cost per sample, 1 thread × 30 frames, 1 kHz, Python %s" % fam_name(r, fam),
                     "≤ %g µs median" % tgt,
                     "%s µs median, %s µs p95" % (f2(s["cost_us_median"]), f2(s["cost_us_p95"])),
                     yesno(s["cost_us_median"] is not None and s["cost_us_median"] <= tgt)))
    a = r.aus(30, 1, 1000)
    if a and a["pyspy"]["cost_us_median"] and a["austin"]["cost_us_median"]:
        k = a["austin"]["cost_us_median"] / a["pyspy"]["cost_us_median"]
        rows.append(("Cheaper than austin per sample (python3.8, 1 × 30, 1 kHz, same run)",
                     "≥ 5×", "%.2f× (pyspy %s µs, austin %s µs)" % (
                         k, f2(a["pyspy"]["cost_us_median"]), f2(a["austin"]["cost_us_median"])),
                     yesno(k >= 5)))
    else:
        rows.append(("Cheaper than austin per sample (python3.8)", "≥ 5×", "not measured", yesno(None)))
    cores = [(fam, r.cap(fam, 30, 1, 1000)) for fam in FAMS]
    cores = [(fam, s["core_pct"]) for fam, s in cores if s and s.get("core_pct") is not None]
    if cores:
        worst = max(cores, key=lambda x: x[1])
        rows.append(("CPU used at 1 kHz, 1 × 30 (steady state)", "≤ 2 % of one core",
                     "%s–%s %% (worst: %s)" % (f(min(c for _, c in cores), 1), f(worst[1], 1), worst[0]),
                     yesno(worst[1] <= 2.0)))
    ach = [(fam, r.cap(fam, 30, 1, 10000)) for fam in FAMS]
    ach = [(fam, s["achieved_pct"]) for fam, s in ach if s and s.get("achieved_pct") is not None]
    if ach:
        worst = min(ach, key=lambda x: x[1])
        rows.append(("Samples delivered at a requested 10 kHz, 1 × 30", "≥ 98 %",
                     "%s–%s %% (worst: %s)" % (f(worst[1], 1), f(max(c for _, c in ach), 1), worst[0]),
                     yesno(worst[1] >= 98)))
    rss = []
    allrss = []
    for fam in FAMS:
        for rate in (100, 1000, 10000):
            s = r.cap(fam, 30, 1, rate)
            if s and s.get("maxrss_kb"):
                rss.append((fam, rate, s["maxrss_kb"]))
        for s in (r.res.get("capture", {}).get(fam) or {}).get("configs", []):
            if s.get("maxrss_kb"):
                allrss.append((fam, s["depth"], s["threads"], s["rate"], s["maxrss_kb"]))
    if rss:
        worst = max(rss, key=lambda x: x[2])
        big = max(allrss, key=lambda x: x[4])
        rows.append(("Capture peak RSS, 1 × 30", "≤ 4 MB",
                     "%s (worst: %s at %d Hz); largest of all configurations: %s (%s, %d threads × %d frames, %d Hz)" % (
                         mb(worst[2]), worst[0], worst[1], mb(big[4]), big[0], big[2], big[1], big[3]),
                     yesno(worst[2] <= 4096)))
    for fam in ("3.11", "3.8"):
        sd = r.res.get("slowdown", {}).get(fam)
        st = slowdown_stats(sd) if sd and "modes" in sd else None
        if st and "pyspy-nonblocking-1000" in st and "none" in st:
            x = st["pyspy-nonblocking-1000"]
            rows.append(("Target slowdown at 1 kHz, --nonblocking, Python %s" % fam_name(r, fam),
                         "within noise",
                         "%s (noise band of the runs without capture: %s)" % (
                             pct_str(x["delta_pct"]), band_str(st["none"])),
                         yesno(x["within_noise"])))
    for wl, tgt in (("steady", 1.0), ("diverse", 4.0)):
        vals = []
        for fam in ("3.8", "3.12", "3.11"):
            s = r.size(fam, wl, "pyspy")
            if s and s.get("bytes_per_sample") is not None:
                vals.append("%s on %s" % (f(s["bytes_per_sample"], 2), fam))
        sy = r.synth(wl, 1000000) or r.synth(wl, 100000)
        ok = None
        allv = [s["bytes_per_sample"] for fam in ("3.8", "3.12", "3.11")
                for s in [r.size(fam, wl, "pyspy")] if s and s.get("bytes_per_sample") is not None]
        if sy and sy.get("bytes_per_sample") is not None:
            vals.append("%s synthetic (gen_capture, %s samples)" % (f(sy["bytes_per_sample"], 2),
                                                                 "{:,}".format(sy["samples"])))
            allv.append(sy["bytes_per_sample"])
        if allv:
            ok = max(allv) <= tgt
        rows.append(("Bytes per sample, %s workload (1 kHz)" % wl, "≤ %g" % tgt,
                     "; ".join(vals) or "not measured", yesno(ok)))
    loads = []
    for wl in ("steady", "diverse"):
        a = r.an(wl, 10000000, "load") or r.an(wl, 1000000, "load") or r.an(wl, 100000, "load")
        if a and a.get("wall_s"):
            loads.append((wl, a["samples"], a["samples"] / a["wall_s"], a["samples"] / a["cpu_s"]))
    if loads:
        worst = min(loads, key=lambda x: x[2])
        rows.append(("pyspy-analyze load rate (%s samples)" % "{:,}".format(loads[0][1]),
                     "≥ 2 M samples/s",
                     "; ".join("%s %.2f M/s wall (%.2f M/s of CPU)" % (w, x / 1e6, c / 1e6)
                               for w, _, x, c in loads),
                     yesno(worst[2] >= 2e6)))
    reps = []
    for wl in ("steady", "diverse"):
        for step in ("flamegraph", "top", "collapsed", "speedscope"):
            a = r.an(wl, 10000000, step)
            if a and a.get("wall_s") is not None:
                reps.append((wl, step, a["wall_s"]))
    if reps:
        worst = max(reps, key=lambda x: x[2])
        core = [x for x in reps if x[1] != "speedscope"]
        cw = max(core, key=lambda x: x[2]) if core else None
        rows.append(("Report time over 10 M samples (from the database)", "≤ 3 s",
                     "flamegraph/top/collapsed ≤ %s s (%s %s); speedscope %s s (%s)" % (
                         f(cw[2], 2), cw[0], cw[1], f(max(x[2] for x in reps if x[1] == "speedscope"), 2)
                         if any(x[1] == "speedscope" for x in reps) else "–", "writes every sample")
                     if cw else "–",
                     yesno(worst[2] <= 3.0)))
    return rows


def block_summary(r, args):
    rows = summary_rows(r)
    out = [table(["Promise (issue 6)", "Target", "Measured", "Met"], rows, ["---", "---", "---", "---"])]
    notmet = [x for x in rows if x[3] == "**no**"]
    out.append("")
    if notmet:
        out.append("%d of %d targets are not met on this run; the sections below give the "
                   "figures behind each line, and *Where the targets are not met* says why." % (
                       len(notmet), len(rows)))
    else:
        out.append("Every target is met on this run.")
    return "\n".join(out)


def slowdown_stats(sd):
    import statistics
    out = {}
    base = [m["rate"] for m in sd["modes"].get("none", []) if "rate" in m]
    if not base:
        return out
    bmed = statistics.median(base)
    for mode, runs in sd["modes"].items():
        rates = [m["rate"] for m in runs if "rate" in m]
        if not rates:
            continue
        med = statistics.median(rates)
        cpu = [m["cpu_s"] / m["wall_s"] * 100 for m in runs if m.get("wall_s")]
        rc = [m["rate_cpu"] for m in runs if m.get("rate_cpu")]
        bc = [m["rate_cpu"] for m in sd["modes"].get("none", []) if m.get("rate_cpu")]
        share = [m["cpu_share"] for m in runs if m.get("cpu_share")]
        out[mode] = {"n": len(rates), "median": med, "min": min(rates), "max": max(rates),
                     "cpu_delta_pct": (statistics.median(rc) / statistics.median(bc) - 1) * 100
                     if rc and bc else None,
                     "cpu_band": ((min(rc) / statistics.median(bc) - 1) * 100,
                                  (max(rc) / statistics.median(bc) - 1) * 100) if rc and bc else None,
                     "share": statistics.median(share) if share else None,
                     "delta_pct": (med / bmed - 1) * 100,
                     "band": ((min(rates) / bmed - 1) * 100, (max(rates) / bmed - 1) * 100),
                     "within_noise": med >= min(base),
                     "core_pct": statistics.median(cpu) if cpu else None,
                     "failed": sum(1 for m in runs if m.get("rc") not in (None, 0)) +
                     sum(1 for m in runs if "error" in m)}
    return out


def pct_str(x):
    return "–" if x is None else "%+.1f %%" % x


def band_str(st):
    return "%+.1f %% to %+.1f %%" % st["band"]


def block_capture(r, args):
    res = r.res
    e = res.get("env", {})
    out = []
    out.append(
        "Target: `bench/targets/cpu.py DEPTH THREADS`, CPU-bound Python threads whose stacks are "
        "exactly DEPTH frames deep (thread bootstrap frames included), spinning over a few lines "
        "at the leaf. `pyspy-capture -r RATE -d SECONDS -p PID` attaches to the running target "
        "(non-blocking, the default). For each configuration the same target process is captured "
        "%s times, rates interleaved." % e.get("repeat", "?"))
    out.append("")
    out.append(
        "- **Cost per sample** = the capture's CPU time (user + system) / samples written. The "
        "capture does not expose per-tick timings, so the harness reads the capture's CPU time "
        "from `/proc/PID/task/*/schedstat` (nanoseconds) every 100 ms (250 ms at 100 Hz) and counts "
        "the samples of each window from the capture file's own sample times "
        "(`bench/sample_times`); the first 250 ms (attach, first reads of code objects) and the last "
        "partial window are left out. **median** and **p95** are over all those windows of all "
        "repetitions (one window holds 100 samples at 1 kHz × 1 thread). *whole run* = CPU time "
        "from `wait4()` / all samples, attach and close included (runs of %s s)." % f(e.get("seconds"), 0))
    out.append(
        "- A **sample** is one thread's stack at one tick: with 8 threads a tick writes 8 samples, "
        "so the cost of a tick is the cost per sample × threads.")
    out.append(
        "- **Delivered** = samples per thread per second over the same steady windows, as a "
        "percentage of the requested rate. **CPU** = CPU time / wall time over the steady windows. "
        "**Peak RSS** = `ru_maxrss` from `wait4()` (`bench/rusage_exec` forks the capture from a small "
        "process, so the figure is the capture's own), the largest over the repetitions and rates.")
    fl = r.res.get("floor", {})
    if fl.get("rows"):
        out.append("")
        out.append(
            "**The machine's floor.** `bench/tick_floor` wakes up like the capture (absolute "
            "`clock_nanosleep`, 1 ns timer slack) and does nothing else, or only the two system calls "
            "a sampler cannot avoid (one 4 KiB `process_vm_readv` from the target and one `pread` of "
            "its `/proc/PID/stat`); its CPU time per tick, measured the same way, is what the kernel "
            "and this VM charge for a tick whatever the sampler does: %s. The capture's own work is "
            "its cost above that floor." % "; ".join(
                "%s at %s Hz" % (", ".join(
                    "%s µs %s%s" % (f2(x["cost_us_median"]), "with the two system calls" if x["syscalls"]
                                    else "for the bare timer tick",
                                    " (%s %% of the requested ticks run)" % f(x["delivered_pct"], 1)
                                    if x.get("delivered_pct") is not None and not x["syscalls"] else "")
                    for x in fl["rows"] if x["rate"] == rate), "{:,}".format(rate))
                for rate in sorted(set(x["rate"] for x in fl["rows"]))))
    out.append("")
    # rate sweep table
    axes = [(5, 1), (30, 1), (100, 1), (1000, 1), (30, 8), (30, 64)]
    rows = []
    for fam in FAMS:
        for d, t in axes:
            cells = []
            anyv = False
            rss = []
            for rate in (100, 1000, 10000):
                s = r.cap(fam, d, t, rate)
                if s:
                    anyv = True
                    cells.append("%s / %s" % (f2(s["cost_us_median"]), f2(s["cost_us_p95"])))
                    cells.append(f(s.get("achieved_pct"), 1))
                    rss.append(s["maxrss_kb"])
                else:
                    cells += ["–", "–"]
            if not anyv:
                continue
            s1k = r.cap(fam, d, t, 1000)
            rows.append([fam_name(r, fam), d, t] + cells +
                        [f(s1k.get("core_pct"), 1) if s1k else "–",
                         mb(max(x for x in rss if x)) if any(rss) else "–"])
    if rows:
        out.append("Cost per sample (µs, median / p95) and samples delivered (% of the requested "
                   "rate), by requested rate:")
        out.append("")
        out.append(table(["Python", "depth", "threads", "100 Hz µs", "100 Hz %", "1 kHz µs", "1 kHz %",
                          "10 kHz µs", "10 kHz %", "CPU % at 1 kHz", "peak RSS"], rows))
        out.append("")
    # depth x threads at 1 kHz
    rows = []
    for fam in FAMS:
        for d in (5, 30, 100, 1000):
            cells = []
            for t in (1, 8, 64):
                s = r.cap(fam, d, t, 1000)
                cells.append("%s / %s · %s %% · %s" % (f2(s["cost_us_median"]), f2(s["cost_us_p95"]),
                                                       f(s.get("achieved_pct"), 0), mb(s["maxrss_kb"]))
                             if s else "–")
            if any(c != "–" for c in cells):
                rows.append([fam_name(r, fam), d] + cells)
    if rows:
        out.append("Depth × threads at 1 kHz (cell: cost per sample µs median / p95 · delivered % · "
                   "peak RSS):")
        out.append("")
        out.append(table(["Python", "depth", "1 thread", "8 threads", "64 threads"], rows))
        out.append("")
    # plots
    if args.plots_ref and any(r.cap(fam, d, 1, 1000) for fam in FAMS for d in (5, 30, 100, 1000)):
        out.append("![cost per sample against stack depth](%s/cost-vs-depth.svg)" % args.plots_ref)
        out.append("![cost per sample against stack depth, 8 threads](%s/cost-vs-depth-8-threads.svg)" %
                   args.plots_ref)
        out.append("![cost per sample against threads](%s/cost-vs-threads.svg)" % args.plots_ref)
        out.append("![samples delivered against requested rate](%s/delivered-vs-rate.svg)" % args.plots_ref)
        out.append("")
    # sanity: depth seen, partial, errors
    bad = []
    part = tot = errs = 0
    for fam in FAMS:
        for s in (res.get("capture", {}).get(fam) or {}).get("configs", []):
            if "error" in s:
                bad.append("%s depth %s threads %s: %s" % (fam, s.get("depth"), s.get("threads"), s["error"]))
                continue
            part += s.get("partial", 0)
            tot += s.get("samples", 0)
            errs += s.get("errors", 0)
            if s.get("depth_median") is not None and s["depth_median"] != s["depth"]:
                bad.append("%s depth %d threads %d %d Hz: median stack depth in the file %s" % (
                    fam, s["depth"], s["threads"], s["rate"], s["depth_median"]))
            if s.get("failed"):
                bad.append("%s depth %d threads %d %d Hz: %d capture runs exited non-zero" % (
                    fam, s["depth"], s["threads"], s["rate"], s["failed"]))
    if tot:
        out.append("Checks: %s samples in these captures, %s partial (torn stacks recorded as "
                   "partial, %.3f %%), %s sampling errors; the median stack depth in every file "
                   "equals the target's depth%s." % (
                       "{:,}".format(tot), "{:,}".format(part), part * 100.0 / tot, "{:,}".format(errs),
                       " except as listed" if bad else ""))
    for b in bad:
        out.append("- %s" % b)
    missing = [(fam, (res.get("capture", {}).get(fam) or {}).get("missing")) for fam in FAMS]
    for fam, why in missing:
        if why:
            out.append("- Python %s family not measured: %s" % (fam, why))
    return "\n".join(out)


def block_slowdown(r, args):
    sl = r.res.get("slowdown", {})
    out = []
    if not sl:
        return "Not measured in this run."
    any_fam = next((v for v in sl.values() if "modes" in v), None)
    out.append(
        "Target: `bench/targets/cpu.py 30 1 WARMUP SECONDS` (1 thread, 30 frames) counts its own "
        "loop iterations from WARMUP (%s s, during which the capture attaches) to WARMUP + SECONDS "
        "(%s s) and prints the rate. Each mode (no capture, pyspy at 100 Hz and 1 kHz in "
        "`--nonblocking` and `--blocking` mode, austin on 3.8) is run in turn, the order rotated "
        "each round, %s rounds; the capture stops with its target. The *noise band* is the spread "
        "(min to max) of the runs without a capture around their median; a mode is *within noise* "
        "when its median is not below the slowest run without a capture. *Per CPU second* divides "
        "the iterations by the target's own CPU time instead of wall time: it leaves out the time "
        "the target was not running (other jobs on the machine, and `--blocking` pauses) and shows "
        "whether the capture made the target's own execution slower (caches, page pinning). "
        "*Capture CPU* is the capture's whole-run CPU time over its wall time (attach included)." % (
            f(any_fam.get("warmup_s"), 1) if any_fam else "?", f(any_fam.get("seconds"), 0) if any_fam else "?",
            max((len(m) for v in sl.values() if "modes" in v for m in v["modes"].values()), default=0)))
    out.append("")
    for fam in ("3.11", "3.8") + tuple(k for k in sl if k not in ("3.11", "3.8")):
        sd = sl.get(fam)
        if not sd:
            continue
        if "modes" not in sd:
            out.append("- Python %s: not measured (%s)" % (fam, sd.get("missing")))
            continue
        st = slowdown_stats(sd)
        rows = []
        for mode in sd["modes"]:
            x = st.get(mode)
            if not x:
                rows.append([mode, 0, "–", "–", "–", "–", "–"])
                continue
            rows.append([mode.replace("pyspy-", "pyspy ").replace("austin-", "austin ").replace("-", " ") +
                         (" Hz" if mode != "none" else ""), x["n"],
                         "{:,.0f}".format(x["median"]),
                         pct_str(x["delta_pct"]) if mode != "none" else "",
                         "%s … %s" % (pct_str(x["band"][0]), pct_str(x["band"][1])),
                         ("yes" if x["within_noise"] else "**no**") if mode != "none" else "",
                         (pct_str(x["cpu_delta_pct"]) if mode != "none" else "") +
                         (" (%s … %s)" % (pct_str(x["cpu_band"][0]), pct_str(x["cpu_band"][1]))
                          if x.get("cpu_band") else ""),
                         f(x["share"] * 100, 0) if x.get("share") else "–",
                         f(x["core_pct"], 2) if x["core_pct"] is not None else ""])
            if x["failed"]:
                rows[-1][0] += " (%d runs failed)" % x["failed"]
        out.append("Python %s (load average %s → %s):" % (
            fam_name(r, fam), f(sd.get("load_start", [None])[0], 2), f(sd.get("load_end", [None])[0], 2)))
        out.append("")
        out.append(table(["mode", "runs", "iterations/s (median)", "vs no capture",
                          "min … max (vs no-capture median)", "within noise",
                          "per CPU second vs no capture (min … max)", "target's CPU share %",
                          "capture CPU %"], rows))
        out.append("")
    return "\n".join(out)


def block_austin(r, args):
    a = r.res.get("austin", {})
    if not a or "missing" in a:
        return "Not measured: %s." % (a.get("missing") if a else "phase not run")
    out = []
    out.append(
        "Debian's `%s` and pyspy on the same python3.8 target process (%s), alternating run by run "
        "(`austin -i INTERVAL_US -o FILE -p PID`, stopped with SIGINT after the same duration as "
        "`pyspy-capture -d`). Both are measured the same way: CPU time from schedstat windows and "
        "`wait4()`, peak RSS from `wait4()`; austin's samples are the lines of its output, counted "
        "as it writes them (it writes one line per thread per sample). Bytes per sample: pyspy's "
        "file as written; austin's text output raw and compressed with `zstd -6` (the level "
        "pyspy's writer uses; zstd on the whole file, which is more favourable than pyspy's 1 s "
        "chunks)." % (a.get("version", "austin"), a.get("note", "")))
    out.append("")
    rows = []
    for c in a.get("configs", []):
        if "error" in c:
            rows.append(["%d × %d" % (c["threads"], c["depth"]), "error: " + c["error"]] + ["–"] * 7)
            continue
        p, q = c["pyspy"], c["austin"]
        rows.append(["%d × %d, %s Hz" % (c["threads"], c["depth"], "{:,}".format(c["rate"])),
                     "%s / %s" % (f2(p["cost_us_median"]), f2(p["cost_us_p95"])),
                     "%s / %s" % (f2(q["cost_us_median"]), f2(q["cost_us_p95"])),
                     ratio(p["cost_us_median"], q["cost_us_median"]),
                     "%s / %s" % (f2(p["cost_us_whole_run"]), f2(q["cost_us_whole_run"])),
                     "%s / %s" % (f(p.get("achieved_pct"), 1), f(q.get("achieved_pct"), 1)),
                     "%s / %s (%s)" % (mb(p["maxrss_kb"]), mb(q["maxrss_kb"]), ratio(p["maxrss_kb"], q["maxrss_kb"])),
                     "%s / %s / %s" % (f(p["bytes_per_sample"], 2), f(q["bytes_per_sample"], 0),
                                       f(q.get("bytes_per_sample_zstd"), 2)),
                     ratio(p["bytes_per_sample"], q.get("bytes_per_sample_zstd"))])
    out.append(table(["threads × depth, rate", "pyspy µs median / p95", "austin µs median / p95",
                      "cost ratio pyspy/austin", "whole run µs pyspy / austin", "delivered % pyspy / austin",
                      "peak RSS pyspy / austin (ratio)", "bytes/sample pyspy / austin raw / austin zstd",
                      "size ratio pyspy/austin zstd"], rows))
    out.append("")
    rep = [(c, c["austin"].get("austin_reported_sampling_us_avg")) for c in a.get("configs", []) if "austin" in c]
    rep = [x for x in rep if x[1] is not None]
    if rep:
        out.append("austin's own report of its mean sampling time (wall clock per sample, printed "
                   "when it stops): %s." % ", ".join(
                       "%s µs at %d × %d, %s Hz" % ("{:,}".format(v), c["threads"], c["depth"],
                                                   "{:,}".format(c["rate"])) for c, v in rep))
        out.append("")
    out.append("Short runs (a few seconds) include the one-off attach; the *whole run* column shows it. "
               "Their bytes per sample include the one-off definitions (strings, frames, stacks), "
               "which weigh most at 100 Hz; *Capture file size* has %s s captures of both tools. "
               "Ratios below 1 mean pyspy uses less." % f(r.res.get("size", {}).get("seconds"), 0))
    return "\n".join(out)


def block_size_real(r, args):
    s = r.res.get("size", {})
    if not s:
        return "Not measured in this run."
    out = []
    out.append(
        "Real captures at 1 kHz for %s s: *steady* = `bench/targets/cpu.py 30 1` (one thread, "
        "30 frames, a few leaf lines); *diverse* = `bench/targets/diverse.py`, one thread looping "
        "over json, re, difflib, textwrap, random and decimal work. Bytes per sample = file size / "
        "samples (everything included: header, definitions, trailer). Distinct stacks: lines of "
        "`pyspy-analyze collapsed` (pyspy) or distinct stack strings (austin). Partial: the share "
        "of pyspy's samples recorded as partial, because the stack changed under every verifying "
        "read (pyspy never records an unverified stack; austin has no such check)." % f(s.get("seconds"), 0))
    out.append("")
    rows = []
    for e in s.get("runs", []):
        if "missing" in e:
            rows.append([e["family"], "–", "–", "missing: " + e["missing"], "", "", "", "", ""])
            continue
        if "error" in e:
            rows.append([e["family"], e["workload"], e["tool"], "error: " + e["error"], "", "", "", "", ""])
            continue
        rows.append([fam_name(r, e["family"]), e["workload"], e["tool"], "{:,}".format(e["samples"]),
                     "{:,}".format(e["bytes"]), f(e["bytes_per_sample"], 2),
                     f(e.get("bytes_per_sample_zstd"), 2) if e["tool"] == "austin" else "",
                     e.get("distinct_stacks", ""),
                     "%.1f %%" % (100.0 * e.get("partial", 0) / e["samples"])
                     if e["tool"] == "pyspy" and e["samples"] else ""])
    out.append(table(["Python", "workload", "tool", "samples", "bytes", "bytes/sample",
                      "bytes/sample after zstd -6", "distinct stacks", "partial"], rows))
    return "\n".join(out)


def block_size_synth(r, args):
    sy = r.res.get("synth", {})
    rows = sy.get("rows", [])
    if not rows:
        return "Not measured in this run."
    out = []
    big = max(x["samples"] for x in rows)
    n1 = min(x["samples"] for x in rows)
    t = []
    labels = [
        (("steady", n1, ()), "steady: 1 thread, 30 frames, 5 leaf lines"),
        (("diverse", n1, ()), "diverse: 8 threads, 30 frames, 20 000 stacks"),
        (("steady", big, ()), "steady, %s samples" % "{:,}".format(big)),
        (("diverse", big, ()), "diverse, %s samples" % "{:,}".format(big)),
        (("steady", n1, ("--jitter-us", "0")), "steady without jitter"),
        (("steady", n1, ("--persist", "0.9")), "steady, stack kept 90 % of the time"),
    ]
    if big == n1:
        labels = [x for x in labels if x[0][1] != big or "samples" not in x[1]]
    for key, lab in labels:
        x = r.synth(key[0], key[1], key[2])
        if not x:
            continue
        tgt = {"steady": "≤ 1", "diverse": "≤ 4"}[key[0]] if key[1] == n1 and not key[2] else ""
        t.append([lab, "`gen_capture %s`" % " ".join(x["args"]), "**%s**" % f(x["bytes_per_sample"], 3)
                  if tgt else f(x["bytes_per_sample"], 3), tgt])
    out.append(table(["workload", "command (`-o FILE`)", "bytes/sample", "target"], t,
                     ["---", "---", "--:", "---"]))
    out.append("")
    lv = []
    for level in ("3", None, "12", "19"):
        ex = () if level is None else ("--level", level)
        a, b = r.synth("steady", n1, ex), r.synth("diverse", n1, ex)
        if a or b:
            lv.append(["%s%s" % (level or "6", " (default)" if level is None else ""),
                       f(a["bytes_per_sample"], 3) if a else "–", f(b["bytes_per_sample"], 3) if b else "–",
                       "%s / %s" % (f(a["gen_wall_s"], 2) if a else "–", f(b["gen_wall_s"], 2) if b else "–")])
    if len(lv) > 1:
        out.append("zstd level (%s samples; time: whole gen_capture run, generating included):" %
                   "{:,}".format(n1))
        out.append("")
        out.append(table(["level", "steady", "diverse", "gen_capture wall s (steady / diverse)"], lv))
        out.append("")
    sp = []
    for wl in ("steady", "diverse"):
        x = r.synth(wl, big)
        if x:
            sp.append("%s %s samples: written in %s s wall (%s ns per sample, generation included), "
                      "peak RSS %s, file %s MB%s" % (
                          wl, "{:,}".format(big), f(x["gen_wall_s"], 2), f(x["gen_wall_s"] / big * 1e9, 0),
                          mb(x["gen_maxrss_kb"]), f(x["bytes"] / 1e6, 1),
                          "; read back with `examples/capture_stats` (full validation, one record per "
                          "sample) in %s s (%s M samples/s), peak RSS %s" % (
                              f(x["read_wall_s"], 2), f(big / x["read_wall_s"] / 1e6, 1),
                              mb(x["read_maxrss_kb"])) if x.get("read_wall_s") else ""))
    if sp:
        out.append("Writer and reader speed: " + "; ".join(sp) + ".")
    return "\n".join(out)


def block_analysis(r, args):
    an = r.res.get("analysis", {})
    rows = an.get("rows", [])
    if not rows:
        return "Not measured in this run."
    out = []
    reps = max((x.get("reps", 0) for x in rows), default=0)
    out.append(
        "Synthetic captures from `bench/gen_capture` (the *steady* and *diverse* workloads of the "
        "synthetic size table), `pyspy-analyze` from the release build, SQLite %s. Each step is run "
        "%d times on a fresh database; wall time median (min–max), CPU time (user + system) median, "
        "peak RSS the largest (`wait4()`). Load average %s at the start of this phase, %s at its end." % (
            an.get("sqlite", "?"), reps, f((an.get("load_start") or [None])[0], 2),
            f((an.get("load_end") or [None])[0], 2)))
    out.append("")
    names = {"load": "`load` (new database)", "flamegraph": "`flamegraph` from the database",
             "top": "`top` from the database", "collapsed": "`collapsed` from the database",
             "speedscope": "`speedscope` from the database", "info": "`info` from the database",
             "flamegraph-window": "`flamegraph --threads --from 1 --to 5`",
             "flamegraph-capture": "`flamegraph` straight from the capture"}
    t = []
    for x in rows:
        if "error" in x:
            t.append(["%s %s" % (x["workload"], x["samples"]), x["step"], "error: " + x["error"], "", "", ""])
            continue
        extra = ""
        if x["step"] == "load" and x.get("db_bytes"):
            extra = " (database %s MB, %s M samples/s wall)" % (f(x["db_bytes"] / 1e6, 0),
                                                               f(x["samples"] / x["wall_s"] / 1e6, 2))
        if x["step"] == "speedscope" and x.get("output_bytes"):
            extra = " (%s MB of JSON)" % f(x["output_bytes"] / 1e6, 0)
        t.append(["%s %s" % (x["workload"], "%g M" % (x["samples"] / 1e6)), names.get(x["step"], x["step"]) + extra,
                  "%s s (%s–%s)" % (f(x["wall_s"], 2), f(x["wall_s_min"], 2), f(x["wall_s_max"], 2)),
                  "%s s" % f(x["cpu_s"], 2), mb(x["maxrss_kb"]),
                  ("%d failed: %s" % (x["failed"], x["err"])) if x.get("failed") else ""])
    out.append(table(["capture", "step", "wall", "CPU", "peak RSS", ""], t,
                     ["---", "---", "--:", "--:", "--:", "---"]))
    return "\n".join(out)


def block_reproduce(r, args):
    ph = r.res.get("phase_seconds", {})
    out = []
    out.append("```sh\nmake bench          # release build, every phase (%s), rewrites this file and docs/perf/\n"
               "make bench-smoke    # a short run that checks the harness (CI); writes build/default/bench-smoke/\n"
               "bench/run.sh --help # phases, repetitions, durations, --wait-quiet LOAD\n```" %
               ", ".join(ph.keys()) if ph else "make bench")
    out.append("")
    if ph:
        out.append("Time per phase in this run: %s; total %s s. Every raw figure of this run "
                   "(windows, repetitions) is in [perf/results.json](perf/results.json)." % (
                       ", ".join("%s %s s" % (k, f(v, 0)) for k, v in ph.items()),
                       f(r.res.get("env", {}).get("total_seconds"), 0)))
    return "\n".join(out)


# ------------------------------------------------------------------ plots

def plots(r, d):
    os.makedirs(d, exist_ok=True)
    made = []
    for threads, name in ((1, "cost-vs-depth.svg"), (8, "cost-vs-depth-8-threads.svg")):
        series = []
        for fam in FAMS:
            pts = [(dep, (r.cap(fam, dep, threads, 1000) or {}).get("cost_us_median"))
                   for dep in (5, 30, 100, 1000)]
            pts = [p for p in pts if p[1] is not None]
            if pts:
                series.append({"name": "pyspy, Python %s" % fam, "points": pts})
        a = [(dep, ((r.aus(dep, threads, 1000) or {}).get("austin") or {}).get("cost_us_median"))
             for dep in (5, 30, 100, 1000)]
        a = [p for p in a if p[1] is not None]
        if len(a) > 1:
            series.append({"name": "austin, Python 3.8", "points": a, "dash": True, "color": "#000000"})
        if not series:
            continue
        hl = [(10, "target 3.11+: 10 µs"), (25, "target ≤ 3.10: 25 µs")] if threads == 1 else []
        fl = r.floor(1000, True)
        if fl and threads == 1:
            hl.append((fl, "machine floor per tick (timer + readv + pread): %.0f µs" % fl,
                       "below" if fl < 25 else "above"))
            hl[1] = (25, hl[1][1], "below" if fl >= 25 else "above")
        svgplot.line_plot(os.path.join(d, name),
                          "Capture cost per sample vs stack depth (%d thread%s, 1 kHz)" % (
                              threads, "s" if threads > 1 else ""),
                          "stack depth (frames)", "CPU µs per sample (median)", series,
                          xticks=[5, 30, 100, 1000], hlines=hl)
        made.append(name)
    series = []
    for fam in FAMS:
        pts = [(t, (r.cap(fam, 30, t, 1000) or {}).get("cost_us_median")) for t in (1, 8, 64)]
        pts = [p for p in pts if p[1] is not None]
        if pts:
            series.append({"name": "pyspy, Python %s" % fam, "points": pts})
    a = [(t, ((r.aus(30, t, 1000) or {}).get("austin") or {}).get("cost_us_median")) for t in (1, 8, 64)]
    a = [p for p in a if p[1] is not None]
    if a:
        series.append({"name": "austin, Python 3.8", "points": a, "dash": True, "color": "#000000"})
    if series:
        svgplot.line_plot(os.path.join(d, "cost-vs-threads.svg"),
                          "Capture cost per sample vs threads (30 frames, 1 kHz)",
                          "Python threads", "CPU µs per sample (median)", series, xticks=[1, 8, 64])
        made.append("cost-vs-threads.svg")
    series = []
    for fam in FAMS:
        pts = [(rate, (r.cap(fam, 30, 1, rate) or {}).get("achieved_pct")) for rate in (100, 1000, 10000)]
        pts = [p for p in pts if p[1] is not None]
        if pts:
            series.append({"name": "pyspy, Python %s" % fam, "points": pts})
    a = [(rate, ((r.aus(30, 1, rate) or {}).get("austin") or {}).get("achieved_pct")) for rate in (100, 1000, 10000)]
    a = [p for p in a if p[1] is not None]
    if a:
        series.append({"name": "austin, Python 3.8", "points": a, "dash": True, "color": "#000000"})
    if series:
        svgplot.line_plot(os.path.join(d, "delivered-vs-rate.svg"),
                          "Samples delivered vs requested rate (1 thread, 30 frames)",
                          "requested rate (Hz)", "% of requested samples delivered", series,
                          xticks=[100, 1000, 10000], ylog=False, ymax=105,
                          hlines=[(98, "target at 10 kHz: 98 %")])
        made.append("delivered-vs-rate.svg")
    return made


# ------------------------------------------------------------------ document

BEGIN = "<!-- generated:begin %s (make bench; do not edit) -->"
END = "<!-- generated:end %s -->"
BLOCK_RE = re.compile(r"<!-- generated:begin (\S+) [^>]*-->\n.*?<!-- generated:end \1 -->", re.S)


def write_doc(path, blocks):
    if os.path.exists(path):
        with open(path) as fh:
            text = fh.read()
    else:
        text = SKELETON
        for name in BLOCKS:
            text = text.replace("@%s\n" % name, BEGIN % name + "\n" + END % name + "\n")
    seen = set()

    def sub(m):
        name = m.group(1)
        seen.add(name)
        if name not in blocks:
            return m.group(0)
        return BEGIN % name + "\n" + blocks[name].rstrip("\n") + "\n" + END % name

    text = BLOCK_RE.sub(sub, text)
    for name in BLOCKS:
        if name not in seen and name in blocks:
            text = text.rstrip("\n") + "\n\n" + BEGIN % name + "\n" + blocks[name].rstrip("\n") + "\n" + END % name + "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def print_table(r):
    rows = summary_rows(r)
    w = [max(len(str(x[i])) for x in rows + [("Promise", "Target", "Measured", "Met")]) for i in range(4)]
    w[2] = min(w[2], 90)
    print("%-*s  %-*s  %-*s  %s" % (w[0], "Promise", w[1], "Target", w[2], "Measured", "Met"))
    for x in rows:
        print("%-*s  %-*s  %-*s  %s" % (w[0], x[0], w[1], x[1], w[2], x[2], x[3].replace("*", "")))
    a = r.res.get("austin", {})
    if a.get("configs"):
        print()
        print("pyspy / austin on python3.8 (ratios < 1: pyspy uses less)")
        print("%-22s %12s %12s %10s %12s %12s" % ("threads x depth, rate", "cost/sample", "delivered",
                                                 "peak RSS", "bytes/sample", "vs zstd"))
        for c in a["configs"]:
            if "error" in c:
                continue
            p, q = c["pyspy"], c["austin"]
            print("%-22s %12s %12s %10s %12s %12s" % (
                "%d x %d, %d Hz" % (c["threads"], c["depth"], c["rate"]),
                ratio(p["cost_us_median"], q["cost_us_median"]),
                ratio(p.get("achieved_pct"), q.get("achieved_pct")),
                ratio(p["maxrss_kb"], q["maxrss_kb"]),
                ratio(p["bytes_per_sample"], q["bytes_per_sample"], 3),
                ratio(p["bytes_per_sample"], q.get("bytes_per_sample_zstd"))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--doc", required=True)
    ap.add_argument("--plots", required=True, help="directory for the SVG files")
    ap.add_argument("--plots-ref", default=None, help="plots directory as linked from the document")
    ap.add_argument("--results-copy", default=None, help="write the scrubbed results here")
    args = ap.parse_args()
    with open(args.results) as fh:
        res = json.load(fh)
    r = R(res)
    if args.plots_ref is None:
        args.plots_ref = os.path.relpath(args.plots, os.path.dirname(os.path.abspath(args.doc)))
    plots(r, args.plots)
    blocks = {}
    for name in BLOCKS:
        blocks[name] = globals()["block_" + name.replace("-", "_")](r, args)
    write_doc(args.doc, blocks)
    if args.results_copy:
        with open(args.results_copy, "w") as fh:
            json.dump(slim(scrub(res)), fh, separators=(",", ":"), sort_keys=True)
            fh.write("\n")
    print_table(r)


if __name__ == "__main__":
    main()
