package strategy

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Update is one client's result of a round.
type Update struct {
	Client string    // the client's ID, for errors
	Params []float32 // the client's parameters after local training
	Weight float64   // its number of examples
}

// Strategy makes the next global parameters from a round's updates.
type Strategy interface {
	// Name is the strategy's name as New takes it.
	Name() string
	// ClientConfig is what each sampled client is told besides the
	// parameters (FedProx: "proximal_mu").
	ClientConfig(round int) map[string]string
	// Aggregate overwrites global (the round's starting parameters) with
	// the next global parameters from the round's updates (at least one).
	Aggregate(round int, global []float32, updates []Update) error
	// State returns the buffers and numbers the strategy carries between
	// rounds (momentum, Adam's moments, its step), by name, for the
	// server's checkpoint; SetState restores them.
	State() map[string][]float32
	// SetState restores what State returned.
	SetState(map[string][]float32) error
	// NeedsEach reports whether the strategy needs each client's update
	// (median, trimmed mean, Krum), not only their weighted sum: secure
	// aggregation gives only the sum, so those strategies refuse it.
	NeedsEach() bool
}

// Options holds every strategy's settings. Start from DefaultOptions: New
// takes the values as given and refuses those out of range.
type Options struct {
	// FedAvgM: next = global - ServerLR * momentum, momentum =
	// ServerMomentum*momentum + (global - mean).
	ServerLR       float64 // Flower's server_learning_rate, default 1.0
	ServerMomentum float64 // Flower's server_momentum; kiln's default 0.9 (see DefaultOptions)
	// FedProx: the proximal term mu/2*||w - w_global||^2 the clients add.
	ProximalMu float64 // Flower requires it; kiln's default 0.01
	// TrimmedMean: the fraction cut at each end of each coordinate.
	TrimBeta float64 // Flower's beta, default 0.2
	// Krum: f, the number of malicious clients assumed, and m, how many of
	// the best-scored updates multi-Krum averages (0: Krum, the best one).
	NumMalicious int // Flower's num_malicious_clients, default 0
	NumToKeep    int // Flower's num_clients_to_keep, default 0
	// FedAdam (Flower's FedOpt family).
	Eta   float64 // server learning rate, default 1e-1
	EtaL  float64 // client learning rate, default 1e-1; kept like Flower, which does not send it either
	Beta1 float64 // default 0.9
	Beta2 float64 // default 0.99
	Tau   float64 // adaptivity, default 1e-9
}

// DefaultOptions returns Flower's defaults, and kiln's where Flower has
// none or its default makes the strategy pointless: FedAvgM's server
// momentum is 0.9, not Flower's 0.0, because with no momentum and a
// server learning rate of 1 FedAvgM is exactly FedAvg (Hsu et al. 2019,
// who introduced it, report their results with momentum 0.9); FedProx's mu
// is 0.01, the middle of the range Li et al. 2020 search (0.001 to 1).
func DefaultOptions() Options {
	return Options{
		ServerLR: 1.0, ServerMomentum: 0.9,
		ProximalMu: 0.01,
		TrimBeta:   0.2,
		Eta:        1e-1, EtaL: 1e-1, Beta1: 0.9, Beta2: 0.99, Tau: 1e-9,
	}
}

var makers = map[string]func(Options) (Strategy, error){
	"fedavg":      func(Options) (Strategy, error) { return &FedAvg{}, nil },
	"fedavgm":     newFedAvgM,
	"fedprox":     newFedProx,
	"fedmedian":   func(Options) (Strategy, error) { return &FedMedian{}, nil },
	"trimmedmean": newTrimmedMean,
	"krum":        newKrum,
	"fedadam":     newFedAdam,
}

// Names returns the strategies New knows, sorted.
func Names() []string {
	names := make([]string, 0, len(makers))
	for n := range makers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns the strategy called name with settings o.
func New(name string, o Options) (Strategy, error) {
	mk, ok := makers[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("strategy: unknown strategy %q; known: %s", name, strings.Join(Names(), ", "))
	}
	return mk(o)
}

// ErrNonFinite marks an update holding NaN or Inf.
var ErrNonFinite = errors.New("strategy: update holds NaN or Inf")

// SplitFinite returns the updates whose parameters are all finite and the
// IDs of the clients whose are not, in the order given.
func SplitFinite(updates []Update) (finite []Update, bad []string) {
	for _, u := range updates {
		if allFinite(u.Params) {
			finite = append(finite, u)
		} else {
			bad = append(bad, u.Client)
		}
	}
	return finite, bad
}

func allFinite(p []float32) bool {
	for _, v := range p {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}

// check refuses an empty round, updates whose length is not the global
// buffer's and weights that are negative or not finite.
func check(name string, global []float32, updates []Update) error {
	if len(updates) == 0 {
		return fmt.Errorf("strategy: %s: no updates to aggregate", name)
	}
	for _, u := range updates {
		if len(u.Params) != len(global) {
			return fmt.Errorf("strategy: %s: client %q sent %d parameters, want %d", name, u.Client, len(u.Params), len(global))
		}
		if u.Weight < 0 || math.IsNaN(u.Weight) || math.IsInf(u.Weight, 0) {
			return fmt.Errorf("strategy: %s: client %q has weight %v, want a finite number >= 0", name, u.Client, u.Weight)
		}
	}
	return nil
}

// checkMean is check plus the refusal of non-finite updates, for the
// strategies built on the weighted mean.
func checkMean(name string, global []float32, updates []Update) error {
	if err := check(name, global, updates); err != nil {
		return err
	}
	if _, bad := SplitFinite(updates); len(bad) > 0 {
		return fmt.Errorf("%w: %s refuses the round: clients %s", ErrNonFinite, name, strings.Join(bad, ", "))
	}
	return nil
}

// keepFinite is check plus leaving out non-finite updates, for the robust
// strategies; it fails when none is left.
func keepFinite(name string, global []float32, updates []Update) ([]Update, error) {
	if err := check(name, global, updates); err != nil {
		return nil, err
	}
	ok, bad := SplitFinite(updates)
	if len(ok) == 0 {
		return nil, fmt.Errorf("%w: %s: every update (clients %s) does", ErrNonFinite, name, strings.Join(bad, ", "))
	}
	return ok, nil
}

// weightedMean writes into dst the mean of the updates weighted by their
// Weight, accumulated in float64 in the given order (Flower's aggregate).
func weightedMean(name string, dst []float32, updates []Update) error {
	total := 0.0
	for _, u := range updates {
		total += u.Weight
	}
	if total <= 0 {
		return fmt.Errorf("strategy: %s: the updates' weights sum to %v, want > 0 (clients reported no examples)", name, total)
	}
	acc := make([]float64, len(dst))
	for _, u := range updates {
		for i, v := range u.Params {
			acc[i] += u.Weight * float64(v)
		}
	}
	for i := range dst {
		dst[i] = float32(acc[i] / total)
	}
	return nil
}

func noState(name string, st map[string][]float32) error {
	for k := range st {
		return fmt.Errorf("strategy: %s carries no state, got %q", name, k)
	}
	return nil
}

func onlyKeys(name string, st map[string][]float32, keys ...string) error {
	for k := range st {
		if !slices.Contains(keys, k) {
			return fmt.Errorf("strategy: %s: unknown state %q; want %s", name, k, strings.Join(keys, ", "))
		}
	}
	return nil
}

func clone(p []float32) []float32 {
	if p == nil {
		return nil
	}
	return slices.Clone(p)
}

func isInf(x float64) bool { return math.IsInf(x, 0) }
