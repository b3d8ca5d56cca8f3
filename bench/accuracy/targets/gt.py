# Ground truth for bench/accuracy: the target logs every Python call and
# return (sys.setprofile, every thread) with a CLOCK_MONOTONIC time, so the
# harness can tell, for each sample a profiler took, which stack the thread
# really had at the sample's time.
#
# Used by launch.py when ACC_GT_DIR is set.  Logging stops when the process
# gets SIGUSR2: then each thread, at its next event, writes
# ACC_GT_DIR/gt-TID.log (a JSON header line, then the event times and code
# ids as native 8-byte arrays) and stops logging.  Works on 2.7 and 3.6+.
from __future__ import print_function
import array
import json
import os
import signal
import sys
import threading
import time

GT_FILE = os.path.abspath(__file__)
if GT_FILE.endswith((".pyc", ".pyo")):
    GT_FILE = GT_FILE[:-1]

_stop = [False]
_lock = threading.Lock()
_codes = {}          # id(code) -> code, kept alive so that ids are never reused
_dir = None


def _clock():
    if hasattr(time, "monotonic_ns"):
        return time.monotonic_ns
    if hasattr(time, "monotonic"):
        mono = time.monotonic
        return lambda: int(mono() * 1e9)
    import ctypes
    import ctypes.util

    class timespec(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
    lib = ctypes.CDLL(ctypes.util.find_library("rt") or ctypes.util.find_library("c"), use_errno=True)
    cg = lib.clock_gettime
    ts = timespec()
    ref = ctypes.byref(ts)

    def now():
        cg(1, ref)  # CLOCK_MONOTONIC
        return ts.tv_sec * 1000000000 + ts.tv_nsec
    return now


def _native_tid():
    if hasattr(threading, "get_native_id"):
        return threading.get_native_id()
    import ctypes
    return ctypes.CDLL(None).syscall(186)  # SYS_gettid, x86-64


def _ident():
    return threading.get_ident() if hasattr(threading, "get_ident") else threading._get_ident()


class _Log(object):
    def __init__(self, frame, event, t):
        self.tid = _native_tid()
        self.ident = _ident()
        self.t0 = t
        f = frame.f_back if event == "call" else frame
        stack = []
        while f is not None:
            stack.append(_reg(f.f_code))
            f = f.f_back
        stack.reverse()
        self.init = stack
        self.times = array.array("l")
        self.ops = array.array("l")   # id(code) for a call, 0 for a return

    def dump(self):
        codes = {}
        for c in set(self.init) | set(self.ops):
            if c:
                co = _codes[c]
                codes[str(c)] = [co.co_filename, co.co_name, co.co_firstlineno]
        path = os.path.join(_dir, "gt-%d.log" % self.tid)
        with open(path + ".tmp", "wb") as fp:
            head = {"tid": self.tid, "ident": self.ident, "t0": self.t0, "init": self.init,
                    "codes": codes, "n": len(self.times)}
            fp.write((json.dumps(head) + "\n").encode("utf-8"))
            tob = getattr(array.array, "tobytes", None) or array.array.tostring
            fp.write(tob(self.times))
            fp.write(tob(self.ops))
        os.rename(path + ".tmp", path)


def _reg(code):
    k = id(code)
    if k not in _codes:
        with _lock:
            _codes[k] = code
    return k


def _make_hook():
    now = _clock()
    local = threading.local()
    codes = _codes
    stop = _stop

    def _prof(frame, event, arg):
        t = now()
        log = getattr(local, "log", None)
        if log is None:
            if stop[0]:
                sys.setprofile(None)
                return
            log = local.log = _Log(frame, event, t)
        if stop[0]:
            sys.setprofile(None)
            log.dump()
            return
        if event == "call":
            c = frame.f_code
            k = id(c)
            if k not in codes:
                _reg(c)
            log.times.append(t)
            log.ops.append(k)
        elif event == "return":
            log.times.append(t)
            log.ops.append(0)
    return _prof


def _on_stop(signum, frame):
    _stop[0] = True


def install(directory):
    global _dir
    _dir = directory
    signal.signal(signal.SIGUSR2, _on_stop)
    hook = _make_hook()
    threading.setprofile(hook)
    sys.setprofile(hook)
