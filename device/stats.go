package device

// This file moves the batch normalisation layers' running statistics
// between the device and the host modules. It leaves out their use in the
// forward pass (program.go).

// uploadStats copies the batch normalisation layers' running statistics
// from the host modules to the device.
func (p *program) uploadStats() error {
	for i, l := range p.layers {
		if st := p.stats[i]; !st.mean.IsNil() {
			if err := p.b.Upload(st.mean, l.bn.RunningMean.Data()); err != nil {
				return err
			}
			if err := p.b.Upload(st.vr, l.bn.RunningVar.Data()); err != nil {
				return err
			}
		}
	}
	p.moved = false
	return nil
}

// downloadStats copies them back to the host modules, when a training
// step moved them.
func (p *program) downloadStats() error {
	if !p.moved {
		return nil
	}
	for i, l := range p.layers {
		if st := p.stats[i]; !st.mean.IsNil() {
			if err := p.b.Download(l.bn.RunningMean.Data(), st.mean); err != nil {
				return err
			}
			if err := p.b.Download(l.bn.RunningVar.Data(), st.vr); err != nil {
				return err
			}
		}
	}
	p.moved = false
	return nil
}
