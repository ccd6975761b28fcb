package cuda

import (
	"errors"
	"flag"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/kiln-ml/kiln/internal/kernels"
	"github.com/kiln-ml/kiln/internal/kernels/conv"
)

// -gpu says a GPU is expected: without one the GPU tests fail instead of
// skipping, so a device check cannot pass by finding nothing.
var gpuFlag = flag.Bool("gpu", false, "expect an NVIDIA GPU: fail, not skip, when there is none")

// openGPU opens device 0 or skips (fails under -gpu) with the reason.
func openGPU(t *testing.T) *Device {
	t.Helper()
	if testing.Short() && !*gpuFlag {
		t.Skip("GPU test skipped in -short mode")
	}
	d, err := Open(0)
	if err != nil {
		if *gpuFlag {
			t.Fatalf("-gpu given but no usable GPU: %v", err)
		}
		t.Skipf("no GPU: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Error(err)
		}
	})
	t.Logf("%s (sm_%d%d, %d SMs, %.1f GiB, driver %d)", d.Name, d.Major, d.Minor, d.SMs, float64(d.TotalMem)/(1<<30), d.DriverVer)
	return d
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// upload allocates a block for v and copies v into it.
func upload(t *testing.T, d *Device, v []float32) *Block {
	t.Helper()
	b, err := d.Alloc(len(v), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Upload(b, v); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(t *testing.T, d *Device, b *Block, n int) []float32 {
	t.Helper()
	v := make([]float32, n)
	if err := d.Download(v, b); err != nil {
		t.Fatal(err)
	}
	return v
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	worst, at := 0.0, -1
	for i := range want {
		e := math.Abs(float64(got[i])-float64(want[i])) / math.Max(1, math.Abs(float64(want[i])))
		if e > worst || math.IsNaN(e) {
			worst, at = e, i
		}
	}
	if worst > tol {
		t.Errorf("%s: max error %.3g at %d (got %g, want %g)", what, worst, at, got[at], want[at])
	} else {
		t.Logf("%s: max relative error %.3g", what, worst)
	}
}

func launch(t *testing.T, m *Module, name string, n int, args ...any) {
	t.Helper()
	f, err := m.Function(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := (*Stream)(nil).Launch(f, Grid1D(n, 256), Dim3{256, 1, 1}, 0, args...); err != nil {
		t.Fatal(err)
	}
}

// TestGPUKernels allocates, copies, compiles the kernel unit with NVRTC,
// runs kernels and compares each with the CPU kernels of internal/kernels.
func TestGPUKernels(t *testing.T) {
	d := openGPU(t)
	m, err := d.Kernels()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(19, 1))
	const n = 100003
	a, b := randVec(r, n), randVec(r, n)
	da, db := upload(t, d, a), upload(t, d, b)
	out, _ := d.Alloc(n, nil)

	launch(t, m, "add_f32", n, out, da, db, n)
	want := make([]float32, n)
	for i := range want {
		want[i] = a[i] + b[i]
	}
	closeTo(t, "add_f32", download(t, d, out, n), want, 0)

	launch(t, m, "relu_fwd", n, out, da, n)
	for i := range want {
		want[i] = max(a[i], 0)
	}
	closeTo(t, "relu_fwd", download(t, d, out, n), want, 0)

	// relu_bwd against kernels.ReLUMask (y = a as the forward output).
	launch(t, m, "relu_bwd", n, out, da, db, n)
	copy(want, b)
	kernels.ReLUMask(a, want)
	closeTo(t, "relu_bwd", download(t, d, out, n), want, 0)

	// Max pooling against conv.MaxPool2dForward.
	p := conv.MaxPool2dParams{N: 4, C: 3, H: 32, W: 30, KH: 2, KW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1}
	x := randVec(r, p.N*p.C*p.H*p.W)
	no := p.N * p.C * p.OutH() * p.OutW()
	y, idx := make([]float32, no), make([]int32, no)
	conv.MaxPool2dForward(p, x, y, idx)
	dx, dy, didx := upload(t, d, x), upload(t, d, make([]float32, no)), upload(t, d, make([]float32, no))
	launch(t, m, "maxpool2x2_fwd", no, dy, didx, dx, p.N*p.C, p.H, p.W)
	closeTo(t, "maxpool2x2_fwd", download(t, d, dy, no), y, 0)

	// Adam against kernels.AdamStep.
	pv, g := randVec(r, n), randVec(r, n)
	mv, vv := make([]float32, n), make([]float32, n)
	c := kernels.AdamCoef{B1: 0.9, B2: 0.999, C1: 0.1, C2: 0.001, BC2Sqrt: float32(math.Sqrt(1 - 0.999)), NegStep: -0.001 / (1 - 0.9), Eps: 1e-8}
	dp, dg, dm, dv := upload(t, d, pv), upload(t, d, g), upload(t, d, mv), upload(t, d, vv)
	kernels.AdamStep(kernels.AdamPlain, pv, g, mv, vv, &c)
	launch(t, m, "adam_step", n, dp, dg, dm, dv, n, 0, c.B1, c.B2, c.C1, c.C2, c.BC2Sqrt, c.NegStep, c.Eps, c.WD, c.Decay)
	closeTo(t, "adam_step", download(t, d, dp, n), pv, 1e-5)

	// Softmax cross-entropy against a float64 reference.
	rows, k := 257, 10
	logits := randVec(r, rows*k)
	labels := make([]float32, rows) // int32 bits, uploaded as floats' bits
	wantLoss := make([]float32, rows)
	for i := range rows {
		y := r.IntN(k)
		labels[i] = math.Float32frombits(uint32(y))
		mx := math.Inf(-1)
		for j := range k {
			mx = math.Max(mx, float64(logits[i*k+j]))
		}
		s := 0.0
		for j := range k {
			s += math.Exp(float64(logits[i*k+j]) - mx)
		}
		wantLoss[i] = float32(math.Log(s) + mx - float64(logits[i*k+y]))
	}
	dl, dlab := upload(t, d, logits), upload(t, d, labels)
	dloss, _ := d.Alloc(rows, nil)
	dprob, _ := d.Alloc(rows*k, nil)
	launch(t, m, "softmax_xent_fwd", rows*32, dloss, dprob, dl, dlab, rows, k)
	closeTo(t, "softmax_xent_fwd", download(t, d, dloss, rows), wantLoss, 1e-5)

	if err := d.Synchronize(); err != nil {
		t.Fatal(err)
	}
	st := d.Allocator().Stats()
	t.Logf("allocator: %+v", st)
}

// TestGPUSgemm checks cuBLAS SGEMM, in all four transpose cases, against
// kernels.Sgemm.
func TestGPUSgemm(t *testing.T) {
	d := openGPU(t)
	blas, err := d.NewBlas(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	defer blas.Destroy()
	r := rand.New(rand.NewPCG(19, 2))
	m, n, k := 67, 45, 129
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		a, b, c := randVec(r, m*k), randVec(r, k*n), randVec(r, m*n)
		lda, ldb := k, n
		if tr[0] {
			lda = m
		}
		if tr[1] {
			ldb = k
		}
		da, db, dc := upload(t, d, a), upload(t, d, b), upload(t, d, c)
		kernels.Sgemm(tr[0], tr[1], m, n, k, 1.5, a, lda, b, ldb, 0.5, c, n)
		if err := blas.Sgemm(tr[0], tr[1], m, n, k, 1.5, da, lda, db, ldb, 0.5, dc, n); err != nil {
			t.Fatal(err)
		}
		closeTo(t, "sgemm", download(t, d, dc, m*n), c, 1e-4)
	}
}

// TestGPUStreamsAndErrors uploads on one stream while another waits on an
// event, times the GPU, and checks that a bad launch comes back as a named
// CUDA error.
func TestGPUStreamsAndErrors(t *testing.T) {
	d := openGPU(t)
	m, err := d.Kernels()
	if err != nil {
		t.Fatal(err)
	}
	up, comp := must(d.NewStream()), must(d.NewStream())
	start, uploaded, end := must(d.NewEvent(true)), must(d.NewEvent(false)), must(d.NewEvent(true))
	const n = 1 << 20
	h := must(d.NewHostBuffer(n))
	for i := range h.Data {
		h.Data[i] = float32(i % 7)
	}
	blk := must(d.Alloc(n, comp))
	fill := must(m.Function("scale_f32"))
	okErr(t, start.Record(comp))
	okErr(t, up.UploadAsync(blk, h, n))
	okErr(t, uploaded.Record(up))
	okErr(t, comp.Wait(uploaded))
	okErr(t, comp.Launch(fill, Grid1D(n, 256), Dim3{256, 1, 1}, 0, blk, blk, float32(2), n))
	okErr(t, comp.DownloadAsync(h, blk, n))
	okErr(t, end.Record(comp))
	okErr(t, end.Synchronize())
	for i, v := range h.Data {
		if v != float32(2*(i%7)) {
			t.Fatalf("h[%d] = %g after upload, scale, download", i, v)
		}
	}
	ms := must(end.Since(start))
	t.Logf("upload+scale+download of 4 MiB: %.3f ms GPU time", ms)
	// A block of 2048 threads exceeds every GPU's 1024 limit.
	err = comp.Launch(fill, Dim3{1, 1, 1}, Dim3{2048, 1, 1}, 0, blk, blk, float32(1), n)
	var ce *Error
	if !errors.As(err, &ce) || ce.API != Driver {
		t.Errorf("oversized block: err = %v, want a CUresult error", err)
	} else {
		t.Logf("oversized block: %v", err)
	}
	for _, c := range []interface{ Destroy() error }{up, comp, start, uploaded, end} {
		okErr(t, c.Destroy())
	}
	okErr(t, h.Free())
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func okErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
