package main

// This file holds the flags of kiln fed server and client: the round
// settings (server.Config, which kiln fed simulate may share), the
// transport's, and a client's data (its partition included). It leaves
// out the commands themselves (fednet.go).

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/client"
	"github.com/kiln-ml/kiln/fed/fedgrpc"
	"github.com/kiln-ml/kiln/fed/partition"
	"github.com/kiln-ml/kiln/fed/secure"
	"github.com/kiln-ml/kiln/fed/server"
	"github.com/kiln-ml/kiln/fed/strategy"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/source"
)

// addRoundFlags defines the flags of every setting of a federated run, with
// c's values as defaults, and returns their names: the settings a resumed
// run keeps. The server's test set and run directory are c.Data's.
func addRoundFlags(fs *flag.FlagSet, c *server.Config) map[string]bool {
	before := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { before[f.Name] = true })
	fs.IntVar(&c.Rounds, "rounds", c.Rounds, "federated rounds")
	fs.IntVar(&c.MinClients, "min-clients", c.MinClients, "connected clients a round waits for, and the fewest updates it aggregates")
	fs.IntVar(&c.PerRound, "per-round", c.PerRound, "clients sampled each round (0: --fraction of the connected ones)")
	fs.Float64Var(&c.Fraction, "fraction", c.Fraction, "with --per-round 0: this fraction of the connected clients each round (0: all)")
	fs.IntVar(&c.MinResults, "min-results", c.MinResults, "the fewest updates a round aggregates (0: --min-clients, or the clients sampled if fewer)")
	fs.IntVar(&c.EvalClients, "evaluate-clients", c.EvalClients, "after each round, this many clients score the new global model on their own data (federated evaluation; 0: the server's test set alone)")
	fs.DurationVar(&c.RoundTimeout, "round-timeout", c.RoundTimeout, "close a round after this long with the updates in hand if there are enough (0: wait for every sampled client)")
	fs.IntVar(&c.Retries, "retries", c.Retries, "new samples a round with too few updates gets before the run stops")
	fs.StringVar(&c.Strategy, "strategy", c.Strategy, "how updates combine: "+strings.Join(strategy.Names(), ", "))
	so := &c.StrategyOptions
	fs.Float64Var(&so.ServerLR, "server-lr", so.ServerLR, "fedavgm: the server's learning rate")
	fs.Float64Var(&so.ServerMomentum, "server-momentum", so.ServerMomentum, "fedavgm: the server's momentum")
	fs.Float64Var(&so.ProximalMu, "proximal-mu", so.ProximalMu, "fedprox: mu of the proximal term mu/2*||w - w_global||^2")
	fs.Float64Var(&so.TrimBeta, "trim-beta", so.TrimBeta, "trimmedmean: the fraction cut at each end of each coordinate")
	fs.IntVar(&so.NumMalicious, "num-malicious", so.NumMalicious, "krum: the number of malicious clients assumed")
	fs.IntVar(&so.NumToKeep, "num-to-keep", so.NumToKeep, "krum: average this many best-scored updates (multi-Krum; 0: Krum's one)")
	fs.Float64Var(&so.Eta, "eta", so.Eta, "fedadam: the server's learning rate")
	fs.Float64Var(&so.Beta1, "beta1", so.Beta1, "fedadam: the first moment's decay")
	fs.Float64Var(&so.Beta2, "beta2", so.Beta2, "fedadam: the second moment's decay")
	fs.Float64Var(&so.Tau, "tau", so.Tau, "fedadam: the adaptivity")
	fs.BoolVar(&c.SecureAggregation, "secagg", c.SecureAggregation, "secure aggregation (SecAgg+): the server learns only the sum of the updates (fedavg, fedavgm, fedprox, fedadam)")
	fs.StringVar(&c.Model, "model", c.Model, "model `name`: "+strings.Join(models.Names(), ", ")+", or an architecture FILE.json (sent to the clients)")
	fs.IntVar(&c.LocalEpochs, "local-epochs", c.LocalEpochs, "epochs each client trains per round")
	fs.IntVar(&c.BatchSize, "batch-size", c.BatchSize, "the clients' batch size")
	fs.StringVar(&c.Optimizer, "optimizer", c.Optimizer, "the clients' optimizer: adam, adamw, sgd or rmsprop")
	fs.Float64Var(&c.LR, "lr", c.LR, "the clients' learning rate")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "the clients' momentum (sgd, rmsprop)")
	fs.Float64Var(&c.WeightDecay, "weight-decay", c.WeightDecay, "the clients' weight decay")
	fs.BoolVar(&c.DP, "dp", c.DP, "the clients train with DP-SGD")
	fs.Float64Var(&c.MaxGradNorm, "max-grad-norm", c.MaxGradNorm, "DP: each example's gradient is clipped to this L2 norm")
	fs.Float64Var(&c.NoiseMultiplier, "noise-multiplier", c.NoiseMultiplier, "DP: noise std over --max-grad-norm")
	fs.Float64Var(&c.Delta, "delta", c.Delta, "DP: the delta of the epsilon the clients report")
	fs.Uint64Var(&c.Seed, "seed", c.Seed, "random seed of the initial model, the samples and the clients' draws")
	d := &c.Data
	fs.StringVar(&d.Data, "data", d.Data, "the server's test set: a `folder` kiln train reads (its test images); empty: the embedded Fashion-MNIST subset")
	fs.StringVar(&d.ClassNames, "classes", d.ClassNames, "class `names` for IDX or CIFAR data, comma-separated in label order")
	fs.IntVar(&d.ImageSize, "image-size", d.ImageSize, "image folders are resized to this square size (the clients' must match)")
	fs.IntVar(&d.Channels, "channels", d.Channels, "1 (grey) or 3 (RGB), for image folders")
	fs.StringVar(&d.Out, "out", d.Out, "parent `folder` of the run directory")
	fs.StringVar(&d.Name, "name", d.Name, "run directory name under --out (default: the date and time)")
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		if !before[f.Name] {
			names[f.Name] = true
		}
	})
	fs.IntVar(&d.Workers, "workers", d.Workers, "image decoding goroutines (the result does not depend on it)")
	return names
}

// givenSettings returns, as "--name", the flags given on the command line
// that are settings of a run (in any of sets): what a resumed run, which
// keeps its own, refuses.
func givenSettings(fs *flag.FlagSet, sets ...map[string]bool) []string {
	var given []string
	fs.Visit(func(f *flag.Flag) {
		for _, set := range sets {
			if set[f.Name] {
				given = append(given, "--"+f.Name)
				return
			}
		}
	})
	return given
}

// finishRoundFlags completes the round flags of a new run: the DP
// settings drop out without --dp, and an architecture file --model names
// is read.
func finishRoundFlags(c *server.Config) error {
	if !c.DP {
		c.MaxGradNorm, c.NoiseMultiplier = 0, 0
	}
	return readFedArchitecture(c)
}

// transportFlags are the gRPC settings server and client share.
type transportFlags struct {
	token *string
	maxMB *int
}

func addTransportFlags(fs *flag.FlagSet) *transportFlags {
	return &transportFlags{
		token: fs.String("token", "", "the shared `secret` clients must present (default: $KILN_FED_TOKEN)"),
		maxMB: fs.Int("max-message-mb", fedgrpc.DefaultMaxMessageBytes>>20, "the largest message sent or received, in MiB (the model's parameters are 4 bytes each)"),
	}
}

// options returns the transport options the flags give.
func (t *transportFlags) options() (fedgrpc.Options, error) {
	var o fedgrpc.Options
	if *t.maxMB < 1 || *t.maxMB > 2047 {
		return o, fmt.Errorf("--max-message-mb %d: want 1 to 2047", *t.maxMB)
	}
	o.MaxMessageBytes = *t.maxMB << 20
	o.Token = *t.token
	if o.Token == "" {
		o.Token = os.Getenv("KILN_FED_TOKEN")
	}
	return o, nil
}

// clientData are a client's data flags.
type clientData struct {
	cfg       run.Config
	partition *string
	method    *string
	alpha     *float64
	seed      *uint64
	account   *string
}

func addClientDataFlags(fs *flag.FlagSet) *clientData {
	c := &clientData{cfg: run.DefaultConfig()}
	c.cfg.ValSplit = 0
	fs.StringVar(&c.cfg.Data, "data", "", "this client's data: a `folder` kiln train reads; empty: the embedded Fashion-MNIST subset")
	fs.StringVar(&c.cfg.ClassNames, "classes", "", "class `names` for IDX or CIFAR data, comma-separated in label order")
	fs.IntVar(&c.cfg.ImageSize, "image-size", c.cfg.ImageSize, "image folders are resized to this square size (as the server's)")
	fs.IntVar(&c.cfg.Channels, "channels", c.cfg.Channels, "1 (grey) or 3 (RGB), for image folders (as the server's)")
	fs.IntVar(&c.cfg.Workers, "workers", c.cfg.Workers, "image decoding goroutines")
	c.partition = fs.String("partition", "", "keep only part `I/N` (I from 1) of the training data")
	c.method = fs.String("partition-method", "iid", "with --partition: "+strings.Join(partition.Methods, ", "))
	c.alpha = fs.Float64("dirichlet", 0, "with --partition: split by label with Dirichlet(`ALPHA`) proportions (sets --partition-method dirichlet)")
	c.seed = fs.Uint64("partition-seed", 1, "with --partition: the seed every client draws the same partition from")
	c.account = fs.String("dp-account", "", "keep this client's DP account (the DP-SGD steps taken on its data) in this `file`, so that a restarted client goes on counting its epsilon")
	return c
}

// parsePart reads "I/N" (I from 1).
func parsePart(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--partition %q: want I/N with 1 <= I <= N, e.g. 2/10", s)
	}
	return i, n, nil
}

// handler loads the client's data (its partition) and returns the
// trainer, wrapped for secure aggregation.
func (c *clientData) handler(name string, stdout, stderr io.Writer) (fed.Handler, error) {
	var part, parts int
	method := *c.method
	if *c.alpha != 0 {
		if !(*c.alpha > 0) || math.IsInf(*c.alpha, 1) {
			return nil, usageError{fmt.Errorf("--dirichlet %v: want a concentration > 0", *c.alpha)}
		}
		method = "dirichlet"
	}
	if *c.partition != "" {
		var err error
		if part, parts, err = parsePart(*c.partition); err != nil {
			return nil, usageError{err}
		}
	}
	if err := c.cfg.Validate(); err != nil {
		return nil, usageError{err}
	}
	ds, err := source.LoadDatasets(c.cfg, stderr)
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	if ds.Encoder != nil {
		return nil, usageError{errors.New("--data: text data; federated clients train image classifiers")}
	}
	train := ds.Train
	if parts > 0 {
		labels, err := data.Labels(train)
		if err != nil {
			return nil, err
		}
		split, err := partition.Split(labels, len(train.Classes()), parts, partition.Options{Method: method, Alpha: *c.alpha},
			rand.New(rand.NewPCG(*c.seed, 0x9a27)))
		if err != nil {
			return nil, usageError{fmt.Errorf("--partition: %w", err)}
		}
		if train, err = data.NewSubset(train, split[part-1]); err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "kiln fed client %s: part %d of %d (%s) of %s: %d training examples\n", name, part, parts, method, ds.Source, train.Len())
	}
	t, err := client.NewTrainer(client.Options{Name: name, Train: train, Test: ds.Test, Workers: c.cfg.Workers, Log: stdout, AccountFile: *c.account})
	if err != nil {
		return nil, err
	}
	return secure.Wrap(t), nil
}

// readFedArchitecture reads the architecture file --model names, if it
// names one, into c (run.Config.ReadArchitecture's rule): the server
// sends its JSON to the clients with every fit.
func readFedArchitecture(c *server.Config) error {
	rc := run.Config{Model: c.Model, Architecture: c.Architecture}
	if err := rc.ReadArchitecture(); err != nil {
		return err
	}
	c.Model, c.Architecture = rc.Model, rc.Architecture
	return nil
}
