// Package sim runs a federated training in one process: the dataset's
// training split is partitioned among many simulated clients (IID,
// Dirichlet or label shards, fed/partition), each a fed/client.Trainer
// behind a fed.Local connection, and fed/server's Server trains over them
// exactly as over the network. Several strategies may run one after
// another over the same partition; each gets its own run directory
// inside the simulation's, and acc_per_round.png draws the global model's
// test accuracy per round for all of them, with summary.csv their final
// and best accuracies.
//
// It leaves out clients that fail or straggle (fed/server's tests inject
// those), resuming a simulation (each strategy's run is a server run
// directory, which fed/server.Resume reads, but Simulate starts afresh)
// and client-side evaluation.
package sim
