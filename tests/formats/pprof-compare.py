#!/usr/bin/env python3
"""Compare what `go tool pprof` reads from a pyspy pprof profile with
pyspy-analyze's own text reports on the same filters.

  pprof-compare.py stacks RAW FOLDED
      RAW = `go tool pprof -raw -symbolize=none -sample_index=samples`
      output, FOLDED = `pyspy-analyze collapsed` with the same filters: the
      stacks and their sample counts must be the same (pprof's samples are
      split by labels; they are summed per stack here).
  pprof-compare.py top PTOP TOP
      PTOP = `go tool pprof -top -filefunctions -sample_index=wall
      -nodecount=100000`, TOP = `pyspy-analyze top -n 0`: same functions
      ("NAME FILE") with the same own and total percentages (2 decimals;
      pprof drops trailing zeros)
      and the same own and total times (top's seconds, 2 decimals; pprof
      rounds to 3 significant digits in its own units): the wall values are
      the samples' weights, as top's times, never samples x period.
      (top shows process frames only with --processes, collapsed and pprof
      also by default for --subprocesses captures: give one explicitly.)

pprof prints a location as "NAME FILE:LINE" (FILE empty for pyspy's
synthetic and --threads/--processes frames, LINE 0 when there is none);
collapsed writes "NAME (FILE:LINE)", "NAME (FILE)" or "NAME".  Frames of
collapsed are turned into pprof's form; a name ending in ")" with no file
(a nameless "thread (TID)") would be ambiguous and is not in the test data.
Exit status 0 = same, 1 = different (the differences are printed).
"""
import collections
import re
import sys


def pprof_form(label):
    m = re.match(r"^(.*) \((.*)\)$", label)
    if not m:
        return label + " :0"
    name, file = m.group(1), m.group(2)
    fm = re.match(r"^(.*):(\d+)$", file)
    if fm:
        return "%s %s:%s" % (name, fm.group(1), fm.group(2))
    return "%s %s:0" % (name, file)


def read_raw(path):
    text = open(path, encoding="utf-8").read()
    samples = collections.Counter()
    locs = {}
    section = None
    cur = None
    for line in text.split("\n"):
        if line.startswith("Samples:"):
            section = "samples"
            continue
        if line.startswith("Locations"):
            section = "locations"
            continue
        if line.startswith("Mappings"):
            section = None
            continue
        if section == "samples":
            m = re.match(r"^\s+(\d+)\s+\d+: ([\d ]+)$", line)
            if m:
                ids = [int(x) for x in m.group(2).split()]
                samples[tuple(ids)] += int(m.group(1))
        elif section == "locations":
            m = re.match(r"^\s+(\d+): 0x[0-9a-f]+ M=\d+ (.*) s=\d+(?:\(.*\))?$", line)
            if m:
                cur = int(m.group(1))
                locs[cur] = m.group(2)
            elif line.strip():
                sys.exit("unexpected location line (inlined frames?): %r" % line)
    folded = collections.Counter()
    for ids, n in samples.items():
        folded[";".join(locs[i] for i in reversed(ids))] += n
    return folded


def read_folded(path):
    folded = collections.Counter()
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, n = line.rsplit(" ", 1)
        folded[";".join(pprof_form(f) for f in stack.split(";"))] += int(n)
    return folded


def diff(a, b, what_a, what_b):
    bad = 0
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            bad += 1
            if bad <= 10:
                print("DIFF %s: %s %s, %s %s" % (k, what_a, a.get(k), what_b, b.get(k)))
    return bad


UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "ms": 1e-3, "s": 1.0, "mins": 60.0, "hrs": 3600.0}


def seconds(text):
    """pprof's '1.52s', '10ms', '0' as seconds."""
    m = re.match(r"^([\d.]+)([a-z\u00b5]*)$", text)
    if not m or (m.group(2) and m.group(2) not in UNITS):
        sys.exit("unexpected pprof value %r" % text)
    return float(m.group(1)) * UNITS.get(m.group(2), 1.0 if m.group(2) else 1e-9)


def read_ptop(path):
    """{function: (own%, total%, own s, total s)} of a -sample_index=wall top."""
    rows, seen = {}, False
    for line in open(path, encoding="utf-8"):
        if re.match(r"^Type: wall$", line.strip()):
            seen = True
        m = re.match(r"^\s*(\S+)\s+([\d.]+)%\s+[\d.]+%\s+(\S+)\s+([\d.]+)%\s+(.*)$", line)
        if m and m.group(1) != "flat":
            rows[m.group(5).strip()] = (m.group(2), m.group(4), seconds(m.group(1)), seconds(m.group(3)))
    if not seen:
        sys.exit("%s is not a -sample_index=wall top ('Type: wall')" % path)
    return rows


def read_top(path):
    rows = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^\s*([\d.]+)%\s+([\d.]+)%\s+([\d.]+)s\s+([\d.]+)s\s+(.*)$", line)
        if m:
            name = re.sub(r" \(([^()]*)\)$", r" \1", m.group(5))
            if name in rows:
                sys.exit("function name %r twice in %s: cannot compare" % (name, path))
            rows[name] = (m.group(1), m.group(2), float(m.group(3)), float(m.group(4)))
    return rows


def same_time(a, b):
    """pprof's 3 significant digits against top's 2 decimals."""
    return abs(a - b) <= max(0.0051, 0.0051 * a)


def diff_top(a, b):
    bad = 0
    for k in sorted(set(a) | set(b)):
        x, y = a.get(k), b.get(k)
        if (x and y and all(abs(float(x[i]) - float(y[i])) < 0.0051 for i in (0, 1)) and
                same_time(x[2], y[2]) and same_time(x[3], y[3])):
            continue
        bad += 1
        if bad <= 10:
            print("DIFF %s: pprof %s, top %s (own%%, total%%, own s, total s)" % (k, x, y))
    return bad


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("stacks", "top"):
        sys.exit(__doc__)
    if sys.argv[1] == "stacks":
        a, b = read_raw(sys.argv[2]), read_folded(sys.argv[3])
        bad = diff(a, b, "pprof", "collapsed")
        print("%s %d stacks, %d samples" % ("OK" if not bad else "FAIL", len(a), sum(a.values())))
    else:
        a, b = read_ptop(sys.argv[2]), read_top(sys.argv[3])
        bad = diff_top(a, b)
        print("%s %d functions, %.2f s" % ("OK" if not bad else "FAIL", len(a),
                                          sum(v[2] for v in a.values())))
    return 1 if bad or not a else 0


if __name__ == "__main__":
    sys.exit(main())
