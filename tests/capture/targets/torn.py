# Live target for the torn-stack test: the stack changes shape all the
# time (recursion of varying depth, several callees), but only along known
# call edges.  A sample that is not flagged partial must be one of these
# stacks.  CPython 2.7 and 3.6+.
from __future__ import print_function
import os
import sys


def leafy(k):  # @def_leafy
    s = 0
    for i in range(k):  # @leafy_loop
        s += i  # @leafy_body
    return s  # @leafy_ret


def deep(n):  # @def_deep
    if n:
        return deep(n - 1)  # @deep_rec
    return leafy(30)  # @deep_leafy


def mid(k):  # @def_mid
    if k == 0:
        return deep(25)  # @mid_deep
    if k == 1:
        return other(k)  # @mid_other
    return leafy(k * 3)  # @mid_leafy


def other(k):  # @def_other
    return [leafy(j) for j in range(k + 2)]  # @other_comp


def top():  # @def_top
    while True:  # @top_while
        for i in range(7):  # @top_for
            mid(i)  # @top_call


print("ready", os.getpid())
sys.stdout.flush()
top()  # @module_call
