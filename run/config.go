package run

// This file holds a run's settings: defaults, validation and config files.
// It leaves out the command line, which cmd/kiln maps onto Config.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/models"

	"gopkg.in/yaml.v3"
)

// Config is everything a training run needs, and all that a run directory
// records (config.json) so that the run can be repeated exactly.
type Config struct {
	Data       string `json:"data"`                  // image folder (train/ and test/, or class folders), IDX or CIFAR folder; "" for the embedded Fashion-MNIST subset
	Task       string `json:"task"`                  // classify or autoencode
	ClassNames string `json:"class_names,omitempty"` // IDX and CIFAR data: "a,b,c", or N for "0".."N-1"; "" takes them from the data
	Model      string `json:"model"`                 // zoo name, or an architecture file's base name (Architecture)
	// Architecture is the JSON of an architecture file (--model FILE.json,
	// read by ReadArchitecture), kept in config.json so that resume, eval
	// and predict rebuild the model without the file.
	Architecture    string  `json:"architecture,omitempty"`
	Epochs          int     `json:"epochs"`                //
	BatchSize       int     `json:"batch_size"`            //
	Optimizer       string  `json:"optimizer"`             // adam, adamw, sgd, rmsprop
	LR              float64 `json:"lr"`                    //
	Momentum        float64 `json:"momentum"`              // sgd and rmsprop
	WeightDecay     float64 `json:"weight_decay"`          //
	Scheduler       string  `json:"scheduler"`             // none, step, cosine, onecycle
	ClipNorm        float64 `json:"clip_norm"`             // 0: no clipping
	ValSplit        float64 `json:"val_split"`             // fraction of the training data held out for validation
	ImageSize       int     `json:"image_size"`            // image folders are resized to this square size
	Channels        int     `json:"channels"`              // 1 (grey) or 3 (RGB), image folders only
	Augment         string  `json:"augment"`               // transform spec applied to training images, e.g. "randomcrop=32:4,hflip"
	Seed            uint64  `json:"seed"`                  //
	Workers         int     `json:"workers"`               // decode goroutines
	Patience        int     `json:"patience"`              // stop after this many epochs without a better validation loss; 0: never
	CheckpointEvery int     `json:"checkpoint_every"`      // also save the training state every this many steps; 0: only after each epoch
	Strict          bool    `json:"strict,omitempty"`      // image folders: a file that does not decode is an error instead of being skipped and reported
	Decode          string  `json:"decode,omitempty"`      // image files: how 16-bit grey becomes 8 bits, "view" ("" too) or "pil" (Pillow's clipping)
	Init            string  `json:"init,omitempty"`        // safetensors state_dict to start from instead of random weights drawn from Seed
	SyncBN          bool    `json:"sync_bn,omitempty"`     // data-parallel runs: batch norm with the statistics of the global batch (SyncBatchNorm)
	ExtraTrain      string  `json:"extra_train,omitempty"` // image class folders (names path-escaped) whose images join the training data: kiln train --finetune's feedback
	Device          string  `json:"device,omitempty"`      // where the step runs: cpu (""), cpu-backend or cuda (device.go)
	TF32            bool    `json:"tf32,omitempty"`        // cuda: matrix products on TF32 tensor cores
	Out             string  `json:"out"`                   // parent folder of run directories
	Name            string  `json:"name"`                  // run directory name; "" picks one from the time

	// Folds and Fold make the run one fold of a stratified k-fold
	// cross-validation (kiln cv): fold Fold (1..Folds) of the training data,
	// dealt with Seed, is the validation set instead of ValSplit.
	Folds int `json:"folds,omitempty"`
	Fold  int `json:"fold,omitempty"`
	// NoTest leaves the test set alone: runs that select a model (cv folds,
	// tuning trials) must not look at it, so that the final model's test
	// score is the only one.
	NoTest bool `json:"no_test,omitempty"`

	// Text data and text models (text_config.go says more).
	Tokenize  string  `json:"tokenize,omitempty"`  // char (default) or word
	Lowercase bool    `json:"lowercase,omitempty"` // lower-case texts before tokenising
	MaxLen    int     `json:"max_len,omitempty"`   // tokens kept per text; 0: enough for 99% of the training texts
	MinFreq   int     `json:"min_freq,omitempty"`  // tokens seen fewer times in the training texts are unknown; 0 means 1
	SeqLen    int     `json:"seq_len,omitempty"`   // --task lm: characters per training window; 0: DefaultSeqLen
	TestSplit float64 `json:"test_split"`          // text data without a test split: fraction held out as the test set (--task lm: the tail)
	EmbedDim  int     `json:"embed_dim,omitempty"` // text models: embedding size; 0: the model's
	Hidden    int     `json:"hidden,omitempty"`    // text models: recurrent units per layer and direction; 0: the model's
	Layers    int     `json:"layers,omitempty"`    // text models: stacked recurrent layers; 0: the model's

	// Differential privacy (dp.go says more): DP-SGD on Poisson-sampled
	// batches of expected size BatchSize.
	DP              bool    `json:"dp,omitempty"`
	MaxGradNorm     float64 `json:"max_grad_norm,omitempty"`    // --dp: each example's gradient is clipped to this L2 norm
	NoiseMultiplier float64 `json:"noise_multiplier,omitempty"` // --dp: the noise's standard deviation over MaxGradNorm; chosen by the run with TargetEpsilon
	TargetEpsilon   float64 `json:"target_epsilon,omitempty"`   // --dp: the epsilon the run's epochs may spend, which fixes the noise multiplier
	Delta           float64 `json:"delta,omitempty"`            // --dp: delta of the (epsilon, delta) guarantee
}

// DefaultConfig returns the seed program's settings: Adam at lr 1e-3, batch
// 32, with a tenth of the training data held out for validation.
func DefaultConfig() Config {
	return Config{Task: TaskClassify, Model: "seed-cnn", Epochs: 5, BatchSize: 32, Optimizer: "adam", LR: 1e-3, Scheduler: "none",
		ValSplit: 0.1, ImageSize: 32, Channels: 3, Workers: runtime.GOMAXPROCS(0), CheckpointEvery: 500, Out: "runs", TestSplit: 0.1}
}

// Validate reports the first setting that cannot work, naming its flag.
func (c *Config) Validate() error {
	if c.Architecture != "" {
		if _, err := models.ParseArch([]byte(c.Architecture)); err != nil {
			return fmt.Errorf("--model %s: %w", c.Model, err)
		}
		if c.TaskName() != TaskClassify {
			return fmt.Errorf("--model %s: architecture files build image classifiers; --task %s takes a zoo model", c.Model, c.TaskName())
		}
	} else if IsArchitectureFile(c.Model) {
		return fmt.Errorf("--model %s: the architecture file was not read (Config.ReadArchitecture)", c.Model)
	}
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("--epochs %d: want at least 1", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("--batch-size %d: want at least 1", c.BatchSize)
	case !(c.LR > 0):
		return fmt.Errorf("--lr %g: want a positive learning rate", c.LR)
	case !(c.ValSplit >= 0 && c.ValSplit < 1):
		return fmt.Errorf("--val-split %g: want a fraction in [0, 1)", c.ValSplit)
	case c.Channels != 1 && c.Channels != 3:
		return fmt.Errorf("--channels %d: want 1 (grey) or 3 (RGB)", c.Channels)
	case c.ImageSize < 1:
		return fmt.Errorf("--image-size %d: want at least 1", c.ImageSize)
	case c.Workers < 0:
		return fmt.Errorf("--workers %d: want 0 or more", c.Workers)
	case c.Patience < 0:
		return fmt.Errorf("--patience %d: want 0 (never stop early) or more", c.Patience)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("--checkpoint-every %d: want 0 (after each epoch only) or more steps", c.CheckpointEvery)
	case !(c.ClipNorm >= 0):
		return fmt.Errorf("--clip-norm %g: must not be negative", c.ClipNorm)
	case !(c.WeightDecay >= 0):
		return fmt.Errorf("--weight-decay %g: must not be negative", c.WeightDecay)
	case !(c.Momentum >= 0):
		return fmt.Errorf("--momentum %g: must not be negative", c.Momentum)
	case c.Folds < 0 || c.Folds == 1 || (c.Folds == 0 && c.Fold != 0) || (c.Folds > 0 && (c.Fold < 1 || c.Fold > c.Folds)):
		return fmt.Errorf("folds %d, fold %d: want no folds, or 2 or more folds and a fold from 1 to their number", c.Folds, c.Fold)
	}
	if _, err := imagefolder.ParseMode(c.Decode); err != nil {
		return fmt.Errorf("--decode %q: want view (16-bit grey as a viewer shows it) or pil (as Pillow converts it)", c.Decode)
	}
	if err := c.validateText(); err != nil {
		return err
	}
	if err := c.validateDP(); err != nil {
		return err
	}
	if err := c.validateDevice(); err != nil {
		return err
	}
	switch c.TaskName() {
	case TaskClassify:
		if slices.Contains(models.AutoencoderNames(), c.Model) {
			return fmt.Errorf("--model %s is an autoencoder: train it with --task autoencode", c.Model)
		}
	case TaskAutoencode:
		if !slices.Contains(models.AutoencoderNames(), c.Model) {
			return fmt.Errorf("--model %s: --task autoencode trains %s", c.Model, strings.Join(models.AutoencoderNames(), " or "))
		}
		if tf, err := transform.Parse(c.Augment); err == nil && tf.Normalize != nil {
			return fmt.Errorf("--augment %q: an autoencoder reconstructs inputs in [0, 1]; leave out normalize", c.Augment)
		}
	case TaskLM: // validateText checks it
	default:
		return fmt.Errorf("--task %q: want classify or autoencode (or lm, a character-level language model)", c.Task)
	}
	if _, err := ParseClassNames(c.ClassNames); err != nil {
		return err
	}
	switch strings.ToLower(c.Optimizer) {
	case "adam", "adamw", "sgd", "rmsprop":
	default:
		return fmt.Errorf("--optimizer %q: want adam, adamw, sgd or rmsprop", c.Optimizer)
	}
	switch strings.ToLower(c.Scheduler) {
	case "", "none", "step", "cosine", "onecycle":
	default:
		return fmt.Errorf("--scheduler %q: want none, step, cosine or onecycle", c.Scheduler)
	}
	return nil
}

// TaskName returns the run's task; configs written before tasks existed are
// classification runs.
func (c *Config) TaskName() string {
	if c.Task == "" {
		return TaskClassify
	}
	return c.Task
}

// ParseClassNames reads --classes: a comma-separated list of at least two
// names, or a number N of classes named "0" to "N-1". Empty gives nil.
func ParseClassNames(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 2 || n > 1<<16 {
			return nil, fmt.Errorf("--classes %d: want 2 to 65536 classes", n)
		}
		names := make([]string, n)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		return names, nil
	}
	names := strings.Split(s, ",")
	seen := map[string]bool{}
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if names[i] == "" || seen[names[i]] {
			return nil, fmt.Errorf("--classes %q: class %d is empty or repeated; want distinct names separated by commas, or a number", s, i+1)
		}
		seen[names[i]] = true
	}
	if len(names) < 2 {
		return nil, fmt.Errorf("--classes %q: want at least two names separated by commas, or a number of classes", s)
	}
	return names, nil
}

// LoadConfig reads a config file over base: keys present in the file
// replace base's values, and unknown keys are an error. Files ending in
// .yaml or .yml are YAML, anything else JSON; both use the keys of a run's
// config.json.
func LoadConfig(path string, base Config) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("run: config: %w", err)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return parseYAMLConfig(b, path, base)
	}
	return parseJSONConfig(b, path, base)
}

// DecodeStrict decodes b, which must hold one JSON value of v's fields
// and no others, into v: the strict reading a saved settings file gets.
func DecodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

func parseJSONConfig(b []byte, path string, base Config) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&base); err != nil {
		return base, fmt.Errorf("run: config %s: %w", path, err)
	}
	if dec.More() {
		return base, fmt.Errorf("run: config %s: more than one JSON object", path)
	}
	return base, nil
}

// parseYAMLConfig reads YAML as a mapping and hands it to the JSON decoder,
// so that both formats share one set of keys and one strictness.
func parseYAMLConfig(b []byte, path string, base Config) (Config, error) {
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return base, fmt.Errorf("run: config %s: %w", path, err)
	}
	if m == nil {
		return base, nil
	}
	j, err := json.Marshal(m)
	if err != nil {
		return base, fmt.Errorf("run: config %s: %w", path, err)
	}
	return parseJSONConfig(j, path, base)
}

// ValidateFolds reports whether c's runs can be cross-validated in k
// folds (a language model, say, holds out the end of its text instead).
func (c *Config) ValidateFolds(k int) error {
	if k < 2 {
		return fmt.Errorf("--folds %d: want at least 2", k)
	}
	probe := *c
	probe.Folds, probe.Fold, probe.NoTest = k, 1, true
	return probe.Validate()
}

// IsArchitectureFile reports whether a --model value names an
// architecture file (models.ParseArch's JSON) rather than a zoo model.
func IsArchitectureFile(model string) bool {
	return strings.HasSuffix(strings.ToLower(model), ".json")
}

// ReadArchitecture reads the architecture file that c.Model names, if it
// names one and c holds none yet: c.Architecture gets its JSON and c.Model
// its base name. Errors name the file and what is wrong in it.
func (c *Config) ReadArchitecture() error {
	if c.Architecture != "" || !IsArchitectureFile(c.Model) {
		return nil
	}
	b, err := os.ReadFile(c.Model)
	if err != nil {
		return fmt.Errorf("--model %s: %w", c.Model, err)
	}
	if _, err := models.ParseArch(b); err != nil {
		return fmt.Errorf("--model %s: %w", c.Model, err)
	}
	c.Architecture, c.Model = string(b), filepath.Base(c.Model)
	return nil
}
