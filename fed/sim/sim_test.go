package sim

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/fed/partition"
	"github.com/kiln-ml/kiln/fed/server"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

func shapes() *source.Datasets {
	return &source.Datasets{Train: synth.New(600, 1, 12, 12, 3), Test: synth.New(120, 1, 12, 12, 77), Classes: synth.Classes,
		Shape: []int{1, 12, 12}, Source: "synth shapes"}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestSimulateTwoStrategies(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Rounds, cfg.PerRound, cfg.LR, cfg.Momentum, cfg.BatchSize, cfg.LocalEpochs, cfg.Seed = 3, 4, 0.05, 0.9, 16, 2, 1
	cfg.Data.Out, cfg.Data.Name = t.TempDir(), "sim"
	var log strings.Builder
	res, err := Simulate(context.Background(), Options{Clients: 10, Partition: partition.Options{Method: "dirichlet", Alpha: 0.5},
		Strategies: []string{"fedavg", "fedmedian"}, Server: cfg, Datasets: shapes(), Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Runs) != 2 {
		t.Fatalf("%d runs", len(res.Runs))
	}
	for _, r := range res.Runs {
		if len(r.Rounds) != 3 || r.Dir != filepath.Join(res.Dir, r.Strategy) {
			t.Fatalf("%s: %d rounds in %s", r.Strategy, len(r.Rounds), r.Dir)
		}
		for _, x := range r.Rounds {
			if len(x.Clients) != 4 {
				t.Fatalf("%s round %d aggregated %v; 4 a round were asked for", r.Strategy, x.Round, x.Clients)
			}
		}
		if _, err := run.ReadRunInfo(r.Dir); err != nil {
			t.Errorf("%s: %v", r.Strategy, err)
		}
	}
	// The same seed samples the same clients for both strategies.
	if a, b := res.Runs[0].Rounds[2].Clients, res.Runs[1].Rounds[2].Clients; strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("round 3 sampled %v for fedavg, %v for fedmedian", a, b)
	}
	if _, err := os.Stat(filepath.Join(res.Dir, AccPlot)); err != nil {
		t.Error(err)
	}
	sum := readCSV(t, filepath.Join(res.Dir, SummaryFile))
	if len(sum) != 3 || sum[1][0] != "fedavg" || sum[2][0] != "fedmedian" {
		t.Fatalf("summary.csv: %v", sum)
	}
	parts := readCSV(t, filepath.Join(res.Dir, PartFile))
	if len(parts) != 11 || len(parts[0]) != 2+len(synth.Classes) {
		t.Fatalf("partition.csv: %d rows of %d columns", len(parts), len(parts[0]))
	}
	if !strings.Contains(log.String(), "holding") || !strings.Contains(log.String(), "fedmedian: final test accuracy") {
		t.Errorf("log:\n%s", log.String())
	}
}

func TestSimulateRefuses(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Data.Out = t.TempDir()
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Clients: 0, Server: cfg}, "--clients 0"},
		{Options{Clients: 4, Server: cfg, Strategies: []string{"fedavg", "fedsgd"}}, "unknown strategy"},
		{Options{Clients: 4, Server: cfg, Partition: partition.Options{Method: "dirichlet"}}, "alpha 0"},
	} {
		tc.o.Datasets = shapes()
		if _, err := Simulate(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// cancelAt cancels a context once the log has shown a line count times.
type cancelAt struct {
	line   string
	count  int
	cancel context.CancelFunc
	log    strings.Builder
}

func (c *cancelAt) Write(p []byte) (int, error) {
	c.log.Write(p)
	if strings.Count(c.log.String(), c.line) >= c.count {
		c.cancel()
	}
	return len(p), nil
}

// TestResumeSameBits stops a simulation of two strategies in the second
// one's third round and resumes it: both runs' models and metrics equal
// an uninterrupted simulation's to the bit.
func TestResumeSameBits(t *testing.T) {
	cfg := server.DefaultConfig()
	cfg.Rounds, cfg.PerRound, cfg.LR, cfg.BatchSize, cfg.Seed = 4, 3, 0.05, 16, 7
	cfg.Data.Out = t.TempDir()
	o := Options{Clients: 6, Partition: partition.Options{Method: "dirichlet", Alpha: 0.5, MinSize: 10},
		Strategies: []string{"fedavgm", "fedprox"}, Datasets: shapes()}
	cfg.Data.Name = "whole"
	o.Server = cfg
	whole, err := Simulate(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data.Name = "cut"
	o.Server = cfg
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := &cancelAt{line: "round 2/4", count: 2, cancel: cancel}
	o.Log = stop
	cut, err := Simulate(ctx, o)
	if err == nil {
		t.Fatalf("the simulation ran to its end though cancelled:\n%s", stop.log.String())
	}
	if len(cut.Runs) != 2 || len(cut.Runs[1].Rounds) != 2 {
		t.Fatalf("stopped with %d runs; want fedprox stopped after round 2:\n%s", len(cut.Runs), stop.log.String())
	}
	if _, err := Resume(context.Background(), filepath.Join(cfg.Data.Out, "whole", "nope"), Options{Datasets: shapes()}); err == nil {
		t.Error("resumed a directory that is no simulation")
	}
	res, err := Resume(context.Background(), cut.Dir, Options{Datasets: shapes()})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range o.Strategies {
		if len(res.Runs[i].Rounds) != 4 {
			t.Fatalf("%s: %d rounds after resuming", name, len(res.Runs[i].Rounds))
		}
		a, err := os.ReadFile(filepath.Join(whole.Dir, name, run.LastFile))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(res.Dir, name, run.LastFile))
		if err != nil {
			t.Fatal(err)
		}
		if string(a) != string(b) {
			t.Errorf("%s: %s differs from the uninterrupted simulation's", name, run.LastFile)
		}
		for r := range 4 {
			a, b := whole.Runs[i].Rounds[r], res.Runs[i].Rounds[r]
			if a.TestAcc != b.TestAcc || a.TestLoss != b.TestLoss || a.TrainLoss != b.TrainLoss {
				t.Errorf("%s round %d: %+v uninterrupted, %+v resumed", name, r+1, a, b)
			}
		}
	}
}
