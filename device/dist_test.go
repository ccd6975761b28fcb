package device_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/device"
	"github.com/kiln-ml/kiln/dist"
	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/train"
)

// TestDataParallelSameBits: two in-process ranks training the seed CNN
// (dropout included) on the device path, their gradients combined by
// dist.GradReducer.ReduceAll, end an epoch with the bits of two ranks on
// the engine's path, whose reducer follows the tape.
func TestDataParallelSameBits(t *testing.T) {
	zc := zoo[0]
	ds := newNoiseSet(zc.shape, 48, 6)
	rank := func(c dist.Communicator, onDevice bool) []float32 {
		m := build(t, zc, 4)
		ps := m.ParamSet()
		red := dist.NewGradReducer(c, ps, 1<<12, 1<<14)
		defer red.Close()
		var l train.Learner
		if onDevice {
			dc, err := device.NewClassifier(m, ps, optimizers[0].dev, backend.NewCPU())
			if err != nil {
				t.Error(err)
				return nil
			}
			dc.SetGradSync(red.ReduceAll)
			l = dc
		} else {
			cl := train.NewClassifier(m, ps, nil, optimizers[0].host(ps.Data, ps.Grad))
			cl.Sync = red
			l = cl
		}
		ld, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 16, Shuffle: true, Seed: 2, Shard: c.Rank(), Shards: c.Size()})
		if err != nil {
			t.Error(err)
			return nil
		}
		loop := &train.Loop{Learner: l, Train: ld, Epochs: 1, Replicas: red}
		if err := loop.Run(context.Background()); err != nil {
			t.Error(err)
			return nil
		}
		if err := train.SyncToHost(l); err != nil {
			t.Error(err)
		}
		return slices.Clone(ps.Data)
	}
	var got [2][2][]float32 // [engine, device][rank]
	for i, onDevice := range []bool{false, true} {
		var wg sync.WaitGroup
		for r, c := range dist.NewGroup(2, time.Minute) {
			wg.Go(func() { got[i][r] = rank(c, onDevice) })
		}
		wg.Wait()
	}
	if t.Failed() {
		return
	}
	sameBits(t, "rank 0 against rank 1 on the device", got[1][1], got[1][0])
	sameBits(t, "device against engine", got[1][0], got[0][0])
	if slices.Equal(got[0][0], build(t, zc, 4).ParamSet().Data) {
		t.Fatal("the ranks did not train")
	}
}
