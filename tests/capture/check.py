#!/usr/bin/env python3
"""Checks of pyspy-capture files for tests/capture/run.sh.

usage: check.py DUMPFILE CHECK LABEL CAPTURE TARGET.py [ARGS...]

Reads CAPTURE with the format library's pyspy-dumpfile (DUMPFILE), resolves
every sample to its thread and its stack of frames (name, qualname, file,
first line, current line), and runs the named CHECK against the target's
source (lines marked "# @NAME").  Prints one "ok - LABEL: what" or
"not ok - LABEL: what # why" line per assertion (tests/run protocol) and
exits 0; a crash of this script is a failure of the suite.
Runs on python3 >= 3.6.
"""
import collections
import re
import subprocess
import sys

# ------------------------------------------------------------------ reading

Frame = collections.namedtuple("Frame", "name qualname file first line")


class Sample(object):
    __slots__ = ("t", "late", "thread", "stack", "flags")


class Thread(object):
    __slots__ = ("id", "process", "tid", "py_id", "name", "names", "main", "samples")


class Capture(object):
    def __init__(self, dumpfile, path):
        p = subprocess.Popen([dumpfile, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = p.communicate()
        self.rc = p.returncode
        self.stderr = err.decode("utf-8", "replace")
        self.meta = {}
        self.flags = ""
        self.strings = {0: None}
        self.frames = {}
        self.stacks = {0: ()}
        self.processes = {}
        self.process_ends = {}
        self.threads = {}
        self.samples = []
        self.errors = collections.Counter()
        self.trailer = None
        self.complete = False
        self.lags = []
        for raw in out.decode("utf-8", "strict").splitlines():
            self._line(raw)

    @staticmethod
    def _kv(rest):
        d = {}
        for part in rest.split():
            if "=" in part:
                k, v = part.split("=", 1)
                d[k] = v
        return d

    @staticmethod
    def _unquote(s):
        assert s[0] == '"' and s[-1] == '"', s
        out = []
        i, body = 0, s[1:-1]
        while i < len(body):
            c = body[i]
            if c == "\\":
                n = body[i + 1]
                if n == "n":
                    out.append("\n")
                elif n == "t":
                    out.append("\t")
                elif n == "x":
                    out.append(chr(int(body[i + 2:i + 4], 16)))
                    i += 2
                else:
                    out.append(n)
                i += 2
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _line(self, line):
        kind, _, rest = line.partition(" ")
        if kind == "header":
            m = re.search(r"flags 0x[0-9a-f]+ \(([^)]*)\)", rest)
            self.flags = m.group(1) if m else ""
        elif kind == "meta":
            key, _, val = rest.partition(" ")
            self.meta[key] = self._unquote(val) if val.startswith('"') else val
        elif kind == "string":
            sid, _, text = rest.partition(" ")
            self.strings[int(sid)] = self._unquote(text)
        elif kind == "frame":
            fid, _, rest2 = rest.partition(" ")
            kv = self._kv(rest2)
            if rest2.startswith("python"):
                self.frames[int(fid)] = (self.strings[int(kv["name"])],
                                         self.strings[int(kv["qualname"])],
                                         self.strings[int(kv["file"])],
                                         int(kv["firstlineno"]))
            else:
                self.frames[int(fid)] = ("?", None, "", 0)
        elif kind == "stack":
            sid, _, rest2 = rest.partition(" ")
            kv = self._kv(rest2)
            name, qual, fname, first = self.frames[int(kv["frame"])]
            self.stacks[int(sid)] = self.stacks[int(kv["parent"])] + (
                Frame(name, qual, fname, first, int(kv["line"])),)
        elif kind == "process":
            pid, _, rest2 = rest.partition(" ")
            kv = self._kv(rest2)
            self.processes[int(pid)] = {"pid": int(kv["pid"]),
                                        "version": self.strings[int(kv["python_version"])]}
        elif kind == "process_end":
            kv = self._kv(rest)
            self.process_ends[int(kv["process"])] = (kv["how"], int(kv["status"]))
        elif kind == "thread":
            tid, _, rest2 = rest.partition(" ")
            kv = self._kv(rest2)
            t = Thread()
            t.id = int(tid)
            t.process = int(kv["process"])
            t.tid = int(kv["tid"])
            t.py_id = int(kv["py_thread_id"])
            t.name = self.strings[int(kv["name"])]
            t.names = [t.name]
            t.main = "main" in kv["flags"].split(",")
            t.samples = []
            self.threads[t.id] = t
        elif kind == "thread_name":
            kv = self._kv(rest)
            t = self.threads[int(kv["thread"])]
            t.name = self.strings[int(kv["name"])]
            t.names.append(t.name)
        elif kind == "sample":
            kv = self._kv(rest)
            s = Sample()
            s.t = int(kv["t"])
            s.late = int(kv["late"])
            s.thread = self.threads[int(kv["thread"])]
            s.stack = self.stacks[int(kv["stack"])]
            s.flags = set(f for f in kv["flags"].split(",") if f != "-")
            s.thread.samples.append(s)
            self.samples.append(s)
        elif kind == "errors":
            kv = self._kv(rest)
            self.errors[kv["kind"]] += int(kv["count"])
        elif kind == "lag":
            self.lags.append(self._kv(rest))
        elif kind == "trailer":
            self.trailer = self._kv(rest)
        elif kind == "end":
            self.complete = rest.startswith("complete")

    def version(self):
        v = self.meta.get("python_version", "0.0.0")
        m = re.match(r"(\d+)\.(\d+)", v)
        return (int(m.group(1)), int(m.group(2))) if m else (0, 0)

    def thread_named(self, name):
        for t in self.threads.values():
            if name in t.names:
                return t
        return None


def markers(path):
    d = {}
    with open(path, "rb") as f:
        for no, line in enumerate(f, 1):
            for m in re.finditer(br"# @(\w+)", line):
                d[m.group(1).decode()] = no
    return d


# ------------------------------------------------------------------ reporting

class Report(object):
    def __init__(self, label):
        self.label = label
        self.failed = 0

    def check(self, what, ok, why=""):
        if ok:
            print("ok - %s: %s" % (self.label, what))
        else:
            self.failed += 1
            print("not ok - %s: %s # %s" % (self.label, what, why))
        sys.stdout.flush()
        return ok


def fmt(stack):
    return " > ".join("%s@%s" % (f.qualname or f.name, f.line) for f in stack)


def describe(samples, n=3):
    return " | ".join(fmt(s.stack) for s in samples[:n])


def basic(r, cap, what="file"):
    r.check("%s is complete and readable" % what, cap.rc == 0 and cap.complete and cap.trailer,
            "dumpfile exit %d, complete=%s: %s" % (cap.rc, cap.complete, cap.stderr.strip()[:200]))
    r.check("%s has samples" % what, len(cap.samples) > 0, "no samples")


# ------------------------------------------------------------------ checks

def frames_of(stack, src):
    return [f for f in stack if f.file == src]


def check_threads(r, cap, src, args):
    m = markers(src)
    ver = cap.version()
    gil_known = "gil-unknown-ok" not in args
    basic(r, cap)

    names = set()
    for t in cap.threads.values():
        names.update(n for n in t.names if n)
    want = {"MainThread", "busy-worker-thread-long-name", "sleepy", "gen", "compr",
            u"\u00fcn\u00efc\u00f6d\u00e9-thread"}
    r.check("thread names from threading", want <= names, "missing %s (have %s)" % (
        sorted(want - names), sorted(names)))

    if "renamed" in args:
        t = cap.thread_named("after-rename")
        r.check("thread renamed during the capture", t is not None and
                t.names[:1] == ["before-rename"] and t.names[-1] == "after-rename",
                "names %s" % (t.names if t else sorted(names)))

    tids = [t.tid for t in cap.threads.values()]
    r.check("OS thread ids", all(tid > 0 for tid in tids) and len(set(tids)) == len(tids),
            "tids %s" % tids)

    main = [t for t in cap.threads.values() if t.main]
    pid = int(cap.meta.get("pid", "0"))
    ok = len(main) == 1 and main[0].tid == pid and "MainThread" in main[0].names
    r.check("main thread flagged", ok, "main threads %s" % [(t.tid, t.names) for t in main])
    if main:
        good = [s for s in main[0].samples if len(s.stack) >= 2 and
                s.stack[0].name == "<module>" and s.stack[0].line == m["module_call"] and
                s.stack[-1].name == "main_loop" and s.stack[-1].line == m["main_sleep"]]
        r.check("main thread stack <module> > main_loop", good,
                describe(main[0].samples))

    busy = cap.thread_named("busy-worker-thread-long-name")
    if not r.check("busy thread sampled", busy and busy.samples, "no samples"):
        return
    leaf_lines = {m["def_busy_leaf"], m["busy_loop"], m["busy_body"], m["busy_ret"]}
    good = []
    for s in busy.samples:
        ours = frames_of(s.stack, src)
        if len(ours) == 2 and ours[1].name == "busy_leaf" and ours[1].line in leaf_lines and \
                ours[0].name == "method_run" and ours[0].line == m["call_busy_leaf"]:
            good.append(s)
    r.check("method frames and lines", len(good) >= 0.8 * len(busy.samples),
            "%d of %d good: %s" % (len(good), len(busy.samples), describe(busy.samples)))
    if good:
        f = frames_of(good[0].stack, src)[0]
        want_q = "Worker.method_run" if ver >= (3, 11) else None
        r.check("qualified name", f.qualname == want_q, "qualname %r, want %r" % (f.qualname, want_q))
        std = [x.name for x in good[0].stack if x.file != src]
        want_std = (["__bootstrap", "__bootstrap_inner", "run"] if ver < (3, 0)
                    else ["_bootstrap", "_bootstrap_inner", "run"])
        r.check("threading frames", std == want_std, "%s, want %s" % (std, want_std))

    firsts = {}
    for s in cap.samples:
        for f in frames_of(s.stack, src):
            firsts[f.name] = f.first
    # <listcomp> (<= 3.11) starts on its own line, <module> on line 1.
    wrong = [(n, firsts[n], m.get("def_" + n)) for n in firsts
             if not n.startswith("<") and m.get("def_" + n) != firsts[n]]
    r.check("first lines", firsts and not wrong, "wrong: %s" % wrong)
    r.check("file names", all(f.file for s in cap.samples for f in s.stack),
            "a frame without a file")

    gen = cap.thread_named("gen")
    good = []
    for s in gen.samples if gen else []:
        ours = frames_of(s.stack, src)
        if len(ours) >= 2 and ours[0].name == "gen_consumer" and \
                ours[0].line == m["consume_loop"] and ours[1].name == "gen" and \
                ours[1].line in (m["gen_busy"], m["gen_yield"], m["def_gen"]):
            good.append(s)
    r.check("generator frames", good, describe(gen.samples if gen else []))

    compr = cap.thread_named("compr")
    good = []
    for s in compr.samples if compr else []:
        ours = frames_of(s.stack, src)
        if len(ours) < 3 or ours[0].name != "comprehender" or ours[0].line != m["listcomp"]:
            continue
        if ver >= (3, 12) or ver < (3, 0):   # inline: 2.7 and PEP 709
            if ours[1].name == "square" and ours[1].line == m["square_body"]:
                good.append(s)
        elif ours[1].name == "<listcomp>" and ours[1].line == m["listcomp"] and \
                ours[2].name == "square" and ours[2].line == m["square_body"]:
            good.append(s)
    r.check("comprehension frames", good, describe(compr.samples if compr else []))

    sleepy = cap.thread_named("sleepy")
    ss = sleepy.samples if sleepy else []
    good = [s for s in ss if s.stack and s.stack[-1].name == "sleeper" and
            s.stack[-1].line == m["sleep_call"]]
    r.check("sleeping thread stack", ss and len(good) >= 0.9 * len(ss), describe(ss))
    idle = [s for s in ss if "idle" in s.flags]
    r.check("idle flag of a sleeping thread", ss and len(idle) >= 0.8 * len(ss),
            "%d of %d idle" % (len(idle), len(ss)))
    bidle = [s for s in busy.samples if "idle" in s.flags]
    r.check("busy thread mostly not idle", len(bidle) <= 0.7 * len(busy.samples),
            "%d of %d idle" % (len(bidle), len(busy.samples)))
    unk = [s for s in cap.samples if "idle_unknown" in s.flags]
    r.check("idle state known", not unk, "%d samples idle_unknown" % len(unk))

    if gil_known:
        unk = [s for s in cap.samples if "gil_unknown" in s.flags]
        r.check("GIL state known", not unk, "%d samples gil_unknown" % len(unk))
        bg = [s for s in busy.samples if "gil" in s.flags]
        r.check("GIL held by the busy thread", len(bg) >= 0.2 * len(busy.samples),
                "%d of %d with gil" % (len(bg), len(busy.samples)))
        sg = [s for s in ss if "gil" in s.flags]
        r.check("GIL not held by a sleeping thread", len(sg) <= 0.1 * max(1, len(ss)),
                "%d of %d with gil" % (len(sg), len(ss)))
        # One tick = one sample per thread; at most one holds the GIL.
        ticks, cur, seen = [], [], set()
        for s in cap.samples:
            if s.thread.id in seen:
                ticks.append(cur)
                cur, seen = [], set()
            cur.append(s)
            seen.add(s.thread.id)
        ticks.append(cur)
        multi = [t for t in ticks if sum(1 for s in t if "gil" in s.flags) > 1]
        r.check("at most one GIL holder per tick", len(multi) <= 0.02 * len(ticks),
                "%d of %d ticks" % (len(multi), len(ticks)))

    partial = [s for s in cap.samples if "partial" in s.flags]
    r.check("no partial samples", len(partial) <= 0.01 * len(cap.samples),
            "%d of %d partial" % (len(partial), len(cap.samples)))


def check_deep(r, cap, src, args):
    depth = int(args[0])
    m = markers(src)
    basic(r, cap)
    main = [t for t in cap.threads.values() if t.main]
    ss = main[0].samples if main else []
    trunc = depth > 4096
    good = []
    for s in ss:
        st = s.stack
        recs = [f for f in st if f.name == "recurse"]
        if not recs or st[-1].name != "recurse" or st[-1].line != m["bottom_sleep"]:
            continue
        if any(f.line != m["rec_call"] for f in recs[:-1]):
            continue
        if any(f.first != m["def_recurse"] for f in recs):
            continue
        if trunc:
            if len(st) == 4096 and "truncated" in s.flags and len(recs) == 4096:
                good.append(s)
        elif len(recs) == depth - 1 and st[0].name == "<module>" and \
                st[0].line == m["module_call"] and "truncated" not in s.flags:
            good.append(s)
    what = ("truncated at 4096 frames, innermost kept" if trunc
            else "%d-frame recursion, every line" % depth)
    r.check(what, ss and len(good) == len(ss), "%d of %d good; depths %s flags %s" % (
        len(good), len(ss), sorted(set(len(s.stack) for s in ss))[:5],
        sorted(set(",".join(sorted(s.flags)) for s in ss))))


def check_churn(r, cap, src, args):
    basic(r, cap)
    seq = []
    mismatch = []
    for s in sorted(cap.samples, key=lambda s: s.t):
        for f in s.stack:
            mo = re.match(r"f_(\d+)$", f.name)
            if mo:
                n = int(mo.group(1))
                seq.append(n)
                if f.file != "<churn-%d>" % n:
                    mismatch.append((f.name, f.file))
    back = [(a, b) for a, b in zip(seq, seq[1:]) if b < a]
    r.check("generated functions seen", len(set(seq)) >= 20,
            "only %d distinct of %d samples" % (len(set(seq)), len(seq)))
    r.check("no stale names after code objects are freed", not back and not mismatch,
            "%d backward steps %s, %d name/file mismatches %s" % (
                len(back), back[:5], len(mismatch), mismatch[:3]))


def check_torn(r, cap, src, args):
    m = markers(src)
    ver = cap.version()
    basic(r, cap)
    call = {("top", m["top_call"]): {"mid"},
            ("mid", m["mid_deep"]): {"deep"}, ("mid", m["mid_other"]): {"other"},
            ("mid", m["mid_leafy"]): {"leafy"},
            ("deep", m["deep_rec"]): {"deep"}, ("deep", m["deep_leafy"]): {"leafy"},
            ("<listcomp>", m["other_comp"]): {"leafy"}}
    # Comprehensions run inline in 2.7 and 3.12+ (PEP 709), as a frame between.
    inline = ver >= (3, 12) or ver < (3, 0)
    call[("other", m["other_comp"])] = {"leafy"} if inline else {"<listcomp>"}
    body = {"top": (m["def_top"], m["top_call"]), "mid": (m["def_mid"], m["mid_leafy"]),
            "deep": (m["def_deep"], m["deep_leafy"]), "leafy": (m["def_leafy"], m["leafy_ret"]),
            "other": (m["def_other"], m["other_comp"]),
            "<listcomp>": (m["other_comp"], m["other_comp"])}
    bad, partial, n = [], 0, 0
    for s in cap.samples:
        if not s.thread.main:
            continue
        n += 1
        if "partial" in s.flags:
            partial += 1
            continue
        st = s.stack
        why = None
        if len(st) < 2 or st[0].name != "<module>" or st[0].line != m["module_call"] or \
                st[1].name != "top":
            why = "bad root"
        for a, b in zip(st[1:], st[2:]):
            if why:
                break
            if b.name not in call.get((a.name, a.line), ()):
                why = "%s@%d cannot call %s" % (a.name, a.line, b.name)
        leaf = st[-1]
        lo_hi = body.get(leaf.name)
        if not why and (not lo_hi or not (lo_hi[0] <= leaf.line <= lo_hi[1])):
            why = "leaf %s@%d" % (leaf.name, leaf.line)
        if not why and sum(1 for f in st if f.name == "deep") > 26:
            why = "too deep"
        if why:
            bad.append((why, fmt(st)))
    r.check("torn stacks never recorded as wrong stacks (%d samples, %d partial)" % (n, partial),
            n > 0 and not bad, "%d wrong: %s" % (len(bad), bad[:2]))
    # This target is adversarial (a new call every microsecond): how many
    # samples end up partial depends on how busy the machine is (the reads
    # stretch); some must still be complete.
    r.check("complete samples among them", n - partial >= 0.02 * max(n, 1),
            "%d of %d partial" % (partial, n))


def check_unicode3(r, cap, src, args):
    fname = args[0]
    basic(r, cap)
    main = [t for t in cap.threads.values() if t.main]
    ss = main[0].samples if main else []
    want = [u"<module>", u"\U0002000b\U0002000c", u"\u51fd\u6570", u"\u00fcn\u00efc\u00f6d\u00e9_fn"]
    good = [s for s in ss if [f.name for f in s.stack] == want and
            all(f.file == fname for f in s.stack)]
    r.check("names of every PEP 393 kind and a non-ASCII file name", ss and good,
            "%s files %s" % (describe(ss), sorted(set(f.file for s in ss for f in s.stack))))
    r.check("non-ASCII thread name", main and u"\u4e3b\u7ebf\u7a0b-\u00fcn\u00ef" in main[0].names,
            "names %s" % (main[0].names if main else None))


def check_unicode27(r, cap, src, args):
    basic(r, cap)
    main = [t for t in cap.threads.values() if t.main]
    ss = main[0].samples if main else []
    want = [u"<module>", u"top", u"\u51fd", u"caf\u00e9"]
    good = [s for s in ss if [f.name for f in s.stack] == want and
            s.stack[-1].file == u"/tmp/fil\u00e9-\u00ff.py"]
    r.check("byte-string names and file as UTF-8 (Latin-1 fallback)", ss and good,
            "%s files %s" % (describe(ss), sorted(set(f.file for s in ss for f in s.stack))))


def check_exit(r, cap, src, args):
    reason, status = args[0], int(args[1])
    m = markers(src)
    basic(r, cap)
    tr = cap.trailer or {}
    r.check("trailer reason %s" % reason, tr.get("reason") == reason, "trailer %s" % tr)
    if reason == "exited" and args[2:] == ["launched"]:
        r.check("exit status %d in the trailer" % status, int(tr.get("exit_status", -999)) == status,
                "trailer %s" % tr)
        ends = list(cap.process_ends.values())
        r.check("process end recorded", ("exited", status) in ends, "process ends %s" % ends)
    good = [s for s in cap.samples if s.stack and s.stack[-1].name == "work" and
            s.stack[-1].line == m["work_body"]]
    r.check("program stack sampled", good, describe(cap.samples))


def check_exec(r, cap, src, args):
    mode = args[0]
    basic(r, cap)
    procs = cap.processes
    ends = cap.process_ends
    tr = cap.trailer or {}
    if mode == "self":
        pids = set(p["pid"] for p in procs.values())
        r.check("exec into Python followed as a new process", len(procs) == 2 and len(pids) == 1,
                "processes %s" % procs)
        first = min(procs)
        r.check("first process ended by exec", ends.get(first, ("",))[0] == "exec",
                "ends %s" % ends)
        per = collections.Counter(s.thread.process for s in cap.samples)
        r.check("samples before and after exec", len(per) == 2, "per process %s" % dict(per))
        r.check("trailer reason exited", tr.get("reason") == "exited", "trailer %s" % tr)
    else:
        r.check("exec into a non-Python program ends the capture",
                tr.get("reason") == "exec" and any(e[0] == "exec" for e in ends.values()),
                "trailer %s ends %s" % (tr, ends))


def check_signal(r, cap, src, args):
    basic(r, cap)
    tr = cap.trailer or {}
    r.check("trailer reason signal", tr.get("reason") == "signal", "trailer %s" % tr)
    ends = list(cap.process_ends.values())
    r.check("process still running at the end", ("detached", 0) in ends, "ends %s" % ends)


def check_blocking(r, cap, src, args):
    m = markers(src)
    basic(r, cap)
    r.check("header says blocking", "blocking" in cap.flags.split(","), "flags %r" % cap.flags)
    busy = cap.thread_named("busy-worker-thread-long-name")
    good = [s for s in (busy.samples if busy else []) if
            [f.name for f in frames_of(s.stack, src)] == ["method_run", "busy_leaf"]]
    r.check("stacks read while paused", good, describe(busy.samples if busy else []))
    sleepy = cap.thread_named("sleepy")
    ss = sleepy.samples if sleepy else []
    idle = [s for s in ss if "idle" in s.flags]
    r.check("idle read before pausing", ss and len(idle) >= 0.8 * len(ss),
            "%d of %d idle" % (len(idle), len(ss)))
    partial = [s for s in cap.samples if "partial" in s.flags]
    r.check("no partial samples when paused", not partial, "%d partial" % len(partial))


def check_meta(r, cap, src, args):
    rate = int(args[0])
    basic(r, cap)
    unit = int(cap.meta.get("time_unit_ns", 0))
    want = min(max(10 ** 9 // rate // 100, 1000), 1000000)
    r.check("time unit ~1%% of the period at %d Hz" % rate, unit == want,
            "time_unit_ns %d, want %d" % (unit, want))
    r.check("rate in the header", int(cap.meta.get("rate_hz", 0)) == rate, str(cap.meta))
    r.check("LAG records every second", len(cap.lags) >= 1,
            "%d LAG records" % len(cap.lags))


def check_samples(r, cap, src, args):
    basic(r, cap)


CHECKS = {
    "threads": check_threads, "deep": check_deep, "churn": check_churn, "torn": check_torn,
    "unicode3": check_unicode3, "unicode27": check_unicode27, "exit": check_exit,
    "exec": check_exec, "signal": check_signal, "blocking": check_blocking,
    "meta": check_meta, "samples": check_samples,
}


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    dumpfile, check, label, path, src = sys.argv[1:6]
    r = Report(label)
    try:
        cap = Capture(dumpfile, path)
    except Exception as e:   # a file the reader cannot decode at all
        r.check("%s: capture readable" % check, False, "%s: %s" % (type(e).__name__, e))
        return
    CHECKS[check](r, cap, src, sys.argv[6:])


if __name__ == "__main__":
    main()
