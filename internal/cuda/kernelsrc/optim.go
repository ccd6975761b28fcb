package kernelsrc

// This file holds the optimiser updates, with PyTorch's single-tensor
// operation order as kernels.AdamStep and kernels.SGDStep have it; the
// coefficients are computed on the host once per step (optim's AdamCoef
// and SGDCoef carry the same values).

var optimizers = []Kernel{
	// adam_step: mode 0 plain, 1 L2 (torch.optim.Adam's weight_decay: g +=
	// wd*p), 2 decoupled (AdamW: p *= decay). Then m = m*b1 + g*c1;
	// v = v*b2 + (c2*g)*g; p += (negstep*m) / (sqrt(v)/bc2sqrt + eps).
	{"adam_step", `extern "C" __global__ void adam_step(float* p, const float* g, float* m, float* v, int n, int mode,
	float b1, float b2, float c1, float c2, float bc2sqrt, float negstep, float eps, float wd, float decay) {
	KILN_LOOP(i, n) {
		float gi = g[i];
		if (mode == 1) gi += wd * p[i];
		if (mode == 2) p[i] *= decay;
		float mi = m[i] * b1 + gi * c1;
		float vi = v[i] * b2 + c2 * gi * gi;
		m[i] = mi;
		v[i] = vi;
		p[i] += (negstep * mi) / (sqrtf(vi) / bc2sqrt + eps);
	}
}`},
	// sgd_step: g += wd*p when wd != 0; with momentum, buf = g on the first
	// step, else momentum*buf + damp*g, then g = buf or, with Nesterov,
	// g + momentum*buf; p -= lr*g.
	{"sgd_step", `extern "C" __global__ void sgd_step(float* p, const float* g, float* buf, int n, float lr, float wd,
	float momentum, float damp, int first, int nesterov) {
	KILN_LOOP(i, n) {
		float gi = g[i];
		if (wd != 0.f) gi += wd * p[i];
		if (momentum != 0.f) {
			float b = first ? gi : momentum * buf[i] + damp * gi;
			buf[i] = b;
			gi = nesterov ? gi + momentum * b : b;
		}
		p[i] -= lr * gi;
	}
}`},
}
