#!/usr/bin/env python3
"""PyTorch peer of `swiftgan bench`: the same config's networks (torch_gan.py, docs/models.md), optimisers, losses
and batch, trained on synthetic data with one thread per process, under DistributedDataParallel (gloo on the
CPU, NCCL on GPUs) when started by mpirun. Prints one JSON line like `swiftgan bench`:

    python3 Benchmarks/torch_peer.py --config Configs/dcgan.yaml --steps 20
    mpirun -np 2 python3 Benchmarks/torch_peer.py --config Configs/dcgan.yaml --steps 20
    python3 Benchmarks/torch_peer.py --config Configs/dcgan.yaml --device cuda            # eager, on the GPU
    python3 Benchmarks/torch_peer.py --config Configs/dcgan.yaml --device cuda --graph    # one CUDA graph per step

--graph is the expert hand-work SwiftGAN's GPU targets are measured against: the whole step (D step, G step,
both optimiser updates) captured once into a CUDA graph with capturable optimisers and static input tensors
(warm-up on a side stream, torch.cuda.graph), then replayed; each step copies its batch into the static
inputs first. One process only (DDP's hooks are not captured here).

Differences from SwiftGAN's training step, all in PyTorch's favour or neutral for speed: batch norm is per
rank (PyTorch's SyncBatchNorm refuses CPU tensors); D sees real and fake images in one forward pass (DDP
wants one forward per backward), and DDP does not broadcast buffers each forward.
"""
import argparse
import warnings
import json
import os
import resource
import sys
import time

import torch
import torch.distributed as dist
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_gan import discriminator_loss, generator_loss, gradient_penalty, networks, optimizer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--graph", action="store_true", help="capture the whole step in one CUDA graph (--device cuda, one process)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads per process (swiftgan bench --threads)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=FutureWarning)  # broadcast_buffers is deprecated but says what we mean
    world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    rank = int(os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    if args.graph and (args.device != "cuda" or world > 1):
        parser.error("--graph needs --device cuda and one process")
    if args.device == "cuda":
        local_rank = int(os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", "0"))
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world > 1:
        backend = "nccl" if args.device == "cuda" else "gloo"
        dist.init_process_group(backend, init_method="tcp://127.0.0.1:29517", rank=rank, world_size=world)

    config = yaml.safe_load(open(args.config))
    batch = args.batch_size or config.get("training", {}).get("batch_size", 64)
    local = batch // world
    size = config.get("data", {}).get("image_size", 28)
    classes = config.get("model", {}).get("classes", 0)
    penalty = float(config.get("loss", {}).get("gradient_penalty", 0))
    clip = float(config.get("loss", {}).get("clip", 0))
    critic_steps = config.get("schedule", {}).get("critic_steps", 1)
    torch.manual_seed(0)
    g, d = networks(config)
    g, d = g.to(device), d.to(device)
    if world > 1:
        g = torch.nn.parallel.DistributedDataParallel(g, broadcast_buffers=False)
        d = torch.nn.parallel.DistributedDataParallel(d, broadcast_buffers=False)
    og = optimizer(config.get("optimizer", {}).get("generator", {}), g.parameters(), capturable=args.graph)
    od = optimizer(config.get("optimizer", {}).get("discriminator", {}), d.parameters(), capturable=args.graph)
    images = (torch.rand(local * 8, 1, size, size) * 2 - 1).to(device)
    labels = torch.randint(0, 10, (local * 8,)).to(device)
    # What a step reads: the batch is copied in before each step, so a captured graph sees new data.
    static_real, static_labels = images[:local].clone(), labels[:local].clone()

    def discriminate(x, y):
        return d(x) if classes == 0 else d(x, y)

    def load(i):
        start = (i % 8) * local
        static_real.copy_(images[start:start + local])
        static_labels.copy_(labels[start:start + local])

    def body(i):
        real, real_labels = static_real, static_labels
        z = torch.randn(local, 100, device=device)
        fake_labels = torch.randint(0, 10, (local,), device=device) if classes else None
        fake = g(z) if classes == 0 else g(z, fake_labels)
        scores = discriminate(torch.cat([real, fake.detach()]), None if classes == 0 else torch.cat([real_labels, fake_labels]))
        real_scores, fake_scores = scores[:local], scores[local:]
        d_loss = discriminator_loss(config, real_scores, fake_scores)
        if penalty > 0:
            d_loss = d_loss + gradient_penalty(lambda x: discriminate(x, None if classes == 0 else real_labels), real, fake, penalty)
        od.zero_grad()
        d_loss.backward()
        od.step()
        if clip > 0:
            for p in d.parameters():
                p.data.clamp_(-clip, clip)
        if i % critic_steps == 0:
            scores = discriminate(fake, fake_labels)
            g_loss = generator_loss(config, scores)
            og.zero_grad()
            g_loss.backward()
            og.step()

    def step(i):
        load(i)
        body(i)

    if args.graph:
        # Warm up on a side stream (the optimisers create their state there), then capture one whole step.
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for i in range(max(args.warmup, 3)):
                step(i)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            body(0)

        def step(i):  # noqa: F811 (the replayed form of the same step)
            load(i)
            graph.replay()
    else:
        for i in range(args.warmup):
            step(i)

    def synchronize():
        if args.device == "cuda":
            torch.cuda.synchronize()
        if world > 1:
            dist.barrier()

    synchronize()
    started = time.perf_counter()
    for i in range(args.steps):
        step(args.warmup + i)
    synchronize()
    seconds = (time.perf_counter() - started) / args.steps
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu_peak = torch.cuda.max_memory_allocated() / 2**20 if args.device == "cuda" else None
    if world > 1:
        peak_tensor = torch.tensor([peak])
        dist.all_reduce(peak_tensor, op=dist.ReduceOp.MAX)
        peak = peak_tensor.item()
    if rank == 0:
        print(json.dumps({"config": config.get("name"), "implementation": "pytorch", "device": args.device,
                          "mode": "graph" if args.graph else "eager", "world_size": world, "threads": torch.get_num_threads(),
                          "global_batch": batch, "per_rank_batch": local, "steps": args.steps,
                          "images_per_second": round(batch / seconds, 1), "ms_per_step": round(seconds * 1e3, 2),
                          "peak_memory_mb": round(peak, 1),
                          **({"peak_gpu_memory_mb": round(gpu_peak, 1)} if gpu_peak is not None else {}),
                          "torch": torch.__version__}))
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
