#!/usr/bin/env python3
"""PyTorch peer of `swiftgan train` for the quality table: trains a config as SwiftGAN's trainer does (the same
networks, initialisation, optimisers, losses, schedule, batch and data scaling, one thread) on the MNIST
training split, then writes 10,000 samples of the generator in evaluation mode as float32 .npy
[N, 1, H, W] in [-1, 1] (and the labels asked for, for conditional models) for `swiftgan evaluate`:

    python3 Benchmarks/torch_quality.py --config Configs/gan.yaml --data ../shared/data/mnist --epochs 10 \
        --seed 0 --out /tmp/gan-torch
    Launch/swiftgan evaluate --samples /tmp/gan-torch/samples.npy

Prints one JSON line: config, seed, steps, training seconds.

The loop is SwiftGAN's Trainer written in PyTorch: D scores the real and the fake batch in two forward
passes (as the seeds do; batch norm sees each separately), D trains every `discriminator_every` batches and
G every `critic_steps`, G's fakes are the D step's (reuse), G run again on the same noise (regenerate) or
new noise (fresh); the last partial batch of an epoch is dropped. Only the random numbers differ.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_gan import discriminator_loss, generator_loss, gradient_penalty, load_mnist, networks, optimizer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--data", required=True, help="a folder with the MNIST IDX files")
    parser.add_argument("--epochs", type=float, required=True, help="may be a fraction")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--out", required=True, help="the folder samples.npy (and labels.npy) go to")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    started = time.perf_counter()

    config = yaml.safe_load(open(args.config))
    data, model, schedule = config.get("data", {}), config.get("model", {}), config.get("schedule", {})
    loss = config.get("loss", {})
    size, classes, noise = data.get("image_size", 28), model.get("classes", 0), model.get("noise_size", 100)
    unit_range = data.get("range", [-1, 1]) == [0, 1]
    batch = config.get("training", {}).get("batch_size", 64)
    critic_steps, discriminator_every = schedule.get("critic_steps", 1), schedule.get("discriminator_every", 1)
    fakes, fake_label_kind = schedule.get("generator_fakes", "reuse"), schedule.get("fake_labels", "uniform")
    penalty, clip = float(loss.get("gradient_penalty", 0)), float(loss.get("clip", 0))

    images, labels = load_mnist(args.data, "train", size)
    images = torch.from_numpy(images.copy()).float().unsqueeze(1) / 255  # (N, 1, H, W) in [0, 1]
    if not unit_range:
        images = images * 2 - 1
    labels = torch.from_numpy(labels)
    g, d = networks(config)
    optimizers = config.get("optimizer", {})
    og, od = optimizer(optimizers.get("generator", {}), g.parameters()), optimizer(optimizers.get("discriminator", {}), d.parameters())

    def draw_labels(real_labels):
        return real_labels if fake_label_kind == "batch" else torch.randint(0, classes, (batch,))

    def discriminate(x, y):
        return d(x) if classes == 0 else d(x, y)

    def generate(z, y):
        return g(z) if classes == 0 else g(z, y)

    batches_per_epoch = len(images) // batch
    total_steps = int(round(args.epochs * batches_per_epoch))
    step = 0
    g.train()
    d.train()
    while step < total_steps:
        order = torch.randperm(len(images))
        for batch_in_epoch in range(batches_per_epoch):
            if step == total_steps:
                break
            index = order[batch_in_epoch * batch:(batch_in_epoch + 1) * batch]
            real, real_labels = images[index], labels[index]
            fake_labels = draw_labels(real_labels) if classes else None
            z = torch.randn(batch, noise)
            fake = generate(z, fake_labels)
            if batch_in_epoch % discriminator_every == 0:
                d_loss = discriminator_loss(config, discriminate(real, real_labels), discriminate(fake.detach(), fake_labels))
                if penalty > 0:
                    d_loss = d_loss + gradient_penalty(lambda x: discriminate(x, real_labels), real, fake, penalty)
                od.zero_grad()
                d_loss.backward()
                od.step()
                if clip > 0:
                    with torch.no_grad():
                        for p in d.parameters():
                            p.clamp_(-clip, clip)
            if batch_in_epoch % critic_steps == 0:
                generated, asked = fake, fake_labels
                if fakes == "regenerate":
                    generated = generate(z, fake_labels)
                elif fakes == "fresh":
                    asked = draw_labels(real_labels) if classes else None
                    generated = generate(torch.randn(batch, noise), asked)
                g_loss = generator_loss(config, discriminate(generated, asked))
                og.zero_grad()
                g_loss.backward()
                og.step()
            step += 1
    seconds = time.perf_counter() - started

    # Samples as `swiftgan evaluate` scores a checkpoint: G in evaluation mode, label i mod classes.
    g.eval()
    asked = torch.arange(args.samples) % classes if classes else None
    with torch.no_grad():
        parts = [generate(torch.randn(len(chunk), noise), None if asked is None else asked[chunk])
                 for chunk in torch.arange(args.samples).split(500)]
    samples = torch.cat(parts)
    if unit_range:
        samples = samples * 2 - 1
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "samples.npy"), samples.numpy().astype(np.float32))
    if asked is not None:
        np.save(os.path.join(args.out, "labels.npy"), asked.numpy().astype(np.int64))
    print(json.dumps({"config": config.get("name"), "implementation": "pytorch", "seed": args.seed, "epochs": args.epochs,
                      "steps": total_steps, "train_seconds": round(seconds, 1), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
