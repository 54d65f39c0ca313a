"""tools/crossover.py on synthetic sweep results with known crossings."""
import csv
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "tools", "crossover.py")


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["model", "workers", "bandwidth_gbps", "variant", "iteration_time_s"])
        w.writeheader()
        w.writerows(rows)


def run(path, *extra):
    return subprocess.run([sys.executable, SCRIPT, path, *extra], capture_output=True, text=True)


class CrossoverTest(unittest.TestCase):
    def test_known_crossings(self):
        # dense: T = 1 + 10/B; "fast" always 0.5x; "mid": T = 2 + 1/B, equal to dense at B = 9
        # (faster below); "slow": always 3x.
        bands = [1, 3, 10, 30, 100]
        rows = []
        for b in bands:
            dense = 1 + 10 / b
            rows += [dict(model="m", workers=8, bandwidth_gbps=b, variant="none", iteration_time_s=dense),
                     dict(model="m", workers=8, bandwidth_gbps=b, variant="fast", iteration_time_s=dense / 2),
                     dict(model="m", workers=8, bandwidth_gbps=b, variant="mid", iteration_time_s=2 + 1 / b),
                     dict(model="m", workers=8, bandwidth_gbps=b, variant="slow", iteration_time_s=3 * dense)]
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "r.csv")
            write(p, rows)
            r = run(p)
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = {l.split("|")[3].strip(): l for l in r.stdout.splitlines() if l.startswith("| m ")}
            self.assertIn("always", lines["fast"])
            self.assertIn("never", lines["slow"])
            # between the swept 3 and 10 Gb/s, log-interpolated: near 9, certainly in (3, 10)
            b = float(lines["mid"].split("below ")[1].split(" Gb/s")[0])
            self.assertTrue(3 < b < 10, lines["mid"])
            self.assertIn("| 2× |", lines["fast"])  # speedup at the lowest bandwidth

    def test_over_workers(self):
        # dense: T = 1 + P / 100 (no growth of its own); "ag" grows as P: T = 0.5 + P / 40, equal at P = 33.3;
        # "tree" grows as log P: always faster over the swept P.
        import math
        rows = []
        for P in [2, 4, 8, 16, 32, 64, 128, 256]:
            for b in [10, 100]:
                rows += [dict(model="m", workers=P, bandwidth_gbps=b, variant="none", iteration_time_s=1 + P / 100),
                         dict(model="m", workers=P, bandwidth_gbps=b, variant="ag", iteration_time_s=0.5 + P / 40),
                         dict(model="m", workers=P, bandwidth_gbps=b, variant="tree",
                              iteration_time_s=0.5 + math.log2(P) / 100)]
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "r.csv")
            write(p, rows)
            r = run(p, "--over", "workers")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("| model | bandwidth | variant |", r.stdout)
            ag = [l for l in r.stdout.splitlines() if l.startswith("| m | 10 Gb/s | ag |")]
            self.assertEqual(len(ag), 1, r.stdout)
            P = float(ag[0].split("below P = ")[1].split(" |")[0])
            self.assertTrue(32 < P < 64, ag[0])
            self.assertIn("always", next(l for l in r.stdout.splitlines() if l.startswith("| m | 100 Gb/s | tree |")))

    def test_bad_input_exits_2(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "r.csv")
            with open(p, "w") as f:
                f.write("model,workers\nm,8\n")
            r = run(p)
            self.assertEqual(r.returncode, 2)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1)
            self.assertTrue(r.stderr.startswith("crossover: "))
            self.assertEqual(run(os.path.join(d, "missing.csv")).returncode, 2)


if __name__ == "__main__":
    unittest.main()
