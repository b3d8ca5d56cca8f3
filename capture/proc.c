/*
 * proc.c - /proc parsing (see proc.h).
 */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

long proc_read_file(const char *path, char *buf, size_t cap)
{
	int fd;
	size_t got = 0;

	if (cap == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (got + 1 < cap) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	return (long)got;
}

/* Read a /proc file of unknown size into a malloc'ed buffer. */
static long read_all(const char *path, char **out)
{
	int fd;
	size_t cap = 16384, got = 0;
	char *buf;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;
		if (got + 1 >= cap) {
			char *nb;
			if (cap >= (64u << 20)) {
				break;  /* absurdly large; keep what we have */
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + got, cap - 1 - got);
		if (r < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			free(buf);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	*out = buf;
	return (long)got;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse a hex number at *p, advance; -1 if no digit. */
static int parse_hex(char **p, uint64_t *v)
{
	char *s = *p;
	uint64_t x = 0;
	int d, any = 0;

	while ((d = hexval((unsigned char)*s)) >= 0) {
		x = (x << 4) | (uint64_t)d;
		s++;
		any = 1;
	}
	if (!any)
		return -1;
	*p = s;
	*v = x;
	return 0;
}

static int parse_map_line(char *line, struct proc_map *m)
{
	char *p = line;
	uint64_t v;
	size_t len;
	static const char suffix[] = " (deleted)";

	memset(m, 0, sizeof(*m));
	if (parse_hex(&p, &m->start) || *p++ != '-' || parse_hex(&p, &m->end) || *p++ != ' ')
		return -1;
	if (strlen(p) < 5 || p[4] != ' ')
		return -1;
	memcpy(m->perms, p, 4);
	m->perms[4] = 0;
	p += 5;
	if (parse_hex(&p, &m->offset) || *p++ != ' ')
		return -1;
	if (parse_hex(&p, &v) || *p++ != ':')
		return -1;
	m->dev_major = (unsigned)v;
	if (parse_hex(&p, &v) || *p++ != ' ')
		return -1;
	m->dev_minor = (unsigned)v;
	m->inode = strtoull(p, &p, 10);
	while (*p == ' ')
		p++;
	m->path = p;
	len = strlen(p);
	if (len >= sizeof(suffix) - 1 && strcmp(p + len - (sizeof(suffix) - 1), suffix) == 0) {
		p[len - (sizeof(suffix) - 1)] = 0;
		m->deleted = 1;
	}
	return 0;
}

int proc_maps_parse(char *buf, struct proc_maps *m)
{
	size_t cap = 64, n = 0;
	char *line = buf, *nl;
	struct proc_map *v = malloc(cap * sizeof(*v));

	memset(m, 0, sizeof(*m));
	if (!v) {
		free(buf);
		return -ENOMEM;
	}
	while (*line) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (n == cap) {
			struct proc_map *nv = realloc(v, cap * 2 * sizeof(*v));
			if (!nv) {
				free(v);
				free(buf);
				return -ENOMEM;
			}
			v = nv;
			cap *= 2;
		}
		if (parse_map_line(line, &v[n]) == 0)
			n++;
		if (!nl)
			break;
		line = nl + 1;
	}
	m->v = v;
	m->n = n;
	m->buf = buf;
	return 0;
}

int proc_maps_read(pid_t pid, struct proc_maps *m)
{
	char path[64], *buf;
	long r;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	r = read_all(path, &buf);
	if (r < 0)
		return (int)r;
	return proc_maps_parse(buf, m);
}

void proc_maps_release(struct proc_maps *m)
{
	if (!m)
		return;
	free(m->v);
	free(m->buf);
	memset(m, 0, sizeof(*m));
}

const struct proc_map *proc_maps_find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < m->v[mid].start)
			hi = mid;
		else if (addr >= m->v[mid].end)
			lo = mid + 1;
		else
			return &m->v[mid];
	}
	return NULL;
}

/* Append "CANDIDATE (reason)" to a one-line list, ", " between entries. */
static void why_add(char *why, size_t cap, const char *cand, const char *reason)
{
	size_t n;

	if (!why || cap == 0)
		return;
	n = strlen(why);
	if (n + 1 >= cap)
		return;
	snprintf(why + n, cap - n, "%s%s (%s)", n ? ", " : "", cand, reason);
}

/*
 * The device in maps is the superblock's; stat() may report another one
 * for the same inode (btrfs subvolumes, overlayfs before 6.x).  Then the
 * file's first page must be what the target has mapped from it.
 */
static int same_first_page(pid_t pid, const struct proc_map *m, int fd)
{
	unsigned char a[4096], b[4096];
	size_t len = sizeof(a);
	ssize_t r;

	if (m->end - m->start < len)
		len = (size_t)(m->end - m->start);
	r = pread(fd, a, len, (off_t)m->offset);
	if (r <= 0)
		return 0;
	len = (size_t)r;
	return mem_read(pid, m->start, b, len) == 0 && memcmp(a, b, len) == 0;
}

/*
 * Try one candidate: 1 and *fd when it is the mapped file, 0 when not
 * (why says why).  *perm is cleared by any refusal that is not EACCES/EPERM.
 */
static int try_mapped(pid_t pid, const struct proc_map *m, const char *cand, int *fd,
		      int *perm, char *why, size_t whycap)
{
	struct stat st;
	char reason[128];
	int f = open(cand, O_RDONLY | O_CLOEXEC);

	if (f < 0) {
		int e = errno;
		if (e != EACCES && e != EPERM)
			*perm = 0;
		why_add(why, whycap, cand, strerror(e));
		return 0;
	}
	*perm = 0;
	if (fstat(f, &st) < 0) {
		why_add(why, whycap, cand, strerror(errno));
		close(f);
		return 0;
	}
	if ((uint64_t)st.st_ino == m->inode &&
	    ((major(st.st_dev) == m->dev_major && minor(st.st_dev) == m->dev_minor) ||
	     same_first_page(pid, m, f))) {
		*fd = f;
		return 1;
	}
	snprintf(reason, sizeof(reason), "another file: device %x:%x inode %llu, mapped %x:%x inode %llu",
		 major(st.st_dev), minor(st.st_dev), (unsigned long long)st.st_ino, m->dev_major,
		 m->dev_minor, (unsigned long long)m->inode);
	why_add(why, whycap, cand, reason);
	close(f);
	return 0;
}

int proc_open_mapped(pid_t pid, const struct proc_map *m, char *why, size_t whycap)
{
	char cand[4200], exe[4096];
	int fd = -1, perm = 1;
	long n;

	if (why && whycap)
		why[0] = 0;
	snprintf(cand, sizeof(cand), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	if (try_mapped(pid, m, cand, &fd, &perm, why, whycap))
		return fd;
	/* A deleted executable (or one outside our mount namespace) is still
	 * reachable through exe, which needs only ptrace read access. */
	n = proc_exe(pid, exe, sizeof(exe));
	if (n > 0 && m->path[0] && strncmp(exe, m->path, strlen(m->path)) == 0 &&
	    (exe[strlen(m->path)] == 0 || strcmp(exe + strlen(m->path), " (deleted)") == 0)) {
		snprintf(cand, sizeof(cand), "/proc/%d/exe", (int)pid);
		if (try_mapped(pid, m, cand, &fd, &perm, why, whycap))
			return fd;
	}
	if (m->path[0] == '/' && !m->deleted) {
		snprintf(cand, sizeof(cand), "/proc/%d/root%s", (int)pid, m->path);
		if (try_mapped(pid, m, cand, &fd, &perm, why, whycap))
			return fd;
		if (try_mapped(pid, m, m->path, &fd, &perm, why, whycap))
			return fd;
	} else if (m->deleted) {
		why_add(why, whycap, m->path, "deleted");
	}
	return perm ? -EACCES : -ENOENT;
}

static const char *last_paren(const char *buf, size_t len)
{
	size_t i = len;

	while (i > 0) {
		i--;
		if (buf[i] == ')')
			return buf + i;
	}
	return NULL;
}

char proc_stat_state(const char *buf, size_t len)
{
	const char *rp = last_paren(buf, len);

	if (!rp || (size_t)(rp - buf) + 2 >= len || rp[1] != ' ')
		return 0;
	return rp[2];
}

int proc_stat_parse(const char *buf, size_t len, struct proc_stat *st)
{
	const char *lp, *rp, *p, *end = buf + len;
	size_t clen;
	int field;
	unsigned long long v;

	memset(st, 0, sizeof(*st));
	st->exit_code = -1;
	lp = memchr(buf, '(', len);
	rp = last_paren(buf, len);
	if (!lp || !rp || rp < lp || rp + 2 >= end || rp[1] != ' ')
		return -EINVAL;
	clen = (size_t)(rp - lp - 1);
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1;
	memcpy(st->comm, lp + 1, clen);
	st->comm[clen] = 0;
	st->state = rp[2];
	/* Field 3 is the state; walk the space-separated fields after it. */
	p = rp + 3;
	for (field = 4; p < end && field <= 52; field++) {
		char num[32];
		size_t n = 0;
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ' && *p != '\n' && n < sizeof(num) - 1)
			num[n++] = *p++;
		num[n] = 0;
		if (n == 0)
			break;
		v = strtoull(num, NULL, 10);
		switch (field) {
		case 4: st->ppid = (pid_t)strtol(num, NULL, 10); break;
		case 9: st->flags = (unsigned)v; break;
		case 14: st->utime = v; break;
		case 15: st->stime = v; break;
		case 22: st->starttime = v; break;
		case 52: st->exit_code = (int)strtol(num, NULL, 10); break;
		default: break;
		}
	}
	return 0;
}

int proc_stat_read(pid_t pid, pid_t tid, struct proc_stat *st)
{
	char path[64], buf[1024];
	long r;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = proc_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return (int)r;
	return proc_stat_parse(buf, (size_t)r, st);
}

int proc_exit_status(pid_t pid, int *wstatus)
{
	struct proc_stat st;
	int i;

	/*
	 * exit_code is set when the process starts to exit; only the zombie
	 * state says it is final (0 is also "not exited").  A process whose
	 * memory is gone but which is not a zombie yet gets up to 250 ms:
	 * tearing down a big address space on a loaded machine takes more
	 * than a few ms, and this runs once per process end.
	 */
	for (i = 0; i < 250; i++) {
		struct timespec ts = { 0, 1000000 };
		if (proc_stat_read(pid, 0, &st) < 0 || st.exit_code < 0)
			return 0;
		if (st.state == 'Z' || st.state == 'X')
			break;
		nanosleep(&ts, NULL);
	}
	if (i == 250)
		return 0;
	*wstatus = st.exit_code;
	return 1;
}

int proc_stat_open(pid_t pid, pid_t tid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

char proc_stat_fd_state(int fd)
{
	char buf[512];
	ssize_t r;

	if (fd < 0)
		return 0;
	r = pread(fd, buf, sizeof(buf), 0);
	if (r <= 0)
		return 0;
	return proc_stat_state(buf, (size_t)r);
}

long proc_cmdline(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	long r, i;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	r = proc_read_file(path, buf, cap);
	if (r < 0)
		return r;
	while (r > 0 && buf[r - 1] == 0)
		r--;
	for (i = 0; i < r; i++)
		if (buf[i] == 0)
			buf[i] = ' ';
	buf[r] = 0;
	return r;
}

long proc_tasks(pid_t pid, pid_t *tids, size_t cap)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (n < cap)
			tids[n] = (pid_t)atoi(e->d_name);
		n++;
	}
	closedir(d);
	return (long)(n < cap ? n : cap);
}

long proc_exe(pid_t pid, char *buf, size_t cap)
{
	char path[64];
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	r = readlink(path, buf, cap - 1);
	if (r < 0)
		return -errno;
	buf[r] = 0;
	return (long)r;
}

long proc_comm(pid_t pid, pid_t tid, char *buf, size_t cap)
{
	char path[64];
	long r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	r = proc_read_file(path, buf, cap);
	if (r < 0)
		return r;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == 0))
		buf[--r] = 0;
	return r;
}

long proc_uid(pid_t pid)
{
	char path[64], buf[4096], *p;
	long r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = proc_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	p = strstr(buf, "\nUid:");
	if (!p)
		return -EINVAL;
	return strtol(p + 5, NULL, 10);
}

int proc_exists(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

long proc_children_parse(const char *buf, pid_t *out, size_t cap, size_t *total)
{
	const char *p = buf;
	size_t n = 0;

	while (*p) {
		char *e;
		long c;
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (!*p)
			break;
		c = strtol(p, &e, 10);
		if (e == p || c <= 0 || c > 0x3fffffff || (*e && *e != ' ' && *e != '\n'))
			return -EINVAL;
		if (n < cap)
			out[n] = (pid_t)c;
		n++;
		p = e;
	}
	if (total)
		*total = n;
	return (long)(n < cap ? n : cap);
}

long proc_children(pid_t pid, int main_only, pid_t *out, size_t cap)
{
	pid_t tids[4096];
	long nt, i;
	size_t n = 0;
	int any = 0;

	if (main_only) {
		tids[0] = pid;
		nt = 1;
	} else {
		nt = proc_tasks(pid, tids, sizeof(tids) / sizeof(tids[0]));
		if (nt < 0)
			return nt == -ENOENT ? -ESRCH : nt;
	}
	for (i = 0; i < nt; i++) {
		char path[96], buf[8192];
		long r, k;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)tids[i]);
		r = proc_read_file(path, buf, sizeof(buf));
		if (r == -ENOENT && tids[i] == pid && proc_exists(pid))
			return -ENOTSUP;   /* a kernel without CONFIG_PROC_CHILDREN */
		if (r < 0)
			continue;
		any = 1;
		k = proc_children_parse(buf, out + n, cap - n, NULL);
		if (k > 0)
			n += (size_t)k;
	}
	if (!any && !proc_exists(pid))
		return -ESRCH;
	return (long)n;
}

long proc_scan_ppids(pid_t *pids, pid_t *ppids, size_t cap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL && n < cap) {
		struct proc_stat st;
		pid_t pid;
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = (pid_t)atoi(e->d_name);
		if (proc_stat_read(pid, 0, &st) < 0)
			continue;
		pids[n] = pid;
		ppids[n] = st.ppid;
		n++;
	}
	closedir(d);
	return (long)n;
}

int proc_exe_id(pid_t pid, uint64_t *dev, uint64_t *ino)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &st) < 0)
		return -errno;
	*dev = (uint64_t)st.st_dev;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

int proc_in_container(void)
{
	char ns[128];
	ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);

	if (n > 0) {
		ns[n] = 0;
		if (strcmp(ns, "pid:[4026531836]") != 0)
			return 1;
	}
	/* Not /.dockerenv: a VM or chroot made from a Docker image keeps it. */
	return access("/run/.containerenv", F_OK) == 0 || getenv("KUBERNETES_SERVICE_HOST") != NULL;
}

int proc_same_pidns(pid_t pid)
{
	char a[128], b[128], path[64];
	ssize_t n, m;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	n = readlink("/proc/self/ns/pid", a, sizeof(a) - 1);
	m = readlink(path, b, sizeof(b) - 1);
	if (n < 0 || m < 0)
		return -errno;
	a[n] = 0;
	b[m] = 0;
	return strcmp(a, b) == 0;
}

long proc_tasks_ns(pid_t pid, pid_t *ns, pid_t *tids, size_t cap)
{
	long n = proc_tasks(pid, tids, cap), i, k = 0;

	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		char path[96], buf[4096], *p, *last = NULL;
		long r;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tids[i]);
		r = proc_read_file(path, buf, sizeof(buf));
		if (r <= 0 || !(p = strstr(buf, "\nNSpid:")))
			continue;
		p += 8;
		/* The last number on the line is the id in the innermost namespace. */
		while (*p && *p != '\n') {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p >= '0' && *p <= '9')
				last = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\n')
				p++;
		}
		if (!last)
			continue;
		tids[k] = tids[i];
		ns[k] = (pid_t)atoi(last);
		k++;
	}
	return k;
}

pid_t proc_tid_from_ns(pid_t pid, pid_t nstid)
{
	pid_t ns[1024], tids[1024];
	long n = proc_tasks_ns(pid, ns, tids, 1024), i;

	for (i = 0; i < n; i++)
		if (ns[i] == nstid)
			return tids[i];
	return 0;
}

int proc_yama_scope(const char *yama_scope_path)
{
	char buf[16];
	FILE *f = fopen(yama_scope_path, "re");
	int v = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9')
		v = atoi(buf);
	fclose(f);
	return v;
}

void proc_perm_hint(char *buf, size_t cap, int is_root, int yama_scope)
{
	if (is_root)
		snprintf(buf, cap, "a container needs --cap-add SYS_PTRACE; check seccomp%s",
			 yama_scope >= 3 ? "; kernel.yama.ptrace_scope is 3, which forbids any attach "
					   "until reboot"
					 : "");
	else if (yama_scope >= 1)
		snprintf(buf, cap, "run as root, grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep "
				   "pyspy-capture), or set kernel.yama.ptrace_scope to 0 (it is %d)",
			 yama_scope);
	else
		snprintf(buf, cap, "run as root, or grant CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep "
				   "pyspy-capture)");
}
