// Package mpi is a dist.Communicator over Open MPI, for data-parallel
// training across processes and machines: mpirun starts the processes,
// Open MPI's collectives (MPI_Iallreduce, MPI_Ibcast, MPI_Iallgather,
// MPI_Ibarrier) move the numbers.
//
// It is built only with the tag mpi (go build -tags mpi), through cgo and
// pkg-config's ompi-c (Debian: libopenmpi-dev); the default build of kiln
// stays pure Go and single-process, and without the tag this package
// holds only Launched and an Init that says how to build it.
//
// Every MPI call runs on one goroutine locked to the OS thread that
// initialised MPI (MPI_THREAD_FUNNELED). Collectives are started
// non-blocking and polled, so that one that some rank never joins fails
// after the timeout instead of hanging: each rank tells its successor in
// a ring when it starts a collective, so the rank that times out can name
// the rank before it when that one never arrived.
//
// Left out: communicators other than MPI_COMM_WORLD, point-to-point
// messages for training, and MPI's fault tolerance extensions (ULFM): a
// failure ends the job, which resumes from its last checkpoint.
package mpi
