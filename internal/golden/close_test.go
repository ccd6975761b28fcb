package golden

import (
	"math"
	"strings"
	"testing"
)

func TestClose(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name       string
		got, want  []float32
		rtol, atol float64
		ok         bool
		msg        []string // substrings of the failure message
	}{
		{"equal", []float32{1, -2, 0}, []float32{1, -2, 0}, 0, 0, true, nil},
		{"within rtol", []float32{1.0001, 100.01}, []float32{1, 100}, 2e-4, 0, true, nil},
		{"within atol near zero", []float32{1e-7}, []float32{0}, 1e-3, 1e-6, true, nil},
		{"beyond rtol", []float32{1.01}, []float32{1}, 1e-3, 0, false, []string{"1 of 1", "[0]", "got 1.00999999", "want 1"}},
		{"worst of several", []float32{1.01, 2, 3.5, 4.02}, []float32{1, 2, 3, 4}, 1e-3, 0, false,
			[]string{"3 of 4", "worst [2]", "got 3.5 want 3", "rel err 0.167"}},
		{"zero tolerance", []float32{1e-30}, []float32{0}, 0, 0, false, []string{"worst [0]"}},
		{"length", []float32{1}, []float32{1, 2}, 1, 1, false, []string{"got 1 values, want 2"}},
		{"nan matches nan", []float32{nan}, []float32{nan}, 0, 0, true, nil},
		{"nan vs number", []float32{1, nan}, []float32{1, 1}, 1, 1, false, []string{"worst [1]", "NaN"}},
		{"number vs nan", []float32{1}, []float32{nan}, 1, 1, false, []string{"worst [0]"}},
		{"inf matches inf", []float32{inf, -inf}, []float32{inf, -inf}, 0, 0, true, nil},
		{"inf vs big", []float32{inf}, []float32{3e38}, 1, 1, false, []string{"+Inf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ok bool
			f := withFake(func(tb testing.TB) { ok = Close(tb, "what", tc.got, tc.want, tc.rtol, tc.atol) })
			if ok != tc.ok || f.failed() == tc.ok {
				t.Fatalf("Close = %v with msgs %q, want %v", ok, f.msgs, tc.ok)
			}
			if f.fatal {
				t.Error("Close must not stop the test")
			}
			for _, m := range tc.msg {
				if !strings.Contains(f.text(), m) || !strings.HasPrefix(f.text(), "what: ") {
					t.Errorf("message %q lacks %q or the what prefix", f.text(), m)
				}
			}
		})
	}
}
