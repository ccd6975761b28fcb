//go:build mpi

// Command allreduce times dist/mpi's all-reduce of float32 buffers of the
// sizes data-parallel training sends: the floor under the all-reduce time
// a training step reports, which also holds the wait for the slowest rank.
//
//	go build -tags mpi -o allreduce ./bench/ddpscale/allreduce
//	mpirun -np 2 ./allreduce
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/kiln-ml/kiln/dist/mpi"
)

func main() {
	c, err := mpi.Init(time.Minute)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, n := range []int{1 << 10, 184586, 1 << 20, 4 << 20} {
		buf := make([]float32, n)
		const reps = 50
		if err := c.Barrier(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			c.Abort(1)
		}
		start := time.Now()
		for range reps {
			if err := c.AllReduce(buf); err != nil {
				fmt.Fprintln(os.Stderr, err)
				c.Abort(1)
			}
		}
		if c.Rank() == 0 {
			d := time.Since(start) / reps
			fmt.Printf("%d ranks, %.2f MB: %.3f ms, %.2f GB/s of gradient per rank\n", c.Size(), float64(4*n)/1e6, float64(d.Microseconds())/1000, float64(4*n)/d.Seconds()/1e9)
		}
	}
	c.Close()
}
