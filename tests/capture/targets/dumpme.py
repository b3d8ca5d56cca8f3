# -*- coding: utf-8 -*-
# Live target for the --dump tests (CPython 2.7 and 3.6+).  Threads:
#   MainThread   sleeps in holder(), whose arguments and locals hold a value
#                of every type --locals renders
#   busy         spins in spin() (running, holds the GIL)
#   sleepy       sleeps in nap()
# SIGUSR1 starts "mutator", which prints "mutating" and keeps rebuilding
# its locals (a list, a dict, a string) for the --nonblocking dumps.
# Prints "ready PID" when every thread runs.  Lines marked "# @NAME" are
# looked up by the checker (check.py).
from __future__ import print_function
import os
import signal
import sys
import threading
import time


class Thing(object):
    pass


def spin():  # @def_spin
    n = 0
    while True:
        n += 1  # @spin_body


def nap(seconds):  # @def_nap
    while True:
        time.sleep(seconds)  # @nap_sleep


def mutate():  # @def_mutate
    print("mutating")
    sys.stdout.flush()
    n = 0
    while True:
        n += 1
        data = list(range(n % 50))
        table = dict((str(i), i) for i in range(n % 20))
        text = "m" * (n % 100)
        if n % 64 == 0:
            time.sleep(0.0005)  # @mutate_sleep


def start(target, name, *args):
    t = threading.Thread(target=target, name=name, args=args)
    t.daemon = True
    # 3.3+: the thread inherits a mask blocking SIGUSR1, so the kernel
    # delivers a process-directed SIGUSR1 to the main thread, whose sleep
    # it interrupts (the handler runs at once).
    mask = getattr(signal, "pthread_sigmask", None)
    old = mask(signal.SIG_BLOCK, [signal.SIGUSR1]) if mask else None
    t.start()
    if mask:
        mask(signal.SIG_SETMASK, old)
    return t


def on_usr1(signum, frame):
    start(mutate, "mutator")


def holder(a, b, *rest, **opts):  # @def_holder
    none = None
    yes = True
    no = False
    small = 42
    neg = -7
    mid = 2 ** 40
    big = 2 ** 100
    bigneg = -(2 ** 70)
    pi = 3.25
    tiny = 1e-05
    text = 'say "hi"\n\tok'
    uni = u"caf\u00e9 \u51fd\u6570"
    long_text = "x" * 500
    raw = b"\x00\x01ab"
    items = [1, "two", 3.5, None]
    pair = (1, 2)
    single = (1,)
    empty = []
    mapping = {"k": [1, 2]}
    nested = [[1, [2, [3]]]]
    selfref = []
    selfref.append(selfref)
    obj = Thing()
    many = list(range(1000))
    captured = "cell"

    def inner():
        return captured
    print("ready", os.getpid())
    sys.stdout.flush()
    # 2.7 cannot keep SIGUSR1 from the other threads: its handler then runs
    # when this thread wakes, within 5 s.  (Rare wake-ups: a thread that
    # wakes may wait long for a CPU on a loaded machine, runnable, which a
    # dump would show as active.)
    while True:
        time.sleep(5)  # @holder_sleep


signal.signal(signal.SIGUSR1, on_usr1)
start(spin, "busy")
start(nap, "sleepy", 100)
time.sleep(0.1)
holder(1, "two", 3, 4, key="v")  # @call_holder
