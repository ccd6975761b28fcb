// Package interop checks, end to end, that kiln and PyTorch exchange
// trained weights through safetensors checkpoints: weights trained in
// PyTorch load into kiln's models and give PyTorch's logits, in F32, F16
// and BF16, and checkpoints kiln writes load into PyTorch's modules.
//
// It holds only tests. They sit here rather than in package checkpoint
// because they need kiln's models, which checkpoint must not import. The
// weights, inputs and logits are made by testdata/make.py with PyTorch;
// the tests never run Python. testdata/README.md records the reverse check,
// make.py verify, run by hand on the checkpoint kiln wrote.
package interop
