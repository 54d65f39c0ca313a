#!/usr/bin/python3
"""Tests for tools/plot_sweep.py.

Run with either of
    /usr/bin/python3 -m unittest tests/test_plot_sweep.py
    /usr/bin/python3 tests/test_plot_sweep.py
"""

import csv
import importlib.util
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "tools", "plot_sweep.py")
PYTHON = sys.executable or "/usr/bin/python3"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KINDS = ("efficiency", "speedup", "breakdown", "heatmap")

HEADER = ("point,model,workers,gpus_per_node,topology,bandwidth_gbps,"
          "intra_bandwidth_gbps,algorithm,method,ratio,index_bytes,"
          "error_feedback,granularity,exchange,bucket_mb,overlap,backend,"
          "iteration_time_s,compute_s,compression_s,exposed_compression_s,"
          "comm_s,exposed_comm_s,bytes_sent_per_worker,"
          "bytes_received_per_worker,efficiency_weak,efficiency_strong,"
          "speedup,iteration_time_p1_s").split(",")


def synthetic_rows(models=(("resnet50", 25.6e6), ("resnet18", 11.7e6)),
                   workers=(1, 2, 4, 8), bandwidths=(1, 10),
                   ratios=(0.1, 0.01)):
    """Alpha-beta style sweep: dense ring allreduce vs top-k allgather."""
    rows = []
    point = 0
    for model, n in models:
        compute = 0.1
        for b in bandwidths:
            for p in workers:
                # method=none appears once per ratio: duplicates to dedupe
                for method in ("none", "topk"):
                    for rho in ratios:
                        if method == "none":
                            comp = 0.0
                            comm = 2.0 * (p - 1) / p * 4 * n * 8 / (b * 1e9)
                            alg, t1 = "ring", compute
                        else:
                            comp = 0.004
                            comm = (p - 1) * rho * n * 8 * 8 / (b * 1e9)
                            alg, t1 = "allgather", compute + comp
                        it = compute + comp + comm
                        eff = t1 / it
                        rows.append({
                            "point": point, "model": model, "workers": p,
                            "gpus_per_node": 1, "topology": "flat",
                            "bandwidth_gbps": b, "intra_bandwidth_gbps": 100,
                            "algorithm": alg, "method": method,
                            "ratio": rho, "index_bytes": 4,
                            "error_feedback": "true", "granularity": "layer",
                            "exchange": "sparse", "bucket_mb": 25,
                            "overlap": "false", "backend": "analytic",
                            "iteration_time_s": it, "compute_s": compute,
                            "compression_s": comp,
                            "exposed_compression_s": comp, "comm_s": comm,
                            "exposed_comm_s": comm,
                            "bytes_sent_per_worker": 0,
                            "bytes_received_per_worker": 0,
                            "efficiency_weak": eff,
                            "efficiency_strong": eff / p,
                            "speedup": p * eff, "iteration_time_p1_s": t1,
                        })
                        point += 1
    rows.reverse()  # rows may come in any order
    return rows


# The same columns with gcsim's `variant` right after `method`, and columns
# for the swept keys of "compression.method|compression.rank" and the ratio.
VHEADER = (HEADER[:HEADER.index("method") + 1] + ["variant"]
           + HEADER[HEADER.index("method") + 1:]
           + ["compression.method", "compression.rank", "compression.ratio",
              "config_hash"])

# (method, variant, ratio column): for methods without a ratio the column
# holds whatever the scenario said and must be ignored.
VARIANTS = [("none", "none", None), ("fp16", "fp16", None),
            ("powersgd", "powersgd r=4", None), ("topk", "topk 1%", 0.01),
            ("qsgd", "qsgd 4-bit", None)]
V_WORKERS = (2, 4, 8, 16)
V_BANDWIDTHS = (1, 10, 100)
# The designed winner of every (P, B) and its speedup over dense.
WINNERS = {
    (2, 1): ("topk 1%", 3.0), (4, 1): ("topk 1%", 2.5),
    (8, 1): ("powersgd r=4", 4.0), (16, 1): ("powersgd r=4", 6.0),
    (2, 10): ("fp16", 1.5), (4, 10): ("qsgd 4-bit", 1.8),
    (8, 10): ("qsgd 4-bit", 2.2), (16, 10): ("powersgd r=4", 2.0),
    (2, 100): ("none", 1.0), (4, 100): ("none", 1.0),
    (8, 100): ("none", 1.0), (16, 100): ("fp16", 1.25),
}
# A runner-up that also beats dense (so "first variant faster than dense"
# would pick it: it comes before the winner in the panel order).
RUNNER_UP = {(2, 1): "fp16", (8, 1): "fp16", (4, 10): "fp16",
             (16, 10): "qsgd 4-bit"}


def dense_time(p, b):
    return 0.1 + 1.0 * (p - 1) / p / b


def variant_time(variant, p, b):
    td = dense_time(p, b)
    win, s = WINNERS[(p, b)]
    if variant == "none":
        return td
    if variant == win:
        return td / s
    if RUNNER_UP.get((p, b)) == variant:
        return td / s * 1.1
    return td * (1.2 + 0.1 * [v[1] for v in VARIANTS].index(variant))


def variant_rows(extra=None):
    """A sweep over method variants x P x bandwidth with known winners,
    P = 1 included; dense rows twice (two ratios, two ranks) and fp16 rows
    twice (two ratio values, error feedback on and off): duplicates."""
    rows = []
    point = 0
    for b in V_BANDWIDTHS:
        for p in (1,) + V_WORKERS:
            for method, variant, rho in VARIANTS:
                it = 0.1 + (0.0 if method == "none" else 0.002) if p == 1 \
                    else variant_time(variant, p, b)
                copies = [(rho, 4, "true")]
                if method == "none":
                    copies = [(0.01, 4, "true"), (0.1, 1, "true")]
                elif method == "fp16":
                    copies = [(0.01, 4, "true"), (1, 4, "false")]
                elif method == "qsgd":
                    copies = [(0, 4, "true")]  # out of range, yet ignored
                for ratio, rank, ef in copies:
                    comp = 0.0 if method == "none" else 0.002
                    row = {
                        "point": point, "model": "resnet50", "workers": p,
                        "gpus_per_node": 1, "topology": "flat",
                        "bandwidth_gbps": b, "intra_bandwidth_gbps": 100,
                        "algorithm": "allgather" if method == "topk"
                        else "ring",
                        "method": method, "variant": variant, "ratio": ratio,
                        "index_bytes": 4, "error_feedback": ef,
                        "granularity": "bucket", "exchange": "sparse",
                        "bucket_mb": 25, "overlap": "true",
                        "backend": "analytic", "iteration_time_s": it,
                        "compute_s": 0.1, "compression_s": comp,
                        "exposed_compression_s": comp,
                        "comm_s": max(it - 0.1 - comp, 0.0),
                        "exposed_comm_s": max(it - 0.1 - comp, 0.0),
                        "bytes_sent_per_worker": 0,
                        "bytes_received_per_worker": 0,
                        "efficiency_weak": 0.1 / it,
                        "efficiency_strong": 0.1 / it / p,
                        "speedup": p * 0.1 / it,
                        "iteration_time_p1_s": 0.1,
                        "compression.method": method,
                        "compression.rank": rank,
                        "compression.ratio": ratio,
                        "config_hash": "%016x" % (point * 7919),
                    }
                    if extra:
                        row.update(extra)
                    rows.append(row)
                    point += 1
    rows.reverse()
    return rows


def load_module():
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLCONFIGDIR", tempfile.gettempdir())
    spec = importlib.util.spec_from_file_location("plot_sweep", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.load_matplotlib()
    return mod


def write_csv(path, rows, header=HEADER):
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def run(*args):
    env = dict(os.environ, MPLBACKEND="Agg")
    env.setdefault("MPLCONFIGDIR", tempfile.gettempdir())
    return subprocess.run([PYTHON, SCRIPT] + list(args), capture_output=True,
                          text=True, timeout=120, env=env)


def pngs(d):
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if f.endswith(".png"))


class PlotSweepTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_plot_sweep.")
        self.out = os.path.join(self.tmp, "plots")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_bad_input(self, res, csv_path):
        self.assertEqual(res.returncode, 2, res.stderr)
        lines = res.stderr.splitlines()
        self.assertEqual(len(lines), 1, res.stderr)
        self.assertTrue(lines[0].startswith("plot_sweep: %s: " % csv_path),
                        lines[0])
        self.assertEqual(res.stdout, "")
        self.assertEqual(pngs(self.out), [])
        if os.path.isdir(self.out):
            self.assertEqual(os.listdir(self.out), [])

    def test_writes_four_valid_pngs_per_model(self):
        path = os.path.join(self.tmp, "results.csv")
        write_csv(path, synthetic_rows())
        res = run(path, "--out", self.out)
        self.assertEqual(res.returncode, 0, res.stderr)
        expected = sorted("%s_%s.png" % (k, m) for k in KINDS
                          for m in ("resnet50", "resnet18"))
        self.assertEqual(pngs(self.out), expected)
        # nothing else (no temp files) left behind
        self.assertEqual(sorted(os.listdir(self.out)), expected)
        for name in expected:
            with open(os.path.join(self.out, name), "rb") as fh:
                data = fh.read()
            self.assertTrue(data.startswith(PNG_MAGIC), name)
            self.assertGreater(len(data), 10000, name)
        printed = sorted(os.path.basename(l) for l in res.stdout.split())
        self.assertEqual(printed, expected)

    def test_model_filter(self):
        path = os.path.join(self.tmp, "results.csv")
        write_csv(path, synthetic_rows())
        res = run(path, "--out", self.out, "--model", "resnet18")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(pngs(self.out),
                         sorted("%s_resnet18.png" % k for k in KINDS))

    def test_sweep_axis_and_hash_columns_do_not_split_figures(self):
        # gcsim sweep appends a column per swept key and config_hash (unique
        # per configuration); keys that mirror the plotted columns, and the
        # ratio of dense rows, are not extra dimensions.
        rows = synthetic_rows()
        for i, r in enumerate(rows):
            r["cluster.workers"] = r["workers"]
            r["compression.method"] = r["method"]
            r["compression.ratio"] = r["ratio"]
            r["config_hash"] = "%016x" % (i * 7919)
        path = os.path.join(self.tmp, "results.csv")
        write_csv(path, rows, HEADER + ["cluster.workers", "compression.method",
                                        "compression.ratio", "config_hash"])
        res = run(path, "--out", self.out, "--model", "resnet18")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(pngs(self.out),
                         sorted("%s_resnet18.png" % k for k in KINDS))

    def test_missing_required_column(self):
        path = os.path.join(self.tmp, "results.csv")
        header = [c for c in HEADER if c != "exposed_comm_s"]
        write_csv(path, synthetic_rows(), header)
        res = run(path, "--out", self.out)
        self.assert_bad_input(res, path)
        self.assertIn("exposed_comm_s", res.stderr)

    def test_nonexistent_file(self):
        path = os.path.join(self.tmp, "does_not_exist.csv")
        res = run(path, "--out", self.out)
        self.assert_bad_input(res, path)
        self.assertFalse(os.path.exists(self.out))

    def test_non_numeric_value(self):
        path = os.path.join(self.tmp, "results.csv")
        rows = synthetic_rows()
        rows[-1]["iteration_time_s"] = "fast"
        write_csv(path, rows)
        res = run(path, "--out", self.out)
        self.assert_bad_input(res, path)
        self.assertIn("iteration_time_s", res.stderr)

    def test_no_rows(self):
        path = os.path.join(self.tmp, "results.csv")
        write_csv(path, [])
        res = run(path, "--out", self.out)
        self.assert_bad_input(res, path)


class VariantTest(unittest.TestCase):
    """results.csv with a `variant` column (several compression methods)."""

    @classmethod
    def setUpClass(cls):
        cls.ps = load_module()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="test_plot_sweep.")
        self.out = os.path.join(self.tmp, "plots")
        self.csv = os.path.join(self.tmp, "results.csv")

    def tearDown(self):
        self.ps.plt.close("all")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def one_set(self, rows=None):
        write_csv(self.csv, rows or variant_rows(), VHEADER)
        sets = self.ps.figure_sets(self.csv)
        self.assertEqual(len(sets), 1, [fs.suffix for fs in sets])
        return sets[0]

    def test_variant_csv_writes_five_figures_without_splits(self):
        write_csv(self.csv, variant_rows(), VHEADER)
        res = run(self.csv, "--out", self.out)
        self.assertEqual(res.returncode, 0, res.stderr)
        expected = sorted("%s_resnet50.png" % k for k in KINDS + ("best",))
        self.assertEqual(sorted(os.listdir(self.out)), expected)
        for name in expected:
            with open(os.path.join(self.out, name), "rb") as fh:
                self.assertTrue(fh.read(8) == PNG_MAGIC, name)
        printed = sorted(os.path.basename(l) for l in res.stdout.split())
        self.assertEqual(printed, expected)

    def test_duplicates_collapse(self):
        fs = self.one_set()
        npoint = len(V_BANDWIDTHS) * (1 + len(V_WORKERS))
        # dense rows at two ratios / ranks, fp16 at two ratios / EF: one each
        self.assertEqual(len(fs.dense), npoint)
        self.assertEqual(len(fs.comp), npoint * (len(VARIANTS) - 1))

    def test_best_variant_table(self):
        fs = self.one_set()
        table = self.ps.best_variant_table(fs)
        # P = 1 exchanges nothing: not in the table
        self.assertEqual(set(table), set(WINNERS))
        for k, (win, s) in WINNERS.items():
            cell = table[k]
            self.assertEqual(cell.short, win, k)
            self.assertEqual(cell.vkey is None, win == "none", k)
            self.assertTrue(math.isclose(cell.speedup, s, rel_tol=1e-6),
                            (k, cell.speedup, s))
            self.assertTrue(math.isclose(cell.dense_time_s, dense_time(*k),
                                         rel_tol=1e-6), k)
        self.assertEqual(self.ps.best_cell_text(table[(2, 100)]), "none")
        self.assertEqual(self.ps.best_cell_text(table[(2, 1)]),
                         "topk 1%\n3.00×")
        fig = self.ps.best_figure(fs, table)
        self.assertEqual(len(fig.panel_axes), 1)
        texts = {t.get_text() for t in fig.panel_axes[0].texts}
        self.assertIn("powersgd r=4\n6.00×", texts)
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        self.assertEqual(legend, ["none (dense)", "fp16", "qsgd 4-bit",
                                  "powersgd r=4", "topk 1%"])

    def test_one_heatmap_panel_per_non_dense_variant(self):
        fs = self.one_set()
        panels, cells = self.ps.heatmap_data(fs)
        self.assertEqual([t for _k, t in panels],
                         ["fp16", "qsgd 4-bit", "powersgd r=4", "topk 1%"])
        self.assertTrue(math.isclose(cells[("topk 1%", 2, 1)], 3.0,
                                     rel_tol=1e-6))
        self.assertTrue(math.isclose(cells[("fp16", 2, 1)], 3.0 / 1.1,
                                     rel_tol=1e-6))
        self.assertNotIn(("fp16", 1, 1), cells)
        fig = self.ps.heatmap_figure(fs, panels, cells)
        self.assertEqual([a.get_title() for a in fig.panel_axes],
                         [t for _k, t in panels])
        visible = [a for a in fig.axes if a.get_visible()]
        self.assertEqual(len(visible), len(panels) + 1)  # + colour bar
        # efficiency / speedup / breakdown: dense and every variant
        self.assertEqual([t for t, _r in self.ps.panels_for(fs)],
                         ["dense (no compression)", "fp16", "qsgd 4-bit",
                          "powersgd r=4", "topk 1%"])

    def test_auto_exchange_cells_name_the_exchange_chosen(self):
        rows = variant_rows()
        auto = []
        for r in rows:
            if r["variant"] == "topk 1%":
                a = dict(r)
                a["variant"] = "topk 1% auto-exchange"
                a["exchange"] = "auto"
                a["point"] = r["point"] + 100000
                a["config_hash"] = "%016x" % (a["point"] * 7919)
                a["algorithm_used"] = ("gtopk" if r["workers"] >= 8 else
                                       "ring-allgather+sparse-allreduce")
                auto.append(a)
        header = VHEADER + ["algorithm_used"]
        for r in rows:
            r["algorithm_used"] = "ring"
        fs = self.one_set_with(rows + auto, header)
        choices = self.ps.auto_choices(fs)
        key = next(k for k in choices if k[1] == 16)
        self.assertEqual(choices[key], "gtopk")
        key2 = next(k for k in choices if k[1] == 2)
        self.assertEqual(choices[key2], "allgather+sparse-AR")
        self.assertFalse(any("topk 1%" == k[0] for k in choices))  # only the auto variant
        panels, cells = self.ps.heatmap_data(fs)
        fig = self.ps.heatmap_figure(fs, panels, cells)
        auto_ax = next(a for a in fig.panel_axes if "auto" in a.get_title())
        texts = [t.get_text() for t in auto_ax.texts]
        self.assertTrue(any(t.endswith("\ngtopk") for t in texts), texts)
        plain = next(a for a in fig.panel_axes if a.get_title() == "topk 1%")
        self.assertFalse(any("\n" in t.get_text() for t in plain.texts))

    def one_set_with(self, rows, header):
        write_csv(self.csv, rows, header)
        sets = self.ps.figure_sets(self.csv)
        self.assertEqual(len(sets), 1, [fs.suffix for fs in sets])
        return sets[0]

    def test_environment_column_still_splits(self):
        rows = variant_rows() + variant_rows({"bucket_mb": 50})
        write_csv(self.csv, rows, VHEADER)
        sets = self.ps.figure_sets(self.csv)
        self.assertEqual(sorted(fs.suffix for fs in sets),
                         ["_bucket_mb-25", "_bucket_mb-50"])
        for fs in sets:
            self.assertEqual(len(self.ps.heatmap_data(fs)[0]), 4)
            self.assertEqual(self.ps.best_variant_table(fs)[(8, 1)].short,
                             "powersgd r=4")

    def test_best_map_skipped_with_one_p(self):
        rows = [r for r in variant_rows() if r["workers"] in (1, 8)]
        write_csv(self.csv, rows, VHEADER)
        res = run(self.csv, "--out", self.out)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn("best_resnet50.png", pngs(self.out))
        self.assertIn("heatmap_resnet50.png", pngs(self.out))
        self.assertIn("skipping best-variant map", res.stderr)

    def test_bad_ratio_of_a_ratio_method_is_an_error(self):
        rows = variant_rows()
        next(r for r in rows if r["method"] == "topk")["ratio"] = 0
        write_csv(self.csv, rows, VHEADER)
        with self.assertRaises(self.ps.InputError):
            self.ps.figure_sets(self.csv)

    def test_old_csv_without_variant_column(self):
        path = os.path.join(self.tmp, "old.csv")
        write_csv(path, synthetic_rows(models=(("resnet50", 25.6e6),)))
        sets = self.ps.figure_sets(path)
        self.assertEqual(len(sets), 1)
        fs = sets[0]
        self.assertFalse(fs.variant_mode)
        panels, cells = self.ps.heatmap_data(fs)
        self.assertEqual([t for _k, t in panels],
                         ["ρ=0.1, top-k", "ρ=0.01, top-k"])
        self.assertEqual([t for t, _r in self.ps.panels_for(fs)],
                         ["dense (no compression)", "ρ=0.1, top-k",
                          "ρ=0.01, top-k"])
        fig = self.ps.heatmap_figure(fs, panels, cells)
        self.assertEqual(len(fig.panel_axes), 2)
        # dense at two ratios collapsed: one row per (P, B)
        self.assertEqual(len(fs.dense), 4 * 2)
        # and the CLI writes the four figures of old, no best-variant map
        res = run(path, "--out", self.out)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(pngs(self.out),
                         sorted("%s_resnet50.png" % k for k in KINDS))


if __name__ == "__main__":
    unittest.main()
