#!/usr/bin/env python3
"""A folder of RGB pictures to try image-folder training without a dataset of one's own: coloured discs and
squares on shaded backgrounds, in class subfolders (discs/, squares/), alternately PNG and JPEG, at sizes
between 64 and 96 pixels (so they are resized and cropped).

    python3 Benchmarks/shapes.py ~/pictures/shapes --count 4096
"""
import argparse
import os

import numpy as np
from PIL import Image, ImageDraw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--count", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for kind in ("discs", "squares"):
        os.makedirs(os.path.join(args.folder, kind), exist_ok=True)
    for i in range(args.count):
        kind = ("discs", "squares")[i % 2]
        side = int(rng.integers(64, 97))
        y, x = np.mgrid[0:side, 0:side] / side
        top, bottom = rng.uniform(150, 255, 3), rng.uniform(60, 200, 3)
        background = top * (1 - y[..., None]) + bottom * y[..., None] + 10 * x[..., None]
        image = Image.fromarray(np.clip(background, 0, 255).astype(np.uint8))
        draw = ImageDraw.Draw(image)
        radius = rng.uniform(0.15, 0.35) * side
        cx, cy = rng.uniform(radius, side - radius, 2)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = [cx - radius, cy - radius, cx + radius, cy + radius]
        (draw.ellipse if kind == "discs" else draw.rectangle)(box, fill=colour)
        name = os.path.join(args.folder, kind, f"{i:06d}")
        if i % 4 < 2:
            image.save(name + ".png")
        else:
            image.save(name + ".jpg", quality=92)


if __name__ == "__main__":
    main()
