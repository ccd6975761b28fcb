package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// gemmCase is one Sgemm call; pad adds to the minimum leading dimensions.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d",
		tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// sentinel marks C's padding columns, which Sgemm must never touch.
const sentinel = float32(-12345.5)

// gemmOperands holds random inputs for a case plus the float64 reference.
type gemmOperands struct {
	a, b, c0      []float32
	lda, ldb, ldc int
	want, bound   []float64 // reference result and its error scale per element
}

func newOperands(tc gemmCase, rng *rand.Rand) *gemmOperands {
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = ac, ar
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = bc, br
	}
	o := &gemmOperands{lda: ac + tc.pad, ldb: bc + tc.pad, ldc: tc.n + tc.pad}
	o.a = randSlice(rng, max(ar*o.lda, 1))
	o.b = randSlice(rng, max(br*o.ldb, 1))
	o.c0 = randSlice(rng, max(tc.m*o.ldc, 1))
	for i := 0; i < tc.m; i++ {
		for j := tc.n; j < o.ldc; j++ {
			o.c0[i*o.ldc+j] = sentinel
		}
	}
	if tc.beta == 0 {
		// beta == 0 must overwrite C without reading it.
		for i := 0; i < tc.m; i++ {
			for j := 0; j < tc.n; j++ {
				o.c0[i*o.ldc+j] = float32(math.NaN())
			}
		}
	}
	o.want = make([]float64, tc.m*tc.n)
	o.bound = make([]float64, tc.m*tc.n)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var s, abs float64
			for p := 0; p < tc.k; p++ {
				ai, bi := i*o.lda+p, p*o.ldb+j
				if tc.transA {
					ai = p*o.lda + i
				}
				if tc.transB {
					bi = j*o.ldb + p
				}
				av, bv := float64(o.a[ai]), float64(o.b[bi])
				s += av * bv
				abs += math.Abs(av * bv)
			}
			w := float64(tc.alpha) * s
			bnd := math.Abs(float64(tc.alpha)) * abs
			if tc.beta != 0 {
				cv := float64(o.c0[i*o.ldc+j])
				w += float64(tc.beta) * cv
				bnd += math.Abs(float64(tc.beta) * cv)
			}
			o.want[i*tc.n+j] = w
			o.bound[i*tc.n+j] = bnd
		}
	}
	return o
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

// checkResult compares c with the reference: each element may be off by
// (k+4) float32 roundings of its sum of |terms|, the classic bound for a
// dot product accumulated in float32.
func (o *gemmOperands) checkResult(t *testing.T, tc gemmCase, c []float32) {
	t.Helper()
	tol := float64(tc.k+4) * 0x1p-24
	bad := 0
	for i := 0; i < tc.m; i++ {
		for j := 0; j < o.ldc; j++ {
			got := c[i*o.ldc+j]
			if j >= tc.n {
				if got != sentinel {
					t.Fatalf("%v: C[%d][%d] is padding but became %g", tc, i, j, got)
				}
				continue
			}
			want := o.want[i*tc.n+j]
			if d := math.Abs(float64(got) - want); !(d <= tol*o.bound[i*tc.n+j]+1e-30) {
				if bad++; bad <= 3 {
					t.Errorf("%v: C[%d][%d] = %g, want %g (bound %g)", tc, i, j, got, want, tol*o.bound[i*tc.n+j])
				}
			}
		}
	}
	if bad > 3 {
		t.Errorf("%v: %d elements wrong", tc, bad)
	}
}

// runCase runs tc through kernel kn on threads goroutines (kn == nil means
// the public Sgemm) and checks the result.
func runCase(t *testing.T, tc gemmCase, kn *microKernel, threads int, rng *rand.Rand) {
	t.Helper()
	o := newOperands(tc, rng)
	c := append([]float32(nil), o.c0...)
	if kn == nil {
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c, o.ldc)
	} else {
		g := gemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c, o.ldc}
		sgemmParallel(kn, threads, &g)
	}
	o.checkResult(t, tc, c)
}

// gemmShapes lists the (m, n, k) shapes every kernel is checked on: odd sizes
// straddling every tile edge, degenerate 1s, tall and skinny matrices and a
// size that spans several KC and MC blocks.
func gemmShapes() [][3]int {
	var s [][3]int
	for x := 1; x <= 70; x += 2 {
		s = append(s, [3]int{x, x, x}, [3]int{x, 71 - x, (x*7)%23 + 1})
	}
	s = append(s,
		[3]int{1, 1, 1}, [3]int{1, 1, 300}, [3]int{1, 300, 1}, [3]int{300, 1, 1},
		[3]int{1, 77, 33}, [3]int{77, 1, 33}, [3]int{33, 77, 1},
		[3]int{1000, 3, 17}, [3]int{3, 1000, 17}, [3]int{5, 7, 1000},
		[3]int{200, 300, 600}, [3]int{300, 50, 257},
	)
	return s
}

func TestSgemmShapes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 0))
	for i, s := range gemmShapes() {
		tc := gemmCase{transA: i%2 == 1, transB: i%3 == 1, m: s[0], n: s[1], k: s[2],
			alpha: []float32{1, 0.5, -2}[i%3], beta: []float32{0, 1, 0.3}[(i/3)%3], pad: (i % 4) * 3}
		runCase(t, tc, nil, Threads(), rng)
	}
}

func TestSgemmTransposeAlphaBeta(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 0))
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, alpha := range []float32{1, 0.5, -2} {
				for _, beta := range []float32{0, 1, 0.3} {
					for _, s := range [][3]int{{37, 45, 29}, {15, 33, 70}} {
						tc := gemmCase{ta, tb, s[0], s[1], s[2], alpha, beta, 5}
						runCase(t, tc, nil, Threads(), rng)
					}
				}
			}
		}
	}
}

func TestSgemm512(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 0))
	runCase(t, gemmCase{m: 512, n: 512, k: 512, alpha: 1, beta: 0}, nil, Threads(), rng)
	runCase(t, gemmCase{transA: true, transB: true, m: 512, n: 512, k: 512, alpha: -2, beta: 0.3, pad: 3}, nil, Threads(), rng)
}

// TestSgemmEveryKernel calls each kernel this CPU can run directly, so the
// AVX2 kernel is tested on AVX-512 machines too, and makes each read an
// untransposed B both in place and packed whatever the shape.
func TestSgemmEveryKernel(t *testing.T) {
	kernels := availableKernels()
	t.Logf("kernels: %d, active %q", len(kernels), GemmKernelName())
	for _, kn := range kernels {
		for _, mode := range []struct {
			name string
			maxM int
		}{{"packedB", 0}, {"directB", math.MaxInt}} {
			kv := *kn
			kv.directBMaxM = mode.maxM
			t.Run(kn.name+"/"+mode.name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(4, 0))
				for i, s := range gemmShapes() {
					tc := gemmCase{transA: i%4 >= 2, transB: i%5 == 1, m: s[0], n: s[1], k: s[2],
						alpha: []float32{-2, 1, 0.5}[i%3], beta: []float32{0.3, 0, 1}[(i/3)%3], pad: i % 3}
					runCase(t, tc, &kv, 1, rng)
				}
			})
		}
	}
}

// forceParallel makes every problem split as far as threads allow, along M
// or (with splitN) along N, for the length of a test.
func forceParallel(t *testing.T, splitN bool) {
	oldFlops, oldRows, oldCols := parallelMinFlops, parallelMinRows, parallelMinCols
	parallelMinFlops, parallelMinRows, parallelMinCols = 0, 1, 1
	if splitN {
		parallelMinRows = math.MaxInt
	}
	t.Cleanup(func() { parallelMinFlops, parallelMinRows, parallelMinCols = oldFlops, oldRows, oldCols })
}

// TestSgemmThreadsBitIdentical checks that splitting the work changes no bit
// of the result, including splits that leave a goroutine few enough rows to
// read B in place.
func TestSgemmThreadsBitIdentical(t *testing.T) {
	t.Run("thresholds as shipped", testThreadsBitIdentical)
	for _, splitN := range []bool{false, true} {
		t.Run(fmt.Sprintf("splitN=%v", splitN), func(t *testing.T) {
			forceParallel(t, splitN)
			testThreadsBitIdentical(t)
		})
	}
}

func testThreadsBitIdentical(t *testing.T) {
	calls := parallelCalls.Load()
	rng := rand.New(rand.NewPCG(5, 0))
	shapes := []gemmCase{
		{m: 90, n: 2000, k: 75, alpha: 1, beta: 0},
		{transB: true, m: 500, n: 40, k: 300, alpha: 0.5, beta: 0.3, pad: 1},
		{transA: true, m: 200, n: 161, k: 300, alpha: -2, beta: 1, pad: 2},
		{m: 37, n: 129, k: 513, alpha: 1, beta: 0.3, pad: 3},
		// The seed CNN's first linear layer at batch 32: forward, and
		// the two gradients; split only from wideThreads goroutines
		// unless forced.
		{transB: true, m: 32, n: 128, k: 1600, alpha: 1, beta: 0},
		{m: 32, n: 1600, k: 128, alpha: 1, beta: 0},
		{transA: true, m: 128, n: 1600, k: 32, alpha: 1, beta: 1},
	}
	for _, tc := range shapes {
		o := newOperands(tc, rng)
		for _, kn := range availableKernels() {
			var first []float32
			for _, threads := range []int{1, 2, 3, 4, 8, 16} {
				c := append([]float32(nil), o.c0...)
				g := gemmArgs{tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, o.a, o.lda, o.b, o.ldb, tc.beta, c, o.ldc}
				sgemmParallel(kn, threads, &g)
				if first == nil {
					first = c
					o.checkResult(t, tc, c)
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("%s %v: threads=%d differs from 1 thread at %d: %g vs %g", kn.name, tc, threads, i, c[i], first[i])
					}
				}
			}
		}
	}
	if parallelCalls.Load() == calls {
		t.Fatal("no call ran on the workers: the parallel path never ran")
	}
}

func TestSgemmTrivial(t *testing.T) {
	nan := float32(math.NaN())
	// alpha == 0 must not read A or B; beta == 0 must not read C.
	a := []float32{nan, nan, nan, nan}
	c := []float32{nan, nan, 7, 8}
	Sgemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 0, c, 2)
	for i, v := range c {
		if v != 0 {
			t.Fatalf("alpha=0 beta=0: c[%d] = %g, want 0", i, v)
		}
	}
	c = []float32{1, 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0.5, c, 2)
	for i, want := range []float32{0.5, 1, 1.5, 2} {
		if c[i] != want {
			t.Fatalf("k=0: c[%d] = %g, want %g", i, c[i], want)
		}
	}
	Sgemm(false, false, 0, 5, 5, 1, nil, 5, nil, 5, 0, nil, 5) // must not panic
}

func TestSgemmPanicsOnShortSlices(t *testing.T) {
	buf := make([]float32, 12)
	cases := []struct {
		name string
		call func()
	}{
		{"short A", func() { Sgemm(false, false, 3, 3, 3, 1, buf[:8], 3, buf, 3, 0, buf, 3) }},
		{"short B", func() { Sgemm(false, true, 3, 3, 3, 1, buf, 3, buf[:8], 3, 0, buf, 3) }},
		{"short C", func() { Sgemm(false, false, 3, 3, 3, 1, buf, 3, buf, 3, 0, buf[:8], 3) }},
		{"small ldc", func() { Sgemm(false, false, 3, 3, 3, 1, buf, 3, buf, 3, 0, buf, 2) }},
		{"small lda", func() { Sgemm(true, false, 3, 4, 2, 1, buf, 2, buf, 4, 0, buf, 4) }},
		{"negative m", func() { Sgemm(false, false, -1, 3, 3, 1, buf, 3, buf, 3, 0, buf, 3) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			tc.call()
		})
	}
}

func TestSgemmNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under -race")
	}
	forceParallel(t, false)
	rng := rand.New(rand.NewPCG(6, 0))
	for _, tc := range []struct {
		name    string
		m, n, k int
		threads int
	}{
		{"serial", 100, 130, 70, 1},
		{"parallel", 256, 256, 256, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := threadSetting.Load()
			defer threadSetting.Store(old)
			SetThreads(tc.threads)
			a := randSlice(rng, tc.m*tc.k)
			b := randSlice(rng, tc.k*tc.n)
			c := make([]float32, tc.m*tc.n)
			call := func() { Sgemm(false, true, tc.m, tc.n, tc.k, 1, a, tc.k, b, tc.k, 0.5, c, tc.n) }
			call()
			if n := testing.AllocsPerRun(20, call); n != 0 {
				t.Fatalf("Sgemm allocates %.1f times per call", n)
			}
		})
	}
}

func TestSetThreads(t *testing.T) {
	old := threadSetting.Load()
	defer threadSetting.Store(old)
	SetThreads(3)
	if got := Threads(); got != 3 {
		t.Fatalf("Threads() = %d after SetThreads(3)", got)
	}
	if got := ThreadSetting(); got != 3 {
		t.Fatalf("ThreadSetting() = %d after SetThreads(3)", got)
	}
	SetThreads(0)
	if got := Threads(); got != runtime.GOMAXPROCS(0) {
		t.Fatalf("Threads() = %d after SetThreads(0), want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	// Restoring the setting, not the count, follows GOMAXPROCS again.
	prev := ThreadSetting()
	SetThreads(5)
	SetThreads(prev)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	if got := Threads(); got != 1 {
		t.Fatalf("Threads() = %d after restoring the default under GOMAXPROCS 1", got)
	}
}

func TestGemmKernelName(t *testing.T) {
	name := GemmKernelName()
	switch name {
	case "avx512", "avx2", "generic":
	default:
		t.Fatalf("GemmKernelName() = %q", name)
	}
	if ks := availableKernels(); ks[0].name != name {
		t.Fatalf("active kernel %q is not the fastest available %q", name, ks[0].name)
	}
}

func TestRowsSpreadInL2(t *testing.T) {
	for _, tc := range []struct {
		ld, kc int
		want   bool
	}{
		{100, 256, true},   // small span: fits whatever the stride
		{3200, 256, true},  // conv2 im2col on batch 32
		{25088, 75, true},  // conv1 im2col on batch 32
		{4128, 256, true},  // 4 KiB + 128 bytes walks across the sets
		{4096, 256, false}, // 16 KiB stride: 4 sets
		{8192, 256, false}, // 32 KiB stride: 2 sets
		{512, 256, true},   // 2 KiB stride: 64 sets hold its 512 lines
		{25088, 256, true}, // conv1-sized rows of a deeper B
		{4096, 16, true},   // few rows fit even in 4 sets
	} {
		if got := rowsSpreadInL2(tc.ld, tc.kc); got != tc.want {
			t.Errorf("rowsSpreadInL2(%d, %d) = %v, want %v", tc.ld, tc.kc, got, tc.want)
		}
	}
}
