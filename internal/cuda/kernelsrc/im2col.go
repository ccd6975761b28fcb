package kernelsrc

// This file holds the lowering of one image's convolution to a GEMM (as
// internal/kernels/conv does on the CPU): im2col unrolls the c x h x w
// image into a (c*kh*kw) x (oh*ow) column matrix, col2im folds such a
// matrix back, summing overlaps, for the data gradient. Zero padding,
// strides and dilations follow PyTorch's Conv2d.

var lowering = []Kernel{
	{"im2col", `extern "C" __global__ void im2col(float* col, const float* x, int c, int h, int w, int kh, int kw,
	int padh, int padw, int sh, int sw, int dh, int dw, int oh, int ow) {
	KILN_LOOP(i, c * oh * ow) {
		int ch = i / (oh * ow), r = i % (oh * ow);
		int oy = r / ow, ox = r % ow;
		float* dst = col + (long long)ch * kh * kw * oh * ow + r;
		const float* src = x + (long long)ch * h * w;
		for (int ki = 0; ki < kh; ki++) {
			int y = oy * sh - padh + ki * dh;
			for (int kj = 0; kj < kw; kj++) {
				int xx = ox * sw - padw + kj * dw;
				*dst = (y >= 0 && y < h && xx >= 0 && xx < w) ? src[y * w + xx] : 0.f;
				dst += oh * ow;
			}
		}
	}
}`},
	// col2im writes (not accumulates) each input pixel's gradient: one
	// thread per pixel gathers every column entry that read it, so no two
	// threads write one element and no atomics are needed.
	{"col2im", `extern "C" __global__ void col2im(float* x, const float* col, int c, int h, int w, int kh, int kw,
	int padh, int padw, int sh, int sw, int dh, int dw, int oh, int ow) {
	KILN_LOOP(i, c * h * w) {
		int ch = i / (h * w), r = i % (h * w);
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
				s += col[(((long long)ch * kh + ki) * kw + kj) * oh * ow + oy * ow + ox];
			}
		}
		x[i] = s;
	}
}`},
}
