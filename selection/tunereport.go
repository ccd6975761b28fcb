package selection

// This file writes a study's outcome: trials.csv, the history and
// importance plots, study.json and the text kiln tune prints. It leaves
// out the table's layout, which is tune.Table's.

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/task"
	"github.com/kiln-ml/kiln/train/plots"
	"github.com/kiln-ml/kiln/tune"
)

// TuneResult is a study's outcome as this process saw it at the end.
type TuneResult struct {
	Dir         string
	Study       string
	Space       *tune.Space
	Trials      []tune.TrialRecord // all of the study's, in number order
	Best        tune.TrialRecord   // valid when HasBest
	HasBest     bool
	BestConfig  run.Config        // the base settings with the best trial's parameters
	BestRun     string            // the best trial's run directory (or cv folder)
	Importances []tune.Importance //
	Retrain     *task.Summary     // the retraining of the best settings; nil when not done here
	Skipped     string            // why the retraining was left to another worker
}

// Count returns how many trials are in state s.
func (r *TuneResult) Count(s tune.State) int {
	n := 0
	for _, t := range r.Trials {
		if t.State == s {
			n++
		}
	}
	return n
}

// result gathers the trials into a TuneResult.
func (t *Tuner) result(trials []tune.TrialRecord) *TuneResult {
	res := &TuneResult{Dir: t.dir, Study: t.opt.Study, Space: t.opt.Space, Trials: trials, Importances: tune.Importances(trials, t.opt.Space)}
	if b, ok := tune.Best(trials, tune.Maximize); ok {
		res.Best, res.HasBest, res.BestRun = b, true, filepath.Join(t.dir, trialName(b.Number))
		// The parameters applied to every trial already; this cannot fail.
		res.BestConfig, _ = ApplyParams(t.base, b.Params)
	}
	return res
}

// writeOutputs writes trials.csv, the two plots and study.json.
func (t *Tuner) writeOutputs(res *TuneResult) error {
	rows := tune.Table(res.Trials, t.opt.Space, tune.Maximize)
	if err := checkpoint.WriteFileAtomic(filepath.Join(t.dir, TuneTrialsCSV), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.WriteAll(rows)
		return cw.Error()
	}); err != nil {
		return err
	}
	hist := tune.History(res.Trials, tune.Maximize)
	n, v, b := make([]float64, len(hist)), make([]float64, len(hist)), make([]float64, len(hist))
	for i, h := range hist {
		n[i], v[i], b[i] = float64(h.Number), 100*h.Value, 100*h.Best
	}
	if err := plots.History(filepath.Join(t.dir, TuneHistory), t.opt.Study+": optimisation history", t.objectiveName()+" (%)", n, v, b); err != nil {
		return err
	}
	names, shares := make([]string, len(res.Importances)), make([]float64, len(res.Importances))
	for i, im := range res.Importances {
		names[i], shares[i] = im.Name, im.Value
	}
	if err := plots.Importance(filepath.Join(t.dir, TuneImportance), t.opt.Study+": parameter importance", names, shares); err != nil {
		return err
	}
	return t.writeSummary(res)
}

// studyJSON is study.json.
type studyJSON struct {
	Study      string             `json:"study"`
	Storage    string             `json:"storage"`
	Direction  string             `json:"direction"`
	Objective  string             `json:"objective"`
	Folds      int                `json:"folds,omitempty"`
	Space      any                `json:"space"`
	Trials     map[string]int     `json:"trials"`
	Best       *bestJSON          `json:"best,omitempty"`
	Importance map[string]float64 `json:"importance,omitempty"`
	Retrain    *retrainJSON       `json:"retrain,omitempty"`
}

type bestJSON struct {
	Trial  int            `json:"trial"`
	Value  run.JSONFloat  `json:"value"`
	Params map[string]any `json:"params"`
	Run    string         `json:"run"`
}

type retrainJSON struct {
	Trial  int          `json:"trial"`
	Run    string       `json:"run"`
	Epochs int          `json:"epochs"`
	Test   *testSummary `json:"test,omitempty"` // nil without a test set
}

// writeSummary writes study.json.
func (t *Tuner) writeSummary(res *TuneResult) error {
	j := studyJSON{Study: t.opt.Study, Storage: t.opt.Where, Direction: tune.Maximize.String(), Objective: t.opt.Objective,
		Space: t.opt.Space, Trials: map[string]int{"total": len(res.Trials)}}
	if t.opt.Objective == ObjectiveCV {
		j.Folds = t.opt.Folds
	}
	for _, s := range []tune.State{tune.Complete, tune.Pruned, tune.Failed, tune.Running} {
		j.Trials[s.String()] = res.Count(s)
	}
	if res.HasBest {
		j.Best = &bestJSON{Trial: res.Best.Number, Value: run.JSONFloat(res.Best.Value), Params: res.Best.Params, Run: res.BestRun}
	}
	if len(res.Importances) > 0 {
		j.Importance = map[string]float64{}
		for _, im := range res.Importances {
			j.Importance[im.Name] = math.Round(im.Value*1e4) / 1e4
		}
	}
	if r := res.Retrain; r != nil {
		j.Retrain = &retrainJSON{Trial: res.Best.Number, Run: r.Dir, Epochs: len(r.History)}
		if r.Test != nil {
			j.Retrain.Test = &testSummary{Run: r.Dir, Accuracy: run.JSONFloat(r.Test.Accuracy), Loss: run.JSONFloat(r.Test.Loss), Images: r.Test.Confusion.Total()}
		}
	}
	return run.WriteJSON(filepath.Join(t.dir, TuneSummary), j)
}

// WriteReport writes what kiln tune prints at the end: the trials best
// first, the best parameters, the files, and the retrained model's test
// result.
func (r *TuneResult) WriteReport(w io.Writer) error {
	fmt.Fprintf(w, "\nStudy %s: %d trials (%d complete, %d pruned, %d failed), best first:\n", r.Study, len(r.Trials),
		r.Count(tune.Complete), r.Count(tune.Pruned), r.Count(tune.Failed))
	if err := tune.WriteTable(w, r.Trials, r.Space, tune.Maximize); err != nil {
		return err
	}
	if !r.HasBest {
		_, err := fmt.Fprintf(w, "\nNo trial completed; nothing to retrain.\n")
		return err
	}
	fmt.Fprintf(w, "\nBest trial %d: %.4f, run %s\n", r.Best.Number, r.Best.Value, r.BestRun)
	for _, p := range r.Space.Params {
		fmt.Fprintf(w, "  %s: %s\n", p.Name, tune.FormatValue(r.Best.Params[p.Name]))
	}
	if len(r.Importances) > 0 && r.Importances[0].Value > 0 {
		fmt.Fprintf(w, "Importance:")
		for _, im := range r.Importances {
			fmt.Fprintf(w, " %s %.0f%%", im.Name, 100*im.Value)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Files: %s, %s, %s, %s\n", filepath.Join(r.Dir, TuneTrialsCSV), filepath.Join(r.Dir, TuneHistory),
		filepath.Join(r.Dir, TuneImportance), filepath.Join(r.Dir, TuneSummary))
	switch rt := r.Retrain; {
	case rt == nil && r.Skipped != "":
		fmt.Fprintf(w, "Retraining: %s\n", r.Skipped)
	case rt == nil:
	case rt.Test == nil:
		fmt.Fprintf(w, "Retrained on training+validation data: %s (no test set)\n", rt.Dir)
	default:
		fmt.Fprintf(w, "Retrained on training+validation data: %s\nTest accuracy of the retrained best settings: %.2f%% (%d images), loss %.4f\n",
			rt.Dir, 100*rt.Test.Accuracy, rt.Test.Confusion.Total(), rt.Test.Loss)
	}
	return nil
}
