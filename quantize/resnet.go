package quantize

// This file builds the CIFAR ResNets' programs: each convolution with the
// batch normalisation after it folded in (weights scaled per output
// channel by gamma/sqrt(var+eps), the bias made from beta and the running
// mean), residual blocks as a main branch and a shortcut that are added
// and rectified in float32, and global average pooling. It leaves out
// batch normalisation that is not right after a convolution.

import (
	"fmt"
	"math"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// resnet appends a CIFAR ResNet's layers.
func (p *program) resnet(m *models.ResNet) {
	p.convBN("conv1", m.Conv1, m.BN1, true)
	for s, stage := range m.Layers {
		for i, mod := range stage.Layers {
			b := mod.(*models.BasicBlock)
			name := fmt.Sprintf("layer%d.%d", s+1, i)
			main := &program{}
			main.convBN(name+".conv1", b.Conv1, b.BN1, true).convBN(name+".conv2", b.Conv2, b.BN2, false)
			res := &layer{kind: "residual", main: main.layers}
			if b.Shortcut != nil {
				short := &program{}
				short.convBN(name+".shortcut.0", b.Shortcut.Layers[0].(*nn.Conv2d), b.Shortcut.Layers[1].(*nn.BatchNorm), false)
				res.short = short.layers
			}
			p.layers = append(p.layers, res)
		}
	}
	p.layers = append(p.layers, &layer{kind: "avgpool"})
	p.flat().linear("fc", m.FC, false)
}

// convBN appends convolution c with bn folded into its weights and bias.
func (p *program) convBN(name string, c *nn.Conv2d, bn *nn.BatchNorm, relu bool) *program {
	p.conv(name, c, relu)
	l := p.layers[len(p.layers)-1]
	mean, variance := bn.RunningMean.Value().Values(), bn.RunningVar.Value().Values()
	eps := float64(bn.Eps)
	if eps == 0 {
		eps = 1e-5
	}
	var gamma, beta []float32
	if bn.Weight != nil {
		gamma, beta = bn.Weight.Value().Values(), bn.Bias.Value().Values()
	}
	w := append([]float32(nil), l.w...)
	bias := make([]float32, l.out)
	for o := range l.out {
		scale := 1 / math.Sqrt(float64(variance[o])+eps)
		shift := -float64(mean[o]) * scale
		if gamma != nil {
			scale, shift = scale*float64(gamma[o]), shift*float64(gamma[o])+float64(beta[o])
		}
		if l.bias != nil {
			shift += float64(l.bias[o]) * scale
		}
		for i := range l.k {
			w[o*l.k+i] = float32(float64(w[o*l.k+i]) * scale)
		}
		bias[o] = float32(shift)
	}
	l.w, l.bias = w, bias
	return p
}
