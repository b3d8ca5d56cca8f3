# Live target for the stale-cache test: compiles, runs for ~8 ms and frees
# one function after another, f_1, f_2, ... (each in its own "<churn-N>"
# file), so code objects and their name strings are freed and their
# addresses reused.  A capture must never report an older name after a
# newer one.  CPython 2.7 and 3.6+.
from __future__ import print_function
import os
import sys
import time

TEMPLATE = "def f_%d():\n    t = time.time() + 0.008\n    while time.time() < t:\n        pass\n"


def run_one(i):  # @def_run_one
    ns = {"time": time}
    exec(compile(TEMPLATE % i, "<churn-%d>" % i, "exec"), ns)
    f = ns["f_%d" % i]
    f()  # @call_f
    del f, ns


print("ready", os.getpid())
sys.stdout.flush()
i = 0
while True:
    i += 1
    run_one(i)  # @module_call
