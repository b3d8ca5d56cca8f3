# Benchmark target: CPU-bound Python threads with a stack of a given depth.
#
# usage: cpu.py DEPTH THREADS [WARMUP SECONDS]
#   DEPTH    Python frames on every worker's stack (counted from the
#            outermost frame, the interpreter's thread bootstrap frames
#            included), so a sampler sees exactly DEPTH frames; at least 4
#   THREADS  worker threads; the main thread is one of them
#   WARMUP, SECONDS  when given (1 thread only), measure the work rate from
#            WARMUP to WARMUP + SECONDS after "ready", print
#            "rate PER_WALL_SECOND PER_CPU_SECOND CPU_SHARE" (iterations per
#            second of wall time and of the process's CPU time, and its CPU
#            time / wall time) and exit 0; otherwise run until killed
#
# Prints "ready PID" once every worker is at its full depth.  Works on
# CPython 2.7 and 3.6+.  The leaf frame spins over a few lines, so a
# steady capture has a handful of distinct leaf lines.
from __future__ import print_function
import os
import sys
import threading
import time

DEPTH = int(sys.argv[1])
THREADS = int(sys.argv[2])
WARMUP = float(sys.argv[3]) if len(sys.argv) > 3 else None
SECONDS = float(sys.argv[4]) if len(sys.argv) > 4 else None
sys.setrecursionlimit(DEPTH + 1000)

counts = [0] * THREADS
at_bottom = [0]
lock = threading.Lock()


def frames_above():
    # Frames of the caller's stack, the caller included.
    f = sys._getframe(1)
    n = 0
    while f is not None:
        n += 1
        f = f.f_back
    return n


def cpu_seconds():
    t = os.times()
    return t[0] + t[1]


def recurse(n, k):
    if n is None:
        n = DEPTH - frames_above()
        if n < 0:
            sys.stderr.write("DEPTH %d is too small here\n" % DEPTH)
            os._exit(2)
    if n > 0:
        return recurse(n - 1, k)
    # The leaf: DEPTH frames.
    with lock:
        at_bottom[0] += 1
    if k == 0:
        while at_bottom[0] < THREADS:
            time.sleep(0.005)
        print("ready", os.getpid())
        sys.stdout.flush()
    measuring = k == 0 and SECONDS is not None
    it = 0
    n0 = None
    c_start = 0.0
    t_end = t_start = time.time() + (WARMUP or 0)
    while True:
        s = 0
        for i in range(100):
            s += i * i
            s ^= k
        it += 1
        counts[k] = it
        if measuring and it & 63 == 0:
            now = time.time()
            if n0 is None:
                if now >= t_start:
                    n0, t_start, t_end = it, now, now + SECONDS
                    c_start = cpu_seconds()
            elif now >= t_end:
                cpu = cpu_seconds() - c_start
                print("rate %.1f %.1f %.4f" % ((it - n0) / (now - t_start),
                                               (it - n0) / cpu if cpu > 0 else 0.0,
                                               cpu / (now - t_start)))
                sys.stdout.flush()
                os._exit(0)


if SECONDS is not None and THREADS != 1:
    sys.exit("the work rate is measured with 1 thread only")
for k in range(1, THREADS):
    t = threading.Thread(target=recurse, args=(None, k), name="worker-%d" % k)
    t.daemon = True
    t.start()
recurse(None, 0)
