package run

// This file gives every dropout layer of a model a generator whose state a
// checkpoint can save. It leaves out other sources of randomness: the
// loader's order and augmentation are a pure function of (seed, epoch,
// position) and need no saving, and the denoising autoencoder's noise is
// registered by its task (package task's autoencode.go).

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"

	"github.com/kiln-ml/kiln/nn"
)

// Generators are a model's dropout generators by module path ("dropout",
// "layers.3", "lstm" for the dropout between a recurrent layer's stacked
// layers), each a PCG that MarshalBinary can save.
type Generators map[string]*rand.PCG

// SeedDropout replaces the generator of every *nn.Dropout in m, and of
// every recurrent layer (nn.Recurrent, LSTM, GRU, RNN) with dropout between
// its layers, with its own PCG, seeded from seed and the layer's path, and
// returns them. A model's
// constructor may hand its dropout layers the initialisation generator;
// this makes the masks independent of how the weights were drawn and, above
// all, gives kiln a generator it can snapshot, which a *rand.Rand alone
// does not expose.
func SeedDropout(m nn.Module, seed uint64) Generators {
	g := Generators{}
	var walk func(path string, m nn.Module)
	walk = func(path string, m nn.Module) {
		if d, ok := m.(*nn.Dropout); ok {
			h := fnv.New64a()
			h.Write([]byte(path))
			pcg := rand.NewPCG(seed, h.Sum64()^0xd809)
			d.Rng = rand.New(pcg)
			g[path] = pcg
		}
		if r := recurrentOf(m); r != nil && r.Config.Dropout > 0 {
			// The dropout between stacked recurrent layers: its own
			// stream, apart from any nn.Dropout's.
			h := fnv.New64a()
			h.Write([]byte(path))
			pcg := rand.NewPCG(seed, h.Sum64()^0x7ecc)
			r.Config.DropoutRng = rand.New(pcg)
			g[path] = pcg
		}
		if c, ok := m.(nn.Container); ok {
			for i, ch := range c.Children() {
				name := ch.Name
				if name == "" {
					name = strconv.Itoa(i)
				}
				if path != "" {
					name = path + "." + name
				}
				walk(name, ch.Module)
			}
		}
	}
	walk("", m)
	return g
}

// recurrentOf returns the recurrent layer m is, or nil.
func recurrentOf(m nn.Module) *nn.Recurrent {
	switch r := m.(type) {
	case *nn.Recurrent:
		return r
	case *nn.LSTM:
		return &r.Recurrent
	case *nn.GRU:
		return &r.Recurrent
	case *nn.RNN:
		return &r.Recurrent
	}
	return nil
}

// save returns each generator's state as hex.
func (g Generators) Save() map[string]string {
	out := make(map[string]string, len(g))
	for path, pcg := range g {
		b, err := pcg.MarshalBinary()
		if err != nil {
			panic("run: a PCG failed to marshal: " + err.Error()) // it never does
		}
		out[path] = hex.EncodeToString(b)
	}
	return out
}

// load restores every generator from saved, which must name exactly the
// same layers.
func (g Generators) Load(saved map[string]string) error {
	for path := range saved {
		if _, ok := g[path]; !ok {
			return fmt.Errorf("saved generator state for dropout layer %q, which the model lacks", path)
		}
	}
	paths := make([]string, 0, len(g))
	for p := range g {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, path := range paths {
		s, ok := saved[path]
		if !ok {
			return fmt.Errorf("no saved generator state for dropout layer %q", path)
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return fmt.Errorf("generator state of %q: %w", path, err)
		}
		if err := g[path].UnmarshalBinary(b); err != nil {
			return fmt.Errorf("generator state of %q: %w", path, err)
		}
	}
	return nil
}
