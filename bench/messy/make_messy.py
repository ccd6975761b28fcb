#!/usr/bin/env python3
"""A messy MNIST-like image folder: Fashion-MNIST written in a mix of formats,
colour modes and sizes, with a few broken files, as a new user's folder
might be. kiln's issue 15 measured kiln against PyTorch on such a folder.

usage: /usr/bin/python3 make_messy.py OUT [--idx DIR] [--train N] [--test N]

Reads Debian's Fashion-MNIST IDX files (/usr/share/datasets/fashion-mnist,
or --idx) and writes two trees:
  OUT/messy/{train,test}/<class>/NNNNN_<kind>.<ext>  every image, and a few
      broken files in train/ and test/ (empty, truncated, text named .png):
      what kiln reads, skipping and naming the broken ones;
  OUT/clean/{train,test}/...  hard links to the good files that torchvision's
      ImageFolder reads: it stops at the first broken file, and its
      IMG_EXTENSIONS leave out .gif (kiln reads GIFs), so they are left out
      here too: both programs can be run on exactly the same images.
Each image's kind (format and mode) is its file name's suffix; kinds.tsv
lists them with their share. Same arguments, same files (the mix is drawn
from a fixed seed).

Kinds, by share of the images (sizes drawn from 20, 28, 32, 40 and 56 px,
resized with Pillow's bilinear filter):
  PNG  L, LA (alpha from the ink), RGB, RGBA, P (64-colour palette),
       I;16 with 8-bit values (what Pillow writes for an 8-bit image saved
       in mode I;16; Pillow clips them as they are), and a few 16-bit over
       the whole range (values times 257, as ImageMagick -depth 16 writes)
  JPEG L, RGB, CMYK (Adobe-inverted, as Pillow writes it)
  GIF  P
  BMP  L, P, RGB
"""
import argparse
import gzip
import os
import struct

import numpy as np
from PIL import Image

CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]

# (kind, weight): the mix of formats and modes.
KINDS = [
    ("png_l", 10), ("png_la", 6), ("png_rgb", 8), ("png_rgba", 6), ("png_p", 6),
    ("png_i16", 7), ("png_i16full", 1),
    ("jpg_l", 10), ("jpg_rgb", 10), ("jpg_cmyk", 7),
    ("gif_p", 8),
    ("bmp_l", 7), ("bmp_p", 6), ("bmp_rgb", 8),
]
SIZES = [20, 28, 28, 32, 40, 56]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic, n = struct.unpack(">II", b[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", b[8:16])
        return np.frombuffer(b, np.uint8, offset=16).reshape(n, rows, cols)
    return np.frombuffer(b, np.uint8, offset=8)


def write(img, kind, path_noext):
    """Saves the 8-bit grey picture img as kind; returns the file's path."""
    fmt, mode = kind.split("_")
    ext = {"png": "png", "jpg": "jpg", "gif": "gif", "bmp": "bmp"}[fmt]
    path = path_noext + "_" + kind + "." + ext
    a = np.asarray(img)
    if mode == "l":
        im = img
    elif mode == "la":
        im = Image.merge("LA", (img, Image.fromarray(np.where(a > 8, 255, a * 16).astype(np.uint8), "L")))
    elif mode == "rgb":
        im = img.convert("RGB")
    elif mode == "rgba":
        im = Image.merge("RGBA", img.convert("RGB").split() + (Image.fromarray((a // 2 + 128).astype(np.uint8), "L"),))
    elif mode == "p":
        im = img.convert("RGB").quantize(colors=64)
    elif mode == "cmyk":
        im = img.convert("RGB").convert("CMYK")
    elif mode == "i16":
        im = Image.frombytes("I;16", img.size, a.astype("<u2").tobytes())
    elif mode == "i16full":
        im = Image.frombytes("I;16", img.size, (a.astype(np.uint32) * 257).astype("<u2").tobytes())
    else:
        raise ValueError(kind)
    opts = {"quality": 90} if fmt == "jpg" else {}
    im.save(path, **opts)
    return path


def broken(dirpath, rs, good_example):
    """Writes a few files that do not decode into one class folder."""
    os.makedirs(dirpath, exist_ok=True)
    with open(os.path.join(dirpath, "zz_empty.png"), "wb"):
        pass
    with open(os.path.join(dirpath, "zz_notes.jpg"), "w") as f:
        f.write("this is not a JPEG\n")
    b = open(good_example, "rb").read()
    with open(os.path.join(dirpath, "zz_truncated.png"), "wb") as f:
        f.write(b[: max(30, len(b) // 3)])
    with open(os.path.join(dirpath, "zz_header_only.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--idx", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--train", type=int, default=12000)
    p.add_argument("--test", type=int, default=3000)
    a = p.parse_args()
    rs = np.random.RandomState(15)
    names = [k for k, _ in KINDS]
    weights = np.array([w for _, w in KINDS], dtype=float)
    weights /= weights.sum()
    counts = {}
    for split, prefix, n in (("train", "train", a.train), ("test", "t10k", a.test)):
        images = read_idx(os.path.join(a.idx, prefix + "-images-idx3-ubyte.gz"))[:n]
        labels = read_idx(os.path.join(a.idx, prefix + "-labels-idx1-ubyte.gz"))[:n]
        kinds = rs.choice(len(names), size=len(images), p=weights)
        sizes = rs.choice(SIZES, size=len(images))
        last = None
        for i, (x, y) in enumerate(zip(images, labels)):
            d = os.path.join(a.out, "messy", split, CLASSES[y])
            c = os.path.join(a.out, "clean", split, CLASSES[y])
            os.makedirs(d, exist_ok=True)
            os.makedirs(c, exist_ok=True)
            img = Image.fromarray(x, "L")
            if sizes[i] != 28:
                img = img.resize((int(sizes[i]), int(sizes[i])), Image.BILINEAR)
            kind = names[kinds[i]]
            path = write(img, kind, os.path.join(d, "%05d" % i))
            if not path.endswith(".gif"):
                os.link(path, os.path.join(c, os.path.basename(path)))
            counts[(split, kind)] = counts.get((split, kind), 0) + 1
            last = path
        for cls in (CLASSES[0], CLASSES[5]):
            broken(os.path.join(a.out, "messy", split, cls), rs, last)
    with open(os.path.join(a.out, "kinds.tsv"), "w") as f:
        f.write("kind\ttrain\ttest\n")
        for k in names:
            f.write("%s\t%d\t%d\n" % (k, counts.get(("train", k), 0), counts.get(("test", k), 0)))
    print(open(os.path.join(a.out, "kinds.tsv")).read(), end="")


if __name__ == "__main__":
    main()
