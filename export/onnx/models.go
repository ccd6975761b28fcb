package onnx

// The forward graphs of kiln's model zoo. Package models cannot import this
// one (export sits above models), so instead of ExportONNX methods the zoo's
// architectures have cases here; each mirrors its model's Forward, calling
// b.Module for every submodule in the same order. A new architecture adds a
// case to zooModel and a function beside the others.

import (
	"fmt"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/nn"
)

// zooModel exports one of kiln's named architectures; ok is false for other
// module types.
func (b *Builder) zooModel(m nn.Module, x string) (y string, ok bool, err error) {
	switch m := m.(type) {
	case *models.SeedCNN:
		y, err = b.seedCNN(m, x)
	case *models.MLP:
		y, err = b.mlp(m, x)
	case *models.LeNet5:
		y, err = b.lenet5(m, x)
	case *models.ResNet:
		y, err = b.resnet(m, x)
	case *models.BasicBlock:
		y, err = b.basicBlock(m, x)
	case *models.Stack:
		y, err = b.Module("layers", m.Layers, x)
	default:
		return "", false, nil
	}
	return y, true, err
}

// seedCNN mirrors SeedCNN.Forward.
func (b *Builder) seedCNN(m *models.SeedCNN, x string) (string, error) {
	steps := []struct {
		name string
		m    nn.Module
		relu bool
	}{
		{"conv1", m.Conv1, true}, {"pool", m.Pool, false},
		{"conv2", m.Conv2, true}, {"pool", m.Pool, false},
		{"", nil, false}, // flatten
		{"fc1", m.FC1, true}, {"dropout", m.Dropout, false},
		{"fc2", m.FC2, false},
	}
	var err error
	for _, s := range steps {
		if s.m == nil {
			x = b.Flatten(x)
			continue
		}
		if x, err = b.Module(s.name, s.m, x); err != nil {
			return "", err
		}
		if s.relu {
			x = b.Relu(x)
		}
	}
	return x, nil
}

// mlp mirrors MLP.Forward.
func (b *Builder) mlp(m *models.MLP, x string) (string, error) {
	return b.Module("layers", m.Layers, b.Flatten(x))
}

// lenet5 mirrors LeNet5.Forward.
func (b *Builder) lenet5(m *models.LeNet5, x string) (string, error) {
	var err error
	for _, c := range []*nn.Conv2d{m.Conv1, m.Conv2} {
		name := "conv1"
		if c == m.Conv2 {
			name = "conv2"
		}
		if x, err = b.Module(name, c, x); err != nil {
			return "", err
		}
		if x, err = b.Module("pool", m.Pool, b.Relu(x)); err != nil {
			return "", err
		}
	}
	x = b.Flatten(x)
	for _, l := range []struct {
		name string
		m    *nn.Linear
	}{{"fc1", m.FC1}, {"fc2", m.FC2}} {
		if x, err = b.Module(l.name, l.m, x); err != nil {
			return "", err
		}
		x = b.Relu(x)
	}
	return b.Module("fc3", m.FC3, x)
}

// resnet mirrors ResNet.Forward.
func (b *Builder) resnet(m *models.ResNet, x string) (string, error) {
	var err error
	if x, err = b.Module("conv1", m.Conv1, x); err != nil {
		return "", err
	}
	if x, err = b.Module("bn1", m.BN1, x); err != nil {
		return "", err
	}
	x = b.Relu(x)
	for i, l := range m.Layers {
		if x, err = b.Module(fmt.Sprintf("layer%d", i+1), l, x); err != nil {
			return "", err
		}
	}
	if x, err = b.Module("avgpool", &nn.AdaptiveAvgPool2d{OutH: 1, OutW: 1}, x); err != nil {
		return "", err
	}
	return b.Module("fc", m.FC, b.Flatten(x))
}

// basicBlock mirrors BasicBlock.Forward: two conv-BN pairs and a residual add.
func (b *Builder) basicBlock(m *models.BasicBlock, x string) (string, error) {
	h, err := b.Module("conv1", m.Conv1, x)
	if err != nil {
		return "", err
	}
	if h, err = b.Module("bn1", m.BN1, h); err != nil {
		return "", err
	}
	if h, err = b.Module("conv2", m.Conv2, b.Relu(h)); err != nil {
		return "", err
	}
	if h, err = b.Module("bn2", m.BN2, h); err != nil {
		return "", err
	}
	sc := x
	if m.Shortcut != nil {
		if sc, err = b.Module("shortcut", m.Shortcut, x); err != nil {
			return "", err
		}
	}
	y, err := b.Add(h, sc)
	if err != nil {
		return "", err
	}
	return b.Relu(y), nil
}
