# Target that works for argv[1] seconds, then exits with status argv[2].
# Optional argv[3] = "exec-self": exec itself once (as "child") first;
# "exec-sleep": exec /bin/sleep 2 instead of exiting.
from __future__ import print_function
import os
import sys
import time


def work(seconds):  # @def_work
    end = time.time() + seconds
    while time.time() < end:
        sum(range(1000))  # @work_body


print("ready", os.getpid())
sys.stdout.flush()
work(float(sys.argv[1]))
mode = sys.argv[3] if len(sys.argv) > 3 else ""
if mode == "exec-self":
    os.execv(sys.executable, [sys.executable, __file__, sys.argv[1], sys.argv[2], "child"])
if mode == "exec-sleep":
    os.execv("/bin/sleep", ["sleep", "2"])
sys.exit(int(sys.argv[2]))
