package run

// This file holds what a run directory contains besides checkpoints: the
// directory itself, config.json, run.json and the metrics files. It leaves
// out the training state (state.go), the callbacks that write the metrics and plots (callbacks.go) and the plots themselves (package train/plots).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/train"
)

// The files of a run directory.
const (
	ConfigFile  = "config.json"       // the resolved Config
	InfoFile    = "run.json"          // RunInfo: what eval and predict need
	StateFile   = "state.safetensors" // the training state, for --resume
	LastFile    = "last.safetensors"  // the model at the latest checkpoint
	BestFile    = "best.safetensors"  // the model with the best validation loss
	MetricsCSV  = "metrics.csv"
	MetricsJSON = "metrics.jsonl"
	ReportFile  = "test_report.txt"
	LossPlot    = "loss.png"
	AccPlot     = "accuracy.png"
	ConfPlot    = "confusion.png"
)

// RunInfo is what a run learned from its data, which the config alone does
// not say: the class names and the input shape that eval and predict
// rebuild the model and the image transform from.
type RunInfo struct {
	Task        string   `json:"task,omitempty"` // "" is classify: runs from before tasks
	Model       string   `json:"model"`
	Classes     []string `json:"classes"`
	InputShape  []int    `json:"input_shape"` // [C, H, W]
	Transform   string   `json:"transform"`   // transform.Parse spec from a decoded image (C channels) to the input
	Source      string   `json:"source"`
	TrainImages int      `json:"train_images"`
	ValImages   int      `json:"val_images"`
	TestImages  int      `json:"test_images"`
	Parameters  int      `json:"parameters"`
	Version     string   `json:"kiln_version,omitempty"`
	Started     string   `json:"started"`
	Imported    string   `json:"imported,omitempty"` // the weights file `kiln import` took the model from; "" for trained runs
	Ranks       int      `json:"ranks,omitempty"`    // data-parallel ranks (processes) that trained it; 0 or 1: one process
	Init        string   `json:"init,omitempty"`     // the weights file training started from (Config.Init); "" for random weights
	InitSHA256  string   `json:"init_sha256,omitempty"`
}

// NewRunDir creates out/name, or out/run-<time> when name is empty. An
// existing directory is never reused.
func NewRunDir(out, name string) (string, error) {
	if name == "" {
		name = "run-" + time.Now().Format("20060102-150405")
	}
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return "", &SettingError{fmt.Errorf("--name %q: want a plain folder name", name)}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", fmt.Errorf("--out: %w", err)
	}
	dir := filepath.Join(out, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrExist) {
			return "", &SettingError{fmt.Errorf("run directory %s already exists; pick another --name, or continue it with --resume %s (kiln never overwrites a run)", dir, dir)}
		}
		return "", fmt.Errorf("--out: %w", err)
	}
	if err := LockRun(dir); err != nil {
		return "", err
	}
	return dir, nil
}

// Exists reports whether path names a file or directory that can be
// statted.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// ReadRunConfig reads a run directory's config.json.
func ReadRunConfig(dir string) (Config, error) {
	var cfg Config
	path := filepath.Join(dir, ConfigFile)
	if _, err := os.Stat(path); err != nil {
		return cfg, fmt.Errorf("run: %s is not a kiln run directory (no %s): %w", dir, ConfigFile, err)
	}
	return LoadConfig(path, cfg)
}

// ReadRunInfo reads a run directory's run.json.
func ReadRunInfo(dir string) (RunInfo, error) {
	var info RunInfo
	b, err := os.ReadFile(filepath.Join(dir, InfoFile))
	if err != nil {
		return info, fmt.Errorf("run: %s is not a kiln run directory: %w", dir, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("run: %s: %w", filepath.Join(dir, InfoFile), err)
	}
	dims := 3
	if IsTextRun(info.Task, info.Model) {
		dims = 1 // token ids
	}
	if len(info.InputShape) != dims || (len(info.Classes) < 2 && info.Task != TaskAutoencode && info.Task != TaskLM) {
		return info, fmt.Errorf("run: %s: input_shape %v and %d classes: want [C, H, W] ([length] for text) and at least 2 classes",
			filepath.Join(dir, InfoFile), info.InputShape, len(info.Classes))
	}
	return info, nil
}

func WriteJSON(path string, v any) error {
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}

// JSONFloat is a float64 that survives JSON exactly: finite values as the
// shortest decimal that reads back to the same bits, and NaN and the
// infinities (a diverged run's loss) as the strings "NaN", "Infinity" and
// "-Infinity", which encoding/json would otherwise refuse.
type JSONFloat float64

// MarshalJSON implements json.Marshaler.
func (f JSONFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"Infinity"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Infinity"`), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *JSONFloat) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch s {
	case `"NaN"`:
		*f = JSONFloat(math.NaN())
		return nil
	case `"Infinity"`:
		*f = JSONFloat(math.Inf(1))
		return nil
	case `"-Infinity"`:
		*f = JSONFloat(math.Inf(-1))
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a number, NaN or ±Infinity, got %s", s)
	}
	*f = JSONFloat(v)
	return nil
}

// epochRecord is one row of metrics.jsonl.
type epochRecord struct {
	Epoch     int       `json:"epoch"`
	Step      int       `json:"step"`
	TrainLoss JSONFloat `json:"train_loss"`
	TrainAcc  JSONFloat `json:"train_acc"`
	ValLoss   JSONFloat `json:"val_loss"`
	ValAcc    JSONFloat `json:"val_acc"`
	LR        JSONFloat `json:"lr"`
	Images    int       `json:"images"`
	Seconds   float64   `json:"seconds"`
}

func recordOf(st train.EpochStats) epochRecord {
	return epochRecord{Epoch: st.Epoch, Step: st.Step, TrainLoss: JSONFloat(st.TrainLoss), TrainAcc: JSONFloat(st.TrainAcc),
		ValLoss: JSONFloat(st.ValLoss), ValAcc: JSONFloat(st.ValAcc), LR: JSONFloat(st.LR), Images: st.Images,
		Seconds: math.Round(st.Duration.Seconds()*1000) / 1000}
}

// Column is a metric of a task's own, a function of the finished epoch,
// that metrics.csv and metrics.jsonl carry after the common ones
// (epsilon, for a differentially private run).
type Column struct {
	Name  string // CSV header and JSON key
	Value func(train.EpochStats) float64
}

// WriteMetrics rewrites metrics.csv and metrics.jsonl with every epoch so
// far, and the extra columns, atomically, so that a killed run leaves them
// whole.
func WriteMetrics(dir string, rows []train.EpochStats, extra ...Column) error {
	if err := checkpoint.WriteFileAtomic(filepath.Join(dir, MetricsCSV), func(w io.Writer) error {
		fmt.Fprint(w, "epoch,step,train_loss,train_acc,val_loss,val_acc,lr,images,seconds")
		for _, c := range extra {
			fmt.Fprint(w, ","+c.Name)
		}
		fmt.Fprintln(w)
		for _, r := range rows {
			fmt.Fprintf(w, "%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%.3f", r.Epoch, r.Step, r.TrainLoss, r.TrainAcc, r.ValLoss, r.ValAcc,
				r.LR, r.Images, r.Duration.Seconds())
			for _, c := range extra {
				fmt.Fprintf(w, ",%.6g", c.Value(r))
			}
			fmt.Fprintln(w)
		}
		return nil
	}); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, MetricsJSON), func(w io.Writer) error {
		for _, r := range rows {
			b, err := json.Marshal(recordOf(r))
			if err != nil {
				return err
			}
			for _, c := range extra {
				v, err := json.Marshal(JSONFloat(c.Value(r)))
				if err != nil {
					return err
				}
				k, _ := json.Marshal(c.Name)
				b = append(append(append(append(b[:len(b)-1], ','), k...), ':'), append(v, '}')...)
			}
			if _, err := w.Write(append(b, '\n')); err != nil {
				return err
			}
		}
		return nil
	})
}
