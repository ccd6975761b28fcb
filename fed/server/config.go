package server

// This file holds the server's settings, Config, written to fed.json so
// that Resume needs nothing else, and Env, what a run needs besides them.

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/fed"
	"github.com/kiln-ml/kiln/fed/client"
	"github.com/kiln-ml/kiln/fed/secure"
	"github.com/kiln-ml/kiln/fed/strategy"
	"github.com/kiln-ml/kiln/run"
)

// Config is a federated run's settings.
type Config struct {
	Rounds     int     `json:"rounds"`
	MinClients int     `json:"min_clients"` // connected clients a round waits for before sampling
	PerRound   int     `json:"per_round"`   // clients sampled per round; 0: Fraction of the connected
	Fraction   float64 `json:"fraction"`    // with PerRound 0: this fraction of the connected clients (rounded up); 0: all
	// MinResults is the fewest updates a round aggregates; 0 means
	// min(MinClients, the clients sampled).
	MinResults int `json:"min_results"`
	// RoundTimeout closes a round that has MinResults updates once it has
	// run this long, dropping the stragglers; a round with fewer then is
	// retried. 0: wait for every sampled client to answer or leave.
	RoundTimeout time.Duration `json:"round_timeout"`
	Retries      int           `json:"retries"` // new samples a short round gets before the run stops
	// EvalClients is how many clients each round asks to score the new
	// global model on their own data (Flower's federated evaluation),
	// besides the server's test set; 0: none.
	EvalClients int `json:"eval_clients,omitempty"`

	Strategy        string           `json:"strategy"`
	StrategyOptions strategy.Options `json:"strategy_options"` // zero: strategy.DefaultOptions()
	// SecureAggregation sums the updates with SecAgg+ (fed/secure): the
	// server sees only the sum. Strategies that need each update refuse it.
	SecureAggregation bool `json:"secure_aggregation,omitempty"`
	// Secure holds secure aggregation's settings (threshold, neighbours,
	// quantisation, stage timeout); zero values take fed/secure's
	// defaults, and a zero MaxWeight the largest client's example count.
	Secure secure.Options `json:"secure,omitempty"`

	// Local training, sent to the clients every round.
	Model string `json:"model"`
	// Architecture is an architecture file's JSON when Model names one
	// (its base name); the clients get it with every fit.
	Architecture    string  `json:"architecture,omitempty"`
	LocalEpochs     int     `json:"local_epochs"`
	BatchSize       int     `json:"batch_size"`
	Optimizer       string  `json:"optimizer"`
	LR              float64 `json:"lr"`
	Momentum        float64 `json:"momentum"`
	WeightDecay     float64 `json:"weight_decay"`
	DP              bool    `json:"dp,omitempty"` // clients train with DP-SGD
	MaxGradNorm     float64 `json:"max_grad_norm,omitempty"`
	NoiseMultiplier float64 `json:"noise_multiplier,omitempty"`
	Delta           float64 `json:"delta,omitempty"`

	Seed uint64 `json:"seed"` // the initial model, the samples, and the clients' draws

	// Data is how the server's test set was loaded (Data, ClassNames, ...):
	// config.json records it, with the model's settings, so that kiln eval
	// and kiln predict read the run as a kiln train run. Out and Name
	// place the run directory.
	Data run.Config `json:"data"`
}

// DefaultConfig returns a server's defaults: FedAvg, every connected
// client each round, 1 local epoch of SGD at lr 0.05 with batches of 32.
func DefaultConfig() Config {
	d := run.DefaultConfig()
	d.ValSplit = 0
	return Config{Rounds: 10, MinClients: 2, Strategy: "fedavg", StrategyOptions: strategy.DefaultOptions(), Model: "mlp",
		LocalEpochs: 1, BatchSize: 32, Optimizer: "sgd", LR: 0.05, Delta: 1e-5, Retries: 2, Data: d}
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.Rounds < 1:
		return fmt.Errorf("server: --rounds %d: want at least 1", c.Rounds)
	case c.MinClients < 1:
		return fmt.Errorf("server: --min-clients %d: want at least 1", c.MinClients)
	case c.PerRound < 0:
		return fmt.Errorf("server: --per-round %d: want 0 (use --fraction) or more", c.PerRound)
	case !(c.Fraction >= 0 && c.Fraction <= 1):
		return fmt.Errorf("server: --fraction %v: want a fraction in [0, 1]", c.Fraction)
	case c.MinResults < 0 || (c.PerRound > 0 && c.MinResults > c.PerRound):
		return fmt.Errorf("server: --min-results %d: want 0 (the default) up to --per-round %d", c.MinResults, c.PerRound)
	case c.EvalClients < 0:
		return fmt.Errorf("server: --evaluate-clients %d: want 0 (none) or more", c.EvalClients)
	case c.RoundTimeout < 0:
		return fmt.Errorf("server: --round-timeout %v: must not be negative", c.RoundTimeout)
	case c.Retries < 0:
		return fmt.Errorf("server: --retries %d: must not be negative", c.Retries)
	case c.DP && !(c.Delta > 0 && c.Delta < 1) || math.IsNaN(c.Delta):
		return fmt.Errorf("server: --delta %v: want 0 < delta < 1", c.Delta)
	}
	s, err := c.newStrategy()
	if err != nil {
		return fmt.Errorf("server: --strategy: %w", err)
	}
	if c.SecureAggregation && s.NeedsEach() {
		return fmt.Errorf("server: --strategy %s needs each client's update, and secure aggregation gives only their sum; pick fedavg, fedavgm, fedprox or fedadam, or leave secure aggregation off", s.Name())
	}
	cc := c.clientConfig(client.Spec{Model: c.Model, Architecture: c.Architecture, Shape: []int{1, 1, 1}, Classes: []string{"a", "b"}})
	if err := cc.Validate(); err != nil {
		return fmt.Errorf("server: local training: %w", err)
	}
	return nil
}

// newStrategy builds the configured strategy.
func (c *Config) newStrategy() (strategy.Strategy, error) {
	o := c.StrategyOptions
	if o == (strategy.Options{}) {
		o = strategy.DefaultOptions()
	}
	return strategy.New(c.Strategy, o)
}

// clientConfig is what round's fit instructions carry, besides the
// strategy's own keys.
func (c *Config) clientConfig(spec client.Spec) client.Config {
	return client.Config{Spec: spec, Epochs: c.LocalEpochs, BatchSize: c.BatchSize, Optimizer: c.Optimizer, LR: c.LR,
		Momentum: c.Momentum, WeightDecay: c.WeightDecay, Seed: c.Seed,
		DP: c.DP, MaxGradNorm: c.MaxGradNorm, NoiseMultiplier: c.NoiseMultiplier, Delta: c.Delta}
}

// Env is what a run needs besides its Config.
type Env struct {
	// Clients are the connected clients; required.
	Clients *fed.Manager
	// Test is the server's held-out set, which scores the global model
	// after every round; required. Its classes and shape are the model's.
	Test data.Dataset
	// Source describes where Test came from, for run.json.
	Source string
	// Workers decode the test set's batches.
	Workers int
	// Log gets one line per round and every dropped client; nil discards.
	Log io.Writer
	// Version is kiln's, for run.json.
	Version string
	// OnRound sees every finished round once it is saved; an error it
	// returns stops the run there (it stays resumable) and comes back from
	// Run. Tests stop runs here; a progress display may watch.
	OnRound func(Round) error
}
