package bench

// This file measures the seed CNN on a backend (kiln bench --device): the
// same training and inference work as Run's, through package device. It
// leaves out SGEMM and the FMA peak, which are the CPU's figures.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
)

// RunOn measures the seed CNN's training (Adam, batch o.TrainBatch) and
// inference (o.InferBatch) throughput and its latency at o.Latency's
// batches on backend b, as Run does on the CPU. Each training step ends
// with the loss copied back and each inference with the logits, so the
// device has finished every step that is counted. The report's Device
// names the backend.
func RunOn(ctx context.Context, b backend.Backend, o Options) (*Report, error) {
	o.defaults()
	r := &Report{Device: b.Name(), TrainBatch: o.TrainBatch, InferBatch: o.InferBatch, Images: o.Images}
	if d, ok := b.(interface{ Describe() string }); ok {
		r.DeviceName = d.Describe()
	}
	var err error
	if r.TrainImgPerSec, err = seedCNNTrainOn(ctx, b, o.TrainBatch, o.Images, true); err != nil {
		return r, err
	}
	if r.TrainUnstagedImgPerSec, err = seedCNNTrainOn(ctx, b, o.TrainBatch, o.Images, false); err != nil {
		return r, err
	}
	if r.InferImgPerSec, err = seedCNNInferOn(ctx, b, o.InferBatch, o.Images); err != nil {
		return r, err
	}
	for _, n := range o.Latency {
		row, err := inferLatencyOn(ctx, b, n, 200)
		if err != nil {
			return r, err
		}
		r.Latency = append(r.Latency, row)
	}
	return r, nil
}

// seedCNNTrainOn is SeedCNNTrain on b: staged, as the training loop runs
// (each next batch copied during the step before), or each batch copied
// and then trained on (TrainStep).
func seedCNNTrainOn(ctx context.Context, b backend.Backend, batch, images int, staged bool) (float64, error) {
	m, err := seedCNN()
	if err != nil {
		return 0, err
	}
	nn.SetTraining(m, true)
	c, err := device.NewClassifier(m, m.Params, device.OptimizerSettings{Name: "adam", Adam: optim.AdamConfig{LR: 1e-3}}, b)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	x := seedBatch(batch)
	stageX := func() { c.Stage(x) }
	step := func() error { c.TrainStep(x); return nil }
	if staged {
		c.Stage(x)
		step = func() error { c.TrainStaged(stageX); return nil }
	}
	for range 5 {
		step()
	}
	rate, err := imagesPerSecond(ctx, batch, images, step)
	if err == nil {
		if err = c.Err(); err != nil {
			err = fmt.Errorf("bench: training on %s: %w", b.Name(), err)
		}
	}
	return rate, err
}

// newDeviceInferrer returns a function that runs the seed CNN forward in
// evaluation mode on b for one random batch and copies the logits back,
// and one that frees its device memory.
func newDeviceInferrer(b backend.Backend, batch int) (infer func() error, free func() error, err error) {
	m, err := seedCNN()
	if err != nil {
		return nil, nil, err
	}
	nn.SetTraining(m, false)
	p, err := device.NewPredictor(m, m.Params, b)
	if err != nil {
		return nil, nil, err
	}
	x := seedBatch(batch).X
	return func() error {
		_, err := p.Logits(x)
		return err
	}, p.Close, nil
}

// seedCNNInferOn is SeedCNNInfer on b.
func seedCNNInferOn(ctx context.Context, b backend.Backend, batch, images int) (float64, error) {
	infer, free, err := newDeviceInferrer(b, batch)
	if err != nil {
		return 0, err
	}
	defer free()
	if err := infer(); err != nil {
		return 0, fmt.Errorf("bench: inference on %s: %w", b.Name(), err)
	}
	rate, err := imagesPerSecond(ctx, batch, images, infer)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("bench: inference on %s: %w", b.Name(), err)
	}
	return rate, err
}

// inferLatencyOn is InferLatency on b.
func inferLatencyOn(ctx context.Context, b backend.Backend, batch, runs int) (LatencyRow, error) {
	infer, free, err := newDeviceInferrer(b, batch)
	if err != nil {
		return LatencyRow{}, err
	}
	defer free()
	d := make([]time.Duration, runs)
	for i := -10; i < runs; i++ {
		if err := ctx.Err(); err != nil {
			return LatencyRow{}, err
		}
		t := time.Now()
		if err := infer(); err != nil {
			return LatencyRow{}, fmt.Errorf("bench: inference on %s: %w", b.Name(), err)
		}
		if i >= 0 {
			d[i] = time.Since(t)
		}
	}
	slices.Sort(d)
	ms := func(x time.Duration) float64 { return x.Seconds() * 1e3 }
	return LatencyRow{Batch: batch, MedianMS: ms(d[runs/2]), P99MS: ms(d[min(runs-1, runs*99/100)]), Runs: runs}, nil
}
