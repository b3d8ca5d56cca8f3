/*
 * proc.h - reading /proc: memory maps, thread lists, per-thread state,
 * command lines.  Functions return 0 (or a count) on success and -errno on
 * failure; they never print.
 */
#ifndef PYSPY_CAPTURE_PROC_H
#define PYSPY_CAPTURE_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/PID/maps. */
struct proc_map {
	uint64_t start, end;     /* [start, end) */
	uint64_t offset;         /* file offset of start */
	uint64_t inode;
	unsigned dev_major, dev_minor;
	char perms[5];           /* "r-xp" */
	const char *path;        /* borrowed from the owning proc_maps; "" if anonymous */
	int deleted;             /* the path had a " (deleted)" suffix (removed) */
};

struct proc_maps {
	struct proc_map *v;      /* sorted by start, as the kernel lists them */
	size_t n;
	char *buf;               /* owns the text the paths point into */
};

/*
 * Open the file behind mapping m of process pid, whatever the target's
 * root and mount namespace (a chroot, a container's pivot_root, a deleted
 * file).  The path in /proc/PID/maps is printed relative to *our* root when
 * the file is reachable from it, relative to its own mount otherwise, so
 * no rule on the string alone is right.  Candidates, in order:
 *   /proc/PID/map_files/START-END  (the mapped file itself; needs
 *                                   CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE)
 *   /proc/PID/exe                  (when m's path is the executable's;
 *                                   ptrace read access suffices)
 *   /proc/PID/root + path          (the target's own root)
 *   path as printed
 * A candidate is accepted only when its device and inode are the
 * mapping's; where only the device differs (the device a filesystem shows
 * in maps is not always the one stat() reports: btrfs subvolumes,
 * overlayfs on older kernels), when the file's first page is also what the
 * target has mapped at m->start.
 * Returns an fd (O_RDONLY | O_CLOEXEC; the caller closes it), or -errno:
 * -EACCES when every candidate was refused for permission, else -ENOENT.
 * On failure why[0..whycap) holds one line naming each candidate tried
 * and why it was refused ("CANDIDATE (reason), ...").  why may be NULL.
 */
int proc_open_mapped(pid_t pid, const struct proc_map *m, char *why, size_t whycap);

/* Read and parse /proc/PID/maps into *m (release with proc_maps_release). */
int proc_maps_read(pid_t pid, struct proc_maps *m);

/*
 * Parse maps text.  Takes ownership of buf (malloc'ed, NUL-terminated),
 * which it modifies in place.  Lines that do not parse are skipped.
 */
int proc_maps_parse(char *buf, struct proc_maps *m);

/* Accepts a zeroed or released struct. */
void proc_maps_release(struct proc_maps *m);

/* The mapping containing addr, or NULL. */
const struct proc_map *proc_maps_find(const struct proc_maps *m, uint64_t addr);

/* The kernel's "forked but did not exec" task flag (PF_FORKNOEXEC). */
#define PROC_PF_FORKNOEXEC 0x40u

/* Fields of /proc/PID[/task/TID]/stat that pyspy uses. */
struct proc_stat {
	char state;              /* R S D T t Z X I P ... */
	pid_t ppid;
	unsigned flags;          /* PF_* (PROC_PF_FORKNOEXEC: forked, has not exec'd) */
	uint64_t utime, stime;   /* clock ticks */
	uint64_t starttime;      /* clock ticks after boot */
	int exit_code;           /* field 52 (Linux 3.5+): a wait status, final once
				  * the state is Z; -1 absent or not shown to us */
	char comm[64];           /* between the first '(' and the last ')' */
};

/*
 * Parse a stat line.  comm may contain spaces and parentheses: fields are
 * taken after the last ')'.  Returns 0 or -EINVAL.
 */
int proc_stat_parse(const char *buf, size_t len, struct proc_stat *st);

/* Just the state character of a stat line, or 0 if malformed. */
char proc_stat_state(const char *buf, size_t len);

/*
 * How a process that is a zombie (or exiting) ended, from its stat's
 * exit_code (readable with ptrace rights, until its parent reaps it):
 * 1 with *wstatus as waitpid(2) would give it, or 0 when it cannot be
 * known (gone, reaped already, still running after a few ms).
 */
int proc_exit_status(pid_t pid, int *wstatus);

/* Read /proc/PID/stat (tid 0) or /proc/PID/task/TID/stat. */
int proc_stat_read(pid_t pid, pid_t tid, struct proc_stat *st);

/* Open /proc/PID/task/TID/stat for repeated pread (O_CLOEXEC); fd or -errno. */
int proc_stat_open(pid_t pid, pid_t tid);

/* pread the stat fd and return its state character, or 0 on failure. */
char proc_stat_fd_state(int fd);

/*
 * Read a whole (small) file into buf[0..cap), NUL-terminated; returns the
 * byte count or -errno.
 */
long proc_read_file(const char *path, char *buf, size_t cap);

/* Command line with arguments joined by single spaces; length or -errno. */
long proc_cmdline(pid_t pid, char *buf, size_t cap);

/* Thread ids of a process into tids[0..cap); returns the count or -errno. */
long proc_tasks(pid_t pid, pid_t *tids, size_t cap);

/* Target of /proc/PID/exe; length or -errno. */
long proc_exe(pid_t pid, char *buf, size_t cap);

/* /proc/PID/task/TID/comm without the newline; length or -errno. */
long proc_comm(pid_t pid, pid_t tid, char *buf, size_t cap);

/* Real uid of a process from /proc/PID/status, or -errno. */
long proc_uid(pid_t pid);

/* 1 if the process exists (possibly a zombie), 0 if not. */
int proc_exists(pid_t pid);

/*
 * Parse a /proc/PID/task/TID/children line ("123 456 "): pids into
 * out[0..cap), the number found into *total (may be NULL).  Returns the
 * count stored, or -EINVAL for anything but positive numbers separated by
 * blanks.
 */
long proc_children_parse(const char *buf, pid_t *out, size_t cap, size_t *total);

/*
 * Direct children of pid: of its main thread only (main_only), or of every
 * thread (/proc/PID/task/TID/children).  Returns the count stored (at most
 * cap), -ESRCH when pid is gone, -ENOTSUP when the kernel has no children
 * files (CONFIG_PROC_CHILDREN), or -errno.
 */
long proc_children(pid_t pid, int main_only, pid_t *out, size_t cap);

/*
 * Every process of /proc with its parent (the fallback without children
 * files).  Returns the count (at most cap) or -errno.
 */
long proc_scan_ppids(pid_t *pids, pid_t *ppids, size_t cap);

/* Device and inode of pid's executable (stat of /proc/PID/exe); 0 or -errno. */
int proc_exe_id(pid_t pid, uint64_t *dev, uint64_t *ino);

/*
 * 1 when we seem to run inside a container: our PID namespace is not the
 * initial one (its inode is fixed, PROC_PID_INIT_INO), or a runtime's marker
 * (podman's /run/.containerenv, $KUBERNETES_SERVICE_HOST) is there.
 * Only used to word a hint.
 */
int proc_in_container(void);

/* 1 if pid lives in our PID namespace, 0 if not, -errno if unknown. */
int proc_same_pidns(pid_t pid);

/*
 * The thread id, as we see it, of the thread of pid whose id in pid's own
 * (innermost) PID namespace is nstid (/proc/PID/task/TID/status NSpid).
 * Returns the tid, or 0 if no thread matches.
 */
pid_t proc_tid_from_ns(pid_t pid, pid_t nstid);

/*
 * Thread ids of pid in its own PID namespace (ns[i]) with ours (tids[i]).
 * Returns the count (at most cap) or -errno.
 */
long proc_tasks_ns(pid_t pid, pid_t *ns, pid_t *tids, size_t cap);

/*
 * The Yama LSM's ptrace_scope (0-3) from the file yama_scope_path
 * (normally PROC_YAMA_SCOPE), or -1 when the kernel has no Yama (no file)
 * or it cannot be read: hints must then not mention Yama at all.
 */
#define PROC_YAMA_SCOPE "/proc/sys/kernel/yama/ptrace_scope"
int proc_yama_scope(const char *yama_scope_path);

/*
 * What to do about a permission error attaching to another process, in
 * buf (one line, no final period): for root, CAP_SYS_PTRACE in a
 * container and seccomp; for others, root or the capability; in both,
 * Yama's ptrace_scope only when yama_scope >= 0 (the kernel has Yama)
 * and it can be what refuses (>= 1 for others, 3 for root).
 */
void proc_perm_hint(char *buf, size_t cap, int is_root, int yama_scope);

#endif /* PYSPY_CAPTURE_PROC_H */
