package source

// This file resolves a run's --data into training, validation and test
// sets. It leaves out downloading (see data/fetch) and recognising formats
// (formats.go).

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"

	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/data/embedded"
	"github.com/kiln-ml/kiln/data/imagefolder"
	"github.com/kiln-ml/kiln/data/text"
	"github.com/kiln-ml/kiln/data/transform"
	"github.com/kiln-ml/kiln/run"
)

// Datasets are a run's training, validation and (optional) test sets.
type Datasets struct {
	Train, Val, Test data.Dataset
	Classes          []string
	Shape            []int // one example, [C, H, W]; text: [MaxLen] token ids, or a language model's window [SeqLen+1]
	Source           string
	Encoder          *text.Encoder // text data: how texts become token ids, saved in the run directory; nil for images
}

// LoadDatasets resolves cfg.Data: the embedded Fashion-MNIST subset when
// empty, else whatever DetectSource finds there. Image files are converted
// to cfg.Channels and resized to cfg.ImageSize; IDX and CIFAR data keep
// their own size and channels. The validation set is a stratified
// cfg.ValSplit of the training data, drawn with cfg.Seed (or, with
// cfg.Folds, fold cfg.Fold of a stratified k-fold split), and never
// augmented; cfg.NoTest drops the test set. Skipped files are reported to
// log. Text data (a text folder, a lines file) and language models' texts
// are loaded by LoadText and LoadLM.
func LoadDatasets(cfg run.Config, log io.Writer) (*Datasets, error) {
	ds, err := loadDatasets(cfg, log)
	if err != nil || cfg.ExtraTrain == "" {
		return ds, err
	}
	return ds, addExtraTrain(ds, cfg, log)
}

// addExtraTrain appends the images of the class folders cfg.ExtraTrain to
// the training set, numbered as its classes: the feedback a fine-tuning
// run learns from. Folder names are class names path-escaped (url.PathEscape),
// so that a class such as Fashion-MNIST's "T-shirt/top" has a folder.
func addExtraTrain(ds *Datasets, cfg run.Config, log io.Writer) error {
	if ds.Encoder != nil || cfg.TaskName() != run.TaskClassify {
		return fmt.Errorf("extra_train %s: extra training images join image classifiers' data only", cfg.ExtraTrain)
	}
	src, err := DetectSource(cfg.ExtraTrain)
	if err != nil {
		return fmt.Errorf("extra_train: %w", err)
	}
	if src.Format != FormatImageFolder || src.Split {
		return fmt.Errorf("extra_train %s: %s; want image class folders (DIR/<class>/*)", cfg.ExtraTrain, src)
	}
	spec := fmt.Sprintf("resize=%dx%d", ds.Shape[1], ds.Shape[2])
	if cfg.Augment != "" {
		spec += "," + cfg.Augment
	}
	cfg.Channels = ds.Shape[0]
	d, err := openFiles(src, true, spec, cfg, log)
	if err != nil {
		return err
	}
	names := make([]string, len(d.Classes()))
	for i, c := range d.Classes() {
		if names[i], err = url.PathUnescape(c); err != nil {
			return fmt.Errorf("extra_train %s: class folder %q: %w", cfg.ExtraTrain, c, err)
		}
	}
	if d, err = RenameClasses(d, names); err != nil {
		return err
	}
	if d, err = MatchClasses(d, ds.Classes, "extra_train "+cfg.ExtraTrain); err != nil {
		return err
	}
	ds.Train, err = data.NewConcat(ds.Train, d)
	return err
}

// loadDatasets is LoadDatasets without the extra training images.
func loadDatasets(cfg run.Config, log io.Writer) (*Datasets, error) {
	if cfg.TaskName() == run.TaskLM {
		return LoadLM(cfg, nil, log)
	}
	names, err := run.ParseClassNames(cfg.ClassNames)
	if err != nil {
		return nil, err
	}
	var full, plain, test data.Dataset
	ds := &Datasets{}
	if cfg.Data == "" {
		tr, te, err := embedded.FashionMNIST()
		if err != nil {
			return nil, err
		}
		plain, test = tr, te
		if names != nil {
			if plain, err = RenameClasses(tr, names); err != nil {
				return nil, err
			}
			if test, err = RenameClasses(te, names); err != nil {
				return nil, err
			}
		}
		ds.Source = "embedded Fashion-MNIST subset"
	} else {
		src, err := DetectSource(cfg.Data)
		if err != nil {
			return nil, err
		}
		ds.Source = src.String()
		if src.IsText() {
			return LoadText(cfg, src, nil, log)
		}
		if src.Tensors() {
			opt := OpenOptions{ClassNames: names}
			if plain, _, err = src.Open(true, opt); err != nil {
				return nil, err
			}
			if plain == nil {
				return nil, fmt.Errorf("--data %s: %s without a training split", cfg.Data, src)
			}
			if test, _, err = src.Open(false, opt); err != nil {
				return nil, err
			}
		} else {
			if src.Format == FormatImages && cfg.TaskName() != run.TaskAutoencode {
				return nil, fmt.Errorf("--data %s: image files without class folders; a classifier needs DIR/<class>/* (or DIR/train/<class>/*), an autoencoder (--task autoencode) can train on them", cfg.Data)
			}
			resize := fmt.Sprintf("resize=%dx%d", cfg.ImageSize, cfg.ImageSize)
			aug := resize
			if cfg.Augment != "" {
				aug += "," + cfg.Augment
			}
			if full, err = openFiles(src, true, aug, cfg, log); err != nil {
				return nil, err
			}
			plain = full
			if cfg.Augment != "" {
				if plain, err = openFiles(src, true, resize, cfg, io.Discard); err != nil {
					return nil, err
				}
			}
			if test, err = openFiles(src, false, resize, cfg, log); err != nil {
				return nil, err
			}
		}
	}
	if full == nil {
		full = plain
		if cfg.Augment != "" {
			if full, err = augmentTensors(plain, cfg.Augment); err != nil {
				return nil, err
			}
		}
	}
	ds.Classes, ds.Shape, ds.Test = full.Classes(), full.Shape(), test
	if cfg.TaskName() == run.TaskClassify && len(ds.Classes) < 2 {
		return nil, &run.SettingError{Err: fmt.Errorf("--data %s: %d class (%s); a classifier needs at least two class folders", cfg.Data, len(ds.Classes), strings.Join(ds.Classes, ""))}
	}
	if test != nil {
		if ds.Test, err = matchTestClasses(test, ds.Classes, cfg.Data); err != nil {
			return nil, err
		}
	}
	if cfg.NoTest {
		ds.Test = nil
	}
	if cfg.Folds > 0 {
		return ds, splitFold(ds, full, plain, cfg)
	}
	if cfg.ValSplit == 0 {
		ds.Train = full
		return ds, nil
	}
	labels, err := data.Labels(full)
	if err != nil {
		return nil, err
	}
	parts, err := data.Split(labels, []float64{1 - cfg.ValSplit, cfg.ValSplit}, rand.New(rand.NewPCG(cfg.Seed, 0x5eed)), true)
	if err != nil {
		return nil, fmt.Errorf("--val-split %g: %w", cfg.ValSplit, err)
	}
	if ds.Train, err = data.NewSubset(full, parts[0]); err != nil {
		return nil, err
	}
	if ds.Val, err = data.NewSubset(plain, parts[1]); err != nil {
		return nil, err
	}
	return ds, nil
}

// openFiles opens a split of image files with the transform spec; a
// missing test split gives nil.
func openFiles(src *Source, train bool, spec string, cfg run.Config, log io.Writer) (data.Dataset, error) {
	tf, err := transform.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("--augment %q: %w", cfg.Augment, err)
	}
	// Every file is decoded once here: a truncated image whose header reads
	// fine would otherwise stop training mid-epoch instead of being skipped
	// and reported up front.
	mode, err := imagefolder.ParseMode(cfg.Decode)
	if err != nil {
		return nil, fmt.Errorf("--decode: %w", err)
	}
	d, _, err := src.Open(train, OpenOptions{Channels: cfg.Channels, Transform: tf, Workers: cfg.Workers, Log: log,
		FullCheck: true, Strict: cfg.Strict, Decode: mode})
	if d == nil || err != nil {
		return nil, err
	}
	return d, nil
}

// EvalTransform is the spec that turns one decoded image into the model's
// input: a resize to the training images' size.
func EvalTransform(shape []int) string {
	if len(shape) != 3 { // token ids
		return ""
	}
	return fmt.Sprintf("resize=%dx%d", shape[1], shape[2])
}

// relabeled maps a dataset's labels into a run's classes by name, so that
// a folder holding some of the classes, or in another order, evaluates
// against the right outputs.
type relabeled struct {
	data.Dataset
	classes []string
	to      []int
}

// Classes returns the run's classes.
func (r *relabeled) Classes() []string { return r.classes }

// Labels returns the labels in the run's numbering, when the dataset knows
// them without decoding.
func (r *relabeled) Labels() []int {
	l, ok := r.Dataset.(data.Labeler)
	if !ok || l.Labels() == nil {
		return nil
	}
	out := make([]int, len(l.Labels()))
	for i, y := range l.Labels() {
		out[i] = r.to[y]
	}
	return out
}

// Get returns example i with its label in the run's numbering.
func (r *relabeled) Get(i int, x []float32, rng *rand.Rand) (int, error) {
	y, err := r.Dataset.Get(i, x, rng)
	if err != nil {
		return 0, err
	}
	return r.to[y], nil
}

// MatchClasses returns d with its labels numbered as classes, or an error
// naming a class of d that the run does not know.
func MatchClasses(d data.Dataset, classes []string, what string) (data.Dataset, error) {
	have := d.Classes()
	if strings.Join(have, "\x00") == strings.Join(classes, "\x00") {
		return d, nil
	}
	idx := make(map[string]int, len(classes))
	for i, c := range classes {
		idx[c] = i
	}
	to := make([]int, len(have))
	for i, c := range have {
		j, ok := idx[c]
		if !ok {
			return nil, fmt.Errorf("%s has class %q, which the model was not trained on (it knows %s)", what, c, strings.Join(classes, ", "))
		}
		to[i] = j
	}
	return &relabeled{Dataset: d, classes: classes, to: to}, nil
}

// matchTestClasses numbers a test set's labels as the training set's
// classes: a test set may lack some of them, but a class that training
// never saw is an error naming it.
func matchTestClasses(test data.Dataset, classes []string, dir string) (data.Dataset, error) {
	var unknown []string
	for _, c := range test.Classes() {
		if !slices.Contains(classes, c) {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		return nil, &run.SettingError{Err: fmt.Errorf("--data %s: the test set has classes the training set lacks: %s (training classes: %s); add their training folders or remove the test ones",
			dir, strings.Join(unknown, ", "), strings.Join(classes, ", "))}
	}
	return MatchClasses(test, classes, "--data "+dir+": the test set")
}

// foldSeed is the stream of the fold split's generator, apart from ValSplit's.
const foldSeed = 0xf01d

// splitFold sets ds.Train and ds.Val to fold cfg.Fold of a stratified
// cfg.Folds-fold split of the training data, dealt with cfg.Seed: full is
// the (augmented) training data, plain the same without augmentation.
func splitFold(ds *Datasets, full, plain data.Dataset, cfg run.Config) error {
	labels, err := data.Labels(full)
	if err != nil {
		return err
	}
	folds, err := data.StratifiedKFold(labels, cfg.Folds, rand.New(rand.NewPCG(cfg.Seed, foldSeed)))
	if err != nil {
		return fmt.Errorf("--folds %d: %w", cfg.Folds, err)
	}
	f := folds[cfg.Fold-1]
	if ds.Train, err = data.NewSubset(full, f.Train); err != nil {
		return err
	}
	ds.Val, err = data.NewSubset(plain, f.Val)
	return err
}
