#!/usr/bin/env python3
"""Small images in every format and colour mode, with PIL's conversions.

Run from this directory with Debian's python3-pil (9.4) and ImageMagick 6
(`convert`) on the PATH:
    /usr/bin/python3 make.py

It writes img/NAME for three kinds of file:
  - the hand-picked files the older tests name (rgb.png, cmyk.jpg, ...);
  - m_MODE.EXT: every colour model Pillow holds (1, L, LA, P, P with
    transparency, PA, RGB, RGBA, CMYK, YCbCr, I, I;16, I;16B, F) saved by
    Pillow in every format kiln reads that accepts it (PNG, JPEG, GIF, BMP,
    TIFF, WebP, PNM); 16-bit modes come twice, with 8-bit values (what Pillow
    writes when an 8-bit image is saved in mode I;16) and with values over the
    whole 16-bit range;
  - t_MODE_COMPRESSION.tif: the TIFFs kiln reads itself (32-bit integer
    and float grey, also with values outside 0-255, NaN and infinities; LA,
    PA, CMYK) uncompressed and with each compression Pillow writes;
  - trns_i16*.png: 16-bit grey with a tRNS chunk;
  - im_*.EXT: 16-bit, 32-bit float, grey+alpha and CMYK files written by
    ImageMagick (big-endian, tiled, predictors 2 and 3), and a CMYK JPEG
    with its Adobe marker cut out.

For each file it writes want/NAME.rgb and want/NAME.l, the raw bytes of
Image.open(NAME).convert("RGB") and .convert("L"): what torchvision's
default loader (and its Grayscale path) sees, and what kiln's --decode pil
must give. Where kiln's default 16-bit rule departs from Pillow (16-bit grey
over the whole range, which Pillow clips to white), want/NAME.view.rgb and
.view.l hold what an image viewer shows: the 8-bit picture the file was
made from. want/cmyk_table.cmyk and .rgb hold 4096 CMYK pixels and
Pillow's RGB of them. fixtures.tsv lists every file: name, writer, mode, and how it
compares (exact; jpeg: within Go's IDCT rounding; unsupported: kiln must
refuse it with a clear error). decode_test.go reads it; it never runs
Python.
"""
import os
import subprocess

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


def save_want(name, back, view=None):
    """Writes Pillow's conversions of back, and the viewer's picture view."""
    for mode, ext in (("RGB", "rgb"), ("L", "l")):
        with open(os.path.join(HERE, "want", name + "." + ext), "wb") as f:
            f.write(back.convert(mode).tobytes())
        if view is not None:
            with open(os.path.join(HERE, "want", name + ".view." + ext), "wb") as f:
                f.write(view.convert(mode).tobytes())


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

    manifest = []
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
        view = im_l if name == "i16.png" else None
        save_want(name, back, view)
        kind = "jpeg" if name.endswith(".jpg") else "exact"
        manifest.append((name, "pillow", back.mode, kind))

    # Every mode Pillow holds, in every format that takes it. 16-bit and
    # 32-bit grey twice: 8-bit values, and the whole range (the 8-bit picture
    # times 256 plus a random low byte, so its high byte is the picture).
    rs = np.random.RandomState(5)
    l8 = np.asarray(im_l, dtype=np.uint16)
    full = l8 * 256 + rs.randint(0, 256, size=l8.shape).astype(np.uint16)
    modes = {
        "1": (im_l.convert("1"), None),
        "l": (im_l, None),
        "la": (im_la, None),
        "p": (im_p, None),
        "ptrns": (im_p_trns, None),
        "pa": (im_p.convert("PA"), None),
        "rgb": (im_rgb, None),
        "rgba": (im_rgba, None),
        "cmyk": (im_cmyk, None),
        "ycbcr": (im_rgb.convert("YCbCr"), None),
        "i": (im_l.convert("I"), None),
        "i_full": (Image.fromarray(full.astype(np.int32), "I"), im_l),
        "i16": (Image.frombytes("I;16", (W, H), l8.astype("<u2").tobytes()), None),
        "i16_full": (Image.frombytes("I;16", (W, H), full.astype("<u2").tobytes()), im_l),
        "i16b": (Image.frombytes("I;16B", (W, H), l8.astype(">u2").tobytes()), None),
        "i16b_full": (Image.frombytes("I;16B", (W, H), full.astype(">u2").tobytes()), im_l),
        "f": (Image.fromarray(np.asarray(im_l, dtype=np.float32) + 0.25, "F"), None),
    }
    formats = [("png", "PNG", {}), ("jpg", "JPEG", {"quality": 95}), ("gif", "GIF", {}), ("bmp", "BMP", {}),
               ("tif", "TIFF", {}), ("webp", "WEBP", {"lossless": True}), ("ppm", "PPM", {})]
    for mname, (im, picture) in modes.items():
        for ext, fmt, opts in formats:
            name = "m_%s.%s" % (mname, ext)
            path = os.path.join(HERE, "img", name)
            opts = dict(opts)
            if "transparency" in im.info:
                opts["transparency"] = im.info["transparency"]
            try:
                im.save(path, fmt, **opts)
            except (OSError, ValueError, KeyError):
                if os.path.exists(path):
                    os.remove(path)
                continue
            back = Image.open(path)
            try:
                back.load()
            except OSError:  # Pillow cannot read back what it wrote (YCbCr TIFF)
                os.remove(path)
                print("dropped", name)
                continue
            view = picture
            if back.mode not in ("I", "I;16", "I;16B"):
                view = None  # converted on saving (GIF, WebP): nothing 16-bit left
            save_want(name, back, view)
            kind = "jpeg" if ext == "jpg" else "exact"
            manifest.append((name, "pillow", back.mode, kind))

    # The TIFFs golang.org/x/image/tiff refuses and kiln reads itself
    # (tiff.go): 32-bit integer and float grey, LA, PA and CMYK, compressed
    # as Pillow compresses them, and 32-bit samples outside 0-255.
    modes["i_wild"] = (Image.fromarray(((l8.astype(np.int32) - 64) * 300), "I"), None)
    fw = np.asarray(im_l, dtype=np.float32) * 1.3 - 40 + rs.uniform(0, 1, size=l8.shape).astype(np.float32)
    fw[0, :4] = [np.nan, np.inf, -np.inf, 254.999]
    modes["f_wild"] = (Image.fromarray(fw, "F"), None)
    for mname in ("i", "i_wild", "f", "f_wild", "la", "pa", "cmyk"):
        for comp in ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits"):
            name = "t_%s_%s.tif" % (mname, comp)
            path = os.path.join(HERE, "img", name)
            modes[mname][0].save(path, compression=comp)
            back = Image.open(path)
            save_want(name, back)
            manifest.append((name, "pillow", back.mode, "exact"))

    # 16-bit grey with a tRNS chunk (image/png widens it to NRGBA64),
    # 8-bit values and the whole range.
    for name, mname in (("trns_i16.png", "i"), ("trns_i16_full.png", "i_full")):
        im, picture = modes[mname]
        path = os.path.join(HERE, "img", name)
        im.save(path, transparency=100)
        back = Image.open(path)
        save_want(name, back, picture)
        manifest.append((name, "pillow", back.mode, "exact"))

    # ImageMagick's 16-bit files (-depth 16 scales 8-bit values by 257),
    # 8-bit values stored in 16 bits, a 12-bit PGM and a CMYK JPEG.
    src_l, src_rgb, src_rgba = (os.path.join(HERE, "img", n) for n in ("l.png", "rgb.png", "rgba.png"))
    gray16png = ["-define", "png:bit-depth=16", "-define", "png:color-type=0"]  # else it writes 8 bits
    magick = [
        ("im_gray16.png", [src_l, "-depth", "16"] + gray16png, "exact", im_l),
        ("im_gray16_8bit.png", [src_l, "-evaluate", "divide", "257", "-depth", "16"] + gray16png, "exact", None),
        ("PNG48:im_rgb16.png", [src_rgb, "-depth", "16"], "exact", None),
        ("PNG64:im_rgba16.png", [src_rgba, "-depth", "16"], "exact", None),
        ("im_la16.png", [src_rgba, "-colorspace", "Gray", "-depth", "16", "-define", "png:color-type=4",
                         "-define", "png:bit-depth=16"], "exact", None),
        ("im_gray16.tif", [src_l, "-depth", "16"], "exact", im_l),
        ("im_rgb16.tif", [src_rgb, "-depth", "16"], "exact", None),
        ("im_gray16.pgm", [src_l, "-depth", "16"], "exact", im_l),
        ("im_gray16_8bit.pgm", [src_l, "-evaluate", "divide", "257", "-depth", "16"], "exact", None),
        ("im_gray12.pgm", [src_l, "-depth", "12"], "exact", im_l),
        ("im_rgb16.ppm", [src_rgb, "-depth", "16"], "exact", None),
        ("im_cmyk.jpg", [src_rgb, "-colorspace", "CMYK", "-quality", "95"], "jpeg", None),
        # 32-bit float (ImageMagick scales to 0-1, which Pillow converts to
        # black), float with predictor 3, big-endian, tiled and predictor 2.
        ("im_float.tif", [src_l, "-define", "quantum:format=floating-point", "-depth", "32"], "exact", None),
        ("im_float_pred.tif", [src_l, "-define", "quantum:format=floating-point", "-depth", "32",
                               "-compress", "zip", "-define", "tiff:predictor=3", "-define", "tiff:endian=msb"], "exact", None),
        ("im_float_tiles.tif", [src_l, "-define", "quantum:format=floating-point", "-depth", "32",
                                "-define", "tiff:tile-geometry=16x16", "-compress", "lzw"], "exact", None),
        ("im_cmyk.tif", [src_rgb, "-colorspace", "CMYK"], "exact", None),
        ("im_cmyk_msb_pred.tif", [src_rgb, "-colorspace", "CMYK", "-compress", "lzw", "-define", "tiff:predictor=2",
                                  "-define", "tiff:endian=msb"], "exact", None),
        ("im_cmyk_tiles.tif", [src_rgb, "-colorspace", "CMYK", "-define", "tiff:tile-geometry=16x16",
                               "-compress", "rle"], "exact", None),
        ("im_la.tif", [src_rgba, "-colorspace", "Gray", "-compress", "lzw", "-define", "tiff:predictor=2"], "exact", None),
        ("im_la_msb.tif", [src_rgba, "-colorspace", "Gray", "-define", "tiff:endian=msb", "-compress", "zip",
                             "-define", "tiff:predictor=2"], "exact", None),
    ]
    for name, args, kind, view in magick:
        prefix, _, name = name.rpartition(":")  # PNG48: and PNG64: force 16-bit RGB(A)
        path = os.path.join(HERE, "img", name)
        subprocess.run(["convert"] + args + ["-strip", (prefix + ":" if prefix else "") + path], check=True)
        back = Image.open(path)
        save_want(name, back, view)
        manifest.append((name, "imagemagick", back.mode, kind))

    # A CMYK JPEG without its Adobe APP14 segment: Pillow still takes it as
    # Adobe-inverted CMYK.
    b = open(os.path.join(HERE, "img", "cmyk.jpg"), "rb").read()
    i = b.index(b"\xff\xee")
    n = b[i + 2] << 8 | b[i + 3]
    name = "noadobe_cmyk.jpg"
    with open(os.path.join(HERE, "img", name), "wb") as f:
        f.write(b[:i] + b[i + 2 + n:])
    back = Image.open(os.path.join(HERE, "img", name))
    save_want(name, back)
    manifest.append((name, "edit", back.mode, "jpeg"))

    # Pillow's CMYK to RGB on 4096 random pixels and every K, for
    # TestCMYKFormula: no lossless format kiln reads holds CMYK.
    rs = np.random.RandomState(7)
    cmyk = rs.randint(0, 256, size=(64, 64, 4)).astype(np.uint8)
    cmyk[0, :, 3] = np.arange(0, 256, 4)
    im = Image.fromarray(cmyk, "CMYK")
    with open(os.path.join(HERE, "want", "cmyk_table.cmyk"), "wb") as f:
        f.write(im.tobytes())
    with open(os.path.join(HERE, "want", "cmyk_table.rgb"), "wb") as f:
        f.write(im.convert("RGB").tobytes())

    with open(os.path.join(HERE, "fixtures.tsv"), "w") as f:
        f.write("# name\twriter\tmode\tcompare (written by make.py)\n")
        for row in manifest:
            f.write("\t".join(row) + "\n")
    for row in manifest:
        print(*row)


if __name__ == "__main__":
    main()
