package server

// This file saves and restores a run's state, fed_state.safetensors: the
// global parameter vector ("global") and the strategy's buffers
// ("strategy.<name>") as tensors, and as JSON in the metadata the
// sampling generator, the TensorBoard file's committed records and every
// finished round. Resume reads it with fed.json.

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/fed/client"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/train/tfevents"
)

// stateFormat names the layout of fed_state.safetensors.
const stateFormat = "kiln-fed-state-1"

// state is the JSON metadata of fed_state.safetensors.
type state struct {
	Rounds       []roundRecord `json:"rounds"`
	RNG          string        `json:"rng"` // the sampling PCG, MarshalBinary in hex
	EventsFile   string        `json:"events_file"`
	EventRecords int           `json:"event_records"`
	Info         run.RunInfo   `json:"info"`
}

// roundRecord is one Round in JSON, exactly (metrics.jsonl's rows too).
type roundRecord struct {
	Round      int           `json:"round"`
	Sampled    int           `json:"sampled"`
	Attempts   int           `json:"attempts"`
	Clients    []string      `json:"clients"`
	Dropped    int           `json:"dropped"`
	Examples   int           `json:"examples"`
	TrainLoss  run.JSONFloat `json:"train_loss"`
	TrainAcc   run.JSONFloat `json:"train_acc"`
	TestLoss   run.JSONFloat `json:"test_loss"`
	TestAcc    run.JSONFloat `json:"test_acc"`
	Epsilon    run.JSONFloat `json:"epsilon"`
	DurationNS int64         `json:"duration_ns"`

	EvalClients int           `json:"eval_clients,omitempty"`
	EvalLoss    run.JSONFloat `json:"eval_loss,omitempty"`
	EvalAcc     run.JSONFloat `json:"eval_acc,omitempty"`
}

func recordOf(r Round) roundRecord {
	return roundRecord{Round: r.Round, Sampled: r.Sampled, Attempts: r.Attempts, Clients: r.Clients, Dropped: r.Dropped, Examples: r.Examples,
		TrainLoss: run.JSONFloat(r.TrainLoss), TrainAcc: run.JSONFloat(r.TrainAcc), TestLoss: run.JSONFloat(r.TestLoss),
		TestAcc: run.JSONFloat(r.TestAcc), Epsilon: run.JSONFloat(r.Epsilon), DurationNS: int64(r.Duration),
		EvalClients: r.EvalClients, EvalLoss: run.JSONFloat(r.EvalLoss), EvalAcc: run.JSONFloat(r.EvalAcc)}
}

func (r roundRecord) round() Round {
	return Round{Round: r.Round, Sampled: r.Sampled, Attempts: r.Attempts, Clients: r.Clients, Dropped: r.Dropped, Examples: r.Examples,
		TrainLoss: float64(r.TrainLoss), TrainAcc: float64(r.TrainAcc), TestLoss: float64(r.TestLoss), TestAcc: float64(r.TestAcc),
		Epsilon: float64(r.Epsilon), Duration: time.Duration(r.DurationNS),
		EvalClients: r.EvalClients, EvalLoss: float64(r.EvalLoss), EvalAcc: float64(r.EvalAcc)}
}

// saveState writes fed_state.safetensors atomically.
func (s *Server) saveState() error {
	rng, err := s.pcg.MarshalBinary()
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	st := state{RNG: hex.EncodeToString(rng), EventsFile: filepath.Base(s.events.Path()), EventRecords: s.events.Records(), Info: s.info}
	for _, r := range s.history {
		st.Rounds = append(st.Rounds, recordOf(r))
	}
	meta, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	f := &checkpoint.File{Metadata: map[string]string{"format": stateFormat, "state": string(meta)}, Tensors: map[string]*checkpoint.Tensor{
		"global": {DType: checkpoint.F32, Shape: []int{len(s.global)}, Data: s.global},
	}}
	for name, buf := range s.strat.State() {
		f.Tensors["strategy."+name] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{len(buf)}, Data: buf}
	}
	return checkpoint.Write(filepath.Join(s.dir, StateFile), f)
}

// ReadConfig reads the settings of the federated run in dir (ConfigFile).
func ReadConfig(dir string) (Config, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("server: %s is not a federated run directory: %w", dir, err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("server: %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig decodes a run's settings as ConfigFile holds them: one JSON
// object of Config's fields and no others, valid as Validate says.
func ParseConfig(b []byte) (Config, error) {
	var cfg Config
	if err := run.DecodeStrict(b, &cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Resume reopens the run in dir, which a server wrote, to carry on after
// its last saved round with the same settings (fed.json); env supplies
// the clients, the test set and the log, as for New. With the same
// clients, the rounds left give the same bits as a run never stopped.
func Resume(dir string, env Env) (*Server, error) {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return nil, err
	}
	s, err := newServer(cfg, env)
	if err != nil {
		return nil, err
	}
	s.dir = dir
	path := filepath.Join(dir, StateFile)
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, fmt.Errorf("server: %s has no state to resume from: %w", dir, err)
	}
	if got := f.Metadata["format"]; got != stateFormat {
		return nil, fmt.Errorf("server: %s: format %q, want %q", path, got, stateFormat)
	}
	var st state
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &st); err != nil {
		return nil, fmt.Errorf("server: %s: state metadata: %w", path, err)
	}
	if !slices.Equal(st.Info.Classes, s.spec.Classes) || !slices.Equal(st.Info.InputShape, s.spec.Shape) {
		return nil, fmt.Errorf("server: %s was trained for classes %v and inputs %v; this test set has %v and %v",
			dir, st.Info.Classes, st.Info.InputShape, s.spec.Classes, s.spec.Shape)
	}
	g, ok := f.Tensors["global"]
	if !ok || g.DType != checkpoint.F32 || len(g.Data) != len(s.global) {
		return nil, fmt.Errorf("server: %s: no global vector of %d values", path, len(s.global))
	}
	s.global = slices.Clone(g.Data)
	if err := client.Unflatten(s.model, s.global); err != nil {
		return nil, err
	}
	strat := map[string][]float32{}
	for _, name := range slices.Sorted(maps.Keys(f.Tensors)) {
		if k, ok := strings.CutPrefix(name, "strategy."); ok {
			strat[k] = slices.Clone(f.Tensors[name].Data)
		} else if name != "global" {
			return nil, fmt.Errorf("server: %s: unexpected tensor %q", path, name)
		}
	}
	if err := s.strat.SetState(strat); err != nil {
		return nil, fmt.Errorf("server: %s: %w", path, err)
	}
	rng, err := hex.DecodeString(st.RNG)
	if err == nil {
		err = s.pcg.UnmarshalBinary(rng)
	}
	if err != nil {
		return nil, fmt.Errorf("server: %s: sampling generator: %w", path, err)
	}
	for _, r := range st.Rounds {
		s.history = append(s.history, r.round())
	}
	s.info = st.Info
	if err := run.LockRun(dir); err != nil {
		return nil, err
	}
	if s.events, err = tfevents.OpenWriter(filepath.Join(dir, filepath.Base(st.EventsFile)), st.EventRecords); err != nil {
		run.UnlockRun(dir)
		return nil, err
	}
	fmt.Fprintf(s.log, "kiln: resuming %s after round %d of %d\n", dir, len(s.history), cfg.Rounds)
	return s, nil
}
