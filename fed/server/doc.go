// Package server holds the federated server's round engine: Server waits
// for enough clients, and every round samples some, sends them the global
// parameters with the local training settings (a fit instruction),
// collects their updates, tolerating stragglers and clients that fail or
// disconnect, aggregates them by a strategy (fed/strategy), or through
// secure aggregation (fed/secure) which gives only their sum, and
// evaluates the new global model on the server's held-out test set.
//
// A round closes when every sampled client has answered, or when the
// round timeout passes with at least MinResults updates in hand; clients
// that failed, left or had not answered are dropped from that round only
// and logged with their reason. A round left with fewer updates is tried
// again with a new sample, Retries times, and then the run stops with an
// error; what finished is saved, and Resume continues it.
//
// The run directory is kiln train's: config.json and run.json (so that
// kiln eval and kiln predict read the global model), metrics.csv and
// metrics.jsonl (one row per round), TensorBoard scalars, loss.png and
// accuracy.png, last.safetensors (the global model after the latest
// round), fed.json (the server's settings) and fed_state.safetensors
// (round, global parameters, strategy state, sampling generator and the
// rounds so far), written after every round. Resume with the same clients
// continues with the same bits as a run never stopped (not under secure
// aggregation, whose stochastic rounding draws from crypto/rand).
//
// It leaves out the transport (fed.Manager holds whatever connects:
// fed/fedgrpc's streams or fed.Local), the clients (fed/client), and
// federated evaluation on the clients' own data.
package server
