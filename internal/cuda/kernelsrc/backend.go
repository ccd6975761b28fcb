package kernelsrc

// This file holds the kernels internal/backend/cuda adds to the others:
// the convolution lowered over a whole batch at once (one column matrix,
// one GEMM per group, then a scatter back to NCHW with the bias and the
// fused ReLU), general max pooling, the accumulating backward helpers and
// the classifier's cross-entropy with its arg-max. Accumulating kernels
// are named _acc: they add into their output, as the engine's backward
// rules do.

var backendOps = []Kernel{
	// im2col_batch unrolls n images into one (c*kh*kw) x (n*oh*ow) column
	// matrix: image img's output pixel r is column img*oh*ow + r.
	{"im2col_batch", `extern "C" __global__ void im2col_batch(float* col, const float* x, int n, int c, int h, int w, int kh, int kw,
	int padh, int padw, int sh, int sw, int dh, int dw, int oh, int ow) {
	int ohw = oh * ow;
	long long cols = (long long)n * ohw;
	KILN_LOOP(i, n * c * ohw) {
		int img = i / (c * ohw), rem = i % (c * ohw);
		int ch = rem / ohw, r = rem % ohw;
		int oy = r / ow, ox = r % ow;
		float* dst = col + (long long)ch * kh * kw * cols + (long long)img * ohw + r;
		const float* src = x + ((long long)img * c + ch) * h * w;
		for (int ki = 0; ki < kh; ki++) {
			int y = oy * sh - padh + ki * dh;
			for (int kj = 0; kj < kw; kj++) {
				int xx = ox * sw - padw + kj * dw;
				*dst = (y >= 0 && y < h && xx >= 0 && xx < w) ? src[y * w + xx] : 0.f;
				dst += cols;
			}
		}
	}
}`},
	// col2im_batch writes each input pixel's gradient, gathering every
	// column entry of im2col_batch's layout that read it.
	{"col2im_batch", `extern "C" __global__ void col2im_batch(float* x, const float* col, int n, int c, int h, int w, int kh, int kw,
	int padh, int padw, int sh, int sw, int dh, int dw, int oh, int ow) {
	int ohw = oh * ow;
	long long cols = (long long)n * ohw;
	KILN_LOOP(i, n * c * h * w) {
		int img = i / (c * h * w), rem = i % (c * h * w);
		int ch = rem / (h * w), r = rem % (h * w);
		int y = r / w + padh, xx = r % w + padw;
		float s = 0.f;
		for (int ki = 0; ki < kh; ki++) {
			int ty = y - ki * dh;
			if (ty < 0 || ty % sh != 0) continue;
			int oy = ty / sh;
			if (oy >= oh) continue;
			for (int kj = 0; kj < kw; kj++) {
				int tx = xx - kj * dw;
				if (tx < 0 || tx % sw != 0) continue;
				int ox = tx / sw;
				if (ox >= ow) continue;
				s += col[((long long)(ch * kh + ki) * kw + kj) * cols + (long long)img * ohw + oy * ow + ox];
			}
		}
		x[i] = s;
	}
}`},
	// cn_to_nchw scatters a c x (n*hw) GEMM result into an n x c x hw
	// tensor, adding bias[ch] when hasbias and taking max(v, 0) (NaN kept)
	// when relu.
	{"cn_to_nchw", `extern "C" __global__ void cn_to_nchw(float* y, const float* t, const float* bias, int hasbias, int relu, int n, int c, int hw) {
	KILN_LOOP(i, n * c * hw) {
		int img = i / (c * hw), rem = i % (c * hw);
		int ch = rem / hw, p = rem % hw;
		float v = t[(long long)ch * n * hw + (long long)img * hw + p];
		if (hasbias) v += bias[ch];
		if (relu && !(v > 0.f || v != v)) v = 0.f;
		y[i] = v;
	}
}`},
	// nchw_to_cn gathers an n x c x hw tensor into a c x (n*hw) matrix.
	{"nchw_to_cn", `extern "C" __global__ void nchw_to_cn(float* t, const float* y, int n, int c, int hw) {
	KILN_LOOP(i, n * c * hw) {
		int img = i / (c * hw), rem = i % (c * hw);
		int ch = rem / hw, p = rem % hw;
		t[(long long)ch * n * hw + (long long)img * hw + p] = y[i];
	}
}`},
	// relu_grad_acc adds dy to dx where the ReLU output y is > 0.
	{"relu_grad_acc", `extern "C" __global__ void relu_grad_acc(float* dx, const float* y, const float* dy, int n) {
	KILN_LOOP(i, n) { if (y[i] > 0.f) dx[i] += dy[i]; }
}`},
	// mul_acc_f32 adds a*b to out: dropout's backward.
	{"mul_acc_f32", `extern "C" __global__ void mul_acc_f32(float* out, const float* a, const float* b, int n) {
	KILN_LOOP(i, n) { out[i] += a[i] * b[i]; }
}`},
	// maxpool_fwd is max pooling with any window, stride, -Inf padding and
	// dilation over planes of h x w, in PyTorch's tap order: the first
	// maximum wins, a NaN beats numbers and a later NaN an earlier one, a
	// window of only padding reports its first in-bounds tap.
	{"maxpool_fwd", `extern "C" __global__ void maxpool_fwd(float* y, int* idx, const float* x, int planes, int h, int w, int oh, int ow,
	int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
	KILN_LOOP(i, planes * oh * ow) {
		int pl = i / (oh * ow), r = i % (oh * ow);
		int oy = r / ow, ox = r % ow;
		const float* p = x + (long long)pl * h * w;
		int h0 = oy * sh - ph, w0 = ox * sw - pw;
		int h1 = min(h0 + (kh - 1) * dh + 1, h), w1 = min(w0 + (kw - 1) * dw + 1, w);
		while (h0 < 0) h0 += dh;
		while (w0 < 0) w0 += dw;
		int bi = h0 * w + w0;
		float best = -__int_as_float(0x7f800000);
		bool nan = false;
		for (int yy = h0; yy < h1; yy += dh) {
			for (int xx = w0; xx < w1; xx += dw) {
				float v = p[yy * w + xx];
				if (v != v) { best = v; bi = yy * w + xx; nan = true; }
				else if (!nan && v > best) { best = v; bi = yy * w + xx; }
			}
		}
		y[i] = p[bi];
		idx[i] = bi;
	}
}`},
	// maxpool_bwd_acc adds dy to dx at the winners' offsets; windows may
	// overlap, so the adds are atomic.
	{"maxpool_bwd_acc", `extern "C" __global__ void maxpool_bwd_acc(float* dx, const int* idx, const float* dy, int planes, int hw, int ohw) {
	KILN_LOOP(i, planes * ohw) {
		int pl = i / ohw;
		atomicAdd(dx + (long long)pl * hw + idx[i], dy[i]);
	}
}`},
	// xent_rows: one warp per row of k logits. It writes the row's
	// log-probabilities, its arg-max (the first maximum; a NaN wins),
	// its loss -logp[label] and whether the arg-max is the label. Lane 0
	// computes the loss from the logits, not from lp: the other lanes'
	// writes of lp are not ordered before its read without a __syncwarp
	// (threads of a warp are scheduled independently since Volta).
	{"xent_rows", `extern "C" __global__ void xent_rows(float* logp, int* pred, float* rowloss, float* rowright, const float* logits,
	const int* labels, int rows, int k) {
	int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
	int lane = threadIdx.x % 32;
	if (row >= rows) return;
	const float* x = logits + (long long)row * k;
	float* lp = logp + (long long)row * k;
	float m = -__int_as_float(0x7f800000);
	for (int j = lane; j < k; j += 32) { float v = x[j]; if (v > m || v != v) m = v; }
	for (int o = 16; o > 0; o /= 2) { float u = __shfl_xor_sync(0xffffffff, m, o); if (u > m || u != u) m = u; }
	float s = 0.f;
	for (int j = lane; j < k; j += 32) s += expf(x[j] - m);
	for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffff, s, o);
	float lse = m + logf(s);
	for (int j = lane; j < k; j += 32) lp[j] = x[j] - lse;
	if (lane == 0) {
		int best = 0;
		float bv = x[0];
		for (int j = 1; j < k; j++) {
			float v = x[j];
			if ((v > bv || v != v) && bv == bv) { bv = v; best = j; }
		}
		int y = labels[row];
		pred[row] = best;
		rowloss[row] = lse - x[y];
		rowright[row] = best == y ? 1.f : 0.f;
	}
}`},
	// xent_sum reduces xent_rows's per-row figures in one block (blockDim
	// a power of two up to 1024): out[0] = the mean loss, out[1] = the
	// number of rows right.
	{"xent_sum", `extern "C" __global__ void xent_sum(float* out, const float* rowloss, const float* rowright, int rows) {
	__shared__ float sl[1024];
	__shared__ float sr[1024];
	float a = 0.f, b = 0.f;
	for (int i = threadIdx.x; i < rows; i += blockDim.x) { a += rowloss[i]; b += rowright[i]; }
	sl[threadIdx.x] = a;
	sr[threadIdx.x] = b;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) { sl[threadIdx.x] += sl[threadIdx.x + w]; sr[threadIdx.x] += sr[threadIdx.x + w]; }
		__syncthreads();
	}
	if (threadIdx.x == 0) { out[0] = sl[0] / rows; out[1] = sr[0]; }
}`},
	// xent_grad_acc adds the gradient of scale * (summed loss) to dx:
	// (exp(logp) - onehot(label)) * scale.
	{"xent_grad_acc", `extern "C" __global__ void xent_grad_acc(float* dx, const float* logp, const int* labels, float scale, int rows, int k) {
	KILN_LOOP(i, rows * k) {
		int r = i / k, j = i % k;
		dx[i] += (expf(logp[i]) - (j == labels[r] ? 1.f : 0.f)) * scale;
	}
}`},
}
