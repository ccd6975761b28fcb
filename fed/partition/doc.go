// Package partition deals a dataset's examples out to federated clients:
// the index lists each simulated client trains on.
//
// IID shuffles and cuts into near-equal parts (flwr-datasets'
// IidPartitioner). Dirichlet draws, for every class, the clients' shares
// of that class from Dirichlet(alpha, ..., alpha) and redraws everything
// until every client holds at least MinSize examples (flwr-datasets'
// DirichletPartitioner without self-balancing): small alpha gives clients
// few classes, large alpha approaches IID. Shards sorts the examples by
// label, cuts them into clients x per-client shards and deals each client
// that many at random (McMahan et al. 2017's pathological non-IID split).
//
// Everything is drawn from the caller's *rand.Rand: the same generator
// gives the same partition. The package works on labels alone; it leaves
// out datasets (wrap each part in data.NewSubset) and partitions by
// anything other than the label (writer, device, time).
package partition
