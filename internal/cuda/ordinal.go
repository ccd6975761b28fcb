package cuda

// This file picks the GPU a process uses when none is named: the one its
// launcher's local rank points at, so that the ranks of a data-parallel
// job on one machine (mpirun, torchrun, srun) each take their own.

import (
	"fmt"
	"strconv"
)

// localRankVars are the variables launchers set to a process's rank among
// those on its machine: Open MPI's, MPICH's, Slurm's and torchrun's.
var localRankVars = []string{"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID", "LOCAL_RANK"}

// ChooseOrdinal returns the device a process takes among count:
// KILN_CUDA_DEVICE when set (it must be one of them), else the launcher's
// local rank modulo count, else 0. CUDA_VISIBLE_DEVICES, which the driver
// applies first, narrows what count covers.
func ChooseOrdinal(env Env, count int) (int, error) {
	if v := env("KILN_CUDA_DEVICE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n >= count {
			return 0, fmt.Errorf("cuda: KILN_CUDA_DEVICE=%q: want a device number from 0 to %d (%d present)", v, count-1, count)
		}
		return n, nil
	}
	for _, name := range localRankVars {
		if v := env(name); v != "" {
			if r, err := strconv.Atoi(v); err == nil && r >= 0 && count > 0 {
				return r % count, nil
			}
		}
	}
	return 0, nil
}
