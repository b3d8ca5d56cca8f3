# Workload: a deep, stable stack (50 frames), its leaf a loop without calls.
import acclib


def down(n):
    if n:
        return down(n - 1)
    s = 0
    for i in range(20000):
        s += i * i
    return s


def main():
    down(48)
    acclib.ready()
    while True:
        down(48)


main()
