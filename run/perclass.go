package run

// This file holds PerClass, a callback that writes each class's
// validation accuracy (its recall) after every epoch. It is one file on
// purpose: a new output of a run needs a callback, not a change to the
// loop.

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/train"
)

// PerClassCSV is the file PerClass writes.
const PerClassCSV = "per_class_accuracy.csv"

// PerClass rewrites Dir/per_class_accuracy.csv after every epoch: one row
// per epoch, one column per class, each the fraction of that class's
// validation examples the model got right. The loop must validate with
// Classes set, so that epochs carry their confusion matrix; epochs
// without one are skipped.
type PerClass struct {
	train.Base
	Dir  string
	rows []string
}

// OnEpoch adds the epoch's row and rewrites the file atomically.
func (p *PerClass) OnEpoch(_ *train.Loop, st train.EpochStats) error {
	c := st.ValConfusion
	if c == nil {
		return nil
	}
	if len(p.rows) == 0 {
		p.rows = append(p.rows, "epoch,"+strings.Join(csvNames(c.Classes), ","))
	}
	row := []string{fmt.Sprint(st.Epoch)}
	for _, s := range c.Scores() {
		row = append(row, fmt.Sprintf("%.6g", s.Recall))
	}
	p.rows = append(p.rows, strings.Join(row, ","))
	return checkpoint.WriteFileAtomic(filepath.Join(p.Dir, PerClassCSV), func(w io.Writer) error {
		_, err := io.WriteString(w, strings.Join(p.rows, "\n")+"\n")
		return err
	})
}

// csvNames quotes the class names that need it in a CSV header.
func csvNames(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		if strings.ContainsAny(n, ",\"\n") {
			n = `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		}
		out[i] = n
	}
	return out
}
