// Package privacy holds differential privacy for kiln's training: the
// Rényi-DP accountant of the Poisson-subsampled Gaussian mechanism (rdp.go,
// computed as Opacus computes it), the noise multiplier for a target
// epsilon, and the DP-SGD primitives over a model's flat gradient buffer:
// per-sample gradients, clipping to a maximum L2 norm, Gaussian noise on the
// clipped sum (dpsgd.go) and Poisson sampling of batches (poisson.go).
//
// It leaves out the wiring into kiln train and federated clients (--dp and
// its flags), vectorised per-sample gradients (DPClassifier runs backward
// once per example), the PRV and GDP accountants, and secure random numbers:
// noise comes from the caller's *rand.Rand, which makes runs reproducible
// but is not a cryptographically secure source. Models with batch
// normalisation are refused, as Opacus refuses them: it mixes examples.
package privacy
