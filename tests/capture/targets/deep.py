# Live target: recursion DEPTH frames deep (argv[1]), then sleeps or spins
# (argv[2] = "sleep" | "spin") at the bottom.  CPython 2.7 and 3.6+.
from __future__ import print_function
import os
import sys
import time

DEPTH = int(sys.argv[1])
MODE = sys.argv[2] if len(sys.argv) > 2 else "sleep"
sys.setrecursionlimit(DEPTH + 1000)


def recurse(n):  # @def_recurse
    if n > 0:
        return recurse(n - 1)  # @rec_call
    print("ready", os.getpid())
    sys.stdout.flush()
    while True:
        if MODE == "sleep":
            time.sleep(0.5)  # @bottom_sleep
        else:
            sum(range(1000))  # @bottom_spin


recurse(DEPTH - 2)  # @module_call
