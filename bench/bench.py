#!/usr/bin/env python3
"""pyspy benchmark harness (run by bench/run.sh; see bench/README.md).

Measures, on this machine, now:
  capture   cost per sample, achieved rate and peak RSS of pyspy-capture
            against bench/targets/cpu.py (depth x threads x rate), one
            interpreter per layout family
  slowdown  the target's own work rate with and without a capture
            (--nonblocking / --blocking, 100 Hz / 1 kHz; austin on 3.8)
  austin    pyspy and Debian's austin side by side on python3.8, same
            targets, alternating in the same run
  size      bytes per sample of real captures (steady and diverse targets;
            austin's raw and zstd-compressed output)
  synth     bytes per sample and writer speed of synthetic captures
            (bench/gen_capture, the format section's method)
  analysis  pyspy-analyze load rate and report times over synthetic 1 M and
            10 M sample captures

and writes OUT/results.json (every raw figure).  bench/report.py turns it
into the table, docs/performance.md and the SVG plots.

How capture cost is measured (also written into the document):
  * the capture's CPU time (user + system) is read from
    /proc/PID/task/*/schedstat (ns) every window while it runs, and from
    wait4()'s rusage when it ends;
  * samples per window come from the capture file's own sample times
    (bench/sample_times; CLOCK_MONOTONIC via the header's start_mono_ns),
    for austin from the lines its output file holds at each poll;
  * cost per sample of a window = CPU time of the window / samples in it;
    the attach (first 0.25 s) and the last, partial window are left out
    ("steady state"); median and 95th percentile over all windows of all
    repetitions; "whole run" = wait4 CPU / all samples, attach and close
    included.
"""
import argparse
import ctypes
import json
import os
import platform
import random
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGETS = os.path.join(ROOT, "bench", "targets")

# ------------------------------------------------------------------ utils

CHILDREN = set()          # Popen objects still running (killed at exit)
_libc = None


def _pdeathsig():
    # Targets and tools die with the harness, whatever happens to it.
    try:
        _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def spawn(cmd, **kw):
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _libc = False
    kw.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(cmd, preexec_fn=_pdeathsig if _libc else None, **kw)
    CHILDREN.add(p)
    return p


def reap(p, options=0):
    """wait4() a child: (status, rusage) or None if still running."""
    pid, status, ru = os.wait4(p.pid, options)
    if pid == 0:
        return None
    p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") \
        else (-(status & 0x7f) if status & 0x7f else status >> 8)
    CHILDREN.discard(p)
    return p.returncode, ru


def kill(p):
    if p.returncode is None:
        try:
            p.kill()
        except OSError:
            pass
        try:
            reap(p)
        except ChildProcessError:
            p.returncode = -9
    CHILDREN.discard(p)
    for f in (p.stdout, p.stderr):
        if f:
            f.close()


def kill_all():
    for p in list(CHILDREN):
        kill(p)


class Measured:
    """A command run under bench/rusage_exec: CPU time and peak RSS from
    wait4() of a small parent, so the figures are the command's own."""

    def __init__(self, ctx, cmd, stdout=None, stderr=None):
        pre = [ctx.rusage_exec] + (["-o", stdout] if stdout else [])
        self.w = spawn(pre + list(cmd), stdout=subprocess.PIPE, stderr=stderr,
                       universal_newlines=True)
        line = self.w.stdout.readline()
        m = re.match(r"pid (\d+)$", line.strip())
        if not m:
            kill(self.w)
            raise RuntimeError("rusage_exec did not start %s" % cmd[0])
        self.pid = int(m.group(1))
        self.result = None

    def _finish(self):
        rest = self.w.stdout.read()
        self.w.stdout.close()
        m = re.search(r"exit (-?\d+) (\d+) (\d+) (\d+)", rest)
        if not m:
            raise RuntimeError("rusage_exec gave no result")
        rc, ut, st, rss = (int(x) for x in m.groups())
        self.result = {"rc": rc, "cpu_s": (ut + st) / 1e6, "maxrss_kb": rss}
        return self.result

    def done(self):
        """The result once the command has ended, else None."""
        if self.result is None and reap(self.w, os.WNOHANG) is not None:
            self._finish()
        return self.result

    def wait(self, timeout=None):
        t_end = None if timeout is None else time.monotonic() + timeout
        while self.done() is None:
            if t_end is not None and time.monotonic() > t_end:
                return None
            time.sleep(0.01)
        return self.result

    def signal(self, signo):
        if self.result is None:
            try:
                os.kill(self.pid, signo)
            except OSError:
                pass

    def kill(self):
        self.signal(signal.SIGKILL)
        kill(self.w)


def on_signal(signo, frame):
    kill_all()
    sys.stderr.write("bench: interrupted\n")
    os._exit(130)


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def proc_cpu_ns(pid):
    """CPU time (ns, user + system) of every thread of pid, or None."""
    total = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def ru_cpu(ru):
    return ru.ru_utime + ru.ru_stime


def median(xs):
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """p-th percentile, linear interpolation (numpy's default)."""
    if not xs:
        return None
    s = sorted(xs)
    k = (len(s) - 1) * p / 100.0
    i = int(k)
    if i + 1 >= len(s):
        return s[-1]
    return s[i] + (s[i + 1] - s[i]) * (k - i)


def run_cmd(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return "unavailable (%s)" % e


# ------------------------------------------------------------------ config

class Ctx:
    pass


def tool_paths(ctx):
    ctx.capture = os.path.join(ctx.bin, "pyspy-capture")
    ctx.analyze = os.path.join(ctx.bin, "pyspy-analyze")
    ctx.sample_times = os.path.join(ctx.build, "bench", "sample_times")
    ctx.gen_capture = os.path.join(ctx.build, "bench", "gen_capture")
    ctx.capture_stats = os.path.join(ctx.build, "examples", "capture_stats")
    ctx.rusage_exec = os.path.join(ctx.build, "bench", "rusage_exec")
    ctx.tick_floor = os.path.join(ctx.build, "bench", "tick_floor")
    for p in (ctx.capture, ctx.analyze, ctx.sample_times, ctx.gen_capture, ctx.rusage_exec,
              ctx.tick_floor):
        if not os.access(p, os.X_OK):
            sys.exit("bench: %s is missing; build first (make BUILD=%s tests)" % (p, ctx.build))
    ctx.austin = shutil.which("austin")
    ctx.zstd = shutil.which("zstd")


FAMILIES = [  # (family, preferred labels in order)
    ("2.7", ["pyenv-2.7"]),
    ("3.8", ["pyenv-3.8"]),
    ("3.10", ["pyenv-3.10"]),
    ("3.11", ["pyenv-3.11", "debian-3.11"]),
    ("3.12", ["pyenv-3.12"]),
    ("3.13+", ["pyenv-3.13", "sid-3.13", "sid-3.14", "sid-3.15"]),
]


def interpreters(ctx):
    """{family: {label, cmd, note}} or {family: {missing: why}}."""
    env = dict(os.environ)
    out = subprocess.run([os.path.join(ROOT, "tests", "interpreters.sh")], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, env=env).stdout
    rows = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3:
            rows.append(parts)
    fams = {}
    for fam, prefixes in FAMILIES:
        pick = None
        for pre in prefixes:
            for label, cmd, note in rows:
                if cmd and (label == pre or label.startswith(pre + ".")):
                    pick = {"label": label, "cmd": cmd, "note": note}
                    break
            if pick:
                break
        if not pick:
            why = "; ".join("%s: %s" % (l, n) for l, c, n in rows
                            if any(l == p or l.startswith(p + ".") for p in prefixes))
            pick = {"missing": why or "no interpreter of this family listed by tests/interpreters.sh"}
        fams[fam] = pick
    return fams, rows


# ------------------------------------------------------------------ targets

class Target:
    def __init__(self, ctx, python, script, args, name):
        self.log = os.path.join(ctx.work, "target-%s.err" % name)
        self.p = spawn([python, os.path.join(TARGETS, script)] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=open(self.log, "w"),
                       universal_newlines=True)
        self.pid = None
        self.lines = []

    def readline(self, timeout):
        r, _, _ = select.select([self.p.stdout], [], [], timeout)
        if not r:
            return None
        line = self.p.stdout.readline()
        if line:
            self.lines.append(line.strip())
        return line

    def wait_ready(self, timeout=120):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            line = self.readline(max(0.0, t_end - time.monotonic()))
            if line is None:
                break
            if line == "":
                raise RuntimeError("target exited before ready: %s" % self.tail())
            m = re.match(r"ready (\d+)$", line.strip())
            if m:
                self.pid = int(m.group(1))
                return
        raise RuntimeError("target not ready after %d s: %s" % (timeout, self.tail()))

    def wait_rate(self, timeout):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            line = self.readline(max(0.0, t_end - time.monotonic()))
            if not line:
                break
            m = re.match(r"rate ([0-9.]+)(?: ([0-9.]+) ([0-9.]+))?$", line.strip())
            if m:
                reap(self.p)
                if m.group(2) is None:
                    return float(m.group(1))
                return float(m.group(1)), float(m.group(2)), float(m.group(3))
        raise RuntimeError("target gave no rate: %s" % self.tail())

    def tail(self):
        try:
            with open(self.log) as f:
                return " | ".join(f.read().strip().splitlines()[-3:])
        except OSError:
            return "?"

    def stop(self):
        kill(self.p)


# ------------------------------------------------------------------ one capture run

def read_sample_times(ctx, path):
    out = subprocess.run([ctx.sample_times, "--bucket-us", "100", path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, universal_newlines=True)
    info = {"buckets": [], "thread_list": [], "read_error": out.stderr.strip() or None}
    for line in out.stdout.splitlines():
        k, _, v = line.partition(" ")
        if k == "bucket":
            a, b = v.split()
            info["buckets"].append((int(a), int(b)))
        elif k == "thread":
            tid, n, first, last = (int(x) for x in v.split())
            info["thread_list"].append({"tid": tid, "samples": n, "first_ns": first, "last_ns": last})
        elif k == "trailer":
            info["trailer"] = {kv.split("=")[0]: int(kv.split("=")[1]) for kv in v.split()}
        else:
            info[k] = int(v)
    return info


class Poller:
    """Polls a tool's CPU time (and, for austin, its output's line count)."""

    def __init__(self, pid, count_file=None):
        self.pid = pid
        self.count_file = count_file
        self.f = None
        self.lines = 0
        self.polls = []   # (mono_ns, cpu_ns, lines)

    def poll(self):
        now = time.monotonic_ns()
        cpu = proc_cpu_ns(self.pid)
        if self.count_file is not None:
            if self.f is None:
                try:
                    self.f = open(self.count_file, "rb")
                except OSError:
                    pass
            if self.f is not None:
                while True:
                    b = self.f.read(1 << 20)
                    if not b:
                        break
                    self.lines += b.count(b"\n")
        if cpu is not None:
            self.polls.append((now, cpu, self.lines))

    def close(self):
        if self.f:
            self.f.close()


def run_tool(ctx, tool, pid, rate, seconds, window, out, mode="nonblocking"):
    """One capture of pid by tool ('pyspy' or 'austin') for `seconds`.

    Returns a dict of raw figures (see the module docstring)."""
    if os.path.exists(out):
        os.unlink(out)
    err = open(out + ".err", "w")
    t0 = time.monotonic_ns()
    if tool == "pyspy":
        cmd = [ctx.capture, "-q", "-r", str(rate), "-d", "%g" % seconds, "--" + mode,
               "-o", out, "-p", str(pid)]
    else:
        cmd = [ctx.austin, "-i", str(int(round(1e6 / rate))), "-o", out, "-p", str(pid)]
    p = Measured(ctx, cmd, stderr=err)
    poller = Poller(p.pid, count_file=out if tool == "austin" else None)
    res = None
    k = 0
    stop_sent = False
    deadline = t0 + int(seconds * 1e9)
    try:
        while res is None:
            k += 1
            nxt = t0 + int(k * window * 1e9)
            now = time.monotonic_ns()
            if nxt > now:
                time.sleep((nxt - now) / 1e9)
            poller.poll()
            res = p.done()
            if res is None and tool == "austin" and not stop_sent and time.monotonic_ns() >= deadline:
                p.signal(signal.SIGINT)
                stop_sent = True
            if res is None and time.monotonic_ns() > deadline + 30e9:
                raise RuntimeError("%s did not stop: %s" % (tool, " ".join(cmd)))
    finally:
        if res is None:
            p.kill()
        poller.close()
        err.close()
    wall = (time.monotonic_ns() - t0) / 1e9
    rc = res["rc"]
    with open(out + ".err") as f:
        errtext = f.read()
    os.unlink(out + ".err")
    r = {"tool": tool, "rate": rate, "seconds": seconds, "mode": mode, "rc": rc,
         "cpu_s": res["cpu_s"], "maxrss_kb": res["maxrss_kb"], "wall_s": wall,
         "bytes": os.path.getsize(out) if os.path.exists(out) else 0,
         "stderr": errtext.strip()[-2000:]}
    polls = poller.polls
    if tool == "pyspy":
        st = read_sample_times(ctx, out)
        r["samples"] = st.get("samples", 0)
        r["partial"] = st.get("partial", 0)
        r["empty"] = st.get("empty", 0)
        r["threads_seen"] = st.get("threads", 0)
        r["depth_median"] = st.get("depth_median")
        r["depth_max"] = st.get("depth_max")
        r["trailer"] = st.get("trailer")
        r["read_error"] = st["read_error"]
        start = st.get("start_mono_ns", 0)
        # cumulative samples at each poll time
        bt = [(start + a * 1000, n) for a, n in st["buckets"]]
        first = bt[0][0] if bt else None
        last = bt[-1][0] if bt else None
        cum = []
        j = 0
        acc = 0
        for (tm, cpu, _) in polls:
            while j < len(bt) and bt[j][0] < tm:
                acc += bt[j][1]
                j += 1
            cum.append(acc)
    else:
        txt_samples, threads = count_austin(out)
        r["samples"] = txt_samples
        r["threads_seen"] = threads
        r["partial"] = r["empty"] = 0
        cum = [n for (_, _, n) in polls]
        nz = [tm for (tm, _, n) in polls if n > 0]
        first = nz[0] if nz else None
        last = polls[-1][0] if polls else None
        if stop_sent:
            last = min(last, deadline) if last else None
        m = re.search(r"Sampling time \(min/avg/max\) : (\d+)/(\d+)/(\d+) us", errtext)
        if m:
            r["austin_sampling_us"] = [int(x) for x in m.groups()]
    # steady-state windows
    wins = []
    if first is not None:
        skip = first + 250_000_000
        for i in range(1, len(polls)):
            a, b = polls[i - 1], polls[i]
            if a[0] < skip or last is None or b[0] > last:
                continue
            n = cum[i] - cum[i - 1]
            wins.append({"dt": (b[0] - a[0]) / 1e9, "cpu": (b[1] - a[1]) / 1e9, "n": n})
    r["windows"] = wins
    return r


def count_austin(path):
    n = 0
    threads = set()
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(b"Thread "):
                    n += 1
                    threads.add(line.split(b";", 1)[0])
    except OSError:
        pass
    return n, len(threads)


def summarize(runs, threads, rate):
    """Median/p95 cost per sample over steady windows, achieved rate, RSS."""
    costs, n_tot, dt_tot, cpu_tot = [], 0, 0.0, 0.0
    for r in runs:
        for w in r["windows"]:
            n_tot += w["n"]
            dt_tot += w["dt"]
            cpu_tot += w["cpu"]
            if w["n"] > 0:
                costs.append(w["cpu"] / w["n"] * 1e6)
    s = {
        "runs": len(runs),
        "windows": len(costs),
        "cost_us_median": median(costs),
        "cost_us_p95": pct(costs, 95),
        "cost_us_steady_mean": cpu_tot / n_tot * 1e6 if n_tot else None,
        "cost_us_whole_run": median([r["cpu_s"] / r["samples"] * 1e6 for r in runs if r["samples"]]),
        "core_pct": cpu_tot / dt_tot * 100 if dt_tot else None,
        "achieved_hz": n_tot / dt_tot / threads if dt_tot else None,
        "maxrss_kb": max(r["maxrss_kb"] for r in runs) if runs else None,
        "maxrss_kb_median": median([r["maxrss_kb"] for r in runs]),
        "samples": sum(r["samples"] for r in runs),
        "partial": sum(r.get("partial", 0) for r in runs),
        "bytes_per_sample": median([r["bytes"] / r["samples"] for r in runs if r["samples"]]),
        "failed": sum(1 for r in runs if r["rc"] != 0),
        "depth_median": median([r["depth_median"] for r in runs if r.get("depth_median") is not None]),
        "errors": sum((r.get("trailer") or {}).get("errors", 0) for r in runs),
        "missed": sum((r.get("trailer") or {}).get("missed", 0) for r in runs),
        "ticks": sum((r.get("trailer") or {}).get("ticks", 0) for r in runs),
    }
    if s["achieved_hz"] is not None:
        s["achieved_pct"] = s["achieved_hz"] / rate * 100
    a = [r["austin_sampling_us"][1] for r in runs if r.get("austin_sampling_us")]
    if a:
        s["austin_reported_sampling_us_avg"] = median(a)
    return s


def run_seconds(ctx, rate):
    return ctx.seconds * (2 if rate <= 100 else 1)


def window_for(rate):
    return 0.25 if rate <= 100 else 0.1


# ------------------------------------------------------------------ phases

def phase_capture(ctx, res):
    """Cost per sample x (depth, threads, rate) per interpreter family."""
    out = res.setdefault("capture", {})
    if ctx.smoke:
        configs = [(30, 1, [1000]), (100, 8, [1000])]
        fams = [ctx.smoke_family]
    else:
        configs = [(5, 1, [100, 1000, 10000]), (30, 1, [100, 1000, 10000]),
                   (100, 1, [100, 1000, 10000]), (1000, 1, [100, 1000, 10000]),
                   (30, 8, [100, 1000, 10000]), (30, 64, [100, 1000, 10000]),
                   (5, 8, [1000]), (100, 8, [1000]), (1000, 8, [1000]),
                   (5, 64, [1000]), (100, 64, [1000]), (1000, 64, [1000])]
        fams = [f for f, _ in FAMILIES]
    for fam in fams:
        interp = ctx.interps.get(fam, {})
        if "cmd" not in interp:
            out[fam] = {"missing": interp.get("missing", "?")}
            log("capture %s: skipped (%s)" % (fam, out[fam]["missing"]))
            continue
        fres = out.setdefault(fam, {"label": interp["label"], "note": interp["note"], "configs": []})
        fres["load_start"] = loadavg()
        for depth, threads, rates in configs:
            name = "%s-d%d-t%d" % (fam, depth, threads)
            tgt = Target(ctx, interp["cmd"], "cpu.py", [depth, threads], name)
            runs = {rate: [] for rate in rates}
            try:
                tgt.wait_ready()
                for rep in range(ctx.repeat):
                    order = rates[rep % len(rates):] + rates[:rep % len(rates)]
                    for rate in order:
                        f = os.path.join(ctx.work, name + "-%d.pyspy" % rate)
                        r = run_tool(ctx, "pyspy", tgt.pid, rate, run_seconds(ctx, rate),
                                     window_for(rate), f)
                        runs[rate].append(r)
                        os.unlink(f)
                        time.sleep(0.1)
            except RuntimeError as e:
                log("capture %s: %s" % (name, e))
                fres["configs"].append({"depth": depth, "threads": threads, "error": str(e)})
                continue
            finally:
                tgt.stop()
            for rate in rates:
                s = summarize(runs[rate], threads, rate)
                s.update({"depth": depth, "threads": threads, "rate": rate,
                          "raw": [{k: v for k, v in r.items() if k != "windows"} for r in runs[rate]],
                          "window_costs_us": [w["cpu"] / w["n"] * 1e6 for r in runs[rate]
                                              for w in r["windows"] if w["n"]]})
                fres["configs"].append(s)
                log("capture %-5s depth %4d threads %2d %5d Hz: %s us median, %s us p95, "
                    "%s%% of requested, %s KB" % (fam, depth, threads, rate, fmt(s["cost_us_median"]),
                                                 fmt(s["cost_us_p95"]), fmt(s.get("achieved_pct")),
                                                 s["maxrss_kb"]))
        fres["load_end"] = loadavg()
        ctx.save()


def phase_floor(ctx, res):
    """CPU per tick of an empty timer loop, and of one with the two system
    calls a sampler cannot avoid (bench/tick_floor): the machine's floor."""
    out = res.setdefault("floor", {})
    fam = "3.11" if "cmd" in ctx.interps.get("3.11", {}) else ctx.smoke_family
    interp = ctx.interps[fam]
    out["label"] = interp["label"]
    rates = [1000] if ctx.smoke else [100, 1000, 10000]
    tgt = Target(ctx, interp["cmd"], "cpu.py", [30, 1], "floor")
    rows = out["rows"] = []
    try:
        tgt.wait_ready()
        for rate in rates:
            for with_pid in (False, True):
                per, deliv = [], []
                for rep in range(ctx.repeat):
                    so = os.path.join(ctx.work, "floor.out")
                    secs = run_seconds(ctx, rate)
                    cmd = [ctx.tick_floor, str(rate), "%g" % secs] + (
                        [str(tgt.pid)] if with_pid else [])
                    r = Measured(ctx, cmd, stdout=so).wait()
                    with open(so) as fh:
                        m = re.search(r"ticks (\d+)", fh.read())
                    if r["rc"] == 0 and m and int(m.group(1)):
                        per.append(r["cpu_s"] / int(m.group(1)) * 1e6)
                        deliv.append(int(m.group(1)) / (rate * secs - 1) * 100)
                row = {"rate": rate, "syscalls": with_pid, "runs": len(per),
                       "cost_us_median": median(per), "cost_us_max": max(per) if per else None,
                       "delivered_pct": median(deliv)}
                rows.append(row)
                log("floor %5d Hz %-24s %s us per tick" % (
                    rate, "+ readv + pread" if with_pid else "timer only", fmt(row["cost_us_median"], 2)))
    except RuntimeError as e:
        out["error"] = str(e)
    finally:
        tgt.stop()
    ctx.save()


def fmt(x, d=1):
    return "-" if x is None else ("%.*f" % (d, x))


def phase_slowdown(ctx, res):
    """The target's work rate with and without a capture, interleaved."""
    out = res.setdefault("slowdown", {})
    warm, secs = (0.5, 1.0) if ctx.smoke else (1.0, 3.0)
    plans = []
    if ctx.smoke:
        plans.append((ctx.smoke_family, ["none", "pyspy-nonblocking-1000"]))
    else:
        plans.append(("3.11", ["none", "pyspy-nonblocking-100", "pyspy-nonblocking-1000",
                               "pyspy-blocking-100", "pyspy-blocking-1000"]))
        modes38 = ["none", "pyspy-nonblocking-100", "pyspy-nonblocking-1000",
                   "pyspy-blocking-100", "pyspy-blocking-1000"]
        if ctx.austin:
            modes38 += ["austin-100", "austin-1000"]
        plans.append(("3.8", modes38))
    reps = 1 if ctx.smoke else ctx.slow_repeat
    for fam, modes in plans:
        interp = ctx.interps.get(fam, {})
        if "cmd" not in interp:
            out[fam] = {"missing": interp.get("missing", "?")}
            continue
        fres = {"label": interp["label"], "note": interp["note"], "warmup_s": warm,
                "seconds": secs, "load_start": loadavg(), "modes": {m: [] for m in modes}}
        out[fam] = fres
        for rep in range(reps):
            order = modes[rep % len(modes):] + modes[:rep % len(modes)]
            for mode in order:
                tgt = Target(ctx, interp["cmd"], "cpu.py", [30, 1, warm, secs],
                             "slow-%s-%s" % (fam, mode))
                cap = None
                try:
                    tgt.wait_ready()
                    entry = {}
                    if mode != "none":
                        tool, _, rest = mode.partition("-")
                        if tool == "pyspy":
                            how, rate = rest.rsplit("-", 1)
                        else:
                            how, rate = "nonblocking", rest
                        f = os.path.join(ctx.work, "slow.out")
                        if os.path.exists(f):
                            os.unlink(f)
                        cmd = ([ctx.capture, "-q", "-r", rate, "--" + how, "-o", f, "-p",
                                str(tgt.pid)] if tool == "pyspy" else
                               [ctx.austin, "-i", str(int(1e6 / int(rate))), "-o", f, "-p",
                                str(tgt.pid)])
                        t0 = time.monotonic()
                        caperr = open(f + ".err", "w")
                        cap = Measured(ctx, cmd, stderr=caperr)
                    entry["rate"], entry["rate_cpu"], entry["cpu_share"] = \
                        tgt.wait_rate(warm + secs + 60)
                    if cap is not None:
                        r = cap.wait(20)
                        if r is None:
                            cap.signal(signal.SIGINT)
                            r = cap.wait(20)
                        if r is None:
                            raise RuntimeError("the capture did not end with its target")
                        wall = time.monotonic() - t0
                        entry.update({"cpu_s": r["cpu_s"], "wall_s": wall,
                                      "maxrss_kb": r["maxrss_kb"], "rc": r["rc"]})
                        caperr.close()
                        with open(f + ".err") as e:
                            entry["stderr"] = e.read().strip()[-1000:]
                        if tool == "pyspy" and os.path.exists(f):
                            st = read_sample_times(ctx, f)
                            entry["samples"] = st.get("samples", 0)
                        elif os.path.exists(f):
                            entry["samples"] = count_austin(f)[0]
                    fres["modes"][mode].append(entry)
                except RuntimeError as e:
                    log("slowdown %s %s: %s" % (fam, mode, e))
                    fres["modes"][mode].append({"error": str(e)})
                finally:
                    tgt.stop()
                    if cap is not None:
                        cap.kill()
                log("slowdown %s %-24s rep %d: %s" % (fam, mode, rep + 1,
                                                       fres["modes"][mode][-1].get("rate")))
        fres["load_end"] = loadavg()
        ctx.save()


def phase_austin(ctx, res):
    """pyspy and austin alternating on the same python3.8 targets."""
    out = res.setdefault("austin", {})
    interp = ctx.interps.get("3.8", {})
    if not ctx.austin:
        out["missing"] = "austin not installed (apt-get install austin)"
        return
    if "cmd" not in interp:
        out["missing"] = "python3.8: " + interp.get("missing", "?")
        return
    out["version"] = run_cmd([ctx.austin, "--version"])
    out["label"], out["note"] = interp["label"], interp["note"]
    if ctx.smoke:
        configs = [(30, 1, [1000])]
    else:
        configs = [(5, 1, [1000]), (30, 1, [100, 1000, 10000]), (100, 1, [1000]),
                   (1000, 1, [1000]), (30, 8, [1000]), (30, 64, [1000])]
    out["configs"] = []
    out["load_start"] = loadavg()
    for depth, threads, rates in configs:
        name = "austin-d%d-t%d" % (depth, threads)
        tgt = Target(ctx, interp["cmd"], "cpu.py", [depth, threads], name)
        runs = {(tool, rate): [] for rate in rates for tool in ("pyspy", "austin")}
        try:
            tgt.wait_ready()
            for rep in range(ctx.repeat):
                for rate in rates:
                    tools = ["pyspy", "austin"] if rep % 2 == 0 else ["austin", "pyspy"]
                    for tool in tools:
                        f = os.path.join(ctx.work, "%s-%d.%s" % (name, rate, tool))
                        r = run_tool(ctx, tool, tgt.pid, rate, run_seconds(ctx, rate),
                                     window_for(rate), f)
                        if tool == "austin" and ctx.zstd and r["samples"]:
                            r["bytes_zstd"] = zstd_size(ctx, f)
                        runs[(tool, rate)].append(r)
                        os.unlink(f)
                        time.sleep(0.1)
        except RuntimeError as e:
            log("austin %s: %s" % (name, e))
            out["configs"].append({"depth": depth, "threads": threads, "error": str(e)})
            continue
        finally:
            tgt.stop()
        for rate in rates:
            entry = {"depth": depth, "threads": threads, "rate": rate}
            for tool in ("pyspy", "austin"):
                s = summarize(runs[(tool, rate)], threads, rate)
                s["raw"] = [{k: v for k, v in r.items() if k != "windows"} for r in runs[(tool, rate)]]
                if tool == "austin":
                    z = [r["bytes_zstd"] / r["samples"] for r in runs[(tool, rate)]
                         if r.get("bytes_zstd") and r["samples"]]
                    s["bytes_per_sample_zstd"] = median(z)
                entry[tool] = s
            out["configs"].append(entry)
            log("austin depth %4d threads %2d %5d Hz: pyspy %s us, austin %s us (median)" % (
                depth, threads, rate, fmt(entry["pyspy"]["cost_us_median"]),
                fmt(entry["austin"]["cost_us_median"])))
    out["load_end"] = loadavg()
    ctx.save()


def zstd_size(ctx, path, level=6):
    z = path + ".zst"
    subprocess.run([ctx.zstd, "-q", "-f", "-%d" % level, path, "-o", z], check=False)
    n = os.path.getsize(z) if os.path.exists(z) else None
    if os.path.exists(z):
        os.unlink(z)
    return n


def phase_size(ctx, res):
    """Bytes per sample of real captures: steady and diverse targets."""
    out = res.setdefault("size", {})
    secs = 2.0 if ctx.smoke else ctx.size_seconds
    out["seconds"] = secs
    out["rate"] = 1000
    plan = []
    if ctx.smoke:
        plan.append((ctx.smoke_family, ["pyspy"]))
    else:
        plan.append(("3.8", ["pyspy", "austin"] if ctx.austin else ["pyspy"]))
        plan.append(("3.12", ["pyspy"]))
    out["runs"] = []
    for fam, tools in plan:
        interp = ctx.interps.get(fam, {})
        if "cmd" not in interp:
            out["runs"].append({"family": fam, "missing": interp.get("missing", "?")})
            continue
        for workload, script, args in (("steady", "cpu.py", [30, 1]), ("diverse", "diverse.py", [])):
            for tool in tools:
                tgt = Target(ctx, interp["cmd"], script, args, "size-%s-%s" % (fam, workload))
                f = os.path.join(ctx.work, "size-%s-%s.%s" % (fam, workload, tool))
                try:
                    tgt.wait_ready()
                    time.sleep(0.2)
                    r = run_tool(ctx, tool, tgt.pid, 1000, secs, 0.5, f)
                except RuntimeError as e:
                    out["runs"].append({"family": fam, "workload": workload, "tool": tool,
                                        "error": str(e)})
                    continue
                finally:
                    tgt.stop()
                e = {"family": fam, "label": interp["label"], "workload": workload, "tool": tool,
                     "samples": r["samples"], "bytes": r["bytes"], "partial": r.get("partial", 0),
                     "errors": (r.get("trailer") or {}).get("errors"),
                     "bytes_per_sample": r["bytes"] / r["samples"] if r["samples"] else None}
                if tool == "pyspy" and os.path.exists(f):
                    e["distinct_stacks"] = count_stacks(ctx, f)
                if tool == "austin" and ctx.zstd:
                    z = zstd_size(ctx, f)
                    e["bytes_zstd"] = z
                    e["bytes_per_sample_zstd"] = z / r["samples"] if z and r["samples"] else None
                    e["distinct_stacks"] = austin_stacks(f)
                out["runs"].append(e)
                if os.path.exists(f):
                    os.unlink(f)
                log("size %s %-7s %-6s: %s bytes/sample over %d samples" % (
                    fam, workload, tool, fmt(e["bytes_per_sample"], 2), r["samples"]))
    ctx.save()


def count_stacks(ctx, path):
    out = subprocess.run([ctx.analyze, "collapsed", path], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True).stdout
    return len(out.splitlines())


def austin_stacks(path):
    s = set()
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"Thread "):
                s.add(line.rsplit(b" ", 1)[0].split(b";", 1)[-1])
    return len(s)


def timed(ctx, cmd):
    """Run cmd (stdout discarded); (rc, wall s, cpu s, maxrss KB, stderr tail)."""
    t0 = time.monotonic()
    errf = os.path.join(ctx.work, "timed.err")
    with open(errf, "w") as err:
        p = Measured(ctx, cmd, stderr=err)
        r = p.wait()
    wall = time.monotonic() - t0
    with open(errf) as f:
        text = f.read().strip()[-500:]
    os.unlink(errf)
    return r["rc"], wall, r["cpu_s"], r["maxrss_kb"], text


SYNTH = {
    "steady": ["--threads", "1", "--depth", "30", "--distinct-stacks", "5", "--rate", "1000",
               "--jitter-us", "45"],
    "diverse": ["--threads", "8", "--depth", "30", "--distinct-stacks", "20000", "--rate", "1000",
                "--jitter-us", "45"],
}


def parse_gen(err):
    m = re.search(r"bytes=(\d+) bytes_per_sample=([0-9.]+)", err)
    return (int(m.group(1)), float(m.group(2))) if m else (None, None)


def phase_synth(ctx, res):
    """Synthetic captures (gen_capture): bytes/sample, zstd levels, writer speed."""
    out = res.setdefault("synth", {"rows": []})
    n1 = 100000 if ctx.smoke else 1000000
    variants = [("steady", n1, []), ("diverse", n1, [])]
    if not ctx.smoke:
        variants += [("steady", 10 * n1, []), ("diverse", 10 * n1, []),
                     ("steady", n1, ["--jitter-us", "0"]), ("steady", n1, ["--persist", "0.9"])]
        for lvl in ("3", "12", "19"):
            variants += [("steady", n1, ["--level", lvl]), ("diverse", n1, ["--level", lvl])]
    out["rows"] = []
    for wl, n, extra in variants:
        f = os.path.join(ctx.work, "synth.pyspy")
        args = ["--samples", str(n)] + SYNTH[wl]
        # the workload's own flags first, so extra ones override them
        for i in range(0, len(extra), 2):
            if extra[i] in args:
                args[args.index(extra[i]) + 1] = extra[i + 1]
            else:
                args += extra[i:i + 2]
        rc, wall, cpu, rss, err = timed(ctx, [ctx.gen_capture] + args + ["-o", f])
        size, bps = parse_gen(err)
        row = {"workload": wl, "samples": n, "extra": extra, "args": args, "rc": rc,
               "bytes": size, "bytes_per_sample": bps, "gen_wall_s": wall, "gen_cpu_s": cpu,
               "gen_maxrss_kb": rss}
        if not extra and os.access(ctx.capture_stats, os.X_OK):
            rc2, wall2, cpu2, rss2, _ = timed(ctx, [ctx.capture_stats, f])
            row.update({"read_wall_s": wall2, "read_cpu_s": cpu2, "read_maxrss_kb": rss2})
        out["rows"].append(row)
        log("synth %-7s %8d %-18s %s bytes/sample (gen %.2f s)" % (wl, n, " ".join(extra), bps, wall))
        if os.path.exists(f):
            os.unlink(f)
    ctx.save()


def phase_analysis(ctx, res):
    """pyspy-analyze: load and reports over synthetic captures."""
    out = res.setdefault("analysis", {})
    sizes = [100000] if ctx.smoke else [1000000, 10000000]
    reps = 1 if ctx.smoke else ctx.analysis_repeat
    out["sqlite"] = run_cmd(["pkg-config", "--modversion", "sqlite3"])
    out["load_start"] = loadavg()
    rows = out["rows"] = []
    steps = [
        ("load", lambda cap, db, o: [ctx.analyze, "load", "-d", db, cap]),
        ("flamegraph", lambda cap, db, o: [ctx.analyze, "flamegraph", "-o", o + ".svg", db]),
        ("top", lambda cap, db, o: [ctx.analyze, "top", db]),
        ("collapsed", lambda cap, db, o: [ctx.analyze, "collapsed", "-o", o + ".txt", db]),
        ("speedscope", lambda cap, db, o: [ctx.analyze, "speedscope", "-o", o + ".json", db]),
        ("info", lambda cap, db, o: [ctx.analyze, "info", db]),
        ("flamegraph-window", lambda cap, db, o: [ctx.analyze, "flamegraph", "--threads", "--from",
                                                  "1", "--to", "5", "-o", o + ".svg", db]),
        ("flamegraph-capture", lambda cap, db, o: [ctx.analyze, "flamegraph", "-o", o + ".svg", cap]),
    ]
    for n in sizes:
        for wl in ("steady", "diverse"):
            cap = os.path.join(ctx.work, "an-%s-%d.pyspy" % (wl, n))
            rc, wall, cpu, rss, err = timed(ctx, [ctx.gen_capture, "--samples", str(n)] + SYNTH[wl] +
                                            ["-o", cap])
            if rc != 0:
                rows.append({"workload": wl, "samples": n, "step": "generate", "error": err})
                continue
            per = {s: [] for s, _ in steps}
            for rep in range(reps):
                db = os.path.join(ctx.work, "an.db")
                o = os.path.join(ctx.work, "an-out")
                for f in (db, db + "-journal", db + "-wal"):
                    if os.path.exists(f):
                        os.unlink(f)
                for name, mk in steps:
                    rc, wall, cpu, rss, err = timed(ctx, mk(cap, db, o))
                    per[name].append({"rc": rc, "wall_s": wall, "cpu_s": cpu, "maxrss_kb": rss,
                                      "err": err if rc else ""})
                    for ext in (".svg", ".txt", ".json"):
                        if os.path.exists(o + ext):
                            if name == "speedscope" and ext == ".json":
                                per[name][-1]["output_bytes"] = os.path.getsize(o + ext)
                            os.unlink(o + ext)
                if os.path.exists(db):
                    db_bytes = os.path.getsize(db)
                    os.unlink(db)
            for name, _ in steps:
                rr = per[name]
                ok = [r for r in rr if r["rc"] == 0]
                row = {"workload": wl, "samples": n, "step": name, "reps": len(rr),
                       "failed": len(rr) - len(ok),
                       "wall_s": median([r["wall_s"] for r in ok]),
                       "wall_s_min": min([r["wall_s"] for r in ok]) if ok else None,
                       "wall_s_max": max([r["wall_s"] for r in ok]) if ok else None,
                       "cpu_s": median([r["cpu_s"] for r in ok]),
                       "maxrss_kb": max([r["maxrss_kb"] for r in ok]) if ok else None,
                       "err": next((r["err"] for r in rr if r["rc"]), "")}
                if name == "load":
                    row["db_bytes"] = db_bytes
                if name == "speedscope":
                    row["output_bytes"] = median([r.get("output_bytes", 0) for r in ok])
                rows.append(row)
                log("analysis %-7s %8d %-18s %s s wall (%s s cpu), %s KB" % (
                    wl, n, name, fmt(row["wall_s"], 2), fmt(row["cpu_s"], 2), row["maxrss_kb"]))
            os.unlink(cap)
            ctx.save()
    out["load_end"] = loadavg()
    ctx.save()


# ------------------------------------------------------------------ environment

def environment(ctx):
    env = {"date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "kernel": " ".join(platform.uname()[2:4]),
           "machine": platform.machine(),
           "cpus": os.cpu_count(),
           "load_start": loadavg(),
           "mode": "smoke" if ctx.smoke else "full",
           "repeat": ctx.repeat,
           "seconds": ctx.seconds}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^model name\s*:\s*(.*)$", f.read(), re.M)
            env["cpu_model"] = m.group(1).strip() if m else "?"
    except OSError:
        env["cpu_model"] = "?"
    try:
        with open("/proc/meminfo") as f:
            m = re.search(r"MemTotal:\s+(\d+) kB", f.read())
            env["mem_gb"] = round(int(m.group(1)) / 1048576.0, 1)
    except (OSError, AttributeError):
        pass
    try:
        with open("/etc/os-release") as f:
            m = re.search(r'^PRETTY_NAME="?([^"\n]*)', f.read(), re.M)
            env["os"] = m.group(1) if m else "?"
    except OSError:
        env["os"] = "?"
    env["git"] = run_cmd(["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=10"])
    try:
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "capture", "analyze",
                                "format", "bench", "Makefile"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, universal_newlines=True).stdout
    except OSError:
        dirty = ""
    env["git_dirty_files"] = sorted(set(l[3:].strip() for l in dirty.splitlines() if len(l) > 3))
    env["capture_version"] = run_cmd([ctx.capture, "--version"])
    env["cc"] = run_cmd([os.environ.get("CC", "cc"), "--version"]).splitlines()[0]
    env["build"] = os.path.relpath(ctx.build, ROOT) if ctx.build.startswith(ROOT) else ctx.build
    env["austin"] = run_cmd([ctx.austin, "--version"]) if ctx.austin else None
    env["zstd"] = run_cmd([ctx.zstd, "--version"]) if ctx.zstd else None
    env["harness_python"] = sys.version.split()[0]
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            env["ptrace_scope"] = f.read().strip()
    except OSError:
        env["ptrace_scope"] = None
    return env


def wait_quiet(limit, max_wait):
    """Wait (at most max_wait s) until the 1-minute load average < limit."""
    t0 = time.monotonic()
    while True:
        la = loadavg()[0]
        if la < limit:
            return la, time.monotonic() - t0
        if time.monotonic() - t0 >= max_wait:
            log("load average %.2f still >= %.2f after %d s; measuring anyway" % (la, limit, max_wait))
            return la, time.monotonic() - t0
        log("load average %.2f >= %.2f: waiting for a quieter machine" % (la, limit))
        time.sleep(30)


PHASES = ["synth", "analysis", "floor", "size", "slowdown", "austin", "capture"]


def main():
    ap = argparse.ArgumentParser(description="pyspy benchmarks (see bench/README.md)")
    ap.add_argument("--smoke", action="store_true", help="a short run that checks the harness")
    ap.add_argument("--out", help="work directory (results.json, scratch files)")
    ap.add_argument("--build", default=os.environ.get("BUILD", "build/default"))
    ap.add_argument("--bin", default=os.environ.get("BIN"))
    ap.add_argument("--phases", default=",".join(PHASES), help="comma-separated subset of " +
                    ",".join(PHASES))
    ap.add_argument("--repeat", type=int, default=None, help="repetitions per capture config")
    ap.add_argument("--seconds", type=float, default=None, help="seconds per capture run")
    ap.add_argument("--wait-quiet", type=float, default=None, metavar="LOAD",
                    help="first wait (up to --max-wait s) for a 1-minute load average below LOAD")
    ap.add_argument("--max-wait", type=float, default=600)
    ap.add_argument("--results", help="merge into this results.json (rerun some phases)")
    a = ap.parse_args()

    ctx = Ctx()
    ctx.smoke = a.smoke
    ctx.build = os.path.abspath(os.path.join(ROOT, a.build))
    if a.bin:
        ctx.bin = os.path.abspath(os.path.join(ROOT, a.bin))
    else:
        ctx.bin = os.path.join(ROOT, "bin") if a.build == "build/default" else os.path.join(ctx.build, "bin")
    ctx.work = os.path.abspath(a.out or os.path.join(ctx.build, "bench-smoke" if a.smoke else "bench-run"))
    ctx.repeat = a.repeat or (1 if a.smoke else 3)
    ctx.seconds = a.seconds or (1.0 if a.smoke else 2.0)
    ctx.slow_repeat = 5
    ctx.analysis_repeat = 3
    ctx.size_seconds = 30.0
    os.makedirs(ctx.work, exist_ok=True)
    tool_paths(ctx)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    results_path = a.results or os.path.join(ctx.work, "results.json")
    res = {}
    if a.results and os.path.exists(a.results):
        with open(a.results) as f:
            res = json.load(f)

    def save():
        tmp = results_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        os.replace(tmp, results_path)
    ctx.save = save

    if a.wait_quiet:
        la, waited = wait_quiet(a.wait_quiet, a.max_wait)
        res["waited_for_quiet_s"] = round(waited)
    t_start = time.monotonic()
    res["env"] = environment(ctx)
    ctx.interps, rows = interpreters(ctx)
    res["interpreters"] = ctx.interps
    res["interpreters_all"] = [{"label": l, "cmd": bool(c), "note": n} for l, c, n in rows]
    ctx.smoke_family = "3.11" if "cmd" in ctx.interps.get("3.11", {}) else next(
        (f for f, _ in FAMILIES if "cmd" in ctx.interps.get(f, {})), None)
    if ctx.smoke_family is None:
        sys.exit("bench: no Python interpreter found (tests/interpreters.sh)")
    save()
    phases = [p for p in a.phases.split(",") if p]
    for p in phases:
        if p not in PHASES:
            sys.exit("bench: unknown phase %r (known: %s)" % (p, ", ".join(PHASES)))
    res.setdefault("phase_seconds", {})
    try:
        for p in PHASES:
            if p in phases:
                log("phase %s (load average %.2f)" % (p, loadavg()[0]))
                t0 = time.monotonic()
                globals()["phase_" + p](ctx, res)
                res["phase_seconds"][p] = round(time.monotonic() - t0, 1)
                save()
    finally:
        kill_all()
    res["env"]["load_end"] = loadavg()
    res["env"]["total_seconds"] = round(time.monotonic() - t_start, 1)
    save()
    log("results: %s (%.0f s)" % (results_path, time.monotonic() - t_start))


if __name__ == "__main__":
    main()
