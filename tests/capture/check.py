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
import json
import os
import re
import subprocess
import sys

# ------------------------------------------------------------------ reading

Frame = collections.namedtuple("Frame", "name qualname file first line")


class Sample(object):
    __slots__ = ("t", "late", "thread", "stack", "flags")


class Thread(object):
    __slots__ = ("id", "process", "tid", "py_id", "name", "names", "main", "samples", "first",
                 "last")


Local = collections.namedtuple("Local", "thread t depth flags name repr")


class Capture(object):
    def __init__(self, dumpfile, path):
        self.path = path
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
        self.locals = []
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
            self.processes[int(pid)] = {"id": int(pid), "pid": int(kv["pid"]),
                                        "ppid": int(kv["ppid"]),
                                        "start": int(kv["start"]),
                                        "cmdline": self.strings[int(kv["cmdline"])],
                                        "version": self.strings[int(kv["python_version"])]}
        elif kind == "process_end":
            kv = self._kv(rest)
            self.process_ends[int(kv["process"])] = (kv["how"], int(kv["status"]))
            self.processes[int(kv["process"])]["end"] = int(kv["t"])
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
            t.first = int(kv["first"])
            t.last = None
            self.threads[t.id] = t
        elif kind == "thread_end":
            kv = self._kv(rest)
            self.threads[int(kv["thread"])].last = int(kv["last"])
        elif kind == "local":
            kv = self._kv(rest)
            rp = rest[rest.index(" repr=") + 6:]
            self.locals.append(Local(self.threads[int(kv["thread"])], int(kv["t"]), int(kv["depth"]),
                                     set(f for f in kv["flags"].split(",") if f != "-"),
                                     self.strings[int(kv["name"])], self._unquote(rp)))
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

    def trailer_end(self):
        return int((self.trailer or {}).get("end", 0))

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
    check_unique_threads(r, cap)

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
                ours[0].name == "method_run" and ours[0].line == m["call_busy_leaf"] and \
                "partial" not in s.flags:
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
        r.check("threading frames", std == want_std, "%s, want %s (sample t=%d flags %s: %s)" % (
            std, want_std, good[0].t, sorted(good[0].flags), fmt(good[0].stack)))

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
        # (On 2.7 the old GIL is handed around the other CPU-bound threads
        # too; on a loaded CI machine the busy one held it in 18 % of its
        # samples.  GIL detection that is broken gives 0.)
        r.check("GIL held by the busy thread", len(bg) >= 0.1 * len(busy.samples),
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
    # Two agreeing copies of a stack cannot rule out every ABA: a program
    # this periodic can repeat the same transition between the same two
    # reads of both copies (docs/capture.md, "Torn stacks").  What they
    # must do is keep wrong stacks rare: with the first copy's check
    # disabled, 4 % (3.8) to 13 % (3.12) of this target's complete samples
    # came out wrong; with it, none to 1 in a few thousand.
    r.check("torn stacks rarely recorded as wrong stacks (%d samples, %d partial, %d wrong)"
            % (n, partial, len(bad)),
            n > 0 and len(bad) <= max(1, (n - partial) // 400),
            "%d wrong: %s" % (len(bad), bad[:2]))
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


# ------------------------------------------------------------------ threads defined once

def check_unique_threads(r, cap, what="each OS thread defined once"):
    """No OS thread is defined twice while its first definition lives: a
    thread id comes back only after the thread it named ended."""
    by = collections.defaultdict(list)
    for t in cap.threads.values():
        if t.tid > 0:
            by[(t.process, t.tid)].append(t)
    bad = []
    for (proc, tid), ts in by.items():
        ts.sort(key=lambda t: t.first)
        for a, b in zip(ts, ts[1:]):
            # The earlier definition must have ended (THREAD_END) before
            # the later one began.
            if a.last is None or b.first < a.last or \
                    (a.py_id == b.py_id and a.samples and b.samples and
                     b.samples[0].t <= a.samples[-1].t):
                bad.append((pid_of(cap, proc), tid, a.names, b.names, a.first, b.first))
    r.check(what, not bad, "%d threads defined twice: %s" % (len(bad), bad[:3]))


def pid_of(cap, process_id):
    return cap.processes[process_id]["pid"]


# ------------------------------------------------------------------ subprocesses

def read_roles(path):
    roles = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                roles[parts[0]] = int(parts[1])
    return roles


def run_analyze(args):
    exe = os.environ.get("ANALYZE")
    p = subprocess.Popen([exe] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    return p.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def check_family(r, cap, src, args):
    """family.py captured with -s: every process of the tree, its parent,
    its own samples; the analyzer's process frames, --pid and info tree."""
    roles = read_roles(args[0])
    ver = cap.version()
    basic(r, cap)
    r.check("header says subprocesses", "subprocesses" in cap.flags.split(","),
            "flags %r" % cap.flags)
    root = int(cap.meta.get("pid", "0"))
    procs = list(cap.processes.values())
    by_pid = collections.defaultdict(list)
    for p in procs:
        by_pid[p["pid"]].append(p)
    samples_of = collections.defaultdict(list)
    for s in cap.samples:
        samples_of[s.thread.process].append(s)

    def in_fn(p, fn):
        return [s for s in samples_of[p["id"]] if any(f.name == fn for f in s.stack)]

    def python_rec(pid, fn):
        """The Python record of pid that has samples in fn."""
        for p in by_pid.get(pid, []):
            if p["version"] and in_fn(p, fn):
                return p
        return None

    rootp = python_rec(root, "root_wait")
    r.check("root process sampled in root_wait", rootp is not None,
            "records of %d: %s" % (root, by_pid.get(root)))
    kinds = [("fork", "work_fork")]
    if ver >= (3, 0):
        kinds.append(("spawn", "work_spawn"))
    for kind, fn in kinds:
        kids = [python_rec(roles.get("%s%d" % (kind, i), -1), fn) for i in (1, 2)]
        ok = all(kids) and all(k["ppid"] == root for k in kids)
        r.check("multiprocessing %s: parent and two children are three processes" % kind,
                rootp is not None and ok,
                "children %s (roles %s)" % ([(k and (k["pid"], k["ppid"])) for k in kids], roles))
    bash = roles.get("bash", -1)
    gpid = roles.get("grandchild-python", -1)
    g = python_rec(gpid, "work_grandchild")
    brec = [p for p in by_pid.get(bash, []) if not p["version"]]
    r.check("Python started by bash 0.5 s later is found, behind its non-Python parent",
            g is not None and g["ppid"] == bash and brec and brec[-1]["ppid"] == root,
            "grandchild %s, bash records %s" % (g, by_pid.get(bash)))
    e = python_rec(roles.get("execd", -1), "work_execd")
    r.check("a process that exec()s into Python is followed",
            e is not None and roles.get("execd-python") == roles.get("execd") and
            e["ppid"] == root, "execd %s (roles %s)" % (by_pid.get(roles.get("execd", -1)), roles))
    if "attached" not in args:
        # (Attached to a running tree, the short child may be gone already.)
        sh = python_rec(roles.get("short-python", -1), "work_short")
        r.check("a short-lived child is sampled and its end recorded",
                sh is not None and "end" in sh and sh["end"] < cap.trailer_end(),
                "short %s" % sh)
    # The zombie lived for a moment (a copy of its parent, sampled if caught
    # then): any record of it must be ended.
    z = [p for p in by_pid.get(roles.get("zombie", -1), []) if "end" not in p]
    r.check("a zombie child breaks nothing (capture complete, ended if recorded)",
            cap.complete and not z and cap.trailer and cap.trailer.get("reason") == "exited",
            "zombie records %s, trailer %s" % (z, cap.trailer))
    strays = [(s.thread.process, s.thread.tid) for s in cap.samples
              if s.thread.process not in cap.processes]
    r.check("every sample belongs to a process", not strays, str(strays[:3]))
    check_unique_threads(r, cap, "each OS thread defined once (thread churn, every process)")
    churn = [t for t in cap.threads.values() if rootp and t.process == rootp["id"] and
             any(n and n.startswith("churn-") for n in t.names)]
    named = [t for t in churn if t.names[0] and t.names[0].startswith("churn-")]
    r.check("new threads defined with their threading name (%d threads)" % len(churn),
            len(churn) >= 5 and len(named) >= 0.9 * len(churn),
            "%d of %d named at definition; first names %s" % (
                len(named), len(churn), sorted(set(t.names[0] for t in churn))[:5]))

    # The analyzer: process root frames, --pid, info tree.
    if not os.environ.get("ANALYZE") or rootp is None or g is None:
        return
    rc, out, err = run_analyze(["collapsed", cap.path])
    lines = out.splitlines()
    chains = [re.findall(r'process (\d+):"', ln.split(";(")[0]) for ln in lines]
    r.check("analyzer: every stack under 'process PID:\"CMD\"' frames, root outermost",
            rc == 0 and lines and all(c and c[0] == str(root) for c in chains),
            "rc %d %s; chains %s" % (rc, err.strip()[:200], chains[:3]))
    gl = [c for ln, c in zip(lines, chains) if "work_grandchild" in ln]
    r.check("analyzer: grandchild under root > bash > grandchild",
            gl and all(c[:3] == [str(root), str(bash), str(gpid)] for c in gl),
            "chains %s" % gl[:2])
    rc, out, err = run_analyze(["collapsed", "--pid", str(gpid), cap.path])
    lines = out.splitlines()
    lastp = set(re.findall(r'process (\d+):"', ln)[-1] for ln in lines if "process " in ln)
    r.check("analyzer: --pid keeps only that process",
            rc == 0 and lines and lastp == {str(gpid)} and
            any("work_grandchild" in ln for ln in lines),
            "rc %d, last process frames %s" % (rc, sorted(lastp)))
    rc, out, err = run_analyze(["info", cap.path])
    tree = {}
    for ln in out.splitlines():
        mo = re.match(r"^( +)(\d+) .*\[(Python [0-9.]+|no Python)\] .*?(\d+) samples", ln)
        if mo:
            tree[int(mo.group(2))] = (len(mo.group(1)), mo.group(3), int(mo.group(4)))
    ok = (root in tree and gpid in tree and bash in tree and
          tree[bash][0] == tree[root][0] + 2 and tree[gpid][0] == tree[bash][0] + 2 and
          tree[bash][1] == "no Python" and tree[gpid][2] > 0)
    r.check("analyzer: info prints the process tree (indented, versions, samples)", rc == 0 and ok,
            "tree %s\n%s" % (tree, out[out.find("Processes:"):][:800]))


def check_family_dump(r, cap, src, args):
    """--dump -s of a running family.py: every process of the tree in one
    snapshot, children under their parent in the analyzer's dump."""
    roles = read_roles(args[0])
    basic(r, cap)
    flags = set(cap.flags.split(","))
    r.check("header flags dump,subprocesses", {"dump", "subprocesses"} <= flags, cap.flags)
    root = int(cap.meta.get("pid", "0"))
    sampled = set(cap.processes[s.thread.process]["pid"] for s in cap.samples)
    want = set([root, roles.get("fork1"), roles.get("fork2")])
    if cap.version() >= (3, 0):
        want |= set([roles.get("spawn1"), roles.get("spawn2")])
    r.check("one snapshot of the root and its multiprocessing children", want <= sampled,
            "sampled %s, want %s" % (sorted(sampled), sorted(want)))
    per = collections.Counter(s.thread.id for s in cap.samples)
    r.check("one sample per thread", per and max(per.values()) == 1, str(per))
    if not os.environ.get("ANALYZE"):
        return
    rc, out, err = run_analyze(["dump", cap.path])
    blocks = re.findall(r"^Process (\d+): .*\nPython v[0-9.]+ \(.*\)\n(?:Parent Process (\d+): )?",
                        out, re.M)
    parents = dict((int(p), int(pp) if pp else None) for p, pp in blocks)
    r.check("analyzer dump: a block per process, children with 'Parent Process'",
            rc == 0 and root in parents and parents.get(roles.get("fork1")) == root and
            parents.get(roles.get("fork2")) == root,
            "rc %d, blocks %s\n%s" % (rc, parents, out[:600]))


# ------------------------------------------------------------------ dumps

def expected_locals(ver):
    py2 = ver < (3, 0)
    return [
        ("a", "1", True), ("b", '"two"', True), ("rest", "(3, 4)", True),
        ("opts", '{"key": "v"}', True),
        ("none", "None", False), ("yes", "True", False), ("no", "False", False),
        ("small", "42", False), ("neg", "-7", False), ("mid", "1099511627776", False),
        ("big", "+bigint", False), ("bigneg", "-bigint", False), ("pi", "3.25", False),
        ("tiny", "1e-05", False), ("text", '"say \\"hi\\"\\n\\tok"', False),
        ("uni", (u'u"' if py2 else u'"') + u"caf\u00e9 \u51fd\u6570\"", False),
        ("long_text", '"' + "x" * 123 + '..."', False),
        ("raw", '"\\x00\\x01ab"' if py2 else 'b"\\x00\\x01ab"', False),
        ("items", '[1, "two", 3.5, None]', False), ("pair", "(1, 2)", False),
        ("single", "(1,)", False), ("empty", "[]", False), ("mapping", '{"k": [1, 2]}', False),
        ("nested", "[[1, [2, [3]]]]", False), ("selfref", "[[...]]", False),
        ("obj", re.compile(r"<Thing at 0x[0-9a-f]+>$"), False),
        ("many", re.compile(r"\[0, 1, 2, 3, .*, \.\.\.\]$"), False),
        ("inner", re.compile(r"<function at 0x[0-9a-f]+>$"), False),
        ("captured", '"cell"', False),
    ]


def repr_ok(want, got):
    return want.match(got) is not None if hasattr(want, "match") else want == got


def check_dump(r, cap, src, args):
    """A --dump --locals of dumpme.py: one paused snapshot, statuses,
    frames, lines, and the rendering of every type."""
    m = markers(src)
    ver = cap.version()
    mode = args[0] if args else "locals"
    basic(r, cap)
    flags = set(cap.flags.split(","))
    want_flags = {"dump", "locals"} | ({"blocking"} if mode == "locals" else set())
    r.check("header flags %s" % ",".join(sorted(want_flags)), want_flags <= flags and
            (mode == "locals" or "blocking" not in flags), "flags %r" % cap.flags)
    tr = cap.trailer or {}
    r.check("trailer reason dump, one tick", tr.get("reason") == "dump" and tr.get("ticks") == "1",
            "trailer %s" % tr)
    per = collections.Counter(s.thread.id for s in cap.samples)
    r.check("one sample per thread", per and max(per.values()) == 1, str(per))
    if mode != "locals":
        # --nonblocking while a thread rewrites its locals: whatever was
        # read is well-formed; unreadable values say so.
        # Either a well-formed rendering of the right shape, or flagged as
        # an error with the unreadable part shown as "?" (or the reason).
        shapes = {"n": r"-?\d+$", "data": r"\[(\d+(, \d+)*)?(, \.\.\.)?\]$",
                  "text": r'"m*(\.\.\.)?"$',
                  "table": r'\{("\d+": \d+(, "\d+": \d+)*)?(, \.\.\.)?\}$'}
        mt = cap.thread_named("mutator")
        ms = mt.samples[0] if mt and mt.samples else None
        # The depth (0 = leaf) of mutate(): a generator expression may run
        # above it; a torn sample (partial) has no frames at all.
        depth = [i for i, f in enumerate(reversed(ms.stack)) if f.name == "mutate"] if ms else []
        if not depth:
            r.check("changing values are rendered or flagged (mutator not in mutate(): %s)" %
                    (ms and sorted(ms.flags)), ms is not None and "partial" in ms.flags or
                    ms is not None and ms.stack, "no mutator sample")
            return
        mut = [l for l in cap.locals if l.thread is mt and l.depth == depth[0]]
        bad = []
        for l in mut:
            if "error" in l.flags:
                if "?" not in l.repr and not l.repr.endswith("during the read)"):
                    bad.append(l)
            elif l.name in shapes and not re.match(shapes[l.name], l.repr):
                bad.append(l)
        r.check("changing values are rendered or flagged (%d locals)" % len(mut),
                mut and not bad, str([(l.name, l.repr, sorted(l.flags)) for l in bad[:3]]))
        return
    main = [t for t in cap.threads.values() if t.main]
    ms = main[0].samples[0] if main and main[0].samples else None
    r.check("main thread: idle, holder > <module> at the right lines",
            ms is not None and "idle" in ms.flags and len(ms.stack) >= 2 and
            ms.stack[-1].name == "holder" and ms.stack[-1].line == m["holder_sleep"] and
            ms.stack[-2].name == "<module>" and ms.stack[-2].line == m["call_holder"],
            ms and (fmt(ms.stack), ms.flags))
    sl = cap.thread_named("sleepy")
    ss = sl.samples[0] if sl and sl.samples else None
    # 2.7's GIL wakes a thread that waits for it again and again while a
    # CPU-bound thread runs: waking from its sleep it may be seen running.
    idle_ok = ss is not None and ("idle" in ss.flags or ver < (3, 0))
    r.check("sleeping thread: idle in nap", idle_ok and
            ss.stack[-1].name == "nap" and ss.stack[-1].line == m["nap_sleep"],
            ss and (fmt(ss.stack), ss.flags))
    bz = cap.thread_named("busy")
    bs = bz.samples[0] if bz and bz.samples else None
    r.check("busy thread: active in spin", bs is not None and "idle" not in bs.flags and
            bs.stack[-1].name == "spin" and
            m["def_spin"] < bs.stack[-1].line <= m["spin_body"],
            bs and (fmt(bs.stack), bs.flags))
    r.check("no partial samples when paused", not [s for s in cap.samples if "partial" in s.flags])
    if not main:
        return
    got = [l for l in cap.locals if l.thread is main[0] and l.depth == 0]
    names = [l.name for l in got]
    for name, want, arg in expected_locals(ver):
        l = [x for x in got if x.name == name]
        ok = len(l) == 1 and repr_ok(want, l[0].repr) and (("arg" in l[0].flags) == arg)
        r.check("local %s = %s%s" % (name, getattr(want, "pattern", want), " (argument)" if arg else ""),
                ok, "got %s" % ([(x.repr, sorted(x.flags)) for x in l] or "nothing"))
    trunc = [l.name for l in got if "truncated" in l.flags]
    r.check("truncated values flagged", sorted(trunc) == ["long_text", "many"], str(trunc))
    r.check("arguments first", names[:4] == ["a", "b", "rest", "opts"], str(names))
    r.check("every repr within the budget and valid text",
            all(len(l.repr.encode("utf-8")) <= 128 for l in cap.locals), "")
    mod = [l for l in cap.locals if l.thread is main[0] and l.depth == 1]
    r.check("module frame has no fast locals", not mod, str(mod[:3]))
    sp = [l for l in cap.locals if sl and l.thread is sl and l.depth == 0]
    r.check("sleepy: argument seconds = 100",
            [(l.name, l.repr, "arg" in l.flags) for l in sp] == [("seconds", "100", True)],
            str(sp))

    if not os.environ.get("ANALYZE"):
        return
    rc, out, err = run_analyze(["dump", "--locals", cap.path])
    pid = int(cap.meta["pid"])
    short = os.path.basename(src)
    block = ["Thread %d (idle): \"MainThread\"" % pid,
             "    holder (%s:%d)" % (short, m["holder_sleep"]),
             "        Arguments:",
             "            a: 1",
             "            b: \"two\"",
             "            rest: (3, 4)",
             "            opts: {\"key\": \"v\"}",
             "        Locals:",
             "            none: None"]
    r.check("analyzer dump: py-spy layout with Arguments/Locals",
            rc == 0 and "\n".join(block) in out and
            out.startswith("Process %d: " % pid) and
            "    <module> (%s:%d)" % (short, m["call_holder"]) in out and
            re.search(r'Thread \d+ \(active(\+gil)?\): "busy"', out) and
            re.search(r'Thread \d+ \((idle|active)\): "sleepy"' if ver < (3, 0) else
                      r'Thread \d+ \(idle\): "sleepy"', out),
            "rc %d %s\n%s\n%s" % (rc, err.strip()[:200], out[:1500],
                                   "\n".join(l for l in out.splitlines() if l.startswith("Thread"))))
    rc, out, err = run_analyze(["dump", "--json", "--locals", cap.path])
    try:
        js = json.loads(out)
    except ValueError as e:
        js = None
        err = "%s: %s" % (e, out[:300])
    ok = False
    if js:
        mt = [t for t in js if t.get("thread_name") == "MainThread"]
        if mt:
            loc = mt[0]["frames"][0]["locals"] or []
            d = dict((x["name"], x) for x in loc)
            ok = (d.get("a", {}).get("arg") is True and d.get("a", {}).get("repr") == "1" and
                  d.get("selfref", {}).get("repr") == "[[...]]" and
                  d.get("none", {}).get("arg") is False and
                  mt[0]["frames"][1]["locals"] is None)
    r.check("analyzer dump --json: locals with names, arg flags and reprs", rc == 0 and ok,
            "rc %d %s" % (rc, err.strip()[:300]))


CHECKS = {
    "threads": check_threads, "deep": check_deep, "churn": check_churn, "torn": check_torn,
    "unicode3": check_unicode3, "unicode27": check_unicode27, "exit": check_exit,
    "exec": check_exec, "signal": check_signal, "blocking": check_blocking,
    "meta": check_meta, "samples": check_samples, "family": check_family, "dump": check_dump,
    "family_dump": check_family_dump,
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
