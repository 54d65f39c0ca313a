#!/usr/bin/env python3
"""PyTorch peer of benchmarks/kernels_cuda_benchmark.cpp: the same error
feedback + Top-K step written with PyTorch ops, and torch.topk alone, timed
with CUDA events over the same N x rho grid. Prints CSV with the C++
benchmark's columns (backend "torch"), so the two can be joined on
(op, n, rho).

  ef_topk  acc = g + e; idx = torch.topk(acc.abs(), k, sorted=False).indices;
           vals = acc.gather(0, idx); e = acc; e[idx] = 0     bytes 12N + 8k
  topk     torch.topk(x.abs(), k, sorted=False)               bytes  4N + 8k

The byte models are the C++ benchmark's (the op's minimum traffic with 4-byte
indices), so GB/s compare like for like; PyTorch's own traffic is higher (the
abs() temporary, int64 indices).

Usage: python3 benchmarks/torch_ef_topk.py [--out FILE] [--repeats 20] [--warmup 3]
           [--sizes 1e5,1e6,...] [--ratios 0.1,0.01,0.001] [--peak-gbps G]
"""

import argparse
import csv
import math
import statistics
import sys

import torch

COLUMNS = ["backend", "device", "op", "n", "rho", "k", "repeats", "median_ms", "min_ms",
           "byte_model", "bytes", "gbps", "peak_gbps", "pct_of_peak"]


def numbers(text):
    return [float(v) for v in text.split(",") if v]


def peak_gbps(override):
    """2 x memory clock x bus width, when this PyTorch exposes them."""
    if override is not None:
        return override
    props = torch.cuda.get_device_properties(0)
    clock_khz = getattr(props, "memory_clock_rate", None)
    bus_bits = getattr(props, "memory_bus_width", None)
    if not clock_khz or not bus_bits:
        return None
    return 2.0 * clock_khz * 1e3 * bus_bits / 8.0 / 1e9


def time_op(op, warmup, repeats):
    """Median and min milliseconds of `op` over `repeats` runs after `warmup`."""
    for _ in range(warmup):
        op()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        op()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


def ef_topk_step(g, e, k):
    """One error-feedback step; e is updated in place; returns (values, indices)."""
    acc = g + e
    idx = torch.topk(acc.abs(), k, sorted=False).indices
    vals = acc.gather(0, idx)
    e.copy_(acc)
    e[idx] = 0
    return vals, idx


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="CSV file (default: stdout)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--sizes", type=numbers, default=[1e5, 1e6, 1e7, 2.5e7, 1e8])
    parser.add_argument("--ratios", type=numbers, default=[0.1, 0.01, 0.001])
    parser.add_argument("--peak-gbps", type=float, default=None,
                        help="device peak bandwidth, when PyTorch does not report the memory clock")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0:
        parser.error("--repeats must be >= 1 and --warmup >= 0")
    if not torch.cuda.is_available():
        print("torch_ef_topk: no CUDA device", file=sys.stderr)
        return 1

    device = torch.device("cuda")
    name = torch.cuda.get_device_name(0)
    peak = peak_gbps(args.peak_gbps)
    print(f"# {name}, torch {torch.__version__}, CUDA {torch.version.cuda}, peak {peak} GB/s", file=sys.stderr)

    out = open(args.out, "w", newline="") if args.out else sys.stdout
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    generator = torch.Generator(device=device)
    for n_real in args.sizes:
        n = int(n_real)
        generator.manual_seed(1)
        g = torch.randn(n, device=device, generator=generator)
        e0 = 0.1 * torch.randn(n, device=device, generator=generator)
        for rho in args.ratios:
            k = math.ceil(rho * n_real)
            e = e0.clone()
            cases = [
                ("ef_topk", "12N+8k", 12 * n + 8 * k, lambda: ef_topk_step(g, e, k)),
                ("topk", "4N+8k", 4 * n + 8 * k, lambda: torch.topk(g.abs(), k, sorted=False)),
            ]
            for op, formula, model_bytes, run in cases:
                median_ms, min_ms = time_op(run, args.warmup, args.repeats)
                gbps = model_bytes / (median_ms * 1e-3) / 1e9
                writer.writerow(["torch", name, op, n, rho, k, args.repeats, median_ms, min_ms, formula, model_bytes,
                                 gbps, peak if peak else "", 100.0 * gbps / peak if peak else ""])
                out.flush()
            del e
        del g, e0
        torch.cuda.empty_cache()
    if args.out:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
