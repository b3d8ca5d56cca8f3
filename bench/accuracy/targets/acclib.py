# Shared by the bench/accuracy workloads.
from __future__ import print_function
import os
import sys


def ready():
    """Say the workload is warm; with ACC_GT_DIR set, start logging the
    ground truth here (gt.py), so the warm-up is not slowed by it.  Call
    it before starting threads: they inherit the logger."""
    if os.environ.get("ACC_GT_DIR") and "gt" not in sys.modules:
        import gt
        gt.install(os.environ["ACC_GT_DIR"])
    print("ready", os.getpid())
    sys.stdout.flush()
