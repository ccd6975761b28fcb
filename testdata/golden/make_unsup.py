#!/usr/bin/python3
"""PyTorch golden values for kiln's decoder layers: nn.ConvTranspose2d and nn.Upsample.

    /usr/bin/python3 testdata/golden/make_unsup.py                    # both groups
    /usr/bin/python3 testdata/golden/make_unsup.py convtranspose2d    # one group

writes testdata/golden/convtranspose2d.json and upsample.json with make.py's writer, so the file
format, the float formatting and the per-case seeding (torch.manual_seed(crc32("<group>/<name>")))
are make.py's; read its doc comment for the contract. Same PyTorch as make.py (Debian's
python3-torch 1.13, CPU, one thread); the output is byte-identical between runs.

CASES

convtranspose2d: attrs in_channels, out_channels, kernel_size, stride, padding, output_padding,
dilation (pairs), groups, bias, padding_mode ("zeros"). Tensors "weight" (in, out/groups, kh, kw),
"bias", "x", "y", "dy", "grad.x", "grad.weight", "grad.bias" (make.py's run_module).

upsample: attrs mode ("nearest" or "bilinear"), align_corners (bool, or null for nearest), and
exactly one of size [oh, ow] or scale_factor [sh, sw] (floats) as nn.Upsample took it; the other is
null. Tensors "x", "y", "dy", "grad.x".
"""
import os
import sys

import torch.nn as nn
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make import Case, dump, run_module  # noqa: E402  (make.py also sets torch to one thread)


def gen_convtranspose2d(g):
    cases = []
    #        name                       N Cin Cout  H  W  kernel  stride  pad     outpad  dil     groups bias
    table = [
        ("basic_k3",                    2, 3, 4,   4, 5, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
        ("stride2_k2",                  2, 4, 3,   3, 3, (2, 2), (2, 2), (0, 0), (0, 0), (1, 1), 1, True),
        ("stride2_k3_pad1_outpad1",     2, 3, 2,   4, 4, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1, True),
        ("stride2_k4_pad1",             2, 2, 3,   3, 4, (4, 4), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),
        ("asym_stride_pad_outpad",      2, 2, 3,   3, 4, (3, 2), (3, 2), (1, 0), (2, 1), (1, 1), 1, True),
        ("dilation2",                   2, 2, 2,   4, 3, (3, 3), (1, 1), (1, 1), (0, 0), (2, 2), 1, True),
        ("dilation2_stride2_outpad1",   1, 3, 2,   3, 3, (3, 2), (2, 2), (2, 1), (1, 1), (2, 1), 1, False),
        ("groups2",                     2, 4, 6,   3, 3, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 2, True),
        ("depthwise",                   2, 3, 3,   4, 4, (3, 3), (1, 1), (1, 1), (0, 0), (1, 1), 3, True),
        ("nobias",                      2, 3, 2,   3, 3, (3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1, False),
        ("k1x1",                        2, 5, 3,   3, 4, (1, 1), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
        ("k1x1_stride2",                2, 3, 2,   3, 3, (1, 1), (2, 2), (0, 0), (1, 1), (1, 1), 1, True),
        ("decoder_like_7to14",          3, 8, 4,   7, 7, (3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 1, True),
        ("batch1_big_kernel",           1, 2, 3,   2, 2, (5, 5), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
    ]
    for name, n, cin, cout, h, w, k, s, p, op, d, groups, bias in table:
        c = Case(g, name, in_channels=cin, out_channels=cout, kernel_size=list(k), stride=list(s),
                 padding=list(p), output_padding=list(op), dilation=list(d), groups=groups, bias=bias,
                 padding_mode="zeros")
        m = nn.ConvTranspose2d(cin, cout, k, stride=s, padding=p, output_padding=op, groups=groups,
                               bias=bias, dilation=d)
        run_module(c, m, torch.randn(n, cin, h, w))
        cases.append(c)
    return cases


def gen_upsample(g):
    cases = []
    #   name                           N C  H  W  mode        size     scale         align_corners
    table = [
        ("nearest_x2",                 2, 3, 3, 4, "nearest",  None,    (2.0, 2.0),   None),
        ("nearest_x3x2",               1, 2, 3, 3, "nearest",  None,    (3.0, 2.0),   None),
        ("nearest_size_5x7",           2, 2, 3, 4, "nearest",  (5, 7),  None,         None),
        ("nearest_size_down_2x3",      1, 2, 5, 7, "nearest",  (2, 3),  None,         None),
        ("nearest_scale_frac",         1, 2, 4, 6, "nearest",  None,    (1.5, 1.7),   None),
        ("nearest_scale_down",         1, 2, 6, 5, "nearest",  None,    (0.5, 0.6),   None),
        ("bilinear_x2",                2, 2, 3, 4, "bilinear", None,    (2.0, 2.0),   False),
        ("bilinear_size_7x5",          2, 2, 4, 3, "bilinear", (7, 5),  None,         False),
        ("bilinear_scale_frac",        1, 2, 4, 5, "bilinear", None,    (1.5, 2.5),   False),
        ("bilinear_down",              1, 2, 7, 6, "bilinear", (3, 4),  None,         False),
        ("bilinear_align_x2",          2, 2, 3, 4, "bilinear", None,    (2.0, 2.0),   True),
        ("bilinear_align_size_5x1",    1, 2, 3, 4, "bilinear", (5, 1),  None,         True),
        ("bilinear_one_pixel",         1, 1, 1, 1, "bilinear", (3, 2),  None,         False),
    ]
    for name, n, ch, h, w, mode, size, scale, align in table:
        c = Case(g, name, mode=mode, size=list(size) if size else None,
                 scale_factor=list(scale) if scale else None, align_corners=align)
        m = nn.Upsample(size=size, scale_factor=scale, mode=mode, align_corners=align)
        run_module(c, m, torch.randn(n, ch, h, w))
        cases.append(c)
    return cases


GROUPS = {"convtranspose2d": gen_convtranspose2d, "upsample": gen_upsample}


def main(argv):
    names = argv or list(GROUPS)
    for n in names:
        if n not in GROUPS:
            sys.exit("make_unsup.py: unknown group %r (want one of %s)" % (n, ", ".join(GROUPS)))
    for n in names:
        cases = GROUPS[n](n)
        path = dump(n, cases)
        print("%-18s %3d cases %9d bytes" % (n, len(cases), os.path.getsize(path)))


if __name__ == "__main__":
    main(sys.argv[1:])
