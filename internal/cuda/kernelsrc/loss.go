package kernelsrc

// This file holds softmax cross-entropy over rows of k logits with integer
// labels, one warp per row (blockDim a multiple of 32; grid covers
// rows*32 threads).

var losses = []Kernel{
	// softmax_xent_fwd writes each row's loss, log(sum exp(x - max)) + max
	// - x[label], and its softmax probabilities for the backward pass. A
	// label outside [0, k) gives a NaN loss.
	{"softmax_xent_fwd", `extern "C" __global__ void softmax_xent_fwd(float* loss, float* prob, const float* logits, const int* labels, int rows, int k) {
	int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
	int lane = threadIdx.x % 32;
	if (warp >= rows) return;
	const float* x = logits + (long long)warp * k;
	float* p = prob + (long long)warp * k;
	float m = -__int_as_float(0x7f800000);
	for (int j = lane; j < k; j += 32) m = fmaxf(m, x[j]);
	for (int o = 16; o > 0; o /= 2) m = fmaxf(m, __shfl_xor_sync(0xffffffff, m, o));
	float s = 0.f;
	for (int j = lane; j < k; j += 32) { float e = expf(x[j] - m); p[j] = e; s += e; }
	for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffff, s, o);
	for (int j = lane; j < k; j += 32) p[j] /= s;
	if (lane == 0) {
		int y = labels[warp];
		loss[warp] = (y < 0 || y >= k) ? KILN_NAN : logf(s) + m - x[y];
	}
}`},
	// softmax_xent_bwd writes dx = (prob - onehot(label)) * scale, scale
	// being the upstream gradient over the rows averaged (1/rows for a mean).
	{"softmax_xent_bwd", `extern "C" __global__ void softmax_xent_bwd(float* dx, const float* prob, const int* labels, float scale, int rows, int k) {
	KILN_LOOP(i, rows * k) {
		int r = i / k, j = i % k;
		dx[i] = (prob[i] - (j == labels[r] ? 1.f : 0.f)) * scale;
	}
}`},
}
