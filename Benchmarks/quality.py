#!/usr/bin/env python3
"""The quality table: every config trained by SwiftGAN and by its PyTorch peer (torch_quality.py) for the same
epochs on the MNIST training split, both scored by `swiftgan evaluate` (FID, KID, IS, label accuracy against
the 10,000 test digits). Jobs run two at a time, one thread each; results accumulate in
<out>/results.jsonl, so an interrupted run continues where it stopped. Then the table is written:

    Launch/setup-python                                                            # PyTorch CPU, once
    python3 Benchmarks/quality.py --data ../shared/data/mnist                       # every config, seed 0
    python3 Benchmarks/quality.py --data ../shared/data/mnist --seeds 1 2 --only pytorch
    python3 Benchmarks/quality.py --table                                          # results -> Markdown/CSV

Wall time is the whole training process (data loading and, for PyTorch, its import), one thread each, with
the other job of the pair running on the second core.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# config: epochs (the budget: each row runs in minutes on 2 cores)
EPOCHS = {"gan": 10, "cgan": 10, "wgan-gp": 10, "mlp-gan": 10, "wgan": 10, "dcgan": 3, "dcgan28": 3, "sngan": 1,
          "dcgan64": 0.25}
SWIFTGAN = os.path.join(ROOT, ".build", "release", "swiftgan")
lock = threading.Lock()


def batches_per_epoch(config, data):
    """Full batches in an epoch of the training split in `data`, as both trainers count them (last one dropped)."""
    import yaml
    from torch_gan import locate, read_idx
    batch = yaml.safe_load(open(os.path.join(ROOT, "Configs", f"{config}.yaml")))["training"]["batch_size"]
    return len(read_idx(locate(data, "train-labels-idx1-ubyte"))) // batch


def run(command, log):
    started = time.perf_counter()
    with open(log, "a") as f:
        f.write("$ " + " ".join(command) + "\n")
        f.flush()
        result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=f, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}); see {log}")
    return result.stdout, time.perf_counter() - started


def job(implementation, config, seed, args):
    epochs = args.epochs or EPOCHS[config]
    folder = os.path.join(args.out, f"{config}-{implementation}-seed{seed}")
    os.makedirs(folder, exist_ok=True)
    log = os.path.join(folder, "log.txt")
    configuration = os.path.join("Configs", f"{config}.yaml")
    if implementation == "swiftgan":
        steps = round(epochs * batches_per_epoch(config, args.data))
        _, seconds = run([SWIFTGAN, "train", "--config", configuration, "--data", args.data, "--epochs", str(max(1, int(epochs + 0.999))),
                          "--max-steps", str(steps), "--seed", str(seed), "--run-dir", os.path.join(folder, "run"), "--quiet"], log)
        scored = ["--checkpoint", os.path.join(folder, "run", "checkpoints", "latest.safetensors")]
    else:
        _, seconds = run([sys.executable, "Benchmarks/torch_quality.py", "--config", configuration, "--data", args.data,
                          "--epochs", str(epochs), "--seed", str(seed), "--out", folder], log)
        scored = ["--samples", os.path.join(folder, "samples.npy")]
        if os.path.exists(os.path.join(folder, "labels.npy")):
            scored += ["--labels", os.path.join(folder, "labels.npy")]
    report, _ = run([SWIFTGAN, "evaluate"] + scored + ["--data", args.data], log)
    record = {"config": config, "implementation": implementation, "seed": seed, "epochs": epochs,
              "train_seconds": round(seconds, 1), **json.loads(report.strip().splitlines()[-1])}
    with lock:
        with open(os.path.join(args.out, "results.jsonl"), "a") as f:
            f.write(json.dumps(record) + "\n")
    print(json.dumps({k: record[k] for k in ("config", "implementation", "seed", "train_seconds", "fid", "inception_score")}
                     | ({"label_accuracy": record["label_accuracy"]} if "label_accuracy" in record else {})), flush=True)


def results(out):
    path = os.path.join(out, "results.jsonl")
    return [json.loads(line) for line in open(path)] if os.path.exists(path) else []


def table(args):
    rows = results(args.out)
    by = {}
    for r in rows:
        by.setdefault((r["config"], r["implementation"]), []).append(r)

    def cell(records, key, digits):
        values = [r[key] for r in records if r.get(key) is not None]
        if not values:
            return "–"
        mean = statistics.fmean(values)
        if len(values) == 1:
            return f"{mean:.{digits}f}"
        return f"{mean:.{digits}f} ± {statistics.stdev(values):.{digits}f} ({len(values)})"

    lines = ["| config | epochs | SwiftGAN FID | PyTorch FID | SwiftGAN IS | PyTorch IS | SwiftGAN label acc. | PyTorch label acc. "
             "| SwiftGAN train s | PyTorch train s |", "|" + "---|" * 10]
    with open(os.path.join(args.results, "quality.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["config", "implementation", "seed", "epochs", "train_seconds", "fid", "kid", "inception_score", "label_accuracy"])
        for r in sorted(rows, key=lambda r: (list(EPOCHS).index(r["config"]), r["implementation"], r["seed"])):
            writer.writerow([r["config"], r["implementation"], r["seed"], r["epochs"], r["train_seconds"], r["fid"], r["kid"],
                             r["inception_score"], r.get("label_accuracy", "")])
    for config in EPOCHS:
        s, t = by.get((config, "swiftgan"), []), by.get((config, "pytorch"), [])
        if not s and not t:
            continue
        epochs = "/".join(sorted({f"{r['epochs']:g}" for r in s + t}))
        lines.append(f"| {config} | {epochs} | {cell(s, 'fid', 1)} | {cell(t, 'fid', 1)} | {cell(s, 'inception_score', 2)} | "
                     f"{cell(t, 'inception_score', 2)} | {cell(s, 'label_accuracy', 3)} | {cell(t, 'label_accuracy', 3)} | "
                     f"{cell(s, 'train_seconds', 0)} | {cell(t, 'train_seconds', 0)} |")
    text = "\n".join(lines) + "\n\nMean ± standard deviation (number of seeds); FID and IS by `swiftgan evaluate` on 10,000 samples.\n"
    open(os.path.join(args.results, "quality.md"), "w").write(text)
    print(text)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="a folder with the full MNIST IDX files (train and t10k)")
    parser.add_argument("--configs", nargs="*", default=list(EPOCHS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--only", choices=["swiftgan", "pytorch"])
    parser.add_argument("--epochs", type=float, help="instead of the table's budget (for a quick try)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=os.path.join(ROOT, "runs", "quality"))
    parser.add_argument("--results", default=os.path.join(ROOT, "Benchmarks", "results"),
                        help="where quality.md and quality.csv go (elsewhere for a quick try)")
    parser.add_argument("--table", action="store_true", help="only write the table from the results so far")
    args = parser.parse_args()
    args.out = os.path.abspath(args.out)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread per job, as torch_quality.py
    os.makedirs(args.out, exist_ok=True)
    if not args.table:
        if not args.data:
            parser.error("--data is required to train")
        args.data = os.path.abspath(args.data)
        # Launch/swiftgan installs what is missing and builds the release binary the jobs call.
        subprocess.run([os.path.join(ROOT, "Launch", "swiftgan"), "version"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        done = {(r["config"], r["implementation"], r["seed"]) for r in results(args.out)}
        todo = [(i, c, s) for c in args.configs for s in args.seeds for i in ("swiftgan", "pytorch")
                if (args.only in (None, i)) and (c, i, s) not in done]
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for future in [pool.submit(job, i, c, s, args) for i, c, s in todo]:
                future.result()
    table(args)


if __name__ == "__main__":
    main()
