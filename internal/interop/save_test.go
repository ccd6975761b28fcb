package interop

// kiln -> PyTorch: a model trained by kiln is saved with
// checkpoint.SaveModel, and testdata/make.py verify loads that file into
// PyTorch's module and compares logits. Python never runs here: the test
// writes the file, and the committed copy is the one that make.py verified
// by hand (testdata/README.md). This file leaves out ONNX, which package
// export/onnx checks.

import (
	"flag"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/internal/golden"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/optim"
	"github.com/kiln-ml/kiln/tensor"
)

var writeKiln = flag.Bool("write-kiln-checkpoint", false,
	"write testdata/kiln_resnet8.safetensors and its .io.safetensors for make.py verify")

const kilnSteps = 20 // training steps kiln takes before saving

// trainKiln trains a fresh ResNet-8 for kilnSteps Adam steps on random
// images with random labels, in train mode so that every BatchNorm's
// running statistics and num_batches_tracked move, and returns it with a
// batch of 4 inputs for comparing logits.
func trainKiln(t *testing.T) (model, *checkpoint.Tensor) {
	t.Helper()
	rng := rand.New(rand.NewPCG(20, 26))
	m := newResNet(t, resnetShape, 8, 7)
	opt := optim.NewAdam(m.ps.Data, m.ps.Grad, optim.AdamConfig{LR: 1e-3})
	loss := nn.NewCrossEntropyLoss()
	s := resnetShape
	x := tensor.New(16, s.Channels, s.Height, s.Width)
	target := make([]int, 16)
	g := autograd.NewTape()
	nn.SetTraining(m.Module, true)
	for range kilnSteps {
		x.Uniform(rng, 0, 1)
		for i := range target {
			target[i] = rng.IntN(s.Classes)
		}
		g.Reset()
		m.ps.ZeroGrad()
		g.Backward(loss.Forward(g, m.Forward(g, g.Const(x)), target))
		opt.Step()
	}
	in := tensor.New(4, s.Channels, s.Height, s.Width).Uniform(rng, 0, 1)
	return m, &checkpoint.Tensor{DType: checkpoint.F32, Shape: slices.Clone(in.Shape()), Data: in.Values()}
}

// kilnMetadata is what make.py verify reads to build PyTorch's module.
func kilnMetadata() map[string]string {
	s := resnetShape
	return map[string]string{
		"format": "pt", "framework": "kiln", "model": "resnet8",
		"in_channels": strconv.Itoa(s.Channels), "height": strconv.Itoa(s.Height), "width": strconv.Itoa(s.Width),
		"classes": strconv.Itoa(s.Classes), "trained": strconv.Itoa(kilnSteps) + " Adam steps in kiln",
	}
}

// TestKilnCheckpointForPyTorch saves a kiln-trained ResNet-8 and checks the
// file as PyTorch will see it: every state_dict entry, F32 except
// num_batches_tracked, an I64 scalar holding the step count; and that
// loading it into a differently initialised model gives the same logits
// bit for bit. With -write-kiln-checkpoint it writes the files into
// testdata for make.py verify.
func TestKilnCheckpointForPyTorch(t *testing.T) {
	m, x := trainKiln(t)
	logits := evalLogits(m.Module, x)
	dir := t.TempDir()
	if *writeKiln {
		dir = "testdata"
	}
	path := filepath.Join(dir, "kiln_resnet8.safetensors")
	if err := checkpoint.SaveModel(path, m.Module, kilnMetadata()); err != nil {
		t.Fatal(err)
	}
	io := &checkpoint.File{Tensors: map[string]*checkpoint.Tensor{
		"x":      x,
		"logits": {DType: checkpoint.F32, Shape: []int{x.Shape[0], resnetShape.Classes}, Data: logits},
	}}
	if err := checkpoint.Write(filepath.Join(dir, "kiln_resnet8.io.safetensors"), io); err != nil {
		t.Fatal(err)
	}

	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := nn.NamedParams(m.Module)
	if names := slices.Sorted(maps.Keys(f.Tensors)); len(names) != len(want) {
		t.Fatalf("file holds %d tensors, the model has %d parameters and buffers", len(names), len(want))
	}
	counters := 0
	for _, p := range want {
		got, ok := f.Tensors[p.Name]
		switch {
		case !ok:
			t.Errorf("no tensor %q in the file", p.Name)
		case p.Int:
			counters++
			if got.DType != checkpoint.I64 || len(got.Shape) != 0 || !slices.Equal(got.Ints, []int64{kilnSteps}) {
				t.Errorf("%s: %s %v %v, want an I64 scalar %d as PyTorch keeps it", p.Name, got.DType, got.Shape, got.Ints, kilnSteps)
			}
		case got.DType != checkpoint.F32 || !slices.Equal(got.Shape, p.Var.Shape()) || !slices.Equal(got.Data, p.Var.Data()):
			t.Errorf("%s: %s %v in the file, want the model's F32 %v values", p.Name, got.DType, got.Shape, p.Var.Shape())
		}
	}
	if counters != 9 {
		t.Errorf("%d num_batches_tracked buffers, want 9", counters)
	}
	if !maps.Equal(f.Metadata, kilnMetadata()) {
		t.Errorf("metadata %v, want %v", f.Metadata, kilnMetadata())
	}

	back := newResNet(t, resnetShape, 8, 99)
	if slices.Equal(evalLogits(back.Module, x), logits) {
		t.Fatal("a fresh model already gives the trained logits: the test cannot fail")
	}
	if _, err := checkpoint.LoadModel(path, back.Module); err != nil {
		t.Fatal(err)
	}
	if got := evalLogits(back.Module, x); !slices.Equal(got, logits) {
		t.Errorf("reloaded model's logits differ: %v, want %v", got, logits)
	}
}

// TestCommittedKilnCheckpoint loads the kiln-written checkpoint that
// make.py verify checked in PyTorch, and requires kiln to still give the
// logits PyTorch agreed with, so that file stays a faithful record.
func TestCommittedKilnCheckpoint(t *testing.T) {
	io, err := checkpoint.Read("testdata/kiln_resnet8.io.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	m := newResNet(t, resnetShape, 8, 1)
	meta, err := checkpoint.LoadModel("testdata/kiln_resnet8.safetensors", m.Module)
	if err != nil {
		t.Fatal(err)
	}
	if meta["framework"] != "kiln" || meta["model"] != "resnet8" {
		t.Errorf("metadata %v, want framework kiln and model resnet8", meta)
	}
	got := evalLogits(m.Module, tensorOf(t, io, "x"))
	golden.Close(t, "logits", got, tensorOf(t, io, "logits").Data, rtol, atol)
}
