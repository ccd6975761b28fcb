#!/usr/bin/env python3
"""Small images in every format and colour mode, with PIL's conversions.

Run from this directory with Debian's python3-pil (9.4):
    /usr/bin/python3 make.py

For each file img/NAME it writes want/NAME.rgb and want/NAME.l: the raw bytes
of Image.open(NAME).convert("RGB") and .convert("L"), which is what
torchvision's default loader (and its Grayscale path) sees. decode_test.go
compares Go's decoding and conversion with them; it never runs Python.
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 16, 12  # the base size; a few files are cropped smaller


def base():
    rs = np.random.RandomState(3)
    yy, xx = np.mgrid[0:H, 0:W]
    rgb = np.stack([xx * 16, yy * 20, 255 - xx * 8 - yy * 6], axis=-1)
    rgb = (rgb + rs.randint(-20, 21, size=rgb.shape)).clip(0, 255).astype(np.uint8)
    alpha = ((xx * 17 + yy * 23) % 256).astype(np.uint8)
    alpha[0, :4] = 0
    alpha[1, :4] = 255
    return rgb, alpha


def main():
    os.makedirs(os.path.join(HERE, "img"), exist_ok=True)
    os.makedirs(os.path.join(HERE, "want"), exist_ok=True)
    rgb, alpha = base()
    im_rgb = Image.fromarray(rgb, "RGB")
    im_rgba = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    im_l = im_rgb.convert("L")
    im_la = Image.merge("LA", (im_l, Image.fromarray(alpha, "L")))
    im_p = im_rgb.quantize(colors=16)
    im_p_trns = im_p.copy()
    im_p_trns.info["transparency"] = 3
    i16 = (np.asarray(im_l, dtype=np.uint16) * 257).astype(np.uint16)
    im_i16 = Image.fromarray(i16, "I;16")
    im_cmyk = im_rgb.convert("CMYK")
    im_odd = im_rgb.crop((0, 0, 15, 11))
    im_odd_rgba = im_rgba.crop((1, 0, 14, 9))
    im_tiny = im_rgb.crop((5, 5, 8, 8))

    files = {
        "rgb.png": (im_rgb, {}),
        "rgba.png": (im_rgba, {}),
        "la.png": (im_la, {}),
        "l.png": (im_l, {}),
        "p.png": (im_p, {}),
        "p_trns.png": (im_p_trns, {"transparency": 3}),
        "i16.png": (im_i16, {}),
        "rgb.bmp": (im_rgb, {}),
        "p.bmp": (im_p, {}),
        "rgb.tif": (im_rgb, {}),
        "rgba.tif": (im_rgba, {}),
        "l.tif": (im_l, {}),
        "p.gif": (im_p, {}),
        "lossless.webp": (im_rgba, {"lossless": True}),
        "lossy.webp": (im_rgb, {"quality": 90}),
        "rgb.ppm": (im_rgb, {}),
        "l.pgm": (im_l, {}),
        "rgb.jpg": (im_rgb, {"quality": 95}),
        "rgb444.jpg": (im_rgb, {"quality": 95, "subsampling": 0}),
        "l.jpg": (im_l, {"quality": 95}),
        "cmyk.jpg": (im_cmyk, {"quality": 95}),
        "rgb422.jpg": (im_rgb, {"quality": 95, "subsampling": 1}),
        "prog.jpg": (im_rgb, {"quality": 90, "progressive": True}),
        "odd.jpg": (im_odd, {"quality": 95}),
        "tiny.jpg": (im_tiny, {"quality": 95}),
        "odd.webp": (im_odd, {"quality": 80}),
        "alpha.webp": (im_odd_rgba, {"quality": 80}),
    }
    for name, (im, opts) in files.items():
        path = os.path.join(HERE, "img", name)
        im.save(path, **opts)
        back = Image.open(path)
        for mode, ext in (("RGB", "rgb"), ("L", "l")):
            with open(os.path.join(HERE, "want", name + "." + ext), "wb") as f:
                f.write(back.convert(mode).tobytes())
        print(name, back.mode, back.size)


if __name__ == "__main__":
    main()
