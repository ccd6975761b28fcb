package main

// This file holds the flags and the wiring of data-parallel training:
// "mpirun -np N kiln-mpi train ...", where kiln-mpi is built with the tag
// mpi. It leaves out the communication (dist, dist/mpi) and what a rank
// does (package task).

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/dist/mpi"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
)

const distHelp = `
Data-parallel training: build kiln with Open MPI (go build -tags mpi -o
kiln-mpi ./cmd/kiln; Debian: libopenmpi-dev) and start it with mpirun:
  mpirun -np 4 kiln-mpi train --data DIR --batch-size 32   # global batch 4 x 32
  mpirun -np 4 --host a,b,c,d kiln-mpi train ...            # one rank per machine, over TCP
Every rank starts from rank 0's weights, trains on its shard of each global
batch (the batches of one process with the global batch size), and
all-reduces its gradients while backward runs; rank 0 alone writes the run
directory and the log. --resume takes the same number of ranks and needs the
run directory at the same path on every machine (a shared file system). A
rank that dies ends the job (mpirun names it); one that hangs makes the
others stop after --dist-timeout, naming it. Nothing is written half: resume
from the last checkpoint.
`

// distFlags are the flags of a data-parallel run.
type distFlags struct {
	timeout  time.Duration
	check    int
	bucketKB int
}

func addDistFlags(fs *flag.FlagSet, cfg *run.Config) *distFlags {
	d := &distFlags{}
	fs.BoolVar(&cfg.SyncBN, "sync-bn", cfg.SyncBN, "under mpirun: batch norm normalises with the statistics of the global batch (SyncBatchNorm) instead of each rank's shard")
	fs.DurationVar(&d.timeout, "dist-timeout", 5*time.Minute, "under mpirun: stop the job when a rank does not join a collective within this `duration`")
	fs.IntVar(&d.bucketKB, "dist-bucket-kb", 0, "under mpirun: all-reduce gradients in buckets of this many `KiB` (0: DDP's 1 MiB first bucket, then 25 MiB)")
	fs.IntVar(&d.check, "dist-check", 0, "under mpirun: check every `N` steps that all ranks hold the same parameters to the bit (0: never)")
	return d
}

// job is this process's part in a data-parallel job; nil outside mpirun.
type job struct {
	comm *mpi.Comm
}

// joinJob initialises MPI when mpirun started this process among others
// and sets opt to train as one rank; it returns nil for one process.
func joinJob(d *distFlags, opt *task.Options) (*job, error) {
	n := mpi.Launched()
	if n <= 1 {
		return nil, nil
	}
	if !mpi.Available {
		return nil, usageError{fmt.Errorf("mpirun started %d copies of kiln, but this kiln was built without MPI, so each would train alone; build it with: go build -tags mpi ./cmd/kiln", n)}
	}
	if d.bucketKB < 0 {
		return nil, usageError{fmt.Errorf("--dist-bucket-kb %d: want 0 or more", d.bucketKB)}
	}
	if d.timeout < 0 {
		return nil, usageError{fmt.Errorf("--dist-timeout %v: want a positive duration, or 0 to wait forever", d.timeout)}
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// The ranks on one machine share its cores, as torchrun's
		// OMP_NUM_THREADS does.
		runtime.GOMAXPROCS(max(1, runtime.NumCPU()/mpi.LocalSize()))
	}
	c, err := mpi.Init(d.timeout)
	if err != nil {
		return nil, err
	}
	opt.Comm, opt.CheckReplicas, opt.BucketBytes = c, d.check, 1024*d.bucketKB
	return &job{comm: c}, nil
}

// quiet reports whether this rank leaves the log and progress to rank 0.
func (j *job) quiet() bool { return j != nil && j.comm.Rank() != 0 }

// end finishes the job after this rank's training returned err. Errors
// that every rank shares (an interruption, ranks that disagree) are
// printed by rank 0 alone and end the job normally; any other error is
// printed with the rank's name and ends every rank of the job at once
// (MPI_Abort), since the others would otherwise wait for this one.
func (j *job) end(err error, stderr io.Writer) error {
	if j == nil {
		return err
	}
	var ie *task.InterruptedError
	var me *dist.MismatchError
	shared := errors.As(err, &ie) || errors.As(err, &me)
	if err == nil || shared {
		if cerr := j.comm.Close(); err == nil {
			err = cerr
		}
		if err != nil && j.quiet() {
			return quietError{err, exitCode(err, ie != nil)}
		}
		return err
	}
	fmt.Fprintf(stderr, "kiln: rank %d of %d (%s): %v\nkiln: ending the job; resume it from its last checkpoint with: mpirun -np %d kiln-mpi train --resume RUN\n",
		j.comm.Rank(), j.comm.Size(), j.comm.Host(), err, j.comm.Size())
	j.comm.Abort(1)
	return err
}

func exitCode(err error, interrupted bool) int {
	var ue usageError
	switch {
	case interrupted:
		return 130
	case errors.As(err, &ue):
		return 2
	}
	return 1
}
