package backend_test

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/kiln-ml/kiln/internal/backend"
	"github.com/kiln-ml/kiln/internal/backend/backendtest"
	"github.com/kiln-ml/kiln/optim"
)

// TestCPUGradients checks every backward op of the CPU backend against
// finite differences of its forward op.
func TestCPUGradients(t *testing.T) {
	backendtest.CheckGrads(t, backend.NewCPU(), 1)
}

// TestCPUCompareItself runs the cross-backend comparison with the CPU on
// both sides: every case must give the same bits twice (the kernels are
// deterministic), which the CUDA backend's tests rely on.
func TestCPUCompareItself(t *testing.T) {
	backendtest.Compare(t, backend.NewCPU(), 0, 2)
}

func TestBufferSlice(t *testing.T) {
	s := []float32{0, 1, 2, 3, 4, 5}
	b := backend.Wrap(s).Slice(2, 5).Slice(1, 3)
	if b.Len() != 2 || b.Off() != 3 {
		t.Fatalf("slice: len %d off %d, want 2 and 3", b.Len(), b.Off())
	}
	got := backend.Floats(b)
	if got[0] != 3 || got[1] != 4 {
		t.Fatalf("slice holds %v, want [3 4]", got)
	}
	got[0] = 30
	if s[3] != 30 {
		t.Fatal("a view does not alias its buffer")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("slice past the end did not panic")
		}
	}()
	b.Slice(1, 3)
}

func TestCPUCrossEntropyValues(t *testing.T) {
	cpu := backend.NewCPU()
	logits := backend.Wrap([]float32{0, 0, 0, 2, 1, 0})
	labels := backend.WrapInts([]int32{1, 0})
	logp, out := backend.Wrap(make([]float32, 6)), backend.Wrap(make([]float32, 2))
	preds := backend.WrapInts(make([]int32, 2))
	cpu.CrossEntropy(logits, labels, 2, 3, logp, preds, out)
	o, p := backend.Floats(out), backend.Int32s(preds)
	// Row 0: uniform, loss ln 3, arg-max 0 (the first maximum). Row 1:
	// loss ln(e^2+e+1)-2, arg-max 0, right.
	want := float32((1.0986123 + 0.40760596) / 2)
	if d := o[0] - want; d > 1e-6 || d < -1e-6 {
		t.Errorf("loss %v, want %v", o[0], want)
	}
	if o[1] != 1 || p[0] != 0 || p[1] != 0 {
		t.Errorf("correct %v, preds %v; want 1, [0 0]", o[1], p)
	}
}

// registerFailing registers the failing backend once, however often the
// test runs (-count).
var registerFailing sync.Once

func TestOpen(t *testing.T) {
	b, err := backend.Open("cpu", backend.Options{})
	if err != nil || b.Name() != "cpu" {
		t.Fatalf("Open(cpu) = %v, %v", b, err)
	}
	if _, err := backend.Open("cpu", backend.Options{TF32: true}); err == nil || !strings.Contains(err.Error(), "TF32") {
		t.Fatalf("Open(cpu) with TF32 = %v, want an error naming TF32", err)
	}
	_, err = backend.Open("tpu", backend.Options{})
	var nb *backend.NotBuiltError
	if !errors.As(err, &nb) || !strings.Contains(err.Error(), "go build -tags tpu ./cmd/kiln") {
		t.Fatalf("Open(tpu) = %v, want a NotBuiltError saying how to build one", err)
	}
	registerFailing.Do(func() {
		backend.Register("test-fails", func(backend.Options) (backend.Backend, error) { return nil, errors.New("no device") })
	})
	if _, err := backend.Open("test-fails", backend.Options{}); err == nil || errors.As(err, &nb) || !strings.Contains(err.Error(), "no device") {
		t.Fatalf("a registered backend's failure: %v", err)
	}
}

// TestCPUClipGradNorm: the CPU backend clips as optim.ClipGradNorm does,
// to the bit, when the norm is above the bound and when it is not.
func TestCPUClipGradNorm(t *testing.T) {
	g := make([]float32, 1000)
	for i := range g {
		g[i] = float32(i%17)/8 - 1
	}
	for _, maxNorm := range []float64{0.3, 1e4} {
		want := append([]float32(nil), g...)
		optim.ClipGradNorm(want, maxNorm, 2)
		got := append([]float32(nil), g...)
		backend.NewCPU().ClipGradNorm(backend.Wrap(got), maxNorm)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("max norm %v: [%d] = %v, optim %v", maxNorm, i, got[i], want[i])
			}
		}
		if maxNorm < 1 && got[3] == g[3] {
			t.Fatal("the gradient was not clipped")
		}
	}
}

// TestCPUGolden: the CPU backend's ops give PyTorch's values in the
// golden files, as the engine's layers do.
func TestCPUGolden(t *testing.T) {
	backendtest.Golden(t, backend.NewCPU(), 1e-4)
}
