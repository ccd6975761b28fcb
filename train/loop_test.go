package train

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/synth"
)

// TestLoopCallbacks checks the order and rhythm of the loop's events:
// EveryNSteps skips an epoch's last batch, Stop ends training after the
// epoch's remaining callbacks, and a cancelled context reaches
// OnInterrupt with the position it stopped at.
func TestLoopCallbacks(t *testing.T) {
	ds := synth.New(64, 1, 20, 20, 3) // 4 batches of 16 an epoch
	l, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 16, Shuffle: true, Seed: 1})
	var every, epochs []int
	stopper := Funcs{Epoch: func(l *Loop, st EpochStats) error {
		if st.Epoch == 2 {
			l.Stop("enough")
		}
		return nil
	}}
	after := Funcs{Epoch: func(l *Loop, st EpochStats) error {
		epochs = append(epochs, st.Epoch)
		if st.Epoch == 2 && (l.Stopped() != "enough" || !l.Done()) {
			t.Errorf("a callback after Stop sees Stopped() %q, Done() %v", l.Stopped(), l.Done())
		}
		return nil
	}}
	loop := &Loop{Learner: newSeedCNN(t, 1), Train: l, Epochs: 5, Callbacks: []Callback{
		EveryNSteps(2, func(l *Loop) error { every = append(every, l.Pos.Step); return nil }), stopper, after}}
	if err := loop.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Steps 4 and 8 end an epoch, where OnEpoch follows instead.
	if !slices.Equal(every, []int{2, 6}) || !slices.Equal(epochs, []int{1, 2}) || len(loop.History) != 2 || loop.Pos.Epoch != 2 {
		t.Errorf("every-2 steps at %v, epochs %v, history %d, position %+v", every, epochs, len(loop.History), loop.Pos)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var at Position
	saveFails := errors.New("disk full")
	loop = &Loop{Learner: newSeedCNN(t, 1), Train: l, Epochs: 5, Callbacks: []Callback{
		Funcs{Step: func(_ *Loop, s StepInfo) error {
			if s.GlobalStep == 6 {
				cancel()
			}
			return nil
		}},
		Funcs{Interrupt: func(l *Loop, err error) error {
			at = l.Pos
			if !errors.Is(err, context.Canceled) {
				t.Errorf("OnInterrupt got %v, want the cancellation", err)
			}
			return saveFails
		}},
	}}
	err := loop.Run(ctx)
	var cerr *CallbackError
	if !errors.As(err, &cerr) || !errors.Is(err, context.Canceled) || !errors.Is(err, saveFails) {
		t.Errorf("Run returned %v, want a CallbackError wrapping the cancellation and the failed save", err)
	}
	if at.Step != 6 || at.Epoch != 1 || at.Batch != 2 {
		t.Errorf("interrupted at %+v, want step 6: epoch 1 done and 2 batches of epoch 2", at)
	}
}
