#!/usr/bin/env bash
# Bench suite: runs the smoke benchmark (bench/run.sh --smoke) so the harness
# cannot rot, and reports what it measured, one line per phase.  It fails
# only when the harness breaks (exits non-zero, writes no results, or a
# phase measures nothing), never because of a figure.
#
# usage: tests/bench/run.sh
. "$(dirname "$0")/../lib.sh"
cd "$PYSPY_ROOT" || exit 1
t_tmpdir
OUT=$T_TMP/smoke
PY=$(command -v /usr/bin/python3 || command -v python3 || true)

for b in "$BUILD/bench/sample_times" "$BUILD/bench/rusage_exec" "$BUILD/bench/gen_capture"; do
	if [ ! -x "$b" ]; then
		t_fail "bench smoke: $b built" "missing (make BUILD=$BUILD tests)"
		exit 0
	fi
done

sum_docs() { cat docs/performance.md docs/perf/* 2>/dev/null | cksum; }
before=$(sum_docs)
t0=$(date +%s)
if BENCH_OUT=$OUT bench/run.sh --smoke >"$T_TMP/out" 2>"$T_TMP/err"; then
	t_ok "bench smoke: harness ran ($(( $(date +%s) - t0 )) s)"
else
	t_fail "bench smoke: harness ran" "exit $?"
	tail -n 20 "$T_TMP/err" | sed 's/^/    /'
	exit 0
fi

# One line per phase from results.json (python: the harness needs it anyway).
"$PY" - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
res = json.load(open(os.path.join(out, "results.json")))

def ok(name, what):
    print("ok - bench smoke: %s: %s" % (name, what))

def bad(name, why):
    print("not ok - bench smoke: %s # %s" % (name, why))

def skip(name, why):
    print("skip - bench smoke: %s # %s" % (name, why))

def stderr_of(cfgs):
    for c in cfgs:
        for r in c.get("raw", []):
            if r.get("rc"):
                return (r.get("stderr") or "").splitlines()[-1:] or ["exit %s" % r["rc"]]
    return [""]

# Without ptrace rights (containers, yama) the captures cannot attach: report
# the phases that need them as skipped, with the capture's own message.
noptrace = None
for c in res.get("capture", {}).values():
    for s in c.get("configs", []):
        for r in s.get("raw", []):
            e = r.get("stderr") or ""
            if r.get("rc") and ("ptrace" in e or "ermission" in e):
                noptrace = e.splitlines()[-1]

def bad_or_skip(name, why):
    (skip if noptrace else bad)(name, noptrace or why)

cap = res.get("capture", {})
if not cap:
    bad("capture", "phase produced no results")
for fam, c in cap.items():
    if "missing" in c:
        skip("capture %s" % fam, c["missing"])
        continue
    for s in c.get("configs", []):
        name = "capture %s %d thread(s) x %d frames %d Hz" % (fam, s.get("threads", 0), s.get("depth", 0), s.get("rate", 0))
        if "error" in s:
            bad(name, s["error"])
        elif not s.get("samples"):
            why = stderr_of([s])[0]
            if "ptrace" in why or "ermission" in why:
                skip(name, why)
            else:
                bad(name, "no samples: %s" % why)
        elif s.get("cost_us_median") is None:
            bad(name, "no steady-state window measured")
        else:
            ok(name, "%.1f us/sample median, %.1f%% delivered, peak RSS %.1f MB" % (
                s["cost_us_median"], s.get("achieved_pct") or 0, s["maxrss_kb"] / 1024.0))

for fam, sd in res.get("slowdown", {}).items():
    if "missing" in sd:
        skip("slowdown %s" % fam, sd["missing"])
        continue
    modes = sd.get("modes", {})
    rates = {m: [x["rate"] for x in v if "rate" in x] for m, v in modes.items()}
    if all(rates.values()) and rates:
        ok("slowdown %s" % fam, ", ".join("%s %.0f it/s" % (m, v[0]) for m, v in rates.items()))
    else:
        errs = [x.get("error") for v in modes.values() for x in v if "error" in x]
        bad_or_skip("slowdown %s" % fam, "no work rate for %s: %s" % (
            ", ".join(m for m, v in rates.items() if not v), errs[:1]))

a = res.get("austin", {})
if "missing" in a:
    skip("austin side by side", a["missing"])
else:
    for c in a.get("configs", []):
        name = "austin side by side %d x %d %d Hz" % (c["threads"], c["depth"], c["rate"])
        if "error" in c:
            bad(name, c["error"])
        elif not c["pyspy"].get("samples") or not c["austin"].get("samples"):
            bad_or_skip(name, "no samples (pyspy %s, austin %s)" % (c["pyspy"].get("samples"), c["austin"].get("samples")))
        else:
            p, q = c["pyspy"]["cost_us_whole_run"], c["austin"]["cost_us_whole_run"]
            ok(name, "cost per sample pyspy/austin %.2f (whole run)" % (p / q))

for r in res.get("size", {}).get("runs", []):
    name = "size %s %s %s" % (r.get("family"), r.get("workload", ""), r.get("tool", ""))
    if "missing" in r:
        skip(name, r["missing"])
    elif "error" in r or not r.get("samples"):
        bad_or_skip(name, r.get("error", "no samples"))
    else:
        ok(name, "%.2f bytes/sample over %d samples" % (r["bytes_per_sample"], r["samples"]))

fl = res.get("floor", {})
if fl.get("rows") and all(x.get("cost_us_median") for x in fl["rows"]):
    ok("machine floor", ", ".join("%d Hz %s %.1f us/tick" % (x["rate"], "+syscalls" if x["syscalls"] else "timer",
                                                           x["cost_us_median"]) for x in fl["rows"]))
else:
    bad_or_skip("machine floor", fl.get("error", "tick_floor gave no figure"))

rows = res.get("synth", {}).get("rows", [])
if rows and all(r.get("bytes_per_sample") for r in rows):
    ok("synthetic size", ", ".join("%s %.3f bytes/sample" % (r["workload"], r["bytes_per_sample"]) for r in rows))
else:
    bad("synthetic size", "gen_capture gave no size")

rows = res.get("analysis", {}).get("rows", [])
failed = [r for r in rows if r.get("failed") or "error" in r]
if rows and not failed:
    load = [r for r in rows if r["step"] == "load"]
    ok("analysis", "%d steps; load %s" % (len(rows), ", ".join(
        "%s %.2f M samples/s" % (r["workload"], r["samples"] / r["wall_s"] / 1e6) for r in load)))
else:
    bad("analysis", "; ".join("%s %s: %s" % (r["workload"], r["step"], r.get("err") or r.get("error"))
                              for r in failed[:3]) or "no results")

doc = os.path.join(out, "performance.md")
text = open(doc).read() if os.path.exists(doc) else ""
blocks = text.count("<!-- generated:begin ")
svgs = [f for f in os.listdir(os.path.join(out, "perf")) if f.endswith(".svg")] if os.path.isdir(os.path.join(out, "perf")) else []
if blocks >= 9 and len(svgs) >= 3 and os.environ.get("PYSPY_ROOT", os.getcwd()) not in text:
    ok("report", "performance.md with %d generated blocks, %d plots" % (blocks, len(svgs)))
else:
    bad("report", "performance.md has %d generated blocks, %d plots" % (blocks, len(svgs)))
EOF
# The smoke run must never touch the committed document.
if [ "$(sum_docs)" = "$before" ]; then
	t_ok "bench smoke: docs/performance.md and docs/perf/ untouched"
else
	t_fail "bench smoke: docs/performance.md and docs/perf/ untouched" "they changed during the run"
fi

# ---------------------------------------------------------------- accuracy
# A very short run of the accuracy harness (bench/accuracy, `make
# accuracy`) on one interpreter and two workloads: it must run and give
# sane, in-range figures.  No accuracy target is asserted here.
label=$(PYSPY_NO_FETCH=1 "$PYSPY_ROOT/tests/interpreters.sh" --available | awk -F'\t' '$1 ~ /^debian-/ { print $1; exit }')
[ -n "$label" ] || label=$(PYSPY_NO_FETCH=1 "$PYSPY_ROOT/tests/interpreters.sh" --available | awk -F'\t' 'NR == 1 { print $1 }')
if [ -z "$label" ]; then
	t_skip "accuracy smoke" "no working Python interpreter (tests/interpreters.sh)"
	exit 0
fi
ACC=$T_TMP/accuracy
before=$(cat docs/accuracy.md docs/accuracy/* 2>/dev/null | cksum)
t0=$(date +%s)
if "$PY" bench/accuracy/accuracy.py --bin "$BIN" --out "$ACC" --seconds 1 --gt-seconds 0.5 \
	--pythons "$label" --workloads deep,callbacks >"$T_TMP/acc.out" 2>"$T_TMP/acc.err" &&
	"$PY" bench/accuracy/report.py "$ACC/results.json" --doc "$ACC/accuracy.md" --plots "$ACC/plots" \
		>"$T_TMP/acc.report" 2>>"$T_TMP/acc.err"; then
	t_ok "accuracy smoke: harness and report ran on $label ($(( $(date +%s) - t0 )) s)"
else
	t_fail "accuracy smoke: harness and report ran on $label" "exit $?"
	tail -n 20 "$T_TMP/acc.err" | sed 's/^/    /'
	exit 0
fi
"$PY" - "$ACC" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
r = json.load(open(os.path.join(out, "results.json")))

def ok(name, what):
    print("ok - accuracy smoke: %s: %s" % (name, what))

def bad(name, why):
    print("not ok - accuracy smoke: %s # %s" % (name, why))

def inrange(x, lo=0.0, hi=1.0):
    return x is not None and lo <= x <= hi

for c in r["cases"]:
    name = "%s %s" % (c["python"], c["workload"])
    if c.get("errors"):
        bad(name, "errors: %s" % c["errors"])
        continue
    fi = c.get("fidelity", {})
    probs = []
    for mode in ("refA", "refB", "default", "blocking"):
        e = fi.get(mode)
        if not e or not e.get("samples"):
            probs.append("%s: no samples" % mode)
            continue
        if not 0 <= e["usable"] <= e["samples"]:
            probs.append("%s: usable %s of %s" % (mode, e["usable"], e["samples"]))
        for k, v in e.get("tvd", {}).items():
            if not inrange(v):
                probs.append("%s: TVD %s = %s" % (mode, k, v))
        if mode != "refA" and "tvd" not in e:
            probs.append("%s: no TVD" % mode)
    t = c.get("truth", {})
    for mode in ("default", "blocking"):
        e = t.get(mode)
        if not e or not e.get("samples"):
            probs.append("truth %s: no samples" % mode)
            continue
        if e["exact"] + e["partial"] + e["offtime"] + e["wrong"] != e["samples"] or e["impossible"] > e["samples"]:
            probs.append("truth %s: shares do not add up: %s" % (mode, e))
    if not t.get("events"):
        probs.append("truth: no events logged")
    if probs:
        bad(name, "; ".join(probs))
    else:
        d, b = fi["default"], t["default"]
        ok(name, "%d samples, usable %.1f %%, leaf TVD %.3f (floor %.3f), truth exact %.1f %% of %d" % (
            d["samples"], 100.0 * d["usable"] / d["samples"], d["tvd"]["leaf"], fi["refB"]["tvd"]["leaf"],
            100.0 * b["exact"] / b["samples"], b["samples"]))
doc = open(os.path.join(out, "accuracy.md")).read()
svgs = [f for f in os.listdir(os.path.join(out, "plots")) if f.endswith(".svg")]
peers = "generated:begin peers" in doc and ("austin" in doc)
if doc.count("<!-- generated:begin ") == 5 and len(svgs) >= 4 and peers:
    ok("report", "accuracy.md with 5 generated blocks, %d plots" % len(svgs))
else:
    bad("report", "accuracy.md has %d generated blocks, %d plots" % (doc.count("<!-- generated:begin "), len(svgs)))
PYEOF
if [ "$(cat docs/accuracy.md docs/accuracy/* 2>/dev/null | cksum)" = "$before" ]; then
	t_ok "accuracy smoke: docs/accuracy.md and docs/accuracy/ untouched"
else
	t_fail "accuracy smoke: docs/accuracy.md and docs/accuracy/ untouched" "they changed during the run"
fi
