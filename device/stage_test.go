package device_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/train"
)

// noiseSet is an in-memory dataset of normal noise with random labels.
type noiseSet struct {
	shape models.Shape
	x     [][]float32
	y     []int
}

func newNoiseSet(s models.Shape, n int, seed uint64) *noiseSet {
	rng := rand.New(rand.NewPCG(seed, 3))
	ds := &noiseSet{shape: s}
	for range n {
		x := make([]float32, s.Channels*s.Height*s.Width)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		ds.x, ds.y = append(ds.x, x), append(ds.y, rng.IntN(s.Classes))
	}
	return ds
}

func (d *noiseSet) Len() int     { return len(d.x) }
func (d *noiseSet) Shape() []int { return []int{d.shape.Channels, d.shape.Height, d.shape.Width} }
func (d *noiseSet) Classes() []string {
	c := make([]string, d.shape.Classes)
	for i := range c {
		c[i] = fmt.Sprint(i)
	}
	return c
}
func (d *noiseSet) Get(i int, x []float32, _ *rand.Rand) (int, error) {
	copy(x, d.x[i])
	return d.y[i], nil
}

// unstaged hides a classifier's Stage, so the loop calls TrainStep.
type unstaged struct {
	train.Learner
	c *device.Classifier
}

func (u unstaged) Err() error { return u.c.Err() }

// fitTwice trains zc's model for two epochs through train.Loop on b, with
// the loop staging batches or not, and returns the weights and the loop's
// history.
func fitTwice(t *testing.T, zc zooCase, b backend.Backend, staged bool) ([]float32, []train.EpochStats) {
	t.Helper()
	m := build(t, zc, 11)
	c, err := device.NewClassifier(m, m.ParamSet(), optimizers[0].dev, b)
	if err != nil {
		t.Fatal(err)
	}
	// 45 examples in batches of 8: the last batch is smaller, so a slot
	// is reused for a shorter batch.
	ld, err := data.NewLoader(newNoiseSet(zc.shape, 45, 5), data.LoaderOptions{BatchSize: 8, Shuffle: true, Seed: 3, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var l train.Learner = c
	if !staged {
		l = unstaged{Learner: c, c: c}
	}
	loop := &train.Loop{Learner: l, Train: ld, Val: ld, Epochs: 2}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.SyncToHost(); err != nil {
		t.Fatal(err)
	}
	for i := range loop.History {
		loop.History[i].Duration = 0
	}
	return slices.Clone(m.ParamSet().Data), loop.History
}

// TestStagedLoopSameBits: the loop staging each next batch during the step
// trains exactly as one calling TrainStep, on models with dropout and batch
// normalisation.
func TestStagedLoopSameBits(t *testing.T) {
	for _, zc := range zoo {
		if zc.name != "arch" && zc.name != "arch-bn" && zc.name != "seed-cnn" {
			continue
		}
		t.Run(zc.name, func(t *testing.T) {
			p0, h0 := fitTwice(t, zc, backend.NewCPU(), false)
			p1, h1 := fitTwice(t, zc, backend.NewCPU(), true)
			sameBits(t, "weights", p1, p0)
			if fmt.Sprint(h1) != fmt.Sprint(h0) {
				t.Fatalf("history staged %v\nunstaged %v", h1, h0)
			}
		})
	}
}

// recorder is the CPU backend with stages that log what they do, and the
// loss downloads.
type recorder struct {
	*backend.CPU
	log    []string
	stages int
}

func (r *recorder) NewStage(floats, ints int) (backend.Stage, error) {
	id := fmt.Sprintf("slot%d", r.stages)
	r.stages++
	r.log = append(r.log, "new")
	s, err := backend.NewStage(r.CPU, floats, ints) // the CPU's: synchronous
	return &recStage{Stage: s, id: id, log: &r.log}, err
}

func (r *recorder) Download(dst []float32, src backend.Buffer) error {
	if len(dst) == 2 {
		r.log = append(r.log, "loss")
	}
	return r.CPU.Download(dst, src)
}

type recStage struct {
	backend.Stage
	id  string
	log *[]string
}

func (s *recStage) Send(x backend.Buffer, labels backend.IntBuffer) error {
	*s.log = append(*s.log, fmt.Sprintf("send %s %d", s.id, labels.Len()))
	return s.Stage.Send(x, labels)
}
func (s *recStage) Acquire() { *s.log = append(*s.log, "acquire "+s.id); s.Stage.Acquire() }
func (s *recStage) Release() { *s.log = append(*s.log, "release "+s.id); s.Stage.Release() }

// TestStageOrder: in the loop, batch i+1 is sent after step i is queued
// and before its loss is read, into the slot step i does not read, and a
// step reads its slot between acquire and release.
func TestStageOrder(t *testing.T) {
	zc := zoo[1] // mlp
	r := &recorder{CPU: backend.NewCPU()}
	m := build(t, zc, 2)
	c, err := device.NewClassifier(m, m.ParamSet(), optimizers[0].dev, r)
	if err != nil {
		t.Fatal(err)
	}
	ld, err := data.NewLoader(newNoiseSet(zc.shape, 20, 1), data.LoaderOptions{BatchSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	loop := &train.Loop{Learner: c, Train: ld, Epochs: 1}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(r.log, "\n")
	want := strings.Join([]string{
		"new", "send slot0 8", "acquire slot0", "release slot0",
		"new", "send slot1 8", "loss", "acquire slot1", "release slot1",
		"send slot0 4", "loss", "acquire slot0", "release slot0",
		"loss"}, "\n")
	if got != want {
		t.Fatalf("stage log:\n%s\nwant:\n%s", got, want)
	}
}

// TestStageErrors: a bad batch staged during a step fails the step that
// takes it, not the one running, and TrainStaged calls during once even
// then.
func TestStageErrors(t *testing.T) {
	zc := zoo[1]
	m := build(t, zc, 2)
	c, err := device.NewClassifier(m, m.ParamSet(), optimizers[0].dev, backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	bs := batches(zc.shape, []int{3, 3}, 4)
	bs[1].Y[2] = zc.shape.Classes // out of range
	c.Stage(bs[0])
	calls := 0
	if loss, _ := c.TrainStaged(func() { calls++; c.Stage(bs[1]) }); loss == 0 || c.Err() != nil {
		t.Fatalf("step 1: loss %v, err %v", loss, c.Err())
	}
	c.TrainStaged(func() { calls++ })
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "label 4 out of range [0, 4)") {
		t.Fatalf("step 2: err %v, want the label out of range", err)
	}
	if calls != 2 {
		t.Fatalf("during called %d times, want 2", calls)
	}
}

// TestEvalKeepsStaged: evaluating a batch between staging a training
// batch and training on it leaves the staged batch alone.
func TestEvalKeepsStaged(t *testing.T) {
	zc := zoo[0]
	bs := batches(zc.shape, []int{4, 6, 5}, 8)
	run := func(staged bool) []float32 {
		m := build(t, zc, 3)
		c, err := device.NewClassifier(m, m.ParamSet(), optimizers[0].dev, backend.NewCPU())
		if err != nil {
			t.Fatal(err)
		}
		c.TrainStep(bs[0])
		if staged {
			c.Stage(bs[1])
			c.EvalBatch(bs[2], nil)
			c.TrainStaged(nil)
		} else {
			c.EvalBatch(bs[2], nil)
			c.TrainStep(bs[1])
		}
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
		if err := c.SyncToHost(); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(m.ParamSet().Data)
	}
	sameBits(t, "weights", run(true), run(false))
}

// counting is the CPU backend counting its live allocations.
type counting struct {
	*backend.CPU
	live int
}

func (c *counting) Alloc(n int) (backend.Buffer, error) { c.live++; return c.CPU.Alloc(n) }
func (c *counting) AllocInts(n int) (backend.IntBuffer, error) {
	c.live++
	return c.CPU.AllocInts(n)
}
func (c *counting) Free(x backend.Buffer)        { c.live--; c.CPU.Free(x) }
func (c *counting) FreeInts(x backend.IntBuffer) { c.live--; c.CPU.FreeInts(x) }

// TestCloseFreesEverything: a classifier that trained (two batch sizes,
// so buffers were reallocated), evaluated and staged a batch, and a
// predictor, give back every allocation when closed; their steps then
// report the classifier closed.
func TestCloseFreesEverything(t *testing.T) {
	for _, zc := range zoo {
		b := &counting{CPU: backend.NewCPU()}
		m := build(t, zc, 1)
		c, err := device.NewClassifier(m, m.ParamSet(), optimizers[1].dev, b)
		if err != nil {
			t.Fatal(err)
		}
		bs := batches(zc.shape, []int{3, 7, 5}, 2)
		c.TrainStep(bs[0])
		c.TrainStep(bs[1])
		c.EvalBatch(bs[2], nil)
		c.Stage(bs[2])
		p, err := device.NewPredictor(m, m.ParamSet(), b)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Logits(bs[1].X); err != nil {
			t.Fatal(err)
		}
		if err := c.Err(); err != nil || b.live == 0 {
			t.Fatalf("%s: err %v, %d live allocations", zc.name, err, b.live)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if b.live != 0 || c.Close() != nil {
			t.Errorf("%s: %d allocations live after Close", zc.name, b.live)
		}
		if loss, _ := c.TrainStep(bs[0]); loss != 0 || c.Err() == nil || !strings.Contains(c.Err().Error(), "closed") {
			t.Errorf("%s: a step after Close: loss %v, err %v", zc.name, loss, c.Err())
		}
	}
}

// TestStepAllocatesNothing: on the CPU backend a device step, staged or
// not, an evaluation batch and a prediction allocate nothing once warm,
// as the engine's step does.
func TestStepAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	zc := zoo[0]
	m := build(t, zc, 1)
	c, err := device.NewClassifier(m, m.ParamSet(), optimizers[0].dev, backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	p, err := device.NewPredictor(m, m.ParamSet(), backend.NewCPU())
	if err != nil {
		t.Fatal(err)
	}
	b := batches(zc.shape, []int{8}, 2)[0]
	for name, f := range map[string]func(){
		"TrainStep":      func() { c.TrainStep(b) },
		"Stage+Staged":   func() { c.Stage(b); c.TrainStaged(func() {}) },
		"EvalBatch":      func() { c.EvalBatch(b, nil) },
		"Predict Logits": func() { p.Logits(b.X) },
	} {
		for range 3 {
			f()
		}
		if a := testing.AllocsPerRun(10, f); a != 0 {
			t.Errorf("%s: %v allocations a call", name, a)
		}
	}
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
}
