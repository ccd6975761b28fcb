package kernelsrc

// This file holds the elementwise kernels: binary arithmetic on same-shape
// operands (broadcasting is the caller's job), scaling, accumulation, fill,
// the activations (ReLU, sigmoid, tanh) and bias. Every kernel is a grid-stride loop, so any grid covers any
// n.

func binary(name, op string) Kernel {
	return Kernel{name, `extern "C" __global__ void ` + name + `(float* out, const float* a, const float* b, int n) {
	KILN_LOOP(i, n) { out[i] = a[i] ` + op + ` b[i]; }
}`}
}

var elementwise = []Kernel{
	binary("add_f32", "+"),
	binary("sub_f32", "-"),
	binary("mul_f32", "*"),
	binary("div_f32", "/"),
	{"scale_f32", `extern "C" __global__ void scale_f32(float* out, const float* a, float alpha, int n) {
	KILN_LOOP(i, n) { out[i] = alpha * a[i]; }
}`},
	// axpy_f32 accumulates: y += alpha*x (gradient accumulation).
	{"axpy_f32", `extern "C" __global__ void axpy_f32(float* y, const float* x, float alpha, int n) {
	KILN_LOOP(i, n) { y[i] += alpha * x[i]; }
}`},
	{"fill_f32", `extern "C" __global__ void fill_f32(float* out, float v, int n) {
	KILN_LOOP(i, n) { out[i] = v; }
}`},
}

var activations = []Kernel{
	// relu_fwd keeps NaNs, as torch.relu and kernels.BiasEpilogue do.
	{"relu_fwd", `extern "C" __global__ void relu_fwd(float* y, const float* x, int n) {
	KILN_LOOP(i, n) { float v = x[i]; y[i] = (v > 0.f || v != v) ? v : 0.f; }
}`},
	// relu_bwd passes dy where the output was positive (not zero, negative
	// or NaN), as kernels.ReLUMask does.
	{"relu_bwd", `extern "C" __global__ void relu_bwd(float* dx, const float* y, const float* dy, int n) {
	KILN_LOOP(i, n) { dx[i] = y[i] > 0.f ? dy[i] : 0.f; }
}`},
	// sigmoid_fwd is tensor.SigmoidScalar's form, which never overflows:
	// 1/(1+exp(-x)) for x >= 0, else e/(1+e) with e = exp(x).
	{"sigmoid_fwd", `extern "C" __global__ void sigmoid_fwd(float* y, const float* x, int n) {
	KILN_LOOP(i, n) {
		float v = x[i];
		if (v >= 0.f) {
			y[i] = 1.f / (1.f + expf(-v));
		} else {
			float e = expf(v);
			y[i] = e / (1.f + e);
		}
	}
}`},
	// sigmoid_grad_acc adds dy*y*(1-y) to dx, given the output y, as
	// autograd's sigmoid backward does.
	{"sigmoid_grad_acc", `extern "C" __global__ void sigmoid_grad_acc(float* dx, const float* y, const float* dy, int n) {
	KILN_LOOP(i, n) { dx[i] += dy[i] * y[i] * (1.f - y[i]); }
}`},
	{"tanh_fwd", `extern "C" __global__ void tanh_fwd(float* y, const float* x, int n) {
	KILN_LOOP(i, n) { y[i] = tanhf(x[i]); }
}`},
	// tanh_grad_acc adds dy*(1-y*y) to dx, given the output y.
	{"tanh_grad_acc", `extern "C" __global__ void tanh_grad_acc(float* dx, const float* y, const float* dy, int n) {
	KILN_LOOP(i, n) { dx[i] += dy[i] * (1.f - y[i] * y[i]); }
}`},
	// bias_add_nchw adds a per-channel bias to an N x C x HW tensor in place.
	{"bias_add_nchw", `extern "C" __global__ void bias_add_nchw(float* y, const float* bias, int c, int hw, int n) {
	KILN_LOOP(i, n) { y[i] += bias[(i / hw) % c]; }
}`},
	// bias_add_rows adds a bias of cols to each row of a rows x cols matrix.
	{"bias_add_rows", `extern "C" __global__ void bias_add_rows(float* y, const float* bias, int cols, int n) {
	KILN_LOOP(i, n) { y[i] += bias[i % cols]; }
}`},
	// bias_grad_nchw accumulates db[ch] += sum over N and HW of dy: one
	// block per channel (grid = C), blockDim a power of two up to 1024.
	{"bias_grad_nchw", `extern "C" __global__ void bias_grad_nchw(float* db, const float* dy, int nb, int c, int hw) {
	__shared__ float part[1024];
	int ch = blockIdx.x;
	float s = 0.f;
	for (int j = threadIdx.x; j < nb * hw; j += blockDim.x) {
		int img = j / hw, p = j % hw;
		s += dy[(img * c + ch) * hw + p];
	}
	part[threadIdx.x] = s;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0) db[ch] += part[0];
}`},
	// bias_grad_rows accumulates db[j] += sum over rows of dy[r][j].
	{"bias_grad_rows", `extern "C" __global__ void bias_grad_rows(float* db, const float* dy, int rows, int cols) {
	KILN_LOOP(j, cols) {
		float s = 0.f;
		for (int r = 0; r < rows; r++) s += dy[r * cols + j];
		db[j] += s;
	}
}`},
}
