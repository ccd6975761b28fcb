package serve

import (
	"bytes"
	"encoding/json"
	"math"
	"mime/multipart"
	"testing"
)

// FuzzDecodeInfer feeds any body to the v2 inference decoder of an image
// and a text model: it must not panic, and what it accepts must be whole
// examples of the model's shape.
func FuzzDecodeInfer(f *testing.F) {
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,4,4],"data":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,4,4],"data":[[[[0,1,2,3],[4,5,6,7],[8,9,10,11],[12,13,14,15]]]]}],"outputs":[{"name":"logits"}]}`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"BYTES","shape":[2],"data":["yes","no"]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"BYTES","shape":[1],"data":[["y"]]}]}`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[-1,1,4,4],"data":[]}]}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`{"inputs":[{"name":"input","datatype":"FP32","shape":[1,1,4,4],"data":[1e999]}]}`))
	models := []*Model{imageModel(&fake{}, ""), textModel(&fake{})}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, m := range models {
			_, x, n, err := decodeInfer(body, m, 8)
			if err != nil {
				continue
			}
			if n < 1 || n > 8 || len(x) != n*m.size() {
				t.Fatalf("%s: accepted %d examples in %d values", m.Name, n, len(x))
			}
		}
	})
}

// multipartBody returns a multipart body of the parts and its content
// type.
func multipartBody(parts ...[]byte) ([]byte, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		fw, _ := w.CreateFormFile("file", "f.png")
		fw.Write(p)
	}
	w.Close()
	return b.Bytes(), w.FormDataContentType()
}

// FuzzDecodePredict feeds any content type and body to the predict
// decoder (multipart, JSON, image bytes, text): it must not panic, and
// what it accepts must be one example per input.
func FuzzDecodePredict(f *testing.F) {
	png := pngOf(f, 4, 4, 9)
	mp, ct := multipartBody(png, png)
	f.Add(ct, mp)
	mp2, ct2 := multipartBody([]byte("yy"), []byte{0xff})
	f.Add(ct2, mp2)
	f.Add("image/png", png)
	f.Add("application/octet-stream", png[:len(png)/2])
	f.Add("", []byte("P5 4 4 255\n0123456789abcdef"))
	f.Add("image/bmp", []byte("BM\x00\x00"))
	f.Add("application/json", []byte(`{"texts":["yes","no"],"text":"y"}`))
	f.Add("application/json", []byte(`{"images":["iVBORw0KGgo="]}`))
	f.Add("text/plain; charset=utf-8", []byte("yyy"))
	f.Add("multipart/form-data; boundary=", []byte("--\r\n"))
	models := []*Model{imageModel(&fake{}, ""), textModel(&fake{})}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		for _, m := range models {
			in, x, err := decodePredict(m, ct, body, 4)
			if err != nil {
				continue
			}
			if len(in) < 1 || len(in) > 4 || len(x) != len(in)*m.size() {
				t.Fatalf("%s: accepted %d inputs in %d values", m.Name, len(in), len(x))
			}
		}
	})
}

// FuzzImageExt checks that every extension feedback names is one the
// image decoder's formats use, for any bytes.
func FuzzImageExt(f *testing.F) {
	f.Add([]byte("RIFF1234WEBP"))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("P6"))
	f.Fuzz(func(t *testing.T, b []byte) {
		switch e := imageExt(b); e {
		case "", ".png", ".jpg", ".gif", ".bmp", ".tif", ".pgm", ".ppm", ".webp":
		default:
			t.Fatalf("extension %q", e)
		}
	})
}

// FuzzParseFlatFloats requires the reflection-free parser to agree with
// encoding/json on every array it accepts, value for value.
func FuzzParseFlatFloats(f *testing.F) {
	for _, s := range []string{"[]", "[1, -2.5e3 ,0.1]", " [ 3.4028235e38 ] ", "[1e39]", "[+1]", "[1,]", "[[1]]", `["1"]`, "[1 2]", "[.5]", "[-0]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseFlatFloats(b)
		if !ok {
			return
		}
		var want []float32
		if err := json.Unmarshal(b, &want); err != nil {
			// The parser is laxer than JSON only in what strconv reads
			// (a leading '+', ".5"): numbers all the same.
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %v, encoding/json %v", b, got, want)
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%q: value %d = %g, encoding/json %g", b, i, got[i], want[i])
			}
		}
	})
}
