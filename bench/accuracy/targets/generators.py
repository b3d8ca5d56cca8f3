# Workload: a pipeline of nested generators (each resumed and suspended
# per item) feeding a consumer.
import acclib


def numbers(n):
    for i in range(n):
        yield i


def squares(it):
    for x in it:
        yield x * x


def evens(it):
    for x in it:
        if x % 2 == 0:
            yield x


def chunks(it, k):
    buf = []
    for x in it:
        buf.append(x)
        if len(buf) == k:
            yield buf
            buf = []


def consume():
    total = 0
    for c in chunks(evens(squares(numbers(3000))), 16):
        total += sum(c)
    return total


def main():
    consume()
    acclib.ready()
    while True:
        consume()


main()
