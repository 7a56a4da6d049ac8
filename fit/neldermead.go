package fit

import (
	"math"
	"sort"
)

// nelderMead minimises f from x0 by the Nelder–Mead simplex method
// (standard coefficients; initial steps of 0.5 in each coordinate, which
// are log-parameters here). It is deterministic. gonum's optimize package
// would pull golang.org/x/tools into the module for one routine.
func nelderMead(f func([]float64) float64, x0 []float64, maxEval int) ([]float64, float64) {
	n := len(x0)
	type pt struct {
		x []float64
		f float64
	}
	simplex := make([]pt, n+1)
	evals := 0
	eval := func(x []float64) float64 { evals++; return f(x) }
	for i := range simplex {
		x := append([]float64(nil), x0...)
		if i > 0 {
			x[i-1] += 0.5
		}
		simplex[i] = pt{x, eval(x)}
	}
	mk := func(c []float64, a float64, w []float64) []float64 { // c + a (c - w)
		out := make([]float64, n)
		for i := range out {
			out[i] = c[i] + a*(c[i]-w[i])
		}
		return out
	}
	for evals < maxEval {
		sort.SliceStable(simplex, func(i, j int) bool { return simplex[i].f < simplex[j].f })
		lo, hi := simplex[0].f, simplex[n].f
		if math.Abs(hi-lo) <= 1e-10*(math.Abs(lo)+1e-10) {
			spread := 0.0
			for _, p := range simplex[1:] {
				for i := range p.x {
					spread = math.Max(spread, math.Abs(p.x[i]-simplex[0].x[i]))
				}
			}
			if spread < 1e-8 {
				break
			}
		}
		c := make([]float64, n)
		for _, p := range simplex[:n] {
			for i := range c {
				c[i] += p.x[i] / float64(n)
			}
		}
		worst := simplex[n]
		r := mk(c, 1, worst.x)
		fr := eval(r)
		switch {
		case fr < simplex[0].f:
			e := mk(c, 2, worst.x)
			if fe := eval(e); fe < fr {
				simplex[n] = pt{e, fe}
			} else {
				simplex[n] = pt{r, fr}
			}
		case fr < simplex[n-1].f:
			simplex[n] = pt{r, fr}
		default:
			var k []float64
			if fr < worst.f {
				k = mk(c, 0.5, worst.x) // outside contraction
			} else {
				k = mk(c, -0.5, worst.x) // inside contraction
			}
			if fk := eval(k); fk < math.Min(fr, worst.f) {
				simplex[n] = pt{k, fk}
				continue
			}
			for i := 1; i <= n; i++ { // shrink towards the best
				x := make([]float64, n)
				for j := range x {
					x[j] = simplex[0].x[j] + 0.5*(simplex[i].x[j]-simplex[0].x[j])
				}
				simplex[i] = pt{x, eval(x)}
			}
		}
	}
	sort.SliceStable(simplex, func(i, j int) bool { return simplex[i].f < simplex[j].f })
	return simplex[0].x, simplex[0].f
}
