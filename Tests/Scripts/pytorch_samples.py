#!/usr/bin/env python3
"""Loads a SwiftGAN checkpoint's `generator.*` tensors into the seed's PyTorch generator with
load_state_dict(strict=True) and writes its samples for the given noise (evaluation mode):
    python3 Tests/Scripts/pytorch_samples.py CONFIG CHECKPOINT NOISE.npy OUT.npy [LABELS.npy]
The module definitions are the fixture script's, which follow docs/models.md.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures"))
import make_fixtures  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": np.float32, "I64": np.int64}[info["dtype"]]
        tensors[name] = torch.from_numpy(np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"]).copy())
    return tensors


config, checkpoint, noise_path, out_path = sys.argv[1:5]
labels = torch.from_numpy(np.load(sys.argv[5])) if len(sys.argv) > 5 else None
make_generator = make_fixtures.CONFIGS[config][0]
generator = make_generator()
state = {k[len("generator."):]: v for k, v in read_safetensors(checkpoint).items() if k.startswith("generator.")}
generator.load_state_dict(state, strict=True)
generator.eval()
with torch.no_grad():
    z = torch.from_numpy(np.load(noise_path))
    samples = generator(z) if labels is None else generator(z, labels)
np.save(out_path, samples.numpy().astype(np.float32))
