"""tools/plot_training.py on synthetic run directories: files written, table values."""
import csv
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "tools", "plot_training.py")


def make_run(root, name, accs, bytes_per_step, step_s, sub="runs"):
    d = os.path.join(root, sub, name)
    os.makedirs(d)
    with open(os.path.join(d, "epochs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "global_step", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "epoch_s",
                    "bytes_sent_cumulative"])
        for i, a in enumerate(accs):
            w.writerow([i + 1, 10 * (i + 1), 0.5, a, 0.4, a, 1.0, bytes_per_step * 10 * (i + 1)])
    with open(os.path.join(d, "steps-rank0.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "step", "global_step", "samples", "loss"])
        for s in range(10 * len(accs)):
            w.writerow([1, s + 1, s + 1, 32, 2.0 / (s + 1)])
    phases = {k: step_s / 8 for k in ["data_s", "compute_s", "wait_s", "compress_s", "communicate_s",
                                      "decompress_s", "optimizer_s"]}
    phases.update(step_s=step_s, bytes_sent=bytes_per_step, steps=10)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"final_test_accuracy": accs[-1], "best_test_accuracy": max(accs), "epochs_run": len(accs),
                   "mean_step": phases, "images_per_s": 128 / step_s}, f)


def fake_gcsim(root, result, calibrated_comm_s=None):
    """A stand-in for `gcsim simulate` that prints `result` as JSON (exposed_comm_s =
    calibrated_comm_s when a profile= is set) and logs its arguments to ROOT/calls.txt;
    returns (its path, the log's path)."""
    fake = os.path.join(root, "fake-gcsim")
    log = os.path.join(root, "calls.txt")
    with open(fake, "w") as f:
        f.write(f"#!{sys.executable}\nimport json, sys\nopen({log!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
                f"r = {result!r}\n"
                f"if {calibrated_comm_s!r} is not None and any(a.startswith('profile=') for a in sys.argv):\n"
                f"    r['exposed_comm_s'] = {calibrated_comm_s!r}\n"
                "print(json.dumps(r))\n")
    os.chmod(fake, 0o755)
    return fake, log


class PlotTraining(unittest.TestCase):
    def test_writes_plots_and_table(self):
        with tempfile.TemporaryDirectory() as root:
            make_run(root, "loopback-dense", [0.85, 0.90], 1_200_000, 0.05)
            make_run(root, "loopback-topk-ef-0.01", [0.84, 0.895], 48_744, 0.04)
            make_run(root, "shaped100-dense", [0.85], 1_200_000, 0.15)
            with open(os.path.join(root, "runs", "shaped100-dense.netstats.csv"), "w") as f:
                f.write("rank,tx_bytes,rx_bytes\n0,3000000,3000000\n1,2000000,2000000\n")
            r = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            for png in ["accuracy.png", "loss.png", "step_breakdown.png"]:
                self.assertGreater(os.path.getsize(os.path.join(root, png)), 1000, png)
            table = open(os.path.join(root, "table.md")).read().splitlines()
            self.assertEqual(len(table), 2 + 3)
            topk = next(line for line in table if "Top-K 1% + EF" in line)
            self.assertIn("| 89.50 % | -0.50 pt |", topk)   # final 89.5 vs dense's 90.0 after 2 epochs
            self.assertIn("| 48.7 |", topk)                  # KB per step
            shaped = next(line for line in table if line.startswith("| shaped100"))
            self.assertTrue(shaped.rstrip().endswith("| 5.0 |"), shaped)  # netem tx of all ranks

    def test_p8_runs_are_compared_with_dense_at_p8(self):
        with tempfile.TemporaryDirectory() as root:
            make_run(root, "loopback-dense", [0.85, 0.90], 1_200_000, 0.05)
            make_run(root, "loopback-dense-p8", [0.80, 0.88], 1_400_000, 0.06)
            make_run(root, "loopback-topk-ef-0.01-gtopk-p8", [0.80, 0.87], 20_000, 0.04)
            make_run(root, "loopback-topk-ef-0.01-sparse-allreduce", [0.84, 0.89], 60_000, 0.04)
            make_run(root, "loopback-dense-p8-seed2", [0.86], 1_400_000, 0.06, sub="seeds")
            make_run(root, "loopback-topk-ef-0.01-gtopk-p8-seed2", [0.84], 20_000, 0.04, sub="seeds")
            r = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertGreater(os.path.getsize(os.path.join(root, "accuracy_exchanges.png")), 1000)
            table = open(os.path.join(root, "table.md")).read()
            gtopk = next(line for line in table.splitlines() if "gTop-k exchange, P=8" in line)
            self.assertIn("| 87.00 % | -1.00 pt |", gtopk)  # against dense at P = 8 (88 %), not P = 4 (90 %)
            sparse = next(line for line in table.splitlines() if "sparse allreduce" in line)
            self.assertIn("| 89.00 % | -1.00 pt |", sparse)
            seeds = open(os.path.join(root, "seeds.md")).read()
            row = next(line for line in seeds.splitlines() if "gTop-k exchange, P=8" in line)
            self.assertIn("87.00 (-1.00)", row)
            self.assertIn("84.00 (-2.00)", row)
            self.assertIn("-1.50 pt (2 seeds)", row)

    def test_predictions_with_and_without_a_calibrated_profile(self):
        with tempfile.TemporaryDirectory() as root:
            make_run(root, "shaped100-topk-ef-0.01", [0.84], 48_744, 0.04)
            summary = os.path.join(root, "runs", "shaped100-topk-ef-0.01", "summary.json")
            s = json.load(open(summary))
            s.update(method="topk", ratio=0.01, error_feedback=True)
            json.dump(s, open(summary, "w"))
            # 4 ms of communication, 12 ms with a profile set.
            fake, log = fake_gcsim(root, {"exposed_comm_s": 0.004, "exposed_compression_s": 0.0,
                                          "iteration_time_s": 0.03, "bytes_sent_per_worker": 48700}, 0.012)
            profile = os.path.join(root, "cal.toml")
            open(profile, "w").write("# a profile\n")
            r = subprocess.run([sys.executable, SCRIPT, root, "--gcsim", fake, "--profile", profile],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            calls = open(log).read().splitlines()
            self.assertEqual(len(calls), 2)
            self.assertIn("cluster.inter_node.bandwidth_gbps=0.1", calls[0])
            self.assertNotIn("profile=", calls[0])
            self.assertIn(f"profile={profile}", calls[1])
            rows = open(os.path.join(root, "prediction.md")).read().splitlines()
            self.assertIn("calibrated / measured", rows[0])
            # measured communicate = compress + communicate + decompress = 3 * 0.04 / 8 s = 15 ms
            self.assertIn("| 15.0 | 4.0 | 0.27 | 12.0 | 0.80 |", rows[2])
            r = subprocess.run([sys.executable, SCRIPT, root, "--gcsim", fake, "--profile", profile + ".nope"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("no such file", r.stderr)

    def test_predictions_take_the_compression_sets_of_the_command(self):
        with tempfile.TemporaryDirectory() as root:
            make_run(root, "shaped100-powersgd-r1", [0.84], 14_808, 0.04)
            summary = os.path.join(root, "runs", "shaped100-powersgd-r1", "summary.json")
            s = json.load(open(summary))
            s.update(method="powersgd", ratio=0.01, error_feedback=False,
                     command="gcsim train x.toml --set compression.method=powersgd --set compression.rank=1 "
                             "--set compression.error_feedback=false --set training.epochs=1 --out d")
            json.dump(s, open(summary, "w"))
            fake, log = fake_gcsim(root, {"exposed_comm_s": 0.004, "exposed_compression_s": 0.0,
                                          "iteration_time_s": 0.03, "bytes_sent_per_worker": 14808})
            r = subprocess.run([sys.executable, SCRIPT, root, "--gcsim", fake], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            call = open(log).read()
            for want in ["compression.method=powersgd", "compression.rank=1", "compression.error_feedback=false"]:
                self.assertIn(want, call)
            self.assertNotIn("training.epochs", call)
            self.assertNotIn("compression.ratio", call)

    def test_seed_table_means_and_deltas_against_the_same_seeds(self):
        with tempfile.TemporaryDirectory() as root:
            make_run(root, "loopback-dense", [0.90], 1_200_000, 0.05)
            make_run(root, "loopback-fp16", [0.91], 600_000, 0.05)
            make_run(root, "loopback-dense-seed2", [0.92], 1_200_000, 0.05, sub="seeds")
            make_run(root, "loopback-fp16-seed2", [0.89], 600_000, 0.05, sub="seeds")
            make_run(root, "loopback-fp16-seed3", [0.90], 600_000, 0.05, sub="seeds")
            r = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = open(os.path.join(root, "seeds.md")).read().splitlines()
            self.assertIn("| seed 1 | seed 2 | seed 3 |", rows[0])
            self.assertIn("| dense (ring allreduce) | 90.00 | 92.00 |  | 91.00 ± 1.41 % |  |", rows)
            fp16 = next(line for line in rows if line.startswith("| fp16"))
            # Seed 3 has no dense run: its accuracy counts in the mean, not in the Δ.
            self.assertIn("| 91.00 (+1.00) | 89.00 (-3.00) | 90.00 | 90.00 ± 1.00 % | -1.00 pt (2 seeds) |", fp16)

    def test_no_runs_is_an_error(self):
        with tempfile.TemporaryDirectory() as root:
            r = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)
            self.assertIn("no runs", r.stderr)


if __name__ == "__main__":
    unittest.main()
