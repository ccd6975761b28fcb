package selection

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/tune"
	"github.com/kiln-ml/kiln/tune/sqlstore"
)

func mustSpace(t *testing.T, src string) *tune.Space {
	t.Helper()
	s, err := tune.ParseSpace([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// trialConfig reads trial n's run config.
func trialConfig(t *testing.T, dir string, n int) run.Config {
	t.Helper()
	cfg, err := run.ReadRunConfig(filepath.Join(dir, trialName(n)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const tinySpace = `{"lr": {"type": "loguniform", "low": 0.001, "high": 0.01},
	"batch_size": {"type": "categorical", "choices": [8, 16]},
	"optimizer": {"type": "categorical", "choices": ["adam", "sgd"]}}`

// TestTuneSamplers runs three trials with each sampler and checks that
// each trial is a run directory holding its parameters, kept from the
// test set, and that the study's files are written.
func TestTuneSamplers(t *testing.T) {
	dataDir := imageData(t)
	for _, name := range []string{"grid", "random", "tpe"} {
		t.Run(name, func(t *testing.T) {
			out := t.TempDir()
			sampler, _ := tune.NewSampler(name)
			var log bytes.Buffer
			cfg := tinyConfig(dataDir, out)
			tn, err := OpenTune(context.Background(), cfg, TuneOptions{Study: "s", Space: mustSpace(t, tinySpace),
				Storage: tune.NewMemoryStorage(), Sampler: sampler, Trials: 3, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tn.Run(context.Background())
			if err != nil {
				t.Fatalf("%v\n%s", err, log.String())
			}
			if len(res.Trials) != 3 || res.Count(tune.Complete) != 3 || !res.HasBest {
				t.Fatalf("trials %+v\n%s", res.Trials, log.String())
			}
			for _, r := range res.Trials {
				cfg := trialConfig(t, tn.Dir(), r.Number)
				if cfg.LR != r.Params["lr"].(float64) || int64(cfg.BatchSize) != r.Params["batch_size"].(int64) || cfg.Optimizer != r.Params["optimizer"] ||
					!cfg.NoTest || cfg.Model != "mlp" || cfg.Epochs != 1 {
					t.Errorf("trial %d: params %v, config %+v", r.Number, r.Params, cfg)
				}
				acc, _ := keptFromMetrics(t, filepath.Join(tn.Dir(), trialName(r.Number)))
				if math.Abs(acc-r.Value) > 1e-6 {
					t.Errorf("trial %d: value %v, its kept epoch's accuracy %v", r.Number, r.Value, acc)
				}
				if run.Exists(filepath.Join(tn.Dir(), trialName(r.Number), run.ReportFile)) {
					t.Errorf("trial %d saw the test set", r.Number)
				}
			}
			for _, f := range []string{TuneSettings, TuneSummary, TuneTrialsCSV, TuneHistory, TuneImportance} {
				if st, err := os.Stat(filepath.Join(tn.Dir(), f)); err != nil || st.Size() == 0 {
					t.Errorf("%s: %v", f, err)
				}
			}
			if !strings.Contains(log.String(), "[trial 2] Epoch [1/1]") || !strings.Contains(log.String(), "kiln: trial 1 complete: ") {
				t.Errorf("log:\n%s", log.String())
			}
		})
	}
}

// scripted prunes trial 1 at step 1 and asks to prune every trial at step
// 3, the last, which must be ignored.
type scripted struct {
	mu    sync.Mutex
	asked map[int][]int
}

func (s *scripted) Prune(in *tune.PruneInput) (bool, map[string]float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked[in.Trial.Number] = append(s.asked[in.Trial.Number], in.Step)
	return (in.Trial.Number == 1 && in.Step == 1) || in.Step == 3, nil
}

// TestTunePrunes checks that a pruned trial stops training after the
// epoch the pruner judged, with the value reported there, and that the
// pruner sees every epoch's validation accuracy.
func TestTunePrunes(t *testing.T) {
	out := t.TempDir()
	cfg := tinyConfig(imageData(t), out)
	cfg.Epochs = 3
	p := &scripted{asked: map[int][]int{}}
	var log bytes.Buffer
	tn, err := OpenTune(context.Background(), cfg, TuneOptions{Study: "p", Space: mustSpace(t, tinySpace), Storage: tune.NewMemoryStorage(),
		Sampler: tune.NewRandom(), Pruner: p, Trials: 3, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tn.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, r := range res.Trials {
		metrics, _ := os.ReadFile(filepath.Join(tn.Dir(), trialName(r.Number), run.MetricsCSV))
		epochs := strings.Count(string(metrics), "\n") - 1
		acc, _ := keptFromMetrics(t, filepath.Join(tn.Dir(), trialName(r.Number)))
		switch r.Number {
		case 1:
			if r.State != tune.Pruned || r.LastStep() != 1 || epochs != 1 || len(p.asked[1]) != 1 || r.Value != r.Intermediate[1] {
				t.Errorf("trial 1: %v at step %d after %d epochs, asked %v, value %v of %v", r.State, r.LastStep(), epochs, p.asked[1], r.Value, r.Intermediate)
			}
		default:
			if r.State != tune.Complete || epochs != 3 || len(r.Intermediate) != 3 || len(p.asked[r.Number]) != 3 || math.Abs(r.Value-acc) > 1e-6 {
				t.Errorf("trial %d: %v after %d epochs, reports %v, asked %v", r.Number, r.State, epochs, r.Intermediate, p.asked[r.Number])
			}
		}
	}
	if !strings.Contains(log.String(), "kiln: trial 1 pruned at step 1: ") {
		t.Errorf("log:\n%s", log.String())
	}
}

// cancelOn cancels a context when a line containing want is written.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	want   string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if strings.Contains(string(b), c.want) {
		c.cancel()
	}
	return c.buf.Write(b)
}

// TestTuneResumesAndRetrains interrupts a study after its second trial,
// reruns it on the same SQLite file, and checks that only the missing
// trials run, that the best settings are retrained on train+val and tested
// once, that a third run redoes nothing, and that other settings are
// refused.
func TestTuneResumesAndRetrains(t *testing.T) {
	out := t.TempDir()
	cfg := tinyConfig(imageData(t), out)
	db := filepath.Join(out, "s", TuneDB)
	open := func(ctx context.Context, log *cancelOn, trials, jobs int) (*Tuner, *sqlstore.Store) {
		t.Helper()
		st, err := sqlstore.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		tn, err := OpenTune(ctx, cfg, TuneOptions{Study: "s", Space: mustSpace(t, tinySpace), Storage: st, Where: db, Sampler: tune.NewRandom(),
			Trials: trials, Jobs: jobs, Retrain: true, Log: log, Poll: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return tn, st
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := &cancelOn{want: "kiln: trial 1 complete", cancel: cancel}
	tn, st := open(ctx, first, 4, 1)
	if _, err := tn.Run(ctx); err == nil {
		t.Fatalf("an interrupted study reported no error\n%s", first.buf.String())
	}
	st.Close()
	if _, err := os.Stat(filepath.Join(tn.Dir(), trialName(2))); err == nil {
		t.Fatalf("trial 2 started after the interruption\n%s", first.buf.String())
	}
	made, _ := os.Stat(filepath.Join(tn.Dir(), trialName(0), run.BestFile))

	threads := kernels.Threads()
	second := &cancelOn{want: "\x00"}
	tn, st = open(context.Background(), second, 4, 2)
	res, err := tn.Run(context.Background())
	st.Close()
	if err != nil {
		t.Fatalf("%v\n%s", err, second.buf.String())
	}
	log := second.buf.String()
	if kernels.Threads() != threads {
		t.Errorf("kernel threads %d after the study, %d before", kernels.Threads(), threads)
	}
	if len(res.Trials) != 4 || res.Count(tune.Complete) != 4 || strings.Contains(log, "[trial 0]") || strings.Contains(log, "[trial 1]") ||
		!strings.Contains(log, "[trial 2]") || !strings.Contains(log, "[trial 3]") || !strings.Contains(log, "holds 2 of 4 trials") {
		t.Fatalf("resumed study: %d trials\n%s", len(res.Trials), log)
	}
	if now, _ := os.Stat(filepath.Join(tn.Dir(), trialName(0), run.BestFile)); !now.ModTime().Equal(made.ModTime()) {
		t.Error("trial 0 was trained again")
	}
	rt := res.Retrain
	if rt == nil || rt.Test == nil || rt.Test.Confusion.Total() != 12 || rt.Dir != filepath.Join(tn.Dir(), "best-"+trialName(res.Best.Number)) {
		t.Fatalf("retrain: %+v\n%s", rt, log)
	}
	rc, _ := run.ReadRunConfig(rt.Dir)
	info, _ := run.ReadRunInfo(rt.Dir)
	if rc.ValSplit != 0 || rc.NoTest || rc.LR != res.Best.Params["lr"].(float64) || info.TrainImages != 36 || info.ValImages != 0 {
		t.Errorf("retrain config %+v, info %+v", rc, info)
	}
	var sj studyJSON
	b, _ := os.ReadFile(filepath.Join(tn.Dir(), TuneSummary))
	if err := json.Unmarshal(b, &sj); err != nil || sj.Retrain == nil || sj.Retrain.Test == nil || float64(sj.Retrain.Test.Accuracy) != rt.Test.Accuracy ||
		sj.Best.Trial != res.Best.Number || sj.Trials["complete"] != 4 {
		t.Errorf("study.json: %v\n%s", err, b)
	}
	var rep bytes.Buffer
	res.WriteReport(&rep)
	for _, want := range []string{"best first", "Best trial", "  lr: ", "Test accuracy of the retrained best settings"} {
		if !strings.Contains(rep.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, rep.String())
		}
	}

	// A third run with the same settings trains nothing and reads the
	// retraining back; another lr is refused.
	third := &cancelOn{want: "\x00"}
	tn, st = open(context.Background(), third, 4, 1)
	res3, err := tn.Run(context.Background())
	st.Close()
	if err != nil || strings.Contains(third.buf.String(), "[trial") || !strings.Contains(third.buf.String(), "is finished") ||
		res3.Retrain.Test.Accuracy != rt.Test.Accuracy || res3.Retrain.Test.Confusion.Total() != 12 {
		t.Errorf("third run: %v\n%s", err, third.buf.String())
	}
	cfg.WeightDecay = 0.5
	st, _ = sqlstore.Open(context.Background(), db)
	defer st.Close()
	_, err = OpenTune(context.Background(), cfg, TuneOptions{Study: "s", Space: mustSpace(t, tinySpace), Storage: st, Trials: 4})
	if err == nil || !strings.Contains(err.Error(), "was started with --weight-decay 0, not 0.5") {
		t.Errorf("rerun with another --weight-decay: %v", err)
	}
}

// TestTuneCVObjective scores trials by 2-fold cross-validation.
func TestTuneCVObjective(t *testing.T) {
	out := t.TempDir()
	cfg := tinyConfig(imageData(t), out)
	var log bytes.Buffer
	tn, err := OpenTune(context.Background(), cfg, TuneOptions{Study: "c", Space: mustSpace(t, `{"lr": {"type": "categorical", "choices": [0.001, 0.01]}}`),
		Storage: tune.NewMemoryStorage(), Sampler: tune.NewGrid(0), Objective: ObjectiveCV, Folds: 2, Trials: 5, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	res, err := tn.Run(context.Background())
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Trials) != 2 { // the grid has two points
		t.Fatalf("%d trials", len(res.Trials))
	}
	for _, r := range res.Trials {
		cv, err := ReadCV(filepath.Join(tn.Dir(), trialName(r.Number)))
		if err != nil {
			t.Fatal(err)
		}
		if len(cv.Done) != 2 || math.Abs(cv.MeanAcc-r.Value) > 1e-12 || len(r.Intermediate) != 2 || r.Intermediate[2] != r.Value || cv.Test != nil {
			t.Errorf("trial %d: value %v, reports %v; cv %+v", r.Number, r.Value, r.Intermediate, cv)
		}
	}
}

// TestTuneUsage checks the errors that come before any training.
func TestTuneUsage(t *testing.T) {
	cfg := tinyConfig("", t.TempDir())
	space := mustSpace(t, tinySpace)
	mem := tune.NewMemoryStorage()
	for _, tc := range []struct {
		opt  TuneOptions
		edit func(*run.Config)
		want string
	}{
		{TuneOptions{Study: "a/b", Space: space, Storage: mem, Trials: 1}, nil, `--study "a/b"`},
		{TuneOptions{Study: "x", Space: space, Storage: mem, Trials: 0}, nil, "--trials 0"},
		{TuneOptions{Study: "x", Space: space, Storage: mem, Trials: 1, Objective: "test"}, nil, `--objective "test"`},
		{TuneOptions{Study: "x", Space: space, Storage: mem, Trials: 1, Objective: "cv", Folds: 1}, nil, "--folds 1"},
		{TuneOptions{Study: "x", Space: space, Storage: mem, Trials: 1}, func(c *run.Config) { c.ValSplit = 0 }, "--val-split 0"},
		{TuneOptions{Study: "x", Space: space, Storage: mem, Trials: 1}, func(c *run.Config) { c.Task, c.Model = run.TaskAutoencode, "conv-ae" }, "autoencode"},
		{TuneOptions{Study: "x", Space: mustSpace(t, `{"learning_rate": {"type": "uniform", "low": 0.1, "high": 1}}`), Storage: mem, Trials: 1}, nil,
			`--space: parameter "learning_rate" is not a training setting`},
	} {
		c := cfg
		if tc.edit != nil {
			tc.edit(&c)
		}
		if _, err := OpenTune(context.Background(), c, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.opt, err, tc.want)
		}
	}
}

func TestCheckSpace(t *testing.T) {
	base := run.DefaultConfig()
	for _, tc := range []struct{ space, want string }{
		{tinySpace, ""},
		{`{"batch-size": {"type": "int", "low": 8, "high": 64, "log": true}, "weight_decay": {"type": "uniform", "low": 0, "high": 0.1},
		   "model": {"type": "categorical", "choices": ["mlp", "lenet5"]}, "scheduler": {"type": "categorical", "choices": ["none", "cosine"]},
		   "augment": {"type": "categorical", "choices": ["", "hflip"]}, "momentum": {"type": "categorical", "choices": [0, 0.9]},
		   "epochs": {"type": "categorical", "choices": [2, 4.0]}}`, ""},
		{`{"learning_rate": {"type": "uniform", "low": 0.1, "high": 1}}`, `"learning_rate" is not a training setting; a space names settings as in config.json: augment, batch_size`},
		{`{"seed": {"type": "int", "low": 0, "high": 3}}`, `parameter "seed" cannot be tuned: it also draws the validation split`},
		{`{"val_split": {"type": "uniform", "low": 0.1, "high": 0.3}}`, `"val_split" cannot be tuned`},
		{`{"batch_size": {"type": "uniform", "low": 8, "high": 64}}`, `"batch_size": batch_size takes whole numbers; use "type": "int"`},
		{`{"epochs": {"type": "categorical", "choices": [2, 2.5]}}`, `parameter "epochs": the setting takes a whole number, got 2.5`},
		{`{"optimizer": {"type": "categorical", "choices": ["adam", "adagrad"]}}`, `parameter "optimizer", value adagrad: --optimizer "adagrad"`},
		{`{"optimizer": {"type": "categorical", "choices": ["adam", 3]}}`, `the setting takes text, got 3`},
		{`{"model": {"type": "categorical", "choices": ["mlp", "vgg"]}}`, `value vgg: unknown model "vgg"`},
		{`{"lr": {"type": "uniform", "low": 0, "high": 0.1}}`, `value 0: --lr 0: want a positive learning rate`},
		{`{"batch_size": {"type": "int", "low": 8, "high": 16}, "batch-size": {"type": "int", "low": 8, "high": 16}}`, `both set batch_size`},
	} {
		err := CheckSpace(base, mustSpace(t, tc.space))
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s:\n%v, want %q", tc.space, err, tc.want)
		}
	}
}

func TestApplyParams(t *testing.T) {
	cfg, err := ApplyParams(run.DefaultConfig(), map[string]any{"lr": int64(1), "batch-size": 64.0, "epochs": 3, "optimizer": "sgd",
		"momentum": 0.9, "patience": int64(2)})
	if err != nil || cfg.LR != 1 || cfg.BatchSize != 64 || cfg.Epochs != 3 || cfg.Optimizer != "sgd" || cfg.Momentum != 0.9 || cfg.Patience != 2 {
		t.Errorf("%+v, %v", cfg, err)
	}
	if _, err := ApplyParams(run.DefaultConfig(), map[string]any{"lr": "fast"}); err == nil || !strings.Contains(err.Error(), `parameter "lr": the setting takes a number`) {
		t.Errorf("lr \"fast\": %v", err)
	}
	names := TunableNames()
	for _, want := range []string{"lr", "batch_size", "optimizer", "momentum", "weight_decay", "scheduler", "epochs", "model", "augment", "clip_norm", "patience"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("%s is not tunable: %v", want, names)
		}
	}
	for _, n := range names {
		if _, no := untunable[n]; no {
			t.Errorf("%s is listed as tunable", n)
		}
	}
}

func TestRetrainLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), tuneLock)
	unlock, ok, err := lockFile(path)
	if err != nil || !ok {
		t.Fatalf("first lock: %v %v", ok, err)
	}
	if _, ok, err := lockFile(path); ok || err != nil {
		t.Errorf("second lock while held: %v %v", ok, err)
	}
	unlock()
	unlock2, ok, err := lockFile(path)
	if err != nil || !ok {
		t.Fatalf("lock after unlock: %v %v", ok, err)
	}
	unlock2()
}
