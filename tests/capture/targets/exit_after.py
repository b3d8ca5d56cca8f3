# Target that works for argv[1] seconds, then exits with status argv[2].
# argv[1] = "usr1": works until it receives SIGUSR1 instead (a handshake:
# the test says when, once the capture samples).
# Optional argv[3] = "exec-self": exec itself once first (as "child",
# working 2 s); "exec-sleep": exec /bin/sleep 2 instead of exiting.
from __future__ import print_function
import os
import signal
import sys
import time

told = []


def work(seconds):  # @def_work
    end = time.time() + seconds
    while time.time() < end and not told:
        sum(range(1000))  # @work_body


print("ready", os.getpid())
sys.stdout.flush()
if sys.argv[1] == "usr1":
    signal.signal(signal.SIGUSR1, lambda *a: told.append(1))
    work(3600)
else:
    work(float(sys.argv[1]))
mode = sys.argv[3] if len(sys.argv) > 3 else ""
if mode == "exec-self":
    os.execv(sys.executable, [sys.executable, __file__, "2", sys.argv[2], "child"])
if mode == "exec-sleep":
    os.execv("/bin/sleep", ["sleep", "2"])
sys.exit(int(sys.argv[2]))
