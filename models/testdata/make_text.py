#!/usr/bin/python3
"""PyTorch golden values for kiln's text classifiers (models/lstm_test.go).

Run with Debian's python3-torch (PyTorch 1.13, CPU), from anywhere:

    /usr/bin/python3 models/testdata/make_text.py

It writes models/testdata/textzoo.json.gz in internal/golden's format, with make.py's number
formatting and gzip settings (byte-identical between runs):

    {"torch": "...", "group": "textzoo", "cases": [
      {"name": "...", "attrs": {"gru", "vocab", "classes", "embed_dim", "hidden", "layers",
                                "bidirectional", "dropout"},
       "tensors": {"<state_dict key>": ..., "x", "lengths", "dy", "y", "grad.<param>"}}]}

- "x" holds token ids (float32 integers), padded with 0 past each row's length; "lengths" are the
  rows' lengths, unsorted. PyTorch ran pack_padded_sequence(..., enforce_sorted=False).
- The module is in eval mode, so its dropout is the identity and the values are deterministic;
  "y" are the logits and "grad.<param>" the gradients of sum(y * dy).
- Inputs (weights, dy) are rounded to three significant digits, as make.py does.
"""
import json
import os
import sys
import zlib

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make import fmt, short  # noqa: E402  (make.py also sets torch to one thread)

import gzip  # noqa: E402


class RNNClassifier(nn.Module):
    """The module models/lstm.go mirrors."""

    def __init__(self, vocab, classes, embed_dim, hidden, layers, bidirectional, dropout, gru):
        super().__init__()
        self.gru = gru
        self.embedding = nn.Embedding(vocab, embed_dim, padding_idx=0)
        rnn = (nn.GRU if gru else nn.LSTM)(embed_dim, hidden, layers, batch_first=True,
                                          bidirectional=bidirectional, dropout=dropout if layers > 1 else 0)
        setattr(self, "gru" if gru else "lstm", rnn)
        self.rnn_name = "gru" if gru else "lstm"
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden * (2 if bidirectional else 1), classes)
        self.bidirectional = bidirectional

    def forward(self, x, lengths):
        e = self.embedding(x)
        packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
        out = getattr(self, self.rnn_name)(packed)
        h = out[1] if self.gru else out[1][0]
        h = torch.cat([h[-2], h[-1]], 1) if self.bidirectional else h[-1]
        return self.fc(self.dropout(h))


def make_case(name, attrs, lengths, T):
    torch.manual_seed(zlib.crc32(("textzoo/" + name).encode()))
    m = RNNClassifier(attrs["vocab"], attrs["classes"], attrs["embed_dim"], attrs["hidden"], attrs["layers"],
                      attrs["bidirectional"], attrs["dropout"], attrs["gru"])
    tensors = {}

    def put(key, v):
        assert key not in tensors, key
        tensors[key] = v.detach().to(torch.float32).clone().contiguous()

    with torch.no_grad():
        for k, v in m.state_dict().items():
            v.copy_(short(v))
    for k, v in m.state_dict().items():
        put(k, v)
    n = len(lengths)
    x = torch.zeros(n, T, dtype=torch.long)
    for b, l in enumerate(lengths):
        x[b, :l] = torch.randint(1, attrs["vocab"], (l,))
    m.eval()
    y = m(x, torch.tensor(lengths))
    dy = short(torch.randn_like(y))
    (y * dy).sum().backward()
    put("x", x.float())
    put("lengths", torch.tensor(lengths, dtype=torch.float32))
    put("dy", dy)
    put("y", y)
    for k, p in m.named_parameters():
        put("grad." + k, p.grad)
    return {"name": name, "attrs": attrs, "tensors": tensors}


def dump(path, cases):
    out = ['{"torch": %s, "group": "textzoo", "cases": [' % json.dumps(torch.__version__)]
    for i, c in enumerate(cases):
        out.append(' {"name": %s, "attrs": %s, "tensors": {' % (json.dumps(c["name"]), json.dumps(c["attrs"], sort_keys=True)))
        keys = sorted(c["tensors"])
        for j, k in enumerate(keys):
            v = c["tensors"][k]
            data = ", ".join(fmt(x) for x in v.reshape(-1).tolist())
            out.append('  %s: {"shape": %s, "data": [%s]}%s' % (
                json.dumps(k), json.dumps(list(v.shape)), data, "," if j + 1 < len(keys) else ""))
        out.append(" }}" + ("," if i + 1 < len(cases) else ""))
    out.append("]}")
    text = ("\n".join(out) + "\n").encode()
    json.loads(text)
    with open(path, "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=f, mtime=0) as z:
            z.write(text)


def main():
    base = {"vocab": 11, "classes": 3, "embed_dim": 6, "hidden": 5, "dropout": 0.3}
    cases = [
        # Two bidirectional layers, ragged lengths including 1 and the full T.
        make_case("lstm-bi-2layers", dict(base, gru=False, layers=2, bidirectional=True), [7, 3, 1, 5], 7),
        # One forward layer on rows with no padding.
        make_case("lstm-uni", dict(base, gru=False, layers=1, bidirectional=False), [6, 6, 6], 6),
        make_case("gru-bi", dict(base, gru=True, layers=1, bidirectional=True), [2, 6, 4], 6),
    ]
    path = os.path.join(HERE, "textzoo.json.gz")
    dump(path, cases)
    print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
