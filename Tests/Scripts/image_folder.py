#!/usr/bin/env python3
"""Image folders for the tests, written and read by Pillow (the reference reader):

    image_folder.py make DIR              a folder with two classes of PNG and JPEG images (grey, RGB, RGBA,
                                          palette; sizes that need resizing and cropping) and a text file
    image_folder.py expect DIR SIZE CHANNELS OUT.npy
                                          torchvision's Grayscale/convert("RGB"), Resize(SIZE) and CenterCrop(SIZE)
                                          of every image, in label then path order, as float32 [N, C, S, S] bytes
"""
import os
import sys

import numpy as np
from PIL import Image


def make(root):
    rng = np.random.default_rng(3)

    def smooth(height, width, channels):  # photographs are smooth; noise would make JPEG's rounding dominate
        y, x = np.mgrid[0:height, 0:width]
        planes = [127 + 120 * np.sin(x / (5 + 3 * c) + y / (7 + c) + rng.uniform(0, 6)) for c in range(channels)]
        return np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)

    os.makedirs(f"{root}/apples", exist_ok=True)
    os.makedirs(f"{root}/pears/more", exist_ok=True)
    Image.fromarray(smooth(30, 41, 3)).save(f"{root}/apples/rgb.png")
    Image.fromarray(smooth(64, 64, 4), "RGBA").save(f"{root}/apples/rgba.png")
    Image.fromarray(smooth(37, 20, 1)[:, :, 0], "L").save(f"{root}/apples/grey.png")
    Image.fromarray(smooth(50, 50, 3)).convert("P", palette=Image.ADAPTIVE).save(f"{root}/apples/palette.png")
    Image.fromarray(smooth(70, 53, 3)).save(f"{root}/pears/photo.jpg", quality=95)
    Image.fromarray(smooth(33, 90, 1)[:, :, 0], "L").save(f"{root}/pears/more/grey.jpeg", quality=95)
    Image.fromarray(smooth(32, 32, 3)).save(f"{root}/pears/exact.png")
    with open(f"{root}/pears/readme.txt", "w") as f:
        f.write("not an image\n")


def files(root):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)) and not d.startswith("."))
    found = []
    for label, name in enumerate(classes):
        for folder, _, names in os.walk(os.path.join(root, name)):
            for file in names:
                if file.lower().endswith((".png", ".jpg", ".jpeg")):
                    found.append((label, os.path.relpath(os.path.join(folder, file), root)))
    return sorted(found)


def expect(root, size, channels, out):
    arrays = []
    for _, path in files(root):
        image = Image.open(os.path.join(root, path)).convert("L" if channels == 1 else "RGB")
        width, height = image.size
        if width <= height:
            target = (size, int(size * height / width))
        else:
            target = (int(size * width / height), size)
        image = image.resize(target, Image.BILINEAR)
        top, left = int(round((image.size[1] - size) / 2.0)), int(round((image.size[0] - size) / 2.0))
        image = image.crop((left, top, left + size, top + size))
        array = np.asarray(image, dtype=np.float32)
        arrays.append(array[None] if channels == 1 else array.transpose(2, 0, 1))
    np.save(out, np.stack(arrays))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        expect(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
