#!/usr/bin/python3
"""Tests for tools/plot_sweep.py.

Run with either of
    /usr/bin/python3 -m unittest tests/test_plot_sweep.py
    /usr/bin/python3 tests/test_plot_sweep.py
"""

import csv
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


if __name__ == "__main__":
    unittest.main()
