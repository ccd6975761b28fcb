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
	"slices"
	"strings"
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
	Device         string  `json:"device,omitempty"`      // RunOn: the backend ("cuda", "cpu")
	DeviceName     string  `json:"device_name,omitempty"` // RunOn: the device, when the backend names it
	CPU            string  `json:"cpu"`
	Microarch      string  `json:"microarch"`
	Kernel         string  `json:"gemm_kernel"`
	Threads        int     `json:"threads"`
	PeakGFLOPS     float64 `json:"peak_gflops_per_core"`
	PeakYMMGFLOPS  float64 `json:"peak_gflops_per_core_256bit"`
	FMABits        int     `json:"fma_width_bits"` // measured: 512 for full-width units, 256 for split ones
	SgemmN         int     `json:"sgemm_n"`
	SgemmGFLOPS    float64 `json:"sgemm_gflops_1thread"`
	SgemmPctPeak   float64 `json:"sgemm_percent_of_peak"`
	TrainImgPerSec float64 `json:"train_img_per_s"`
	InferImgPerSec float64 `json:"infer_img_per_s"`
	// RunOn: training with each batch copied before its step
	// (Classifier.TrainStep) rather than during the step before
	// (the loop's staging, TrainImgPerSec).
	TrainUnstagedImgPerSec float64 `json:"train_unstaged_img_per_s,omitempty"`
	TrainBatch             int     `json:"train_batch"`
	InferBatch             int     `json:"infer_batch"`
	Images                 int     `json:"images"`

	Scaling []ThreadRow  `json:"scaling,omitempty"` // with Options.Threads
	Latency []LatencyRow `json:"latency"`           // inference at small batches
}

// ThreadRow is the seed CNN's throughput on one number of threads.
type ThreadRow struct {
	Threads        int     `json:"threads"`
	TrainImgPerSec float64 `json:"train_img_per_s"`
	InferImgPerSec float64 `json:"infer_img_per_s"`
}

// LatencyRow is the time of one evaluation-mode forward pass at a small
// batch, the edge use: the median and the 99th percentile of Runs passes.
type LatencyRow struct {
	Batch    int     `json:"batch"`
	MedianMS float64 `json:"median_ms"`
	P99MS    float64 `json:"p99_ms"`
	Runs     int     `json:"runs"`
}

// Options sizes a run. Zero values take the defaults of
// seed_pytorch.py --synthetic: batch 32 for training and 256 for inference.
type Options struct {
	Images     int // images timed for each of training and inference (default 2,000)
	TrainBatch int
	InferBatch int
	SgemmN     int   // matrix size (default 512)
	Threads    []int // also measure training and inference on each of these thread counts
	Latency    []int // inference batches timed for latency (default 1 and 8)
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
	if o.Latency == nil {
		o.Latency = []int{1, 8}
	}
}

// Run measures everything. Cancelling ctx stops early with its error.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.defaults()
	name, id := cpuInfo()
	r := &Report{CPU: name, Microarch: Microarch(id), Kernel: kernels.GemmKernelName(), Threads: kernels.Threads(),
		SgemmN: o.SgemmN, TrainBatch: o.TrainBatch, InferBatch: o.InferBatch, Images: o.Images}
	// One measurement of each width: the widest is the core's peak.
	peaks := kernels.PeakByWidth()
	r.PeakGFLOPS, r.PeakYMMGFLOPS = peaks["avx2"], peaks["avx2"]
	if z := peaks["avx512"]; z > 0 {
		r.PeakGFLOPS = z
	}
	r.FMABits = FMAWidth(peaks["avx512"], peaks["avx2"])
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
	if r.InferImgPerSec, err = SeedCNNInfer(ctx, o.InferBatch, o.Images); err != nil {
		return r, err
	}
	for _, b := range o.Latency {
		row, err := InferLatency(ctx, b, 200)
		if err != nil {
			return r, err
		}
		r.Latency = append(r.Latency, row)
	}
	for _, n := range o.Threads {
		row, err := onThreads(ctx, n, o)
		if err != nil {
			return r, err
		}
		r.Scaling = append(r.Scaling, row)
	}
	return r, nil
}

// onThreads measures training and inference with n goroutines for the
// kernels and n for the Go scheduler (GOMAXPROCS), then restores both.
func onThreads(ctx context.Context, n int, o Options) (ThreadRow, error) {
	row := ThreadRow{Threads: n}
	prevK, prevP := kernels.ThreadSetting(), runtime.GOMAXPROCS(n)
	kernels.SetThreads(n)
	defer func() {
		kernels.SetThreads(prevK)
		runtime.GOMAXPROCS(prevP)
	}()
	var err error
	if row.TrainImgPerSec, err = SeedCNNTrain(ctx, o.TrainBatch, o.Images); err != nil {
		return row, err
	}
	row.InferImgPerSec, err = SeedCNNInfer(ctx, o.InferBatch, o.Images)
	return row, err
}

// InferLatency times runs evaluation-mode forward passes of the seed CNN
// at batch, after a warm-up, and returns their median and 99th percentile.
func InferLatency(ctx context.Context, batch, runs int) (LatencyRow, error) {
	infer, err := newInferrer(batch)
	if err != nil {
		return LatencyRow{}, err
	}
	for range 10 {
		infer()
	}
	d := make([]time.Duration, runs)
	for i := range d {
		if err := ctx.Err(); err != nil {
			return LatencyRow{}, err
		}
		t := time.Now()
		infer()
		d[i] = time.Since(t)
	}
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return x.Seconds() * 1e3 }
	return LatencyRow{Batch: batch, MedianMS: ms(d[runs/2]), P99MS: ms(d[min(runs-1, runs*99/100)]), Runs: runs}, nil
}

// Sgemm returns the GFLOPS of an n x n x n single-precision product on the
// given number of threads, best of several repetitions after a warm-up.
func Sgemm(n, threads int) float64 {
	defer kernels.SetThreads(kernels.ThreadSetting())
	kernels.SetThreads(threads)
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
	return imagesPerSecond(ctx, batch, images, func() error { c.TrainStep(b); return nil })
}

// SeedCNNInfer returns the seed CNN's inference throughput in images/s in
// evaluation mode without gradients.
func SeedCNNInfer(ctx context.Context, batch, images int) (float64, error) {
	infer, err := newInferrer(batch)
	if err != nil {
		return 0, err
	}
	infer()
	return imagesPerSecond(ctx, batch, images, func() error { infer(); return nil })
}

// imagesPerSecond calls step, batch images at a time, until images have
// gone through, and returns their rate; it stops at ctx's end or step's
// first error.
func imagesPerSecond(ctx context.Context, batch, images int, step func() error) (float64, error) {
	n, t := 0, time.Now()
	for n < images {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := step(); err != nil {
			return 0, err
		}
		n += batch
	}
	return float64(n) / time.Since(t).Seconds(), nil
}

// String formats the report for a terminal.
func (r *Report) String() string {
	var b strings.Builder
	if r.Device != "" {
		fmt.Fprintf(&b, "kiln bench --device %s", r.Device)
		if r.DeviceName != "" {
			fmt.Fprintf(&b, " (%s)", r.DeviceName)
		}
		b.WriteString("\n")
	} else {
		fmt.Fprintf(&b, "kiln bench (%s: %s, %s, GEMM kernel %s, %d threads)\n", r.CPU, r.Microarch, runtime.GOARCH, r.Kernel, r.Threads)
		if r.FMABits > 0 {
			fmt.Fprintf(&b, "FMA units: %d bits wide (measured: %.1f GFLOPS with 512-bit FMAs, %.1f with 256-bit, per core)\n",
				r.FMABits, r.PeakGFLOPS, r.PeakYMMGFLOPS)
		}
		fmt.Fprintf(&b, "SGEMM %dx%dx%d, 1 thread: %.1f GFLOPS = %.0f%% of the core's measured FMA peak (%.1f GFLOPS)\n",
			r.SgemmN, r.SgemmN, r.SgemmN, r.SgemmGFLOPS, r.SgemmPctPeak, r.PeakGFLOPS)
	}
	fmt.Fprintf(&b, `seed CNN training, batch %d, Adam:  %.0f images/s
seed CNN inference, batch %d:       %.0f images/s
`, r.TrainBatch, r.TrainImgPerSec, r.InferBatch, r.InferImgPerSec)
	if r.TrainUnstagedImgPerSec > 0 {
		fmt.Fprintf(&b, "seed CNN training, each batch copied before its step instead of during the one before: %.0f images/s (staging: %.2fx)\n",
			r.TrainUnstagedImgPerSec, r.TrainImgPerSec/r.TrainUnstagedImgPerSec)
	}
	for _, l := range r.Latency {
		fmt.Fprintf(&b, "seed CNN inference latency, batch %d: %.3f ms median, %.3f ms p99 (%d runs)\n", l.Batch, l.MedianMS, l.P99MS, l.Runs)
	}
	if len(r.Scaling) > 0 {
		fmt.Fprintf(&b, "\nthreads  train img/s  infer img/s  train speed-up\n")
		for _, s := range r.Scaling {
			fmt.Fprintf(&b, "%7d  %11.0f  %11.0f  %13.2fx\n", s.Threads, s.TrainImgPerSec, s.InferImgPerSec, s.TrainImgPerSec/r.Scaling[0].TrainImgPerSec)
		}
	}
	return b.String()
}
