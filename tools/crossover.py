#!/usr/bin/python3
"""Crossover bandwidths from a gcsim sweep's results.csv.

Usage: /usr/bin/python3 tools/crossover.py RESULTS_CSV

For every model, P and compression variant (the `variant` column) it finds
the inter-node bandwidths where the variant's iteration time crosses dense's
(variant "none") at the same model, P and bandwidth, interpolating
log(T_variant / T_dense) linearly in log(bandwidth) between the two swept
points around each sign change. Prints a Markdown table: the bandwidth below
which the variant is faster than dense ("< B Gb/s"), "always" / "never" when it
is faster / slower at every swept bandwidth, or the list of crossings when
there are several. Also prints the speedup over dense at the lowest and highest
swept bandwidth. Bad input: one line on stderr, exit 2.
"""
import collections
import csv
import math
import sys


def fail(msg):
    print("crossover: %s" % msg, file=sys.stderr)
    sys.exit(2)


def main(argv):
    if len(argv) != 2:
        fail("usage: crossover.py RESULTS_CSV")
    try:
        with open(argv[1], newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail("%s: %s" % (argv[1], e.strerror))
    need = {"model", "workers", "bandwidth_gbps", "variant", "iteration_time_s"}
    if not rows or not need <= set(rows[0]):
        fail("%s: needs the columns %s" % (argv[1], ", ".join(sorted(need))))
    t = collections.defaultdict(dict)  # (model, P, variant) -> {B: T}
    try:
        for r in rows:
            t[(r["model"], int(r["workers"]), r["variant"])][float(r["bandwidth_gbps"])] = float(r["iteration_time_s"])
    except ValueError as e:
        fail("%s: %s" % (argv[1], e))
    order = []
    for key in t:
        if key[2] not in order:
            order.append(key[2])
    models = sorted({(k[0], k[1]) for k in t})
    print("| model | P | variant | faster than dense | speedup at %s | speedup at %s |" % ("lowest B", "highest B"))
    print("|---|---|---|---|---|---|")
    for model, P in models:
        dense = t.get((model, P, "none"))
        if not dense:
            fail("no dense rows for %s at P = %d" % (model, P))
        for v in order:
            if v == "none" or (model, P, v) not in t:
                continue
            pts = sorted(b for b in t[(model, P, v)] if b in dense)
            ratio = [math.log(t[(model, P, v)][b] / dense[b]) for b in pts]  # < 0: faster than dense
            crossings = []
            for i in range(len(pts) - 1):
                a, b = ratio[i], ratio[i + 1]
                if (a < 0) != (b < 0):
                    x = math.log(pts[i]) + (math.log(pts[i + 1]) - math.log(pts[i])) * a / (a - b)
                    crossings.append((math.exp(x), "down" if a < 0 else "up"))
            if not crossings:
                text = "always (swept range)" if ratio[0] < 0 else "never (swept range)"
            elif len(crossings) == 1 and crossings[0][1] == "down":
                text = "below %.3g Gb/s" % crossings[0][0]
            elif len(crossings) == 1:
                text = "above %.3g Gb/s" % crossings[0][0]
            else:
                text = ", ".join("%s at %.3g" % (d, b) for b, d in crossings)
            print("| %s | %d | %s | %s | %.3g× | %.3g× |" % (model, P, v, text, math.exp(-ratio[0]), math.exp(-ratio[-1])))


if __name__ == "__main__":
    main(sys.argv)
