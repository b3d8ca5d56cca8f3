/*
 * cmd_flamegraph.c - self-contained interactive flame graph SVG
 * (docs/pyspy-analyze.1.md, "flamegraph").  Icicle layout by default (root
 * at the top, like py-spy); frames narrower than --minwidth pixels are not
 * drawn, but their samples still count in their parents.
 */
#include "cmd_flamegraph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "diff.h"
#include "escape.h"
#include "flamegraph_js.h"
#include "fmt.h"
#include "msg.h"
#include "out.h"
#include "report.h"

#define FG_FRAME_HEIGHT 16
#define FG_FONT_SIZE 12
/*
 * Average glyph width / font size, for the script's first guess before it
 * measures (flamegraph.pl's 0.59 overflows with DejaVu Sans, what Verdana
 * falls back to on Linux).  The labels written here use glyph_em().
 */
#define FG_FONT_WIDTH 0.64
#define FG_XPAD 10

struct fg_opts {
	const char *title;
	long width;
	double minwidth;
	int upright;
	struct diff_args diff;
};

static const struct cli_opt fg_opts[] = {
	{"", CLI_HEADING, NULL, "Flame graph:"},
	{"title", CLI_TITLE, "TEXT", "title (default: names the captures)"},
	{"width", CLI_WIDTH, "PIXELS", "image width (default 1200)"},
	{"minwidth", CLI_MINWIDTH, "PIXELS", "omit frames narrower than this (default 0.1)"},
	{"upright", CLI_UPRIGHT, NULL, "root at the bottom (default: icicle, root at the top)"},
	DIFF_OPT_ENTRIES,
	CLI_END,
};

static int fg_option(void *ctx, int code, const char *arg)
{
	struct fg_opts *o = ctx;
	char *end;

	switch (code) {
	case CLI_TITLE:
		o->title = arg;
		return 1;
	case CLI_WIDTH:
		o->width = cli_long("--width", arg, 200, 100000);
		return 1;
	case CLI_MINWIDTH:
		o->minwidth = strtod(arg, &end);
		if (end == arg || *end || !(o->minwidth >= 0) || o->minwidth > 1000)
			usage_error("invalid --minwidth '%s' (want pixels, e.g. 0.1)", arg);
		return 1;
	case CLI_UPRIGHT:
		o->upright = 1;
		return 1;
	case CLI_DIFF:
	case CLI_BASE_FROM:
	case CLI_BASE_TO:
		return diff_option(&o->diff, code, arg);
	default:
		return 0;
	}
}

/*
 * Advance width of an ASCII character in em, the larger of Verdana's and
 * DejaVu Sans' (the font a viewer without Verdana uses), rounded up: a
 * label sized with these fits whichever of the two draws it.  Anything
 * else counts 1 em (CJK is 1 em; other scripts are narrower).
 */
static double glyph_em(unsigned char c)
{
	static const unsigned char w100[95] = {
		/*  ! " # $ % & ' ( ) * + , - . / */
		36, 40, 46, 84, 64, 110, 78, 27, 46, 46, 64, 84, 36, 46, 36, 46,
		/* 0-9 */
		64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
		/* : ; < = > ? @ */
		46, 46, 84, 84, 84, 55, 100,
		/* A-Z */
		69, 69, 70, 77, 64, 58, 78, 76, 43, 46, 70, 56, 86, 75, 79, 61, 79, 70, 69, 62,
		74, 69, 99, 69, 62, 69,
		/* [ \ ] ^ _ ` */
		46, 46, 46, 84, 64, 64,
		/* a-z */
		61, 64, 55, 64, 62, 36, 64, 64, 28, 33, 60, 28, 98, 64, 61, 64, 64, 43, 53, 40,
		64, 60, 82, 60, 60, 53,
		/* { | } ~ */
		64, 46, 64, 84,
	};

	return c >= 32 && c < 127 ? w100[c - 32] / 100.0 : 1.0;
}

/* Width in pixels of the UTF-8 text s[0..n) at FG_FONT_SIZE. */
static double text_px(const char *s, size_t n)
{
	double em = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			em += glyph_em((unsigned char)s[i]);
	return em * FG_FONT_SIZE;
}

/*
 * The label as drawn in a frame of w pixels: all of it if it fits in
 * w - 6 (3 px each side), else as many characters as fit followed by
 * "..", nothing when fewer than 3 characters would.
 */
static void fit_label(struct strbuf *out, const char *name, double w)
{
	double room = w - 6, used = 2 * glyph_em('.') * FG_FONT_SIZE;
	const char *p = name, *q;
	long k = 0;

	if (text_px(name, strlen(name)) <= room) {
		xml_escape(out, name);
		return;
	}
	while (*p) {
		q = p + 1;
		while (((unsigned char)*q & 0xc0) == 0x80)
			q++;
		if (used + text_px(p, (size_t)(q - p)) > room)
			break;
		used += text_px(p, (size_t)(q - p));
		p = q;
		k++;
	}
	if (k < 1)
		return;
	{
		char *cut = xstrndup(name, (unsigned long)(p - name));

		xml_escape(out, cut);
		free(cut);
	}
	strbuf_adds(out, "..");
}

static void fg_color(char *buf, size_t cap, const char *label, int kind)
{
	/* Colour by function name (the text before " ("), like inferno's hash mode. */
	const char *paren = strstr(label, " (");
	uint64_t h = hash_bytes(label, paren && kind == AGG_FRAME ? (size_t)(paren - label) : strlen(label));
	double v1 = (double)(h & 0xff) / 255.0, v2 = (double)((h >> 8) & 0xff) / 255.0,
	       v3 = (double)((h >> 16) & 0xff) / 255.0;

	if (kind == AGG_THREAD)
		snprintf(buf, cap, "rgb(%d,%d,%d)", 90 + (int)(40 * v1), 150 + (int)(40 * v2), 220);
	else if (kind == AGG_PROCESS)
		snprintf(buf, cap, "rgb(%d,%d,%d)", 80 + (int)(40 * v1), 190 + (int)(40 * v2), 110);
	else if (kind == AGG_PARTIAL)
		snprintf(buf, cap, "rgb(170,170,170)");
	else
		snprintf(buf, cap, "rgb(%d,%d,%d)", 205 + (int)(50 * v3), (int)(230 * v1), (int)(55 * v2));
}

/*
 * Differential colour, as flamegraph.pl's: red for a frame whose share
 * grew, blue for one that shrank, the deeper the larger the change
 * relative to the largest one; white-ish when unchanged.
 */
static void fg_diff_color(char *buf, size_t cap, double change, double max)
{
	double x = max > 0 ? change / max : 0;
	int v = (int)(210 - 210 * (x < 0 ? -x : x) + 0.5);

	if (x >= 0)
		snprintf(buf, cap, "rgb(255,%d,%d)", v, v);
	else
		snprintf(buf, cap, "rgb(%d,%d,255)", v, v);
}

/* Whether node is drawn, and the deepest drawn level. */
static uint32_t fg_layout(const struct agg *a, double wpt, double minwidth, uint64_t *xoff)
{
	uint32_t i, maxdepth = 0;

	xoff[0] = 0;
	for (i = 0; i < a->nnodes; i++) {
		uint64_t off = xoff[i];
		uint32_t c;

		if ((double)a->nodes[i].total * wpt >= minwidth && a->nodes[i].depth > maxdepth)
			maxdepth = a->nodes[i].depth;
		for (c = a->nodes[i].first_child; c; c = a->nodes[c].next_sibling) {
			xoff[c] = off;
			off += a->nodes[c].total;
		}
	}
	return maxdepth;
}

static void fg_write(FILE *fp, const struct agg *a, const struct fg_opts *o, const char *title,
		     const char *subtitle, const struct diff *d)
{
	uint64_t total = a->nodes[0].total;
	double width = (double)o->width, wpt = total ? (width - 2 * FG_XPAD) / (double)total : 0;
	uint64_t *xoff = xcalloc(a->nnodes + 1, sizeof(*xoff));
	uint32_t maxdepth = total ? fg_layout(a, wpt, o->minwidth, xoff) : 0;
	double ypad1 = FG_FONT_SIZE * 3 + (*subtitle ? FG_FONT_SIZE * 1.5 : 0);
	double ypad2 = FG_FONT_SIZE * 2 + 10;
	double height = (double)(maxdepth + 1) * FG_FRAME_HEIGHT + ypad1 + ypad2;
	struct strbuf sb;
	uint32_t node;
	char num[32], color[48];

	strbuf_init(&sb);
	fprintf(fp, "<?xml version=\"1.0\" standalone=\"no\"?>\n");
	fprintf(fp,
		"<svg version=\"1.1\" width=\"%ld\" height=\"%.0f\" viewBox=\"0 0 %ld %.0f\""
		" onload=\"init(evt)\" xmlns=\"http://www.w3.org/2000/svg\""
		" data-xpad=\"%d\" data-fontsize=\"%d\" data-fontwidth=\"%.2f\" data-icicle=\"%d\">\n",
		o->width, height, o->width, height, FG_XPAD, FG_FONT_SIZE, FG_FONT_WIDTH, !o->upright);
	fprintf(fp, "<!-- Flame graph written by pyspy-analyze %s. -->\n", PYSPY_VERSION);
	fprintf(fp, "<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
		    "<stop stop-color=\"#eeeeee\" offset=\"5%%\"/><stop stop-color=\"#eeeeb0\""
		    " offset=\"95%%\"/></linearGradient></defs>\n");
	fprintf(fp, "<style type=\"text/css\">\n%s</style>\n", flamegraph_css);
	fprintf(fp, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", flamegraph_js);
	fprintf(fp, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"url(#background)\"/>\n");
	strbuf_reset(&sb);
	xml_escape(&sb, title);
	fprintf(fp, "<text id=\"title\" x=\"%.0f\" y=\"%d\">%s</text>\n", width / 2, FG_FONT_SIZE * 2,
		sb.buf);
	if (*subtitle) {
		strbuf_reset(&sb);
		xml_escape(&sb, subtitle);
		fprintf(fp, "<text id=\"subtitle\" x=\"%.0f\" y=\"%.0f\">%s</text>\n", width / 2,
			FG_FONT_SIZE * 3.5, sb.buf);
	}
	fprintf(fp, "<text id=\"details\" x=\"%d\" y=\"%.0f\"> </text>\n", FG_XPAD, height - ypad2 / 2);
	fprintf(fp, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"%d\">Reset Zoom</text>\n", FG_XPAD,
		FG_FONT_SIZE * 2);
	fprintf(fp, "<text id=\"search\" x=\"%.0f\" y=\"%d\">Search</text>\n", width - FG_XPAD,
		FG_FONT_SIZE * 2);
	fprintf(fp, "<text id=\"matched\" x=\"%.0f\" y=\"%.0f\"> </text>\n", width - FG_XPAD,
		height - ypad2 / 2);
	if (!total)
		fprintf(fp, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">No samples match the "
			    "filters</text>\n",
			width / 2, ypad1 + FG_FRAME_HEIGHT);
	fprintf(fp, "<g id=\"frames\">\n");
	/* Depth first, siblings in label order: deterministic output. */
	node = total ? 0 : a->nnodes;
	while (node < a->nnodes) {
		const struct agg_node *n = &a->nodes[node];
		double x = FG_XPAD + (double)xoff[node] * wpt, w = (double)n->total * wpt;
		double y = o->upright ? height - ypad2 - (double)(n->depth + 1) * FG_FRAME_HEIGHT
				      : ypad1 + (double)n->depth * FG_FRAME_HEIGHT;
		const char *label = a->labels[n->label];
		int drawn = w >= o->minwidth;

		if (drawn) {
			fg_color(color, sizeof(color), label, node ? a->label_kind[n->label] : AGG_PROCESS);
			if (!node)
				snprintf(color, sizeof(color), "rgb(230,230,210)");
			else if (d)
				fg_diff_color(color, sizeof(color), diff_change(d, a, node), d->max_change);
			strbuf_reset(&sb);
			xml_escape(&sb, label);
			if (d && node)
				/* flamegraph.pl's differential title: the change last */
				fprintf(fp, "<g><title>%s (%s samples, %.2f%%; %+.2f%%)</title>", sb.buf,
					fmt_count(num, sizeof(num), n->total),
					100.0 * (double)n->total / (double)total,
					100.0 * diff_change(d, a, node));
			else
				fprintf(fp, "<g><title>%s (%s samples, %.2f%%)</title>", sb.buf,
					fmt_count(num, sizeof(num), n->total),
					100.0 * (double)n->total / (double)total);
			fprintf(fp, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\""
				    " rx=\"2\" ry=\"2\"/>",
				x, y, w, FG_FRAME_HEIGHT - 1, color);
			strbuf_reset(&sb);
			fit_label(&sb, label, w);
			fprintf(fp, "<text x=\"%.2f\" y=\"%.1f\">%s</text></g>\n", x + 3, y + 10.5, sb.buf);
		}
		if (drawn && n->first_child) {
			node = n->first_child;
			continue;
		}
		while (node && !a->nodes[node].next_sibling)
			node = a->nodes[node].parent;
		node = node ? a->nodes[node].next_sibling : a->nnodes;
	}
	fprintf(fp, "</g>\n</svg>\n");
	strbuf_release(&sb);
	free(xoff);
}

static const char fg_synopsis[] =
	"flamegraph [FILTERS] [--title TEXT] [--diff BASE [--base-from S] [--base-to S]] [-o FILE]\n"
	"       SOURCE...";
static const char fg_description[] =
	"Write an interactive flame graph (SVG, self-contained): hover for sample counts,\n"
	"click a frame to zoom, 'Reset Zoom', 'Search' (or Ctrl-F) with a regular\n"
	"expression to highlight matching frames and see their share.  Icicle layout\n"
	"(root at the top) like py-spy, unless --upright.\n"
	"\n"
	"With --diff BASE, a differential flame graph: frame widths are SOURCE's samples,\n"
	"colours each frame's change of share against BASE (the same filters applied to\n"
	"it, except --base-from/--base-to): red grew, blue shrank, white unchanged;\n"
	"titles end with the change in percentage points.";

/* The filters, and the partial share when there are partial samples. */
static char *fg_subtitle(const struct filter *f, const struct agg_stats *s)
{
	char *filters = filter_describe(f), pct[32];
	struct strbuf sb;

	if (!s->partial)
		return filters;
	strbuf_init(&sb);
	strbuf_adds(&sb, filters);
	fmt_pct(pct, sizeof(pct), (double)s->partial, (double)s->seen);
	strbuf_addf(&sb, "%s%s%% partial samples%s", sb.len ? "; " : "", pct,
		    f->no_partial ? " (excluded)" : " (under " AGG_PARTIAL_LABEL ")");
	free(filters);
	return strbuf_detach(&sb);
}

int cmd_flamegraph(int argc, char **argv)
{
	const struct cli_opt *const tables[4] = {fg_opts, filter_opts, report_output_opts,
						 cli_common_opts};
	struct fg_opts o = {NULL, 1200, 0.1, 0, {NULL, 0, 0, 0, 0}};
	struct report r;
	struct agg a;
	struct diff d;
	struct out out;
	char *title = NULL, *subtitle = NULL;
	int ret = EXIT_RUNTIME, show;

	report_parse(&r, argc, argv, tables, fg_synopsis, fg_description, fg_option, &o);
	out_refuse_tty(r.output, "an SVG flame graph", "profile.svg");
	if ((o.diff.has_from || o.diff.has_to) && !o.diff.base)
		usage_error("--base-from and --base-to need --diff BASE");
	memset(&a, 0, sizeof(a));
	memset(&d, 0, sizeof(d));
	if (out_open(&out, r.output) < 0) {
		report_close(&r);
		return EXIT_RUNTIME;
	}
	if (report_open(&r) < 0 ||
	    agg_run(&a, r.m, &r.f, (show = filter_show_processes(&r.f, r.m)), 0) < 0) {
		out_abort(&out);
		goto done;
	}
	agg_sort(&a);
	if (o.diff.base && diff_open(&d, &a, &o.diff, &r.f, show, 0) < 0) {
		out_abort(&out);
		goto done;
	}
	if (a.nodes[0].total == 0)
		warning("no samples match the filters; the flame graph is empty");
	title = o.title ? xstrdup(o.title) : report_title(r.m);
	subtitle = fg_subtitle(&r.f, &a.stats);
	if (o.diff.base) {
		char *s = subtitle;

		subtitle = xasprintf("%s%sdifference against %s", s, *s ? "; " : "", o.diff.base);
		free(s);
	}
	fg_write(out.fp, &a, &o, title, subtitle, o.diff.base ? &d : NULL);
	if (out_close(&out) == 0)
		ret = EXIT_OK;
done:
	free(title);
	free(subtitle);
	diff_release(&d);
	agg_release(&a);
	report_close(&r);
	return ret;
}
