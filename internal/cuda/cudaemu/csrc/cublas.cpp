// kiln CUDA emulator: libcublas.so.13, the SGEMM kiln binds
// (internal/cuda/cublas.go), with cuBLAS's column-major semantics: op(A)
// is m x k, op(B) k x n, C m x n, each stored column-major with its
// leading dimension; alpha and beta are read from host memory when the
// call is made; beta == 0 means C is not read (a NaN there does not
// survive). With CUBLAS_TF32_TENSOR_OP_MATH the elements of A and B are
// rounded to TF32 (10 mantissa bits, to nearest, ties away from zero, as
// cvt.rna.tf32.f32 does) before they are multiplied. Sums are float, in
// order of k.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "emu.h"

typedef int cublasStatus_t;
enum {
	STATUS_SUCCESS = 0,
	STATUS_NOT_INITIALIZED = 1,
	STATUS_INVALID_VALUE = 7,
	STATUS_EXECUTION_FAILED = 13,
};

struct Handle {
	void* stream = nullptr;
	int mode = 0;
	bool live = true;
};

KILN_EXPORT cublasStatus_t cublasCreate_v2(Handle** h) {
	if (!h) return STATUS_INVALID_VALUE;
	if (!kiln_emu_has_context()) return STATUS_NOT_INITIALIZED;
	*h = new Handle;
	return STATUS_SUCCESS;
}

KILN_EXPORT cublasStatus_t cublasDestroy_v2(Handle* h) {
	if (!h || !h->live) return STATUS_NOT_INITIALIZED;
	h->live = false;  // kept: a use after destroy is reported, not a crash
	return STATUS_SUCCESS;
}

KILN_EXPORT cublasStatus_t cublasSetStream_v2(Handle* h, void* s) {
	if (!h || !h->live) return STATUS_NOT_INITIALIZED;
	if (!kiln_emu_valid_stream(s)) return STATUS_INVALID_VALUE;
	h->stream = s;
	return STATUS_SUCCESS;
}

// cublasSetMathMode takes CUBLAS_DEFAULT_MATH (0), CUBLAS_TENSOR_OP_MATH
// (1), CUBLAS_PEDANTIC_MATH (2) or CUBLAS_TF32_TENSOR_OP_MATH (3), with
// CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION (16).
KILN_EXPORT cublasStatus_t cublasSetMathMode(Handle* h, int mode) {
	if (!h || !h->live) return STATUS_NOT_INITIALIZED;
	if ((mode & ~16) > 3) return STATUS_INVALID_VALUE;
	h->mode = mode & ~16;
	return STATUS_SUCCESS;
}

static float tf32(float x) {
	uint32_t u;
	memcpy(&u, &x, 4);
	if ((u & 0x7f800000u) == 0x7f800000u) return x;  // Inf, NaN
	u = (u + 0x1000u) & 0xffffe000u;
	memcpy(&x, &u, 4);
	return x;
}

struct Gemm {
	int ta, tb, m, n, k, lda, ldb, ldc;
	float alpha, beta;
	const float *a, *b;
	float* c;
	bool tf32;
};

// at reads element (r, col) of a column-major matrix stored with ld.
static float at(const float* p, int ld, int r, int col) { return p[(size_t)col * ld + r]; }

static int runGemm(void* arg, char*, int) {
	const Gemm& g = *static_cast<Gemm*>(arg);
	// op(A) by rows and op(B) by columns, each contiguous in k.
	std::vector<float> ar((size_t)g.m * g.k), bc((size_t)g.n * g.k);
	for (int i = 0; i < g.m; i++)
		for (int l = 0; l < g.k; l++) {
			float v = g.ta ? at(g.a, g.lda, l, i) : at(g.a, g.lda, i, l);
			ar[(size_t)i * g.k + l] = g.tf32 ? tf32(v) : v;
		}
	for (int j = 0; j < g.n; j++)
		for (int l = 0; l < g.k; l++) {
			float v = g.tb ? at(g.b, g.ldb, j, l) : at(g.b, g.ldb, l, j);
			bc[(size_t)j * g.k + l] = g.tf32 ? tf32(v) : v;
		}
	for (int j = 0; j < g.n; j++)
		for (int i = 0; i < g.m; i++) {
			float s = 0.f;
			if (g.alpha != 0.f) {
				const float *x = &ar[(size_t)i * g.k], *y = &bc[(size_t)j * g.k];
				for (int l = 0; l < g.k; l++) s += x[l] * y[l];
			}
			float* cp = &g.c[(size_t)j * g.ldc + i];
			*cp = g.beta == 0.f ? g.alpha * s : g.alpha * s + g.beta * *cp;
		}
	return 0;
}

// span is the elements a rows x cols column-major matrix with ld covers.
static unsigned long long span(int rows, int cols, int ld) {
	if (rows == 0 || cols == 0) return 0;
	return (unsigned long long)(cols - 1) * ld + rows;
}

KILN_EXPORT cublasStatus_t cublasSgemm_v2(Handle* h, int ta, int tb, int m, int n, int k, const float* alpha,
                                          const float* a, int lda, const float* b, int ldb, const float* beta, float* c,
                                          int ldc) {
	if (!h || !h->live) return STATUS_NOT_INITIALIZED;
	auto bad = [&](const char* why) {
		fprintf(stderr, "kiln CUDA emulator: cublasSgemm(transa %d, transb %d, m %d, n %d, k %d, lda %d, ldb %d, ldc %d): %s\n",
		        ta, tb, m, n, k, lda, ldb, ldc, why);
		return STATUS_INVALID_VALUE;
	};
	if (ta < 0 || ta > 2 || tb < 0 || tb > 2) return bad("transa/transb not CUBLAS_OP_N, _T or _C");
	if (m < 0 || n < 0 || k < 0) return bad("a negative dimension");
	int arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
	if (lda < (arows > 1 ? arows : 1)) return bad("lda below the rows of A as stored");
	if (ldb < (brows > 1 ? brows : 1)) return bad("ldb below the rows of B as stored");
	if (ldc < (m > 1 ? m : 1)) return bad("ldc below m");
	if (!alpha || !beta) return bad("alpha or beta is null");
	if (m == 0 || n == 0) return STATUS_SUCCESS;
	bool readAB = k > 0 && *alpha != 0.f;
	if (readAB && !kiln_emu_check_range((CUdeviceptr)(uintptr_t)a, 4 * span(arows, acols, lda), "cublasSgemm A"))
		return STATUS_EXECUTION_FAILED;
	if (readAB && !kiln_emu_check_range((CUdeviceptr)(uintptr_t)b, 4 * span(brows, bcols, ldb), "cublasSgemm B"))
		return STATUS_EXECUTION_FAILED;
	if (!kiln_emu_check_range((CUdeviceptr)(uintptr_t)c, 4 * span(m, n, ldc), "cublasSgemm C"))
		return STATUS_EXECUTION_FAILED;
	Gemm* g = new Gemm{ta, tb, m, n, readAB ? k : 0, lda, ldb, ldc, *alpha, *beta, a, b, c, h->mode == 3};
	kiln_emu_op op{runGemm, [](void* p) { delete static_cast<Gemm*>(p); }, g};
	if (kiln_emu_enqueue(h->stream, op) != 0) return STATUS_EXECUTION_FAILED;
	return STATUS_SUCCESS;
}
