package selection

import (
	"testing"

	"github.com/kiln-ml/kiln/run"
)

// TestApplyModelDropsArchitecture: a trial that names its model does not
// keep the base settings' architecture file, which would build another
// model under the trial's name.
func TestApplyModelDropsArchitecture(t *testing.T) {
	base := run.DefaultConfig()
	base.Model, base.Architecture = "a.json", `[{"type": "flatten"}, {"type": "linear"}]`
	got, err := ApplyParams(base, map[string]any{"model": "b.json"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Model != "b.json" || got.Architecture != "" {
		t.Fatalf("model %q, architecture %q: want b.json to be read afresh", got.Model, got.Architecture)
	}
	kept, err := ApplyParams(base, map[string]any{"lr": 0.01})
	if err != nil || kept.Architecture != base.Architecture {
		t.Fatalf("a trial that leaves the model alone lost its architecture: %v", err)
	}
	if _, err := ApplyParams(base, map[string]any{"architecture": "[]"}); err == nil {
		t.Fatal("architecture was tunable")
	}
}
