package conv

import "testing"

// TestOutputSizes pins the output-size rules to shapes PyTorch produces for
// well-known layers and to the ceil-mode corner cases of its
// pooling_output_shape.
func TestOutputSizes(t *testing.T) {
	conv := []struct {
		name            string
		in, k, s, pd, d int
		want            int
	}{
		{"LeNet-style 5x5 on 32", 32, 5, 1, 0, 1, 28},
		{"5x5 on 14", 14, 5, 1, 0, 1, 10},
		{"ResNet stem 7x7/2 pad 3", 224, 7, 2, 3, 1, 112},
		{"3x3/2 pad 1 on 56", 56, 3, 2, 1, 1, 28},
		{"dilated 3x3 on 7", 7, 3, 1, 0, 2, 3},
		{"1x1/2 on 7", 7, 1, 2, 0, 1, 4},
	}
	for _, c := range conv {
		p := Conv2dParams{H: c.in, W: c.in, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s,
			PadH: c.pd, PadW: c.pd, DilH: c.d, DilW: c.d}
		if p.OutH() != c.want || p.OutW() != c.want {
			t.Errorf("conv %s: %dx%d, want %d", c.name, p.OutH(), p.OutW(), c.want)
		}
	}
	pool := []struct {
		name            string
		in, k, s, pd, d int
		ceil            bool
		want            int
	}{
		{"2x2/2 on 28", 28, 2, 2, 0, 1, false, 14},
		{"2x2/2 on 7 floor", 7, 2, 2, 0, 1, false, 3},
		{"2x2/2 on 7 ceil", 7, 2, 2, 0, 1, true, 4},
		{"ResNet 3x3/2 pad 1 on 112", 112, 3, 2, 1, 1, false, 56},
		{"AlexNet 3x3/2 on 55", 55, 3, 2, 0, 1, false, 27},
		{"GoogLeNet 3x3/2 ceil on 112", 112, 3, 2, 0, 1, true, 56},
		{"GoogLeNet 3x3/2 ceil on 56", 56, 3, 2, 0, 1, true, 28},
		{"ceil window starting in padding dropped", 3, 2, 2, 1, 1, true, 2},
		{"ceil window starting in input kept", 4, 2, 2, 1, 1, true, 3},
		{"dilated 3x3 pad 1 on 9", 9, 3, 2, 1, 2, false, 4},
	}
	for _, c := range pool {
		p := MaxPool2dParams{H: c.in, W: c.in, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s,
			PadH: c.pd, PadW: c.pd, DilH: c.d, DilW: c.d, CeilMode: c.ceil}
		if p.OutH() != c.want || p.OutW() != c.want {
			t.Errorf("max pool %s: %dx%d, want %d", c.name, p.OutH(), p.OutW(), c.want)
		}
		if c.d == 1 {
			a := AvgPool2dParams{H: c.in, W: c.in, KH: c.k, KW: c.k, StrideH: c.s, StrideW: c.s,
				PadH: c.pd, PadW: c.pd, CeilMode: c.ceil}
			if a.OutH() != c.want || a.OutW() != c.want {
				t.Errorf("avg pool %s: %dx%d, want %d", c.name, a.OutH(), a.OutW(), c.want)
			}
		}
	}
}
