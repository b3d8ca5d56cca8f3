#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""A small, realistic multi-threaded workload to profile with pyspy.

Runs for --seconds (default 5) and exits 0.  Works on Python 2.7 and 3.x.

Threads:
  MainThread      parses and re-serialises JSON documents, runs regexes
  compute         a CPU-bound numeric job (holds the GIL most of the time)
  poller          sleeps most of the time (idle), wakes up for small work
  reporter        a generator pipeline feeding a text formatter
"""
from __future__ import print_function

import json
import re
import sys
import textwrap
import threading
import time

WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu "
         "nu xi omicron pi rho sigma tau upsilon phi chi psi omega").split()
DEADLINE = [0.0]


def running():
    return time.time() < DEADLINE[0]


class Primes(object):
    """CPU-bound work with methods, so qualified names show up (3.11+)."""

    def __init__(self, limit):
        self.limit = limit

    def sieve(self):
        flags = [True] * self.limit
        flags[0] = flags[1] = False
        for i in range(2, int(self.limit ** 0.5) + 1):
            if flags[i]:
                for j in range(i * i, self.limit, i):
                    flags[j] = False
        return [i for i, f in enumerate(flags) if f]

    def twin_count(self):
        primes = self.sieve()
        return sum(1 for a, b in zip(primes, primes[1:]) if b - a == 2)


def compute():
    job = Primes(60000)
    while running():
        job.twin_count()


def poller():
    n = 0
    while running():
        time.sleep(0.05)
        n += len(textwrap.wrap(" ".join(WORDS), 30))


def documents(count):
    for i in range(count):
        yield {"id": i, "tags": WORDS[i % 7: i % 7 + 5],
               "score": i * 0.5, "text": " ".join(WORDS[i % 11:])}


def render(docs):
    for doc in docs:
        yield textwrap.fill(doc["text"], 40)


def reporter():
    while running():
        lines = 0
        for block in render(documents(200)):
            lines += block.count("\n")
        time.sleep(0.01)


PATTERN = re.compile(r"(\w+)a\b")


def handle_request(payload):
    data = json.loads(payload)
    matches = [m.group(1) for m in PATTERN.finditer(" ".join(data["words"]))]
    data["matches"] = sorted(matches)
    return json.dumps(data, sort_keys=True)


def serve():
    payload = json.dumps({"words": WORDS * 20, "n": 1})
    while running():
        handle_request(payload)


def main(argv):
    seconds = 5.0
    if len(argv) > 2 and argv[1] == "--seconds":
        seconds = float(argv[2])
    DEADLINE[0] = time.time() + seconds
    threads = [threading.Thread(target=f, name=f.__name__)
               for f in (compute, poller, reporter)]
    for t in threads:
        t.start()
    serve()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
