// Package secure runs secure aggregation (package secagg's SecAgg+) over
// fed.Conn, so that a federated server learns the weighted sum of the
// clients' parameters and nothing about any one of them.
//
// The server's Sum drives four stages, each a fed.KindSecAgg instruction
// whose Stage is Flower's stage name and whose Payload carries secagg's
// message in a small binary encoding (codec.go): setup (the round's
// settings and the client's index; the client answers with its public
// keys), share_keys (every key; the client answers with its sealed
// Shamir shares), collect_masked_vectors (the shares sealed for the
// client; it answers with its masked vector) and unmask (who is active
// and who dropped; it answers with its shares). A client that fails or
// times out in a stage is left out of the later ones; the sum survives as
// long as the threshold of clients answers each stage.
//
// The client side is Wrap: a fed.Handler that trains through the one it
// wraps and, when the fit's Config has "secagg" = "1", keeps the new
// parameters to itself (it answers the fit with its example count and
// metrics only) and masks them in the stages that follow.
//
// What is summed is Flower's SecAgg+ vector (flwr's secaggplus_mod): a
// client with w examples takes the ratio min(w, MaxWeight)/MaxWeight
// (weights above MaxWeight are clipped to it, where Flower only warns),
// quantises it to q = round(ratio*R) and multiplies its parameters by
// q/R, then quantises those (clipped to [-8, 8], R = 2^22, modulo 2^32)
// and prepends q. The server unmasks the sum of the vectors, so it learns
// the sum of the q's (the total weight) and of the weighted parameters,
// and returns both scaled by MaxWeight: sum/weight is the weighted mean.
//
// It leaves out strategies that need each update (the robust ones: see
// Supports), signatures of the keys (an actively lying server is outside
// SecAgg+'s semi-honest model, as in secagg) and the CKKS mode.
package secure
