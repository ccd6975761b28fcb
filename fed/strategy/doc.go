// Package strategy holds the federated server's aggregation strategies:
// how the next global parameters are made from the round's client
// updates. Everything works on flat []float32 parameter buffers (a kiln
// model's one ParamSet buffer), accumulating in float64 in the order the
// updates are given, so the same updates give the same bits.
//
// The strategies follow Flower's (flwr/server/strategy): FedAvg (weighted
// mean), FedAvgM (server momentum), FedProx (FedAvg on the server; the
// clients add the proximal term), FedMedian, TrimmedMean and Krum (robust
// to Byzantine clients) and FedAdam (server-side Adam on the mean update).
//
// Updates with NaN or Inf: the mean-based strategies (fedavg, fedavgm,
// fedprox, fedadam) refuse the round with an error wrapping ErrNonFinite
// that names the clients, since one such value would poison every
// coordinate; the robust ones (fedmedian, trimmedmean, krum) leave those
// updates out and aggregate the rest, failing only when none is left.
// SplitFinite lets a server drop them itself beforehand and log who sent
// them.
//
// It leaves out the transport, client sampling and evaluation (fed,
// fed/server) and secure aggregation (fed/secure: only strategies whose
// NeedsEach is false can take a securely aggregated sum).
package strategy
