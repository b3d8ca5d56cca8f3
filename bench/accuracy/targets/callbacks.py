# Workload: Python called back from C - xml.parsers.expat handlers and a
# ctypes qsort comparator - so the stack goes Python -> C -> Python.
import ctypes
import xml.parsers.expat

import acclib

DOC = ("<root>" + "".join('<item id="%d"><name>n%d</name><v>%d</v></item>' % (i, i, i * 7)
                          for i in range(200)) + "</root>").encode("ascii")
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
libc = ctypes.CDLL(None)


def start(name, attrs):
    return len(name) + len(attrs)


def end(name):
    return len(name)


def chars(data):
    return len(data)


def parse():
    p = xml.parsers.expat.ParserCreate()
    p.StartElementHandler = start
    p.EndElementHandler = end
    p.CharacterDataHandler = chars
    p.Parse(DOC, True)


def compare(a, b):
    return a[0] - b[0]


def sort():
    n = 300
    arr = (ctypes.c_int * n)(*[(i * 7919) % 1009 for i in range(n)])
    libc.qsort(arr, n, ctypes.sizeof(ctypes.c_int), CMP(compare))


def main():
    parse()
    sort()
    acclib.ready()
    while True:
        parse()
        sort()


main()
