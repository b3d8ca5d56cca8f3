"""Small self-contained SVG line plots for docs/perf/ (no dependencies).

line_plot(path, title, xlabel, ylabel, series, xlog=True, ylog=True, ...)
  series: list of {"name": str, "points": [(x, y), ...], "dash": bool}
bar_plot(path, title, ylabel, groups, series, ...)
  grouped bars: groups = category labels, series = [{"name", "values"}]
  with one value (or None: no bar) per group
"""
import math

COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
          "#7f7f7f", "#bcbd22", "#17becf"]


def _esc(s):
    return (str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _nice_ticks(lo, hi, log):
    if log:
        ticks = []
        e = math.floor(math.log10(lo))
        while 10 ** e <= hi * 1.0001:
            for m in (1, 2, 5):
                v = m * 10 ** e
                if lo / 1.0001 <= v <= hi * 1.0001:
                    ticks.append(v)
            e += 1
        if len(ticks) > 8:
            ticks = [t for t in ticks if str(t).lstrip("0.").startswith("1")]
        return ticks
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=mag)
    t = math.ceil(lo / step) * step
    ticks = []
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _step125(v, down):
    """The nearest 1-2-5 value below (down) or above v."""
    e = math.floor(math.log10(v))
    cands = [m * 10 ** k for k in (e - 1, e, e + 1) for m in (1, 2, 5)]
    if down:
        return max(c for c in cands if c <= v * 1.0000001)
    return min(c for c in cands if c >= v / 1.0000001)


def _label(v):
    if v >= 1000 and v == int(v):
        return "{:,}".format(int(v))
    if v == int(v):
        return str(int(v))
    return ("%.2f" % v).rstrip("0").rstrip(".")


def line_plot(path, title, xlabel, ylabel, series, xlog=True, ylog=True, xticks=None,
              hlines=(), width=640, height=400, ymin=None, ymax=None):
    """hlines: [(y, label[, "below"])] dashed grey reference lines (e.g. a target),
    labelled at the right end, above the line (or below)."""
    pts = [p for s in series for p in s["points"] if p[1] is not None and p[1] > (0 if ylog else -1e300)]
    ml, mr, mt, mb = 70, 170, 40, 50
    pw, ph = width - ml - mr, height - mt - mb
    if not pts:
        pts = [(1, 1), (10, 10)]
    xs = [p[0] for p in pts] + list(xticks or [])
    ys = [p[1] for p in pts] + [h[0] for h in hlines]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if ymin is not None:
        y0 = ymin
    if ymax is not None:
        y1 = ymax
    if ylog:
        if ymin is None:
            y0 = _step125(y0 / 1.1, down=True)
        if ymax is None:
            y1 = _step125(y1 * 1.1, down=False)
    else:
        pad = (y1 - y0) * 0.08 or 1
        y0, y1 = (y0 - pad if ymin is None else y0), y1 + pad
    if xlog:
        x0, x1 = x0 / 1.3, x1 * 1.3
    else:
        pad = (x1 - x0) * 0.05 or 1
        x0, x1 = x0 - pad, x1 + pad

    def fx(x):
        if xlog:
            return ml + (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0)) * pw
        return ml + (x - x0) / (x1 - x0) * pw

    def fy(y):
        if ylog:
            return mt + ph - (math.log(y) - math.log(y0)) / (math.log(y1) - math.log(y0)) * ph
        return mt + ph - (y - y0) / (y1 - y0) * ph

    o = []
    o.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
             'font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">' % (width, height, width, height))
    o.append('<rect width="100%" height="100%" fill="white"/>')
    o.append('<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (ml, _esc(title)))
    # grid and ticks
    for t in _nice_ticks(y0, y1, ylog):
        y = fy(t)
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>' % (ml, y, ml + pw, y))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (ml - 6, y + 4, _label(t)))
    for t in (xticks or _nice_ticks(x0, x1, xlog)):
        x = fx(t)
        o.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e5e5e5"/>' % (x, mt, x, mt + ph))
        o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x, mt + ph + 16, _label(t)))
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (ml, mt, pw, ph))
    o.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (ml + pw / 2, height - 10, _esc(xlabel)))
    o.append('<text transform="translate(16,%.1f) rotate(-90)" text-anchor="middle">%s</text>' % (
        mt + ph / 2, _esc(ylabel)))
    for h in hlines:
        yv, lab = h[0], h[1]
        below = len(h) > 2 and h[2] == "below"
        if y0 <= yv <= y1:
            y = fy(yv)
            o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" stroke-dasharray="2,3"/>'
                     % (ml, y, ml + pw, y))
            o.append('<text x="%d" y="%.1f" fill="#666" font-size="10" text-anchor="end">%s</text>'
                     % (ml + pw - 4, y + 11 if below else y - 3, _esc(lab)))
    # series
    ly = mt + 8
    for i, s in enumerate(series):
        c = s.get("color") or COLORS[i % len(COLORS)]
        p = [(fx(x), fy(y)) for x, y in s["points"] if y is not None and (not ylog or y > 0)]
        dash = ' stroke-dasharray="6,4"' if s.get("dash") else ""
        if len(p) > 1:
            o.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>' % (
                c, dash, " ".join("%.1f,%.1f" % q for q in p)))
        for q in p:
            o.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (q[0], q[1], c))
        o.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>' % (
            ml + pw + 14, ly, ml + pw + 38, ly, c, dash))
        o.append('<circle cx="%d" cy="%d" r="3.5" fill="%s"/>' % (ml + pw + 26, ly, c))
        o.append('<text x="%d" y="%d">%s</text>' % (ml + pw + 44, ly + 4, _esc(s["name"])))
        ly += 18
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def bar_plot(path, title, ylabel, groups, series, ymax=None, hlines=(), width=760, height=380):
    """Grouped vertical bars on a linear axis from 0; a None value draws no
    bar and writes "n/a" (a missing measurement stays visible)."""
    ml, mr, mt, mb = 60, 170, 40, 70
    pw, ph = width - ml - mr, height - mt - mb
    vals = [v for s in series for v in s["values"] if v is not None]
    top = ymax if ymax is not None else _step125(max(vals + [h[0] for h in hlines] + [1e-3]) * 1.1, down=False)

    def fy(y):
        return mt + ph - min(y, top) / top * ph

    o = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
         'font-family="DejaVu Sans, Verdana, sans-serif" font-size="12">' % (width, height, width, height),
         '<rect width="100%" height="100%" fill="white"/>',
         '<text x="%d" y="22" font-size="15" font-weight="bold">%s</text>' % (ml, _esc(title))]
    for t in _nice_ticks(0, top, False):
        y = fy(t)
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#e5e5e5"/>' % (ml, y, ml + pw, y))
        o.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (ml - 6, y + 4, _label(t)))
    o.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>' % (ml, mt, pw, ph))
    o.append('<text transform="translate(16,%.1f) rotate(-90)" text-anchor="middle">%s</text>' % (
        mt + ph / 2, _esc(ylabel)))
    ng, ns = max(1, len(groups)), max(1, len(series))
    gw = pw / float(ng)
    bw = gw * 0.8 / ns
    for gi, g in enumerate(groups):
        x0 = ml + gi * gw + gw * 0.1
        cx = ml + gi * gw + gw / 2
        o.append('<text transform="translate(%.1f,%d) rotate(-35)" text-anchor="end" font-size="11">%s</text>'
                 % (cx, mt + ph + 14, _esc(g)))
        for si, s in enumerate(series):
            v = s["values"][gi] if gi < len(s["values"]) else None
            c = s.get("color") or COLORS[si % len(COLORS)]
            x = x0 + si * bw
            if v is None:
                o.append('<text x="%.1f" y="%d" font-size="7" fill="#999" text-anchor="middle">n/a</text>'
                         % (x + bw / 2, mt + ph - 3))
                continue
            y = fy(v)
            o.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>'
                     % (x, y, max(bw - 1, 1), mt + ph - y, c, _esc(s["name"]), _esc(g), _label(round(v, 4))))
    for h in hlines:
        y = fy(h[0])
        o.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" stroke-dasharray="2,3"/>'
                 % (ml, y, ml + pw, y))
        o.append('<text x="%d" y="%.1f" fill="#666" font-size="10" text-anchor="end">%s</text>'
                 % (ml + pw - 4, y - 3, _esc(h[1])))
    ly = mt + 8
    for si, s in enumerate(series):
        c = s.get("color") or COLORS[si % len(COLORS)]
        o.append('<rect x="%d" y="%d" width="18" height="10" fill="%s"/>' % (ml + pw + 14, ly - 6, c))
        o.append('<text x="%d" y="%d">%s</text>' % (ml + pw + 38, ly + 4, _esc(s["name"])))
        ly += 18
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")
