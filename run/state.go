package run

// This file saves and restores the training state, state.safetensors: the
// model's parameters and buffers ("model.<state_dict name>"), the
// optimizer's buffers ("optim.<name>") as tensors, and everything else (the
// loop's position, the schedule, the dropout generators, early stopping,
// the metrics so far) as JSON in the file's metadata. It leaves out the
// loader, whose batches are a pure function of (seed, epoch, position).

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/train"
)

// stateFormat names the layout of state.safetensors, in its metadata.
const stateFormat = "kiln-train-state-1"

// State is the JSON metadata of state.safetensors.
type State struct {
	Epoch     int       `json:"epoch"` // Position, field by field
	Batch     int       `json:"batch"`
	Step      int       `json:"step"`
	LossSum   JSONFloat `json:"loss_sum"`
	Correct   int       `json:"correct"`
	Images    int       `json:"images"`
	EpochLR   JSONFloat `json:"epoch_lr"`
	ElapsedNS int64     `json:"elapsed_ns"`

	SchedulerSteps int               `json:"scheduler_steps"` // the schedule's LastEpoch
	LR             JSONFloat         `json:"lr"`              // the optimizer's rate and momentum now
	Momentum       *JSONFloat        `json:"momentum,omitempty"`
	RNG            map[string]string `json:"rng"` // dropout generators by layer, PCG MarshalBinary in hex
	// Ranks is the number of data-parallel ranks that trained the run (0:
	// one process), and RankRNG every rank's dropout generators.
	Ranks   int                 `json:"ranks,omitempty"`
	RankRNG []map[string]string `json:"rank_rng,omitempty"`

	Best      JSONFloat     `json:"best"` // early stopping
	SinceBest int           `json:"since_best"`
	History   []historyItem `json:"history"`

	EventsFile   string `json:"events_file"` // the TensorBoard file and how many of its records are committed
	EventRecords int    `json:"event_records"`

	Stopped string `json:"stopped,omitempty"` // why training stopped early
	Trained bool   `json:"trained"`           // all epochs done (or stopped early); the test evaluation may remain
}

// historyItem is one finished epoch, exactly.
type historyItem struct {
	epochRecord
	DurationNS int64 `json:"duration_ns"`
}

func (h historyItem) stats() train.EpochStats {
	r := h.epochRecord
	return train.EpochStats{Epoch: r.Epoch, Step: r.Step, TrainLoss: float64(r.TrainLoss), TrainAcc: float64(r.TrainAcc),
		ValLoss: float64(r.ValLoss), ValAcc: float64(r.ValAcc), LR: float64(r.LR), Images: r.Images, Duration: time.Duration(h.DurationNS)}
}

func (st *State) SetPosition(p train.Position) {
	st.Epoch, st.Batch, st.Step = p.Epoch, p.Batch, p.Step
	st.LossSum, st.Correct, st.Images = JSONFloat(p.LossSum), p.Correct, p.Images
	st.EpochLR, st.ElapsedNS = JSONFloat(p.LR), int64(p.Elapsed)
}

func (st *State) Position() train.Position {
	return train.Position{Epoch: st.Epoch, Batch: st.Batch, Step: st.Step, LossSum: float64(st.LossSum), Correct: st.Correct,
		Images: st.Images, LR: float64(st.EpochLR), Elapsed: time.Duration(st.ElapsedNS)}
}

func (st *State) SetHistory(h []train.EpochStats) {
	st.History = st.History[:0]
	for _, e := range h {
		st.History = append(st.History, historyItem{recordOf(e), int64(e.Duration)})
	}
}

func (st *State) EpochHistory() []train.EpochStats {
	out := make([]train.EpochStats, len(st.History))
	for i, h := range st.History {
		out[i] = h.stats()
	}
	return out
}

// SaveState writes the model, the optimizer and st to path atomically.
func SaveState(path string, model nn.Module, opt optim.Optimizer, st *State) error {
	meta, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("run: %s: %w", path, err)
	}
	f := checkpoint.FromParams(nn.NamedParams(model), map[string]string{"format": stateFormat, "state": string(meta)})
	tensors := make(map[string]*checkpoint.Tensor, len(f.Tensors)+4)
	for name, t := range f.Tensors {
		tensors["model."+name] = t
	}
	for name, buf := range opt.State() {
		tensors["optim."+name] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{len(buf)}, Data: buf}
	}
	f.Tensors = tensors
	return checkpoint.Write(path, f)
}

// LoadState reads path into the model and the optimizer and returns the
// rest of the state. A file from another architecture or optimizer is
// refused, naming what differs.
func LoadState(path string, model nn.Module, opt optim.Optimizer) (*State, error) {
	f, err := checkpoint.Read(path)
	if err != nil {
		return nil, err
	}
	if got := f.Metadata["format"]; got != stateFormat {
		return nil, fmt.Errorf("run: %s: format %q, want %q (is it a training state written by kiln?)", path, got, stateFormat)
	}
	params := &checkpoint.File{Tensors: map[string]*checkpoint.Tensor{}}
	buffers := map[string][]float32{}
	for _, name := range slices.Sorted(maps.Keys(f.Tensors)) {
		t := f.Tensors[name]
		switch {
		case strings.HasPrefix(name, "model."):
			params.Tensors[strings.TrimPrefix(name, "model.")] = t
		case strings.HasPrefix(name, "optim.") && t.DType == checkpoint.F32:
			buffers[strings.TrimPrefix(name, "optim.")] = t.Data
		default:
			return nil, fmt.Errorf("run: %s: unexpected tensor %q", path, name)
		}
	}
	if err := checkpoint.LoadParams(nn.NamedParams(model), params, path); err != nil {
		return nil, err
	}
	want := opt.State()
	for name := range buffers {
		if _, ok := want[name]; !ok {
			return nil, fmt.Errorf("run: %s: optimizer buffer %q belongs to another optimizer", path, name)
		}
	}
	if err := optim.LoadState(opt, buffers); err != nil {
		return nil, fmt.Errorf("run: %s: %w", path, err)
	}
	var st State
	if err := json.Unmarshal([]byte(f.Metadata["state"]), &st); err != nil {
		return nil, fmt.Errorf("run: %s: state metadata: %w", path, err)
	}
	return &st, nil
}
