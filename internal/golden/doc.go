// Package golden loads the PyTorch reference values that kiln's engine tests
// compare against, and compares float32 slices with a useful failure message.
//
// The values are made by testdata/golden/make.py (run it with Debian's
// python3-torch: /usr/bin/python3 testdata/golden/make.py) and committed, so
// tests never need Python. Load finds the files from the module root.
//
// # File format
//
// One file per group, testdata/golden/<group>.json, or <group>.json.gz holding
// the same JSON gzip-compressed (used for seedcnn, whose weights are ~1M floats):
//
//	{"torch": "<torch version>", "group": "<group>", "cases": [
//	  {"name": "...", "attrs": {...},
//	   "tensors": {"<name>": {"shape": [d0, d1, ...], "data": [flat row-major numbers]}}}]}
//
// Every tensor is float32 and its numbers read back to torch's exact bits
// (the shortest decimal that round-trips as float32, also through float64). A
// scalar has shape [] and one datum. Integer tensors (class targets, labels)
// are float32 tensors holding exact small integers. No NaN or Inf is stored.
//
// Attrs hold constructor arguments under PyTorch's names (in_channels,
// kernel_size, stride, padding, dilation, groups, bias, momentum, eps,
// training, negative_slope, approximate, dim, reduction, label_smoothing,
// ignore_index, ...). Sizes PyTorch takes as an int or a pair are always lists
// ([kh, kw], [sh, sw], ...). Groups that mix operations name each case's in
// attrs "op" ("relu", "cross_entropy", "Adam", "clip_grad_norm_", "StepLR", ...).
// An infinite norm_type is the string "inf", which Float reads as +Inf.
//
// # Names inside a case
//
//   - inputs "x" (and "x2", ...); parameters and buffers by their state_dict
//     names ("weight", "bias", "running_mean", "running_var"), as they were
//     before the forward pass;
//   - the forward output "y"; the upstream gradient "dy", random, so the
//     differentiated scalar is sum(y * dy); gradients "grad.x", "grad.weight",
//     "grad.bias";
//   - state after the forward pass: "after.running_mean", "after.running_var".
//
// Group-specific names (losses' "target", "weight", "pos_weight"; optim's
// "step{t}.p0"; sched's "lr"; seedcnn's "final.<param>") are listed in
// testdata/golden/README.md.
package golden
