/*
 * capture_proc - /proc parsing: maps lines (paths with spaces, deleted
 * files, anonymous mappings), stat lines whose comm holds spaces and
 * parentheses, the live /proc of the test process itself, and which file
 * proc_open_mapped() accepts for a mapping.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "test.h"

static void test_maps_parse(void)
{
	static const char text[] =
		"00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/python3.11\n"
		"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
		"7f1000000000-7f1000100000 r--p 00010000 fd:01 42 /opt/my dir/libpython3.12.so.1.0\n"
		"7f2000000000-7f2000001000 r-xp 00000000 fd:01 43 /tmp/x (deleted)\n"
		"garbage line\n"
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";
	struct proc_maps m;
	char *buf = strdup(text);
	const struct proc_map *f;

	CHECK_EQ(proc_maps_parse(buf, &m), 0);
	CHECK_EQ(m.n, 5);
	CHECK_EQ(m.v[0].start, 0x400000);
	CHECK_EQ(m.v[0].end, 0x452000);
	CHECK_STR(m.v[0].perms, "r-xp");
	CHECK_EQ(m.v[0].inode, 173521);
	CHECK_EQ(m.v[0].dev_major, 8);
	CHECK_EQ(m.v[0].dev_minor, 2);
	CHECK_STR(m.v[0].path, "/usr/bin/python3.11");
	CHECK_STR(m.v[1].path, "");
	CHECK_STR(m.v[2].path, "/opt/my dir/libpython3.12.so.1.0");
	CHECK_EQ(m.v[2].offset, 0x10000);
	CHECK_EQ(m.v[2].dev_major, 0xfd);
	CHECK_STR(m.v[3].path, "/tmp/x");
	CHECK(m.v[3].deleted);
	CHECK(!m.v[2].deleted);
	CHECK_STR(m.v[4].path, "[stack]");
	f = proc_maps_find(&m, 0x7f1000000fff);
	CHECK(f == &m.v[2]);
	CHECK(proc_maps_find(&m, 0x7f1000100000) == NULL);
	CHECK(proc_maps_find(&m, 0x3fffff) == NULL);
	proc_maps_release(&m);
	proc_maps_release(&m);   /* harmless twice */
}

static void test_stat_parse(void)
{
	/* comm "a) b (c" with spaces and parentheses: fields follow the last ')'. */
	static const char line[] =
		"1234 (a) b (c) S 99 1234 1234 0 -1 4194560 100 0 0 0 17 23 0 0 20 0 1 0 "
		"555 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	struct proc_stat st;

	CHECK_EQ(proc_stat_parse(line, strlen(line), &st), 0);
	CHECK_STR(st.comm, "a) b (c");
	CHECK(st.state == 'S');
	CHECK_EQ(st.ppid, 99);
	CHECK_EQ(st.utime, 17);
	CHECK_EQ(st.stime, 23);
	CHECK_EQ(st.starttime, 555);
	CHECK(proc_stat_state(line, strlen(line)) == 'S');
	CHECK(proc_stat_state("1 (x", 4) == 0);
	CHECK_EQ(proc_stat_parse("garbage", 7, &st), -EINVAL);
	CHECK(proc_stat_state("1 (x) R", 7) == 'R');
	CHECK(proc_stat_state("1 (x)", 5) == 0);
}

static void test_live_self(void)
{
	struct proc_maps m;
	struct proc_stat st;
	pid_t tids[8];
	char buf[256];
	int fd;

	CHECK_EQ(proc_maps_read(getpid(), &m), 0);
	CHECK(m.n > 3);
	CHECK(proc_maps_find(&m, (uint64_t)(uintptr_t)&test_live_self) != NULL);
	proc_maps_release(&m);
	CHECK_EQ(proc_stat_read(getpid(), 0, &st), 0);
	CHECK(st.state == 'R');
	CHECK_EQ(st.ppid, getppid());
	CHECK_EQ(proc_tasks(getpid(), tids, 8), 1);
	CHECK_EQ(tids[0], getpid());
	fd = proc_stat_open(getpid(), getpid());
	CHECK(fd >= 0);
	CHECK(proc_stat_fd_state(fd) == 'R');
	CHECK(proc_stat_fd_state(fd) == 'R');   /* pread: repeatable */
	close(fd);
	CHECK(proc_stat_fd_state(-1) == 0);
	CHECK(proc_cmdline(getpid(), buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "capture_proc") != NULL);
	CHECK(proc_exists(getpid()));
	CHECK(!proc_exists(0x3ffffffe));
	CHECK(proc_comm(getpid(), getpid(), buf, sizeof(buf)) > 0);
	CHECK(strchr(buf, '\n') == NULL);
	CHECK_EQ(proc_uid(getpid()), (long)getuid());
	CHECK(proc_stat_read(0x3ffffffe, 0, &st) < 0);
}

static void test_children_parse(void)
{
	pid_t out[4];
	size_t total = 99;

	CHECK_EQ(proc_children_parse("", out, 4, &total), 0);
	CHECK_EQ(total, 0);
	CHECK_EQ(proc_children_parse("\n", out, 4, NULL), 0);
	CHECK_EQ(proc_children_parse("123 ", out, 4, &total), 1);
	CHECK_EQ(out[0], 123);
	CHECK_EQ(proc_children_parse("7 8 9 10 11 ", out, 4, &total), 4);
	CHECK_EQ(total, 5);
	CHECK_EQ(out[3], 10);
	CHECK_EQ(proc_children_parse("  4242 4243\n", out, 4, &total), 2);
	CHECK_EQ(out[1], 4243);
	CHECK_EQ(proc_children_parse("12 x", out, 4, NULL), -EINVAL);
	CHECK_EQ(proc_children_parse("12x ", out, 4, NULL), -EINVAL);
	CHECK_EQ(proc_children_parse("-5 ", out, 4, NULL), -EINVAL);
	CHECK_EQ(proc_children_parse("0 ", out, 4, NULL), -EINVAL);
}

static void test_children_live(void)
{
	pid_t kids[64], c;
	long n, i;
	int found = 0, st;
	uint64_t dev, ino, dev2, ino2;

	c = fork();
	if (c == 0) {
		pause();
		_exit(0);
	}
	CHECK(c > 0);
	n = proc_children(getpid(), 0, kids, 64);
	if (n == -ENOTSUP) {
		printf("# no children files in /proc; checked the /proc scan only\n");
		n = 0;
	}
	CHECK(n >= 0);
	for (i = 0; i < n; i++)
		found |= kids[i] == c;
	CHECK(n == 0 || found);
	{
		pid_t pids[8192], ppids[8192];
		long m = proc_scan_ppids(pids, ppids, 8192);
		found = 0;
		for (i = 0; i < m; i++)
			found |= pids[i] == c && ppids[i] == getpid();
		CHECK(found);
	}
	CHECK_EQ(proc_exe_id(getpid(), &dev, &ino), 0);
	CHECK_EQ(proc_exe_id(c, &dev2, &ino2), 0);
	CHECK(dev == dev2 && ino == ino2);
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	CHECK_EQ(proc_children(c, 0, kids, 64), -ESRCH);
	CHECK(proc_exe_id(c, &dev, &ino) < 0);
}

/* Write a 8 KiB file of byte c at path; 0 or -1. */
static int write_file(const char *path, int c)
{
	char buf[8192];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t w;

	if (fd < 0)
		return -1;
	memset(buf, c, sizeof(buf));
	w = write(fd, buf, sizeof(buf));
	close(fd);
	return w == (ssize_t)sizeof(buf) ? 0 : -1;
}

/*
 * A mapping of our own, described as maps would: the exact file is
 * accepted; a device that differs is accepted only while the first page
 * matches memory (btrfs, old overlayfs); another file at the path is
 * refused, and the reason names it.
 */
static void test_open_mapped(void)
{
	char dir[] = "/tmp/pyspy-unit-XXXXXX", path[64], other[64], why[2048];
	struct proc_map m;
	struct stat st, got;
	void *p = MAP_FAILED, *anon = MAP_FAILED;
	int fd;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/lib.so", dir);
	snprintf(other, sizeof(other), "%s/other.so", dir);
	CHECK_EQ(write_file(path, 'a'), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd >= 0) {
		p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
		CHECK(fstat(fd, &st) == 0);
		close(fd);
	}
	CHECK(p != MAP_FAILED);
	if (p == MAP_FAILED)
		goto out;
	memset(&m, 0, sizeof(m));
	m.start = (uint64_t)(uintptr_t)p;
	m.end = m.start + 8192;
	m.inode = (uint64_t)st.st_ino;
	m.dev_major = major(st.st_dev);
	m.dev_minor = minor(st.st_dev);
	memcpy(m.perms, "r--p", 5);
	m.path = path;

	fd = proc_open_mapped(getpid(), &m, why, sizeof(why));
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(fstat(fd, &got) == 0 && got.st_ino == st.st_ino);
		close(fd);
	}

	/* maps' device is not always stat's: same first page, same inode. */
	m.dev_minor ^= 0x55;
	fd = proc_open_mapped(getpid(), &m, why, sizeof(why));
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);

	/* ... but not when the memory holds something else. */
	anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(anon != MAP_FAILED);
	if (anon != MAP_FAILED) {
		struct proc_map a = m;
		memset(anon, 'b', 8192);
		a.start = (uint64_t)(uintptr_t)anon;
		a.end = a.start + 8192;
		fd = proc_open_mapped(getpid(), &a, why, sizeof(why));
		CHECK(fd < 0);
		if (fd >= 0)
			close(fd);
		CHECK(strstr(why, "another file") != NULL);
	}
	m.dev_minor ^= 0x55;

	/* Another file at the mapped path (replaced after the mapping): the
	 * path candidates are refused; only map_files (root) still finds the
	 * mapped one. */
	CHECK_EQ(write_file(other, 'c'), 0);
	CHECK_EQ(rename(other, path), 0);
	fd = proc_open_mapped(getpid(), &m, why, sizeof(why));
	if (fd >= 0) {
		CHECK(fstat(fd, &got) == 0 && got.st_ino == st.st_ino);
		close(fd);
	} else {
		CHECK(strstr(why, "/map_files/") != NULL);
		CHECK(strstr(why, "another file: device") != NULL);
	}
	{
		/* With map_files out of the picture, every candidate is listed. */
		struct proc_map g = m;
		char want[96];

		g.start = g.end = 0x1000;
		fd = proc_open_mapped(getpid(), &g, why, sizeof(why));
		CHECK(fd < 0);
		if (fd >= 0)
			close(fd);
		CHECK(strstr(why, "/map_files/1000-1000 (") != NULL);
		snprintf(want, sizeof(want), "/proc/%d/root%s", (int)getpid(), dir);
		CHECK(strstr(why, want) != NULL);   /* the target's root + the path */
		CHECK(strstr(why, "another file: device") != NULL);
	}
out:
	if (p != MAP_FAILED)
		munmap(p, 8192);
	if (anon != MAP_FAILED)
		munmap(anon, 8192);
	unlink(path);
	unlink(other);
	rmdir(dir);
}

/* The permission hint names Yama only when the kernel has it (issue 9). */
static void test_perm_hint(void)
{
	char dir[] = "/tmp/pyspy-yama.XXXXXX", path[64], buf[256];
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/ptrace_scope", dir);
	CHECK_EQ(proc_yama_scope(path), -1); /* no Yama */
	proc_perm_hint(buf, sizeof(buf), 0, proc_yama_scope(path));
	CHECK(strstr(buf, "yama") == NULL);
	CHECK(strstr(buf, "CAP_SYS_PTRACE") != NULL);
	proc_perm_hint(buf, sizeof(buf), 1, proc_yama_scope(path));
	CHECK(strstr(buf, "yama") == NULL);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs("1\n", f);
	fclose(f);
	CHECK_EQ(proc_yama_scope(path), 1);
	proc_perm_hint(buf, sizeof(buf), 0, proc_yama_scope(path));
	CHECK(strstr(buf, "kernel.yama.ptrace_scope to 0 (it is 1)") != NULL);
	proc_perm_hint(buf, sizeof(buf), 1, proc_yama_scope(path));
	CHECK(strstr(buf, "yama") == NULL); /* root is not limited by scope 1 */
	proc_perm_hint(buf, sizeof(buf), 1, 3);
	CHECK(strstr(buf, "ptrace_scope is 3") != NULL);
	unlink(path);
	rmdir(dir);
	/* this machine: whatever it has, the hint agrees with it */
	proc_perm_hint(buf, sizeof(buf), 0, proc_yama_scope(PROC_YAMA_SCOPE));
	CHECK((access(PROC_YAMA_SCOPE, F_OK) == 0) == (strstr(buf, "yama") != NULL) ||
	      proc_yama_scope(PROC_YAMA_SCOPE) == 0);
}

int main(void)
{
	RUN(test_perm_hint);
	RUN(test_maps_parse);
	RUN(test_children_parse);
	RUN(test_children_live);
	RUN(test_stat_parse);
	RUN(test_live_self);
	RUN(test_open_mapped);
	return test_status();
}
