#!/usr/bin/env python3
"""What a SwiftGAN step would cost on N nodes of 16 ranks: the communication model of docs/distributed.md.

    python3 Benchmarks/cost_model.py                   # dcgan, 10 GbE TCP and 100 Gb/s InfiniBand, 8/64/512 nodes
    python3 Benchmarks/cost_model.py --config sngan

Per step, per rank, with R = 16·N ranks, S bytes of gradients, k SyncBN collectives of a few KB, a link of
bandwidth B and latency a per message:

- gradient allreduce, ring: 2·(R−1)/R·S/B of bandwidth plus 2·(R−1)·a of latency per bucket; recursive
  halving and doubling (Rabenseifner): the same bandwidth, 2·log2(R)·a of latency;
- SyncBN: k blocking collectives of log2(R)·a each (recursive doubling of small messages);
- reproducible mode: every sum over samples is a tree exchange of log2(R) messages of the full partial,
  about log2(R)·S/B per step;
- stragglers: every SyncBN collective waits for the slowest rank; with per-rank jitter σ (relative), the
  expected slowest of R is about σ·√(2·ln R) above the mean.

The compute time and the sizes come from measurements (Benchmarks/RESULTS.md); the links are typical
figures, not measured here (no nodes were available).
"""
import argparse
import math

# Measured: gradient bytes of G and D (float32) and their 4 MB buckets, SyncBN collectives per step
# (`bench --timeline`), and compute ms per step with 16 ranks on the 16-core Xeon of the GPU machine at the
# config's batch per rank (issue 10's figures: dcgan 153 ms; gan 45 ms steps of which 29% allreduce; sngan
# 886 ms of which 140 ms allreduce wait).
CONFIGS = {
    "dcgan": {"gradient_mb": 3.76, "buckets": 2, "syncbn": 22, "compute_ms": 153},
    "gan": {"gradient_mb": 4.46, "buckets": 2, "syncbn": 4, "compute_ms": 32},
    "sngan": {"gradient_mb": 53.0, "buckets": 14, "syncbn": 6, "compute_ms": 746},
}
LINKS = {"10 GbE TCP": (1.1e9, 25e-6), "100 Gb/s InfiniBand": (11e9, 2e-6)}


def step_costs(config, nodes, bandwidth, latency, jitter=0.05):
    ranks = 16 * nodes
    size = config["gradient_mb"] * 1e6
    rounds = math.log2(ranks)
    bandwidth_ms = 2 * (ranks - 1) / ranks * size / bandwidth * 1e3
    return {
        "ring": bandwidth_ms + config["buckets"] * 2 * (ranks - 1) * latency * 1e3,
        "halving": bandwidth_ms + config["buckets"] * 2 * rounds * latency * 1e3,
        "syncbn": config["syncbn"] * rounds * latency * 1e3,
        "stragglers": config["compute_ms"] * jitter * math.sqrt(2 * math.log(ranks)),
        "reproducible": rounds * size / bandwidth * 1e3,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="dcgan", choices=sorted(CONFIGS))
    parser.add_argument("--nodes", type=int, nargs="+", default=[8, 64, 512])
    arguments = parser.parse_args()
    config = CONFIGS[arguments.config]
    print(f"`{arguments.config}`: {config['gradient_mb']} MB of gradients in {config['buckets']} buckets, "
          f"{config['syncbn']} SyncBN collectives, {config['compute_ms']} ms of compute per step (16 ranks a node)\n")
    print("| link | nodes | ranks | allreduce, ring ms | allreduce, halving ms | SyncBN ms | stragglers ms (5% jitter) "
          "| reproducible exchanges ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for link, (bandwidth, latency) in LINKS.items():
        for nodes in arguments.nodes:
            c = step_costs(config, nodes, bandwidth, latency)
            print(f"| {link} | {nodes} | {16 * nodes} | {c['ring']:.1f} | {c['halving']:.1f} | {c['syncbn']:.1f} "
                  f"| {c['stragglers']:.1f} | {c['reproducible']:.1f} |")


if __name__ == "__main__":
    main()
