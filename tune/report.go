package tune

// This file turns trials into data for people: the best trial, trials
// ranked as a table, and the optimisation history. It leaves out plots,
// which the command line draws from this data.

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// Best returns the best completed trial (lowest number among equal
// values), and false when none completed.
func Best(trials []TrialRecord, dir Direction) (TrialRecord, bool) {
	best, found := TrialRecord{}, false
	for _, t := range trials {
		if t.State != Complete || math.IsNaN(t.Value) {
			continue
		}
		if !found || dir.better(t.Value, best.Value) || (t.Value == best.Value && t.Number < best.Number) {
			best, found = t, true
		}
	}
	return best, found
}

// Sorted returns the trials best first: completed ones by value, then
// pruned ones (deeper first, then by last value), then running, then
// failed, each group by number among equals.
func Sorted(trials []TrialRecord, dir Direction) []TrialRecord {
	out := slices.Clone(trials)
	rank := map[State]int{Complete: 0, Pruned: 1, Running: 2, Failed: 3}
	sign := 1.0
	if dir == Maximize {
		sign = -1
	}
	slices.SortStableFunc(out, func(a, b TrialRecord) int {
		if c := cmp.Compare(rank[a.State], rank[b.State]); c != 0 {
			return c
		}
		switch a.State {
		case Complete:
			if c := cmp.Compare(sign*a.Value, sign*b.Value); c != 0 {
				return c
			}
		case Pruned:
			if c := cmp.Compare(b.LastStep(), a.LastStep()); c != 0 {
				return c
			}
			if c := cmp.Compare(sign*a.Value, sign*b.Value); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.Number, b.Number)
	})
	return out
}

// Table returns the trials ranked by Sorted as rows of text: a header
// (number, state, value, steps, duration, then one column per parameter)
// followed by one row per trial.
func Table(trials []TrialRecord, space *Space, dir Direction) [][]string {
	header := []string{"number", "state", "value", "steps", "duration"}
	for _, p := range space.Params {
		header = append(header, p.Name)
	}
	rows := [][]string{header}
	for _, t := range Sorted(trials, dir) {
		value := ""
		if !math.IsNaN(t.Value) && t.State != Failed && t.State != Running {
			value = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
		steps := ""
		if last := t.LastStep(); last >= 0 {
			steps = strconv.Itoa(last)
		}
		dur := ""
		if d := t.Duration(); d > 0 {
			dur = d.Round(time.Millisecond).String()
		}
		row := []string{strconv.Itoa(t.Number), t.State.String(), value, steps, dur}
		for _, p := range space.Params {
			row = append(row, FormatValue(t.Params[p.Name]))
		}
		rows = append(rows, row)
	}
	return rows
}

// WriteTable writes Table's rows aligned in columns.
func WriteTable(w io.Writer, trials []TrialRecord, space *Space, dir Direction) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range Table(trials, space, dir) {
		for i, cell := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, cell)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// FormatValue prints a parameter's value as a search space or config file
// would hold it: floats with six significant digits, nil as "".
func FormatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	return fmt.Sprint(v)
}

// HistoryPoint is one completed trial in the optimisation history.
type HistoryPoint struct {
	Number int     // trial number
	Value  float64 // its objective value
	Best   float64 // the best value among completed trials up to this one
}

// History returns the completed trials in number order with the running
// best, the data of an optimisation-history plot.
func History(trials []TrialRecord, dir Direction) []HistoryPoint {
	ts := slices.Clone(trials)
	slices.SortFunc(ts, func(a, b TrialRecord) int { return cmp.Compare(a.Number, b.Number) })
	var out []HistoryPoint
	best := math.NaN()
	for _, t := range ts {
		if t.State != Complete || math.IsNaN(t.Value) {
			continue
		}
		if dir.better(t.Value, best) {
			best = t.Value
		}
		out = append(out, HistoryPoint{Number: t.Number, Value: t.Value, Best: best})
	}
	return out
}
