#!/usr/bin/env python3
"""Golden outputs of torchvision's transforms on PIL images, for golden_test.go.

Run from this directory with Debian's python3-torchvision (0.14) and
python3-pil (9.4):  /usr/bin/python3 make.py

It writes three small input images (in_*.png), the output of each
deterministic transform (out/*.png for 8-bit results, out/*.f32 for float32
little-endian tensors) and cases.json, which names the operation, its
arguments, the input and the output of every case. The Go test reads only
those files; it never runs Python.
"""
import json
import os
import sys

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")


def inputs():
    rs = np.random.RandomState(7)
    # Noise: every rounding decision shows.
    a = rs.randint(0, 256, size=(17, 23, 3), dtype=np.uint8)
    # Smooth gradients with a few hard edges: what photos look like.
    yy, xx = np.mgrid[0:30, 0:40]
    b = np.stack(
        [xx * 6, yy * 8, (xx + yy) * 3], axis=-1
    ).clip(0, 255).astype(np.uint8)
    b[8:20, 10:25] = (250, 30, 40)
    b[3:6, 30:38] = (20, 240, 60)
    g = rs.randint(0, 256, size=(13, 19), dtype=np.uint8)
    g[4:9, 5:14] = 200
    imgs = {
        "in_noise.png": Image.fromarray(a, "RGB"),
        "in_grad.png": Image.fromarray(b, "RGB"),
        "in_gray.png": Image.fromarray(g, "L"),
    }
    for name, im in imgs.items():
        im.save(os.path.join(HERE, name))
    # Read back so the cases run on exactly what was committed.
    return {n: Image.open(os.path.join(HERE, n)).copy() for n in imgs}


INTERP = {
    "nearest": T.InterpolationMode.NEAREST,
    "bilinear": T.InterpolationMode.BILINEAR,
    "bicubic": T.InterpolationMode.BICUBIC,
}


def run(op, im, a):
    if op == "resize":
        size = a["size"][0] if len(a["size"]) == 1 else a["size"]
        return F.resize(im, size, INTERP[a["interp"]])
    if op == "center_crop":
        return F.center_crop(im, a["size"])
    if op == "grayscale":
        return F.to_grayscale(im, a["channels"])
    if op == "to_tensor":
        return F.to_tensor(im)
    if op == "normalize":
        return F.normalize(F.to_tensor(im), a["mean"], a["std"])
    if op == "hflip":
        return F.hflip(im)
    if op == "vflip":
        return F.vflip(im)
    if op == "rotate":
        fill = a.get("fill")
        return F.rotate(im, a["angle"], INTERP[a["interp"]], fill=fill)
    if op == "pad":
        return F.pad(im, a["padding"], fill=tuple(a["fill"]) if im.mode == "RGB" else a["fill"][0],
                     padding_mode=a["mode"])
    if op == "crop":
        return F.crop(im, a["top"], a["left"], a["h"], a["w"])
    if op == "resized_crop":
        return F.resized_crop(im, a["top"], a["left"], a["h"], a["w"], a["size"],
                              INTERP[a["interp"]])
    if op == "random_crop":
        # RandomCrop's padding stage, then its crop with fixed parameters.
        t = T.RandomCrop(a["size"], padding=a["padding"], pad_if_needed=a["pad_if_needed"],
                         padding_mode=a["mode"])
        if t.padding is not None:
            im = F.pad(im, t.padding, t.fill, t.padding_mode)
        w, h = im.size
        if t.pad_if_needed and w < t.size[1]:
            im = F.pad(im, [t.size[1] - w, 0], t.fill, t.padding_mode)
        if t.pad_if_needed and h < t.size[0]:
            im = F.pad(im, [0, t.size[0] - h], t.fill, t.padding_mode)
        return F.crop(im, a["top"], a["left"], t.size[0], t.size[1])
    if op == "brightness":
        return F.adjust_brightness(im, a["factor"])
    if op == "contrast":
        return F.adjust_contrast(im, a["factor"])
    if op == "saturation":
        return F.adjust_saturation(im, a["factor"])
    if op == "hue":
        return F.adjust_hue(im, a["factor"])
    raise ValueError(op)


CASES = [
    # Resize: down (antialiased), up, exact size, each interpolation.
    ("resize", "in_grad.png", {"size": [16], "interp": "bilinear"}),
    ("resize", "in_grad.png", {"size": [11, 7], "interp": "bilinear"}),
    ("resize", "in_grad.png", {"size": [7], "interp": "bilinear"}),
    ("resize", "in_grad.png", {"size": [16], "interp": "bicubic"}),
    ("resize", "in_grad.png", {"size": [16], "interp": "nearest"}),
    ("resize", "in_grad.png", {"size": [30, 17], "interp": "bilinear"}),
    ("resize", "in_noise.png", {"size": [8], "interp": "bilinear"}),
    ("resize", "in_noise.png", {"size": [37], "interp": "bilinear"}),
    ("resize", "in_noise.png", {"size": [37], "interp": "bicubic"}),
    ("resize", "in_noise.png", {"size": [37], "interp": "nearest"}),
    ("resize", "in_noise.png", {"size": [50, 29], "interp": "bilinear"}),
    ("resize", "in_noise.png", {"size": [12, 40], "interp": "bilinear"}),
    ("resize", "in_noise.png", {"size": [7, 9], "interp": "nearest"}),
    ("resize", "in_gray.png", {"size": [8], "interp": "bilinear"}),
    ("resize", "in_gray.png", {"size": [30], "interp": "bicubic"}),
    # CenterCrop: odd offsets (round half to even), and crops larger than the image.
    ("center_crop", "in_noise.png", {"size": [10, 10]}),
    ("center_crop", "in_noise.png", {"size": [12, 9]}),
    ("center_crop", "in_noise.png", {"size": [30, 30]}),
    ("center_crop", "in_noise.png", {"size": [8, 30]}),
    ("center_crop", "in_gray.png", {"size": [6, 6]}),
    # Grayscale and tensors.
    ("grayscale", "in_noise.png", {"channels": 1}),
    ("grayscale", "in_grad.png", {"channels": 3}),
    ("to_tensor", "in_noise.png", {}),
    ("to_tensor", "in_gray.png", {}),
    ("normalize", "in_noise.png", {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}),
    ("normalize", "in_gray.png", {"mean": [0.5], "std": [0.25]}),
    # Flips.
    ("hflip", "in_noise.png", {}),
    ("vflip", "in_noise.png", {}),
    ("hflip", "in_gray.png", {}),
    # Rotation by fixed angles.
    ("rotate", "in_grad.png", {"angle": 30.0, "interp": "nearest"}),
    ("rotate", "in_grad.png", {"angle": 30.0, "interp": "bilinear"}),
    ("rotate", "in_grad.png", {"angle": -45.0, "interp": "bilinear", "fill": [10, 20, 30]}),
    ("rotate", "in_grad.png", {"angle": 12.5, "interp": "bicubic"}),
    ("rotate", "in_grad.png", {"angle": 90.0, "interp": "nearest"}),
    ("rotate", "in_grad.png", {"angle": 180.0, "interp": "nearest"}),
    ("rotate", "in_noise.png", {"angle": -100.0, "interp": "nearest", "fill": [255, 255, 255]}),
    ("rotate", "in_gray.png", {"angle": 17.5, "interp": "bilinear"}),
    # Padding in every mode, crops in and out of bounds.
    ("pad", "in_noise.png", {"padding": [3, 2, 1, 4], "mode": "constant", "fill": [1, 2, 3]}),
    ("pad", "in_noise.png", {"padding": [4, 4, 4, 4], "mode": "edge", "fill": [0, 0, 0]}),
    ("pad", "in_noise.png", {"padding": [5, 3, 2, 6], "mode": "reflect", "fill": [0, 0, 0]}),
    ("pad", "in_noise.png", {"padding": [5, 3, 2, 6], "mode": "symmetric", "fill": [0, 0, 0]}),
    ("pad", "in_gray.png", {"padding": [25, 15, 20, 14], "mode": "reflect", "fill": [0]}),
    ("pad", "in_gray.png", {"padding": [25, 15, 20, 14], "mode": "symmetric", "fill": [0]}),
    ("crop", "in_noise.png", {"top": 3, "left": 5, "h": 9, "w": 11}),
    ("crop", "in_noise.png", {"top": -2, "left": 18, "h": 9, "w": 11}),
    ("random_crop", "in_noise.png", {"size": [16, 16], "padding": 4, "pad_if_needed": False,
                                     "mode": "reflect", "top": 7, "left": 2}),
    ("random_crop", "in_gray.png", {"size": [20, 24], "padding": None, "pad_if_needed": True,
                                    "mode": "constant", "top": 5, "left": 3}),
    ("resized_crop", "in_grad.png", {"top": 2, "left": 3, "h": 15, "w": 12, "size": [9, 9],
                                     "interp": "bilinear"}),
    # ColorJitter's four adjustments with fixed factors.
    ("brightness", "in_noise.png", {"factor": 0.6}),
    ("brightness", "in_noise.png", {"factor": 1.4}),
    ("contrast", "in_noise.png", {"factor": 0.5}),
    ("contrast", "in_grad.png", {"factor": 1.7}),
    ("contrast", "in_gray.png", {"factor": 1.3}),
    ("saturation", "in_grad.png", {"factor": 0.3}),
    ("saturation", "in_noise.png", {"factor": 1.8}),
    ("hue", "in_grad.png", {"factor": 0.1}),
    ("hue", "in_noise.png", {"factor": -0.27}),
    ("hue", "in_noise.png", {"factor": 0.5}),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    imgs = inputs()
    manifest = {
        "versions": {"torchvision": torchvision.__version__, "torch": torch.__version__,
                     "pillow": PIL.__version__, "numpy": np.__version__},
        "cases": [],
    }
    for i, (op, inp, args) in enumerate(CASES):
        res = run(op, imgs[inp], args)
        name = "%02d_%s_%s" % (i, op, inp[3:-4])
        if isinstance(res, torch.Tensor):
            arr = res.numpy().astype("<f4")
            out = name + ".f32"
            arr.tofile(os.path.join(OUT, out))
            shape = list(arr.shape)
        else:
            out = name + ".png"
            res.save(os.path.join(OUT, out))
            shape = [res.height, res.width, len(res.getbands())]
        manifest["cases"].append(
            {"name": name, "op": op, "input": inp, "args": args, "output": "out/" + out, "shape": shape})
    with open(os.path.join(HERE, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("wrote %d cases" % len(CASES), file=sys.stderr)


if __name__ == "__main__":
    main()
