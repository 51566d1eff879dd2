"""What the PyTorch peers share: a config's networks (the fixture script's modules, written as the seeds write
them), initialisation, optimisers and losses, and the MNIST IDX files read the way SwiftGAN reads them."""
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures"))
import make_fixtures  # noqa: E402


def networks(config):
    """The generator and discriminator of a config (docs/models.md), initialised as `model.initialization` says."""
    model = config.get("model", {})
    architecture = model.get("architecture", "gan")
    classes = model.get("classes", 0)
    if architecture == "gan":
        g = make_fixtures.mlp_generator(classes=classes, eps=model.get("batch_norm_epsilon", 0.8))
        d = make_fixtures.mlp_discriminator(classes=classes, sigmoid=model.get("discriminator_sigmoid", True))
    else:
        g, d = make_fixtures.CONFIGS[architecture][0](), make_fixtures.CONFIGS[architecture][1]()
    scheme = model.get("initialization", "pytorch")
    if scheme != "pytorch":
        for network in (g, d):
            initialise(network, scheme)
    return g, d


def initialise(network, scheme):
    """Seed 004's weights_init_normal (dcgan-normal) or seed 002's initialize_weights (dcgan64-normal); linear
    layers keep PyTorch's default in both."""
    for module in network.modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0 if scheme == "dcgan-normal" else 0.0, 0.02)
            if scheme == "dcgan-normal":
                nn.init.zeros_(module.bias)


def optimizer(settings, parameters, capturable=False):
    """The config's optimiser; `capturable` keeps its step count on the GPU so a CUDA graph can replay it."""
    kind = settings.get("kind", "adam")
    rate = float(settings.get("learning_rate", 2e-4))
    eps = float(settings.get("epsilon", 1e-8))
    extra = {"capturable": True} if capturable else {}
    if kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=rate, alpha=float(settings.get("alpha", 0.99)), eps=eps, **extra)
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=rate)
    return torch.optim.Adam(parameters, lr=rate, betas=tuple(settings.get("betas", [0.5, 0.999])), eps=eps, **extra)


def discriminator_loss(config, real_scores, fake_scores):
    loss = config.get("loss", {})
    kind = loss.get("kind", "bce")
    if kind == "bce":
        total = F.binary_cross_entropy(real_scores, torch.ones_like(real_scores)) + \
            F.binary_cross_entropy(fake_scores, torch.zeros_like(fake_scores))
        return total / 2 if loss.get("discriminator_reduction", "sum") == "mean" else total
    if kind == "hinge":
        return F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
    return fake_scores.mean() - real_scores.mean()


def generator_loss(config, fake_scores):
    if config.get("loss", {}).get("kind", "bce") == "bce":
        return F.binary_cross_entropy(fake_scores, torch.ones_like(fake_scores))
    return -fake_scores.mean()


def gradient_penalty(critic, real, fake, weight):
    """WGAN-GP's weight * mean((|grad critic(x_hat)| - 1)^2) at x_hat = a real + (1 - a) fake, a ~ U(0, 1) per sample."""
    alpha = torch.rand(real.size(0), 1, 1, 1, device=real.device)
    x = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    out = critic(x)
    grad, = torch.autograd.grad(out, x, torch.ones_like(out), create_graph=True)
    return weight * ((grad.view(real.size(0), -1).norm(2, dim=1) - 1) ** 2).mean()


def read_idx(path):
    """An IDX file (gzipped or not) as a uint8 array of its dimensions."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def locate(directory, name):
    """The path of `name.gz` or `name` in `directory`, as SwiftGAN looks for IDX files."""
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise SystemExit(f"error: neither {name} nor {name}.gz is in {directory}")


def load_mnist(directory, split, size):
    """Images `(N, size, size)` uint8 (resized bilinearly as torchvision's Resize does, through PIL) and labels."""
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(locate(directory, f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(locate(directory, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
    if images.shape[1] != size:
        from PIL import Image
        images = np.stack([np.asarray(Image.fromarray(i).resize((size, size), Image.BILINEAR)) for i in images])
    return images, labels
