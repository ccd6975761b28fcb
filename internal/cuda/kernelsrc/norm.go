package kernelsrc

// This file holds the kernels of batch normalisation, the residual sum's
// helpers and adaptive average pooling, for internal/backend/cuda. The
// per-channel reductions run one block per channel (blockDim a power of two
// up to 256) and sum in float, as the engine's float64 moments do. It
// leaves out synchronised statistics across devices.

var normOps = []Kernel{
	// bn_stats writes saved = [mean (c), invstd (c)] of x (n x c x sp),
	// one block per channel. Training: the batch's mean and biased
	// variance (two passes), and when hasrun the running
	// statistics move toward the mean and the unbiased variance by
	// momentum. Evaluation: the running statistics themselves.
	{"bn_stats", `extern "C" __global__ void bn_stats(float* saved, float* rm, float* rv, const float* x, int n, int c, int sp,
	int training, int hasrun, float momentum, float eps) {
	__shared__ float part[256];
	int ch = blockIdx.x;
	if (!training) {
		if (threadIdx.x == 0) {
			saved[ch] = rm[ch];
			saved[c + ch] = 1.f / sqrtf(rv[ch] + eps);
		}
		return;
	}
	int m = n * sp;
	float s = 0.f;
	for (int j = threadIdx.x; j < m; j += blockDim.x) s += x[((long long)(j / sp) * c + ch) * sp + j % sp];
	part[threadIdx.x] = s;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
		__syncthreads();
	}
	float mean = part[0] / (float)m;
	__syncthreads();
	s = 0.f;
	for (int j = threadIdx.x; j < m; j += blockDim.x) {
		float d = x[((long long)(j / sp) * c + ch) * sp + j % sp] - mean;
		s += d * d;
	}
	part[threadIdx.x] = s;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0) {
		float var = part[0] / (float)m;
		saved[ch] = mean;
		saved[c + ch] = 1.f / sqrtf(var + eps);
		if (hasrun) {
			float unbiased = var * (float)m / (float)(m - 1);
			rm[ch] = (1.f - momentum) * rm[ch] + momentum * mean;
			rv[ch] = (1.f - momentum) * rv[ch] + momentum * unbiased;
		}
	}
}`},
	// bn_apply writes y = (x - mean)*(invstd*w) + b per channel; w and b
	// are read only when hasw and hasb.
	{"bn_apply", `extern "C" __global__ void bn_apply(float* y, const float* x, const float* saved, const float* w, const float* b,
	int hasw, int hasb, int n, int c, int sp) {
	KILN_LOOP(i, n * c * sp) {
		int ch = (i / sp) % c;
		float scale = saved[c + ch];
		if (hasw) scale *= w[ch];
		float shift = hasb ? b[ch] : 0.f;
		y[i] = (x[i] - saved[ch]) * scale + shift;
	}
}`},
	// bn_grad_sums reduces, per channel (one block each), sum(dy) and
	// sum(dy*xhat); it adds them into db and dw (when hasdb,
	// hasdw) and writes coef = [k, a, bcoef] (3c) for bn_dx_acc:
	// dx += k*(dy - a - xhat*bcoef), k = invstd*w, a and bcoef the sums
	// over m in training and 0 in evaluation.
	{"bn_grad_sums", `extern "C" __global__ void bn_grad_sums(float* coef, float* dw, float* db, const float* x, const float* dy,
	const float* saved, const float* w, int hasw, int hasdw, int hasdb, int training, int n, int c, int sp) {
	__shared__ float s1[256];
	__shared__ float s2[256];
	int ch = blockIdx.x;
	int m = n * sp;
	float mu = saved[ch], is = saved[c + ch];
	float a = 0.f, b = 0.f;
	for (int j = threadIdx.x; j < m; j += blockDim.x) {
		long long i = ((long long)(j / sp) * c + ch) * sp + j % sp;
		a += dy[i];
		b += dy[i] * ((x[i] - mu) * is);
	}
	s1[threadIdx.x] = a;
	s2[threadIdx.x] = b;
	__syncthreads();
	for (int w2 = blockDim.x / 2; w2 > 0; w2 /= 2) {
		if (threadIdx.x < w2) { s1[threadIdx.x] += s1[threadIdx.x + w2]; s2[threadIdx.x] += s2[threadIdx.x + w2]; }
		__syncthreads();
	}
	if (threadIdx.x == 0) {
		if (hasdw) dw[ch] += s2[0];
		if (hasdb) db[ch] += s1[0];
		float k = is;
		if (hasw) k *= w[ch];
		coef[ch] = k;
		coef[c + ch] = training ? s1[0] / (float)m : 0.f;
		coef[2 * c + ch] = training ? s2[0] / (float)m : 0.f;
	}
}`},
	// bn_dx_acc adds batch normalisation's input gradient into dx, from
	// bn_grad_sums's coefficients.
	{"bn_dx_acc", `extern "C" __global__ void bn_dx_acc(float* dx, const float* x, const float* dy, const float* saved, const float* coef,
	int n, int c, int sp) {
	KILN_LOOP(i, n * c * sp) {
		int ch = (i / sp) % c;
		float xhat = (x[i] - saved[ch]) * saved[c + ch];
		dx[i] += coef[ch] * (dy[i] - coef[c + ch] - xhat * coef[2 * c + ch]);
	}
}`},
	// adaptive_avgpool_fwd writes the mean of each output's window, with
	// PyTorch's rule: rows [i*h/oh, ceil((i+1)*h/oh)), columns likewise.
	{"adaptive_avgpool_fwd", `extern "C" __global__ void adaptive_avgpool_fwd(float* y, const float* x, int planes, int h, int w, int oh, int ow) {
	KILN_LOOP(i, planes * oh * ow) {
		int pl = i / (oh * ow), r = i % (oh * ow);
		int oy = r / ow, ox = r % ow;
		int h0 = oy * h / oh, h1 = ((oy + 1) * h + oh - 1) / oh;
		int w0 = ox * w / ow, w1 = ((ox + 1) * w + ow - 1) / ow;
		const float* p = x + (long long)pl * h * w;
		float s = 0.f;
		for (int yy = h0; yy < h1; yy++)
			for (int xx = w0; xx < w1; xx++) s += p[yy * w + xx];
		y[i] = s / (float)((h1 - h0) * (w1 - w0));
	}
}`},
	// adaptive_avgpool_bwd_acc adds each input's share of the gradients
	// of the windows that hold it (windows may overlap): a gather, no
	// atomics.
	{"adaptive_avgpool_bwd_acc", `extern "C" __global__ void adaptive_avgpool_bwd_acc(float* dx, const float* dy, int planes, int h, int w, int oh, int ow) {
	KILN_LOOP(i, planes * h * w) {
		int pl = i / (h * w), r = i % (h * w);
		int yy = r / w, xx = r % w;
		const float* g = dy + (long long)pl * oh * ow;
		float s = 0.f;
		for (int oy = yy * oh / h; oy < oh && oy * h / oh <= yy; oy++) {
			int h1 = ((oy + 1) * h + oh - 1) / oh;
			if (yy >= h1) continue;
			int hh = h1 - oy * h / oh;
			for (int ox = xx * ow / w; ox < ow && ox * w / ow <= xx; ox++) {
				int w1 = ((ox + 1) * w + ow - 1) / ow;
				if (xx >= w1) continue;
				s += g[oy * ow + ox] / (float)(hh * (w1 - ox * w / ow));
			}
		}
		dx[i] += s;
	}
}`},
	// sumsq_partial writes each block's sum of squares of x to
	// part[blockIdx.x] (blockDim a power of two up to 256): the first half
	// of gradient clipping's norm.
	{"sumsq_partial", `extern "C" __global__ void sumsq_partial(float* part, const float* x, int n) {
	__shared__ float s[256];
	float a = 0.f;
	KILN_LOOP(i, n) { a += x[i] * x[i]; }
	s[threadIdx.x] = a;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
		__syncthreads();
	}
	if (threadIdx.x == 0) part[blockIdx.x] = s[0];
}`},
	// clip_scale sums sumsq_partial's nparts partials (at most blockDim,
	// 256, in every block alike), takes coef = maxnorm/(sqrt(sum)+1e-6)
	// and, when it is below 1, scales g by it.
	{"clip_scale", `extern "C" __global__ void clip_scale(float* g, const float* part, int nparts, float maxnorm, int n) {
	__shared__ float s[256];
	s[threadIdx.x] = threadIdx.x < nparts ? part[threadIdx.x] : 0.f;
	__syncthreads();
	for (int w = blockDim.x / 2; w > 0; w /= 2) {
		if (threadIdx.x < w) s[threadIdx.x] += s[threadIdx.x + w];
		__syncthreads();
	}
	float coef = maxnorm / (sqrtf(s[0]) + 1e-6f);
	if (coef >= 1.f) return;
	KILN_LOOP(i, n) { g[i] *= coef; }
}`},
}
