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
// matrix. The model is left in evaluation mode. c is any Evaluator: a
// Learner, or an inference-only model such as a device.Predictor.
func Evaluate(ctx context.Context, c Evaluator, l *data.Loader, classes []string) (Result, error) {
	return EvaluateOn(ctx, c, l, classes, nil)
}

// EvaluateOn is Evaluate for data-parallel ranks, each evaluating its own
// shard (l): with rep, the sums of every rank make the result, which every
// rank gets.
func EvaluateOn(ctx context.Context, c Evaluator, l *data.Loader, classes []string, rep Replicas) (Result, error) {
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
	if err := stepErr(c); err != nil {
		return r, fmt.Errorf("train: evaluation: %w", err)
	}
	if rep != nil {
		if err := sumResult(rep, &lossSum, &correct, &n, r.Confusion); err != nil {
			return r, &ReplicaError{err}
		}
	}
	if n > 0 {
		r.Loss, r.Accuracy = lossSum/float64(n), float64(correct)/float64(n)
	}
	return r, nil
}

// sumResult replaces an evaluation's sums with their sums over the ranks.
func sumResult(rep Replicas, lossSum *float64, correct, n *int, conf *Confusion) error {
	vals := []float64{*lossSum, float64(*correct), float64(*n)}
	if conf != nil {
		for _, row := range conf.Counts {
			for _, v := range row {
				vals = append(vals, float64(v))
			}
		}
	}
	if err := rep.Sum(vals); err != nil {
		return err
	}
	*lossSum, *correct, *n = vals[0], int(vals[1]), int(vals[2])
	if conf != nil {
		k := 3
		for _, row := range conf.Counts {
			for j := range row {
				row[j] = int(vals[k])
				k++
			}
		}
	}
	return nil
}
