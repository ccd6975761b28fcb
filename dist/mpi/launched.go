package mpi

import (
	"os"
	"strconv"
)

// Launched returns the number of processes mpirun (Open MPI's, or one
// setting PMI_SIZE) started this one among, or 0 outside mpirun.
func Launched() int {
	for _, k := range []string{"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"} {
		if n, err := strconv.Atoi(os.Getenv(k)); err == nil && n > 0 {
			return n
		}
	}
	return 0
}

// LocalSize returns the number of processes mpirun started on this
// machine, or 1: what a rank divides the machine's cores by.
func LocalSize() int {
	if n, err := strconv.Atoi(os.Getenv("OMPI_COMM_WORLD_LOCAL_SIZE")); err == nil && n > 0 {
		return n
	}
	return 1
}
