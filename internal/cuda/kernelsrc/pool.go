package kernelsrc

// This file holds 2x2 max pooling at stride 2 over planes of h x w (the
// N*C planes of an NCHW tensor), odd rows and columns at the end dropped
// as PyTorch's floor mode does, and average pooling with any window,
// stride, padding, ceil mode and divisor (conv.AvgPool2dParams). General
// max pooling is in backend.go, adaptive pooling in norm.go.

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
	// avgpool_fwd writes each window's mean as conv.AvgPool2dForward
	// does: the window clipped to the input, divided by divisor when it is
	// not 0, else by the clipped window's size with excludepad, else by
	// the window's size up to the padded edge; a window wholly in padding
	// gives 0.
	{"avgpool_fwd", `extern "C" __global__ void avgpool_fwd(float* y, const float* x, int planes, int h, int w, int oh, int ow,
	int kh, int kw, int sh, int sw, int ph, int pw, int excludepad, int divisor) {
	KILN_LOOP(i, planes * oh * ow) {
		int pl = i / (oh * ow), r = i % (oh * ow);
		int oy = r / ow, ox = r % ow;
		int h0 = oy * sh - ph, w0 = ox * sw - pw;
		int h1 = min(h0 + kh, h + ph), w1 = min(w0 + kw, w + pw);
		int span = (h1 - h0) * (w1 - w0);
		h0 = max(h0, 0);
		w0 = max(w0, 0);
		h1 = min(h1, h);
		w1 = min(w1, w);
		if (h0 >= h1 || w0 >= w1) {
			y[i] = 0.f;
			continue;
		}
		const float* p = x + (long long)pl * h * w;
		float s = 0.f;
		for (int yy = h0; yy < h1; yy++)
			for (int xx = w0; xx < w1; xx++) s += p[yy * w + xx];
		int d = divisor ? divisor : (excludepad ? (h1 - h0) * (w1 - w0) : span);
		y[i] = s / (float)d;
	}
}`},
	// avgpool_bwd_acc adds to each input the gradients of the windows that
	// hold it, each divided as avgpool_fwd divides: a gather over the
	// windows (which may overlap), no atomics.
	{"avgpool_bwd_acc", `extern "C" __global__ void avgpool_bwd_acc(float* dx, const float* dy, int planes, int h, int w, int oh, int ow,
	int kh, int kw, int sh, int sw, int ph, int pw, int excludepad, int divisor) {
	KILN_LOOP(i, planes * h * w) {
		int pl = i / (h * w), r = i % (h * w);
		int yy = r / w, xx = r % w;
		const float* g = dy + (long long)pl * oh * ow;
		int loy = yy + ph - kh + 1, lox = xx + pw - kw + 1;
		int oy0 = loy <= 0 ? 0 : (loy + sh - 1) / sh, oy1 = min((yy + ph) / sh, oh - 1);
		int ox0 = lox <= 0 ? 0 : (lox + sw - 1) / sw, ox1 = min((xx + pw) / sw, ow - 1);
		float s = 0.f;
		for (int oy = oy0; oy <= oy1; oy++) {
			int h0 = oy * sh - ph, h1 = min(h0 + kh, h + ph);
			int spanh = h1 - h0, nh = min(h1, h) - max(h0, 0);
			for (int ox = ox0; ox <= ox1; ox++) {
				int w0 = ox * sw - pw, w1 = min(w0 + kw, w + pw);
				int spanw = w1 - w0, nw = min(w1, w) - max(w0, 0);
				int d = divisor ? divisor : (excludepad ? nh * nw : spanh * spanw);
				s += g[oy * ow + ox] / (float)d;
			}
		}
		dx[i] += s;
	}
}`},
}
