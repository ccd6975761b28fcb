// Package privacy holds differential privacy for kiln's training: the
// Rényi-DP accountant of the Poisson-subsampled Gaussian mechanism (rdp.go,
// computed as Opacus computes it), the noise multiplier for a target
// epsilon, and the DP-SGD primitives over a model's flat gradient buffer:
// per-sample gradients, clipping to a maximum L2 norm, Gaussian noise on the
// clipped sum (dpsgd.go) and Poisson sampling of batches (poisson.go).
//
// Per-example gradients come from one batched backward pass for models
// whose layers with parameters are all Linear or Conv2d (vectorised.go,
// over autograd's layer-gradient hook), and from a backward pass per
// example for any other model; DPClassifier picks the first when it can.
//
// It leaves out the wiring into kiln train and federated clients (package
// task and fed/client), the PRV and GDP accountants, ghost clipping of
// convolutions (their per-example gradients are built to take their norms),
// and secure random numbers:
// noise comes from the caller's *rand.Rand, which makes runs reproducible
// but is not a cryptographically secure source. Models with batch
// normalisation are refused, as Opacus refuses them: it mixes examples.
package privacy
