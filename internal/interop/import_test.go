package interop

// PyTorch -> kiln: weights trained and saved by testdata/make.py load into
// kiln's models and give PyTorch's eval-mode logits. This file leaves out
// the hostile-file cases (checkpoint's fuzz and decode tests cover them).

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// Eval-mode logits must match PyTorch's to rtol 1e-5. The tiny atol only
// spares logits that cancel to near zero, where float32 summation order
// alone decides the last bits.
const (
	rtol = 1e-5
	atol = 1e-6
)

var (
	seedShape   = models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 10}
	resnetShape = models.Shape{Channels: 3, Height: 20, Width: 20, Classes: 10}
)

// model is a kiln model and its packed parameters.
type model struct {
	nn.Module
	ps *nn.ParamSet
}

func newSeedCNN(t *testing.T, s models.Shape, seed uint64) model {
	t.Helper()
	m, err := models.NewSeedCNN(s, 0.2, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return model{m, m.Params}
}

func newResNet(t *testing.T, s models.Shape, depth int, seed uint64) model {
	t.Helper()
	m, err := models.NewResNet(s, depth, rand.New(rand.NewPCG(seed, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return model{m, m.Params}
}

// evalLogits runs m in eval mode without recording gradients.
func evalLogits(m nn.Module, x *checkpoint.Tensor) []float32 {
	nn.SetTraining(m, false)
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	y := m.Forward(g, g.Const(tensor.FromSlice(slices.Clone(x.Data), x.Shape...)))
	return y.Value().Values()
}

// readGolden reads testdata/logits.safetensors: the inputs and PyTorch's
// logits.
func readGolden(t *testing.T) *checkpoint.File {
	t.Helper()
	f, err := checkpoint.Read("testdata/logits.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tensorOf(t *testing.T, f *checkpoint.File, name string) *checkpoint.Tensor {
	t.Helper()
	x, ok := f.Tensors[name]
	if !ok {
		t.Fatalf("no tensor %q in the golden file; rerun testdata/make.py", name)
	}
	return x
}

// worst returns the largest absolute and relative differences, for the log.
func worst(got, want []float32) (abs, rel float64) {
	for i := range want {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		abs = max(abs, d)
		rel = max(rel, d/max(math.Abs(float64(want[i])), 1e-30))
	}
	return abs, rel
}

// TestPyTorchTrainedWeights loads each PyTorch checkpoint with
// checkpoint.LoadModel and compares kiln's eval-mode logits with PyTorch's.
// The F16 and BF16 files hold the same weights rounded by PyTorch, and
// their logits were computed from those rounded weights, so they check the
// conversion on every one of the seed CNN's 260k weights.
func TestPyTorchTrainedWeights(t *testing.T) {
	gf := readGolden(t)
	cases := []struct {
		file, model, input, logits string
		dtype                      checkpoint.DType
		build                      func(t *testing.T) model
	}{
		{"seedcnn.safetensors", "seed-cnn", "seedcnn.x", "seedcnn.logits", checkpoint.F32,
			func(t *testing.T) model { return newSeedCNN(t, seedShape, 1) }},
		{"seedcnn_f16.safetensors", "seed-cnn", "seedcnn.x", "seedcnn_f16.logits", checkpoint.F16,
			func(t *testing.T) model { return newSeedCNN(t, seedShape, 2) }},
		{"seedcnn_bf16.safetensors", "seed-cnn", "seedcnn.x", "seedcnn_bf16.logits", checkpoint.BF16,
			func(t *testing.T) model { return newSeedCNN(t, seedShape, 3) }},
		{"resnet8.safetensors", "resnet8", "resnet8.x", "resnet8.logits", checkpoint.F32,
			func(t *testing.T) model { return newResNet(t, resnetShape, 8, 4) }},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			f, err := checkpoint.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range f.Names() {
				if d := f.Tensors[name].DType; d != c.dtype && !strings.HasSuffix(name, ".num_batches_tracked") {
					t.Fatalf("%s is %s, want the file all %s", name, d, c.dtype)
				}
			}
			m := c.build(t)
			fresh := evalLogits(m.Module, tensorOf(t, gf, c.input))
			meta, err := checkpoint.LoadModel(path, m.Module)
			if err != nil {
				t.Fatal(err)
			}
			if meta["model"] != c.model || meta["format"] != "pt" {
				t.Errorf("metadata %v, want model %q and format pt", meta, c.model)
			}

			// The optimizer works on the packed buffer, so loading must
			// write through to it, not just to each parameter's Var.
			for i, p := range m.ps.Params {
				want := f.Tensors[p.Name].Data
				if off := m.ps.Offset[i]; !slices.Equal(m.ps.Data[off:off+len(want)], want) {
					t.Fatalf("%s: packed buffer does not hold the loaded values", p.Name)
				}
			}

			want := tensorOf(t, gf, c.logits).Data
			got := evalLogits(m.Module, tensorOf(t, gf, c.input))
			if a, _ := worst(fresh, want); a < 1e-2 {
				t.Fatalf("a freshly initialised model already gives PyTorch's logits (max diff %g): the test cannot fail", a)
			}
			abs, rel := worst(got, want)
			big, score, beyond := 0.0, 0.0, 0
			for i := range want {
				w, d := math.Abs(float64(want[i])), math.Abs(float64(got[i]-want[i]))
				big, score = max(big, w), max(score, d/(atol+rtol*w))
				if d > rtol*w {
					beyond++
				}
			}
			t.Logf("%d logits up to %.3g: max |kiln - PyTorch| %.3g, max relative %.3g, %d beyond rtol alone, worst error/tolerance %.2f",
				len(want), big, abs, rel, beyond, score)
			golden.Close(t, c.file+" logits", got, want, rtol, atol)
		})
	}
}

// TestBatchNormBuffersLoad checks the buffers PyTorch trained: 50 training
// steps leave num_batches_tracked = 50 in every BatchNorm (stored as an I64
// scalar) and running statistics away from their initial 0 and 1.
func TestBatchNormBuffersLoad(t *testing.T) {
	path := "testdata/resnet8.safetensors"
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	m := newResNet(t, resnetShape, 8, 5)
	if _, err := checkpoint.LoadModel(path, m.Module); err != nil {
		t.Fatal(err)
	}
	counters, stats := 0, 0
	for _, p := range m.ps.All {
		src := f.Tensors[p.Name]
		switch {
		case p.Int:
			counters++
			if src.DType != checkpoint.I64 || len(src.Shape) != 0 || len(src.Ints) != 1 {
				t.Errorf("%s: %s %v in the file, want an I64 scalar", p.Name, src.DType, src.Shape)
			}
			if got := p.Var.Data(); len(got) != 1 || got[0] != 50 {
				t.Errorf("%s = %v after loading, want 50", p.Name, got)
			}
		case p.Buffer:
			stats++
			init := float32(0) // running_mean
			if strings.HasSuffix(p.Name, "running_var") {
				init = 1
			}
			if !slices.Equal(p.Var.Data(), src.Data) {
				t.Errorf("%s: loaded values differ from the file", p.Name)
			}
			if !slices.ContainsFunc(p.Var.Data(), func(v float32) bool { return v != init }) {
				t.Errorf("%s is still all %g: PyTorch's trained statistics did not load", p.Name, init)
			}
		}
	}
	if counters != 9 || stats != 18 {
		t.Errorf("%d num_batches_tracked and %d running statistics, want 9 and 18 (9 BatchNorms in ResNet-8)", counters, stats)
	}
}

// TestHalfWritesMatchPyTorch converts the F32 weights to F16 and BF16 with
// kiln's writer: the files must be byte for byte the ones PyTorch's
// .half() and .bfloat16() produced, so kiln rounds as PyTorch does
// (round to nearest even) on real weights. Reading them back and writing
// again must also reproduce the bytes.
func TestHalfWritesMatchPyTorch(t *testing.T) {
	f32, err := checkpoint.Read("testdata/seedcnn.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []checkpoint.DType{checkpoint.F16, checkpoint.BF16} {
		t.Run(string(d), func(t *testing.T) {
			path := "testdata/seedcnn_" + strings.ToLower(string(d)) + ".safetensors"
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			conv := &checkpoint.File{Tensors: map[string]*checkpoint.Tensor{}, Metadata: f32.Metadata}
			for name, x := range f32.Tensors {
				conv.Tensors[name] = &checkpoint.Tensor{DType: d, Shape: x.Shape, Data: x.Data}
			}
			var b bytes.Buffer
			if err := checkpoint.Encode(&b, conv); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("kiln's %s conversion of seedcnn.safetensors differs from PyTorch's %s (%d vs %d bytes, first difference at byte %d)",
					d, path, b.Len(), len(want), firstDiff(b.Bytes(), want))
			}
			back, err := checkpoint.Decode(want)
			if err != nil {
				t.Fatal(err)
			}
			b.Reset()
			if err := checkpoint.Encode(&b, back); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("reading %s and writing it again changed the bytes (first difference at byte %d)", path, firstDiff(b.Bytes(), want))
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestLoadWrongCheckpoint loads files that do not fit the model: each must
// fail with an error that names the file and the offending tensor.
func TestLoadWrongCheckpoint(t *testing.T) {
	dir := t.TempDir()
	// edited writes a copy of a testdata file changed by edit.
	edited := func(t *testing.T, src string, edit func(f *checkpoint.File)) string {
		f, err := checkpoint.Read(filepath.Join("testdata", src))
		if err != nil {
			t.Fatal(err)
		}
		edit(f)
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".safetensors")
		if err := checkpoint.Write(path, f); err != nil {
			t.Fatal(err)
		}
		return path
	}
	truncated := func(t *testing.T) string {
		b, err := os.ReadFile("testdata/resnet8.safetensors")
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "truncated.safetensors")
		if err := os.WriteFile(path, b[:len(b)-100], 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	seed := func(t *testing.T) model { return newSeedCNN(t, seedShape, 1) }
	resnet8 := func(t *testing.T) model { return newResNet(t, resnetShape, 8, 1) }
	cases := []struct {
		name  string
		file  func(t *testing.T) string
		model func(t *testing.T) model
		want  []string // substrings of the error
	}{
		{"seed-cnn weights into resnet8", func(*testing.T) string { return "testdata/seedcnn.safetensors" }, resnet8,
			[]string{`"conv1.weight"`, "shape [32 3 5 5]", "wants [16 3 3 3]"}},
		{"resnet8 weights into seed-cnn", func(*testing.T) string { return "testdata/resnet8.safetensors" }, seed,
			[]string{`"conv1.weight" has shape [16 3 3 3], the model wants [32 3 5 5]`}},
		{"resnet8 weights into resnet20", func(*testing.T) string { return "testdata/resnet8.safetensors" }, func(t *testing.T) model {
			return newResNet(t, resnetShape, 20, 1)
		}, []string{`no tensor "layer1.1.conv1.weight"`}},
		{"10 classes into 2", func(*testing.T) string { return "testdata/seedcnn.safetensors" }, func(t *testing.T) model {
			return newSeedCNN(t, models.Shape{Channels: 3, Height: 32, Width: 32, Classes: 2}, 1)
		}, []string{`"fc2.weight"`, "shape [10 128]", "wants [2 128]"}},
		{"missing bias", func(t *testing.T) string {
			return edited(t, "seedcnn.safetensors", func(f *checkpoint.File) { delete(f.Tensors, "fc1.bias") })
		}, seed, []string{`no tensor "fc1.bias"`}},
		{"missing num_batches_tracked", func(t *testing.T) string {
			return edited(t, "resnet8.safetensors", func(f *checkpoint.File) { delete(f.Tensors, "layer2.0.shortcut.1.num_batches_tracked") })
		}, resnet8, []string{`no tensor "layer2.0.shortcut.1.num_batches_tracked"`}},
		{"extra tensor", func(t *testing.T) string {
			return edited(t, "seedcnn.safetensors", func(f *checkpoint.File) {
				f.Tensors["fc3.weight"] = &checkpoint.Tensor{DType: checkpoint.F32, Shape: []int{1}, Data: []float32{1}}
			})
		}, seed, []string{`"fc3.weight" is not a parameter`}},
		{"truncated file", truncated, resnet8, []string{"truncated.safetensors"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.file(t)
			_, err := checkpoint.LoadModel(path, c.model(t).Module)
			if err == nil {
				t.Fatalf("LoadModel(%s) succeeded, want an error", path)
			}
			for _, w := range append([]string{"checkpoint: " + path}, c.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if c.name == "truncated file" {
				var fe *checkpoint.FormatError
				if !errors.As(err, &fe) {
					t.Errorf("error %v is not a *checkpoint.FormatError", err)
				}
			}
		})
	}
}
