package transform

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func noise(w, h, c int, seed uint64) *Image {
	r := rand.New(rand.NewPCG(seed, 1))
	m := NewImage(w, h, c)
	for i := range m.Pix {
		m.Pix[i] = uint8(r.IntN(256))
	}
	return m
}

// allTransforms is one of each transform, random ones included.
func allTransforms() []Transform {
	return []Transform{
		Resize{Size: 9},
		Resize{H: 5, W: 12, Interp: Nearest},
		Resize{Size: 20, Interp: Bicubic},
		CenterCrop{H: 7, W: 15},
		RandomCrop{H: 8, W: 8, Padding: [4]int{2, 2, 2, 2}, Mode: PadReflect},
		RandomCrop{H: 30, W: 30, PadIfNeeded: true, Fill: []uint8{9}},
		RandomResizedCrop{H: 6, W: 10},
		RandomHorizontalFlip{P: 0.5},
		RandomVerticalFlip{P: 0.5},
		RandomRotation{Degrees: [2]float64{-30, 30}, Interp: Bilinear},
		ColorJitter{0.4, 0.4, 0.4, 0.1},
		Grayscale{Channels: 3},
		Grayscale{Channels: 1},
	}
}

// TestOutSizeMatchesApply checks that every transform's OutSize predicts the
// image Apply makes, with and without randomness, so datasets can trust it.
func TestOutSizeMatchesApply(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tr := range allTransforms() {
		for _, sz := range [][3]int{{17, 11, 3}, {11, 17, 3}, {4, 4, 1}, {40, 9, 3}} {
			for _, r := range []*rand.Rand{nil, rng} {
				m := noise(sz[0], sz[1], sz[2], 3)
				ow, oh, oc := tr.OutSize(sz[0], sz[1], sz[2])
				out := tr.Apply(m, r)
				if out.W != ow || out.H != oh || out.C != oc || len(out.Pix) != ow*oh*oc {
					t.Errorf("%s on %v: Apply gave %dx%dx%d (%d bytes), OutSize said %dx%dx%d",
						tr, sz, out.W, out.H, out.C, len(out.Pix), ow, oh, oc)
				}
			}
		}
	}
}

// TestNilRNGIsIdentityForAugmentations checks the evaluation-time meaning of
// a nil rng: flips, rotation and jitter leave the image alone.
func TestNilRNGIsIdentityForAugmentations(t *testing.T) {
	for _, tr := range []Transform{
		RandomHorizontalFlip{P: 1}, RandomVerticalFlip{P: 1},
		RandomRotation{Degrees: [2]float64{10, 20}}, ColorJitter{0.5, 0.5, 0.5, 0.5},
	} {
		m := noise(9, 7, 3, 4)
		want := slices.Clone(m.Pix)
		if got := tr.Apply(m, nil); !slices.Equal(got.Pix, want) {
			t.Errorf("%s with nil rng changed the image", tr)
		}
	}
	// RandomCrop with nil rng is the centre crop.
	m := noise(20, 16, 3, 5)
	got := RandomCrop{H: 8, W: 10}.Apply(m.Clone(), nil)
	if want := CenterCropImage(m, 8, 10); !slices.Equal(got.Pix, want.Pix) {
		t.Error("RandomCrop with nil rng is not the centre crop")
	}
}

func TestFlipProbability(t *testing.T) {
	for _, p := range []float64{0, 0.3, 1} {
		rng := rand.New(rand.NewPCG(7, 7))
		n, flips := 4000, 0
		for range n {
			if (RandomHorizontalFlip{P: p}).Params(rng) {
				flips++
			}
		}
		if got := float64(flips) / float64(n); math.Abs(got-p) > 0.03 {
			t.Errorf("P=%v flipped %.3f of the time", p, got)
		}
	}
	m := noise(5, 3, 3, 1)
	orig := m.Clone()
	HFlip(m)
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			for c := 0; c < 3; c++ {
				if m.Pix[(y*5+x)*3+c] != orig.Pix[(y*5+4-x)*3+c] {
					t.Fatalf("HFlip wrong at %d,%d", x, y)
				}
			}
		}
	}
	if VFlip(VFlip(m.Clone())); !slices.Equal(VFlip(VFlip(m.Clone())).Pix, m.Pix) {
		t.Fatal("VFlip twice is not the identity")
	}
}

func TestRandomCropParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	rc := RandomCrop{H: 5, W: 7}
	seen := map[[2]int]bool{}
	for range 2000 {
		p := rc.Params(10, 8, rng)
		if p.Top < 0 || p.Top > 3 || p.Left < 0 || p.Left > 3 || p.H != 5 || p.W != 7 {
			t.Fatalf("params %+v out of range", p)
		}
		seen[[2]int{p.Top, p.Left}] = true
	}
	if len(seen) != 16 {
		t.Errorf("saw %d of 16 crop positions", len(seen))
	}
	if p := rc.Params(7, 5, rng); p != (CropParams{0, 0, 5, 7}) {
		t.Errorf("exact-size crop gave %+v", p)
	}
}

func TestRandomResizedCropParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	t0 := RandomResizedCrop{H: 8, W: 8, Scale: [2]float64{0.2, 0.6}}
	for range 1000 {
		p := t0.Params(64, 48, rng)
		if p.Top < 0 || p.Left < 0 || p.Top+p.H > 48 || p.Left+p.W > 64 || p.H < 1 || p.W < 1 {
			t.Fatalf("crop %+v outside 64x48", p)
		}
		frac := float64(p.W*p.H) / (64 * 48)
		ratio := float64(p.W) / float64(p.H)
		// Rounding each side to an integer moves area and ratio a little.
		if frac < 0.18 || frac > 0.63 || ratio < 0.7 || ratio > 1.42 {
			t.Fatalf("crop %+v: area %.3f ratio %.3f outside the ranges", p, frac, ratio)
		}
	}
	// No draw can fit a 2:1..3:1 crop of the whole area of a square, so all ten
	// tries fail and torchvision's fallback takes the widest allowed centre crop.
	wide := RandomResizedCrop{H: 4, W: 4, Scale: [2]float64{1, 1}, Ratio: [2]float64{2, 3}}
	want := CropParams{Top: 25, Left: 0, H: 50, W: 100}
	if p := wide.Params(100, 100, rng); p != want {
		t.Errorf("fallback %+v, want %+v", p, want)
	}
	if p := wide.Params(100, 100, nil); p != want {
		t.Errorf("nil-rng crop %+v, want %+v", p, want)
	}
	tall := RandomResizedCrop{H: 4, W: 4, Ratio: [2]float64{0.2, 0.5}}
	if p := tall.Params(60, 20, nil); p != (CropParams{Top: 0, Left: 25, H: 20, W: 10}) {
		t.Errorf("tall fallback %+v", p)
	}
}

func TestColorJitterParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cj := ColorJitter{Brightness: 0.4, Contrast: 1.5, Hue: 0.2}
	orders := map[[4]int]bool{}
	for range 3000 {
		p := cj.Params(rng)
		o := p.Order
		s := o[:]
		sorted := slices.Clone(s)
		slices.Sort(sorted)
		if !slices.Equal(sorted, []int{0, 1, 2, 3}) {
			t.Fatalf("order %v is not a permutation", o)
		}
		orders[o] = true
		if p.Brightness < 0.6 || p.Brightness > 1.4 || p.Contrast < 0 || p.Contrast > 2.5 ||
			p.Saturation != 1 || p.Hue < -0.2 || p.Hue > 0.2 {
			t.Fatalf("factors out of range: %+v", p)
		}
	}
	if len(orders) != 24 {
		t.Errorf("saw %d of 24 orders", len(orders))
	}
}

func TestPadIndexMatchesNumpy(t *testing.T) {
	// numpy.pad(np.arange(4), 6, mode) for each mode.
	want := map[PadMode][]int{
		PadReflect:   {0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2, 3},
		PadSymmetric: {2, 3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0, 1},
		PadEdge:      {0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3, 3},
	}
	for mode, w := range want {
		var got []int
		for i := -6; i < 10; i++ {
			got = append(got, padIndex(i, 4, mode))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s: got %v want %v", mode, got, w)
		}
	}
}

func TestComposeTensor(t *testing.T) {
	p, err := Parse("resize=8,centercrop=6x4,normalize=0.5:0.5")
	if err != nil {
		t.Fatal(err)
	}
	if c, h, w := p.OutShape(30, 20, 3); c != 3 || h != 6 || w != 4 {
		t.Fatalf("OutShape %d,%d,%d", c, h, w)
	}
	x := make([]float32, 3*6*4)
	if err := p.Tensor(noise(30, 20, 3, 1), x, nil); err != nil {
		t.Fatal(err)
	}
	for _, v := range x {
		if v < -1 || v > 1 {
			t.Fatalf("normalized value %v outside [-1, 1]", v)
		}
	}
	if err := p.Tensor(noise(30, 20, 3, 1), make([]float32, 10), nil); err == nil {
		t.Error("Tensor into a short buffer did not fail")
	}
	var none *Compose
	y := make([]float32, 2*3)
	if err := none.Tensor(&Image{W: 3, H: 2, C: 1, Pix: []uint8{0, 51, 255, 0, 0, 0}}, y, nil); err != nil || y[1] != 0.2 || y[2] != 1 {
		t.Errorf("nil Compose: %v %v", y, err)
	}
	if err := (&Compose{Normalize: &Normalize{Mean: []float32{0, 0}, Std: []float32{1, 1}}}).Check(3); err == nil {
		t.Error("2-channel normalize passed Check for 3 channels")
	}
	if err := (&Compose{Steps: []Transform{Grayscale{Channels: 1}}, Normalize: &Normalize{Mean: []float32{0.5}, Std: []float32{0.2}}}).Check(3); err != nil {
		t.Errorf("grayscale then 1-channel normalize: %v", err)
	}
	if err := (&Compose{Steps: []Transform{RandomRotation{Fill: []uint8{1, 2}}}}).Check(3); err == nil || !strings.Contains(err.Error(), "fill") {
		t.Errorf("2-value fill on RGB: %v", err)
	}
}
