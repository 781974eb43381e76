//go:build amd64 && !purego

#include "textflag.h"
#include "tile6x16_amd64.h"

// AVX2+FMA kernels of the training engine. Contracts: kernels_train.go (Go versions with the same
// summation order) and kernels_train_amd64.go. Only AX, BX, CX, DX, SI, DI and R8-R13 are used;
// every function ends with VZEROUPPER.

// func sgemmSB(a *float32, rs, ks uintptr, k int, b *float32, bs, bp uintptr, c *float32, ldc uintptr, np int)
TEXT ·sgemmSB(SB), NOSPLIT, $0-80
	MOVQ c+56(FP), R12
	MOVQ b+32(FP), R13

sb_panel:
	MOVQ   a+0(FP), SI
	MOVQ   rs+8(FP), DI
	MOVQ   ks+16(FP), R9
	MOVQ   bs+40(FP), R10
	MOVQ   k+24(FP), CX
	MOVQ   R13, BX
	LEAQ   (SI)(DI*2), R8
	ADDQ   DI, R8
	TILE_ZERO
	TESTQ  CX, CX
	JLE    sb_store

sb_k:
	TILE_FMA
	ADDQ         R10, BX
	ADDQ         R9, SI
	ADDQ         R9, R8
	DECQ         CX
	JNZ          sb_k

sb_store:
	MOVQ    R12, SI
	MOVQ    ldc+64(FP), DI
	LEAQ    (SI)(DI*2), R8
	ADDQ    DI, R8
	TILE_ADD_C
	TILE_STORE_C
	ADDQ    $64, R12
	ADDQ    bp+48(FP), R13
	DECQ    np+72(FP)
	JG      sb_panel
	VZEROUPPER
	RET

// func dwWgrad5x16(acc, src *float32, sx, row, tap uintptr, dz *float32, dzs uintptr, n, kh, nblk int)
// Ten accumulators (5 taps × 16 channels) per kernel row and block, loaded from and stored to acc.
TEXT ·dwWgrad5x16(SB), NOSPLIT, $0-80
	MOVQ  sx+16(FP), R8
	MOVQ  dzs+48(FP), R9
	MOVQ  tap+32(FP), R10
	XORQ  R12, R12            // block byte offset
	MOVQ  nblk+72(FP), R13
	TESTQ R13, R13
	JLE   wg_end

wg_blk:
	XORQ AX, AX // kernel row i

wg_row:
	// BX = acc + i·5·tap + blk; SI = src + i·row + blk
	MOVQ AX, BX
	IMULQ R10, BX
	LEAQ (BX)(BX*4), BX
	ADDQ acc+0(FP), BX
	ADDQ R12, BX
	MOVQ AX, SI
	IMULQ row+24(FP), SI
	ADDQ src+8(FP), SI
	ADDQ R12, SI
	MOVQ dz+40(FP), DX
	ADDQ R12, DX
	LEAQ (BX)(R10*2), R11
	ADDQ R10, R11 // acc tap 3
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VMOVUPS (BX)(R10*1), Y2
	VMOVUPS 32(BX)(R10*1), Y3
	VMOVUPS (BX)(R10*2), Y4
	VMOVUPS 32(BX)(R10*2), Y5
	VMOVUPS (R11), Y6
	VMOVUPS 32(R11), Y7
	VMOVUPS (BX)(R10*4), Y8
	VMOVUPS 32(BX)(R10*4), Y9
	MOVQ n+56(FP), CX
	TESTQ CX, CX
	JLE wg_store

wg_pix:
	VMOVUPS     (DX), Y10
	VMOVUPS     32(DX), Y11
	LEAQ        (SI)(R10*2), DI
	ADDQ        R10, DI
	VFMADD231PS (SI), Y10, Y0
	VFMADD231PS 32(SI), Y11, Y1
	VFMADD231PS (SI)(R10*1), Y10, Y2
	VFMADD231PS 32(SI)(R10*1), Y11, Y3
	VFMADD231PS (SI)(R10*2), Y10, Y4
	VFMADD231PS 32(SI)(R10*2), Y11, Y5
	VFMADD231PS (DI), Y10, Y6
	VFMADD231PS 32(DI), Y11, Y7
	VFMADD231PS (SI)(R10*4), Y10, Y8
	VFMADD231PS 32(SI)(R10*4), Y11, Y9
	ADDQ        R8, SI
	ADDQ        R9, DX
	DECQ        CX
	JNZ         wg_pix

wg_store:
	VMOVUPS Y0, (BX)
	VMOVUPS Y1, 32(BX)
	VMOVUPS Y2, (BX)(R10*1)
	VMOVUPS Y3, 32(BX)(R10*1)
	VMOVUPS Y4, (BX)(R10*2)
	VMOVUPS Y5, 32(BX)(R10*2)
	VMOVUPS Y6, (R11)
	VMOVUPS Y7, 32(R11)
	VMOVUPS Y8, (BX)(R10*4)
	VMOVUPS Y9, 32(BX)(R10*4)
	INCQ AX
	CMPQ AX, kh+64(FP)
	JLT  wg_row
	ADDQ $64, R12
	DECQ R13
	JNZ  wg_blk

wg_end:
	VZEROUPPER
	RET

// func colMoments16(y *float32, n int, pitch uintptr, nblk int, inv uint32, mean, m2 *float32)
TEXT ·colMoments16(SB), NOSPLIT, $0-56
	MOVQ         pitch+16(FP), R8
	MOVQ         nblk+24(FP), R13
	XORQ         R12, R12
	VBROADCASTSS inv+32(FP), Y15
	TESTQ        R13, R13
	JLE          mom_end

mom_blk:
	MOVQ   y+0(FP), SI
	ADDQ   R12, SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

mom_sum:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ   R8, SI
	DECQ   CX
	JNZ    mom_sum
	VMULPS Y15, Y0, Y0
	VMULPS Y15, Y1, Y1
	MOVQ   mean+40(FP), DX
	VMOVUPS Y0, (DX)(R12*1)
	VMOVUPS Y1, 32(DX)(R12*1)
	MOVQ   y+0(FP), SI
	ADDQ   R12, SI
	MOVQ   n+8(FP), CX
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

mom_sq:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VSUBPS      Y0, Y4, Y4
	VSUBPS      Y1, Y5, Y5
	VFMADD231PS Y4, Y4, Y2
	VFMADD231PS Y5, Y5, Y3
	ADDQ        R8, SI
	DECQ        CX
	JNZ         mom_sq
	MOVQ        m2+48(FP), DX
	VMOVUPS     Y2, (DX)(R12*1)
	VMOVUPS     Y3, 32(DX)(R12*1)
	ADDQ        $64, R12
	DECQ        R13
	JNZ         mom_blk

mom_end:
	VZEROUPPER
	RET

// func bnApply16(dst, y *float32, n int, pitch uintptr, nblk int, a, b *float32, relu int)
// Pixel by pixel, the blocks of a pixel in order (rows are contiguous: one sequential stream).
TEXT ·bnApply16(SB), NOSPLIT, $0-64
	MOVQ   y+8(FP), SI
	MOVQ   dst+0(FP), DI
	MOVQ   a+40(FP), R10
	MOVQ   b+48(FP), R11
	MOVQ   n+16(FP), CX
	MOVQ   relu+56(FP), AX
	VXORPS Y15, Y15, Y15
	TESTQ  CX, CX
	JLE    app_end

app_pix:
	MOVQ nblk+32(FP), R13
	XORQ R12, R12

app_blk:
	VMOVUPS     (SI)(R12*1), Y0
	VMOVUPS     32(SI)(R12*1), Y1
	VMOVUPS     (R11)(R12*1), Y4
	VMOVUPS     32(R11)(R12*1), Y5
	VFMADD132PS (R10)(R12*1), Y4, Y0 // y·a + b
	VFMADD132PS 32(R10)(R12*1), Y5, Y1
	TESTQ       AX, AX
	JZ          app_store
	VMAXPS      Y0, Y15, Y0
	VMAXPS      Y1, Y15, Y1

app_store:
	VMOVUPS Y0, (DI)(R12*1)
	VMOVUPS Y1, 32(DI)(R12*1)
	ADDQ    $64, R12
	DECQ    R13
	JNZ     app_blk
	ADDQ    pitch+24(FP), SI
	ADDQ    pitch+24(FP), DI
	DECQ    CX
	JNZ     app_pix

app_end:
	VZEROUPPER
	RET

// func bnReduce16(dz, y *float32, n int, pitch uintptr, nblk int, mu, s1, s2 *float32)
// Pixel by pixel; the running sums live in s1 and s2 (per channel, in pixel order from their
// current values: the callers start them at zero, which gives the Go version's results).
TEXT ·bnReduce16(SB), NOSPLIT, $0-64
	MOVQ  dz+0(FP), SI
	MOVQ  y+8(FP), DI
	MOVQ  mu+40(FP), R8
	MOVQ  s1+48(FP), R9
	MOVQ  s2+56(FP), R10
	MOVQ  n+16(FP), CX
	TESTQ CX, CX
	JLE   red_end

red_pix:
	MOVQ nblk+32(FP), R13
	XORQ R12, R12

red_blk:
	VMOVUPS     (SI)(R12*1), Y6
	VMOVUPS     32(SI)(R12*1), Y7
	VMOVUPS     (DI)(R12*1), Y8
	VMOVUPS     32(DI)(R12*1), Y9
	VSUBPS      (R8)(R12*1), Y8, Y8
	VSUBPS      32(R8)(R12*1), Y9, Y9
	VADDPS      (R9)(R12*1), Y6, Y0
	VADDPS      32(R9)(R12*1), Y7, Y1
	VMOVUPS     (R10)(R12*1), Y2
	VMOVUPS     32(R10)(R12*1), Y3
	VFMADD231PS Y8, Y6, Y2
	VFMADD231PS Y9, Y7, Y3
	VMOVUPS     Y0, (R9)(R12*1)
	VMOVUPS     Y1, 32(R9)(R12*1)
	VMOVUPS     Y2, (R10)(R12*1)
	VMOVUPS     Y3, 32(R10)(R12*1)
	ADDQ        $64, R12
	DECQ        R13
	JNZ         red_blk
	MOVQ        pitch+24(FP), AX
	ADDQ        AX, SI
	ADDQ        AX, DI
	DECQ        CX
	JNZ         red_pix

red_end:
	VZEROUPPER
	RET

// func bnBackward16(dst, dz, y *float32, n int, pitch uintptr, nblk int, mu, ca, cb, cc *float32)
// dst = ca·dz + (cc·(y − mu) + cb), pixel by pixel (one sequential stream per operand).
TEXT ·bnBackward16(SB), NOSPLIT, $0-80
	MOVQ  dst+0(FP), DI
	MOVQ  dz+8(FP), SI
	MOVQ  y+16(FP), BX
	MOVQ  mu+48(FP), R8
	MOVQ  ca+56(FP), R9
	MOVQ  cb+64(FP), R10
	MOVQ  cc+72(FP), R11
	MOVQ  n+24(FP), CX
	TESTQ CX, CX
	JLE   bb_end

bb_pix:
	MOVQ nblk+40(FP), R13
	XORQ R12, R12

bb_blk:
	VMOVUPS     (BX)(R12*1), Y0
	VMOVUPS     32(BX)(R12*1), Y1
	VSUBPS      (R8)(R12*1), Y0, Y0
	VSUBPS      32(R8)(R12*1), Y1, Y1
	VMOVUPS     (R10)(R12*1), Y4
	VMOVUPS     32(R10)(R12*1), Y5
	VFMADD231PS (R11)(R12*1), Y0, Y4 // cb + cc·(y−mu)
	VFMADD231PS 32(R11)(R12*1), Y1, Y5
	VMOVUPS     (SI)(R12*1), Y2
	VMOVUPS     32(SI)(R12*1), Y3
	VFMADD231PS (R9)(R12*1), Y2, Y4  // + ca·dz
	VFMADD231PS 32(R9)(R12*1), Y3, Y5
	VMOVUPS     Y4, (DI)(R12*1)
	VMOVUPS     Y5, 32(DI)(R12*1)
	ADDQ        $64, R12
	DECQ        R13
	JNZ         bb_blk
	MOVQ        pitch+32(FP), AX
	ADDQ        AX, DI
	ADDQ        AX, SI
	ADDQ        AX, BX
	DECQ        CX
	JNZ         bb_pix

bb_end:
	VZEROUPPER
	RET

// func colSum16(x *float32, n int, pitch uintptr, nblk int, s *float32)
TEXT ·colSum16(SB), NOSPLIT, $0-40
	MOVQ  pitch+16(FP), R8
	MOVQ  nblk+24(FP), R13
	XORQ  R12, R12
	TESTQ R13, R13
	JLE   cs_end

cs_blk:
	MOVQ   x+0(FP), SI
	ADDQ   R12, SI
	MOVQ   n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

cs_pix:
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ   R8, SI
	DECQ   CX
	JNZ    cs_pix
	MOVQ    s+32(FP), DX
	VADDPS  (DX)(R12*1), Y0, Y0
	VADDPS  32(DX)(R12*1), Y1, Y1
	VMOVUPS Y0, (DX)(R12*1)
	VMOVUPS Y1, 32(DX)(R12*1)
	ADDQ    $64, R12
	DECQ    R13
	JNZ     cs_blk

cs_end:
	VZEROUPPER
	RET
