#!/usr/bin/env python3
"""bench/accuracy: results.json -> the generated blocks of docs/accuracy.md,
the SVG plots, a summary table on stdout.

usage: report.py RESULTS.json --doc accuracy.md --plots DIR [--results-copy FILE]
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import svgplot  # noqa: E402

BEGIN = "<!-- generated:begin %s (make accuracy; do not edit) -->"
END = "<!-- generated:end %s -->"
BLOCK_RE = re.compile(r"<!-- generated:begin (\S+) [^>]*-->\n.*?<!-- generated:end \1 -->", re.S)
BLOCKS = ["header", "summary", "fidelity", "truth", "peers"]
SKELETON = "# Accuracy\n\n" + "".join("@%s\n\n" % b for b in BLOCKS)
MODES = [("default", "pyspy default"), ("blocking", "pyspy --blocking"), ("austin", "austin"),
         ("cpython", "CPython 3.15 sampler")]


def pct(a, b, d=1):
    if a is None or not b:
        return "–"
    return "%.*f" % (d, 100.0 * a / b)


def f3(x):
    return "–" if x is None else "%.3f" % x


def table(head, rows, align=None):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(align or (["---"] + ["--:"] * (len(head) - 1))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def short(label):
    return label.replace("pyenv-", "").replace("debian-", "Debian ").replace("sid-", "sid ")


def cases(r):
    return [c for c in r["cases"]]


def case(r, py, wl):
    for c in r["cases"]:
        if c["python"] == py and c["workload"] == wl:
            return c
    return None


def pythons(r):
    seen = []
    for c in r["cases"]:
        if c["python"] not in seen:
            seen.append(c["python"])
    return seen


def tvd(c, mode, kind="leaf"):
    e = (c or {}).get("fidelity", {}).get(mode)
    if not e or "tvd" not in e:
        return None
    return e["tvd"].get(kind)


def floor(c, kind="leaf"):
    return tvd(c, "refB", kind)


def usable(c, mode="default"):
    e = (c or {}).get("fidelity", {}).get(mode)
    if not e or not e.get("samples"):
        return None
    return float(e["usable"]) / e["samples"]


def peer_state(r, c, peer):
    """'ran', or why not: missing / unsupported / not applicable."""
    if peer == "austin":
        if str(r.get("austin", "")).startswith("missing"):
            return r["austin"]
    elif not c.get("version", "").startswith("3.15"):
        return "n/a (3.15 targets only)"
    e = c.get("fidelity", {}).get(peer)
    st = c.get("peer_status", {}).get(peer)
    if e and e["samples"] - e["empty"] > 0:
        return "ran"
    if st is None and not e:
        return "not run"
    why = (st or {}).get("stderr") or ""
    if e and e["samples"]:
        return "no stacks (%d empty samples)" % e["samples"]
    if st and st.get("rc") and st["rc"] != -2:
        return "failed (exit %s: %s)" % (st["rc"], why[:80])
    # austin runs until the harness stops it (SIGINT, -2)
    return "no samples%s" % (" (%s)" % why[:80] if why else "")


def block_header(r):
    cfg = r["config"]
    lines = [
        "Measured by `make accuracy` on commit %s, %s, %s CPUs (load %.1f at the start), in %.0f min." % (
            r.get("commit", "?"), r.get("started", "?"), r["host"].get("cpus", "?"), r["host"].get("load", 0),
            r.get("wall_s", 0) / 60.0),
        "",
        "- Fidelity windows: %g s each; references `--blocking` at %d Hz; pyspy default, pyspy `--blocking` "
        "and the peers at %d Hz." % (cfg["seconds"], cfg["ref_rate"], cfg["rate"]),
        "- Ground truth: %g s per sampler; a sample is exact when its stack equals one the thread had between "
        "%g µs before and %g µs after its time (plus one time unit of the capture), off-time when only within "
        "±%g ms." % (cfg["gt_seconds"], cfg["before_us"], cfg["after_us"], cfg["loose_ms"]),
        "- austin: %s; CPython's sampler: `python3.15 -m profiling.sampling attach` on 3.15 targets." % (
            r.get("austin") or "?"),
    ]
    missing = sorted({c["python"] + ": " + c["missing"] for c in cases(r) if "missing" in c})
    for m in missing:
        lines.append("- Missing interpreter %s" % m)
    notes = sorted({"%s %s: %s" % (short(c["python"]), c["workload"], n) for c in cases(r) for n in c.get("notes", [])})
    for n in notes:
        lines.append("- %s" % n)
    errs = ["%s %s: %s" % (short(c["python"]), c["workload"], "; ".join("%s %s" % kv for kv in c["errors"].items()))
            for c in cases(r) if c.get("errors")]
    for e in errs:
        lines.append("- Error: %s" % e)
    return "\n".join(lines)


def block_summary(r):
    head = ["Python", "diverse TVD default / blocking / floor", "diverse usable",
            "unittests TVD default / blocking / floor", "unittests usable", "callbacks usable",
            "recursion usable", "truth: exact / partial / off-time / wrong (default)", "wrong (blocking)"]
    rows = []
    for py in pythons(r):
        d, u, cb, rc = (case(r, py, w) for w in ("diverse", "unittests", "callbacks", "recursion"))
        if d and "missing" in d:
            rows.append([short(py), "missing: " + d["missing"]] + [""] * 7)
            continue
        tot = {"samples": 0, "exact": 0, "partial": 0, "offtime": 0, "wrong": 0}
        btot = {"samples": 0, "wrong": 0}
        for c in r["cases"]:
            if c["python"] != py:
                continue
            t = c.get("truth", {})
            for k in tot:
                tot[k] += t.get("default", {}).get(k, 0)
            for k in btot:
                btot[k] += t.get("blocking", {}).get(k, 0)
        rows.append([
            short(py),
            "%s / %s / %s" % (f3(tvd(d, "default")), f3(tvd(d, "blocking")), f3(floor(d))),
            pct(usable(d), 1) + " %",
            "%s / %s / %s" % (f3(tvd(u, "default")), f3(tvd(u, "blocking")), f3(floor(u))),
            pct(usable(u), 1) + " %", pct(usable(cb), 1) + " %", pct(usable(rc), 1) + " %",
            "%s / %s / %s / %s %%" % (pct(tot["exact"], tot["samples"]), pct(tot["partial"], tot["samples"]),
                                      pct(tot["offtime"], tot["samples"]), pct(tot["wrong"], tot["samples"], 2)),
            "%s %%" % pct(btot["wrong"], btot["samples"], 2),
        ])
    return table(head, rows)


def block_fidelity(r):
    out = []
    for wl in r["workloads"]:
        out.append("**%s** (%s)\n" % (wl["name"], wl["what"]))
        head = ["Python", "samples (default)", "usable", "leaf: default", "blocking", "floor", "austin",
                "CPython", "(function, line): default", "blocking", "floor", "stack: default", "blocking", "floor"]
        rows = []
        for py in pythons(r):
            c = case(r, py, wl["name"])
            if not c or "missing" in c:
                continue
            fi = c.get("fidelity", {})
            rows.append([short(py), fi.get("default", {}).get("samples", "–"), pct(usable(c), 1) + " %",
                         f3(tvd(c, "default")), f3(tvd(c, "blocking")), f3(floor(c)),
                         f3(tvd(c, "austin")), f3(tvd(c, "cpython")),
                         f3(tvd(c, "default", "line")), f3(tvd(c, "blocking", "line")), f3(floor(c, "line")),
                         f3(tvd(c, "default", "stack")), f3(tvd(c, "blocking", "stack")), f3(floor(c, "stack"))])
        out.append(table(head, rows))
        out.append("")
    return "\n".join(out)


def block_truth(r):
    head = ["Python", "workload", "events logged", "default: samples", "exact", "partial", "off-time", "wrong",
            "never existed", "blocking: samples", "exact", "off-time", "wrong", "austin: never existed",
            "CPython: never existed"]
    rows = []
    for c in r["cases"]:
        if "missing" in c:
            continue
        t = c.get("truth")
        if not t:
            rows.append([short(c["python"]), c["workload"], "error: %s" % c.get("errors", {}).get("run_truth", "?")]
                        + [""] * 12)
            continue
        d, b = t.get("default", {}), t.get("blocking", {})
        a, p = t.get("austin"), t.get("cpython")

        def peer(x):
            if not x or not x.get("samples"):
                return "–"
            return "%s %% of %d" % (pct(x["impossible"], x["samples"]), x["samples"])
        rows.append([short(c["python"]), c["workload"], t.get("events", 0), d.get("samples", 0),
                     pct(d.get("exact"), d.get("samples")), pct(d.get("partial"), d.get("samples")),
                     pct(d.get("offtime"), d.get("samples")), pct(d.get("wrong"), d.get("samples"), 2),
                     pct(d.get("impossible"), d.get("samples"), 2), b.get("samples", 0),
                     pct(b.get("exact"), b.get("samples")), pct(b.get("offtime"), b.get("samples")),
                     pct(b.get("wrong"), b.get("samples"), 2), peer(a), peer(p)])
    return "Shares in %.\n\n" + table(head, rows, ["---", "---"] + ["--:"] * 13)


def block_peers(r):
    head = ["Python", "austin", "CPython 3.15 sampler", "CPU µs per usable sample: default", "blocking", "austin",
            "CPython"]
    rows = []
    for py in pythons(r):
        cs = [c for c in r["cases"] if c["python"] == py and "missing" not in c]
        if not cs:
            continue
        st = {}
        for peer in ("austin", "cpython"):
            states = sorted({re.sub(r"\(\d+ empty samples\)", "(only empty stacks)", peer_state(r, c, peer))
                             for c in cs})
            st[peer] = "ran" if states == ["ran"] else "; ".join(states)

        def cpu(mode):
            cpu_s = usable_n = 0
            for c in cs:
                e = c.get("fidelity", {}).get(mode)
                if e and e.get("cpu_s") is not None and e.get("usable"):
                    cpu_s += e["cpu_s"]
                    usable_n += e["usable"]
            return "%.0f" % (1e6 * cpu_s / usable_n) if usable_n else "–"
        rows.append([short(py), st["austin"], st["cpython"], cpu("default"), cpu("blocking"), cpu("austin"),
                     cpu("cpython")])
    return ("CPU: the sampler's own CPU time (`wait4()`) over a whole fidelity window, attach included, "
            "divided by its usable samples, all workloads together.\n\n" + table(head, rows, ["---"] * 3 + ["--:"] * 4))


def plots(r, d):
    os.makedirs(d, exist_ok=True)
    pys = [p for p in pythons(r) if any("missing" not in c for c in r["cases"] if c["python"] == p)]
    labels = [short(p) for p in pys]
    for wl in ("diverse", "unittests", "callbacks"):
        series = [{"name": n, "values": [tvd(case(r, p, wl), m) for p in pys]}
                  for m, n in (("default", "pyspy default"), ("blocking", "pyspy --blocking"),
                               ("refB", "noise floor"), ("austin", "austin"), ("cpython", "CPython sampler"))]
        svgplot.bar_plot(os.path.join(d, "tvd-%s.svg" % wl),
                         "Leaf-function TVD against a --blocking reference: %s" % wl, "TVD (0 = identical)",
                         labels, series, hlines=[(0.10, "target 0.10")])
    series = [{"name": w["name"], "values": [None if usable(case(r, p, w["name"])) is None
                                             else 100 * usable(case(r, p, w["name"])) for p in pys]}
              for w in r["workloads"]]
    svgplot.bar_plot(os.path.join(d, "usable.svg"), "pyspy default mode: usable samples", "% of samples",
                     labels, series, ymax=100, hlines=[(98, "target 98 %")])

    def share(p, mode, k):
        n = x = 0
        for c in r["cases"]:
            if c["python"] == p:
                t = c.get("truth", {}).get(mode, {})
                n += t.get("samples", 0)
                x += t.get(k, 0)
        return 100.0 * x / n if n else None
    series = [{"name": n, "values": [share(p, m, k) for p in pys]}
              for m, k, n in (("default", "exact", "default exact"), ("default", "partial", "default partial"),
                              ("default", "offtime", "default off-time"), ("default", "wrong", "default wrong"),
                              ("blocking", "exact", "blocking exact"), ("blocking", "wrong", "blocking wrong"))]
    svgplot.bar_plot(os.path.join(d, "truth.svg"), "Samples against the target's own log (all workloads)",
                     "% of samples", labels, series, ymax=100)


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
        seen.add(m.group(1))
        if m.group(1) not in blocks:
            return m.group(0)
        return BEGIN % m.group(1) + "\n" + blocks[m.group(1)].rstrip("\n") + "\n" + END % m.group(1)
    text = BLOCK_RE.sub(sub, text)
    for name in BLOCKS:
        if name not in seen:
            text = text.rstrip("\n") + "\n\n" + BEGIN % name + "\n" + blocks[name].rstrip("\n") + "\n" + END % name + "\n"
    with open(path + ".tmp", "w") as fh:
        fh.write(text)
    os.replace(path + ".tmp", path)


def scrub(obj):
    """No machine paths in committed results."""
    if isinstance(obj, dict):
        return {k: scrub(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [scrub(v) for v in obj]
    if isinstance(obj, str):
        return re.sub(r"/(work|root|home|tmp)/\S*/", "", obj)
    if isinstance(obj, float):
        return float("%.4g" % obj)
    return obj


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--doc", required=True)
    ap.add_argument("--plots", required=True)
    ap.add_argument("--results-copy")
    a = ap.parse_args()
    with open(a.results) as fh:
        r = json.load(fh)
    blocks = {"header": block_header(r), "summary": block_summary(r), "fidelity": block_fidelity(r),
              "truth": block_truth(r), "peers": block_peers(r)}
    write_doc(a.doc, blocks)
    plots(r, a.plots)
    if a.results_copy:
        with open(a.results_copy, "w") as fh:
            json.dump(scrub(r), fh, indent=1, sort_keys=True)
            fh.write("\n")
    print(blocks["summary"])


if __name__ == "__main__":
    main()
