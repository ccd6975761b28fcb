// Package dist is kiln's data-parallel training: several copies of one
// model (ranks), each training on its own shard of every batch, with their
// gradients averaged before every optimizer step, so that all ranks hold
// the same parameters throughout, as PyTorch's DistributedDataParallel and
// Horovod do.
//
// A Communicator moves numbers between ranks: Rank, Size, AllReduce,
// Broadcast, AllGather and Barrier. Local is the one-process communicator
// (every call a no-op), so a trainer has one code path for one process and
// for many. NewGroup joins goroutines of one process (tests, and programs
// that want replicas in one address space); package dist/mpi, built with
// the tag mpi, joins processes and machines through Open MPI.
//
// GradReducer averages a model's flat gradient buffer in buckets, in the
// order backward finishes them (the last layers first), and starts each
// bucket's all-reduce while backward is still computing the rest, the
// bucketing of DDP (a 1 MiB first bucket, then 25 MiB). Check compares
// what every rank is about to train (settings, data, model) and names the
// first difference.
//
// Reduction order: an all-reduce's sum over ranks is computed once and the
// same bits reach every rank, so replicas never drift apart. NewGroup adds
// the ranks' values in rank order, 0 first; Open MPI chooses its own order
// per message size (recursive doubling or ring), the same on every rank of
// a job. A rank's gradient is its batch shard's mean, scaled by its share
// of the global batch before the sum, so the sum is the global batch's
// mean gradient up to float32 rounding.
//
// Left out: model parallelism (pipeline, tensor or expert), ZeRO-style
// sharding of optimizer state, and gradient compression.
package dist
