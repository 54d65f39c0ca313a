#!/usr/bin/env python3
"""Plots and a Markdown table for the training experiments (tools/train-experiments.sh).

    plot_training.py OUT_DIR [--gcsim PATH [--profile PROFILE.toml]]

Reads OUT_DIR/runs/<net>-<config>/{epochs.csv,steps-rank0.csv,summary.json}
(net: loopback or shaped<R>; config: a name of tools/train-experiments.sh's SETS),
OUT_DIR/runs/<net>-<config>.netstats.csv (tools/netem.sh --stats) and the
seed runs OUT_DIR/seeds/loopback-<config>-seed<N>/, and writes
OUT_DIR/accuracy.png and accuracy_baselines.png (vs epoch and vs bytes sent),
loss.png, step_breakdown.png (Top-K runs), step_breakdown_baselines.png (the
shaped runs of the other methods, after OUT_DIR/same-day/runs/ where that
holds baselines timed the same day), table.md and seeds.md. With --gcsim, it also asks `gcsim simulate`
to predict each shaped run (same scenario and compression, the run's measured
compute time, the shaped rate) and writes prediction.md: measured vs
predicted communication per step, with the scenario's profile and, given
--profile (e.g. from `gcsim calibrate collectives`), with that one too.
Debian's python3-matplotlib only.
"""
import csv
import json
import os
import re
import shlex
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TOPK_ORDER = ["dense", "topk-ef-0.1", "topk-ef-0.01", "topk-ef-mc-0.01", "topk-ef-0.001", "topk-noef-0.001"]
# The methods practitioners compare against (tools/train-experiments.sh BASELINES), with dense.
BASELINE_ORDER = ["dense", "fp16", "bf16", "powersgd-r1", "powersgd-r2", "powersgd-r4", "powersgd-r1-noef",
                  "powersgd-r2-noef", "powersgd-r4-noef", "ef-signsgd", "signsgd-majority", "qsgd-8bit", "qsgd-4bit",
                  "qsgd-2bit", "qsgd-4bit-d512", "qsgd-2bit-d512", "topk-ef-0.001-warmup"]
# Top-K 1 % by each sparse exchange (tools/train-experiments.sh EXCHANGES), at P = 4 and P = 8.
EXCHANGE_ORDER = ["dense", "topk-ef-0.01", "topk-ef-0.01-gtopk", "topk-ef-0.01-sparse-allreduce", "dense-p8",
                  "topk-ef-0.01-p8", "topk-ef-0.01-gtopk-p8", "topk-ef-0.01-sparse-allreduce-p8", "dense-2x2",
                  "topk-ef-0.01-2x2", "topk-ef-0.01-hierarchical-2x2"]
ORDER = TOPK_ORDER + [c for c in BASELINE_ORDER + EXCHANGE_ORDER if c not in TOPK_ORDER]
ORDER = [c for i, c in enumerate(ORDER) if c not in ORDER[:i]]
LABEL = {
    "dense": "dense (ring allreduce)",
    "topk-ef-0.1": "Top-K 10% + EF",
    "topk-ef-0.01": "Top-K 1% + EF",
    "topk-ef-mc-0.01": "Top-K 1% + EF + momentum corr.",
    "topk-ef-0.001": "Top-K 0.1% + EF",
    "topk-noef-0.001": "Top-K 0.1%, no EF",
    "topk-ef-0.001-warmup": "Top-K 0.1% + EF, DGC warm-up (4 epochs)",
    "fp16": "fp16 (DDP fp16 hook)",
    "bf16": "bf16 (DDP bf16 hook)",
    "powersgd-r1": "PowerSGD r=1 + EF",
    "powersgd-r2": "PowerSGD r=2 + EF",
    "powersgd-r4": "PowerSGD r=4 + EF",
    "powersgd-r1-noef": "PowerSGD r=1, no EF",
    "powersgd-r2-noef": "PowerSGD r=2, no EF",
    "powersgd-r4-noef": "PowerSGD r=4, no EF",
    "ef-signsgd": "EF-signSGD",
    "signsgd-majority": "signSGD majority vote",
    "qsgd-8bit": "QSGD 8-bit",
    "qsgd-4bit": "QSGD 4-bit",
    "qsgd-2bit": "QSGD 2-bit",
    "qsgd-4bit-d512": "QSGD 4-bit, d=512",
    "qsgd-2bit-d512": "QSGD 2-bit, d=512",
    "topk-ef-0.01-gtopk": "Top-K 1% + EF, gTop-k exchange",
    "topk-ef-0.01-sparse-allreduce": "Top-K 1% + EF, sparse allreduce",
    "dense-p8": "dense, P=8",
    "topk-ef-0.01-p8": "Top-K 1% + EF (allgather), P=8",
    "topk-ef-0.01-gtopk-p8": "Top-K 1% + EF, gTop-k exchange, P=8",
    "topk-ef-0.01-sparse-allreduce-p8": "Top-K 1% + EF, sparse allreduce, P=8",
    "dense-2x2": "dense, 2 nodes of 2",
    "topk-ef-0.01-2x2": "Top-K 1% + EF (allgather), 2 nodes of 2",
    "topk-ef-0.01-hierarchical-2x2": "Top-K 1% + EF, hierarchical, 2 nodes of 2",
}


def dense_of(config):
    """The dense run a configuration is compared with: the one with its worker count and nodes
    (on loopback the 2-nodes-of-2 runs fall back to dense: the same ring over the same 4 ranks)."""
    for tail in ("-p8", "-2x2"):
        if config.endswith(tail):
            return "dense" + tail
    return "dense"
PHASES = ["compute_s", "wait_s", "compress_s", "communicate_s", "decompress_s", "optimizer_s", "data_s"]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def load_runs(out, sub="runs"):
    runs = {}
    root = os.path.join(out, sub)
    if not os.path.isdir(root):
        return runs
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(d) or not os.path.exists(os.path.join(d, "summary.json")):
            continue
        net, _, config = name.partition("-")
        with open(os.path.join(d, "summary.json")) as f:
            summary = json.load(f)
        run = {
            "net": net,
            "config": config,
            "summary": summary,
            "epochs": read_csv(os.path.join(d, "epochs.csv")),
            "steps": read_csv(os.path.join(d, "steps-rank0.csv")),
        }
        stats = os.path.join(root, name + ".netstats.csv")
        if os.path.exists(stats):
            run["netstats"] = read_csv(stats)
        runs[(net, config)] = run
    return runs


def nets_of(runs):
    return sorted({n for n, _ in runs}, key=lambda n: (n != "loopback", n))


def plot_accuracy(runs, out, configs=TOPK_ORDER, name="accuracy.png"):
    if not any(c != "dense" and (n, c) in runs for n in nets_of(runs) for c in configs):
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for net, style in zip(nets_of(runs), ["-", "--", ":"]):
        for config in configs:
            run = runs.get((net, config))
            if not run:
                continue
            ep = [int(r["epoch"]) for r in run["epochs"]]
            acc = [100 * float(r["test_accuracy"]) for r in run["epochs"]]
            mb = [int(r["bytes_sent_cumulative"]) / 1e6 for r in run["epochs"]]
            label = f"{LABEL[config]} ({net})"
            color = plt.cm.tab20(configs.index(config) % 20)  # one colour per configuration, one line style per network
            axes[0].plot(ep, acc, style, color=color, marker="o", ms=3, label=label)
            if net == "loopback":
                axes[1].plot(mb, acc, style, color=color, marker="o", ms=3, label=LABEL[config])
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("test accuracy (%)")
    axes[0].set_title("Test accuracy vs epoch (P = 4 and 8)" if any(c.endswith(("-p8", "-2x2")) for c in configs)
                      else "Test accuracy vs epoch (P = 4)")
    axes[0].axhline(90, color="grey", lw=0.8, ls=":")
    axes[0].grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("MB sent by one worker (cumulative, log scale)")
    axes[1].set_ylabel("test accuracy (%)")
    axes[1].set_title("Test accuracy vs bytes sent (loopback runs)")
    axes[1].grid(alpha=0.3, which="both")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.set_ylim(bottom=max(0, ax.get_ylim()[0]))
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=120)
    plt.close(fig)


def plot_loss(runs, out):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for config in TOPK_ORDER:
        run = runs.get(("loopback", config))
        if not run:
            continue
        loss = [float(r["loss"]) for r in run["steps"]]
        window = 50
        smooth = [sum(loss[max(0, i - window + 1): i + 1]) / len(loss[max(0, i - window + 1): i + 1])
                  for i in range(len(loss))]
        ax.plot(range(1, len(loss) + 1), smooth, color=f"C{TOPK_ORDER.index(config)}", label=LABEL[config], lw=1)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (rank 0, mean of 50 steps)")
    ax.set_yscale("log")
    ax.set_title("Loss curve (loopback, P = 4)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loss.png"), dpi=120)
    plt.close(fig)


def plot_breakdown(runs, out, keys=None, name="step_breakdown.png"):
    if keys is None:
        keys = [(n, c) for n in nets_of(runs) for c in TOPK_ORDER if (n, c) in runs]  # the runs timed alone on the VM
    if not keys:
        return
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(keys)), 4.8))
    bottoms = [0.0] * len(keys)
    for phase in PHASES:
        vals = [1e3 * float(runs[k]["summary"]["mean_step"][phase]) for k in keys]
        ax.bar(range(len(keys)), vals, bottom=bottoms, label=phase[:-2])
        bottoms = [b + v for b, v in zip(bottoms, vals)]
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels([f"{LABEL[c]}\n{n}" for n, c in keys], fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("mean step time, rank 0 (ms)")
    ax.set_title("Step-time breakdown (P = 4 on 2 vCPUs)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=120)
    plt.close(fig)


def table(runs):
    lines = [
        "| network | run | epochs | final test acc | Δ vs dense (same epochs, same P) | best | KB sent/step/worker "
        "| step ms | compute | wait | compress | communicate | decompress | images/s | netem tx MB (all ranks) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for net in nets_of(runs):
        for config in ORDER:
            run = runs.get((net, config))
            if not run:
                continue
            s = run["summary"]
            m = s["mean_step"]
            acc = 100 * s["final_test_accuracy"]
            d = runs.get((net, dense_of(config))) or (runs.get((net, "dense")) if config.endswith("-2x2") else None)
            delta = ""
            if d and config != dense_of(config):
                n_ep = len(run["epochs"])
                if len(d["epochs"]) >= n_ep:
                    delta = f"{acc - 100 * float(d['epochs'][n_ep - 1]['test_accuracy']):+.2f} pt"
            tx = ""
            if "netstats" in run:
                tx = f"{sum(int(r['tx_bytes']) for r in run['netstats']) / 1e6:.1f}"
            lines.append(
                f"| {net} | {LABEL[config]} | {s['epochs_run']} | {acc:.2f} % | {delta} | "
                f"{100 * s['best_test_accuracy']:.2f} % | {m['bytes_sent'] / 1e3:.1f} | {1e3 * m['step_s']:.1f} | "
                f"{1e3 * m['compute_s']:.1f} | {1e3 * m['wait_s']:.1f} | {1e3 * m['compress_s']:.2f} | "
                f"{1e3 * m['communicate_s']:.1f} | {1e3 * m['decompress_s']:.2f} | {s['images_per_s']:.0f} | {tx} |")
    return "\n".join(lines) + "\n"


def compression_sets(summary):
    """The run's [compression] settings as --set arguments: every compression.* --set of its command
    (rank, bits, chunk ... as it ran) and its cluster.workers / model.batch_per_worker, or, for a
    summary without one, method, ratio and error feedback."""
    words = shlex.split(summary.get("command", ""))
    sets = [w for a, w in zip(words, words[1:]) if a == "--set" and w.startswith("compression.")]
    sets += [w for a, w in zip(words, words[1:])
             if a == "--set" and w.startswith(("cluster.workers=", "model.batch_per_worker=", "cluster.gpus_per_node=",
                                               "cluster.intra_node."))]
    if sets:
        return sets
    return [f"compression.method={summary['method']}", f"compression.ratio={summary['ratio']}",
            f"compression.error_feedback={'true' if summary['error_feedback'] else 'false'}"]


def seed_table(runs, seeds):
    """Final accuracy per seed (seed 1 = the loopback run, seeds 2.. = OUT_DIR/seeds/loopback-CONFIG-seedN),
    the Δ against dense's run of the same seed, and mean ± sd over the seeds a configuration has."""
    acc = {}
    for (net, config), run in runs.items():
        if net == "loopback":
            acc.setdefault(config, {})[1] = 100 * run["summary"]["final_test_accuracy"]
    for (net, name), run in seeds.items():
        m = re.fullmatch(r"(.+)-seed(\d+)", name)
        if net == "loopback" and m:
            acc.setdefault(m.group(1), {})[int(m.group(2))] = 100 * run["summary"]["final_test_accuracy"]
    all_seeds = sorted({k for a in acc.values() for k in a})
    lines = ["| run | " + " | ".join(f"seed {k}" for k in all_seeds) + " | mean ± sd | mean Δ vs dense (same seeds) |",
             "|---|" + "---|" * len(all_seeds) + "---|---|"]
    for config in ORDER:
        a = acc.get(config)
        if not a or len(a) < 2:
            continue
        dense = acc.get(dense_of(config), {})
        cells = []
        for k in all_seeds:
            if k not in a:
                cells.append("")
            elif config != dense_of(config) and k in dense:
                cells.append(f"{a[k]:.2f} ({a[k] - dense[k]:+.2f})")
            else:
                cells.append(f"{a[k]:.2f}")
        v = list(a.values())
        mean = sum(v) / len(v)
        sd = (sum((x - mean) ** 2 for x in v) / (len(v) - 1)) ** 0.5
        common = [k for k in a if k in dense]
        delta = ""
        if config != dense_of(config) and common:
            delta = f"{sum(a[k] - dense[k] for k in common) / len(common):+.2f} pt ({len(common)} seeds)"
        lines.append(f"| {LABEL[config]} | " + " | ".join(cells) + f" | {mean:.2f} ± {sd:.2f} % | {delta} |")
    return "\n".join(lines) + "\n"


def simulate(gcsim, scenario, sets):
    cmd = [gcsim, "simulate", scenario, "--format", "json"]
    for x in sets:
        cmd += ["--set", x]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(f"plot_training.py: gcsim simulate failed: {p.stderr}")
        return None
    return json.loads(p.stdout)


def predictions(runs, gcsim, scenario, profile=None):
    head = ("| run | rate | measured compute+opt ms | measured communicate ms | predicted communicate ms | "
            "predicted / measured |")
    rule = "|---|---|---|---|---|---|"
    if profile:
        head += " predicted communicate ms, calibrated | calibrated / measured |"
        rule += "---|---|"
    head += " measured step ms (wait excluded) | predicted step ms | KB/step measured | KB/step predicted |"
    rule += "---|---|---|---|"
    lines = [head, rule]
    for (net, config), run in sorted(runs.items(), key=lambda kv: (kv[0][0], ORDER.index(kv[0][1]))):
        m = re.fullmatch(r"shaped(\d+(?:\.\d+)?)", net)
        if not m:
            continue
        s = run["summary"]
        ms = s["mean_step"]
        rate_gbps = float(m.group(1)) / 1000.0
        compute_ms = 1e3 * (ms["compute_s"] + ms["optimizer_s"] + ms["data_s"])
        sets = [f"compute.forward_backward_ms={compute_ms:.4f}", f"cluster.inter_node.bandwidth_gbps={rate_gbps}"]
        sets += compression_sets(s)
        pred = simulate(gcsim, scenario, sets)
        cal = simulate(gcsim, scenario, sets + [f"profile={os.path.abspath(profile)}"]) if profile else None
        if pred is None or (profile and cal is None):
            continue
        measured_comm = 1e3 * (ms["compress_s"] + ms["communicate_s"] + ms["decompress_s"])

        def comm_ms(p):
            return 1e3 * (p["exposed_comm_s"] + p["exposed_compression_s"])

        measured_step = 1e3 * (ms["step_s"] - ms["wait_s"])
        row = (f"| {LABEL[config]} | {float(m.group(1)):g} Mbit/s | {compute_ms:.1f} | {measured_comm:.1f} | "
               f"{comm_ms(pred):.1f} | {comm_ms(pred) / measured_comm:.2f} |")
        if cal:
            row += f" {comm_ms(cal):.1f} | {comm_ms(cal) / measured_comm:.2f} |"
        step = cal or pred
        row += (f" {measured_step:.1f} | {1e3 * step['iteration_time_s']:.1f} | {ms['bytes_sent'] / 1e3:.1f} | "
                f"{pred['bytes_sent_per_worker'] / 1e3:.1f} |")
        lines.append(row)
    return "\n".join(lines) + "\n"


def main():
    args = sys.argv[1:]
    gcsim = profile = None
    if len(args) == 5 and args[3] == "--profile":
        profile = args[4]
        args = args[:3]
    if len(args) == 3 and args[1] == "--gcsim":
        gcsim = args[2]
        args = args[:1]
    if len(args) != 1:
        sys.stderr.write("usage: plot_training.py OUT_DIR [--gcsim PATH [--profile PROFILE.toml]]\n")
        return 2
    if profile and not os.path.isfile(profile):
        sys.stderr.write(f"plot_training.py: --profile {profile}: no such file\n")
        return 2
    out = args[0]
    runs = load_runs(out) if os.path.isdir(os.path.join(out, "runs")) else {}
    if not runs:
        sys.stderr.write(f"plot_training.py: no runs under {out}/runs\n")
        return 2
    plot_accuracy(runs, out)
    plot_accuracy(runs, out, BASELINE_ORDER, "accuracy_baselines.png")
    if any(c in EXCHANGE_ORDER[2:] for _, c in runs):
        plot_accuracy(runs, out, EXCHANGE_ORDER, "accuracy_exchanges.png")
    plot_loss(runs, out)
    plot_breakdown(runs, out)
    # The baselines' shaped runs, after the same-day dense and Top-K runs where they exist
    # (OUT_DIR/same-day/runs: made the same day the same way, so the machine's speed matches).
    same_day = {(n + " same day", c): r for (n, c), r in load_runs(out, os.path.join("same-day", "runs")).items()}
    merged = {**runs, **same_day}
    keys = sorted(same_day, key=lambda k: ORDER.index(k[1]) if k[1] in ORDER else len(ORDER))
    keys += [(n, c) for n in nets_of(runs) if n != "loopback" for c in BASELINE_ORDER
             if (n, c) in runs and not (c == "dense" and same_day)]
    plot_breakdown(merged, out, keys, "step_breakdown_baselines.png")
    exchange_keys = [(n, c) for n in nets_of(runs) if n != "loopback" for c in EXCHANGE_ORDER
                     if (n, c) in runs and c in EXCHANGE_ORDER[2:]]
    if exchange_keys:
        base = [k for k in keys if k[1] in ("dense", "topk-ef-0.01")]
        plot_breakdown(merged, out, base + exchange_keys, "step_breakdown_exchanges.png")
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table(runs))
    seeds = load_runs(out, "seeds")
    if seeds:
        with open(os.path.join(out, "seeds.md"), "w") as f:
            f.write(seed_table(runs, seeds))
    if gcsim:
        scenario = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios", "train",
                                "fashion-p4.toml")
        with open(os.path.join(out, "prediction.md"), "w") as f:
            f.write(predictions(runs, gcsim, scenario, profile))
    print(f"plot_training.py: {len(runs)} runs -> {out}/accuracy.png, loss.png, step_breakdown.png, table.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
