package train

// This file holds the confusion matrix and the per-class scores computed
// from it. It leaves out ranking metrics (top-k accuracy, ROC curves).

import (
	"fmt"
	"strings"
)

// Confusion is a confusion matrix: Counts[true][predicted].
type Confusion struct {
	Classes []string
	Counts  [][]int
}

// NewConfusion returns an empty confusion matrix over the classes.
func NewConfusion(classes []string) *Confusion {
	c := &Confusion{Classes: classes, Counts: make([][]int, len(classes))}
	for i := range c.Counts {
		c.Counts[i] = make([]int, len(classes))
	}
	return c
}

// Add records one prediction.
func (c *Confusion) Add(truth, pred int) { c.Counts[truth][pred]++ }

// Total returns the number of predictions recorded.
func (c *Confusion) Total() int {
	n := 0
	for _, row := range c.Counts {
		for _, v := range row {
			n += v
		}
	}
	return n
}

// Accuracy returns the fraction of correct predictions.
func (c *Confusion) Accuracy() float64 {
	k := 0
	for i := range c.Counts {
		k += c.Counts[i][i]
	}
	if n := c.Total(); n > 0 {
		return float64(k) / float64(n)
	}
	return 0
}

// ClassScore is one class's precision, recall, F1 and support (number of
// true examples). A ratio with a zero denominator is 0, as scikit-learn's
// zero_division=0.
type ClassScore struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Scores returns each class's precision, recall and F1.
func (c *Confusion) Scores() []ClassScore {
	out := make([]ClassScore, len(c.Classes))
	for k := range c.Classes {
		tp := c.Counts[k][k]
		var predicted, actual int
		for i := range c.Counts {
			predicted += c.Counts[i][k]
			actual += c.Counts[k][i]
		}
		s := ClassScore{Class: c.Classes[k], Support: actual}
		if predicted > 0 {
			s.Precision = float64(tp) / float64(predicted)
		}
		if actual > 0 {
			s.Recall = float64(tp) / float64(actual)
		}
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		out[k] = s
	}
	return out
}

// Report formats the per-class scores and the matrix as plain text.
func (c *Confusion) Report() string {
	var b strings.Builder
	w := 5
	for _, name := range c.Classes {
		w = max(w, len(name))
	}
	fmt.Fprintf(&b, "%-*s  precision  recall     f1  support\n", w, "class")
	for _, s := range c.Scores() {
		fmt.Fprintf(&b, "%-*s  %9.4f  %6.4f  %5.4f  %7d\n", w, s.Class, s.Precision, s.Recall, s.F1, s.Support)
	}
	fmt.Fprintf(&b, "\nconfusion matrix (rows: true class, columns: predicted)\n")
	for i, row := range c.Counts {
		fmt.Fprintf(&b, "%-*s", w, c.Classes[i])
		for _, v := range row {
			fmt.Fprintf(&b, " %5d", v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
