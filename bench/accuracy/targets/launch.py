# Runs one bench/accuracy workload: launch.py SCRIPT [ARGS...].
# With ACC_GT_DIR set, logs the ground truth first (gt.py).  The workload
# prints "ready PID" once warm, then loops until killed.
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
script = sys.argv[1]
# Our workloads start the logger when warm (acclib.ready()); another
# script (bench/targets/diverse.py) is logged from its start.
if os.environ.get("ACC_GT_DIR") and os.path.dirname(os.path.abspath(script)) != here:
    import gt
    gt.install(os.environ["ACC_GT_DIR"])
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(script))
import runpy
runpy.run_path(script, run_name="__main__")
