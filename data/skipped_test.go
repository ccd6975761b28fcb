package data

import "testing"

func TestSkipSummary(t *testing.T) {
	type skip struct{ path, why string }
	describe := func(s skip) (string, string) { return s.path, s.why }
	four := []skip{{"a", "bad"}, {"b", "worse"}, {"c", "empty"}, {"d", "huge"}}
	tests := []struct {
		name            string
		skipped         []skip
		ignored, hidden int
		want            string
	}{
		{"clean", nil, 0, 0, ""},
		{"one skipped", four[:1], 0, 0, "; skipped 1: a (bad)"},
		{"three named in full", four[:3], 0, 0, "; skipped 3: a (bad), b (worse), c (empty)"},
		{"more than three", four, 0, 0, "; skipped 4: a (bad), b (worse), c (empty), and 1 more"},
		{"hidden alone still names both counts", nil, 0, 2, "; ignored 0 other files and 2 hidden entries"},
		{"both parts", four[:1], 3, 1, "; skipped 1: a (bad); ignored 3 other files and 1 hidden entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SkipSummary(tt.skipped, describe, tt.ignored, tt.hidden); got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}
