package tune_test

import (
	"context"
	"fmt"
	"math"

	"github.com/kiln-ml/kiln/tune"
)

// Example searches a learning rate and a batch size for a stand-in
// objective whose best is near lr = 0.01 with batch 64, reporting per-epoch
// values so that the median rule can stop bad trials early.
func Example() {
	ctx := context.Background()
	space, err := tune.ParseSpace([]byte(`
lr: {type: loguniform, low: 1.0e-4, high: 1.0}
batch_size: {type: categorical, choices: [32, 64, 128]}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	study, err := tune.OpenStudy(ctx, tune.NewMemoryStorage(), tune.StudyConfig{
		Name: "example", Direction: tune.Maximize, Space: space, Seed: 2,
		Sampler: tune.NewTPE(tune.TPEConfig{}), Pruner: tune.NewMedianPruner(tune.MedianConfig{}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	objective := func(ctx context.Context, t *tune.Trial) (float64, error) {
		miss := math.Abs(math.Log10(t.Float("lr")) + 2)
		if t.Int("batch_size") != 64 {
			miss += 0.5
		}
		var acc float64
		for epoch := 1; epoch <= 5; epoch++ {
			acc = (1 - math.Exp(-float64(epoch))) / (1 + miss) // "validation accuracy"
			if err := t.Report(epoch, acc); err != nil {
				return 0, err
			}
			if t.ShouldPrune() {
				return acc, tune.ErrPruned
			}
		}
		return acc, nil
	}
	if err := tune.Optimize(ctx, study, objective, 40, 1); err != nil {
		fmt.Println(err)
		return
	}
	best, err := study.Best(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	lr := best.Params["lr"].(float64)
	fmt.Println("batch size:", best.Params["batch_size"])
	fmt.Println("lr within a factor 2 of 0.01:", lr > 0.005 && lr < 0.02)
	// Output:
	// batch size: 64
	// lr within a factor 2 of 0.01: true
}
