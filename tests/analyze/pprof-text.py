#!/usr/bin/env python3
"""Print a gzipped pprof profile (profile.proto) as text, for the golden
outputs of `pyspy-analyze pprof` (tests/data/analyze/golden.list, filter
pprof): the header fields, then one line per sample in file order,

  VALUE,VALUE  LABEL=VALUE...  ROOT;...;LEAF

a frame being NAME[/SYSTEM_NAME] (FILE:LINE) (FILE left out when empty).
A decoder of its own (wire format only), so the test needs no protobuf
package.  Usage: pprof-text.py < FILE.pb.gz
"""
import gzip
import sys


def fields(buf):
    """(field, wire type, value) of a message; LEN values as bytes."""
    i, n = 0, len(buf)

    def varint():
        nonlocal i
        v = shift = 0
        while True:
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    while i < n:
        key = varint()
        f, w = key >> 3, key & 7
        if w == 0:
            yield f, w, varint()
        elif w == 2:
            ln = varint()
            yield f, w, buf[i:i + ln]
            i += ln
        else:
            sys.exit("pprof-text: unexpected wire type %d (field %d)" % (w, f))


def ints(w, v):
    """A repeated integer field, packed (LEN) or not."""
    if w == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x = shift = 0
        while True:
            b = v[i]
            i += 1
            x |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        out.append(x)
    return out


def signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def msg(buf):
    d = {}
    for f, w, v in fields(buf):
        d.setdefault(f, []).append((w, v))
    return d


def one(d, f, default=0):
    return d[f][-1][1] if f in d else default


def main():
    p = msg(gzip.decompress(sys.stdin.buffer.read()))
    strs = [v.decode("utf-8") for _, v in p.get(6, [])]
    funcs, locs = {}, {}
    for _, v in p.get(5, []):
        d = msg(v)
        funcs[one(d, 1)] = d
    for _, v in p.get(4, []):
        d = msg(v)
        locs[one(d, 1)] = d

    def vt(v):
        d = msg(v)
        return "%s/%s" % (strs[one(d, 1)], strs[one(d, 2)])

    def frame(lid):
        loc = locs[lid]
        out = []
        for _, lv in loc.get(4, []):
            ln = msg(lv)
            fn = funcs[one(ln, 1)]
            name = strs[one(fn, 2)]
            if one(fn, 3):
                name += "/" + strs[one(fn, 3)]
            file = strs[one(fn, 4)]
            where = "%s:%d" % (file, one(ln, 2)) if file else ("%d" % one(ln, 2) if one(ln, 2) else "")
            out.append("%s (%s)" % (name, where) if where else name)
        return "+".join(out)

    print("sample_type %s" % " ".join(vt(v) for _, v in p.get(1, [])))
    print("default_sample_type %s" % strs[one(p, 14)])
    if 11 in p:
        print("period_type %s period %d" % (vt(one(p, 11)), signed(one(p, 12))))
    print("time_nanos %d duration_nanos %d" % (signed(one(p, 9)), signed(one(p, 10))))
    for w, v in p.get(13, []):
        for c in ints(w, v):
            print("comment %s" % strs[c])
    for _, v in p.get(2, []):
        d = msg(v)
        ids = [x for w, lv in d.get(1, []) for x in ints(w, lv)]
        vals = [signed(x) for w, vv in d.get(2, []) for x in ints(w, vv)]
        labels = []
        for _, lv in d.get(3, []):
            ld = msg(lv)
            val = strs[one(ld, 2)] if 2 in ld else str(signed(one(ld, 3)))
            labels.append("%s=%s" % (strs[one(ld, 1)], val))
        print("%s  %s  %s" % (",".join(str(x) for x in vals), " ".join(labels),
                              ";".join(frame(i) for i in reversed(ids))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
