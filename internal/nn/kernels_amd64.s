//go:build amd64 && !purego

#include "textflag.h"
#include "tile6x16_amd64.h"

// AVX2+FMA kernels. The Go declarations and their contracts are in kernels_amd64.go; the pure-Go
// versions with the same semantics (and the same summation order) are in kernels_generic.go.
// Only AX, BX, CX, DX, SI, DI and R8-R13 are used, so that neither the g register (R14) nor R15
// is touched. Every function ends with VZEROUPPER.

// func sgemm6x16(a *float32, rs, ks uintptr, nseg, seglen int, segStride uintptr, b, c *float32, ldc uintptr, bias *float32, flags uintptr, np int)
TEXT ·sgemm6x16(SB), NOSPLIT, $0-96
	MOVQ b+48(FP), BX
	MOVQ c+56(FP), R12
	MOVQ bias+72(FP), R13

gemm_panel:
	MOVQ a+0(FP), R11
	MOVQ rs+8(FP), DI
	MOVQ ks+16(FP), R9
	MOVQ nseg+24(FP), DX
	MOVQ seglen+32(FP), AX
	MOVQ segStride+40(FP), R10
	TILE_ZERO
	TESTQ DX, DX
	JLE   gemm_epilogue
	TESTQ AX, AX
	JLE   gemm_epilogue

gemm_seg:
	MOVQ R11, SI
	LEAQ (SI)(DI*2), R8
	ADDQ DI, R8
	MOVQ AX, CX

gemm_k:
	TILE_FMA
	ADDQ         $64, BX
	ADDQ         R9, SI
	ADDQ         R9, R8
	DECQ         CX
	JNZ          gemm_k
	ADDQ         R10, R11
	DECQ         DX
	JNZ          gemm_seg

gemm_epilogue:
	MOVQ  R12, SI
	MOVQ  ldc+64(FP), DI
	LEAQ  (SI)(DI*2), R8
	ADDQ  DI, R8
	MOVQ  flags+80(FP), AX
	TESTQ $1, AX
	JZ    gemm_noacc
	TILE_ADD_C

gemm_noacc:
	TESTQ $2, AX
	JZ    gemm_nobias
	VMOVUPS (R13), Y12
	VMOVUPS 32(R13), Y13
	VADDPS Y12, Y0, Y0
	VADDPS Y13, Y1, Y1
	VADDPS Y12, Y2, Y2
	VADDPS Y13, Y3, Y3
	VADDPS Y12, Y4, Y4
	VADDPS Y13, Y5, Y5
	VADDPS Y12, Y6, Y6
	VADDPS Y13, Y7, Y7
	VADDPS Y12, Y8, Y8
	VADDPS Y13, Y9, Y9
	VADDPS Y12, Y10, Y10
	VADDPS Y13, Y11, Y11

gemm_nobias:
	TESTQ $4, AX
	JZ    gemm_store
	// max(0, x) with x as the second source, so that a NaN propagates.
	VXORPS Y14, Y14, Y14
	VMAXPS Y0, Y14, Y0
	VMAXPS Y1, Y14, Y1
	VMAXPS Y2, Y14, Y2
	VMAXPS Y3, Y14, Y3
	VMAXPS Y4, Y14, Y4
	VMAXPS Y5, Y14, Y5
	VMAXPS Y6, Y14, Y6
	VMAXPS Y7, Y14, Y7
	VMAXPS Y8, Y14, Y8
	VMAXPS Y9, Y14, Y9
	VMAXPS Y10, Y14, Y10
	VMAXPS Y11, Y14, Y11

gemm_store:
	TILE_STORE_C
	// Next panel: B is already there; C and bias move 16 columns.
	ADDQ $64, R12
	ADDQ $64, R13
	DECQ np+88(FP)
	JG   gemm_panel
	VZEROUPPER
	RET

// func dw4x16(dst *float32, dstep uintptr, src *float32, sx uintptr, w, bias *float32, nblk, kh, kw int, tap, row, flags uintptr)
TEXT ·dw4x16(SB), NOSPLIT, $0-96
	MOVQ  sx+24(FP), DI
	MOVQ  tap+72(FP), R9
	MOVQ  row+80(FP), R10
	MOVQ  nblk+48(FP), AX
	XORQ  R12, R12
	TESTQ AX, AX
	JLE   dw4_end

dw4_blk:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   src+16(FP), R11
	ADDQ   R12, R11
	MOVQ   w+32(FP), BX
	ADDQ   R12, BX
	MOVQ   kh+56(FP), DX

dw4_row:
	MOVQ R11, SI
	LEAQ (SI)(DI*2), R8
	ADDQ DI, R8
	MOVQ kw+64(FP), CX

dw4_tap:
	VMOVUPS     (BX), Y8
	VMOVUPS     32(BX), Y9
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS 32(SI), Y9, Y1
	VFMADD231PS (SI)(DI*1), Y8, Y2
	VFMADD231PS 32(SI)(DI*1), Y9, Y3
	VFMADD231PS (SI)(DI*2), Y8, Y4
	VFMADD231PS 32(SI)(DI*2), Y9, Y5
	VFMADD231PS (R8), Y8, Y6
	VFMADD231PS 32(R8), Y9, Y7
	ADDQ        R9, SI
	ADDQ        R9, R8
	ADDQ        R9, BX
	DECQ        CX
	JNZ         dw4_tap
	ADDQ        R10, R11
	DECQ        DX
	JNZ         dw4_row

	MOVQ  flags+88(FP), CX
	TESTQ $2, CX
	JZ    dw4_nobias
	MOVQ  bias+40(FP), DX
	VMOVUPS (DX)(R12*1), Y8
	VMOVUPS 32(DX)(R12*1), Y9
	VADDPS Y8, Y0, Y0
	VADDPS Y9, Y1, Y1
	VADDPS Y8, Y2, Y2
	VADDPS Y9, Y3, Y3
	VADDPS Y8, Y4, Y4
	VADDPS Y9, Y5, Y5
	VADDPS Y8, Y6, Y6
	VADDPS Y9, Y7, Y7

dw4_nobias:
	TESTQ $4, CX
	JZ    dw4_store
	VXORPS Y8, Y8, Y8
	VMAXPS Y0, Y8, Y0
	VMAXPS Y1, Y8, Y1
	VMAXPS Y2, Y8, Y2
	VMAXPS Y3, Y8, Y3
	VMAXPS Y4, Y8, Y4
	VMAXPS Y5, Y8, Y5
	VMAXPS Y6, Y8, Y6
	VMAXPS Y7, Y8, Y7

dw4_store:
	MOVQ    dst+0(FP), SI
	ADDQ    R12, SI
	MOVQ    dstep+8(FP), R8
	VMOVUPS Y0, (SI)
	VMOVUPS Y1, 32(SI)
	VMOVUPS Y2, (SI)(R8*1)
	VMOVUPS Y3, 32(SI)(R8*1)
	VMOVUPS Y4, (SI)(R8*2)
	VMOVUPS Y5, 32(SI)(R8*2)
	LEAQ    (SI)(R8*2), SI
	ADDQ    R8, SI
	VMOVUPS Y6, (SI)
	VMOVUPS Y7, 32(SI)
	ADDQ    $64, R12
	DECQ    AX
	JNZ     dw4_blk

dw4_end:
	VZEROUPPER
	RET

// func dw1x16(dst, src, w, bias *float32, nblk, kh, kw int, tap, row, flags uintptr)
TEXT ·dw1x16(SB), NOSPLIT, $0-80
	MOVQ  tap+56(FP), R9
	MOVQ  row+64(FP), R10
	MOVQ  nblk+32(FP), AX
	XORQ  R12, R12
	TESTQ AX, AX
	JLE   dw1_end

dw1_blk:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	MOVQ   src+8(FP), R11
	ADDQ   R12, R11
	MOVQ   w+16(FP), BX
	ADDQ   R12, BX
	MOVQ   kh+40(FP), DX

dw1_row:
	MOVQ R11, SI
	MOVQ kw+48(FP), CX

dw1_tap:
	VMOVUPS     (BX), Y8
	VMOVUPS     32(BX), Y9
	VFMADD231PS (SI), Y8, Y0
	VFMADD231PS 32(SI), Y9, Y1
	ADDQ        R9, SI
	ADDQ        R9, BX
	DECQ        CX
	JNZ         dw1_tap
	ADDQ        R10, R11
	DECQ        DX
	JNZ         dw1_row

	MOVQ  flags+72(FP), CX
	TESTQ $2, CX
	JZ    dw1_nobias
	MOVQ  bias+24(FP), DX
	VADDPS (DX)(R12*1), Y0, Y0
	VADDPS 32(DX)(R12*1), Y1, Y1

dw1_nobias:
	TESTQ $4, CX
	JZ    dw1_store
	VXORPS Y8, Y8, Y8
	VMAXPS Y0, Y8, Y0
	VMAXPS Y1, Y8, Y1

dw1_store:
	MOVQ    dst+0(FP), SI
	VMOVUPS Y0, (SI)(R12*1)
	VMOVUPS Y1, 32(SI)(R12*1)
	ADDQ    $64, R12
	DECQ    AX
	JNZ     dw1_blk

dw1_end:
	VZEROUPPER
	RET

// func sdot(x, y *float32, n int) float32
// n must be a multiple of 8. Four 8-lane accumulators over blocks of 32, the rest of the 8-blocks
// into the first; then ((a0+a1)+(a2+a3)) and a fixed horizontal order.
TEXT ·sdot(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	MOVQ   CX, AX
	SHRQ   $5, AX
	JZ     dot_tail

dot_32:
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	DECQ        AX
	JNZ         dot_32

dot_tail:
	ANDQ $31, CX
	SHRQ $3, CX
	JZ   dot_reduce

dot_8:
	VMOVUPS     (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ        $32, SI
	ADDQ        $32, DI
	DECQ        CX
	JNZ         dot_8

dot_reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VSHUFPS      $0x55, X0, X0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, ret+24(FP)
	VZEROUPPER
	RET

// func smax(m, x *float32, n int)
// n must be a multiple of 8. m[i] = x[i] if x[i] > m[i] (VMAXPS with x first: a NaN on either
// side leaves m[i]).
TEXT ·smax(SB), NOSPLIT, $0-24
	MOVQ m+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ   smax_done

smax_8:
	VMOVUPS (DI), Y0
	VMOVUPS (SI), Y1
	VMAXPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	DECQ    CX
	JNZ     smax_8

smax_done:
	VZEROUPPER
	RET
