package source

// This file prints a StatsReport as kiln data stats shows it.

import (
	"fmt"
	"io"
	"strings"
)

// WriteText prints the report as kiln data stats shows it.
func (r *StatsReport) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "%s: %s", r.Data, r.Source)
	if r.Decode != "" {
		fmt.Fprintf(w, " (images decoded %s)", r.Decode)
	}
	fmt.Fprintln(w)
	for _, s := range r.Splits {
		fmt.Fprintf(w, "\n%s: %d examples of %v", s.Split, s.Examples, s.Shape)
		if s.Dir != "" {
			fmt.Fprintf(w, " in %s", s.Dir)
		}
		fmt.Fprintln(w)
		if len(s.Classes) > 0 {
			width := len("class")
			for _, c := range s.Classes {
				width = max(width, len(c.Class))
			}
			fmt.Fprintf(w, "  %-*s  %7s  %6s\n", width, "class", "count", "share")
			for _, c := range s.Classes {
				fmt.Fprintf(w, "  %-*s  %7d  %5.1f%%\n", width, c.Class, c.Count, 100*c.Share)
			}
			if s.Imbalance < 0 {
				fmt.Fprintln(w, "  balance: some class has no examples")
			} else {
				fmt.Fprintf(w, "  balance: the largest class has %.2fx the examples of the smallest\n", s.Imbalance)
			}
		} else {
			fmt.Fprintln(w, "  no classes (unlabelled images)")
		}
		fmt.Fprintf(w, "  channel mean %s\n  channel std  %s\n", floats(s.Mean), floats(s.Std))
		if len(s.Duplicates) == 0 {
			fmt.Fprintln(w, "  duplicates: none")
		} else {
			n := 0
			for _, g := range s.Duplicates {
				n += len(g)
			}
			fmt.Fprintf(w, "  duplicates: %s of identical examples, %d examples in all\n", plural(len(s.Duplicates), "group"), n)
			for _, g := range s.Duplicates[:min(10, len(s.Duplicates))] {
				fmt.Fprintf(w, "    %s\n", strings.Join(g, " = "))
			}
			if len(s.Duplicates) > 10 {
				fmt.Fprintf(w, "    and %d more groups\n", len(s.Duplicates)-10)
			}
		}
		if d := s.Deep; d != nil {
			writeDeep(w, d)
		}
		if s.Found > 0 || len(s.Skipped) > 0 {
			fmt.Fprintf(w, "  files: kept %d of %d images", s.Examples, s.Found)
			if s.Ignored > 0 || s.Hidden > 0 {
				fmt.Fprintf(w, "; ignored %d other files and %d hidden entries", s.Ignored, s.Hidden)
			}
			fmt.Fprintln(w)
			for _, sk := range s.Skipped {
				fmt.Fprintf(w, "    skipped %s: %s\n", sk.Path, sk.Reason)
			}
		}
	}
	if len(r.Splits) == 2 {
		if len(r.CrossSplit) == 0 {
			fmt.Fprintln(w, "\nacross splits: no test example is a copy of a training example")
		} else {
			fmt.Fprintf(w, "\nacross splits: %s (they inflate the test score):\n",
				plural(len(r.CrossSplit), "test example is a copy of a training example", "test examples are copies of training examples"))
			for _, g := range r.CrossSplit[:min(10, len(r.CrossSplit))] {
				fmt.Fprintf(w, "  %s = %s\n", g[0], g[1])
			}
			if len(r.CrossSplit) > 10 {
				fmt.Fprintf(w, "  and %d more\n", len(r.CrossSplit)-10)
			}
		}
	}
	return nil
}

// writeDeep reports 16-bit images, warning where the decode mode changes
// what a model sees.
func writeDeep(w io.Writer, d *DeepStats) {
	fmt.Fprintf(w, "  16-bit: %s (%d grey), samples %d-%d\n", plural(d.Images, "image"), d.Grey, d.Min, d.Max)
	if d.Packed > 0 {
		fmt.Fprintf(w, "    %s 8-bit values stored in 16 bits (every sample <= 255): decoded as they are, as Pillow does\n",
			plural(d.Packed, "grey image holds", "grey images hold"))
	}
	if wide := d.Grey - d.Packed; wide > 0 {
		fmt.Fprintf(w, "    warning: %s the whole 16-bit range: kiln scales them by the high byte, as a viewer shows them;\n"+
			"    Pillow and torchvision (and kiln --decode pil) clip them to white, e.g. %s\n",
			plural(wide, "grey image uses", "grey images use"), strings.Join(d.Wide[:min(3, len(d.Wide))], ", "))
	}
}

func floats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.4f", x)
	}
	return strings.Join(parts, " ")
}

// plural returns "1 thing" or "n things" (or the given plural form).
func plural(n int, one string, many ...string) string {
	if n == 1 {
		return "1 " + one
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
