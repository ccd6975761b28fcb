package task

// This file holds the autoencoder task: its training step (Reconstructor)
// and what an autoencoder run writes when training ends, the reconstruction
// grid, the encoder's features and their PCA scatter plot. It leaves out
// variational and sequence autoencoders, and linear probes on the features.

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data"
	"github.com/kiln-ml/kiln/features"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/run"
	"github.com/kiln-ml/kiln/tensor"
	"github.com/kiln-ml/kiln/train"
	"github.com/kiln-ml/kiln/train/tfevents"
	"github.com/kiln-ml/kiln/viz"
)

// The files an autoencoder run adds to its directory.
const (
	ReconPlot       = "reconstructions.png"  // inputs (noisy inputs) and reconstructions
	FeaturesFile    = "features.safetensors" // the encoder's features of the evaluation set
	FeaturesCSV     = "features.csv"         // the same as CSV
	FeaturesScatter = "features_pca.png"     // their 2-D PCA projection, coloured by class
)

// reconImages is how many images the reconstruction grid shows.
const reconImages = 16

// Reconstructor trains an autoencoder to reproduce its input: the batch's
// images are both input and target, and the labels are ignored.
type Reconstructor struct {
	Model    *models.ConvAutoencoder
	Params   *nn.ParamSet
	Opt      optim.Optimizer
	ClipNorm float64        // clip gradients to this global L2 norm; 0 disables
	Sync     train.GradSync // combines gradients over data-parallel ranks; nil for one process

	tape *autograd.Tape
	x    tensor.Tensor
}

// SyncStats makes the model's batch normalisation use statistics summed
// by sum over data-parallel ranks (autograd.Tape.SetStatsSum).
func (r *Reconstructor) SyncStats(sum func([]float64)) { r.tape.SetStatsSum(sum) }

// NewReconstructor returns a Reconstructor of m with optimizer opt.
func NewReconstructor(m *models.ConvAutoencoder, opt optim.Optimizer) *Reconstructor {
	return &Reconstructor{Model: m, Params: m.Params, Opt: opt, tape: autograd.NewTape()}
}

// Module returns the autoencoder.
func (r *Reconstructor) Module() nn.Module { return r.Model }

// Optimizer returns the optimizer.
func (r *Reconstructor) Optimizer() optim.Optimizer { return r.Opt }

// TrainStep trains on one batch and returns its mean reconstruction loss;
// correct is always 0. A denoising model corrupts the batch first (in
// training mode), drawing from its NoiseRNG.
func (r *Reconstructor) TrainStep(b *data.Batch) (loss float32, correct int) {
	r.tape.SetGradEnabled(true)
	r.tape.Reset()
	r.x.Init(b.X, b.Shape...)
	l, _ := r.Model.Loss(r.tape, &r.x)
	train.UpdateShard(r.tape, r.Params, l, r.ClipNorm, r.Opt, r.Sync, b)
	return l.Item(), 0
}

// EvalBatch returns the batch's summed reconstruction loss; correct is 0
// and preds is left alone.
func (r *Reconstructor) EvalBatch(b *data.Batch, preds []int) (lossSum float64, correct int) {
	prev := r.tape.SetGradEnabled(false)
	defer r.tape.SetGradEnabled(prev)
	r.tape.Reset()
	r.x.Init(b.X, b.Shape...)
	l, _ := r.Model.Loss(r.tape, &r.x)
	return float64(l.Item()) * float64(len(b.Y)), 0
}

// seedNoise gives a denoising autoencoder's corruption its own PCG, seeded
// from the run's seed, and adds it to gens so that the training state
// saves it and a resumed run corrupts exactly as an uninterrupted one.
func seedNoise(m *models.ConvAutoencoder, seed uint64, gens run.Generators) {
	h := fnv.New64a()
	h.Write([]byte("autoencoder noise"))
	pcg := rand.NewPCG(seed, h.Sum64())
	m.NoiseRNG = rand.New(pcg)
	gens["<noise>"] = pcg
}

// lossName names the reconstruction loss, for plots and reports.
func lossName(m *models.ConvAutoencoder) string {
	if m.Config.Loss == models.BCE {
		return "reconstruction loss (BCE)"
	}
	return "reconstruction loss (MSE)"
}

// finishAutoencoder evaluates the best model's reconstruction loss on the
// test set, and writes the reconstruction grid, the features and their PCA
// plot for the evaluation set: the test set, else the validation set, else
// the training set. The report file comes last, as the mark of a finished
// run.
// autoencode is reconstruction: no classes, no accuracy.
type autoencode struct{ ae *models.ConvAutoencoder }

func (autoencode) unit() string        { return "images" }
func (autoencode) classesNote() string { return "" }

// epochLine has no accuracy, and more digits: the losses are small.
func (autoencode) epochLine(st train.EpochStats, cfg run.Config, val bool) string {
	line := fmt.Sprintf("Epoch [%d/%d], Loss: %.5f", st.Epoch, cfg.Epochs, st.TrainLoss)
	if val {
		line += fmt.Sprintf(", Val loss: %.5f", st.ValLoss)
	}
	return line
}

func (autoencode) speed(st train.EpochStats, cfg run.Config) string {
	return classify{}.speed(st, cfg)
}

func (autoencode) accuracy() bool      { return false }
func (k autoencode) lossLabel() string { return lossName(k.ae) }

func (autoencode) scalars(bool) func(*tfevents.Writer, train.EpochStats, time.Time) { return nil }

// finish evaluates the best model on the test set (or the validation or
// training set when there is none) and writes the reconstruction grid, the
// encoder's features and the report.
func (k autoencode) finish(ctx context.Context, s *session, sum *Summary) error {
	ae := k.ae
	which, set, what, r, err := s.evaluateBest(ctx, sum)
	if err != nil || !s.writes() {
		return err // rank 0 writes the figures, from the same model
	}
	fmt.Fprintf(s.log, "%s of the %s model on the %s set: %.5f (%d images)\n", capitalize(lossName(ae)), which, what, r.Loss, set.Len())
	if err := writeReconGrid(filepath.Join(s.dir, ReconPlot), ae, set); err != nil {
		return err
	}
	fs, err := features.Extract(ctx, ae, set, features.Options{Workers: s.cfg.Workers})
	if err != nil {
		return err
	}
	meta := map[string]string{"model": s.cfg.Model, "set": what, "checkpoint": which + ".safetensors"}
	if err := fs.WriteSafetensors(filepath.Join(s.dir, FeaturesFile), meta); err != nil {
		return err
	}
	if err := checkpoint.WriteFileAtomic(filepath.Join(s.dir, FeaturesCSV), fs.WriteCSV); err != nil {
		return err
	}
	title := fmt.Sprintf("%s features of the %s set (%d images)", s.cfg.Model, what, fs.N)
	scatter := " and " + FeaturesScatter
	if fs.N >= 3 {
		if err := checkpoint.WriteFileAtomic(filepath.Join(s.dir, FeaturesScatter), func(w io.Writer) error {
			_, err := fs.PCAScatter(w, title)
			return err
		}); err != nil {
			return err
		}
	} else {
		scatter = fmt.Sprintf(" (no %s: %d images are too few for a PCA)", FeaturesScatter, fs.N)
	}
	fmt.Fprintf(s.log, "kiln: wrote %s, %s (%d x %d features), %s%s in %s\n", ReconPlot, FeaturesFile, fs.N, fs.D, FeaturesCSV, scatter, s.dir)
	if what == "test" {
		if err := s.testScalars([]string{"loss/test"}, r.Loss); err != nil {
			return err
		}
	}
	rep := fmt.Sprintf("%s %.6f on the %s set (%d images), %s model\nfeatures: %s, %s (%d x %d)\n",
		lossName(ae), r.Loss, what, set.Len(), which, FeaturesFile, FeaturesCSV, fs.N, fs.D)
	return writeReport(s.dir, rep)
}

// writeReconGrid draws the first images of set beside their
// reconstructions, with the corrupted inputs between them for a denoising
// model, as a PNG.
func writeReconGrid(path string, ae *models.ConvAutoencoder, set data.Dataset) error {
	n := min(reconImages, set.Len())
	shape := set.Shape()
	size := shape[0] * shape[1] * shape[2]
	x := make([]float32, n*size)
	for i := range n {
		if _, err := set.Get(i, x[i*size:(i+1)*size], nil); err != nil {
			return fmt.Errorf("task: reconstruction grid: %w", err)
		}
	}
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	nn.SetTraining(ae, false)
	in := tensor.FromSlice(x, n, shape[0], shape[1], shape[2])
	split := func(v []float32) [][]float32 {
		out := make([][]float32, n)
		for i := range out {
			out[i] = append([]float32(nil), v[i*size:(i+1)*size]...)
		}
		return out
	}
	sets, labels := [][][]float32{split(x)}, []string{"input"}
	if ae.Config.Noise != models.NoNoise {
		noisy := ae.Corrupt(g, in)
		recon := ae.Forward(g, g.Const(noisy))
		sets = append(sets, split(noisy.Data()), split(recon.Data()))
		labels = append(labels, "noisy", "output")
	} else {
		sets = append(sets, split(ae.Forward(g, g.Const(in)).Data()))
		labels = append(labels, "output")
	}
	scale := max(1, 64/max(shape[1], shape[2]))
	img, err := viz.CompareGrid(sets, labels, shape[0], shape[1], shape[2], 8, scale)
	if err != nil {
		return fmt.Errorf("task: reconstruction grid: %w", err)
	}
	return checkpoint.WriteFileAtomic(path, func(w io.Writer) error { return viz.WritePNG(w, img) })
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
