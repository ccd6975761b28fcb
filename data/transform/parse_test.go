package transform

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want *Compose
	}{
		{"", &Compose{}},
		{"resize=32,randomcrop=32:4,hflip", &Compose{Steps: []Transform{
			Resize{Size: 32}, RandomCrop{H: 32, W: 32, Padding: [4]int{4, 4, 4, 4}}, RandomHorizontalFlip{P: 0.5}}}},
		{"resize=24x40:nearest,centercrop=20x30", &Compose{Steps: []Transform{
			Resize{H: 24, W: 40, Interp: Nearest}, CenterCrop{H: 20, W: 30}}}},
		{"randomcrop=16:pad=1/2:reflect:padifneeded", &Compose{Steps: []Transform{
			RandomCrop{H: 16, W: 16, Padding: [4]int{1, 2, 1, 2}, Mode: PadReflect, PadIfNeeded: true}}}},
		{"randomcrop=8x6:pad=1/2/3/4:fill=1/2/3", &Compose{Steps: []Transform{
			RandomCrop{H: 8, W: 6, Padding: [4]int{1, 2, 3, 4}, Fill: []uint8{1, 2, 3}}}}},
		{"rrc=224:scale=0.2/1:ratio=0.5/2:bicubic", &Compose{Steps: []Transform{
			RandomResizedCrop{H: 224, W: 224, Scale: [2]float64{0.2, 1}, Ratio: [2]float64{0.5, 2}, Interp: Bicubic}}}},
		{"vflip=0.1, rotate=15:bilinear:fill=255", &Compose{Steps: []Transform{
			RandomVerticalFlip{P: 0.1}, RandomRotation{Degrees: [2]float64{-15, 15}, Interp: Bilinear, Fill: []uint8{255}}}}},
		{"rotate=-5/10", &Compose{Steps: []Transform{RandomRotation{Degrees: [2]float64{-5, 10}}}}},
		{"jitter=0.4/0.3", &Compose{Steps: []Transform{ColorJitter{Brightness: 0.4, Contrast: 0.3}}}},
		{"grayscale=3,totensor,normalize=imagenet", &Compose{Steps: []Transform{Grayscale{Channels: 3}},
			Normalize: &Normalize{Mean: []float32{0.485, 0.456, 0.406}, Std: []float32{0.229, 0.224, 0.225}}}},
		{"normalize=0.5:0.25", &Compose{Normalize: &Normalize{Mean: []float32{0.5}, Std: []float32{0.25}}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v\nwant %#v", tt.spec, got, tt.want)
		}
		again, err := Parse(got.String())
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %q through %q: %#v, %v", tt.spec, got.String(), again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"resize", "needs a value"},
		{"resize=0", "integer in"},
		{"resize=32:lanczos", "unknown option"},
		{"centercrop=3x", "integer in"},
		{"randomcrop=32:pad=1/2/3", "1, 2 or 4"},
		{"randomcrop=32:wrap", "unknown option"},
		{"hflip=1.5", "number in"},
		{"jitter=0.1/0.1/0.1/0.7", "hue <= 0.5"},
		{"rrc=32:scale=0.9/0.1", "0 < min <= max"},
		{"rotate=20/10", "min <= max"},
		{"grayscale=2", "1 or 3"},
		{"normalize=0.5", "MEAN:STD"},
		{"normalize=0.5:0", "std must be > 0"},
		{"normalize=0.5:0.5,hflip", "after normalize"},
		{"blur=3", "unknown transform"},
		{"randomcrop=32:fill=1/2", "1 or 3 values"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "transform: ") {
			t.Errorf("Parse(%q) error %v, want one containing %q", tt.spec, err, tt.want)
		}
	}
}
