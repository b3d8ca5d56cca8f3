#!/usr/bin/env python3
"""bench/accuracy harness: how true are the profiles pyspy and its peers make?

For each workload (targets/) and interpreter (tests/interpreters.sh):

 (a) profile fidelity.  One target process; three windows of SECONDS:
       1. reference A (pyspy --blocking, REF_HZ)  beside  pyspy default (RATE)
       2. reference B (pyspy --blocking, REF_HZ)  beside  the peers (RATE)
       3. pyspy --blocking (RATE) alone
     TVD of the leaf-function, (function, line) and whole-stack (function
     names) distributions of each against reference A; the noise floor is
     TVD(A, B).  The default mode's partial samples are left out (its usable
     share is reported).
 (b) per-sample truth.  A second target process logs every Python call and
     return with its CLOCK_MONOTONIC time (targets/gt.py); pyspy default,
     pyspy --blocking and the peers sample it GT_SECONDS each, one after the
     other.  Each pyspy sample (its time: the capture start plus the sample's
     t) is compared with the logged stacks of its thread in a window around
     that time: exact (equal to one of them), partial (flagged), off-time
     (equal to a stack the thread had within --loose-ms, not in the window:
     a sample's time is its tick's, and the read can come later - in
     --blocking, after the threads stopped), wrong (complete, none of
     those); "impossible" counts the samples whose stack the thread never
     had at all.  The peers record no sample times (austin
     1.0.1, the 3.15 sampler's collapsed output), so for them only the
     impossible share is measured, and for pyspy too for comparison.
 (c) peers: Debian's austin (1.0.1), CPython 3.15's profiling.sampling on
     3.15 targets; a peer that is missing or produced nothing says why.

Writes OUT/results.json (every raw figure).  Exits 0 when the harness ran,
whatever the figures.
"""
import argparse
import bisect
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "bench", "accuracy")
TARGETS = os.path.join(HERE, "targets")
LAUNCH = os.path.join(TARGETS, "launch.py")
GT_PY = os.path.join(TARGETS, "gt.py")

WORKLOADS = [
    # name, script, what
    ("deep", os.path.join(TARGETS, "deep.py"), "deep stable stack (50 frames)"),
    ("diverse", os.path.join(ROOT, "bench", "targets", "diverse.py"),
     "json, re, difflib, textwrap, random, decimal (bench/targets/diverse.py)"),
    ("unittests", os.path.join(TARGETS, "unittests.py"), "CPython's test_json, test_re, test_difflib, test_textwrap"),
    ("recursion", os.path.join(TARGETS, "recursion.py"), "while True: recurse(20)"),
    ("callbacks", os.path.join(TARGETS, "callbacks.py"), "expat handlers and a ctypes qsort comparator"),
    ("generators", os.path.join(TARGETS, "generators.py"), "a pipeline of nested generators"),
    ("threads", os.path.join(TARGETS, "threads.py"), "four threads contending for the GIL"),
]

PARTIAL = 16
AUSTIN = "/usr/bin/austin"


def log(*a):
    print("accuracy:", *a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes

class Target:
    """A workload process; waits for its "ready PID" line."""

    def __init__(self, python, script, cwd, env_extra=None, timeout=180):
        env = dict(os.environ)
        env.pop("ACC_GT_DIR", None)
        env.update(env_extra or {})
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.notes = []
        # cwd: CPython's tests write scratch files into the current directory
        self.p = subprocess.Popen([python, LAUNCH, script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
        deadline = time.time() + timeout
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.p.stdout, selectors.EVENT_READ)
        buf = b""
        while True:
            left = deadline - time.time()
            if left <= 0:
                self.kill()
                raise RuntimeError("target not ready in %d s" % timeout)
            if not sel.select(left):
                continue
            chunk = os.read(self.p.stdout.fileno(), 4096)
            if not chunk:
                err = self.p.stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:]
                self.kill()
                raise RuntimeError("target exited before ready: %s" % (err[0] if err else "?"))
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                line = line.decode("utf-8", "replace")
                if line.startswith("note "):
                    self.notes.append(line[5:])
                elif line.startswith("ready"):
                    sel.close()
                    self.pid = self.p.pid
                    # stdout is not read any more: the workloads print nothing after ready
                    return

    def kill(self):
        if self.p.poll() is None:
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except OSError:
                pass
        self.p.wait()


class Run:
    """A sampler process, its CPU time from wait4()."""

    def __init__(self, argv, stop_after=None, stdout=None):
        self.argv = argv
        self.t0 = time.time()
        self.stop_after = stop_after
        self.out = open(stdout, "wb") if stdout else subprocess.DEVNULL
        self.errf = open(os.devnull, "wb")
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)

    def wait(self, timeout):
        """Returns (rc, cpu_s, stderr tail)."""
        deadline = time.time() + timeout
        stopped = False
        err = b""
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.p.stderr, selectors.EVENT_READ)
        status = None
        ru = None
        while True:
            pid, st, r = os.wait4(self.p.pid, os.WNOHANG)
            if pid:
                status, ru = st, r
                break
            now = time.time()
            if self.stop_after is not None and not stopped and now - self.t0 >= self.stop_after:
                os.kill(self.p.pid, signal.SIGINT)
                stopped = True
            if now > deadline:
                os.kill(self.p.pid, signal.SIGKILL)
            for _ in sel.select(0.05):
                chunk = os.read(self.p.stderr.fileno(), 65536)
                if chunk:
                    err = (err + chunk)[-4000:]
        sel.close()
        try:
            err += self.p.stderr.read()
        except (OSError, ValueError):
            pass
        self.p.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
        if self.out is not subprocess.DEVNULL:
            self.out.close()
        tail = err.decode("utf-8", "replace").strip().splitlines()
        return self.p.returncode, ru.ru_utime + ru.ru_stime, tail[-1] if tail else ""


def capture_argv(args, pid, rate, seconds, blocking, out):
    argv = [os.path.join(args.bin, "pyspy-capture"), "-q", "-p", str(pid), "-r", str(rate),
            "-d", "%g" % seconds, "-o", out]
    if blocking:
        argv.append("--blocking")
    return argv


def austin_argv(pid, rate, out):
    return [AUSTIN, "-i", str(max(1, int(1e6 / rate))), "-p", str(pid), "-o", out]


def sampler315_argv(python, pid, rate, seconds, out):
    return [python, "-m", "profiling.sampling", "attach", "-r", str(rate), "-d", "%g" % seconds,
            "-a", "--collapsed", "-o", out, str(pid)]


# ------------------------------------------------------------------ reading

def base(path):
    return os.path.basename(path or "?")


class Db:
    """Captures loaded with pyspy-analyze; samples with their stacks."""

    def __init__(self, args, path, files):
        if os.path.exists(path):
            os.unlink(path)
        r = subprocess.run([os.path.join(args.bin, "pyspy-analyze"), "load", "-q", "-d", path] + files,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode:
            raise RuntimeError("pyspy-analyze load: %s" % r.stderr.decode("utf-8", "replace").strip()[-300:])
        self.c = sqlite3.connect(path)
        q = self.c.execute
        self.frames = {}
        for fid, kind, name, file, first in q(
                "SELECT f.id, f.kind, n.text, s.text, f.firstline FROM frames f"
                " LEFT JOIN strings n ON n.id = f.name LEFT JOIN strings s ON s.id = f.file"):
            self.frames[fid] = (kind, name or "?", file or "?", first or 0)
        self.stacks = {0: ()}
        for sid, parent, frame, line in q("SELECT id, parent, frame, line FROM stacks ORDER BY id"):
            self.stacks[sid] = self.stacks[parent] + ((frame, line or 0),)
        self.captures = {}
        for cid, file, mono, unit in q("SELECT id, file, start_mono_ns, time_unit_ns FROM captures"):
            self.captures[base(file)] = (cid, mono, unit)

    def samples(self, name):
        """(tid, mono_ns, flags, ((frame, line), ...)) of capture file NAME."""
        cid, mono, unit = self.captures[base(name)]
        for tid, t, flags, stack in self.c.execute(
                "SELECT th.tid, s.t, s.flags, s.stack FROM samples s JOIN threads th ON th.id = s.thread"
                " WHERE s.capture = ? ORDER BY s.id", (cid,)):
            yield tid, mono + t, flags, self.stacks.get(stack, ())

    def unit(self, name):
        return self.captures[base(name)][2]

    def close(self):
        self.c.close()


def pyspy_dist(db, name):
    """Distributions of a pyspy capture: leaf function, leaf (function, line),
    whole stack of function names; partial samples counted apart."""
    d = {"leaf": {}, "line": {}, "stack": {}}
    n = partial = empty = 0
    for tid, t, flags, st in db.samples(name):
        n += 1
        if flags & PARTIAL:
            partial += 1
            continue
        fr = [(db.frames[f], line) for f, line in st if db.frames[f][0] == 0]
        if not fr:
            empty += 1
            continue
        add_sample(d, [(base(x[2]), x[1]) for x, _ in fr], fr[-1][1])
    return {"samples": n, "partial": partial, "empty": empty, "dist": d}


def add_sample(d, funcs, leaf_line, w=1):
    leaf = funcs[-1]
    k1 = "%s:%s" % (leaf[0], leaf[1])
    d["leaf"][k1] = d["leaf"].get(k1, 0) + w
    k2 = "%s:%d" % (k1, leaf_line)
    d["line"][k2] = d["line"].get(k2, 0) + w
    k3 = ";".join("%s:%s" % f for f in funcs)
    d["stack"][k3] = d["stack"].get(k3, 0) + w


def austin_samples(path):
    """austin 1.0.1's output: 'Thread ID;name (file);L12;...;name (file);L34 DELTA_US'."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as fp:
        for raw in fp:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line.startswith("Thread "):
                continue
            body = line.rsplit(" ", 1)[0]
            parts = body.split(";")[1:]
            funcs, lines = [], []
            for p in parts:
                if p.startswith("L") and p[1:].isdigit():
                    lines.append(int(p[1:]))
                elif p.endswith(")") and " (" in p:
                    name, file = p[:-1].rsplit(" (", 1)
                    funcs.append((base(file), name))
            out.append((funcs, lines[-1] if lines else 0))
    return out


def sampler315_samples(path):
    """The 3.15 sampler's collapsed output: 'tid:N;file:func:line;... COUNT'."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path, "rb") as fp:
        for raw in fp:
            line = raw.decode("utf-8", "replace").strip()
            if not line or " " not in line:
                continue
            body, count = line.rsplit(" ", 1)
            try:
                count = int(count)
            except ValueError:
                continue
            funcs, leaf_line = [], 0
            for p in body.split(";"):
                if p.startswith("tid:"):
                    continue
                bits = p.rsplit(":", 2)
                if len(bits) != 3 or not bits[0] or bits[1].startswith("<") and bits[1] != "<module>" and \
                        not bits[1].startswith("<lambda") and not bits[1].startswith("<gen"):
                    continue  # synthetic frames (<GC>, <native>)
                # it names frames by qualified name: keep the last part
                name = bits[1]
                if "." in name and not name.startswith("<"):
                    name = name.rsplit(".", 1)[1]
                funcs.append((base(bits[0]), name))
                leaf_line = int(bits[2]) if bits[2].isdigit() else 0
            out.append((funcs, leaf_line, count))
    return out


def peer_dist(samples):
    d = {"leaf": {}, "line": {}, "stack": {}}
    n = empty = 0
    for s in samples:
        funcs, leaf_line = s[0], s[1]
        w = s[2] if len(s) > 2 else 1
        n += w
        if not funcs:
            empty += w
            continue
        add_sample(d, funcs, leaf_line, w)
    return {"samples": n, "partial": 0, "empty": empty, "dist": d}


def tvd(p, q):
    sp, sq = float(sum(p.values())), float(sum(q.values()))
    if not sp or not sq:
        return None
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0) / sp - q.get(k, 0) / sq) for k in keys)


def tvds(x, ref):
    return {k: tvd(x["dist"][k], ref["dist"][k]) for k in ("leaf", "line", "stack")}


# ------------------------------------------------------------------ ground truth

class Truth:
    """The logged stacks of every thread, as a trie of (file, name, firstline)."""

    def __init__(self, directory):
        self.node = {}          # (parent, key) -> node; node 0 = no frames
        self.parent = [0]
        self.key = [None]
        self.threads = {}       # tid -> (times, nodes)
        for f in sorted(os.listdir(directory)):
            if f.startswith("gt-") and f.endswith(".log"):
                self._read(os.path.join(directory, f))

    def child(self, parent, key):
        k = (parent, key)
        n = self.node.get(k)
        if n is None:
            n = self.node[k] = len(self.parent)
            self.parent.append(parent)
            self.key.append(key)
        return n

    def _read(self, path):
        import array
        with open(path, "rb") as fp:
            head = json.loads(fp.readline().decode("utf-8"))
            n = head["n"]
            times = array.array("q")
            ops = array.array("q")
            times.frombytes(fp.read(8 * n))
            ops.frombytes(fp.read(8 * n))
        codes = {int(k): tuple(v) for k, v in head["codes"].items()}
        node = 0
        for c in head["init"]:
            node = self.child(node, codes[c])
        tl, nl = [head["t0"]], [node]
        child, parent = self.child, self.parent
        for t, op in zip(times, ops):
            if op:
                node = child(node, codes[op])
            elif node:
                node = parent[node]
            tl.append(t)
            nl.append(node)
        self.threads[head["tid"]] = (tl, nl)

    def lookup(self, keys):
        node = 0
        for k in keys:
            node = self.node.get((node, k))
            if node is None:
                return None
        return node

    def func_stacks(self):
        """Every stack any thread had, as tuples of (file basename, name)."""
        seen = set()
        for tl, nl in self.threads.values():
            seen.update(nl)
        out = set()
        for n in seen:
            fs = []
            while n:
                k = self.key[n]
                fs.append((base(k[0]), k[1]))
                n = self.parent[n]
            fs.reverse()
            out.add(tuple(fs))
        return out


def strip_gt(funcs, key_file):
    """Drop the logger's own frames at the leaf (the sample caught gt.py's hook)."""
    while funcs and key_file(funcs[-1]) in (GT_PY, "gt.py"):
        funcs = funcs[:-1]
    return funcs


def truth_pyspy(db, name, truth, possible, before_ns, after_ns, loose_ns):
    unit = db.unit(name)
    lo, hi = before_ns + unit, after_ns + unit
    loose = loose_ns
    r = {"samples": 0, "exact": 0, "partial": 0, "offtime": 0, "wrong": 0, "impossible": 0, "outside": 0,
         "no_thread": 0}
    for tid, t, flags, st in db.samples(name):
        th = truth.threads.get(tid)
        if th is None:
            r["no_thread"] += 1
            continue
        tl, nl = th
        if t < tl[0] or t > tl[-1]:
            r["outside"] += 1
            continue
        r["samples"] += 1
        if flags & PARTIAL:
            r["partial"] += 1
            continue
        raw = [(db.frames[f][2], db.frames[f][1], db.frames[f][3]) for f, _ in st if db.frames[f][0] == 0]
        keys = strip_gt(raw, lambda k: k[0])
        if tuple((base(k[0]), k[1]) for k in keys) not in possible:
            r["impossible"] += 1
        node = truth.lookup(keys)
        i = max(0, bisect.bisect_right(tl, t - lo) - 1)
        j = bisect.bisect_right(tl, t + hi)
        if len(keys) < len(raw):
            # Caught inside the logger's hook: it is logging the thread's
            # next event, maybe after waiting for the GIL (2.7's clock is a
            # ctypes call that releases it), so the stack is the state
            # before or after that event, however far it is in time.
            k = bisect.bisect_right(tl, t) - 1
            i, j = min(i, max(0, k)), max(j, k + 2)
        if node is not None and node in nl[i:j]:
            r["exact"] += 1
            continue
        i = max(0, bisect.bisect_right(tl, t - loose) - 1)
        j = bisect.bisect_right(tl, t + loose)
        if node is not None and node in nl[i:j]:
            r["offtime"] += 1
        else:
            r["wrong"] += 1
    return r


def truth_peer(samples, possible, span=None):
    """Peers have no sample times: only whether each stack ever existed."""
    r = {"samples": 0, "empty": 0, "impossible": 0}
    for s in samples:
        funcs = strip_gt(list(s[0]), lambda k: k[0])
        w = s[2] if len(s) > 2 else 1
        r["samples"] += w
        if not s[0]:
            r["empty"] += w
        elif tuple(funcs) not in possible:
            r["impossible"] += w
    return r


# ------------------------------------------------------------------ one case

def austin_status(label, version):
    if not os.access(AUSTIN, os.X_OK):
        return "missing: %s not installed (apt-get install austin)" % AUSTIN
    return None


def run_fidelity(args, label, python, wl, script, work, res):
    S, R, REF = args.seconds, args.rate, args.ref_rate
    t = Target(python, script, work)
    res["notes"] = t.notes
    files = {}
    try:
        def f(name):
            files[name] = os.path.join(work, "%s.pyspy" % name)
            return files[name]
        runs = {}
        # window 1: reference A beside the default mode
        runs["refA"] = Run(capture_argv(args, t.pid, REF, S, True, f("refA")))
        runs["default"] = Run(capture_argv(args, t.pid, R, S, False, f("default")))
        cpu = {}
        for k in ("refA", "default"):
            rc, c, err = runs[k].wait(S + 60)
            cpu[k] = c
            if rc:
                res.setdefault("errors", {})[k] = "exit %s: %s" % (rc, err)
        # window 2: reference B beside the peers
        runs["refB"] = Run(capture_argv(args, t.pid, REF, S, True, f("refB")))
        peers = {}
        if austin_status(label, res["version"]) is None:
            peers["austin"] = Run(austin_argv(t.pid, R, os.path.join(work, "austin.txt")), stop_after=S)
        if res["version"].startswith("3.15") and args.sampler315:
            peers["cpython"] = Run(sampler315_argv(python, t.pid, R, S, os.path.join(work, "cpython.txt")))
        for k, run in [("refB", runs["refB"])] + list(peers.items()):
            rc, c, err = run.wait(S + 60)
            cpu[k] = c
            if k in peers:
                # a peer that fails says why in the report (e.g. austin 1.0.1
                # on Python 3.11+: "Python version is unknown.")
                res.setdefault("peer_status", {})[k] = {"rc": rc, "stderr": err}
            elif rc:
                res.setdefault("errors", {})[k] = "exit %s: %s" % (rc, err)
        # window 3: --blocking at the default mode's rate
        rc, c, err = Run(capture_argv(args, t.pid, R, S, True, f("blocking"))).wait(S + 60)
        cpu["blocking"] = c
        if rc:
            res.setdefault("errors", {})["blocking"] = "exit %s: %s" % (rc, err)
    finally:
        t.kill()
    db = Db(args, os.path.join(work, "a.db"), [v for v in files.values() if os.path.exists(v)])
    dists = {}
    for k in files:
        if db.captures.get(base(files[k])):
            dists[k] = pyspy_dist(db, files[k])
    db.close()
    if os.path.exists(os.path.join(work, "austin.txt")):
        dists["austin"] = peer_dist(austin_samples(os.path.join(work, "austin.txt")))
    if os.path.exists(os.path.join(work, "cpython.txt")):
        dists["cpython"] = peer_dist(sampler315_samples(os.path.join(work, "cpython.txt")))
    ref = dists.get("refA")
    out = {}
    for k, d in dists.items():
        e = {"samples": d["samples"], "partial": d["partial"], "empty": d["empty"], "cpu_s": cpu.get(k)}
        e["usable"] = d["samples"] - d["partial"] - d["empty"]
        if ref and k != "refA":
            e["tvd"] = tvds(d, ref)
        out[k] = e
    res["fidelity"] = out


def run_truth(args, label, python, wl, script, work, res):
    G, R = args.gt_seconds, args.rate
    gdir = os.path.join(work, "gt")
    os.makedirs(gdir)
    t = Target(python, script, work, {"ACC_GT_DIR": gdir})
    files = {}
    err = {}
    try:
        for k, blocking in (("default", False), ("blocking", True)):
            files[k] = os.path.join(work, "gt-%s.pyspy" % k)
            rc, c, e = Run(capture_argv(args, t.pid, R, G, blocking, files[k])).wait(G + 60)
            if rc:
                err[k] = "exit %s: %s" % (rc, e)
        peers = {}
        if austin_status(label, res["version"]) is None:
            rc, c, e = Run(austin_argv(t.pid, R, os.path.join(work, "gt-austin.txt")), stop_after=G).wait(G + 60)
            peers["austin"] = {"rc": rc, "stderr": e}
        if res["version"].startswith("3.15") and args.sampler315:
            rc, c, e = Run(sampler315_argv(python, t.pid, R, G, os.path.join(work, "gt-cpython.txt"))).wait(G + 60)
            peers["cpython"] = {"rc": rc, "stderr": e}
        # stop the logger; every thread writes its log at its next event
        os.kill(t.pid, signal.SIGUSR2)
        db = Db(args, os.path.join(work, "gt.db"), [v for v in files.values() if os.path.exists(v)])
        tids = set()
        for k in files:
            if db.captures.get(base(files[k])):
                tids.update(tid for tid, _, _, _ in db.samples(files[k]))
        deadline = time.time() + 60
        while time.time() < deadline:
            have = {int(x[3:-4]) for x in os.listdir(gdir) if x.startswith("gt-") and x.endswith(".log")}
            if tids and tids <= have:
                break
            if t.p.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        t.kill()
    truth = Truth(gdir)
    possible = truth.func_stacks()
    out = {"threads_logged": len(truth.threads),
           "events": sum(len(v[0]) for v in truth.threads.values())}
    for k in files:
        if db.captures.get(base(files[k])):
            out[k] = truth_pyspy(db, files[k], truth, possible, args.before_us * 1000,
                                 args.after_us * 1000, args.loose_ms * 1e6)
    db.close()
    for k, p in (("austin", "gt-austin.txt"), ("cpython", "gt-cpython.txt")):
        path = os.path.join(work, p)
        if os.path.exists(path):
            s = austin_samples(path) if k == "austin" else sampler315_samples(path)
            out[k] = truth_peer(s, possible)
    if err:
        out["errors"] = err
    out["peer_status"] = peers
    res["truth"] = out


def interpreters(args):
    env = dict(os.environ, PYSPY_NO_FETCH="1")
    r = subprocess.run([os.path.join(ROOT, "tests", "interpreters.sh")], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=env)
    out = []
    for line in r.stdout.decode().splitlines():
        bits = line.split("\t")
        if len(bits) != 3:
            continue
        label, cmd, note = bits
        if args.pythons and label not in args.pythons and not any(
                label.endswith("-" + p) or ("-" + p + ".") in label for p in args.pythons):
            continue
        out.append((label, cmd, note))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="scratch directory; results.json goes there")
    ap.add_argument("--bin", default=os.environ.get("BIN", os.path.join(ROOT, "bin")))
    ap.add_argument("--seconds", type=float, default=5.0, help="each fidelity window (default 5)")
    ap.add_argument("--gt-seconds", type=float, default=1.5, help="each ground-truth capture (default 1.5)")
    ap.add_argument("--rate", type=int, default=1000, help="the modes' and peers' rate (default 1000 Hz)")
    ap.add_argument("--ref-rate", type=int, default=100, help="the references' rate (default 100 Hz)")
    ap.add_argument("--before-us", type=float, default=20.0,
                    help="truth window before a sample's time, plus one time unit (default 20 us)")
    ap.add_argument("--after-us", type=float, default=500.0,
                    help="truth window after a sample's time, plus one time unit (default 500 us)")
    ap.add_argument("--loose-ms", type=float, default=20.0,
                    help="a stack the thread had this close to the sample's time, but not in the"
                         " window, counts as off-time rather than wrong (default 20 ms)")
    ap.add_argument("--pythons", default="", help="comma list of interpreter labels or X.Y (default: all)")
    ap.add_argument("--workloads", default="", help="comma list (default: all)")
    ap.add_argument("--no-truth", action="store_true", help="skip the ground-truth runs")
    ap.add_argument("--no-sampler315", dest="sampler315", action="store_false")
    ap.add_argument("--keep", action="store_true", help="keep the captures and logs of every case")
    args = ap.parse_args()
    args.pythons = [p for p in args.pythons.split(",") if p]
    wls = [w for w in WORKLOADS if not args.workloads or w[0] in args.workloads.split(",")]
    os.makedirs(args.out, exist_ok=True)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "capture", "format"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    austin_v = subprocess.run([AUSTIN, "-V"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode().strip() \
        if os.access(AUSTIN, os.X_OK) else None
    results = {"commit": commit + ("+" if dirty else ""), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "config": {"seconds": args.seconds, "gt_seconds": args.gt_seconds, "rate": args.rate,
                          "ref_rate": args.ref_rate, "before_us": args.before_us, "after_us": args.after_us,
                          "loose_ms": args.loose_ms},
               "austin": austin_v or "missing: %s not installed" % AUSTIN,
               "workloads": [{"name": w[0], "what": w[2]} for w in wls],
               "host": {"cpus": os.cpu_count(), "load": os.getloadavg()[0]},
               "cases": []}
    t_all = time.time()
    for label, cmd, note in interpreters(args):
        version = note.split(",")[0].replace("Python ", "") if cmd else ""
        for name, script, what in wls:
            res = {"python": label, "version": version, "note": note, "workload": name}
            results["cases"].append(res)
            if not cmd:
                res["missing"] = note
                continue
            work = os.path.join(args.out, "%s-%s" % (label, name))
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            t0 = time.time()
            for phase in (run_fidelity, run_truth):
                if phase is run_truth and args.no_truth:
                    continue
                try:
                    phase(args, label, cmd, name, script, work, res)
                except Exception as e:  # one broken case must not stop the run
                    res.setdefault("errors", {})[phase.__name__] = "%s: %s" % (type(e).__name__, e)
            res["wall_s"] = round(time.time() - t0, 1)
            fi = res.get("fidelity", {})
            log("%-16s %-10s %5.1fs  TVD default %s blocking %s floor %s  usable %s  %s" % (
                label, name, res["wall_s"],
                fmt(fi.get("default", {}).get("tvd", {}).get("leaf")),
                fmt(fi.get("blocking", {}).get("tvd", {}).get("leaf")),
                fmt(fi.get("refB", {}).get("tvd", {}).get("leaf")),
                fmt(usable(fi.get("default"))), res.get("errors", "")))
            if not args.keep:
                for x in os.listdir(work):
                    if x.endswith((".db", ".pyspy", ".log", ".txt")) or x == "gt":
                        p = os.path.join(work, x)
                        shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
            with open(os.path.join(args.out, "results.json"), "w") as fp:
                json.dump(results, fp, indent=1, sort_keys=True)
    results["wall_s"] = round(time.time() - t_all, 1)
    with open(os.path.join(args.out, "results.json"), "w") as fp:
        json.dump(results, fp, indent=1, sort_keys=True)
    log("results in %s (%.0f s)" % (os.path.join(args.out, "results.json"), results["wall_s"]))


def usable(e):
    if not e or not e.get("samples"):
        return None
    return float(e["usable"]) / e["samples"]


def fmt(x):
    return "-" if x is None else "%.3f" % x


if __name__ == "__main__":
    main()
