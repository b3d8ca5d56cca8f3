# -*- coding: utf-8 -*-
# Live target for tests/capture (CPython 2.7 and 3.6+).  Threads:
#   MainThread                 sleeps in main_loop()
#   busy-worker-thread-long-name  Worker.method_run -> busy_leaf (CPU, GIL)
#   sleepy                     sleeper -> time.sleep
#   gen                        gen_consumer -> gen (a generator) -> busy_leaf
#   compr                      comprehender -> list comprehension -> square
#   ünïcödé-thread             same as sleepy, non-ASCII thread name
#   before-rename              same as sleepy, renamed "after-rename" when
#                              the process gets SIGUSR2 (the test sends it
#                              once the capture has seen the first name)
# The sleepers sleep 5 s at a time: a thread that wakes up may wait long for
# a CPU on a loaded machine (runnable, so not idle), and the idle check
# should measure the sleep, not the wake-ups.
# Lines marked "# @NAME" are looked up by the checker (check.py).
# Prints "ready PID" when every thread runs.
from __future__ import print_function
import os
import signal
import sys
import threading
import time


def busy_leaf(n):  # @def_busy_leaf
    s = 0
    for i in range(n):  # @busy_loop
        s += i * i  # @busy_body
    return s  # @busy_ret


class Worker(object):
    def method_run(self):  # @def_method_run
        while True:
            busy_leaf(200000)  # @call_busy_leaf


def sleeper():  # @def_sleeper
    while True:
        time.sleep(5)  # @sleep_call


def gen():  # @def_gen
    while True:
        busy_leaf(30000)  # @gen_busy
        yield 1  # @gen_yield


def gen_consumer():  # @def_gen_consumer
    for _ in gen():  # @consume_loop
        time.sleep(0.002)  # @consume_sleep


def square(x):  # @def_square
    return busy_leaf(x)  # @square_body


def comprehender():  # @def_comprehender
    while True:
        data = [square(2000) for i in range(20)]  # @listcomp
        time.sleep(0.003)  # @compr_sleep


def main_loop():  # @def_main_loop
    while True:
        time.sleep(0.2)  # @main_sleep


def start(target, name):
    t = threading.Thread(target=target, name=name)
    t.daemon = True
    t.start()
    return t


start(Worker().method_run, "busy-worker-thread-long-name")
start(sleeper, "sleepy")
start(gen_consumer, "gen")
start(comprehender, "compr")
start(sleeper, u"ünïcödé-thread" if sys.version_info[0] >= 3 else "\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9-thread")
renamed = start(sleeper, "before-rename")


def rename(*args):
    renamed.name = "after-rename"  # picked up by the capture's periodic rescan


signal.signal(signal.SIGUSR2, rename)
time.sleep(0.3)
print("ready", os.getpid())
sys.stdout.flush()
main_loop()  # @module_call
