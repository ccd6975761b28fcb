package cuda

import (
	"fmt"
	"runtime"
	"sync"
)

// Blas is a cuBLAS handle bound to a device and a stream.
type Blas struct {
	d   *Device
	api *cublasAPI
	h   uintptr
}

var (
	cublasOnce sync.Once
	cublasFns  *cublasAPI
	cublasErr  error
)

// cuBLAS math modes (cublasMath_t): the default keeps FP32 GEMMs in FP32;
// TF32 lets tensor cores round inputs to 10-bit mantissas (--tf32, the
// analogue of torch.backends.cuda.matmul.allow_tf32).
const (
	cublasDefaultMath = 0
	cublasTF32Math    = 3
)

// NewBlas loads cuBLAS (once per process) and creates a handle on d whose
// work goes to s (nil: the default stream).
func (d *Device) NewBlas(s *Stream, tf32 bool) (*Blas, error) {
	cublasOnce.Do(func() { _, cublasFns, cublasErr = loadCublas() })
	if cublasErr != nil {
		return nil, cublasErr
	}
	b := &Blas{d: d, api: cublasFns}
	mode := int32(cublasDefaultMath)
	if tf32 {
		mode = cublasTF32Math
	}
	err := d.exec.Do(func() error {
		if err := cublasCheck("cublasCreate", b.api.cublasCreate(&b.h)); err != nil {
			return err
		}
		if err := cublasCheck("cublasSetStream", b.api.cublasSetStream(b.h, s.handle())); err != nil {
			return err
		}
		return cublasCheck("cublasSetMathMode", b.api.cublasSetMathMode(b.h, mode))
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Destroy releases the handle.
func (b *Blas) Destroy() error {
	return b.d.exec.Do(func() error { return cublasCheck("cublasDestroy", b.api.cublasDestroy(b.h)) })
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C on row-major matrices with
// the arguments of kernels.Sgemm: op(A) is m x k, op(B) k x n, C m x n,
// leading dimensions in elements. cuBLAS is column-major, and a row-major
// matrix read column-major is its transpose, so this asks cuBLAS for
// C^T = op(B)^T op(A)^T: the operands swap, the transpose flags do not.
func (b *Blas) Sgemm(transA, transB bool, m, n, k int, alpha float32, a *Block, lda int, bm *Block, ldb int, beta float32, c *Block, ldc int) error {
	for _, v := range []int{m, n, k, lda, ldb, ldc} {
		if v < 0 || v > 1<<31-1 {
			panic(fmt.Sprintf("cuda: Sgemm dimension %d out of int32 range", v))
		}
	}
	op := func(t bool) int32 {
		if t {
			return 1 // CUBLAS_OP_T
		}
		return 0 // CUBLAS_OP_N
	}
	al, be := alpha, beta
	err := b.d.exec.Do(func() error {
		return cublasCheck("cublasSgemm", b.api.cublasSgemm(b.h, op(transB), op(transA), int32(n), int32(m), int32(k),
			&al, bm.Ptr, int32(ldb), a.Ptr, int32(lda), &be, c.Ptr, int32(ldc)))
	})
	runtime.KeepAlive(&al)
	runtime.KeepAlive(&be)
	return err
}
