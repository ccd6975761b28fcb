package predict

import (
	"fmt"

	"github.com/kiln-ml/kiln/models"
	"github.com/kiln-ml/kiln/task"
)

// Sample generates n characters after prime with a language-model run's
// model, drawing from the softmax of its logits divided by temperature
// with a generator seeded by seed, or taking the most likely character
// when temperature is 0. The result starts with prime; an empty prime
// starts the model on a line break. The same arguments give the same text.
func (t *Trained) Sample(prime string, n int, temperature float64, seed uint64) (string, error) {
	m, ok := t.model.(*models.CharLM)
	if !ok || t.enc == nil {
		return "", fmt.Errorf("predict: %s is a %s run of %s; sampling needs a language model (kiln train --task lm)", t.Dir, t.Info.Task, t.Info.Model)
	}
	return task.GenerateText(m, t.enc, prime, n, temperature, seed)
}
