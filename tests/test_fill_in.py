"""tools/fill_in.py on fill-in.csv files with known supports."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "tools", "fill_in.py")
HEADER = "global_step,bucket,n,k,ranks,nonzeros,dense\n"


def run(*dirs):
    return subprocess.run([sys.executable, SCRIPT, *dirs], capture_output=True, text=True)


class FillInTest(unittest.TestCase):
    def write(self, text):
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "fill-in.csv"), "w") as f:
            f.write(text)
        return d

    def test_ratio_against_the_independent_model(self):
        # n = 1000, k = 100: the model gives 190 for 2 ranks and 343.9 for 4.
        rows = []
        for step in range(1, 21):
            rows.append(f"{step},0,1000,100,2,{190 if step <= 10 else 152},0\n")
            rows.append(f"{step},0,1000,100,4,344,{1 if step == 20 else 0}\n")
        out = run(self.write(HEADER + "".join(rows)))
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = [l for l in out.stdout.splitlines() if l.startswith("| ") and "ranks" not in l]
        two = [c.strip() for c in lines[0].split("|")]
        four = [c.strip() for c in lines[1].split("|")]
        self.assertEqual(two[2:7], ["2", "1000", "100", "171", "190"])
        self.assertEqual(two[7:10], ["0.900", "1.000", "0.800"])  # whole run, first and last tenth (2 steps)
        self.assertEqual(four[5:8], ["344", "344", "1.000"])
        self.assertEqual(four[10], "5.0 %")

    def test_bad_files_are_one_line_errors(self):
        for text, want in [("a,b\n1,2\n", "header is"), (HEADER, "no merges"),
                           (HEADER + "1,0,x,1,2,3,0\n", "fill-in.csv:2: not a row of integers")]:
            out = run(self.write(text))
            self.assertEqual(out.returncode, 2)
            self.assertIn(want, out.stderr)
            self.assertEqual(len(out.stderr.strip().splitlines()), 1)
        out = run(tempfile.mkdtemp())
        self.assertEqual(out.returncode, 2)
        self.assertIn("cannot read", out.stderr)


if __name__ == "__main__":
    unittest.main()
