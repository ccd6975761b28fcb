//go:build cuda

// Package cuda is the backend.Backend on an NVIDIA GPU, over
// internal/cuda: cuBLAS SGEMM (row-major by swapping the operands, TF32
// when asked) and internal/cuda/kernelsrc's NVRTC kernels for the rest.
// Importing it registers the backend as "cuda" (backend.Open).
//
// It is built only with the cuda build tag: purego makes every binary that
// imports internal/cuda's loader dynamically linked, and kiln's default
// build stays one static binary.
//
// Every op is queued on one stream; Upload, Download and Sync wait for it,
// and the first error of a queued op is kept and returned by the next of
// them. The convolution is lowered over the whole batch at once: one
// column matrix (im2col_batch), one GEMM per group, and a scatter back to
// NCHW that adds the bias and applies the fused ReLU.
//
// It leaves out overlapping the next batch's upload with compute (the
// copies are synchronous), cuDNN, half precision, and reducing the
// scratch memory of very large batches (the column matrix of a whole
// batch is allocated at once).
package cuda
