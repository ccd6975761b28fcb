package quantize

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kiln-ml/kiln/autograd"
	"github.com/kiln-ml/kiln/checkpoint"
	"github.com/kiln-ml/kiln/data/synth"
	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
	"github.com/kiln-ml/kiln/tensor"
)

// zoo returns a model of the zoo in evaluation mode with weights from a
// seed, for 1x28x28 inputs of 10 classes. Batch normalisation gets
// running statistics and affine parameters away from their initial 0 and
// 1, so that folding them is tested.
func zoo(t testing.TB, name string) models.Model {
	rng := rand.New(rand.NewPCG(7, 8))
	m, err := models.New(name, models.Shape{Channels: 1, Height: 28, Width: 28, Classes: 10}, rng)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range nn.NamedParams(m) {
		v := p.Var.Value().Data()
		switch {
		case strings.HasSuffix(p.Name, "running_mean"), strings.Contains(p.Name, "bn") && strings.HasSuffix(p.Name, "bias"):
			for i := range v {
				v[i] = 0.2 * float32(rng.NormFloat64())
			}
		case strings.HasSuffix(p.Name, "running_var"), strings.Contains(p.Name, "bn") && strings.HasSuffix(p.Name, "weight"):
			for i := range v {
				v[i] = 0.5 + rng.Float32()
			}
		}
	}
	nn.SetTraining(m, false)
	return m
}

// archs are the architectures the int8 path builds.
var archs = []string{"seed-cnn", "lenet5", "mlp", "resnet8"}

// inputs returns n random images in [0, 1), as ToTensor gives.
func inputs(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*28*28)
	for i := range x {
		x[i] = rng.Float32()
	}
	return x
}

// forward runs the model itself (float, the engine's kernels).
func forward(m models.Model, x []float32, n int) []float32 {
	g := autograd.NewTape()
	g.SetGradEnabled(false)
	return m.Forward(g, g.Const(tensor.FromSlice(append([]float32(nil), x...), n, 1, 28, 28))).Value().Values()
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// TestProgramMatchesModel requires the layer list, run in float32, to
// give the model's own logits: the int8 path quantises the right layers in
// the right order.
func TestProgramMatchesModel(t *testing.T) {
	for _, name := range archs {
		m := zoo(t, name)
		x := inputs(3, 1)
		q, err := Quantize(m, []int{1, 28, 28}, x, 3)
		if err != nil {
			t.Fatal(err)
		}
		want, got := forward(m, x, 3), q.ForwardFloat(x, 3)
		if len(got) != len(want) {
			t.Fatalf("%s: %d logits, want %d", name, len(got), len(want))
		}
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+maxAbs(want)) {
				t.Fatalf("%s: logit %d = %g, the model gives %g", name, i, got[i], want[i])
			}
		}
	}
}

// TestInt8CloseToFloat calibrates on some images and requires the int8
// logits on others to stay within 5% of the logits' range of float32,
// and the same class to win for almost every image.
func TestInt8CloseToFloat(t *testing.T) {
	for _, name := range archs {
		m := zoo(t, name)
		q, err := Quantize(m, []int{1, 28, 28}, inputs(32, 2), 32)
		if err != nil {
			t.Fatal(err)
		}
		x := inputs(64, 3)
		want := forward(m, x, 64)
		got := forward(q, x, 64)
		scale := maxAbs(want)
		same := 0
		for r := range 64 {
			a, b := want[r*10:(r+1)*10], got[r*10:(r+1)*10]
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 0.05*scale {
					t.Fatalf("%s: example %d logit %d: int8 %g, float %g (range %g)", name, r, i, b[i], a[i], scale)
				}
			}
			if argmax(a) == argmax(b) {
				same++
			}
		}
		if same < 60 {
			t.Errorf("%s: int8 and float agree on %d of 64 classes", name, same)
		}
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func TestQuantizeInto(t *testing.T) {
	q := make([]int8, 7)
	quantizeInto(q, []float32{0, 0.5, 1.49, -1.5, 1000, -1000, 2.5}, 1)
	if got := []int8{0, 1, 1, -2, 127, -127, 3}; string(int8Bytes(q)) != string(int8Bytes(got)) {
		t.Errorf("quantised %v, want %v (round half away from zero, clamp to ±127)", q, got)
	}
}

func int8Bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// TestSaveLoad writes an int8 model and reads it back: the same logits,
// bit for bit; and refuses files of another architecture or with a
// tensor missing.
func TestSaveLoad(t *testing.T) {
	m := zoo(t, "seed-cnn")
	q, err := Quantize(m, []int{1, 28, 28}, inputs(8, 4), 8)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), File)
	if err := q.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path, m, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	x := inputs(5, 5)
	a, b := forward(q, x, 5), forward(back, x, 5)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("logit %d: %g before saving, %g after", i, a[i], b[i])
		}
	}
	r8 := zoo(t, "resnet8") // nested layers and folded batch norm round-trip too
	qr, err := Quantize(r8, []int{1, 28, 28}, inputs(8, 4), 8)
	if err != nil {
		t.Fatal(err)
	}
	rpath := filepath.Join(t.TempDir(), File)
	if err := qr.Save(rpath); err != nil {
		t.Fatal(err)
	}
	rback, err := Load(rpath, r8, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := forward(qr, x, 5), forward(rback, x, 5); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("resnet8 logits %v before saving, %v after", a, b)
	}
	if _, err := Load(path, zoo(t, "lenet5"), []int{1, 28, 28}); err == nil || !strings.Contains(err.Error(), "of model \"seed-cnn\", want \"kiln-int8\" of lenet5") {
		t.Errorf("a seed-cnn file onto lenet5: %v", err)
	}
	f, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	delete(f.Tensors, "fc2.input_scale")
	bad := filepath.Join(t.TempDir(), "bad.safetensors")
	if err := checkpoint.Write(bad, f); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad, m, []int{1, 28, 28}); err == nil || !strings.Contains(err.Error(), "fc2.input_scale") {
		t.Errorf("a file without fc2.input_scale: %v", err)
	}
}

// notZoo is a model the int8 path does not know.
type notZoo struct{ models.Model }

func TestUnsupported(t *testing.T) {
	m := zoo(t, "mlp")
	if _, err := Quantize(notZoo{m}, []int{1, 28, 28}, inputs(1, 1), 1); err == nil || !strings.Contains(err.Error(), "seed-cnn, lenet5, mlp and the CIFAR resnets") {
		t.Errorf("an unknown model: %v", err)
	}
	if _, err := Quantize(m, []int{1, 28, 28}, make([]float32, 28*28), 1); err == nil || !strings.Contains(err.Error(), "non-zero range") {
		t.Errorf("all-zero calibration: %v", err)
	}
}

func TestImages(t *testing.T) {
	dir := t.TempDir()
	if _, err := synth.WriteFolder(dir, 12, 1, 3); err != nil {
		t.Fatal(err)
	}
	x, n, err := Images(dir, 5, []int{1, 8, 8}, "resize=8x8")
	if err != nil || n != 5 || len(x) != 5*64 {
		t.Fatalf("%d images, %d values: %v", n, len(x), err)
	}
	if maxAbs(x) == 0 || maxAbs(x) > 1 {
		t.Errorf("pixels up to %g, want (0, 1]", maxAbs(x))
	}
	if _, _, err := Images(t.TempDir(), 5, []int{1, 8, 8}, "resize=8x8"); err == nil || !strings.Contains(err.Error(), "no image files") {
		t.Errorf("an empty folder: %v", err)
	}
}

// FuzzLoad feeds any bytes as an int8 model file: Load must not panic.
func FuzzLoad(f *testing.F) {
	m := zoo(f, "mlp")
	q, err := Quantize(m, []int{1, 28, 28}, inputs(2, 1), 2)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), File)
	if err := q.Save(path); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f")
		os.WriteFile(p, b, 0o600)
		Load(p, m, []int{1, 28, 28})
	})
}

// TestOffsetByte requires the kernel's offset bytes to be quantizeInto's
// values plus 128, at the rounding and clamping edges.
func TestOffsetByte(t *testing.T) {
	vals := []float32{0, 0.5, -0.5, 0.49999997, 1.5, -1.5, 126.5, 127.4, 1e9, -1e9, -127.5, 3.2, -3.7}
	q := make([]int8, len(vals))
	quantizeInto(q, vals, 1)
	for i, v := range vals {
		if got, want := offsetByte(v), uint8(int(q[i])+128); got != want {
			t.Errorf("offsetByte(%g) = %d, want %d", v, got, want)
		}
	}
}
