#!/usr/bin/env python3
"""How many epochs a conditional config needs before 90% of its samples are classified as the digit asked
for: trains with `Launch/train` on as many ranks as this machine has cores, scoring the generator after every
epoch (logging.evaluate_every=1), and stops the run at the first epoch that reaches the target.

    python3 Benchmarks/label_epochs.py --config cgan --data ../shared/data/mnist --max-epochs 60

Prints one JSON line per evaluated epoch, then a summary line.
"""
import argparse
import json
import os
import signal
import subprocess
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True, help="a config name: cgan or sngan")
    parser.add_argument("--data", required=True, help="a folder with the full MNIST IDX files")
    parser.add_argument("--ranks", type=int, default=os.cpu_count())
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--samples", type=int, default=5000, help="samples scored after each epoch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(ROOT, "runs", "label-epochs"))
    args = parser.parse_args()
    run_dir = os.path.abspath(os.path.join(args.out, f"{args.config}-np{args.ranks}-seed{args.seed}"))
    if os.path.exists(run_dir):
        raise SystemExit(f"error: {run_dir} exists; remove it or choose another --out")
    command = ["Launch/train", "-np", str(args.ranks), "--config", f"Configs/{args.config}.yaml", "--data", os.path.abspath(args.data),
               "--epochs", str(args.max_epochs), "--seed", str(args.seed), "--run-dir", run_dir, "--quiet",
               "--set", "logging.evaluate_every=1", "--set", f"logging.evaluation_samples={args.samples}"]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    metrics, seen, reached = os.path.join(run_dir, "metrics.jsonl"), 0, None
    while reached is None and process.poll() is None:
        time.sleep(2)
        if not os.path.exists(metrics):
            continue
        records = [json.loads(line) for line in open(metrics) if '"kind": "evaluation"' in line]
        for record in records[seen:]:
            print(json.dumps({"epoch": record["epoch"], "label_accuracy": round(record["label_accuracy"], 4),
                              "fid": round(record["fid"], 1), "seconds": round(time.perf_counter() - started)}), flush=True)
            if record["label_accuracy"] >= args.target and reached is None:
                reached = record
        seen = len(records)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the target is reached: the rest of the run is not needed
        process.wait()
    elif process.returncode != 0:
        raise SystemExit(f"error: training failed ({process.returncode})")
    summary = {"config": args.config, "ranks": args.ranks, "seed": args.seed, "target": args.target,
               "epochs_to_target": reached["epoch"] if reached else None, "max_epochs": args.max_epochs,
               "seconds": round(time.perf_counter() - started)}
    print(json.dumps(summary), flush=True)
    with open(os.path.join(ROOT, "Benchmarks", "results", "label-epochs.jsonl"), "a") as f:
        f.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
