package nn

import "sync"

// winograd evaluates a 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3)
// (Lavin and Gray, 2016): the output is cut into tiles of 2×2 pixels, each computed from the
// 4×4 input pixels around it as Y = Aᵀ[Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B)]A, which takes 16
// multiplications per input channel and output channel where the direct convolution takes 36.
//
// Per block of tiles, the input transform writes V (16 matrices of tiles × input channels, one
// per element ξ of the 4×4 transformed tile), 16 GEMMs multiply them by the filter transforms
// U_ξ = (G g Gᵀ)_ξ (input × output channels, packed once at compile time for the rowGemm
// micro-kernel) into M, and the output transform writes Aᵀ M A with the bias, the residual
// operand already in the output (flagAcc) and the ReLU, in the order of the GEMM's epilogue.
// The transforms only add and subtract, in a fixed order (winoInGo, winoOutGo), and every
// tile's GEMM row is computed on its own, so each output value depends neither on how the tiles
// are cut into blocks nor on the kernel set's width.
type winograd struct {
	th, tw      int // tiles of 2×2 output pixels: rows, columns
	pt, pl      int // zeros before the first input row and column
	cin         int
	cinp, coutp int // channel pitch of V and M (multiples of 16)
	u           []rowGemm
	bias        []float32 // coutp, zero-padded
	flags       int       // output transform epilogue: flagAcc, flagBias, flagReLU
	block       int       // tiles per block (a multiple of 6)
}

// winoBlockBytes bounds the V and M matrices of one block of tiles, so that they stay in a
// core's L2 cache between the transforms and the GEMMs.
const winoBlockBytes = 1 << 20

// winoG is the filter transform matrix G of F(2×2, 3×3).
var winoG = [4][3]float64{{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}

// newWinograd packs a Keras 3×3 kernel w[i,j,c,o] (cin×cout, batchnorm folded, float64) for an
// input of pitch cinp and an output of oh×ow pixels with pt, pl zeros before the first input row
// and column. The transform U = G g Gᵀ is computed in float64 and rounded once.
func newWinograd(w, bias []float64, cin, cout, cinp, oh, ow, pt, pl int, relu, res bool) *winograd {
	wg := &winograd{th: (oh + 1) / 2, tw: (ow + 1) / 2, pt: pt, pl: pl, cin: cin, cinp: cinp, coutp: roundUp(cout, nr)}
	u := make([][]float64, 16)
	for xi := range u {
		u[xi] = make([]float64, cin*cout)
	}
	for c := 0; c < cin; c++ {
		for o := 0; o < cout; o++ {
			var g [3][3]float64
			for i := 0; i < 3; i++ {
				for j := 0; j < 3; j++ {
					g[i][j] = w[((i*3+j)*cin+c)*cout+o]
				}
			}
			var gg [4][3]float64 // G g
			for a := 0; a < 4; a++ {
				for j := 0; j < 3; j++ {
					for i := 0; i < 3; i++ {
						gg[a][j] += winoG[a][i] * g[i][j]
					}
				}
			}
			for a := 0; a < 4; a++ {
				for b := 0; b < 4; b++ {
					var s float64
					for j := 0; j < 3; j++ {
						s += gg[a][j] * winoG[b][j]
					}
					u[4*a+b][c*cout+o] = s
				}
			}
		}
	}
	wg.u = make([]rowGemm, 16)
	for xi := range wg.u {
		b, seglen, np := packConv(u[xi], 1, 1, cin, cout, cinp)
		wg.u[xi] = rowGemm{rs: cinp, nseg: 1, seglen: seglen, np: np, b: b, bias: make([]float32, np*nr)}
	}
	wg.bias = padBias(bias, wg.coutp)
	wg.flags = flagBias
	if res {
		wg.flags |= flagAcc
	}
	if relu {
		wg.flags |= flagReLU
	}
	wg.block = max(mr, winoBlockBytes/(16*4*(cinp+wg.coutp))/mr*mr)
	return wg
}

// wscratch is one goroutine's workspace of a Winograd convolution.
type wscratch struct {
	v, m []float32 // V and M of a block of tiles
	edge []float32 // a border tile's 4×4 input pixels, or its 2×2 output pixels
}

// blocks cuts the image's tiles into n contiguous blocks of size tiles (the last one shorter),
// at most w.block tiles each, and at least gw blocks when there are enough tiles to share
// between gw goroutines. Block b is tiles b·size .. min((b+1)·size, th·tw)-1.
func (w *winograd) blocks(gw int) (size, n int) {
	t := w.th * w.tw
	n = (t + w.block - 1) / w.block
	n = max(n, min(gw, t/(4*mr)))
	size = roundUp((t+n-1)/n, mr)
	return size, (t + size - 1) / size
}

// run computes one image: x (in) to y (out), y already holding the residual operand when
// w.flags has flagAcc. Blocks of tiles are shared between the goroutines of scs and wss.
func (w *winograd) run(x []float32, in, out geom, y []float32, scs []*scratch, wss []*wscratch) {
	t := w.th * w.tw
	if t == 0 {
		return
	}
	size, nb := w.blocks(len(scs))
	work := func(b0, b1, k int) {
		for b := b0; b < b1; b++ {
			t0, t1 := b*size, min((b+1)*size, t)
			w.input(x, in, t0, t1, wss[k])
			w.multiply(t1-t0, scs[k:k+1], wss[k])
			w.output(y, out, t0, t1, wss[k])
		}
	}
	g := min(len(scs), nb)
	if g <= 1 {
		work(0, nb, 0)
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < g; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(nb*k/g, nb*(k+1)/g, k)
		}()
	}
	work(0, nb/g, 0)
	wg.Wait()
}

// input writes the transformed input tiles t0..t1-1 to ws.v: matrix ξ holds tile t's channels
// at ws.v[ξ·n·cinp + (t-t0)·cinp:], n = t1-t0. Runs of tiles whose 4×4 pixels lie inside the
// input are read in place; the others through ws.edge, with zeros outside.
func (w *winograd) input(x []float32, in geom, t0, t1 int, ws *wscratch) {
	n, cp := t1-t0, w.cinp
	ws.v = grow(ws.v, 16*n*cp)
	nblk := cp / nr
	vs := n * cp
	row, px := in.w*in.pitch, in.pitch
	for t := t0; t < t1; {
		ty, tx := t/w.tw, t%w.tw
		y0, x0 := 2*ty-w.pt, 2*tx-w.pl
		if y0 >= 0 && y0+4 <= in.h && x0 >= 0 && x0+4 <= in.w {
			// A run of interior tiles along the tile row.
			k := 1
			for tx+k < w.tw && t+k < t1 && x0+2*k+4 <= in.w {
				k++
			}
			winoIn(ws.v[(t-t0)*cp:], vs, cp, x[y0*row+x0*px:], row, px, nblk, k)
			t += k
			continue
		}
		ws.edge = grow(ws.edge, 16*cp)
		e := ws.edge
		for i := 0; i < 4; i++ {
			for j := 0; j < 4; j++ {
				p := e[(4*i+j)*cp:][:cp]
				iy, ix := y0+i, x0+j
				if iy < 0 || iy >= in.h || ix < 0 || ix >= in.w {
					clear(p)
					continue
				}
				copy(p, x[iy*row+ix*px:][:cp])
			}
		}
		winoIn(ws.v[(t-t0)*cp:], vs, cp, e, 4*cp, cp, nblk, 1)
		t++
	}
}

// multiply computes M_ξ = V_ξ·U_ξ for the n tiles of the block in ws.v, into ws.m (matrix ξ at
// ws.m[ξ·n·coutp:], rows coutp apart), on the one goroutine of sc.
func (w *winograd) multiply(n int, sc []*scratch, ws *wscratch) {
	ws.m = grow(ws.m, 16*n*w.coutp)
	v := ws.v[:16*n*w.cinp]
	for xi := range w.u {
		gemmPixels(&w.u[xi], v[xi*n*w.cinp:][:n*w.cinp], ws.m[xi*n*w.coutp:][:n*w.coutp], w.coutp, n, sc)
	}
}

// output writes the output pixels of tiles t0..t1-1 from ws.m; tiles cut by the output's last
// row or column go through ws.edge.
func (w *winograd) output(y []float32, out geom, t0, t1 int, ws *wscratch) {
	n, cp := t1-t0, w.coutp
	nblk := cp / nr
	ms := n * cp
	m := ws.m[:16*ms]
	row, px := out.w*out.pitch, out.pitch
	for t := t0; t < t1; {
		ty, tx := t/w.tw, t%w.tw
		y0, x0 := 2*ty, 2*tx
		if y0+2 <= out.h && x0+2 <= out.w {
			k := 1
			for tx+k < w.tw && t+k < t1 && x0+2*k+2 <= out.w {
				k++
			}
			winoOut(y[y0*row+x0*px:], row, px, m[(t-t0)*cp:], ms, cp, w.bias, nblk, k, w.flags)
			t += k
			continue
		}
		ws.edge = grow(ws.edge, max(16*w.cinp, 4*cp))
		e := ws.edge[:4*cp]
		clear(e)
		if w.flags&flagAcc != 0 {
			for i := 0; i < 2 && y0+i < out.h; i++ {
				for j := 0; j < 2 && x0+j < out.w; j++ {
					copy(e[(2*i+j)*cp:][:cp], y[(y0+i)*row+(x0+j)*px:][:cp])
				}
			}
		}
		winoOut(e, 2*cp, cp, m[(t-t0)*cp:], ms, cp, w.bias, nblk, 1, w.flags)
		for i := 0; i < 2 && y0+i < out.h; i++ {
			for j := 0; j < 2 && x0+j < out.w; j++ {
				copy(y[(y0+i)*row+(x0+j)*px:][:cp], e[(2*i+j)*cp:][:cp])
			}
		}
		t++
	}
}

// winoIn is the input transform of ntiles tiles side by side: tile t's 4×4 pixels are
// src[2t·px + i·row + j·px + c] (c < 16·nblk), and element ξ = 4i+j of Bᵀ d B goes to
// v[ξ·vs + t·vt + c]. Strides in floats.
func winoIn(v []float32, vs, vt int, src []float32, row, px, nblk, ntiles int) {
	if kern == kernelsAVX512 {
		winoIn512(v, vs, vt, src, row, px, nblk, ntiles)
		return
	}
	winoInGo(v, vs, vt, src, row, px, nblk, ntiles)
}

// winoOut is the output transform of ntiles tiles side by side: element ξ of tile t's M is
// m[ξ·ms + t·mt + c], and the 2×2 pixels of Aᵀ M A go to y[2t·px + i·row + j·px + c], after
// the flags (flagAcc adds y's value there, flagBias bias[c], flagReLU) in that order.
func winoOut(y []float32, row, px int, m []float32, ms, mt int, bias []float32, nblk, ntiles, flags int) {
	if kern == kernelsAVX512 {
		winoOut512(y, row, px, m, ms, mt, bias, nblk, ntiles, flags)
		return
	}
	winoOutGo(y, row, px, m, ms, mt, bias, nblk, ntiles, flags)
}

// winoInGo is the pure-Go winoIn: rows of Bᵀd first, then their columns times B, each element
// one addition or subtraction.
func winoInGo(v []float32, vs, vt int, src []float32, row, px, nblk, ntiles int) {
	var d, o [16]*[nr]float32
	for t := 0; t < ntiles; t++ {
		for b := 0; b < nblk; b++ {
			s := 2*t*px + b*nr
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					d[4*i+j] = (*[nr]float32)(src[s+i*row+j*px:])
				}
			}
			for xi := range o {
				o[xi] = (*[nr]float32)(v[xi*vs+t*vt+b*nr:])
			}
			for c := 0; c < nr; c++ {
				var r [16]float32
				for j := 0; j < 4; j++ {
					d0, d1, d2, d3 := d[j][c], d[4+j][c], d[8+j][c], d[12+j][c]
					r[j], r[4+j], r[8+j], r[12+j] = d0-d2, d1+d2, d2-d1, d1-d3
				}
				for i := 0; i < 4; i++ {
					r0, r1, r2, r3 := r[4*i], r[4*i+1], r[4*i+2], r[4*i+3]
					o[4*i][c], o[4*i+1][c], o[4*i+2][c], o[4*i+3][c] = r0-r2, r1+r2, r2-r1, r1-r3
				}
			}
		}
	}
}

// winoOutGo is the pure-Go winoOut: rows of Aᵀm first, then their columns times A, each sum
// from left to right.
func winoOutGo(y []float32, row, px int, m []float32, ms, mt int, bias []float32, nblk, ntiles, flags int) {
	var in [16]*[nr]float32
	for t := 0; t < ntiles; t++ {
		for b := 0; b < nblk; b++ {
			for xi := range in {
				in[xi] = (*[nr]float32)(m[xi*ms+t*mt+b*nr:])
			}
			var acc [4][nr]float32
			for c := 0; c < nr; c++ {
				var s0, s1 [4]float32
				for j := 0; j < 4; j++ {
					m0, m1, m2, m3 := in[j][c], in[4+j][c], in[8+j][c], in[12+j][c]
					s0[j], s1[j] = m0+m1+m2, m1-m2-m3
				}
				acc[0][c], acc[1][c] = s0[0]+s0[1]+s0[2], s0[1]-s0[2]-s0[3]
				acc[2][c], acc[3][c] = s1[0]+s1[1]+s1[2], s1[1]-s1[2]-s1[3]
			}
			var bb []float32
			if flags&flagBias != 0 {
				bb = bias[b*nr:]
			}
			for p := 0; p < 4; p++ {
				dst := (*[nr]float32)(y[2*t*px+(p/2)*row+(p%2)*px+b*nr:])
				epilogue(&acc[p], dst, bb, flags)
				*dst = acc[p]
			}
		}
	}
}
