#!/usr/bin/env python3
"""Writes the PyTorch reference values that SwiftGAN's engine tests compare against.

Run once with PyTorch CPU (pip install torch==2.13.0+cpu) from the repository root:
    python3 Tests/Fixtures/make_fixtures.py
The outputs are committed; the Swift tests read them and never need PyTorch.

Files (safetensors, read by SwiftGAN's own reader):
  layers.safetensors      one case per layer, op and loss: inputs, parameters, outputs, gradients
  optimizers.safetensors  Adam and RMSprop: ten steps from the same parameters and gradients
  models/<config>.safetensors  the full generator and discriminator of every config in docs/models.md
  penalty/<critic>.safetensors WGAN-GP's penalty and its gradient with respect to the critic's weights

Large tensors stay small on disk: a weight with two or more dimensions is filled from `hash_values`, which
the Swift tests compute bit for bit (its key and scale are in the header's metadata), and a gradient with
more than SAMPLE_LIMIT values is stored at the strided positions of `sample_positions`.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE_LIMIT = 4096
torch.set_num_threads(1)
torch.manual_seed(0)


# ---------------------------------------------------------------------------------------------- helpers

def hash_values(count, key, scale):
    """float32 values scale * (2u - 1), u from a 32-bit integer hash of (index, key): exact on both sides."""
    i = np.arange(count, dtype=np.uint64)
    x = ((i * np.uint64(0x9E3779B1) + np.uint64(key) * np.uint64(0x85EBCA77)) & np.uint64(0xFFFFFFFF))
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x2C1B3C6D)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(12)
    x = (x * np.uint64(0x297A2D39)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(15)
    u = (x >> np.uint64(8)).astype(np.float64) / float(1 << 24)
    return (scale * (2.0 * u - 1.0)).astype(np.float32)


def hashed(shape, key, scale=1.0):
    return torch.from_numpy(hash_values(int(np.prod(shape)) if len(shape) else 1, key, scale).reshape(shape))


def sample_positions(count):
    """Every value when there are at most SAMPLE_LIMIT, else a stride that keeps about SAMPLE_LIMIT."""
    step = 1 if count <= SAMPLE_LIMIT else math.ceil(count / SAMPLE_LIMIT)
    return np.arange(0, count, step)


def sampled(t):
    flat = t.detach().reshape(-1).numpy()
    return flat[sample_positions(flat.size)]


def write_safetensors(path, tensors, metadata):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    header, chunks, offset = {}, [], 0
    for name, value in tensors.items():
        array = np.asarray(value.detach().numpy() if torch.is_tensor(value) else value)
        array = np.ascontiguousarray(array).reshape(array.shape)  # ascontiguousarray makes 0-d arrays 1-d
        if array.dtype == np.float64:
            array = array.astype(np.float32)
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}[array.dtype]
        data = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in metadata.items()}
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)
    print(f"wrote {os.path.relpath(path, HERE)} ({offset // 1024} KiB of data)")


def initialise(module, tensors, metadata, prefix, key_base):
    """Deterministic values for every state entry: hashed weights (recorded in metadata), stored 1-D values."""
    with torch.no_grad():
        for index, (name, value) in enumerate(module.state_dict(keep_vars=True).items()):
            key = key_base + index
            if name.endswith("num_batches_tracked"):
                continue
            if name.endswith("weight_u") or name.endswith("weight_v"):
                v = hashed(value.shape, key)
                value.copy_(v / v.norm())
                tensors[f"{prefix}.state.{name}"] = value.clone()
            elif value.dim() >= 2:
                scale = 1.0 / math.sqrt(value[0].numel())
                value.copy_(hashed(value.shape, key, scale))
                metadata[f"{prefix}.init.{name}"] = f"{key} {scale!r}"
            elif name.endswith("running_var"):
                value.copy_(1.0 + 0.25 * (hashed(value.shape, key) + 1.0))
                tensors[f"{prefix}.state.{name}"] = value.clone()
            elif name.endswith("weight"):  # batch-norm scale
                value.copy_(1.0 + 0.2 * hashed(value.shape, key))
                tensors[f"{prefix}.state.{name}"] = value.clone()
            else:  # biases, running means
                value.copy_(0.1 * hashed(value.shape, key))
                tensors[f"{prefix}.state.{name}"] = value.clone()


# ---------------------------------------------------------------------------------------------- layers

def layer_fixtures():
    tensors, cases = {}, []

    def case(name, kind, module, x, args=None, extra_input=None):
        """Forward, then backward of sum(y * R); stores inputs, parameters, outputs and gradients."""
        cases.append({"name": name, "kind": kind, "args": args or {}})
        x = x.clone().requires_grad_(True)
        if module is not None:
            module.zero_grad(set_to_none=True)  # cases share modules (train, then eval): no accumulation
        params = dict(module.named_parameters()) if module is not None else {}
        for pname, p in params.items():
            tensors[f"{name}.param.{pname}"] = p.detach().clone()
        if module is not None:
            for bname, b in module.named_buffers():
                tensors[f"{name}.buffer_before.{bname}"] = b.detach().clone()
        tensors[f"{name}.x"] = x.detach().clone()
        y = module(x) if extra_input is None else module(x, extra_input)
        r = hashed(tuple(y.shape), 7)
        (y * r).sum().backward()
        tensors[f"{name}.y"] = y.detach()
        tensors[f"{name}.dx"] = x.grad.detach()
        for pname, p in params.items():
            tensors[f"{name}.grad.{pname}"] = p.grad.detach().clone()
        if module is not None:
            for bname, b in module.named_buffers():
                tensors[f"{name}.buffer_after.{bname}"] = b.detach().clone()

    lin = nn.Linear(5, 3)
    case("linear", "linear", lin, torch.randn(4, 5), {"in": 5, "out": 3, "bias": True})
    lin = nn.Linear(6, 2, bias=False)
    case("linear_nobias", "linear", lin, torch.randn(3, 6), {"in": 6, "out": 2, "bias": False})

    for (k, s, p, bias, h, w) in [(3, 1, 1, True, 7, 6), (3, 2, 1, True, 8, 8), (4, 2, 1, True, 8, 8),
                                  (4, 1, 0, True, 5, 5), (1, 1, 0, True, 4, 5), (5, 2, 2, False, 9, 7),
                                  (3, 2, 0, True, 9, 9)]:
        conv = nn.Conv2d(3, 4, k, s, p, bias=bias)
        case(f"conv2d_k{k}s{s}p{p}", "conv2d", conv, torch.randn(2, 3, h, w),
             {"in": 3, "out": 4, "kernel": k, "stride": s, "padding": p, "bias": bias})

    for (k, s, p, bias, h) in [(3, 2, 0, True, 4), (3, 2, 1, True, 5), (4, 2, 2, True, 6), (4, 2, 1, False, 4),
                               (7, 1, 0, True, 1), (4, 1, 0, True, 1), (3, 1, 1, True, 5)]:
        convt = nn.ConvTranspose2d(3, 2, k, s, p, bias=bias)
        case(f"convtranspose2d_k{k}s{s}p{p}_h{h}", "convtranspose2d", convt, torch.randn(2, 3, h, h),
             {"in": 3, "out": 2, "kernel": k, "stride": s, "padding": p, "bias": bias})

    for eps, n in [(1e-5, 6), (0.8, 5)]:
        bn = nn.BatchNorm1d(4, eps)
        with torch.no_grad():
            bn.weight.copy_(torch.rand(4) + 0.5)
            bn.bias.copy_(torch.randn(4))
            bn.running_mean.copy_(torch.randn(4) * 0.1)
            bn.running_var.copy_(torch.rand(4) + 0.5)
        case(f"batchnorm1d_eps{eps}_train", "batchnorm1d", bn, torch.randn(n, 4) * 2 + 1, {"features": 4, "eps": eps, "train": True})
        bn.eval()
        case(f"batchnorm1d_eps{eps}_eval", "batchnorm1d", bn, torch.randn(n, 4) * 2 + 1, {"features": 4, "eps": eps, "train": False})
    bn = nn.BatchNorm2d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(3) + 0.5)
        bn.bias.copy_(torch.randn(3))
    case("batchnorm2d_train", "batchnorm2d", bn, torch.randn(2, 3, 4, 5) * 3 - 1, {"features": 3, "eps": 1e-5, "train": True})
    bn.eval()
    case("batchnorm2d_eval", "batchnorm2d", bn, torch.randn(2, 3, 4, 5), {"features": 3, "eps": 1e-5, "train": False})

    for name, module in [("relu", nn.ReLU()), ("leakyrelu", nn.LeakyReLU(0.2)), ("tanh", nn.Tanh()),
                         ("sigmoid", nn.Sigmoid())]:
        case(name, name, module, torch.randn(3, 7) * 3, {"slope": 0.2})

    emb = nn.Embedding(10, 6)

    class Lookup(nn.Module):
        def __init__(self, e):
            super().__init__()
            self.e = e

        def forward(self, x):  # x carries nothing; the indices are fixed
            return self.e(torch.tensor([3, 1, 3, 9])) * x

    case("embedding", "embedding", Lookup(emb), torch.ones(4, 6), {"indices": [3, 1, 3, 9]})

    sn_lin = nn.utils.spectral_norm(nn.Linear(6, 4))
    case("spectralnorm_linear_train", "spectralnorm_linear", sn_lin, torch.randn(3, 6), {"in": 6, "out": 4, "train": True})
    sn_lin.eval()
    case("spectralnorm_linear_eval", "spectralnorm_linear", sn_lin, torch.randn(3, 6), {"in": 6, "out": 4, "train": False})
    sn_conv = nn.utils.spectral_norm(nn.Conv2d(2, 3, 4, 2, 1))
    case("spectralnorm_conv2d_train", "spectralnorm_conv2d", sn_conv, torch.randn(2, 2, 6, 6),
         {"in": 2, "out": 3, "kernel": 4, "stride": 2, "padding": 1, "train": True})

    # Losses: x is the prediction; the target (where there is one) is stored as a buffer-like input.
    class Loss(nn.Module):
        def __init__(self, fn, target=None):
            super().__init__()
            self.fn, self.target = fn, target

        def forward(self, x):
            return self.fn(x, self.target) if self.target is not None else self.fn(x)

    target = torch.tensor([[1.0], [0.0], [1.0], [0.0], [0.3]])
    probabilities = torch.tensor([[0.9], [0.2], [1e-45], [1.0 - 1e-7], [0.5]])
    case("bce", "bce", Loss(F.binary_cross_entropy, target), probabilities, {})
    tensors["bce.target"] = target
    logits = torch.tensor([[3.0], [-2.0], [40.0], [-40.0], [0.1]])
    case("bce_logits", "bce_logits", Loss(F.binary_cross_entropy_with_logits, target), logits, {})
    tensors["bce_logits.target"] = target
    class CrossEntropy(nn.Module):
        def forward(self, x):
            return F.cross_entropy(x, torch.tensor([3, 0, 9, 9, 1]))
    case("cross_entropy", "cross_entropy", CrossEntropy(), torch.randn(5, 10) * 3, {"indices": [3, 0, 9, 9, 1]})
    scores = torch.randn(6, 1) * 2
    case("hinge_fake", "hinge_fake", Loss(lambda x: F.relu(1 + x).mean()), scores, {})
    case("hinge_real", "hinge_real", Loss(lambda x: F.relu(1 - x).mean()), scores, {})
    case("mean", "mean", Loss(lambda x: x.mean()), scores, {})

    write_safetensors(os.path.join(HERE, "layers.safetensors"), tensors, {"cases": cases})


def optimizer_fixtures():
    tensors = {}
    p0 = torch.randn(3, 5)
    tensors["initial"] = p0.clone()
    grads = [torch.randn(3, 5) * (0.1 + t) for t in range(10)]
    for t, g in enumerate(grads):
        tensors[f"grad.{t}"] = g
    settings = {
        "adam": lambda p: torch.optim.Adam([p], lr=2e-4, betas=(0.5, 0.999)),
        "adam_gp": lambda p: torch.optim.Adam([p], lr=1e-4, betas=(0.5, 0.9)),
        "rmsprop": lambda p: torch.optim.RMSprop([p], lr=5e-5),
        "rmsprop_big": lambda p: torch.optim.RMSprop([p], lr=0.1),
    }
    for name, make in settings.items():
        p = p0.clone().requires_grad_(True)
        opt = make(p)
        for g in grads:
            p.grad = g.clone()
            opt.step()
        tensors[f"{name}.final"] = p.detach().clone()
        for key, value in opt.state[p].items():
            if torch.is_tensor(value) and value.dim() > 0:
                tensors[f"{name}.state.{key}"] = value.clone()
    write_safetensors(os.path.join(HERE, "optimizers.safetensors"), tensors, {})


# ---------------------------------------------------------------------------------------------- models
# Each config of docs/models.md, written as its seed writes it (names are the state_dict keys).

def mlp_generator(z=100, classes=0, eps=0.8):
    class G(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Linear(z + classes, 128), nn.LeakyReLU(0.2), nn.Linear(128, 256), nn.BatchNorm1d(256, eps),
                nn.LeakyReLU(0.2), nn.Linear(256, 512), nn.BatchNorm1d(512, eps), nn.LeakyReLU(0.2),
                nn.Linear(512, 784), nn.Tanh())

        def forward(self, z, c=None):
            x = z if c is None else torch.cat([z, F.one_hot(c, 10).float()], 1)
            return self.model(x).view(-1, 1, 28, 28)
    return G()


def mlp_discriminator(classes=0, sigmoid=True):
    class D(nn.Module):
        def __init__(self):
            super().__init__()
            layers = [nn.Linear(784 + classes, 512), nn.LeakyReLU(0.2), nn.Linear(512, 256), nn.LeakyReLU(0.2),
                      nn.Linear(256, 1)]
            self.model = nn.Sequential(*(layers + ([nn.Sigmoid()] if sigmoid else [])))

        def forward(self, x, c=None):
            x = x.view(x.size(0), -1)
            return self.model(x if c is None else torch.cat([x, F.one_hot(c, 10).float()], -1))
    return D()


class SimpleGenerator(nn.Module):  # mlp-gan, seed 003
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(100, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                                   nn.Linear(256, 784), nn.Tanh())

    def forward(self, z):
        return self.model(z).view(-1, 1, 28, 28)


class SimpleDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(nn.Linear(784, 256), nn.LeakyReLU(0.1), nn.Linear(256, 256), nn.LeakyReLU(0.1),
                                   nn.Linear(256, 1), nn.Sigmoid())

    def forward(self, x):
        return self.model(x.view(x.size(0), -1))


class DCGANGenerator(nn.Module):  # dcgan, seed 004
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(100, 4 * 4 * 256)
        self.model = nn.Sequential(
            nn.ConvTranspose2d(256, 128, 3, 2, 0), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 3, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 2), nn.Tanh())

    def forward(self, z):
        return self.model(self.linear(z).view(-1, 256, 4, 4))


class DCGANDiscriminator(nn.Module):
    def __init__(self, batch_norm=True, sigmoid=True):
        super().__init__()
        layers = [nn.Conv2d(1, 16, 3, 2, 1), nn.LeakyReLU(0.2)]
        for cin, cout, k, s, p in [(16, 32, 3, 2, 1), (32, 64, 3, 2, 1), (64, 128, 4, 1, 0)]:
            layers.append(nn.Conv2d(cin, cout, k, s, p))
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2))
        self.conv = nn.Sequential(*layers)
        self.linear = nn.Sequential(*([nn.Linear(128, 1)] + ([nn.Sigmoid()] if sigmoid else [])))

    def forward(self, x):
        return self.linear(self.conv(x).view(x.size(0), -1))


class DCGAN28Generator(nn.Module):  # dcgan28, seed 001 (first kernel 7, see docs/models.md)
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(100, 128, 7, 1, 0), nn.BatchNorm2d(128), nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.main(z.view(-1, 100, 1, 1))


class DCGAN28Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128),
            nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(6272, 1), nn.Sigmoid())

    def forward(self, x):
        return self.main(x)


class DCGAN64Generator(nn.Module):  # dcgan64, seed 002
    def __init__(self):
        super().__init__()

        def block(cin, cout, k, s, p):
            return nn.Sequential(nn.ConvTranspose2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU())
        self.net = nn.Sequential(block(100, 1024, 4, 1, 0), block(1024, 512, 4, 2, 1), block(512, 256, 4, 2, 1),
                                 block(256, 128, 4, 2, 1), nn.ConvTranspose2d(128, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z):
        return self.net(z.view(-1, 100, 1, 1))


class DCGAN64Discriminator(nn.Module):
    def __init__(self):
        super().__init__()

        def block(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2))
        self.net = nn.Sequential(nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2), block(64, 128), block(128, 256),
                                 block(256, 512), nn.Conv2d(512, 1, 4, 2, 0), nn.Sigmoid())

    def forward(self, x):
        return self.net(x)


class SNGANGenerator(nn.Module):  # sngan, seed 000
    def __init__(self):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(110, 1024), nn.BatchNorm1d(1024), nn.ReLU(), nn.Linear(1024, 6272),
                                nn.BatchNorm1d(6272), nn.ReLU())
        self.deconv = nn.Sequential(nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
                                    nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z, c):
        x = self.fc(torch.cat([z, F.one_hot(c, 10).float()], 1))
        return self.deconv(x.view(-1, 128, 7, 7))


class SNGANDiscriminator(nn.Module):  # projection discriminator (docs/models.md)
    def __init__(self):
        super().__init__()
        sn = nn.utils.spectral_norm
        self.conv = nn.Sequential(sn(nn.Conv2d(1, 64, 4, 2, 1)), nn.LeakyReLU(0.2), sn(nn.Conv2d(64, 128, 4, 2, 1)),
                                  nn.LeakyReLU(0.2))
        self.fc = nn.Sequential(sn(nn.Linear(6272, 1024)), nn.LeakyReLU(0.2), sn(nn.Linear(1024, 1)))
        self.embed = nn.Embedding(10, 1024)

    def forward(self, x, c):
        h = self.conv(x).view(x.size(0), -1)
        h = self.fc[1](self.fc[0](h))
        return self.fc[2](h) + (self.embed(c) * h).sum(1, keepdim=True)


CONFIGS = {
    # name: (generator, discriminator, image size, conditional)
    "gan": (lambda: mlp_generator(), lambda: mlp_discriminator(), 28, False),
    "mlp-gan": (SimpleGenerator, SimpleDiscriminator, 28, False),
    "cgan": (lambda: mlp_generator(classes=10), lambda: mlp_discriminator(classes=10), 28, True),
    "wgan": (lambda: mlp_generator(), lambda: mlp_discriminator(sigmoid=False), 28, False),
    "wgan-gp": (lambda: mlp_generator(), lambda: mlp_discriminator(sigmoid=False), 28, False),
    "dcgan": (DCGANGenerator, DCGANDiscriminator, 32, False),
    "dcgan28": (DCGAN28Generator, DCGAN28Discriminator, 28, False),
    "dcgan64": (DCGAN64Generator, DCGAN64Discriminator, 64, False),
    "sngan": (SNGANGenerator, SNGANDiscriminator, 28, True),
}
BATCH = 4
LABELS = torch.tensor([3, 0, 7, 3])


def run_network(net, x, labels, tensors, prefix):
    """Eval-mode then train-mode forward and backward of sum(y * R), as the Swift test repeats them."""
    r = None
    for mode in ["eval", "train"]:
        net.train(mode == "train")
        net.zero_grad(set_to_none=True)
        xin = x.clone().requires_grad_(True)
        y = net(xin) if labels is None else net(xin, labels)
        if r is None:
            r = hashed(tuple(y.shape), 99)
            tensors[f"{prefix}.R"] = r
        (y * r).sum().backward()
        tensors[f"{prefix}.{mode}.output"] = y.detach()
        tensors[f"{prefix}.{mode}.dinput"] = torch.from_numpy(sampled(xin.grad))
        for name, p in net.named_parameters():
            tensors[f"{prefix}.{mode}.grad.{name}"] = torch.from_numpy(sampled(p.grad))
    for name, b in net.named_buffers():
        if not name.endswith("num_batches_tracked"):
            tensors[f"{prefix}.after.{name}"] = b.detach().clone()


def kink_margin(net, x, labels):
    """Smallest |pre-activation| of any ReLU or LeakyReLU in eval and train mode, in float64 (exact zeros,
    which every implementation computes alike, excepted). Near zero, the branch a float32 implementation
    takes is decided by rounding, and so is that element's gradient: fixture inputs must stay clear of it."""
    import copy
    probe = copy.deepcopy(net).double()
    smallest = [float("inf")]

    def hook(_, inputs, __):
        a = inputs[0].detach().abs()
        a = a[a > 0]
        if a.numel():
            smallest[0] = min(smallest[0], a.min().item())
    for m in probe.modules():
        if isinstance(m, (nn.ReLU, nn.LeakyReLU)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        for mode in [False, True]:
            probe.train(mode)
            probe(x.double()) if labels is None else probe(x.double(), labels)
    return smallest[0]


def clear_input(net, shape, labels, key, margin=1e-7):
    """The first hashed input from `key` on whose activations no kink lies within `margin`: well above the
    float32 rounding of these sums (about 1e-8), far below typical activations (about 0.1)."""
    for attempt in range(200):
        if kink_margin(net, hashed(shape, key + 100 * attempt), labels) >= margin:
            return hashed(shape, key + 100 * attempt)
    raise RuntimeError(f"no input clear of kinks from key {key}")


def model_fixtures():
    for config, (make_g, make_d, size, conditional) in CONFIGS.items():
        tensors, metadata = {}, {"config": config, "batch": str(BATCH)}
        g, d = make_g(), make_d()
        initialise(g, tensors, metadata, "generator", 1000)
        initialise(d, tensors, metadata, "discriminator", 2000)
        labels = LABELS if conditional else None
        if labels is not None:
            tensors["labels"] = labels.to(torch.int64)
        z = clear_input(g, (BATCH, 100), labels, 11)
        x = clear_input(d, (BATCH, 1, size, size), labels, 12)
        tensors["noise"], tensors["images"] = z, x
        run_network(g, z, labels, tensors, "generator")
        run_network(d, x, labels, tensors, "discriminator")
        write_safetensors(os.path.join(HERE, "models", f"{config}.safetensors"), tensors, metadata)


def penalty_fixtures():
    """WGAN-GP's penalty 10·mean((‖∇x̂ D(x̂)‖ − 1)²) and d(penalty)/dθ for critics without batch norm."""
    critics = {
        "wgan-gp": (lambda: mlp_discriminator(sigmoid=False), 28, False),
        "wgan": (lambda: mlp_discriminator(sigmoid=False), 28, False),  # the same critic; its own weights and inputs
        "gan": (lambda: mlp_discriminator(), 28, False),
        "sngan": (SNGANDiscriminator, 28, True),
        "dcgan-critic": (lambda: DCGANDiscriminator(batch_norm=False, sigmoid=False), 32, False),
    }
    for name, (make, size, conditional) in critics.items():
        tensors, metadata = {}, {"critic": name}
        d = make()
        initialise(d, tensors, metadata, "discriminator", 3000)
        labels = LABELS if conditional else None
        x = clear_input(d, (BATCH, 1, size, size), labels, 13).requires_grad_(True)
        d.train()
        scores = d(x) if labels is None else d(x, labels)
        gradient, = torch.autograd.grad(scores, x, torch.ones_like(scores), create_graph=True)
        penalty = 10 * ((gradient.view(BATCH, -1).norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        tensors["interpolates"] = x.detach()
        if labels is not None:
            tensors["labels"] = labels.to(torch.int64)
        tensors["scores"] = scores.detach()
        tensors["input_gradient"] = torch.from_numpy(sampled(gradient))
        tensors["penalty"] = penalty.detach().reshape(1)
        for pname, p in d.named_parameters():
            # A parameter the input gradient does not depend on (the last bias) gets None: a zero gradient.
            grad = p.grad if p.grad is not None else torch.zeros_like(p)
            tensors[f"grad.{pname}"] = torch.from_numpy(sampled(grad))
        for bname, b in d.named_buffers():
            tensors[f"after.{bname}"] = b.detach().clone()
        write_safetensors(os.path.join(HERE, "penalty", f"{name}.safetensors"), tensors, metadata)


def quality_fixtures():
    """FID and KID of two fixed feature sets, computed the reference way: pytorch-fid's formula with
    scipy.linalg.sqrtm, and the unbiased MMD^2 with the kernel (x.y / d + 1)^3 over the full sets."""
    import scipy.linalg
    n, d = 300, 12
    a = hash_values(n * d, 4001, 1.0).astype(np.float64).reshape(n, d)
    mix = hash_values(d * d, 4002, 0.5).astype(np.float64).reshape(d, d) + np.eye(d)
    b = hash_values(n * d, 4003, 1.0).astype(np.float64).reshape(n, d) @ mix + 0.3
    # The Swift side reads float32: compute from exactly those values.
    a, b = a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    sigma_a, sigma_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(sigma_a.dot(sigma_b))
    fid = float(((mu_a - mu_b) ** 2).sum() + np.trace(sigma_a) + np.trace(sigma_b) - 2 * np.trace(root.real))

    def kernel(x, y):
        return (x @ y.T / d + 1) ** 3
    kxx, kyy, kxy = kernel(a, a), kernel(b, b), kernel(a, b)
    kid = float((kxx.sum() - np.trace(kxx)) / (n * (n - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())
    write_safetensors(os.path.join(HERE, "quality.safetensors"),
                      {"a": a.astype(np.float32), "b": b.astype(np.float32), "fid": np.array([fid]), "kid": np.array([kid])}, {})


if __name__ == "__main__":
    print(f"PyTorch {torch.__version__}")
    layer_fixtures()
    optimizer_fixtures()
    model_fixtures()
    penalty_fixtures()
    quality_fixtures()
