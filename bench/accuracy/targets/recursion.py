# Workload: fast recursion, the stack changes every few hundred nanoseconds.
import acclib


def recurse(n):
    if n:
        return recurse(n - 1)
    return 0


def main():
    recurse(20)
    acclib.ready()
    while True:
        recurse(20)


main()
