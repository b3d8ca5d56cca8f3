# Live target (Python 2.7): code objects whose names and file name are
# byte strings that are not all valid UTF-8 (Latin-1 "caf\xe9"), valid
# UTF-8 ("\xe5\x87\xbd" = U+51FD) and plain ASCII.  The capture must store
# valid UTF-8: UTF-8 kept, other bytes decoded as Latin-1.
from __future__ import print_function
import os
import sys
import time
import types


def bottom():  # @def_bottom
    while True:
        time.sleep(0.2)  # @bottom_sleep


def middle():  # @def_middle
    bottom()  # @middle_call


def top():  # @def_top
    middle()  # @top_call


def renamed(f, name, filename):
    c = f.__code__
    c2 = types.CodeType(c.co_argcount, c.co_nlocals, c.co_stacksize, c.co_flags,
                        c.co_code, c.co_consts, c.co_names, c.co_varnames,
                        filename, name, c.co_firstlineno, c.co_lnotab,
                        c.co_freevars, c.co_cellvars)
    return types.FunctionType(c2, f.__globals__, name)


# middle() and top() call their callees through the module globals.
bottom = renamed(bottom, "caf\xe9", "/tmp/fil\xe9-\xff.py")
middle = renamed(middle, "\xe5\x87\xbd", __file__)
print("ready", os.getpid())
sys.stdout.flush()
top()  # @module_call
