package nn

import (
	"fmt"
	"math"
)

// Optimizer updates a network's trainable weights from their gradients, with the semantics of
// the Keras 3 optimizer of the same name (keras/src/optimizers/*.py): float32 arithmetic, one
// rounding per Keras op (no fused multiply-adds), gradients clipped element-wise to
// [−ClipValue, ClipValue] first when ClipValue > 0 (Keras: BaseOptimizer._clip_gradients with
// clipvalue). Adam and SGD implement it; the methods are unexported, so no other type can.
type Optimizer interface {
	// stateLen is the number of floats of state the optimizer keeps per weight.
	stateLen() int
	// update applies step number iter (1 for the first) to the weights w given their gradient g
	// (clipped in place) and the state (stateLen()·len(w) floats, zero before the first step),
	// with the learning rate multiplied by scale (1: the optimizer's own rate, bit for bit).
	update(w, g, state []float32, iter int64, scale float64)
	// check reports invalid hyper-parameters.
	check() error
}

// Adam is Keras 3's Adam (keras/src/optimizers/adam.py, amsgrad off). Per step t (1-based) and
// weight, in float32:
//
//	α = lr·sqrt(1 − β₂ᵗ)/(1 − β₁ᵗ)
//	m += (g − m)·(1 − β₁)
//	v += (g² − v)·(1 − β₂)
//	w −= (m·α)/(sqrt(v) + ε)
//
// that is, the bias correction folded into the step size ("epsilon hat" form), as Keras 3 does;
// β₁ᵗ and β₂ᵗ are computed in float64 from the float32 β and rounded to float32 (TF computes
// them with a float32 pow; the two may differ in the last bit).
type Adam struct {
	LearningRate float64 // upstream: 1e-4
	Beta1        float64 // Keras default 0.9
	Beta2        float64 // Keras default 0.999
	Epsilon      float64 // Keras default 1e-7
	ClipValue    float64 // element-wise gradient clipping; 0: none (upstream shared models: 0.5)
}

// NewAdam returns Adam with Keras' defaults (β₁ 0.9, β₂ 0.999, ε 1e-7), the given learning rate
// and clipvalue (0 for none).
func NewAdam(learningRate, clipValue float64) *Adam {
	return &Adam{LearningRate: learningRate, Beta1: 0.9, Beta2: 0.999, Epsilon: 1e-7, ClipValue: clipValue}
}

func (a *Adam) stateLen() int { return 2 }

func (a *Adam) check() error {
	if !(a.LearningRate >= 0) || !(a.Beta1 >= 0 && a.Beta1 < 1) || !(a.Beta2 >= 0 && a.Beta2 < 1) || !(a.Epsilon >= 0) || !(a.ClipValue >= 0) ||
		math.IsInf(a.LearningRate, 0) || math.IsInf(a.Epsilon, 0) || math.IsInf(a.ClipValue, 0) {
		return fmt.Errorf("adam: invalid hyper-parameters %+v", *a)
	}
	return nil
}

func (a *Adam) update(w, g, state []float32, iter int64, scale float64) {
	clipValues(g, a.ClipValue)
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	b1p := float32(math.Pow(float64(b1), float64(iter)))
	b2p := float32(math.Pow(float64(b2), float64(iter)))
	lr := float32(a.LearningRate * scale)
	alpha := float32(lr*float32(math.Sqrt(float64(1-b2p)))) / (1 - b1p)
	omb1, omb2 := float32(1-a.Beta1), float32(1-a.Beta2) // Python floats 1 − β, cast to float32
	eps := float32(a.Epsilon)
	m, v := state[:len(w)], state[len(w):2*len(w)]
	for i, gi := range g {
		m[i] += float32((gi - m[i]) * omb1)
		g2 := float32(gi * gi)
		v[i] += float32((g2 - v[i]) * omb2)
		num := float32(m[i] * alpha)
		den := float32(math.Sqrt(float64(v[i]))) + eps
		w[i] -= num / den
	}
}

// SGD is Keras 3's SGD with momentum (keras/src/optimizers/sgd.py, nesterov off), in float32:
//
//	m = m·momentum − g·lr;  w += m         (momentum > 0)
//	w −= g·lr                              (momentum = 0)
//
// Upstream trains the ensemble with SGD(lr, momentum 0.75, clipvalue 0.5).
type SGD struct {
	LearningRate float64
	Momentum     float64
	ClipValue    float64 // element-wise gradient clipping; 0: none
}

func (s *SGD) stateLen() int {
	if s.Momentum != 0 {
		return 1
	}
	return 0
}

func (s *SGD) check() error {
	if !(s.LearningRate >= 0) || !(s.Momentum >= 0 && s.Momentum <= 1) || !(s.ClipValue >= 0) ||
		math.IsInf(s.LearningRate, 0) || math.IsInf(s.ClipValue, 0) {
		return fmt.Errorf("sgd: invalid hyper-parameters %+v", *s)
	}
	return nil
}

func (s *SGD) update(w, g, state []float32, _ int64, scale float64) {
	clipValues(g, s.ClipValue)
	lr := float32(s.LearningRate * scale)
	if s.Momentum == 0 {
		for i, gi := range g {
			w[i] -= float32(gi * lr)
		}
		return
	}
	mom := float32(s.Momentum)
	m := state[:len(w)]
	for i, gi := range g {
		m[i] = float32(m[i]*mom) - float32(gi*lr)
		w[i] += m[i]
	}
}

// clipValues clips g element-wise to [−c, c] when c > 0 (tf.clip_by_value).
func clipValues(g []float32, c float64) {
	if !(c > 0) {
		return
	}
	hi := float32(c)
	for i, v := range g {
		if v > hi {
			g[i] = hi
		} else if v < -hi {
			g[i] = -hi
		}
	}
}
