#!/usr/bin/python3
"""Checks that CTest ran every Catch2 case, each as its own entry.

Usage: check-test-count.py JUNIT.xml CPU_BINARY GPU_BINARY [GPU_PREFIX]

JUNIT.xml is `ctest --output-junit`. Every name that CPU_BINARY lists with
--list-test-names-only must appear exactly once among the CTest entries and
must have run (status "run"); the same for GPU_BINARY's names under
GPU_PREFIX, which must have run where a GPU exists (nvidia-smi -L lists one)
and may be skipped (exit 77) only where none does. Prints the counts; exits 1
on any mismatch. A case left out of CTest, an entry that runs nothing, or a
renamed case that discovery split or merged all show up here.
"""
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET


def listed(binary):
    out = subprocess.run([binary, "--list-test-names-only"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def gpu_present():
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    r = subprocess.run([smi, "-L"], capture_output=True, text=True)
    return r.returncode == 0 and "GPU" in r.stdout


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    junit, cpu_bin, gpu_bin = sys.argv[1:4]
    prefix = sys.argv[4] if len(sys.argv) == 5 else "gpu/"
    status = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = case.get("name")
        if name in status:
            status[name] = "duplicate"
        else:
            status[name] = case.get("status")
    ok = True

    def check(names, kind, allow_skip):
        nonlocal ok
        ran = skipped = 0
        for n in names:
            s = status.get(n)
            if s == "run":
                ran += 1
            elif allow_skip and s == "notrun":
                skipped += 1
            else:
                print(f"check-test-count: {kind} case not run by CTest ({s or 'no entry'}): {n}",
                      file=sys.stderr)
                ok = False
        print(f"check-test-count: {kind}: {len(names)} cases listed, {ran} run by CTest"
              + (f", {skipped} skipped (no GPU)" if skipped else ""))
        if not names:
            print(f"check-test-count: {kind} binary lists no cases", file=sys.stderr)
            ok = False

    check(listed(cpu_bin), "cpu", allow_skip=False)
    check([prefix + n for n in listed(gpu_bin)], "gpu", allow_skip=not gpu_present())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
