/*
 * analyze_label.c - unit tests of frame labels: py-spy's idle heuristic,
 * filename shortening (local walk and the fixed fallback rule), label
 * formatting and cleaning, pseudo-frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "label.h"
#include "strbuf.h"
#include "test.h"

static char out[4096];

static const char *shortname(const char *path, int local)
{
	struct strbuf sb;

	strbuf_init(&sb);
	label_short_filename(&sb, path, local);
	snprintf(out, sizeof(out), "%s", sb.buf);
	strbuf_release(&sb);
	return out;
}

static void idle_heuristic(void)
{
	CHECK(label_idle_leaf("wait", "/usr/lib/python3.11/threading.py"));
	CHECK(label_idle_leaf("select", "/usr/lib/python3.11/selectors.py"));
	CHECK(label_idle_leaf("poll", "/usr/lib/python3.7/asyncore.py"));
	CHECK(label_idle_leaf("poll", "/venv/site-packages/zmq/sugar/poll.py"));
	CHECK(label_idle_leaf("poll", "/venv/site-packages/gevent/hub.py"));
	CHECK(label_idle_leaf("poll", "/venv/site-packages/tornado/ioloop.py"));
	/* the name must match exactly, and go with its file */
	CHECK(!label_idle_leaf("wait_for", "/usr/lib/python3.11/threading.py"));
	CHECK(!label_idle_leaf("wait", "/usr/lib/python3.11/selectors.py"));
	CHECK(!label_idle_leaf("select", "/usr/lib/python3.11/threading.py"));
	CHECK(!label_idle_leaf("poll", "/app/poller.py"));
	CHECK(!label_idle_leaf("wait", "/app/threading.pyc"));
	CHECK(!label_idle_leaf("run", "/venv/site-packages/gevent/hub.py"));
	CHECK(!label_idle_leaf(NULL, "threading.py"));
	CHECK(!label_idle_leaf("wait", NULL));
}

static void shorten_rule(void)
{
	/* files that do not exist here: the fixed rule */
	CHECK_STR(shortname("/nonexistent/lib/python3.11/site-packages/requests/api.py", 1),
		  "requests/api.py");
	CHECK_STR(shortname("/nonexistent/usr/lib/python3/dist-packages/yaml/main.py", 1), "yaml/main.py");
	CHECK_STR(shortname("/nonexistent/usr/lib/python3.11/json/decoder.py", 1), "json/decoder.py");
	CHECK_STR(shortname("/nonexistent/usr/lib64/python3.13t/threading.py", 1), "threading.py");
	CHECK_STR(shortname("/nonexistent/opt/python2.7/lib/python2.7/os.py", 1), "os.py");
	/* the last site-packages wins */
	CHECK_STR(shortname("/nonexistent/site-packages/x/site-packages/pkg/m.py", 1), "pkg/m.py");
	/* no known component: the base name */
	CHECK_STR(shortname("/nonexistent/srv/app/mypkg/sub/mod.py", 1), "mod.py");
	CHECK_STR(shortname("/app.py", 1), "app.py");
	/* a directory named like python without lib/ before it is not special */
	CHECK_STR(shortname("/nonexistent/python3.11/x.py", 1), "x.py");
	/* relative and pseudo paths are kept */
	CHECK_STR(shortname("app.py", 1), "app.py");
	CHECK_STR(shortname("pkg/app.py", 1), "pkg/app.py");
	CHECK_STR(shortname("<frozen importlib._bootstrap>", 1), "<frozen importlib._bootstrap>");
	CHECK_STR(shortname("<string>", 0), "<string>");
	CHECK_STR(shortname("", 1), "");
	/* site-packages as the last directory component and nothing below */
	CHECK_STR(shortname("/nonexistent/site-packages/mod.py", 0), "mod.py");
}

static void write_file(const char *path)
{
	FILE *fp = fopen(path, "w");

	if (fp)
		fclose(fp);
}

static void shorten_local(void)
{
	char dir[] = "/tmp/pyspy-label.XXXXXX", p[512];

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	/* dir/proj/mypkg/sub/mod.py with packages mypkg and sub */
	snprintf(p, sizeof(p), "%s/proj", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/proj/mypkg", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/proj/mypkg/sub", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/proj/mypkg/__init__.py", dir);
	write_file(p);
	snprintf(p, sizeof(p), "%s/proj/mypkg/sub/__init__.py", dir);
	write_file(p);
	snprintf(p, sizeof(p), "%s/proj/mypkg/sub/mod.py", dir);
	write_file(p);
	snprintf(p, sizeof(p), "%s/proj/top.py", dir);
	write_file(p);

	snprintf(p, sizeof(p), "%s/proj/mypkg/sub/mod.py", dir);
	CHECK_STR(shortname(p, 1), "mypkg/sub/mod.py");
	/* local lookups off: the rule (base name) */
	CHECK_STR(shortname(p, 0), "mod.py");
	snprintf(p, sizeof(p), "%s/proj/top.py", dir);
	CHECK_STR(shortname(p, 1), "top.py");

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0);
}

static const char *frame(const char *name, const char *file, long long line)
{
	struct strbuf sb;

	strbuf_init(&sb);
	label_frame(&sb, name, file, line);
	snprintf(out, sizeof(out), "%s", sb.buf);
	strbuf_release(&sb);
	return out;
}

static void frame_labels(void)
{
	CHECK_STR(frame("compute", "app.py", 22), "compute (app.py:22)");
	CHECK_STR(frame("compute", "app.py", 0), "compute (app.py)");
	CHECK_STR(frame("compute", "app.py", -1), "compute (app.py)");
	CHECK_STR(frame("<GC>", NULL, 5), "<GC>");
	CHECK_STR(frame("<native>", "", 5), "<native>");
	CHECK_STR(frame(NULL, "app.py", 3), "? (app.py:3)");
	/* folded stacks cannot hold ';' or line breaks */
	CHECK_STR(frame("a;b", "x;y.py", 1), "a:b (x:y.py:1)");
	CHECK_STR(frame("tab\there", "new\nline.py", 2), "tab here (new line.py:2)");
	CHECK_STR(frame("\xc3\xbcnic\xc3\xb6\x64\xc3\xa9", "f.py", 1), "\xc3\xbcnic\xc3\xb6\x64\xc3\xa9 (f.py:1)");
}

static void pseudo_frames(void)
{
	struct strbuf sb;

	strbuf_init(&sb);
	label_thread(&sb, 4242, 0x7f3a12345700ull, "MainThread");
	CHECK_STR(sb.buf, "thread (4242): MainThread");
	strbuf_reset(&sb);
	label_thread(&sb, 0, 0x7f3a12345700ull, "worker");
	CHECK_STR(sb.buf, "thread (0x7F3A12345700): worker");
	strbuf_reset(&sb);
	label_thread(&sb, 17, 0, NULL);
	CHECK_STR(sb.buf, "thread (17)");
	strbuf_reset(&sb);
	label_thread(&sb, 17, 0, "a;b");
	CHECK_STR(sb.buf, "thread (17): a:b");
	strbuf_reset(&sb);
	label_process(&sb, 123, "python3 app.py --x");
	CHECK_STR(sb.buf, "process 123:\"python3 app.py --x\"");
	strbuf_reset(&sb);
	label_process(&sb, 5, NULL);
	CHECK_STR(sb.buf, "process 5:\"\"");
	strbuf_release(&sb);
}

int main(void)
{
	RUN(idle_heuristic);
	RUN(shorten_rule);
	RUN(shorten_local);
	RUN(frame_labels);
	RUN(pseudo_frames);
	return test_status();
}
