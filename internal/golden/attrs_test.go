package golden

import (
	"math"
	"strings"
	"testing"
)

func tinyCase(t *testing.T) Case {
	t.Helper()
	f, err := Parse(strings.NewReader(tiny))
	if err != nil {
		t.Fatal(err)
	}
	return f.Cases[0]
}

func TestAttrsRead(t *testing.T) {
	c := tinyCase(t)
	if got := c.Ints(t, "stride"); !equalInts(got, []int{2, 1}) {
		t.Errorf("Ints(stride) = %v", got)
	}
	if got := c.Floats(t, "stride"); len(got) != 2 || got[0] != 2 || got[1] != 1 {
		t.Errorf("Floats(stride) = %v", got)
	}
	if !c.Bool(t, "bias") {
		t.Error("Bool(bias) = false")
	}
	if got := c.Float(t, "eps"); got != 1e-5 {
		t.Errorf("Float(eps) = %g", got)
	}
	if got := c.Float(t, "norm_type"); !math.IsInf(got, 1) {
		t.Errorf("Float(norm_type) = %g, want +Inf", got)
	}
	if got := c.String(t, "op"); got != "relu" {
		t.Errorf("String(op) = %q", got)
	}
	if !c.HasAttr("eps") || c.HasAttr("momentum") {
		t.Error("HasAttr wrong")
	}
	if !c.Has("x") || c.Has("y") {
		t.Error("Has wrong")
	}
}

func TestAttrsFatal(t *testing.T) {
	c := tinyCase(t)
	c.Attrs["half"] = 2.5
	c.Attrs["mixed"] = []any{1.0, "a"}
	for _, tc := range []struct {
		name string
		call func(tb testing.TB)
		want string
	}{
		{"missing tensor", func(tb testing.TB) { c.T(tb, "nope") }, `no tensor "nope"`},
		{"scalar of matrix", func(tb testing.TB) { c.Scalar(tb, "x") }, "want one element"},
		{"missing attr", func(tb testing.TB) { c.Int(tb, "nope") }, `no attr "nope"`},
		{"int of fraction", func(tb testing.TB) { c.Int(tb, "half") }, "want an integer"},
		{"int of list", func(tb testing.TB) { c.Int(tb, "stride") }, "want an integer"},
		{"float of bool", func(tb testing.TB) { c.Float(tb, "bias") }, "want a number"},
		{"float of other string", func(tb testing.TB) { c.Float(tb, "op") }, "want a number"},
		{"bool of number", func(tb testing.TB) { c.Bool(tb, "eps") }, "want a boolean"},
		{"string of number", func(tb testing.TB) { c.String(tb, "eps") }, "want a string"},
		{"ints of scalar", func(tb testing.TB) { c.Ints(tb, "eps") }, "want a list of integers"},
		{"ints of mixed", func(tb testing.TB) { c.Ints(tb, "mixed") }, `"mixed"[1]`},
		{"floats of mixed", func(tb testing.TB) { c.Floats(tb, "mixed") }, `"mixed"[1]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := withFake(tc.call)
			if !f.fatal || !strings.Contains(f.text(), tc.want) {
				t.Fatalf("fatal=%v msgs=%q, want a fatal containing %q", f.fatal, f.msgs, tc.want)
			}
		})
	}
}
