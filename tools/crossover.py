#!/usr/bin/python3
"""Crossover bandwidths (or worker counts) from a gcsim sweep's results.csv.

Usage: /usr/bin/python3 tools/crossover.py RESULTS_CSV [--over workers]

For every model, P and compression variant (the `variant` column) it finds
the inter-node bandwidths where the variant's iteration time crosses dense's
(variant "none") at the same model, P and bandwidth, interpolating
log(T_variant / T_dense) linearly in log(bandwidth) between the two swept
points around each sign change. Prints a Markdown table: the bandwidth below
which the variant is faster than dense ("< B Gb/s"), "always" / "never" when it
is faster / slower at every swept bandwidth, or the list of crossings when
there are several. Also prints the speedup over dense at the lowest and highest
swept bandwidth. With --over workers the roles swap: per model, bandwidth and
variant, the worker count P where the variant crosses dense ("below P = 90":
faster than dense up to about P = 90), interpolated in log P. Bad input: one
line on stderr, exit 2.
"""
import collections
import csv
import math
import sys


def fail(msg):
    print("crossover: %s" % msg, file=sys.stderr)
    sys.exit(2)


def main(argv):
    over = "bandwidth_gbps"
    if len(argv) == 4 and argv[2] == "--over" and argv[3] in ("workers", "bandwidth_gbps"):
        over = argv[3]
        argv = argv[:2]
    if len(argv) != 2:
        fail("usage: crossover.py RESULTS_CSV [--over workers]")
    fixed = "workers" if over == "bandwidth_gbps" else "bandwidth_gbps"
    unit = (lambda x: "%.3g Gb/s" % x) if over == "bandwidth_gbps" else (lambda x: "P = %.3g" % x)
    fixed_text = (lambda x: "%d" % x) if fixed == "workers" else (lambda x: "%g Gb/s" % x)
    try:
        with open(argv[1], newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail("%s: %s" % (argv[1], e.strerror))
    need = {"model", "workers", "bandwidth_gbps", "variant", "iteration_time_s"}
    if not rows or not need <= set(rows[0]):
        fail("%s: needs the columns %s" % (argv[1], ", ".join(sorted(need))))
    t = collections.defaultdict(dict)  # (model, fixed value, variant) -> {swept value: T}
    try:
        for r in rows:
            t[(r["model"], float(r[fixed]), r["variant"])][float(r[over])] = float(r["iteration_time_s"])
    except ValueError as e:
        fail("%s: %s" % (argv[1], e))
    order = []
    for key in t:
        if key[2] not in order:
            order.append(key[2])
    models = sorted({(k[0], k[1]) for k in t})
    lo, hi = ("lowest B", "highest B") if over == "bandwidth_gbps" else ("lowest P", "highest P")
    print("| model | %s | variant | faster than dense | speedup at %s | speedup at %s |"
          % ("P" if fixed == "workers" else "bandwidth", lo, hi))
    print("|---|---|---|---|---|---|")
    for model, P in models:
        dense = t.get((model, P, "none"))
        if not dense:
            fail("no dense rows for %s at %s = %g" % (model, fixed, P))
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
                text = "below %s" % unit(crossings[0][0])
            elif len(crossings) == 1:
                text = "above %s" % unit(crossings[0][0])
            else:
                text = ", ".join("%s at %.3g" % (d, b) for b, d in crossings)
            print("| %s | %s | %s | %s | %.3g× | %.3g× |" % (model, fixed_text(P), v, text, math.exp(-ratio[0]),
                                                             math.exp(-ratio[-1])))


if __name__ == "__main__":
    main(sys.argv)
