package tune

// This file maps the names a command line uses to samplers and pruners,
// with default settings. It leaves out their knobs: callers wanting those
// build the sampler or pruner directly.

import (
	"fmt"
	"strings"
)

// NewSampler returns the sampler called name: "tpe" (the default when
// name is ""), "random" or "grid".
func NewSampler(name string) (Sampler, error) {
	switch strings.ToLower(name) {
	case "", "tpe":
		return NewTPE(TPEConfig{}), nil
	case "random":
		return NewRandom(), nil
	case "grid":
		return NewGrid(0), nil
	}
	return nil, fmt.Errorf("tune: sampler %q: want tpe, random or grid", name)
}

// NewPruner returns the pruner called name: "none" (the default when name
// is ""), "median" or "halving" (also "successive-halving").
func NewPruner(name string) (Pruner, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return NopPruner{}, nil
	case "median":
		return NewMedianPruner(MedianConfig{}), nil
	case "halving", "successive-halving", "successivehalving", "sha":
		return NewHalvingPruner(HalvingConfig{}), nil
	}
	return nil, fmt.Errorf("tune: pruner %q: want none, median or halving", name)
}
