package rlrun

// This file saves and restores a run's state, state.safetensors: the
// agent's parameters ("model.<name>"), its optimizer's buffers
// ("optim.<name>") and its other arrays ("agent.<name>": a target
// network, a replay buffer) as tensors, and as JSON in the metadata the
// environments, the generators, the counters and the metrics so far.

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/rl"
	"github.com/kiln-ml/kiln/rl/agent"
	"github.com/kiln-ml/kiln/run"
)

// The files of a run directory.
const (
	ConfigFile  = "config.json"
	StateFile   = "state.safetensors" // everything Resume needs
	ModelFile   = "model.safetensors" // the agent's networks at the latest checkpoint, for eval and play
	BestFile    = "best.safetensors"  // the networks with the best evaluation so far
	MetricsCSV  = "metrics.csv"
	ReturnsPlot = "returns.png"
)

const stateFormat = "kiln-rl-state-1"

// Row is one line of metrics.csv.
type Row struct {
	Steps      int             `json:"steps"`
	Iteration  int             `json:"iteration"`
	Episodes   int             `json:"episodes"`
	ReturnMean run.JSONFloat   `json:"ep_rew_mean"` // over the last 100 episodes, as SB3 logs it
	LengthMean run.JSONFloat   `json:"ep_len_mean"`
	Seconds    float64         `json:"seconds"`
	Names      []string        `json:"names"` // the agent's statistics
	Values     []run.JSONFloat `json:"values"`
}

// Eval is one periodic evaluation: the mean and standard deviation of
// the deterministic policy's return over Config.EvalEpisodes episodes.
type Eval struct {
	Steps int           `json:"steps"`
	Mean  run.JSONFloat `json:"mean"`
	Std   run.JSONFloat `json:"std"`
}

// progress is the JSON part of the state.
type progress struct {
	Iteration    int          `json:"iteration"`
	Rows         []Row        `json:"rows"`
	Episodes     []rl.Episode `json:"episodes"` // every finished episode, for the plot and the means
	NextLog      int          `json:"next_log"`
	NextSave     int          `json:"next_save"`
	NextEval     int          `json:"next_eval"`
	Evals        []Eval       `json:"evals"`
	Best         int          `json:"best"` // index in Evals of the best evaluation; -1 before the first
	ElapsedNS    int64        `json:"elapsed_ns"`
	EventsFile   string       `json:"events_file"`
	EventRecords int          `json:"event_records"`
	Vec          rl.VecState  `json:"vec"`
	Agent        agent.State  `json:"agent"`
	Done         bool         `json:"done"`
}

func saveState(path string, a agent.Agent, p *progress) error {
	meta, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("rlrun: %s: %w", path, err)
	}
	f := checkpoint.FromParams(nn.NamedParams(a.Model()), map[string]string{"format": stateFormat, "state": string(meta)})
	tensors := map[string]*checkpoint.Tensor{}
	for name, t := range f.Tensors {
		tensors["model."+name] = t
	}
	add := func(prefix string, m map[string][]float32) {
		for name, buf := range m {
			if len(buf) > 0 {
				tensors[prefix+name] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{len(buf)}, Data: buf}
			}
		}
	}
	add("optim.", a.Optimizer().State())
	add("agent.", p.Agent.Tensors)
	f.Tensors = tensors
	return checkpoint.Write(path, f)
}

func loadState(path string, a agent.Agent) (*progress, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	if got := f.Metadata["format"]; got != stateFormat {
		return nil, fmt.Errorf("rlrun: %s: format %q, want %q (is it a kiln rl state?)", path, got, stateFormat)
	}
	var p progress
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &p); err != nil {
		return nil, fmt.Errorf("rlrun: %s: state metadata: %w", path, err)
	}
	model := &checkpoint.File{Tensors: map[string]*checkpoint.Tensor{}}
	opt := map[string][]float32{}
	p.Agent.Tensors = map[string][]float32{}
	for _, name := range slices.Sorted(maps.Keys(f.Tensors)) {
		t := f.Tensors[name]
		prefix, rest, _ := strings.Cut(name, ".")
		switch {
		case prefix == "model":
			model.Tensors[rest] = t
		case prefix == "optim" && t.DType == checkpoint.F32:
			opt[rest] = t.Data
		case prefix == "agent" && t.DType == checkpoint.F32:
			p.Agent.Tensors[rest] = t.Data
		default:
			return nil, fmt.Errorf("rlrun: %s: unexpected tensor %q", path, name)
		}
	}
	if err := checkpoint.LoadParams(nn.NamedParams(a.Model()), model, path); err != nil {
		return nil, err
	}
	if err := optim.LoadState(a.Optimizer(), opt); err != nil {
		return nil, fmt.Errorf("rlrun: %s: %w", path, err)
	}
	if err := a.SetState(p.Agent); err != nil {
		return nil, fmt.Errorf("rlrun: %s: %w", path, err)
	}
	return &p, nil
}
