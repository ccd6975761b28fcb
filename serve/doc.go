// Package serve answers inference requests over HTTP for finished runs:
// the Open Inference Protocol v2 REST API (KServe, Triton: health,
// metadata and JSON tensor inference), a /v1 predict that takes image
// bytes (raw or multipart) or texts and answers the top classes, and a
// /v1 feedback endpoint that stores a corrected label with its input in
// the run directory.
//
// Requests for one model queue in a bounded queue and run in batches of at
// most Options.MaxBatch examples: what queued while the model was busy,
// the oldest waiting at most Options.MaxDelay for more (dynamic batching,
// as Triton does it; its default delay is 0 too); a full queue answers 429
// at once. Bodies are limited (413), requests time out (504), a token is
// checked in constant time (401), and Shutdown drains: it refuses new work
// and finishes what is queued. /metrics gives counters, latency and batch
// size histograms and the queue depth in Prometheus' text format.
//
// This package leaves out loading models from URLs (a model is a run
// directory on disk), the gRPC flavour of the protocol, model versions and
// the server's command line (cmd/kiln: kiln serve).
package serve
