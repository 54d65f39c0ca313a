#!/usr/bin/python3
"""Bad inputs against `gcsim simulate` and `gcsim sweep`, counted.

Every scenario key the loaders read gets a list of hostile values (wrong
type, sign, zero, NaN/Inf, 1e308, 1e-300, integer overflow, newlines, empty
strings, unknown names), given three ways: as `--set KEY=VALUE` on
scenarios/h100-cluster.toml (alternately with the des and analytic
backends), written into a copy of the scenario file, and as the second value
of a sweep axis whose first value is good. Seeded truncations and line
deletions of every shipped scenario add malformed files.

Each run must end in one of two ways, under a 6 GiB address-space limit and
a 30 s timeout:
  exit 0: the output parses as JSON (or CSV), every number in it is finite
          and at most 25 characters, and exposed compression <= compression;
  exit 2: exactly one line on stderr, starting "gcsim <command>: ", and no
          output file (no results.csv, no temp files) left behind.
Anything else (exit 1, a signal, a timeout, two lines, a half-written file)
is a violation. Prints the counts; exits 1 if any run violated.

Usage: bad_inputs.py GCSIM [--quick] [--seed=N] [--asan]
  --quick  the first three values of each key and 3 mutations per file (CTest)
  --asan   GCSIM is built with AddressSanitizer, which cannot run under an
           address-space limit: cap its resident memory with ASan's own
           hard_rss_limit_mb instead
"""
import json
import math
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NUM = ["-1", "0", "1e308", "-1e308", "nan", "inf", "-inf", "1e-300", "2147483648",
       "9223372036854775807", '"x"', "[1]", "true", "{a = 1}"]
INT = ["-1", "0", "2147483648", "9223372036854775807", "1000000000", "1.5", "nan",
       '"4"', "[1", "1e400"]
STR = ['""', '"no-such"', '"a\\nb"', "1", "[\"a\"]", '"\\u0000"']
BOOL = ['"yes"', "1", "nan"]
KEYS = {
    "model.name": STR, "model.batch_per_worker": INT, "model.params": INT,
    "model.forward_flops": NUM,
    "compute.gpu": STR, "compute.efficiency": NUM, "compute.forward_backward_ms": NUM,
    "cluster.workers": INT, "cluster.topology": STR, "cluster.gpus_per_node": INT,
    "cluster.nics_per_node": INT, "cluster.nodes_per_leaf": INT, "cluster.spines": INT,
    "cluster.oversubscription": NUM, "cluster.placement": STR,
    "cluster.inter_node.bandwidth_gbps": NUM, "cluster.inter_node.latency_us": NUM,
    "cluster.inter_node.efficiency": NUM,
    "cluster.intra_node.bandwidth_gbps": NUM, "cluster.intra_node.latency_us": NUM,
    "collective.algorithm": STR, "collective.chunks": INT, "collective.servers": INT,
    "compression.method": STR, "compression.ratio": NUM, "compression.index_bytes": INT,
    "compression.error_feedback": BOOL, "compression.granularity": STR,
    "compression.exchange": STR, "compression.momentum_correction": BOOL,
    "training.bucket_mb": NUM, "training.overlap": BOOL, "training.iterations": INT,
    "training.seed": INT,
    "stragglers.cv": NUM, "stragglers.seed": INT, "stragglers.factor": NUM,
    "profile": STR, "name": STR, "unknown_key": NUM, "model.unknown": NUM,
}
NUMBER = re.compile(r'-?\d[\d.eE+-]*|-?inf|nan', re.I)


def limit():
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


class Runner:
    def __init__(self, gcsim, asan):
        self.gcsim = os.path.abspath(gcsim)
        self.asan = asan
        self.env = dict(os.environ)
        if asan:
            self.env["ASAN_OPTIONS"] = ":".join(
                x for x in (self.env.get("ASAN_OPTIONS", ""), "hard_rss_limit_mb=6144") if x)
        self.tried = self.ok = self.refused = self.bad = 0
        self.violations = []

    def violate(self, msg):
        self.bad += 1
        self.violations.append(msg)

    def run(self, label, args, out_path, kind):
        """Runs gcsim with args in a fresh directory holding out_path."""
        self.tried += 1
        try:
            p = subprocess.run([self.gcsim] + args, capture_output=True, text=True, timeout=30,
                               preexec_fn=None if self.asan else limit, cwd=ROOT,
                               errors="replace", env=self.env)
        except subprocess.TimeoutExpired:
            self.violate(f"{label}: timed out after 30 s")
            return
        err = p.stderr.rstrip("\n")
        lines = err.split("\n") if err else []
        out_dir = os.path.dirname(out_path)
        leftovers = sorted(set(os.listdir(out_dir)) - {"in.toml", "base.toml", "sweep.toml"})
        if p.returncode == 2:
            problems = []
            if len(lines) != 1 or not lines[0].startswith(f"gcsim {kind}: "):
                problems.append(f"stderr is {len(lines)} lines: {err[:300]!r}")
            if leftovers:
                problems.append(f"left {leftovers}")
            if problems:
                self.violate(f"{label}: exit 2 but " + "; ".join(problems))
            else:
                self.refused += 1
            return
        if p.returncode != 0:
            self.violate(f"{label}: exit {p.returncode}: {err[:300]!r}")
            return
        problem = check_output(out_path, kind)
        if problem:
            self.violate(f"{label}: exit 0 but {problem}")
        else:
            self.ok += 1


def check_output(path, kind):
    if not os.path.isfile(path):
        return "no output file"
    text = open(path, errors="replace").read()
    if kind == "simulate":
        try:
            doc = json.loads(text)
        except ValueError as e:
            return f"output is not JSON ({e})"
        nums = {}
        for k, v in doc.items():
            if isinstance(v, (int, float)):
                nums[k] = v
            elif isinstance(v, str) and NUMBER.fullmatch(v.strip()) and k != "name":
                nums[k] = float(v)
        for k, v in nums.items():
            if not math.isfinite(v):
                return f"{k} = {v}"
        for tok in NUMBER.findall(text):
            if len(tok) > 25:
                return f"a {len(tok)}-character number {tok[:40]}..."
        if nums.get("exposed_compression_s", 0) > nums.get("compression_s", 0) * (1 + 1e-9) + 1e-15:
            return "exposed compression exceeds compression"
        return None
    rows = text.strip().split("\n")
    if len(rows) < 2:
        return "results.csv has no rows"
    for tok in NUMBER.findall(text):
        if tok.lower() in ("inf", "-inf", "nan"):
            return f"results.csv holds {tok}"
    return None


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 2
    quick = "--quick" in sys.argv
    seed = 1
    for a in sys.argv:
        if a.startswith("--seed="):
            seed = int(a.split("=", 1)[1])
    rng = random.Random(seed)
    r = Runner(args[0], "--asan" in sys.argv)
    base = os.path.join(ROOT, "scenarios", "h100-cluster.toml")
    base_text = open(base).read()
    work = tempfile.mkdtemp(prefix="gcsim-bad-")
    try:
        n = 0
        for key, values in KEYS.items():
            for v in (values[:3] if quick else values):
                n += 1
                d = os.path.join(work, f"s{n}")
                os.mkdir(d)
                out = os.path.join(d, "out.json")
                backend = "des" if n % 2 else "analytic"
                # 1. --set on the command line
                r.run(f"--set {key}={v} ({backend})",
                      ["simulate", base, "--set", f"{key}={v}", "--backend", backend,
                       "--format", "json", "--out", out], out, "simulate")
                if os.path.exists(out):
                    os.remove(out)
                # 2. written into the file
                table, _, leaf = key.rpartition(".")
                f = os.path.join(d, "in.toml")
                with open(f, "w") as fh:
                    fh.write(f'profile = "{ROOT}/scenarios/profiles/default.toml"\n'
                             if key != "profile" else "")
                    fh.write(re.sub(r'(?m)^profile.*$', '', base_text))
                    fh.write(f"\n[{table}]\n{leaf} = {v}\n" if table else "")
                if not table:
                    text = open(f).read()
                    open(f, "w").write(f"{leaf} = {v}\n" + text)
                r.run(f"file {key} = {v}", ["simulate", f, "--format", "json", "--out", out],
                      out, "simulate")
                if os.path.exists(out):
                    os.remove(out)
                # 3. the second value of a sweep axis
                sd = os.path.join(d, "sweep")
                sweep = os.path.join(d, "sweep.toml")
                with open(sweep, "w") as fh:
                    fh.write(f'name = "bad"\nbase = "{base}"\n[axes]\n"{key}" = [{good(key)}, {v}]\n'
                             '"cluster.workers" = [2]\n' if key != "cluster.workers" else
                             f'name = "bad"\nbase = "{base}"\n[axes]\n"{key}" = [2, {v}]\n')
                os.mkdir(sd)
                r.run(f"sweep axis {key} = [.., {v}]", ["sweep", sweep, "--out", sd, "--jobs", "2"],
                      os.path.join(sd, "results.csv"), "sweep")
        # 4. malformed files: truncations and deleted lines of every shipped scenario
        shipped = [os.path.join(dp, fn) for dp, _, fns in os.walk(os.path.join(ROOT, "scenarios"))
                   for fn in sorted(fns) if fn.endswith(".toml") and "sweeps" not in dp
                   and "profiles" not in dp and "train" not in dp]
        for src in sorted(shipped):
            text = open(src).read()
            for _ in range(3 if quick else 12):
                n += 1
                d = os.path.join(work, f"m{n}")
                os.mkdir(d)
                lines = text.split("\n")
                if rng.random() < 0.5:
                    cut = text[:rng.randrange(len(text))]
                else:
                    del lines[rng.randrange(len(lines))]
                    cut = "\n".join(lines)
                f = os.path.join(d, "in.toml")
                prof = f'profile = "{ROOT}/scenarios/profiles/default.toml"\n'
                open(f, "w").write(prof + re.sub(r'(?m)^profile.*$', '', cut))
                out = os.path.join(d, "out.json")
                r.run(f"mutated {os.path.relpath(src, ROOT)} #{n}",
                      ["simulate", f, "--format", "json", "--out", out], out, "simulate")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"bad_inputs: {r.tried} runs: {r.ok} ran cleanly, {r.refused} refused with one line "
          f"(exit 2), {r.bad} violations")
    for v in r.violations:
        print("  VIOLATION", v)
    return 1 if r.violations else 0


def good(key):
    return {"model.name": '"resnet18"', "compute.gpu": '"H100-SXM"', "cluster.topology": '"switch"',
            "collective.algorithm": '"ring"', "compression.method": '"topk"',
            "compression.granularity": '"bucket"', "compression.exchange": '"allgather"',
            "cluster.placement": '"packed"', "compression.error_feedback": "true",
            "compression.momentum_correction": "false", "training.overlap": "true",
            "profile": f'"{ROOT}/scenarios/profiles/default.toml"', "name": '"a"'}.get(key, "1")


if __name__ == "__main__":
    sys.exit(main())
