package cuda

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kiln-ml/kiln/internal/cuda/kernelsrc"
)

// TestImageCache checks the per-(source, capability) cache without a
// compiler: one compile per key however many concurrent callers, a new
// compile for another capability or another source, and a failed compile
// retried rather than remembered.
func TestImageCache(t *testing.T) {
	var compiles atomic.Int32
	fail := true
	c := &imageCache{compile: func(src string, key moduleKey) ([]byte, error) {
		compiles.Add(1)
		if src == "bad" && fail {
			return nil, errors.New("nvrtc: syntax error")
		}
		return []byte(key.String()), nil
	}}
	src := kernelsrc.Unit()
	k90 := kernelsrc.Key(src, 9, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			img, err := c.get(src, k90)
			if err != nil || string(img) != k90.String() {
				t.Errorf("get: %q, %v", img, err)
			}
		}()
	}
	wg.Wait()
	if n := compiles.Load(); n != 1 {
		t.Errorf("%d compiles for one key", n)
	}
	c.get(src, kernelsrc.Key(src, 8, 0))
	c.get(src+"\n", kernelsrc.Key(src+"\n", 9, 0))
	if n := compiles.Load(); n != 3 {
		t.Errorf("%d compiles for three keys", n)
	}
	bad := kernelsrc.Key("bad", 9, 0)
	if _, err := c.get("bad", bad); err == nil {
		t.Error("failed compile returned no error")
	}
	fail = false
	if _, err := c.get("bad", bad); err != nil {
		t.Errorf("retry after a failed compile: %v", err)
	}
}

// TestCompileWithoutNVRTC: here, where NVRTC is absent, compiling fails
// with the loader's error rather than a panic.
func TestCompileWithoutNVRTC(t *testing.T) {
	if _, _, err := loadNVRTC(); err == nil {
		t.Skip("NVRTC is installed here")
	}
	_, err := nvrtcCompile(kernelsrc.Unit(), kernelsrc.Key(kernelsrc.Unit(), 9, 0))
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("err = %v, want *NotFoundError", err)
	}
}
