# Target of the containers suite (Python 2.7 and 3.x): spins in two known
# functions.  Handshake: once running it writes its pid (as it sees it) to
# the file named by argv[1], by rename, so that a waiting test never reads
# a half-written file.
import os
import sys


def containers_leaf(n):
    s = 0
    for i in range(n):
        s += i
    return s


def containers_spin():
    while True:
        containers_leaf(1000)


f = open(sys.argv[1] + ".tmp", "w")
f.write("%d\n" % os.getpid())
f.close()
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
containers_spin()
