//go:build !mpi

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "allreduce: build with -tags mpi (Open MPI), then run it under mpirun")
	os.Exit(2)
}
