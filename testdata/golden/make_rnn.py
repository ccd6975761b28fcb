#!/usr/bin/python3
"""PyTorch golden values for kiln's sequence layers: nn.Embedding, nn.RNN, nn.LSTM, nn.GRU.

    /usr/bin/python3 testdata/golden/make_rnn.py

writes testdata/golden/rnn.json (group "rnn") with make.py's writer, so the file format, the float
formatting and the per-case seeding (torch.manual_seed(crc32("rnn/<name>"))) are make.py's; read
its doc comment for the contract. Same PyTorch as make.py (Debian's python3-torch 1.13, CPU, one
thread); the output is byte-identical between runs.

CASES

Recurrent cases have attrs op ("RNN", "LSTM", "GRU") and the constructor arguments input_size,
hidden_size, num_layers, bias, batch_first, dropout (always 0: masks cannot match), bidirectional,
and for RNN nonlinearity ("tanh"/"relu"). Tensors:
- "x": the input, (T, B, input_size), (B, T, input_size) with batch_first, or (T, input_size)
  unbatched. With lengths, the padding steps hold random values, not zeros, so that a test sees
  whether they leak.
- "h0", "c0" (optional): initial states, (num_layers*D, B, hidden) or (num_layers*D, hidden)
  unbatched; an LSTM case has both or neither (PyTorch takes both).
- "lengths" (optional): per-sequence lengths (float32 holding integers, in batch order, unsorted).
  PyTorch ran pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False), the module, then
  pad_packed_sequence(..., total_length=T), so "y" has T steps with zeros past each length.
- the state_dict: "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "..._reverse", ...
- outputs "y", "h_n", "c_n" (LSTM); random upstream gradients "dy", "dh_n", "dc_n"; the
  differentiated scalar is sum(y*dy) + sum(h_n*dh_n) (+ sum(c_n*dc_n)).
- gradients "grad.x", "grad.h0", "grad.c0" and "grad.<parameter>" for every parameter.

Embedding cases have attrs op "Embedding", num_embeddings, embedding_dim, padding_idx (an int as
PyTorch took it, possibly negative, or null). Tensors "weight", "x" (the indices, float32 holding
integers), "y", "dy", "grad.weight". One case overwrites the padding row with non-zero values to show
that it is read but gets no gradient.
"""
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make import Case, dump  # noqa: E402  (make.py also sets torch to one thread)

GROUP = "rnn"


def run_recurrent(c, m, x, h0=None, c0=None, lengths=None):
    for k, v in m.state_dict().items():
        c.t(k, v)
    lstm = isinstance(m, nn.LSTM)
    x = x.detach().clone().requires_grad_(True)
    inp = x
    if lengths is not None:
        inp = pack_padded_sequence(x, torch.tensor(lengths), batch_first=m.batch_first, enforce_sorted=False)
    hx = None
    if h0 is not None:
        h0 = h0.detach().clone().requires_grad_(True)
        hx = h0
        if lstm:
            c0 = c0.detach().clone().requires_grad_(True)
            hx = (h0, c0)
    y, state = m(inp, hx)
    if lengths is not None:
        T = x.shape[1] if m.batch_first else x.shape[0]
        y, _ = pad_packed_sequence(y, batch_first=m.batch_first, total_length=T)
    hn, cn = state if lstm else (state, None)
    dy, dhn = torch.randn_like(y), torch.randn_like(hn)
    loss = (y * dy).sum() + (hn * dhn).sum()
    if lstm:
        dcn = torch.randn_like(cn)
        loss = loss + (cn * dcn).sum()
    loss.backward()
    c.t("x", x)
    c.t("y", y)
    c.t("dy", dy)
    c.t("h_n", hn)
    c.t("dh_n", dhn)
    c.t("grad.x", x.grad)
    if lstm:
        c.t("c_n", cn)
        c.t("dc_n", dcn)
    if h0 is not None:
        c.t("h0", h0)
        c.t("grad.h0", h0.grad)
        if lstm:
            c.t("c0", c0)
            c.t("grad.c0", c0.grad)
    if lengths is not None:
        c.t("lengths", torch.tensor(lengths, dtype=torch.float32))
    for k, p in m.named_parameters():
        c.t("grad." + k, p.grad)


def gen_rnn(g):
    cases = []
    # name, op, nonlinearity, I, H, layers, bias, batch_first, bidir, T, B (None: unbatched), h0, lengths
    table = [
        ("rnn_tanh_l1", "RNN", "tanh", 3, 4, 1, True, False, False, 5, 2, False, None),
        ("rnn_tanh_l2_bidir_h0", "RNN", "tanh", 3, 4, 2, True, False, True, 4, 3, True, None),
        ("rnn_relu_l2_h0", "RNN", "relu", 2, 5, 2, True, False, False, 6, 2, True, None),
        ("rnn_relu_bidir_batchfirst_lengths", "RNN", "relu", 3, 3, 1, True, True, True, 5, 3, False, [3, 5, 2]),
        ("rnn_tanh_nobias_batchfirst", "RNN", "tanh", 4, 3, 1, False, True, False, 4, 2, False, None),
        ("rnn_tanh_unbatched_h0", "RNN", "tanh", 3, 4, 2, True, False, False, 5, None, True, None),
        ("lstm_l1", "LSTM", None, 3, 4, 1, True, False, False, 5, 2, False, None),
        ("lstm_l2_bidir_h0c0", "LSTM", None, 3, 4, 2, True, False, True, 4, 3, True, None),
        ("lstm_l3_batchfirst", "LSTM", None, 2, 3, 3, True, True, False, 6, 2, False, None),
        ("lstm_l2_bidir_lengths_h0c0", "LSTM", None, 3, 4, 2, True, False, True, 5, 4, True, [2, 5, 3, 1]),
        ("lstm_lengths_below_T_batchfirst", "LSTM", None, 3, 3, 1, True, True, False, 6, 2, False, [3, 4]),
        ("lstm_nobias_bidir", "LSTM", None, 3, 4, 1, False, False, True, 4, 2, False, None),
        ("lstm_unbatched_bidir_h0c0", "LSTM", None, 3, 4, 1, True, False, True, 5, None, True, None),
        ("lstm_hidden1", "LSTM", None, 1, 1, 1, True, False, False, 7, 1, False, None),
        ("lstm_l2_wide", "LSTM", None, 8, 16, 2, True, False, False, 10, 4, False, None),
        ("gru_l1", "GRU", None, 3, 4, 1, True, False, False, 5, 2, False, None),
        ("gru_l2_bidir_batchfirst_h0", "GRU", None, 3, 4, 2, True, True, True, 4, 3, True, None),
        ("gru_bidir_lengths", "GRU", None, 2, 3, 1, True, False, True, 4, 3, False, [4, 1, 3]),
        ("gru_nobias_l2", "GRU", None, 3, 4, 2, False, False, False, 5, 2, False, None),
        ("gru_unbatched", "GRU", None, 3, 2, 1, True, False, False, 4, None, False, None),
    ]
    for name, op, nl, I, H, L, bias, bf, bidir, T, B, has_h0, lengths in table:
        attrs = dict(op=op, input_size=I, hidden_size=H, num_layers=L, bias=bias, batch_first=bf,
                     dropout=0.0, bidirectional=bidir)
        if op == "RNN":
            attrs["nonlinearity"] = nl
        c = Case(g, name, **attrs)
        kw = dict(num_layers=L, bias=bias, batch_first=bf, bidirectional=bidir)
        if op == "RNN":
            m = nn.RNN(I, H, nonlinearity=nl, **kw)
        else:
            m = getattr(nn, op)(I, H, **kw)
        D = 2 if bidir else 1
        if B is None:
            x = torch.randn(T, I)
            sshape = (L * D, H)
        else:
            x = torch.randn(B, T, I) if bf else torch.randn(T, B, I)
            sshape = (L * D, B, H)
        h0 = torch.randn(*sshape) if has_h0 else None
        c0 = torch.randn(*sshape) if has_h0 and op == "LSTM" else None
        run_recurrent(c, m, x, h0, c0, lengths)
        cases.append(c)

    # Embedding
    for name, num, dim, pad, shape in [
        ("emb_basic", 10, 4, None, (2, 5)),
        ("emb_padding0", 6, 3, 0, (3, 4)),
        ("emb_padding_negative", 7, 2, -1, (9,)),
        ("emb_padding_nonzero_row", 5, 3, 2, (2, 2, 3)),
    ]:
        c = Case(g, name, op="Embedding", num_embeddings=num, embedding_dim=dim, padding_idx=pad)
        m = nn.Embedding(num, dim, padding_idx=pad)
        if name == "emb_padding_nonzero_row":
            with torch.no_grad():
                m.weight[pad] = torch.randn(dim)
        idx = torch.randint(0, num, shape)
        if pad is not None:
            idx.view(-1)[0] = pad % num  # the padding index occurs at least once
        idx.view(-1)[1] = idx.view(-1)[-1]  # and some index repeats
        c.t("weight", m.weight)
        y = m(idx)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        c.t("x", idx)
        c.t("y", y)
        c.t("dy", dy)
        c.t("grad.weight", m.weight.grad)
        cases.append(c)
    return cases


def main():
    cases = gen_rnn(GROUP)
    path = dump(GROUP, cases)
    print("%-18s %3d cases %9d bytes" % (GROUP, len(cases), os.path.getsize(path)))


if __name__ == "__main__":
    main()
