#!/usr/bin/env python3
"""PyTorch's forward+backward time for the conv layers that `swiftgan bench-kernels` measures, with the
same shapes, batch and thread count, so the two can be compared in one run:

    python3 Benchmarks/torch_kernels.py --batch 64 --threads 1
"""
import argparse
import time

import torch
import torch.nn.functional as F

# (config, layer, transposed, in, out, kernel, stride, padding, input size): as in BenchKernels.swift
LAYERS = [
    ("dcgan", "G model.0", True, 256, 128, 3, 2, 0, 4), ("dcgan", "G model.3", True, 128, 64, 3, 2, 1, 9),
    ("dcgan", "G model.6", True, 64, 1, 4, 2, 2, 17), ("dcgan", "D conv.0", False, 1, 16, 3, 2, 1, 32),
    ("dcgan", "D conv.2", False, 16, 32, 3, 2, 1, 16), ("dcgan", "D conv.5", False, 32, 64, 3, 2, 1, 8),
    ("dcgan", "D conv.8", False, 64, 128, 4, 1, 0, 4), ("sngan", "G deconv.0", True, 128, 64, 4, 2, 1, 7),
    ("sngan", "G deconv.3", True, 64, 1, 4, 2, 1, 14), ("sngan", "D conv.0", False, 1, 64, 4, 2, 1, 28),
    ("sngan", "D conv.2", False, 64, 128, 4, 2, 1, 14),
]


def best(repeats, body):
    body()
    fastest = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        fastest = min(fastest, time.perf_counter() - start)
    return fastest


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"PyTorch {torch.__version__}, {args.threads} thread(s)")
    print("layer                      fwd+bwd ms   GFLOP/s")
    for config, name, transposed, cin, cout, k, s, p, size in LAYERS:
        x = torch.randn(args.batch, cin, size, size, requires_grad=True)
        w = (torch.randn(cin, cout, k, k) if transposed else torch.randn(cout, cin, k, k)).mul_(0.1).requires_grad_(True)

        def step():
            y = F.conv_transpose2d(x, w, stride=s, padding=p) if transposed else F.conv2d(x, w, stride=s, padding=p)
            torch.autograd.grad(y, [x, w], torch.ones_like(y))
        y = F.conv_transpose2d(x, w, stride=s, padding=p) if transposed else F.conv2d(x, w, stride=s, padding=p)
        # Multiply-adds of the convolution in the Conv2d direction (for a transposed conv, from y back to x).
        small, large = (x, y) if not transposed else (y, x)
        macs = args.batch * large.shape[1] * large.shape[2] * large.shape[3] * small.shape[1] * k * k
        seconds = best(args.repeats, step)
        print(f"{config + ' ' + name:26} {seconds * 1e3:10.2f} {6 * macs / seconds / 1e9:9.2f}")


if __name__ == "__main__":
    main()
