# Workload: several threads (the main thread and three workers) running
# different Python code, contending for the GIL.
import threading

import acclib


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def strings():
    return "".join(sorted(str(i * 31 % 97) for i in range(300)))


def dicts():
    d = {}
    for i in range(500):
        d[i % 37] = d.get(i % 37, 0) + i
    return sum(d.values())


def loop(fn):
    while True:
        fn()


def main():
    work = (lambda: fib(15), strings, dicts)
    for fn in work:
        fn()
    acclib.ready()  # before the workers start: they inherit the logger
    for fn in work:
        t = threading.Thread(target=loop, args=(fn,))
        t.daemon = True
        t.start()
    while True:
        fib(12)
        strings()


main()
