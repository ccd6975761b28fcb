// Package bench measures kiln's speed on this machine: SGEMM against the
// core's estimated FP32 peak, and the seed CNN's training and inference
// throughput on synthetic data, the same work as seed_pytorch.py
// --synthetic. It backs `kiln bench`. Comparisons with PyTorch are made by
// running both side by side, never inside this package.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
	"github.com/kiln-ml/kiln/train"
)

// Report is one run's figures; it marshals to the JSON of `kiln bench --json`.
type Report struct {
	GOOS, GOARCH   string  `json:"-"`
	CPU            string  `json:"cpu"`
	Kernel         string  `json:"gemm_kernel"`
	Threads        int     `json:"threads"`
	PeakGFLOPS     float64 `json:"peak_gflops_per_core"`
	SgemmN         int     `json:"sgemm_n"`
	SgemmGFLOPS    float64 `json:"sgemm_gflops_1thread"`
	SgemmPctPeak   float64 `json:"sgemm_percent_of_peak"`
	TrainImgPerSec float64 `json:"train_img_per_s"`
	InferImgPerSec float64 `json:"infer_img_per_s"`
	TrainBatch     int     `json:"train_batch"`
	InferBatch     int     `json:"infer_batch"`
	Images         int     `json:"images"`
}

// Options sizes a run. Zero values take the defaults of
// seed_pytorch.py --synthetic: batch 32 for training and 256 for inference.
type Options struct {
	Images     int // images timed for each of training and inference (default 2,000)
	TrainBatch int
	InferBatch int
	SgemmN     int // matrix size (default 512)
}

func (o *Options) defaults() {
	if o.Images <= 0 {
		o.Images = 2000
	}
	if o.TrainBatch <= 0 {
		o.TrainBatch = 32
	}
	if o.InferBatch <= 0 {
		o.InferBatch = 256
	}
	if o.SgemmN <= 0 {
		o.SgemmN = 512
	}
}

// Run measures everything. Cancelling ctx stops early with its error.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	r := &Report{CPU: cpuName(), Kernel: kernels.GemmKernelName(), Threads: kernels.Threads(),
		SgemmN: o.SgemmN, TrainBatch: o.TrainBatch, InferBatch: o.InferBatch, Images: o.Images}
	r.PeakGFLOPS = PeakGFLOPS()
	r.SgemmGFLOPS = Sgemm(o.SgemmN, 1)
	if r.PeakGFLOPS > 0 {
		r.SgemmPctPeak = 100 * r.SgemmGFLOPS / r.PeakGFLOPS
	}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	var err error
	if r.TrainImgPerSec, err = SeedCNNTrain(ctx, o.TrainBatch, o.Images); err != nil {
		return r, err
	}
	r.InferImgPerSec, err = SeedCNNInfer(ctx, o.InferBatch, o.Images)
	return r, err
}

// Sgemm returns the GFLOPS of an n x n x n single-precision product on the
// given number of threads, best of several repetitions after a warm-up.
func Sgemm(n, threads int) float64 {
	prev := kernels.Threads()
	kernels.SetThreads(threads)
	defer kernels.SetThreads(prev)
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range a {
		a[i], b[i] = rng.Float32(), rng.Float32()
	}
	kernels.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	best := time.Duration(1 << 62)
	for range 5 {
		reps := max(1, 200_000_000/(n*n*n))
		t := time.Now()
		for range reps {
			kernels.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		}
		best = min(best, time.Since(t)/time.Duration(reps))
	}
	return 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9
}

// PeakGFLOPS returns one core's measured FP32 FMA peak (see
// kernels.PeakGFLOPS), 0 in the pure-Go build.
func PeakGFLOPS() float64 { return kernels.PeakGFLOPS() }

func seedBatch(n int) *data.Batch {
	r := rand.New(rand.NewPCG(1, 2))
	b := &data.Batch{X: make([]float32, n*3*32*32), Shape: []int{n, 3, 32, 32}, Y: make([]int, n)}
	for i := range b.X {
		b.X[i] = float32(r.NormFloat64())
	}
	for i := range b.Y {
		b.Y[i] = r.IntN(10)
	}
	return b
}

func seedCNN() (*models.SeedCNN, error) {
	return models.NewSeedCNN(models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}, 0.2, rand.New(rand.NewPCG(0, 0)))
}

// newTrainer returns a seed CNN classifier with Adam at lr 1e-3, in
// training mode.
func newTrainer(m *models.SeedCNN) *train.Classifier {
	nn.SetTraining(m, true)
	return train.NewClassifier(m, m.Params, nil, optim.NewAdam(m.Params.Data, m.Params.Grad, optim.AdamConfig{LR: 1e-3}))
}

// newInferrer returns a function that runs the seed CNN forward on one
// random batch in evaluation mode without gradients, reusing one tape.
func newInferrer(batch int) (func(), error) {
	m, err := seedCNN()
	if err != nil {
		return nil, err
	}
	nn.SetTraining(m, false)
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	b := seedBatch(batch)
	x := tensor.FromSlice(b.X, b.Shape...)
	return func() {
		g.Reset()
		m.Forward(g, g.Const(x))
	}, nil
}

// SeedCNNTrain returns the seed CNN's training throughput in images/s:
// forward, cross-entropy, backward and an Adam step on one random batch,
// repeated, after five warm-up steps, as seed_pytorch.py --synthetic does.
func SeedCNNTrain(ctx context.Context, batch, images int) (float64, error) {
	m, err := seedCNN()
	if err != nil {
		return 0, err
	}
	c := newTrainer(m)
	b := seedBatch(batch)
	for range 5 {
		c.TrainStep(b)
	}
	n, t := 0, time.Now()
	for n < images {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		c.TrainStep(b)
		n += batch
	}
	return float64(n) / time.Since(t).Seconds(), nil
}

// SeedCNNInfer returns the seed CNN's inference throughput in images/s in
// evaluation mode without gradients.
func SeedCNNInfer(ctx context.Context, batch, images int) (float64, error) {
	infer, err := newInferrer(batch)
	if err != nil {
		return 0, err
	}
	infer()
	n, t := 0, time.Now()
	for n < images {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		infer()
		n += batch
	}
	return float64(n) / time.Since(t).Seconds(), nil
}

// String formats the report for a terminal.
func (r *Report) String() string {
	return fmt.Sprintf(`kiln bench (%s, %s, GEMM kernel %s, %d threads)
SGEMM %dx%dx%d, 1 thread: %.1f GFLOPS = %.0f%% of the core's measured FMA peak (%.1f GFLOPS)
seed CNN training, batch %d, Adam:  %.0f images/s
seed CNN inference, batch %d:       %.0f images/s
`, r.CPU, runtime.GOARCH, r.Kernel, r.Threads, r.SgemmN, r.SgemmN, r.SgemmN, r.SgemmGFLOPS, r.SgemmPctPeak, r.PeakGFLOPS,
		r.TrainBatch, r.TrainImgPerSec, r.InferBatch, r.InferImgPerSec)
}
