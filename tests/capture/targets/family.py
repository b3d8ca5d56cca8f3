# Live target for the subprocess tests (pyspy-capture -s), CPython 2.7 and
# 3.6+.  usage: family.py ROLES_FILE      (other argv: the roles below)
#
# The root starts, and writes "ROLE PID" lines to ROLES_FILE for:
#   fork1, fork2    multiprocessing children, "fork" start method (work_fork)
#   spawn1, spawn2  multiprocessing children, "spawn" start method (3.x;
#                   work_spawn); spawn may add its resource tracker
#   bash            bash that starts Python 0.5 s later and waits for it:
#                   that Python (work_grandchild) adds "grandchild-python PID"
#   execd           bash that exec()s Python after 0.3 s (work_execd), which
#                   adds "execd-python PID" (the same pid)
#   zombie          a child that exits at once and is never waited for
#   short           a Python child that lives 0.4 s (work_short), adds
#                   "short-python PID"; with FAMILY_SHORT_GO=FILE in the
#                   environment it lives until FILE exists instead (the
#                   test creates it once the capture has sampled it: a
#                   handshake, as a loaded machine may start the capture's
#                   look at it late), at most 60 s
# (2.7 has no spawn start method: no spawn children there.)  The
# multiprocessing children work 1.6 s from the root's "ready PID" line
# (also written to ROLES_FILE), however long starting them took.
# FAMILY_SCALE=N in the environment makes every child work N times longer
# (for captures that attach to a running tree).
# Meanwhile its main thread starts short-lived threads named churn-N
# (thread identity and naming checks) until every child is done, then it
# reaps the zombie and exits 0.
# Lines marked "# @NAME" are looked up by the checker (check.py).
from __future__ import print_function
import multiprocessing
import os
import subprocess
import sys
import threading
import time

SCALE = float(os.environ.get("FAMILY_SCALE", "1"))


def spin(seconds):  # @def_spin
    end = time.time() + seconds * SCALE
    n = 0
    while time.time() < end:
        n += sum(range(200))  # @spin_body
    return n


def after_ready(roles_path):
    # Work counts from the root's "ready": on a loaded machine the spawn
    # children take seconds to start, and the fork ones, started first,
    # must still be there when the test (told by "ready") looks.
    end = time.time() + 60
    while time.time() < end:
        with open(roles_path) as f:
            if any(line.startswith("ready ") for line in f):
                return
        spin(0.01)


def work_fork(roles_path):  # @def_work_fork
    after_ready(roles_path)
    spin(1.6)


def work_spawn(roles_path):  # @def_work_spawn
    after_ready(roles_path)
    spin(1.6)


def work_grandchild():  # @def_work_grandchild
    spin(1.0)


def work_execd():  # @def_work_execd
    spin(1.0)


def work_short():  # @def_work_short
    go = os.environ.get("FAMILY_SHORT_GO")
    if not go:
        spin(0.4)
        return
    end = time.time() + 60
    while not os.path.exists(go) and time.time() < end:
        spin(0.01)


def churn_body(n):  # @def_churn_body
    time.sleep(0.01 + (n % 3) * 0.005)  # @churn_sleep


def root_wait(procs, popens):  # @def_root_wait
    n = 0
    while any(p.is_alive() for p in procs) or any(p.poll() is None for p in popens):
        t = threading.Thread(target=churn_body, args=(n,), name="churn-%d" % n)
        t.start()
        n += 1
        t.join()  # @churn_join
        if n % 4 == 0:
            time.sleep(0.01)


def main(roles_path):
    me = os.path.abspath(__file__)
    roles = open(roles_path, "w")

    def role(name, pid):
        roles.write("%s %d\n" % (name, pid))
        roles.flush()

    procs = []
    if sys.version_info[0] >= 3:
        ctx = multiprocessing.get_context("fork")
    else:
        ctx = multiprocessing
    for i in (1, 2):
        p = ctx.Process(target=work_fork, args=(roles_path,))
        p.start()
        procs.append(p)
        role("fork%d" % i, p.pid)
    if sys.version_info[0] >= 3:
        sctx = multiprocessing.get_context("spawn")
        for i in (1, 2):
            p = sctx.Process(target=work_spawn, args=(roles_path,))
            p.start()
            procs.append(p)
            role("spawn%d" % i, p.pid)
    py = sys.executable
    bash = subprocess.Popen(["bash", "-c", 'sleep 0.5; "$0" "$1" grandchild "$2"; exit $?',
                             py, me, roles_path])
    role("bash", bash.pid)
    execd = subprocess.Popen(["bash", "-c", 'sleep 0.3; exec "$0" "$1" execd "$2"',
                              py, me, roles_path])
    role("execd", execd.pid)
    zombie = os.fork()
    if zombie == 0:
        os._exit(0)
    role("zombie", zombie)
    short = subprocess.Popen([py, me, "short", roles_path])
    role("short", short.pid)
    role("ready", os.getpid())
    print("ready", os.getpid())
    sys.stdout.flush()
    root_wait(procs, [bash, execd, short])  # @call_root_wait
    for p in procs:
        p.join()
    os.waitpid(zombie, 0)
    roles.close()


def child(what, roles_path):
    # Append this process's own pid (O_APPEND: one write per line).
    fd = os.open(roles_path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, ("%s-python %d\n" % (what, os.getpid())).encode())
    os.close(fd)
    {"grandchild": work_grandchild, "execd": work_execd, "short": work_short}[what]()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        child(sys.argv[1], sys.argv[2])
    else:
        main(sys.argv[1])
