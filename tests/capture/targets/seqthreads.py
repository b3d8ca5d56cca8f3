# Target for tests/capture: thread names must follow the thread, never a
# reused id.  Prints "ready PID", then waits for SIGUSR1 (sent once the
# capture samples) and runs 60 threads one after the other, named job-0 ..
# job-59, each in its own function job_N (so the checker knows from a
# sample's stack which thread it is).  A thread that ends leaves its
# pthread_t, its thread state's address and often its OS thread id to the
# next one.  Prints "done" when the last has ended, then sleeps.
# Runs on CPython 2.7 and 3.6+.
from __future__ import print_function
import os
import signal
import sys
import threading
import time

JOBS = 60


def spin(seconds):  # @def_spin
    end = time.time() + seconds
    while time.time() < end:
        sum(range(200))  # @spin_body


jobs = []
for i in range(JOBS):
    ns = {"spin": spin}
    exec("def job_%d():\n    spin(0.04)\n" % i, ns)
    jobs.append(ns["job_%d" % i])

go = []
signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
print("ready", os.getpid())
sys.stdout.flush()
while not go:
    time.sleep(0.01)
for i in range(JOBS):
    t = threading.Thread(target=jobs[i], name="job-%d" % i)
    t.start()
    t.join()
print("done")
sys.stdout.flush()
while True:
    time.sleep(0.5)  # @main_sleep
