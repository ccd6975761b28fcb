package sim

// This file holds Simulate: data, partition, clients, and one server run
// per strategy, then the comparison plot and table.

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/client"
	"github.com/kiln-ml/kiln/fed/partition"
	"github.com/kiln-ml/kiln/fed/secure"
	"github.com/kiln-ml/kiln/fed/server"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
	"github.com/kiln-ml/kiln/train/plots"
)

// The files a simulation writes besides each strategy's run directory.
const (
	AccPlot     = "acc_per_round.png" // test accuracy per round, one line per strategy
	SummaryFile = "summary.csv"       // strategy, final and best test accuracy
	PartFile    = "partition.csv"     // each client's examples per class
	OptionsFile = "simulate.json"     // the simulation's settings, for Resume
)

// saved is what OptionsFile holds: the settings that fix a simulation.
type saved struct {
	Clients    int               `json:"clients"`
	Partition  partition.Options `json:"partition"`
	Strategies []string          `json:"strategies"`
	Server     server.Config     `json:"server"`
	Secure     bool              `json:"secure"`
}

// Options are a simulation's settings.
type Options struct {
	// Clients is how many clients the training split is dealt to.
	Clients int
	// Partition says how (partition.Options: iid, dirichlet with alpha,
	// shard).
	Partition partition.Options
	// Strategies run one after another over the same clients; empty:
	// Server.Strategy alone.
	Strategies []string
	// Server is every run's settings: rounds, clients per round
	// (PerRound, Fraction), local training, seed, and in Server.Data the
	// data to load and where the simulation's directory goes (Out, Name).
	// MinClients is set to Clients.
	Server server.Config
	// Secure wraps every client with fed/secure (set
	// Server.SecureAggregation too).
	Secure bool
	// Datasets, when set, are used instead of loading Server.Data.
	Datasets *source.Datasets
	// Log gets the simulation's lines and every run's; nil discards them.
	Log     io.Writer
	Workers int    // decoding goroutines per client and for the test set
	Version string // kiln's, for run.json
}

// Run is one strategy's run in a simulation.
type Run struct {
	Strategy string
	Dir      string
	Rounds   []server.Round
}

// Final and Best return the last round's test accuracy and the best one.
func (r Run) Final() float64 { return r.Rounds[len(r.Rounds)-1].TestAcc }

// Best returns the best test accuracy of any round.
func (r Run) Best() float64 {
	b := 0.0
	for _, x := range r.Rounds {
		b = max(b, x.TestAcc)
	}
	return b
}

// Result is what Simulate did.
type Result struct {
	Dir  string
	Runs []Run
}

// partitionStream is the partition generator's PCG stream.
const partitionStream = 0x9a27

// Simulate loads the data, deals it to the clients and runs every
// strategy, writing the simulation's directory.
func Simulate(ctx context.Context, o Options) (*Result, error) {
	if len(o.Strategies) == 0 {
		o.Strategies = []string{o.Server.Strategy}
	}
	return simulate(ctx, o, "")
}

// Resume continues the simulation in dir after a stop or a kill, with the
// settings it was started with (OptionsFile): strategies that finished
// are read back, the one that was running resumes after its last saved
// round (the same bits as a simulation never stopped), and those not
// started yet run. From o it takes only Datasets, Log, Workers and
// Version.
func Resume(ctx context.Context, dir string, o Options) (*Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, OptionsFile))
	if err != nil {
		return nil, fmt.Errorf("sim: %s is not a simulation's directory: %w", dir, err)
	}
	sv, err := parseSaved(b)
	if err != nil {
		return nil, fmt.Errorf("sim: %s: %w", filepath.Join(dir, OptionsFile), err)
	}
	o.Clients, o.Partition, o.Strategies, o.Server, o.Secure = sv.Clients, sv.Partition, sv.Strategies, sv.Server, sv.Secure
	return simulate(ctx, o, dir)
}

// parseSaved decodes OptionsFile: one JSON object of saved's fields and
// no others, whose settings a simulation can run with.
func parseSaved(b []byte) (saved, error) {
	var sv saved
	if err := run.DecodeStrict(b, &sv); err != nil {
		return saved{}, err
	}
	p := sv.Partition
	switch {
	case sv.Clients < 1:
		return saved{}, fmt.Errorf("clients %d: want at least 1", sv.Clients)
	case len(sv.Strategies) == 0:
		return saved{}, errors.New("no strategies")
	case p.Method != "" && !slices.Contains(partition.Methods, strings.ToLower(p.Method)):
		return saved{}, fmt.Errorf("partition method %q: want one of %s", p.Method, strings.Join(partition.Methods, ", "))
	case strings.EqualFold(p.Method, "dirichlet") && !(p.Alpha > 0):
		return saved{}, fmt.Errorf("dirichlet alpha %v: want > 0", p.Alpha)
	case p.MinSize < 0 || p.MaxTries < 0 || p.ShardsPerClient < 0:
		return saved{}, fmt.Errorf("partition %+v: negative counts", p)
	}
	for _, name := range sv.Strategies {
		c := sv.Server
		c.Strategy, c.MinClients = name, sv.Clients
		if err := c.Validate(); err != nil {
			return saved{}, err
		}
	}
	return sv, nil
}

// simulate runs a new simulation (resume empty) or continues the one in
// resume.
func simulate(ctx context.Context, o Options, resume string) (*Result, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	strategies := o.Strategies
	if o.Clients < 1 {
		return nil, fmt.Errorf("sim: --clients %d: want at least 1", o.Clients)
	}
	cfg := o.Server
	cfg.MinClients = o.Clients
	for _, name := range strategies {
		c := cfg
		c.Strategy = name
		if err := c.Validate(); err != nil {
			return nil, err
		}
	}
	ds := o.Datasets
	if ds == nil {
		dc := cfg.Data
		dc.ValSplit = 0
		var err error
		if ds, err = source.LoadDatasets(dc, log); err != nil {
			return nil, err
		}
	}
	test := ds.Test
	if test == nil {
		test = ds.Val
	}
	if test == nil {
		return nil, fmt.Errorf("sim: --data %s has no test split for the server to score the global model on", cfg.Data.Data)
	}
	labels, err := data.Labels(ds.Train)
	if err != nil {
		return nil, err
	}
	parts, err := partition.Split(labels, len(ds.Classes), o.Clients, o.Partition, rand.New(rand.NewPCG(cfg.Seed, partitionStream)))
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	dir := resume
	if dir == "" {
		if dir, err = run.NewRunDir(cfg.Data.Out, cfg.Data.Name); err != nil {
			return nil, err
		}
		sv := saved{Clients: o.Clients, Partition: o.Partition, Strategies: strategies, Server: o.Server, Secure: o.Secure}
		sv.Server.Data.Out, sv.Server.Data.Name = filepath.Dir(dir), filepath.Base(dir)
		if err := run.WriteJSON(filepath.Join(dir, OptionsFile), sv); err != nil {
			run.UnlockRun(dir)
			return nil, err
		}
	} else if err := run.LockRun(dir); err != nil {
		return nil, err
	}
	defer run.UnlockRun(dir)
	fmt.Fprintf(log, "kiln: simulating %d clients on %s (%d training, %d test examples): %s; strategies %s; directory %s\n",
		o.Clients, ds.Source, ds.Train.Len(), test.Len(), partition.Summary(parts, labels, len(ds.Classes)), strings.Join(strategies, ", "), dir)
	if err := writePartition(filepath.Join(dir, PartFile), partition.Counts(parts, labels, len(ds.Classes)), ds.Classes); err != nil {
		return nil, err
	}
	res := &Result{Dir: dir}
	for _, name := range strategies {
		c := cfg
		c.Strategy, c.Data.Out, c.Data.Name = name, dir, name
		r, err := simulateOne(ctx, c, o, ds, test, parts, resume != "" && run.Exists(filepath.Join(dir, name, server.ConfigFile)), log)
		if r != nil {
			res.Runs = append(res.Runs, *r)
		}
		if err != nil {
			return res, err
		}
		if err := writeSummary(dir, res.Runs); err != nil {
			return res, err
		}
	}
	return res, nil
}

// simulateOne runs one strategy over fresh clients, or with resume
// continues its run.
func simulateOne(ctx context.Context, c server.Config, o Options, ds *source.Datasets, test data.Dataset, parts [][]int, resume bool, log io.Writer) (*Run, error) {
	m := fed.NewManager()
	for i, p := range parts {
		sub, err := data.NewSubset(ds.Train, slices.Clone(p))
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("client%03d", i)
		tr, err := client.NewTrainer(client.Options{Name: name, Train: sub, Workers: o.Workers})
		if err != nil {
			return nil, err
		}
		var h fed.Handler = tr
		if o.Secure {
			h = secure.Wrap(h)
		}
		if err := m.Register(fed.Local(name, h)); err != nil {
			return nil, err
		}
	}
	env := server.Env{Clients: m, Test: test, Source: ds.Source, Workers: o.Workers, Log: log, Version: o.Version}
	var srv *server.Server
	var err error
	if resume {
		srv, err = server.Resume(filepath.Join(c.Data.Out, c.Data.Name), env)
	} else {
		srv, err = server.New(c, env)
	}
	if err != nil {
		return nil, err
	}
	sum, err := srv.Run(ctx)
	if sum == nil || len(sum.Rounds) == 0 {
		return nil, errors.Join(err, fmt.Errorf("sim: %s finished no round", c.Strategy))
	}
	r := &Run{Strategy: c.Strategy, Dir: sum.Dir, Rounds: sum.Rounds}
	fmt.Fprintf(log, "kiln: %s: final test accuracy %.2f%%, best %.2f%% (%d rounds)\n", c.Strategy, 100*r.Final(), 100*r.Best(), len(r.Rounds))
	return r, err
}

// writeSummary rewrites summary.csv and acc_per_round.png with the runs
// so far.
func writeSummary(dir string, runs []Run) error {
	var series []plots.Series
	for _, r := range runs {
		s := plots.Series{Name: r.Strategy}
		for _, x := range r.Rounds {
			s.X = append(s.X, float64(x.Round))
			s.Y = append(s.Y, 100*x.TestAcc)
		}
		series = append(series, s)
	}
	if err := server.PlotRounds(filepath.Join(dir, AccPlot), "global model's test accuracy per round", "accuracy (%)", series...); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, SummaryFile), func(w io.Writer) error {
		fmt.Fprintln(w, "strategy,rounds,final_test_acc,best_test_acc,final_test_loss")
		for _, r := range runs {
			fmt.Fprintf(w, "%s,%d,%.4f,%.4f,%.4f\n", r.Strategy, len(r.Rounds), r.Final(), r.Best(), r.Rounds[len(r.Rounds)-1].TestLoss)
		}
		return nil
	})
}

// writePartition writes each client's examples per class.
func writePartition(path string, counts [][]int, classes []string) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(append([]string{"client", "examples"}, classes...))
		for i, row := range counts {
			rec := []string{fmt.Sprintf("client%03d", i), ""}
			n := 0
			for _, k := range row {
				n += k
				rec = append(rec, strconv.Itoa(k))
			}
			rec[1] = strconv.Itoa(n)
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	})
}
