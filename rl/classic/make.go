package classic

import (
	"fmt"
	"strings"

	"github.com/kiln-ml/kiln/rl"
)

// Renderer is an environment that draws its state as a text frame.
type Renderer interface {
	Render() string
}

// envs maps each name Make accepts to its constructor.
var envs = map[string]func() rl.Env{
	"cartpole":    func() rl.Env { return NewCartPole() },
	"acrobot":     func() rl.Env { return NewAcrobot() },
	"mountaincar": func() rl.Env { return NewMountainCar() },
	"pendulum":    func() rl.Env { return NewPendulum() },
}

// Names lists the environments by their short names.
func Names() []string { return []string{"cartpole", "acrobot", "mountaincar", "pendulum"} }

// Canonical returns the short name of an environment named either way:
// "cartpole" or Gymnasium's id "CartPole-v1", in any case.
func Canonical(name string) (string, error) {
	n := strings.ToLower(name)
	for _, short := range Names() {
		if n == short || n == strings.ToLower(envs[short]().Spec().ID) {
			return short, nil
		}
	}
	return "", fmt.Errorf("classic: unknown environment %q; want one of %s", name, strings.Join(Names(), ", "))
}

// Maker returns the constructor of the named environment.
func Maker(name string) (func() rl.Env, error) {
	short, err := Canonical(name)
	if err != nil {
		return nil, err
	}
	return envs[short], nil
}

// Make returns a new environment by name.
func Make(name string) (rl.Env, error) {
	f, err := Maker(name)
	if err != nil {
		return nil, err
	}
	return f(), nil
}
