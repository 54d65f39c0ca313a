#!/usr/bin/python3
"""Plot a gcsim sweep's results.csv as PNG figures.

Usage:
    /usr/bin/python3 tools/plot_sweep.py RESULTS_CSV --out DIR [--model NAME ...]

A compressed configuration ("variant") is named by the results' `variant`
column (gcsim's label of the method's configuration: "topk 1%",
"topk 0.1% no-EF", "fp16", "bf16", "powersgd r=4", "signsgd majority",
"qsgd 4-bit", ...).  CSVs written before that column existed name it by its
ratio instead (rho = k/N, shown as "ρ=0.01, top-k"); they plot as they always
did, without the best-variant map.  Dense training is method "none".

For every model (or only the models named with --model) these figures are
written into DIR:

  efficiency_<model>.png  weak-scaling efficiency T(1)/T(P) vs workers P,
                          one line per inter-node bandwidth, one panel for
                          dense (no compression) and one per variant
  speedup_<model>.png     speedup P*T(1)/T(P) vs P (log-log) with the ideal
                          line speedup = P, panels as above
  breakdown_<model>.png   stacked bars of the iteration time (compute,
                          exposed compression, exposed communication) for
                          every bandwidth x {dense, each variant} at the
                          largest P (and a middle P)
  heatmap_<model>.png     T_iter(dense) / T_iter(variant) over bandwidth x P
                          (P > 1), one panel per non-dense variant (a grid of
                          up to 4 per row), with the break-even contour
  best_<model>.png        (CSVs with a variant column) for every (P > 1,
                          bandwidth) with a dense row, the configuration with
                          the lowest iteration_time_s, dense included, as a
                          categorical colour map (P on a log2 axis); each
                          cell says the variant and T_iter(dense)/T_iter(best),
                          or "none" where dense is fastest (ties go to dense).
                          Skipped when there are no dense rows or fewer than
                          two such P

Panels and legends list dense first, then the variants: by ratio, large to
small, without a variant column; with one by method (none, fp16, bf16, qsgd,
signsgd, powersgd, topk, randomk, threshold, then others by name), ratio
(large to small) and label.

Configuration columns other than the plotted ones (workers, bandwidth_gbps,
the variant, method none-vs-compressed) are never averaged over:

  * if an environment column (topology, gpus_per_node, intra_bandwidth_gbps,
    bucket_mb, overlap, backend, or any unknown column) or a compression
    column (method, error_feedback, index_bytes, algorithm, exchange,
    granularity) takes several values at the same P, bandwidth and variant
    within one model, a separate set of figures is written for every
    combination, the file names suffixed with "_<column>-<value>";
  * the dense baseline shown next to the compressed configurations uses the
    dense rows whose algorithm/exchange/granularity match most compressed
    rows if there are any, otherwise the most common dense setting; when the
    dense rows had a choice, the title says which setting was used.

With a variant column, the variant (with the method) identifies the
compression configuration, as gcsim promises: `variant` itself never splits
figures; error_feedback, index_bytes, exchange, granularity and every column
of a swept compression key ("compression.rank", "compression.ratio", ...) are
not dimensions; and the `ratio` column is read only for topk, randomk and
threshold (for other methods it holds whatever the scenario said and is
ignored, even out of range).  An empty variant falls back to the method and
its ratio ("topk 1%").

gcsim sweep's config_hash and metric columns are not dimensions, and its
columns for swept keys (named by the key, e.g. "stragglers.cv") are
environment columns like any other: one that mirrors a plotted column
("cluster.workers") does not split the figures; compression.ratio/
error_feedback/index_bytes are ignored on dense rows.

Duplicate points are collapsed: method "none" rows that differ only in ratio
or error_feedback/index_bytes (which do not apply to dense training), or,
with a variant column, in the variant or any swept compression key; and, with
a variant column, rows of one variant that differ only in the columns the
variant describes.  If such duplicates of a
compressed configuration differ in iteration_time_s, a note says so and the
first is used.

Bad input (missing file, missing required column, no rows, non-numeric value,
a ratio outside (0, 1] where it is read) prints one line
"plot_sweep: <file>: <what is wrong>" to stderr and exits with status 2
before anything is written.  Plots that the data cannot support (one P only,
no dense rows for the heatmap, ...) are skipped with a note on stderr.
The paths of the files written are printed to stdout, one per line.

For tests and scripts: figure_sets(path) gives the figure sets main draws;
heatmap_data(fs) the heatmap's panels and cells; best_variant_table(fs) the
fastest configuration per (P, B) (BestCell); the *_figure functions return
the matplotlib figure, with fig.panel_axes for the heatmap and best map.
"""

import argparse
import collections
import csv
import math
import os
import re
import sys
import tempfile
import textwrap

# matplotlib and numpy are imported only once the input has been validated
# (see load_matplotlib), so bad input is reported quickly.
plt = mcolors = mpatches = mticker = np = None


def load_matplotlib():
    global plt, mcolors, mpatches, mticker, np
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.colors as _mcolors
    import matplotlib.patches as _mpatches
    import matplotlib.pyplot as _plt
    import matplotlib.ticker as _mticker
    import numpy as _np
    plt, mcolors, mpatches, mticker = _plt, _mcolors, _mpatches, _mticker
    np = _np

PROG = "plot_sweep"
DPI = 120

REQUIRED = [
    "model", "workers", "bandwidth_gbps", "method", "ratio", "error_feedback",
    "iteration_time_s", "compute_s", "exposed_compression_s", "exposed_comm_s",
    "efficiency_weak", "speedup",
]
# Measured / derived columns: never used to tell configurations apart
# (config_hash: gcsim sweep's identity of a row's configuration, which the
# other columns describe).
RESULT_COLS = {
    "point", "config_hash", "iteration_time_s", "compute_s", "compression_s",
    "exposed_compression_s", "comm_s", "exposed_comm_s",
    "bytes_sent_per_worker", "bytes_received_per_worker", "efficiency_weak",
    "efficiency_strong", "speedup", "iteration_time_p1_s",
    # gcsim's further metric columns (sim/output/result_format.cpp)
    "algorithm_used", "params", "selected", "buckets", "iterations",
    "iteration_p50_s", "iteration_p99_s", "straggler_s", "busiest_link",
    "busiest_link_utilization",
}
# Plotted dimensions.
AXIS_COLS = {"model", "workers", "bandwidth_gbps", "ratio"}
# Columns that describe the compression scheme (compressed rows are split by
# them; for dense rows only DENSE_COLS matter).
COMP_COLS = ["method", "variant", "error_feedback", "index_bytes",
             "algorithm", "exchange", "granularity"]
DENSE_COLS = ["algorithm", "exchange", "granularity"]
# Columns that do not apply to dense rows (dedupe ignores them there), and
# the same settings as gcsim sweep names its columns for swept keys.
DENSE_IRRELEVANT = {"ratio", "error_feedback", "index_bytes"}
DENSE_IRRELEVANT_KEYS = {"compression." + c for c in DENSE_IRRELEVANT}
# With a `variant` column, the variant (with the method) identifies the
# compression configuration: these columns, and every column for a swept
# compression key ("compression.rank", ...), are not dimensions of their own.
VARIANT_DESCRIBED = {"error_feedback", "index_bytes", "exchange",
                     "granularity"}
# Methods whose `ratio` column means something (for the others it is ignored
# when the CSV has a variant column).
RATIO_METHODS = {"topk", "randomk", "threshold"}
# Order of methods in panels and legends (unknown methods after these, by
# name).
METHOD_ORDER = ["none", "fp16", "bf16", "qsgd", "signsgd", "powersgd",
                "topk", "randomk", "threshold"]

FLOAT_COLS = ["bandwidth_gbps", "iteration_time_s", "compute_s",
              "exposed_compression_s", "exposed_comm_s", "efficiency_weak",
              "speedup"]

METHOD_NAMES = {"topk": "top-k", "randomk": "random-k",
                "threshold": "threshold", "none": "none (dense)",
                "fp16": "fp16", "bf16": "bf16", "powersgd": "PowerSGD",
                "signsgd": "signSGD", "qsgd": "QSGD"}
TRUE_WORDS = {"true", "1", "yes", "on"}


class InputError(Exception):
    """Bad input: reported as one line and exit status 2."""


def note(msg):
    print("%s: note: %s" % (PROG, msg), file=sys.stderr)


# ----------------------------------------------------------------------------
# Reading and validation
# ----------------------------------------------------------------------------

def parse_float(text, col, line):
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError("line %d: column '%s': non-numeric value %r"
                         % (line, col, text))
    if not math.isfinite(v):
        raise InputError("line %d: column '%s': non-finite value %r"
                         % (line, col, text))
    return v


def read_rows(path):
    try:
        fh = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("no such file")
    except OSError as e:
        raise InputError("cannot open: %s" % (e.strerror or e))
    with fh:
        try:
            reader = csv.DictReader(fh)
            header = reader.fieldnames
            if not header:
                raise InputError("empty file (no header row)")
            header = [h.strip() for h in header]
            reader.fieldnames = header
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise InputError("missing required column%s: %s"
                                 % ("s" if len(missing) > 1 else "",
                                    ", ".join(missing)))
            raw = list(reader)
            has_variant = "variant" in header
        except csv.Error as e:
            raise InputError("malformed CSV: %s" % e)
        except UnicodeDecodeError:
            raise InputError("not a UTF-8 text file")

    rows = []
    for i, r in enumerate(raw):
        line = i + 2
        if None in r:
            raise InputError("line %d: more fields than header columns" % line)
        if all((v or "").strip() == "" for v in r.values()):
            continue  # blank line
        r = {k: (v or "").strip() for k, v in r.items()}
        if not r["model"]:
            raise InputError("line %d: empty model" % line)
        method = r["method"].lower()
        if not method:
            raise InputError("line %d: empty method" % line)
        r["method"] = method
        row = dict(r)
        wtxt = r["workers"]
        w = parse_float(wtxt, "workers", line)
        if w < 1 or w != int(w):
            raise InputError("line %d: column 'workers': expected a positive "
                             "integer, got %r" % (line, wtxt))
        row["workers"] = int(w)
        for c in FLOAT_COLS:
            row[c] = parse_float(r[c], c, line)
            if row[c] < 0:
                raise InputError("line %d: column '%s': negative value %r"
                                 % (line, c, r[c]))
        if row["bandwidth_gbps"] <= 0:
            raise InputError("line %d: column 'bandwidth_gbps': must be > 0, "
                             "got %r" % (line, r["bandwidth_gbps"]))
        if method == "none":
            row["ratio"] = None
            for c in DENSE_IRRELEVANT_KEYS:
                if c in row:
                    row[c] = ""
        elif has_variant and method not in RATIO_METHODS:
            row["ratio"] = None  # whatever the scenario said: not used
        else:
            rho = parse_float(r["ratio"], "ratio", line)
            if not 0 < rho <= 1:
                raise InputError("line %d: column 'ratio': expected 0 < ratio "
                                 "<= 1, got %r" % (line, r["ratio"]))
            row["ratio"] = rho
        row["error_feedback"] = r["error_feedback"].lower()
        set_variant(row, has_variant)
        row["_line"] = line
        rows.append(row)
    if not rows:
        raise InputError("no data rows")
    return header, rows


def set_variant(row, has_variant):
    """The row's compression configuration within a figure set.

    _vkey: None for dense rows; the variant (or, without a variant column,
    the ratio) otherwise.  _vlabel: panel titles and legends; _vshort: bar
    labels and the cells of the best-variant map.
    """
    method = row["method"]
    row["_variant_mode"] = has_variant
    if method == "none":
        row["_vkey"] = None
        row["_vlabel"] = "dense (no compression)"
        row["_vshort"] = "none" if has_variant else "dense"
        if has_variant:
            row["variant"] = ""
    elif has_variant:
        v = " ".join(row["variant"].split())
        if not v:  # an empty label: the method and its ratio
            v = method if row["ratio"] is None else \
                "%s %g%%" % (method, row["ratio"] * 100.0)
        row["variant"] = v
        row["_vkey"] = v
        row["_vlabel"] = row["_vshort"] = v
    else:
        rho = row["ratio"]
        row["_vkey"] = rho
        row["_vlabel"] = "%s, %s" % (fmt_ratio(rho),
                                     METHOD_NAMES.get(method, method))
        row["_vshort"] = fmt_ratio(rho)
    if has_variant:
        # The variant says all there is to say about the compression.
        for c in row:
            if c in VARIANT_DESCRIBED or c.startswith("compression.") or \
                    c.startswith("axis:compression."):
                row[c] = ""


def dedupe(rows, config_cols):
    """Collapse duplicate points; dense rows ignore ratio/EF/index bytes."""
    seen = {}
    out = []
    ndup = 0
    for r in rows:
        dense = r["method"] == "none"
        key = [r["model"], r["workers"], r["bandwidth_gbps"], r["_vkey"]]
        key += [r[c] for c in config_cols
                if not (dense and c in DENSE_IRRELEVANT)]
        key = tuple(key)
        if key in seen:
            first = seen[key]
            a, b = first["iteration_time_s"], r["iteration_time_s"]
            if not dense and abs(a - b) > 1e-9 * max(abs(a), abs(b), 1e-30):
                note("lines %d and %d describe the same configuration but "
                     "differ in iteration_time_s (%g vs %g); using line %d"
                     % (first["_line"], r["_line"], a, b, first["_line"]))
            ndup += 1
            continue
        seen[key] = r
        out.append(r)
    return out


# ----------------------------------------------------------------------------
# Grouping into figure sets
# ----------------------------------------------------------------------------

def distinct(values):
    out = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def sort_values(vals):
    def key(v):
        try:
            return (0, float(v), "")
        except ValueError:
            return (1, 0.0, v)
    return sorted(vals, key=key)


def safe_name(text):
    s = re.sub(r"[^A-Za-z0-9._+-]+", "_", str(text)).strip("._")
    return s or "x"


class FigureSet:
    """Rows for one set of four figures."""

    def __init__(self, model, suffix, label_bits, comp_rows, dense_rows,
                 comp_desc, dense_desc, variant_mode=False):
        self.model = model
        self.variant_mode = variant_mode  # the CSV has a variant column
        self.suffix = suffix
        self.label_bits = label_bits      # env / variant description
        self.comp = comp_rows
        self.dense = dense_rows
        self.comp_desc = comp_desc
        self.dense_desc = dense_desc

    def fname(self, kind):
        return "%s_%s%s.png" % (kind, safe_name(self.model), self.suffix)

    def subtitle(self, width_in=12.0):
        """Description of the configuration, wrapped to the figure width."""
        bits = []
        if self.comp:
            bits.append("compressed: " + self.comp_desc)
        else:
            bits.append("no compressed rows")
        if self.dense:
            bits.append("dense: " + self.dense_desc)
        else:
            bits.append("no dense rows")
        maxchars = int(width_in * 10)
        one = "; ".join(bits)
        lines = [one] if len(one) <= maxchars else bits
        if self.label_bits:
            lines.append(", ".join(self.label_bits))
        out = []
        for ln in lines:
            out += textwrap.wrap(ln, maxchars) or [""]
        return "\n".join(out)


def describe_comp(rows, header):
    if "variant" in header:
        names = [v[2] for v in variant_order(rows)]
        s = "%d variant%s" % (len(names), "" if len(names) == 1 else "s")
        if len(names) <= 6:
            s += " (" + ", ".join(names) + ")"
        algs = [a for a in distinct(r.get("algorithm", "") for r in rows)
                if a]
        if algs:
            s += ", algorithm=" + "/".join(algs)
        return s
    r = rows[0]
    m = METHOD_NAMES.get(r["method"], r["method"])
    ef = "on" if r["error_feedback"] in TRUE_WORDS else "off"
    s = "%s, error feedback %s" % (m, ef)
    if "algorithm" in header and r["algorithm"]:
        s += ", algorithm=%s" % r["algorithm"]
    return s


def build_sets(header, rows, model):
    cfg_cols = [c for c in header if c not in RESULT_COLS
                and c not in AXIS_COLS and not c.startswith("_")]
    comp_cols = [c for c in COMP_COLS if c in cfg_cols]
    env_cols = [c for c in cfg_cols if c not in COMP_COLS]
    dense_cols = [c for c in DENSE_COLS if c in cfg_cols]

    mrows = [r for r in rows if r["model"] == model]
    comp_all = [r for r in mrows if r["method"] != "none"]
    dense_all = [r for r in mrows if r["method"] == "none"]

    env_vary = [c for c in env_cols if varies(mrows, c)]
    comp_vary = [c for c in comp_cols if varies(comp_all, c)]

    def envkey(r):
        return tuple(r[c] for c in env_vary)

    def compkey(r):
        return tuple(r[c] for c in comp_vary)

    env_groups = sort_values_tuples(distinct(envkey(r) for r in mrows))
    sets = []
    for ek in env_groups:
        env_comp = [r for r in comp_all if envkey(r) == ek]
        env_dense = [r for r in dense_all if envkey(r) == ek]
        ckeys = sort_values_tuples(distinct(compkey(r) for r in env_comp))
        if not ckeys:
            ckeys = [None]
        for ck in ckeys:
            crows = [r for r in env_comp if ck is not None and compkey(r) == ck]
            drows, ddesc = pick_dense(env_dense, crows, dense_cols)
            suffix_bits = ["%s-%s" % (c, v) for c, v in zip(env_vary, ek)]
            label_bits = ["%s=%s" % (c, v) for c, v in zip(env_vary, ek)]
            if ck is not None:
                suffix_bits += ["%s-%s" % (c, v) for c, v in zip(comp_vary, ck)]
                label_bits += ["%s=%s" % (c, v) for c, v in zip(comp_vary, ck)
                               if c not in ("method", "error_feedback",
                                            "algorithm")]
            suffix = "".join("_" + safe_name(b) for b in suffix_bits)
            cdesc = describe_comp(crows, header) if crows else ""
            sets.append(FigureSet(model, suffix, label_bits, crows, drows,
                                  cdesc, ddesc, "variant" in header))
    return sets


def coord(r):
    """The plotted coordinates of a row."""
    return (r["workers"], r["bandwidth_gbps"], r["_vkey"])


def varies(rows, col):
    """True if `col` takes several values at the same plotted coordinates.

    A column that is a function of the plotted coordinates (for instance
    intra_bandwidth_gbps set equal to bandwidth_gbps, or algorithm "ring" for
    dense and "allgather" for compressed rows) is not a separate dimension and
    does not split the figures.
    """
    seen = {}
    for r in rows:
        v = seen.setdefault(coord(r), r[col])
        if v != r[col]:
            return True
    return False


def sort_values_tuples(keys):
    def key(t):
        out = []
        for v in t:
            try:
                out.append((0, float(v), ""))
            except (TypeError, ValueError):
                out.append((1, 0.0, str(v)))
        return out
    return sorted(keys, key=key)


def pick_dense(dense_rows, comp_rows, dense_cols):
    """Choose the dense baseline rows (one dense configuration)."""
    if not dense_rows:
        return [], ""

    def dkey(r):
        return tuple(r[c] for c in dense_cols)

    if not any(varies(dense_rows, c) for c in dense_cols):
        # One dense setting per (P, bandwidth): nothing to choose.
        return dense_rows, dense_desc(dense_rows)
    counts = collections.Counter(dkey(r) for r in dense_rows)
    chosen = None
    how = ""
    if comp_rows:
        # the dense setting of most compressed rows, if there are such dense
        # rows (with one compressed configuration: its setting)
        match = collections.Counter(dkey(r) for r in comp_rows
                                    if dkey(r) in counts)
        if match:
            chosen = match.most_common(1)[0][0]
            if len(counts) > 1:
                how = "matching the compressed rows"
    if chosen is None:
        chosen = counts.most_common(1)[0][0]
        if len(counts) > 1:
            how = "most common of %d dense settings" % len(counts)
    rows = [r for r in dense_rows if dkey(r) == chosen]
    desc = dense_desc(rows)
    if how:
        vc = [(c, v) for c, v in zip(dense_cols, chosen)
              if c in ("algorithm",) or varies(dense_rows, c)]
        desc = ", ".join("%s=%s" % cv for cv in vc) + " (" + how + ")"
    return rows, desc


def dense_desc(rows):
    algs = distinct(r.get("algorithm", "") for r in rows)
    algs = [a for a in algs if a]
    if not algs:
        return "uncompressed"
    return "algorithm=" + "/".join(algs)


# ----------------------------------------------------------------------------
# Plot helpers
# ----------------------------------------------------------------------------

def fmt_ratio(rho):
    return "ρ=%g" % rho


def fmt_bw(b):
    return "%g Gb/s" % b


def bw_colors(bws):
    cmap = plt.get_cmap("viridis")
    n = len(bws)
    return {b: cmap(0.1 + 0.75 * (i / max(n - 1, 1))) for i, b in enumerate(bws)}


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]


def natural_key(text):
    """"qsgd 4-bit" before "qsgd 16-bit"; numbers compare as numbers."""
    out = []
    for part in re.split(r"(\d+(?:\.\d+)?)", str(text)):
        if not part:
            continue
        try:
            out.append((0, float(part), ""))
        except ValueError:
            out.append((1, 0.0, part))
    return out


def variant_order(comp_rows):
    """[(vkey, label, short)] of the compressed configurations, in the order
    of panels and legends: without a variant column ratios large to small;
    with one by method (METHOD_ORDER, then by name), ratio large to small,
    then the label (numbers compared as numbers)."""
    first = {}
    for r in comp_rows:
        first.setdefault(r["_vkey"], r)

    def key(r):
        if not r["_variant_mode"]:
            return (-r["ratio"],)
        m = r["method"]
        rank = METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER)
        rho = r["ratio"] if r["ratio"] is not None else 0.0
        return (rank, m, -rho, natural_key(r["_vlabel"]))
    rows = sorted(first.values(), key=key)
    return [(r["_vkey"], r["_vlabel"], r["_vshort"]) for r in rows]


def panels_for(fs):
    """[(title, rows)] -- dense first, then each variant (variant_order)."""
    out = []
    if fs.dense:
        out.append(("dense (no compression)", fs.dense))
    for vkey, label, _short in variant_order(fs.comp):
        out.append((label, [r for r in fs.comp if r["_vkey"] == vkey]))
    return out


def grid(n, maxcols=4):
    ncols = min(n, maxcols)
    nrows = int(math.ceil(n / float(ncols)))
    return nrows, ncols


def set_log2_x(ax, ps):
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(mticker.FixedLocator(ps))
    ax.xaxis.set_major_formatter(mticker.FixedFormatter([str(p) for p in ps]))
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.set_xlim(ps[0] / 1.3, ps[-1] * 1.3)
    if len(ps) > 7:
        ax.tick_params(axis="x", labelsize=8)


def hide_unused(axes, used):
    for ax in axes[used:]:
        ax.set_visible(False)


def line_figure(fs, kind):
    """Efficiency or speedup vs P."""
    panels = panels_for(fs)
    allrows = fs.dense + fs.comp
    ps = sorted({r["workers"] for r in allrows})
    bws = sorted({r["bandwidth_gbps"] for r in allrows})
    colors = bw_colors(bws)
    nrows, ncols = grid(len(panels))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.9 * ncols + 1.6,
                                                    3.5 * nrows + 1.0),
                             sharey=True, squeeze=False)
    axes = axes.ravel()
    handles = {}
    col = "efficiency_weak" if kind == "efficiency" else "speedup"
    if kind == "speedup":
        pos_vals = [r[col] for r in allrows if r[col] > 0]
        ylo = min(min(pos_vals or [1.0]), float(ps[0])) / 1.3
        yhi = max(max(pos_vals or [1.0]), float(ps[-1])) * 1.3
        e0, e1 = int(math.floor(math.log2(ylo))), int(math.ceil(math.log2(yhi)))
        step = max(1, int(math.ceil((e1 - e0 + 1) / 12.0)))
        yticks = [2.0 ** e for e in range(e0, e1 + 1) if e % step == 0]
    for ax, (title, prow) in zip(axes, panels):
        for i, b in enumerate(bws):
            pts = sorted((r["workers"], r[col]) for r in prow
                         if r["bandwidth_gbps"] == b)
            if not pts:
                continue
            x, y = zip(*pts)
            h, = ax.plot(x, y, marker=MARKERS[i % len(MARKERS)], ms=4,
                         lw=1.5, color=colors[b], label=fmt_bw(b))
            handles[b] = h
        set_log2_x(ax, ps)
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.set_xlabel("workers P")
        if kind == "efficiency":
            ax.set_ylim(0, 1.05)
            ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        else:
            ax.set_yscale("log", base=2)
            ax.yaxis.set_major_locator(mticker.FixedLocator(yticks))
            ax.yaxis.set_major_formatter(mticker.FuncFormatter(
                lambda v, _pos: "%g" % v))
            ax.yaxis.set_minor_locator(mticker.NullLocator())
            ax.set_ylim(ylo, yhi)
            ideal, = ax.plot(ps, ps, ls="--", color="black", lw=1.0,
                             label="ideal (speedup = P)", zorder=1)
            handles["ideal"] = ideal
    for r in range(nrows):
        a = axes[r * ncols]
        a.set_ylabel("weak-scaling efficiency T(1)/T(P)" if kind ==
                     "efficiency" else "speedup P·T(1)/T(P)  (×)")
    if kind == "speedup":
        for ax in axes[:len(panels)]:
            ax.tick_params(axis="y", labelsize=8)
    hide_unused(axes, len(panels))
    order = [b for b in bws if b in handles]
    labels = ["B = " + fmt_bw(b) for b in order]
    hs = [handles[b] for b in order]
    if "ideal" in handles:
        hs.append(handles["ideal"])
        labels.append("ideal (speedup = P)")
    leg_title = "inter-node\nbandwidth"
    what = ("weak-scaling efficiency" if kind == "efficiency"
            else "weak-scaling speedup")
    fig.suptitle("%s: %s vs workers\n%s"
                 % (fs.model, what, fs.subtitle(fig.get_figwidth())),
                 fontsize=11)
    fig.legend(hs, labels, loc="center right", fontsize=8,
               title=leg_title, title_fontsize=8, frameon=True)
    fig.tight_layout(rect=(0, 0, 1 - 1.45 / fig.get_figwidth(), 1))
    return fig


def breakdown_figure(fs):
    allrows = fs.dense + fs.comp
    ps = sorted({r["workers"] for r in allrows})
    bws = sorted({r["bandwidth_gbps"] for r in allrows})
    variants = variant_order(fs.comp)
    configs = (["dense"] if fs.dense else []) + [v[0] for v in variants]
    short = {v[0]: v[2] for v in variants}
    short["dense"] = "dense"
    pick = [ps[-1]]
    if len(ps) >= 3:
        mid = ps[(len(ps) - 1) // 2]
        if mid not in pick:
            pick.append(mid)

    index = {}
    for r in fs.dense:
        index[(r["workers"], r["bandwidth_gbps"], "dense")] = r
    for r in fs.comp:
        index[(r["workers"], r["bandwidth_gbps"], r["_vkey"])] = r

    # Bar positions: groups per bandwidth with a gap between groups.
    pos, labels, groups = [], [], []
    x = 0.0
    for b in bws:
        start = x
        for c in configs:
            pos.append((x, b, c))
            labels.append(short[c])
            x += 1.0
        groups.append((b, start, x - 1.0))
        x += 0.7
    nbars = len(pos)
    maxlen = max(len(l) for l in labels)
    tilt = nbars > 24 or maxlen > 9  # long variant names: tilted labels
    width_in = max(8.5, 0.62 * nbars + 4.0)
    fig, axes = plt.subplots(len(pick), 1,
                             figsize=(width_in, 3.5 * len(pick) + 1.1),
                             squeeze=False)
    parts = [("compute_s", "compute", "#4C72B0"),
             ("exposed_compression_s", "exposed compression", "#DD8452"),
             ("exposed_comm_s", "exposed communication", "#C44E52")]
    handles = []
    for ax, p in zip(axes[:, 0], pick):
        xs = [q[0] for q in pos]
        bottom = np.zeros(nbars)
        vals_tot = []
        for col, lab, colr in parts:
            v = np.array([index[(p, b, c)][col] * 1e3
                          if (p, b, c) in index else np.nan
                          for _, b, c in pos])
            h = ax.bar(xs, np.nan_to_num(v), 0.8, bottom=bottom, color=colr,
                       label=lab, edgecolor="white", linewidth=0.4)
            if len(handles) < len(parts):
                handles.append(h)
            bottom += np.nan_to_num(v)
        for (xx, b, c), tot in zip(pos, bottom):
            if (p, b, c) not in index:
                ax.text(xx, 0, "n/a", ha="center", va="bottom", fontsize=7,
                        color="0.4")
                continue
            vals_tot.append(max(tot, index[(p, b, c)]["iteration_time_s"]
                                * 1e3))
        # Clip the y axis above isolated outliers (> 2.5x the next bar) so
        # the other bars stay readable; clipped bars are marked.
        tops = sorted(vals_tot, reverse=True)
        while len(tops) > 1 and tops[0] > 2.5 * tops[1]:
            tops.pop(0)
        top = tops[0] if tops and tops[0] > 0 else 1.0
        ymax = top * 1.16
        ax.set_ylim(0, ymax)
        rot = 90 if nbars > 24 else 0
        clipped = False
        for (xx, b, c), tot in zip(pos, bottom):
            if (p, b, c) not in index:
                continue
            t = index[(p, b, c)]["iteration_time_s"] * 1e3
            if max(tot, t) > ymax:
                clipped = True
                ax.text(xx, ymax * 0.985, "≈\n" + fmt_ms(t) + "\n(clipped)",
                        ha="center", va="top", fontsize=6.5, color="white",
                        fontweight="bold", linespacing=1.0)
            else:
                ax.text(xx, tot + ymax * 0.01, fmt_ms(t), ha="center",
                        va="bottom", fontsize=6.5, rotation=rot)
        ax.set_xticks(xs)
        ax.set_xticklabels(labels, fontsize=8,
                           rotation=45 if tilt else 0,
                           ha="right" if tilt else "center",
                           rotation_mode="anchor")
        ax.set_xlim(-0.7, pos[-1][0] + 0.7)
        for b, s, e in groups:
            ax.annotate("B = " + fmt_bw(b), xy=((s + e) / 2.0, 0),
                        xycoords=("data", "axes fraction"),
                        xytext=(0, -max(38, 12 + 3.6 * maxlen) if tilt
                                else -18),
                        textcoords="offset points", ha="center", va="top",
                        fontsize=9, fontweight="bold")
        for (b, s, e), nxt in zip(groups[:-1], groups[1:]):
            ax.axvline((e + nxt[1]) / 2.0, color="0.75", lw=0.8, ls=":")
        ax.set_ylabel("iteration time (ms)")
        ax.set_title("P = %d workers%s" % (p, "  (y axis clipped; "
                     "clipped bars labelled with their total)" if clipped
                     else ""), fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        ax.set_axisbelow(True)
    fig.suptitle("%s: iteration-time breakdown (bar labels: total ms)\n%s"
                 % (fs.model, fs.subtitle(fig.get_figwidth())), fontsize=11)
    fig.legend(handles, [h.get_label() for h in handles],
               loc="center right", fontsize=8, ncol=1, frameon=True,
               title="iteration time\nsplit into", title_fontsize=8)
    fig.tight_layout(rect=(0, 0, 1 - 1.75 / fig.get_figwidth(), 1))
    return fig


def fmt_ms(t):
    if t >= 100:
        return "%.0f" % t
    if t >= 10:
        return "%.1f" % t
    return "%.2f" % t


def fmt_x(v):
    if v >= 100:
        return "%.0f×" % v
    if v >= 10:
        return "%.1f×" % v
    return "%.2f×" % v


def heatmap_data(fs):
    """(panels, cells) of the heatmap.

    cells: {(vkey, P, B): T_iter(dense) / T_iter(variant)} for P > 1 where
    both rows exist; panels: [(vkey, title)], one per non-dense variant with
    at least one cell, in variant_order.
    """
    dense = {(r["workers"], r["bandwidth_gbps"]): r["iteration_time_s"]
             for r in fs.dense}
    cells = {}
    for r in fs.comp:
        if r["workers"] == 1:
            continue  # one worker exchanges nothing: the ratio is 1 by construction
        k = (r["workers"], r["bandwidth_gbps"])
        if k in dense and r["iteration_time_s"] > 0:
            cells[(r["_vkey"],) + k] = dense[k] / r["iteration_time_s"]
    have = {k[0] for k in cells}
    panels = [(vkey, label) for vkey, label, _s in variant_order(fs.comp)
              if vkey in have]
    return panels, cells


def draw_break_even(ax, z):
    """Outline the cell borders between ratio <= 1 and ratio > 1."""
    nr, nc = z.shape
    segs = []
    for i in range(nr):
        for j in range(nc):
            v = z[i, j]
            if np.isnan(v):
                continue
            if j + 1 < nc and not np.isnan(z[i, j + 1]) and \
                    (v > 1.0) != (z[i, j + 1] > 1.0):
                segs.append(([j + 0.5, j + 0.5], [i - 0.5, i + 0.5]))
            if i + 1 < nr and not np.isnan(z[i + 1, j]) and \
                    (v > 1.0) != (z[i + 1, j] > 1.0):
                segs.append(([j - 0.5, j + 0.5], [i + 0.5, i + 0.5]))
    for xs, ys in segs:
        ax.plot(xs, ys, color="black", lw=2.2, solid_capstyle="projecting")
    return bool(segs)


# The collective an "auto" exchange chose (the results' algorithm_used), as
# the heatmap's second line in a cell.
EXCHANGE_SHORT = {"ring-allgather": "allgather", "gtopk": "gtopk",
                  "sparse-allreduce": "sparse-AR"}


def auto_choices(fs):
    """{(vkey, P, B): what an "auto" variant ran} for the rows whose variant
    says auto-exchange: its algorithm_used, shortened ("allgather", "gtopk",
    "sparse-AR", or "dense" for a dense allreduce), "+"-joined when the
    buckets differ."""
    out = {}
    for r in fs.comp:
        if "auto-exchange" not in r.get("_vlabel", "") or r["workers"] == 1:
            continue
        used = [EXCHANGE_SHORT.get(a, "dense")
                for a in str(r.get("algorithm_used", "")).split("+") if a]
        out[(r["_vkey"], r["workers"], r["bandwidth_gbps"])] = \
            "+".join(sorted(set(used)))
    return out


def heatmap_figure(fs, panels, cells):
    """One panel per entry of panels (heatmap_data); fig.panel_axes lists
    the panels' axes. A cell of an "auto" exchange variant also names the
    exchange it chose (auto_choices)."""
    chosen = auto_choices(fs)
    ps = sorted({k[1] for k in cells})
    bws = sorted({k[2] for k in cells})
    vals = np.array(list(cells.values()))
    m = max(float(np.max(vals)), 1.0 / float(np.min(vals)), 1.05)
    norm = mcolors.LogNorm(vmin=1.0 / m, vmax=m)
    cmap = plt.get_cmap("RdBu").copy()
    cmap.set_bad("0.85")
    nrows, ncols = grid(len(panels), 4 if len(ps) <= 6
                        else 2 if len(ps) <= 12 else 1)
    cw = max(3.6, 0.62 * len(ps) + 1.3)
    ch = max(2.4, 0.42 * len(bws) + 1.3)
    fig, axes = plt.subplots(nrows, ncols,
                             figsize=(cw * ncols + 1.4, ch * nrows + 1.1),
                             squeeze=False)
    axes = axes.ravel()
    im = None
    annot_fs = 8
    for ax, (vkey, title) in zip(axes, panels):
        z = np.full((len(bws), len(ps)), np.nan)
        for i, b in enumerate(bws):
            for j, p in enumerate(ps):
                v = cells.get((vkey, p, b))
                if v is not None:
                    z[i, j] = v
        zm = np.ma.masked_invalid(z)
        im = ax.imshow(zm, cmap=cmap, norm=norm, origin="lower",
                       aspect="auto", interpolation="nearest")
        for i in range(len(bws)):
            for j in range(len(ps)):
                v = z[i, j]
                if np.isnan(v):
                    ax.text(j, i, "n/a", ha="center", va="center",
                            fontsize=annot_fs, color="0.4")
                    continue
                rgba = cmap(norm(v))
                lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
                c = chosen.get((vkey, ps[j], bws[i]))
                ax.text(j, i, fmt_x(v) + ("\n" + c if c else ""),
                        ha="center", va="center",
                        fontsize=annot_fs - (2 if c else 0),
                        color="white" if lum < 0.5 else "black")
        draw_break_even(ax, z)
        ax.set_xticks(range(len(ps)))
        ax.set_xticklabels([str(p) for p in ps], fontsize=8)
        ax.set_yticks(range(len(bws)))
        ax.set_yticklabels(["%g" % b for b in bws], fontsize=8)
        ax.set_xlabel("workers P")
        ax.set_ylabel("inter-node bandwidth B (Gb/s)")
        ax.set_title(title, fontsize=10)
    hide_unused(axes, len(panels))
    fig.panel_axes = list(axes[:len(panels)])
    fig.suptitle("%s: speedup of compression over dense, "
                 "T_iter(dense) / T_iter(compressed)\n"
                 "blue > 1: compression faster, red < 1: dense faster; "
                 "black line: break-even (= 1)\n%s"
                 % (fs.model, fs.subtitle(fig.get_figwidth())), fontsize=10)
    fig.tight_layout(rect=(0, 0, 1 - 1.3 / fig.get_figwidth(), 1))
    cax = fig.add_axes([1 - 1.05 / fig.get_figwidth(), 0.15,
                        0.22 / fig.get_figwidth(), 0.65])
    cb = fig.colorbar(im, cax=cax)
    cb.set_label("T_iter(dense) / T_iter(compressed)  (×)", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    cb.ax.yaxis.set_major_locator(mticker.LogLocator(base=10.0,
                                                     subs=(1.0, 2.0, 5.0)))
    cb.ax.yaxis.set_major_formatter(mticker.FuncFormatter(
        lambda v, _pos: "%g" % float("%.2g" % v)))
    cb.ax.yaxis.set_minor_formatter(mticker.NullFormatter())
    return fig


BestCell = collections.namedtuple(
    "BestCell", "vkey short time_s dense_time_s speedup")
BestCell.__doc__ = """The fastest configuration at one (P, B): vkey None and
short "none" when dense is fastest; speedup = dense_time_s / time_s."""


def best_variant_table(fs):
    """{(P, B): BestCell} for every P > 1 and bandwidth with a dense row.

    The fastest of the dense row and the compressed rows at that point (the
    lowest iteration_time_s); a tie goes to dense, then to the variant first
    in variant_order.
    """
    dense = {(r["workers"], r["bandwidth_gbps"]): r for r in fs.dense
             if r["workers"] > 1}
    order = {v[0]: i for i, v in enumerate(variant_order(fs.comp))}
    cands = {k: [(r["iteration_time_s"], -1, None, "none")]
             for k, r in dense.items()}
    for r in fs.comp:
        k = (r["workers"], r["bandwidth_gbps"])
        if k in cands:
            cands[k].append((r["iteration_time_s"], order[r["_vkey"]],
                             r["_vkey"], r["_vshort"]))
    table = {}
    for k, cs in cands.items():
        t, _i, vkey, short = min(cs, key=lambda c: (c[0], c[1]))
        td = dense[k]["iteration_time_s"]
        table[k] = BestCell(vkey, short, t, td,
                            td / t if t > 0 else float("inf"))
    return table


def best_cell_text(cell, chosen=None):
    """The annotation of a cell: the variant's name and its speedup over
    dense ("topk 1%\n3.20×"), or "none" where dense is fastest; with
    chosen (an "auto" variant's exchange, auto_choices) that too."""
    if cell.vkey is None:
        return "none"
    name = cell.short + ("\n" + chosen if chosen else "")
    if math.isinf(cell.speedup):
        return "%s\n∞" % name
    return "%s\n%s" % (name, fmt_x(cell.speedup))


# Colours of the best-variant map: dense grey, the variants in variant_order.
BEST_COLORS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3",
               "#937860", "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]
DENSE_COLOR = "#D9D9D9"


def best_figure(fs, table):
    """Categorical map of the fastest configuration over P (log2) x B."""
    chosen = auto_choices(fs)
    ps = sorted({k[0] for k in table})
    bws = sorted({k[1] for k in table})
    variants = variant_order(fs.comp)
    keys = [None] + [v[0] for v in variants]
    names = ["none (dense)"] + [v[1] for v in variants]
    if len(variants) <= len(BEST_COLORS):
        vcolors = BEST_COLORS[:len(variants)]
    else:  # many variants: 20 colours, then they repeat
        tab = plt.get_cmap("tab20")
        vcolors = [mcolors.to_hex(tab((2 * i + i // 10) % 20))
                   for i in range(len(variants))]
    colors = [DENSE_COLOR] + vcolors
    idx = {k: i for i, k in enumerate(keys)}
    z = np.full((len(bws), len(ps)), np.nan)
    for (p, b), c in table.items():
        z[bws.index(b), ps.index(p)] = idx[c.vkey]
    # Cells centred on log2(P); edges half-way between neighbours.
    lx = [math.log2(p) for p in ps]
    xe = [lx[0] - (lx[1] - lx[0]) / 2.0]
    xe += [(a + b) / 2.0 for a, b in zip(lx[:-1], lx[1:])]
    xe += [lx[-1] + (lx[-1] - lx[-2]) / 2.0]
    ye = [i - 0.5 for i in range(len(bws) + 1)]
    cmap = mcolors.ListedColormap(colors)
    cmap.set_bad("0.97")
    norm = mcolors.BoundaryNorm([i - 0.5 for i in range(len(keys) + 1)],
                                len(keys))
    longest = max([len(c.short) for c in table.values()] + [4])
    cw = max(0.9, 0.075 * longest + 0.35)
    width = max(6.0, cw * len(ps) + 4.2)
    height = max(3.2, 0.55 * len(bws) + 2.2)
    fig, ax = plt.subplots(1, 1, figsize=(width, height))
    ax.pcolormesh(xe, ye, np.ma.masked_invalid(z), cmap=cmap, norm=norm,
                  edgecolors="white", linewidth=1.0)
    for i, b in enumerate(bws):
        for j, p in enumerate(ps):
            c = table.get((p, b))
            if c is None:
                ax.text(lx[j], i, "n/a", ha="center", va="center",
                        fontsize=7, color="0.4")
                continue
            rgba = mcolors.to_rgba(colors[idx[c.vkey]])
            lum = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2]
            ax.text(lx[j], i, best_cell_text(c, chosen.get((c.vkey, p, b))),
                    ha="center", va="center",
                    fontsize=7, linespacing=1.1,
                    color="white" if lum < 0.5 else "black")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    ax.set_xticks(lx)
    ax.set_xticklabels([str(p) for p in ps], fontsize=8)
    ax.set_yticks(range(len(bws)))
    ax.set_yticklabels(["%g" % b for b in bws], fontsize=8)
    ax.set_xlabel("workers P (log2 spacing)")
    ax.set_ylabel("inter-node bandwidth B (Gb/s)")
    won = {c.vkey for c in table.values()}
    handles = [mpatches.Patch(facecolor=colors[i], edgecolor="0.6",
                              label=names[i])
               for i, k in enumerate(keys) if k in won]
    fig.suptitle("%s: fastest configuration (lowest iteration time) per "
                 "point\ncell text: the variant and T_iter(dense) / "
                 "T_iter(variant); \"none\": dense is fastest\n%s"
                 % (fs.model, fs.subtitle(width)), fontsize=10)
    fig.legend(handles=handles, loc="center right", fontsize=8,
               title="fastest", title_fontsize=8, frameon=True)
    legw = 0.3 + 0.065 * max(len(h.get_label()) for h in handles)
    fig.tight_layout(rect=(0, 0, 1 - (legw + 0.5) / width, 1))
    fig.panel_axes = [ax]
    return fig


# ----------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------

def _file_mode():
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def save_atomic(fig, outdir, name):
    final = os.path.join(outdir, name)
    fd, tmp = tempfile.mkstemp(prefix="." + name + ".", suffix=".tmp",
                               dir=outdir)
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="png", dpi=DPI)
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        plt.close(fig)
    return final


def make_plots(fs, outdir):
    written = []
    tag = fs.fname("x")[2:-4]
    allrows = fs.dense + fs.comp
    ps = sorted({r["workers"] for r in allrows})
    if len(ps) < 2:
        note("%s: only one worker count (P=%d); skipping efficiency and "
             "speedup plots%s" % (tag, ps[0], "" if ps[0] > 1
                                  else " and the breakdown"))
    else:
        for kind in ("efficiency", "speedup"):
            written.append(save_atomic(line_figure(fs, kind), outdir,
                                       fs.fname(kind)))
    if len(ps) >= 2 or ps[0] > 1:
        written.append(save_atomic(breakdown_figure(fs), outdir,
                                   fs.fname("breakdown")))
    if not fs.comp:
        note("%s: no compressed rows; skipping heatmap" % tag)
    elif not fs.dense:
        note("%s: no dense (method=none) rows; skipping heatmap" % tag)
    else:
        panels, cells = heatmap_data(fs)
        if not cells:
            note("%s: no (P, bandwidth) point has both dense and compressed "
                 "rows; skipping heatmap" % tag)
        else:
            written.append(save_atomic(heatmap_figure(fs, panels, cells),
                                       outdir, fs.fname("heatmap")))
    if fs.variant_mode:
        ps_multi = sorted({r["workers"] for r in fs.dense if r["workers"] > 1})
        if not fs.dense:
            note("%s: no dense (method=none) rows; skipping best-variant map"
                 % tag)
        elif len(ps_multi) < 2:
            note("%s: fewer than two worker counts P > 1 with dense rows; "
                 "skipping best-variant map" % tag)
        else:
            written.append(save_atomic(best_figure(fs, best_variant_table(fs)),
                                       outdir, fs.fname("best")))
    return written


def config_columns(header):
    """The columns that tell configurations apart (dedupe's key)."""
    return [c for c in header if c not in RESULT_COLS and c not in AXIS_COLS]


def figure_sets(path, models=None):
    """The figure sets of a results CSV (all models, or those named), as
    main draws them; raises InputError for bad input."""
    header, rows = read_rows(path)
    rows = dedupe(rows, config_columns(header))
    if models is None:
        models = distinct(r["model"] for r in rows)
    return [fs for m in models for fs in build_sets(header, rows, m)]


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Plot a gcsim sweep's results.csv as PNGs.")
    ap.add_argument("csv", metavar="RESULTS_CSV")
    ap.add_argument("--out", required=True, metavar="DIR",
                    help="output directory (created if missing)")
    ap.add_argument("--model", nargs="+", action="append", metavar="NAME",
                    help="plot only these models (default: all)")
    args = ap.parse_args(argv)

    try:
        header, rows = read_rows(args.csv)
        models = distinct(r["model"] for r in rows)
        if args.model:
            wanted = distinct(m for grp in args.model for m in grp)
            unknown = [m for m in wanted if m not in models]
            if unknown:
                raise InputError("no rows for model%s %s (models present: %s)"
                                 % ("s" if len(unknown) > 1 else "",
                                    ", ".join(unknown), ", ".join(models)))
            models = wanted
        rows = dedupe(rows, config_columns(header))
    except InputError as e:
        print("%s: %s: %s" % (PROG, args.csv, e), file=sys.stderr)
        return 2

    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as e:
        print("%s: %s: cannot create output directory: %s"
              % (PROG, args.out, e.strerror or e), file=sys.stderr)
        return 2

    load_matplotlib()
    written = []
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10})
    try:
        for model in models:
            for fs in build_sets(header, rows, model):
                written += make_plots(fs, args.out)
    except OSError as e:
        print("%s: %s: cannot write plot: %s"
              % (PROG, args.out, e.strerror or e), file=sys.stderr)
        for w in written:
            print(w)
        return 1
    for w in written:
        print(w)
    return 0


if __name__ == "__main__":
    sys.exit(main())
