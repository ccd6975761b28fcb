package kernelsrc

// This file holds 2x2 max pooling at stride 2 over planes of h x w (the
// N*C planes of an NCHW tensor); odd rows and columns at the end are
// dropped, as PyTorch's floor mode does.

var pooling = []Kernel{
	// maxpool2x2_fwd writes each window's maximum and its offset in the
	// plane. Ties go to the earliest tap (top-left, top-right, bottom-left,
	// bottom-right); a NaN beats every number and a later NaN an earlier
	// one, as in PyTorch and kernels.MaxPool2x2Row.
	{"maxpool2x2_fwd", `extern "C" __global__ void maxpool2x2_fwd(float* y, int* idx, const float* x, int planes, int h, int w) {
	int oh = h / 2, ow = w / 2;
	KILN_LOOP(i, planes * oh * ow) {
		int pl = i / (oh * ow), r = i % (oh * ow);
		int oy = r / ow, ox = r % ow;
		const float* p = x + (long long)pl * h * w;
		int off[4] = {2 * oy * w + 2 * ox, 2 * oy * w + 2 * ox + 1, (2 * oy + 1) * w + 2 * ox, (2 * oy + 1) * w + 2 * ox + 1};
		float best = p[off[0]];
		int bi = off[0];
		for (int t = 1; t < 4; t++) {
			float v = p[off[t]];
			if (v > best || v != v) { best = v; bi = off[t]; }
		}
		y[i] = best;
		idx[i] = bi;
	}
}`},
	// maxpool2x2_bwd accumulates dy into dx at the winners' offsets. The
	// windows do not overlap, so no two threads write one element.
	{"maxpool2x2_bwd", `extern "C" __global__ void maxpool2x2_bwd(float* dx, const int* idx, const float* dy, int planes, int h, int w) {
	int oh = h / 2, ow = w / 2;
	KILN_LOOP(i, planes * oh * ow) {
		int pl = i / (oh * ow);
		dx[(long long)pl * h * w + idx[i]] += dy[i];
	}
}`},
}
