// Command ddpscale prints docs/DISTRIBUTED.md's scaling model: for each
// model of kiln's zoo, the bytes a data-parallel step all-reduces against
// the compute it does, and the efficiency that predicts on 2 to 64 nodes
// joined by 10 and 100 Gbit/s links.
//
//	go run ./bench/ddpscale [-batch 32] [-steps 30]
//
// Compute per step is measured here: the training step of each model at
// the per-node batch on this machine (all its cores). The all-reduce is
// the ring algorithm's cost, which Open MPI uses for large messages:
// every node sends and receives 2(N-1)/N of the gradient bytes, in 2(N-1)
// messages, each paying the link's latency.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// link is a network: its bandwidth usable by MPI and one message's latency.
type link struct {
	name    string
	bytesPS float64
	latency time.Duration
}

var links = []link{
	{"10 Gbit/s", 0.9 * 10e9 / 8, 30 * time.Microsecond},
	{"100 Gbit/s", 0.9 * 100e9 / 8, 5 * time.Microsecond},
}

var zoo = []struct {
	name  string
	shape models.Shape
}{
	{"mlp", models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}},
	{"lenet5", models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}},
	{"seed-cnn", models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}},
	{"resnet8", models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}},
	{"resnet20", models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}},
}

// stepTime measures one training step of model at batch b.
func stepTime(name string, s models.Shape, b, steps int) (time.Duration, int, error) {
	m, err := models.New(name, s, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		return 0, 0, err
	}
	ps := m.ParamSet()
	c := train.NewClassifier(m, ps, nil, optim.NewAdam(ps.Data, ps.Grad, optim.AdamConfig{LR: 1e-3}))
	rng := rand.New(rand.NewPCG(3, 4))
	n := s.Channels * s.Height * s.Width
	batch := &data.Batch{X: make([]float32, b*n), Shape: []int{b, s.Channels, s.Height, s.Width}, Y: make([]int, b)}
	for i := range batch.X {
		batch.X[i] = rng.Float32()
	}
	for i := range batch.Y {
		batch.Y[i] = rng.IntN(s.Classes)
	}
	c.TrainStep(batch) // warm up
	c.TrainStep(batch)
	start := time.Now()
	for range steps {
		c.TrainStep(batch)
	}
	return time.Since(start) / time.Duration(steps), ps.Len(), nil
}

// ring is the ring all-reduce's time for bytes on n nodes over l.
func ring(bytes float64, n int, l link) time.Duration {
	f := float64(n)
	s := 2 * (f - 1) / f * bytes / l.bytesPS
	return time.Duration(s*1e9) + time.Duration(2*(n-1))*l.latency
}

func main() {
	batch := flag.Int("batch", 32, "per-node batch")
	steps := flag.Int("steps", 30, "steps timed per model")
	flag.Parse()
	nodes := []int{2, 4, 8, 16, 32, 64}
	fmt.Printf("| model | parameters | all-reduced per step | compute per step (batch %d) | link | efficiency at %v nodes: no overlap / all-reduce hidden behind backward |\n", *batch, nodes)
	fmt.Println("|---|---|---|---|---|---|")
	for _, z := range zoo {
		c, p, err := stepTime(z.name, z.shape, *batch, *steps)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		bytes := 4 * float64(p)
		for _, l := range links {
			row := ""
			for _, n := range nodes {
				t := ring(bytes, n, l)
				// Backward is about two thirds of a step; buckets start as
				// backward finishes them, so at best all but the last
				// bucket's all-reduce hides behind it.
				hidden := c + max(0, t-2*c/3)
				row += fmt.Sprintf(" %.0f/%.0f%%", 100*float64(c)/float64(c+t), 100*float64(c)/float64(hidden))
			}
			fmt.Printf("| %s | %d | %.2f MB | %.2f ms | %s |%s |\n", z.name, p, bytes/1e6, float64(c.Microseconds())/1000, l.name, row)
		}
	}
}
