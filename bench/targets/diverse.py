# Benchmark target: a "diverse" workload, one thread looping over a mix of
# standard-library work (json, re, difflib, textwrap, random, decimal), so
# a capture sees many distinct stacks, as in a real application.
#
# usage: diverse.py [SECONDS]
#   Prints "ready PID" after a first pass over every task, then loops
#   (until killed, or for SECONDS, then prints "rate TASKS_PER_SECOND").
# Deterministic (seeded).  Works on CPython 2.7 and 3.6+.
from __future__ import print_function
import decimal
import difflib
import json
import os
import random
import re
import sys
import textwrap
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else None
rng = random.Random(1234)
WORDS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu "
         "nu xi omicron pi rho sigma tau upsilon phi chi psi omega").split()


def sentence(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def make_doc(depth):
    if depth == 0:
        return {"id": rng.randint(0, 10 ** 6), "name": sentence(3),
                "score": rng.random(), "tags": [rng.choice(WORDS) for _ in range(4)]}
    return {"level": depth, "items": [make_doc(depth - 1) for _ in range(3)],
            "note": sentence(5)}


def task_json():
    doc = make_doc(3)
    text = json.dumps(doc, sort_keys=True, indent=1)
    back = json.loads(text)
    return len(json.dumps(back))


EMAIL = re.compile(r"([a-z]+)\.([a-z]+)@([a-z]+)\.(com|org|net)")


def task_re():
    text = " ".join("%s.%s@%s.%s" % (rng.choice(WORDS), rng.choice(WORDS), rng.choice(WORDS),
                                     rng.choice(("com", "org", "net", "xyz")))
                    for _ in range(60))
    found = EMAIL.findall(text)
    subst = re.sub(r"\b(\w)(\w*)\b", lambda m: m.group(1).upper() + m.group(2), text)
    return len(found) + len(re.split(r"[@.]", subst))


def task_difflib():
    a = [sentence(6) for _ in range(40)]
    b = list(a)
    for _ in range(8):
        b[rng.randrange(len(b))] = sentence(6)
    diff = list(difflib.unified_diff(a, b, lineterm=""))
    ratio = difflib.SequenceMatcher(None, " ".join(a), " ".join(b)).quick_ratio()
    return len(diff) + int(ratio * 100)


def task_textwrap():
    text = sentence(400)
    wrapped = textwrap.fill(text, width=rng.randint(30, 90))
    dedented = textwrap.dedent(textwrap.indent(wrapped, "    ")) if hasattr(textwrap, "indent") else wrapped
    return len(textwrap.wrap(dedented, 50))


def task_random():
    xs = [rng.gauss(0, 1) for _ in range(500)]
    rng.shuffle(xs)
    sample = rng.sample(xs, 50)
    return sum(sorted(sample)[:10]) + rng.uniform(0, 1)


def task_decimal():
    ctx = decimal.Context(prec=rng.randint(20, 60))
    x = decimal.Decimal(rng.randint(1, 10 ** 6)) / decimal.Decimal(7)
    total = decimal.Decimal(0)
    for i in range(1, 80):
        total = ctx.add(total, ctx.divide(x, decimal.Decimal(i)))
        total = ctx.multiply(total, decimal.Decimal("1.0001"))
    return ctx.sqrt(total)


TASKS = [task_json, task_re, task_difflib, task_textwrap, task_random, task_decimal]


def run_one():
    return rng.choice(TASKS)()


def main():
    for t in TASKS:
        t()
    print("ready", os.getpid())
    sys.stdout.flush()
    n = 0
    t0 = time.time()
    while True:
        run_one()
        n += 1
        if SECONDS is not None and n & 15 == 0:
            now = time.time()
            if now - t0 >= SECONDS:
                print("rate %.1f" % (n / (now - t0)))
                sys.stdout.flush()
                return


main()
