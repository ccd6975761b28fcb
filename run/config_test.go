package run

import (
	"slices"
	"strings"
	"testing"
)

func TestParseClassNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  string
	}{
		{"", nil, ""},
		{"3", []string{"0", "1", "2"}, ""},
		{" cat , dog ", []string{"cat", "dog"}, ""},
		{"1", nil, "want 2 to 65536"},
		{"cat", nil, "at least two"},
		{"cat,,dog", nil, "class 2 is empty"},
		{"cat,cat", nil, "class 2 is empty or repeated"},
	} {
		got, err := ParseClassNames(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "--classes ") {
				t.Errorf("%q: %v, want an error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, %v", tc.in, got, err)
		}
	}
}
