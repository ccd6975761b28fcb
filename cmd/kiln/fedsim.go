package main

// This file holds "kiln fed simulate": the federated server and clients in
// one process (fed/sim) over a dataset dealt to many simulated clients.
// It shares the round, strategy and local-training flags with kiln fed
// server (addRoundFlags, fednetflags.go); it leaves out the transport.

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/kiln-ml/kiln/fed/partition"
	"github.com/kiln-ml/kiln/fed/server"
	"github.com/kiln-ml/kiln/fed/sim"
)

const fedSimHead = `Usage: kiln fed simulate --clients N [--per-round M] [--iid | --dirichlet ALPHA | --shards S] [--strategy S1,S2,...] [flags]
       kiln fed simulate --resume DIR [--workers N]

Simulates federated training in one process: the training images of
--data (any dataset kiln train reads; the embedded Fashion-MNIST subset
when empty) are dealt to N clients, IID (the default), by label with
Dirichlet(ALPHA) proportions per class (smaller ALPHA: fewer classes per
client; each client keeps at least --min-size examples), or as S shards of
label-sorted examples each (McMahan et al.'s pathological split). Every
round M clients (all when 0) train the global model for --local-epochs
and the strategy combines their parameters, exactly as kiln fed server
and kiln fed client do over the network; the global model is scored on
the data's test images after every round.

Each strategy of --strategy runs in turn over the same clients, into its
own run directory inside the simulation's (--out/--name), which kiln eval
and kiln predict read; acc_per_round.png draws every strategy's test
accuracy per round, summary.csv their final and best accuracy, and
partition.csv each client's examples per class. After Ctrl-C or a kill,
--resume DIR carries on with the settings the simulation started with
(simulate.json): the strategy that was running continues after its last
saved round, with the same bits as a simulation never stopped.
`

func fedSimulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("fed simulate")
	cfg := server.DefaultConfig()
	cfg.MaxGradNorm, cfg.NoiseMultiplier = 1, 1 // used with --dp only
	settings := addRoundFlags(fs, &cfg)
	resume := fs.String("resume", "", "continue the simulation in this `directory` with its own settings")
	clients := fs.Int("clients", 10, "simulated clients the training data are dealt to")
	iid := fs.Bool("iid", false, "deal the examples at random (the default)")
	alpha := fs.Float64("dirichlet", 0, "deal each class by Dirichlet(`ALPHA`) proportions (non-IID; 0.1 very skewed, 100 nearly IID)")
	shards := fs.Int("shards", 0, "deal `S` shards of label-sorted examples to each client (non-IID; 2 is McMahan et al.'s)")
	minSize := fs.Int("min-size", 10, "--dirichlet: the fewest examples a client gets (the proportions are drawn again until each has them)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		if isHelp(err) {
			printHelp(fs, fedSimHead, stdout)
			return nil
		}
		return usageError{err}
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", pos[0])}
	}
	if *resume != "" {
		if kept := givenSettings(fs, settings, simFlags); len(kept) > 0 {
			return usageError{fmt.Errorf("%s: a resumed simulation keeps its own settings (%s)", strings.Join(kept, ", "), filepath.Join(*resume, sim.OptionsFile))}
		}
		res, err := sim.Resume(ctx, *resume, sim.Options{Log: stderr, Workers: cfg.Data.Workers, Version: versionString()})
		printSimulation(stdout, res)
		return err
	}
	po := partition.Options{Method: "iid", MinSize: *minSize}
	switch {
	case btoi(*iid)+btoi(*alpha != 0)+btoi(*shards != 0) > 1:
		return usageError{fmt.Errorf("--iid, --dirichlet and --shards: pick one way to deal the data")}
	case *alpha != 0:
		if !(*alpha > 0) {
			return usageError{fmt.Errorf("--dirichlet %v: want a positive alpha", *alpha)}
		}
		po.Method, po.Alpha = "dirichlet", *alpha
	case *shards != 0:
		if *shards < 1 {
			return usageError{fmt.Errorf("--shards %d: want at least 1 per client", *shards)}
		}
		po.Method, po.ShardsPerClient = "shard", *shards
	}
	if *minSize < 1 {
		return usageError{fmt.Errorf("--min-size %d: want at least 1", *minSize)}
	}
	if *clients < 1 {
		return usageError{fmt.Errorf("--clients %d: want at least 1", *clients)}
	}
	if cfg.PerRound > *clients {
		return usageError{fmt.Errorf("--per-round %d: more than the %d --clients", cfg.PerRound, *clients)}
	}
	var strategies []string
	for _, s := range strings.Split(cfg.Strategy, ",") {
		if s = strings.TrimSpace(s); s != "" {
			strategies = append(strategies, s)
		}
	}
	if len(strategies) == 0 {
		return usageError{fmt.Errorf("--strategy %q: name at least one", cfg.Strategy)}
	}
	cfg.MinClients = *clients
	if err := finishRoundFlags(&cfg); err != nil {
		return usageError{err}
	}
	for _, s := range strategies {
		c := cfg
		c.Strategy = s
		if err := c.Validate(); err != nil {
			return usageError{err}
		}
	}
	res, err := sim.Simulate(ctx, sim.Options{Clients: *clients, Partition: po, Strategies: strategies, Server: cfg, Secure: cfg.SecureAggregation,
		Log: stderr, Workers: cfg.Data.Workers, Version: versionString()})
	printSimulation(stdout, res)
	return err
}

// simFlags are kiln fed simulate's own settings flags, besides the round
// flags: a resumed simulation refuses them.
var simFlags = map[string]bool{"clients": true, "iid": true, "dirichlet": true, "shards": true, "min-size": true}

// printSimulation prints each strategy's final and best test accuracy.
func printSimulation(stdout io.Writer, res *sim.Result) {
	if res == nil || len(res.Runs) == 0 {
		return
	}
	fmt.Fprintf(stdout, "%-12s %7s %9s %9s\n", "strategy", "rounds", "final", "best")
	for _, r := range res.Runs {
		fmt.Fprintf(stdout, "%-12s %7d %8.2f%% %8.2f%%\n", r.Strategy, len(r.Rounds), 100*r.Final(), 100*r.Best())
	}
	fmt.Fprintf(stdout, "simulation directory %s\n", res.Dir)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
