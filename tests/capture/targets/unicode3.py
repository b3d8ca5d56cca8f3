# -*- coding: utf-8 -*-
# Live target (Python 3 only): function names of every PEP 393 kind --
# Latin-1 (kind 1, non-ASCII), CJK (kind 2), astral (kind 4) -- and a
# non-ASCII thread name.  Copied to a non-ASCII file name by the suite.
import os
import sys
import threading
import time


def ünïcödé_fn():  # @def_k1
    while True:
        time.sleep(0.2)  # @k1_sleep


def 函数():  # @def_k2
    ünïcödé_fn()  # @k2_call


def 𠀋𠀌():  # @def_k4
    函数()  # @k4_call


threading.current_thread().name = "主线程-ünï"
print("ready", os.getpid(), flush=True)
𠀋𠀌()  # @module_call
