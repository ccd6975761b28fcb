package layering

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/kiln-ml/kiln/"

// forbidden lists, for each package prefix, the kiln packages it must not
// depend on, directly or not.
var forbidden = map[string][]string{
	"internal/kernels": {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"tensor":           {"autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"autograd":         {"nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"nn":               {"optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"optim":            {"data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"data":             {"autograd", "nn", "optim", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"models":           {"train", "export", "data", "run", "source", "task", "predict", "selection"},
	"checkpoint":       {"train", "export", "models", "data", "run", "source", "task", "predict", "selection"},
	"train":            {"export", "run", "source", "task", "predict", "selection"},
	"run":              {"export", "source", "task", "predict", "selection"},
	"source":           {"export", "task", "predict", "selection"},
	"task":             {"export", "predict", "selection"},
	"predict":          {"export", "selection"},
	"selection":        {"export"},
	"stats":            {"autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "viz", "features", "run", "source", "task", "predict", "selection"},
	"viz":              {"autograd", "nn", "optim", "models", "checkpoint", "train", "export", "features", "run", "source", "task", "predict", "selection"},
	"features":         {"train", "export", "run", "source", "task", "predict", "selection"},
	"dist":             {"optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"tune":             {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"serve":            {"export", "selection"},
	"quantize":         {"train", "export", "run", "source", "task", "predict", "selection", "serve"},
	"rl":               {"export", "source", "task", "predict", "selection"},
	"rl/classic":       {"autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"rl/agent":         {"data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection"},
	"privacy":          {"models", "checkpoint", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "secagg"},
	"secagg":           {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "privacy"},
	"fed":              {"export", "task", "predict", "selection", "serve", "dist"},
	"fed/strategy":     {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "privacy", "secagg", "fed/fedgrpc"},
	"fed/secure":       {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "privacy", "fed/strategy", "fed/fedgrpc", "fed/server", "fed/client", "fed/sim", "fed/partition"},
	"fed/partition":    {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "privacy", "secagg", "fed/strategy", "fed/fedgrpc", "fed/server", "fed/client", "fed/sim"},
	"fed/client":       {"export", "task", "predict", "selection", "serve", "dist", "secagg", "fed/strategy", "fed/fedgrpc", "fed/server", "fed/sim"},
	"fed/server":       {"export", "task", "predict", "selection", "serve", "dist", "fed/fedgrpc", "fed/sim"},
	"fed/sim":          {"export", "task", "predict", "selection", "serve", "dist", "fed/fedgrpc"},
	"fed/fedgrpc":      {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "privacy"},
	"internal/cuda":    {"tensor", "autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist"},
	"internal/backend": {"autograd", "nn", "optim", "data", "models", "checkpoint", "train", "export", "run", "source", "task", "predict", "selection", "serve", "dist", "device"},
	"device":           {"checkpoint", "export", "run", "source", "task", "predict", "selection", "serve", "dist"},
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-json", "github.com/kiln-ml/kiln/...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for prefix, bad := range forbidden {
			if rel != prefix && !strings.HasPrefix(rel, prefix+"/") {
				continue
			}
			checked++
			for _, d := range p.Deps {
				dr := strings.TrimPrefix(d, mod)
				if dr == d {
					continue
				}
				for _, b := range bad {
					if dr == b || strings.HasPrefix(dr, b+"/") {
						t.Errorf("%s imports %s (directly or not): imports must point down", rel, dr)
					}
				}
			}
		}
	}
	if checked < 8 {
		t.Errorf("only %d packages checked; is the module path right?", checked)
	}
}
