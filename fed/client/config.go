package client

// This file holds Config, the settings a server sends with every
// instruction, and its encoding as fed.Instruction.Config strings. It
// leaves out the strategy's own keys beyond proximal_mu, which pass
// through untouched.

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/models"
)

// The keys of fed.Instruction.Config that Config reads and writes.
const (
	KeyModel           = "model"
	KeyArchitecture    = "architecture" // an architecture file's JSON, when the model is one
	KeyInputShape      = "input_shape"  // "C,H,W"
	KeyClasses         = "classes"      // a JSON array of names
	KeyOptimizer       = "optimizer"
	KeyLR              = "lr"
	KeyMomentum        = "momentum"
	KeyWeightDecay     = "weight_decay"
	KeyBatchSize       = "batch_size"
	KeyLocalEpochs     = "local_epochs"
	KeySeed            = "seed"
	KeyProximalMu      = "proximal_mu" // FedProx's strategy sets it
	KeyDP              = "dp"          // "1": train with DP-SGD
	KeyMaxGradNorm     = "max_grad_norm"
	KeyNoiseMultiplier = "noise_multiplier"
	KeyDelta           = "delta"
)

// Spec names the model every party builds: a zoo model, its input shape
// [C, H, W] and its classes in output order.
type Spec struct {
	Model   string
	Shape   []int
	Classes []string
	// Architecture is an architecture file's JSON (models.ParseArch) when
	// the model is one, Model its file's name; empty for a zoo model.
	Architecture string
}

// Config is what a fit or evaluate instruction tells the client besides
// the parameters.
type Config struct {
	Spec
	Epochs      int     // local epochs per round
	BatchSize   int     // examples per batch (DP: the expected Poisson batch)
	Optimizer   string  // sgd, adam, adamw, rmsprop
	LR          float64 //
	Momentum    float64 // sgd and rmsprop
	WeightDecay float64 //
	Seed        uint64  // the run's seed; each client and round draws from (Seed, round, name)
	ProximalMu  float64 // FedProx: mu/2*||w - w_global||^2 joins the loss; 0: none

	DP              bool    // DP-SGD instead of plain steps
	MaxGradNorm     float64 // DP: each example's gradient is clipped to this L2 norm
	NoiseMultiplier float64 // DP: noise std is NoiseMultiplier*MaxGradNorm
	Delta           float64 // DP: the delta of the epsilon reported
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.Architecture != "":
		if _, err := models.ParseArch([]byte(c.Architecture)); err != nil {
			return fmt.Errorf("client: model %s: %w", c.Model, err)
		}
	case !slices.Contains(models.Names(), c.Model):
		return fmt.Errorf("client: model %q: want one of %s, or an architecture file", c.Model, strings.Join(models.Names(), ", "))
	}
	switch {
	case len(c.Shape) != 3 || c.Shape[0] < 1 || c.Shape[1] < 1 || c.Shape[2] < 1 || c.Shape[0]*c.Shape[1]*c.Shape[2] > 1<<26:
		return fmt.Errorf("client: input shape %v: want [C, H, W] of positive sizes", c.Shape)
	case len(c.Classes) < 2:
		return fmt.Errorf("client: %d classes: want at least 2", len(c.Classes))
	case c.Epochs < 1:
		return fmt.Errorf("client: %d local epochs: want at least 1", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("client: batch size %d: want at least 1", c.BatchSize)
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("client: learning rate %v: want a positive number", c.LR)
	case !(c.Momentum >= 0) || !(c.WeightDecay >= 0) || !(c.ProximalMu >= 0):
		return fmt.Errorf("client: momentum %v, weight decay %v, proximal mu %v: none may be negative", c.Momentum, c.WeightDecay, c.ProximalMu)
	case c.DP && !(c.MaxGradNorm > 0):
		return fmt.Errorf("client: DP max grad norm %v: want > 0", c.MaxGradNorm)
	case c.DP && !(c.NoiseMultiplier >= 0):
		return fmt.Errorf("client: DP noise multiplier %v: want >= 0", c.NoiseMultiplier)
	case c.DP && !(c.Delta > 0 && c.Delta < 1):
		return fmt.Errorf("client: DP delta %v: want 0 < delta < 1", c.Delta)
	}
	seen := map[string]bool{}
	for _, name := range c.Classes {
		if name == "" || seen[name] {
			return fmt.Errorf("client: class %q is empty or repeated", name)
		}
		seen[name] = true
	}
	switch strings.ToLower(c.Optimizer) {
	case "sgd", "adam", "adamw", "rmsprop":
	default:
		return fmt.Errorf("client: optimizer %q: want sgd, adam, adamw or rmsprop", c.Optimizer)
	}
	return nil
}

// Encode returns c as instruction config strings.
func (c Config) Encode() map[string]string {
	classes, _ := json.Marshal(c.Classes)
	shape := make([]string, len(c.Shape))
	for i, d := range c.Shape {
		shape[i] = strconv.Itoa(d)
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	m := map[string]string{
		KeyModel: c.Model, KeyInputShape: strings.Join(shape, ","), KeyClasses: string(classes),
		KeyOptimizer: c.Optimizer, KeyLR: f(c.LR), KeyMomentum: f(c.Momentum), KeyWeightDecay: f(c.WeightDecay),
		KeyBatchSize: strconv.Itoa(c.BatchSize), KeyLocalEpochs: strconv.Itoa(c.Epochs), KeySeed: strconv.FormatUint(c.Seed, 10),
	}
	if c.ProximalMu != 0 {
		m[KeyProximalMu] = f(c.ProximalMu)
	}
	if c.Architecture != "" {
		m[KeyArchitecture] = c.Architecture
	}
	if c.DP {
		m[KeyDP], m[KeyMaxGradNorm], m[KeyNoiseMultiplier], m[KeyDelta] = "1", f(c.MaxGradNorm), f(c.NoiseMultiplier), f(c.Delta)
	}
	return m
}

// ParseConfig reads the settings Encode wrote (keys it does not know are
// ignored: they belong to the strategy or to secure aggregation) and
// validates them.
func ParseConfig(m map[string]string) (Config, error) {
	var c Config
	p := parser{m: m}
	c.Model, c.Architecture = m[KeyModel], m[KeyArchitecture]
	c.Shape = p.shape(KeyInputShape)
	if s, ok := m[KeyClasses]; ok {
		if err := json.Unmarshal([]byte(s), &c.Classes); err != nil && p.err == nil {
			p.err = fmt.Errorf("client: config %s %q: want a JSON array of class names", KeyClasses, s)
		}
	}
	c.Optimizer = m[KeyOptimizer]
	c.LR, c.Momentum, c.WeightDecay = p.float(KeyLR, true), p.float(KeyMomentum, false), p.float(KeyWeightDecay, false)
	c.BatchSize, c.Epochs = p.int(KeyBatchSize), p.int(KeyLocalEpochs)
	c.Seed = p.uint(KeySeed)
	c.ProximalMu = p.float(KeyProximalMu, false)
	switch m[KeyDP] {
	case "", "0":
	case "1":
		c.DP = true
		c.MaxGradNorm, c.NoiseMultiplier, c.Delta = p.float(KeyMaxGradNorm, true), p.float(KeyNoiseMultiplier, true), p.float(KeyDelta, true)
	default:
		if p.err == nil {
			p.err = fmt.Errorf("client: config %s %q: want 1 or 0", KeyDP, m[KeyDP])
		}
	}
	if p.err != nil {
		return c, p.err
	}
	return c, c.Validate()
}

// parser reads typed values, keeping the first error.
type parser struct {
	m   map[string]string
	err error
}

func (p *parser) get(key string, required bool) (string, bool) {
	s, ok := p.m[key]
	if !ok && required && p.err == nil {
		p.err = fmt.Errorf("client: the server's config lacks %q (is the server another program or an older kiln?)", key)
	}
	return s, ok && p.err == nil
}

func (p *parser) fail(key, s, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("client: config %s %q: want %s", key, s, want)
	}
}

func (p *parser) float(key string, required bool) float64 {
	s, ok := p.get(key, required)
	if !ok {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.fail(key, s, "a finite number")
	}
	return v
}

func (p *parser) int(key string) int {
	s, ok := p.get(key, true)
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 1<<30 {
		p.fail(key, s, "a whole number")
	}
	return v
}

func (p *parser) uint(key string) uint64 {
	s, ok := p.get(key, true)
	if !ok {
		return 0
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		p.fail(key, s, "a whole number")
	}
	return v
}

func (p *parser) shape(key string) []int {
	s, ok := p.get(key, true)
	if !ok {
		return nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		d, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || d < 1 || d > 1<<16 {
			p.fail(key, s, "C,H,W of positive sizes")
			return nil
		}
		out = append(out, d)
	}
	return out
}
