package train

// This file holds evaluation over a loader. It leaves out test-time
// augmentation and top-k accuracy.

import (
	"context"
	"fmt"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/nn"
)

// Result is an evaluation's mean loss, accuracy and confusion matrix.
type Result struct {
	Loss      float64
	Accuracy  float64
	Confusion *Confusion
}

// Evaluate runs c's model in evaluation mode over every batch of l and
// returns the mean loss and accuracy; with classes it also fills a confusion
// matrix. The model is left in evaluation mode.
func Evaluate(ctx context.Context, c Learner, l *data.Loader, classes []string) (Result, error) {
	nn.SetTraining(c.Module(), false)
	var r Result
	if classes != nil {
		r.Confusion = NewConfusion(classes)
	}
	it, err := l.Epoch(ctx, 0, 0)
	if err != nil {
		return r, fmt.Errorf("train: evaluation: %w", err)
	}
	defer it.Close()
	var lossSum float64
	correct, n := 0, 0
	var preds []int
	for it.Next() {
		b := it.Batch()
		if r.Confusion != nil {
			if cap(preds) < len(b.Y) {
				preds = make([]int, len(b.Y))
			}
			preds = preds[:len(b.Y)]
		}
		ls, k := c.EvalBatch(b, preds)
		lossSum += ls
		correct += k
		n += len(b.Y)
		if r.Confusion != nil {
			for i, p := range preds {
				r.Confusion.Add(b.Y[i], p)
			}
		}
	}
	if err := it.Err(); err != nil {
		return r, fmt.Errorf("train: evaluation: %w", err)
	}
	if n > 0 {
		r.Loss, r.Accuracy = lossSum/float64(n), float64(correct)/float64(n)
	}
	return r, nil
}
