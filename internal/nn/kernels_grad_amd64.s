//go:build amd64 && !purego

#include "textflag.h"

// Element-wise AVX2 kernels of the backward passes; contracts in kernels_grad_amd64.go and
// kernels_grad.go. Only AX, BX, CX, DX, SI, DI and R8-R13 are used.

// func reluMask8(dst, grad, act *float32, n int)
TEXT ·reluMask8(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   act+16(FP), DX
	MOVQ   n+24(FP), CX
	SHRQ   $3, CX
	JZ     mask_end
	VXORPS Y15, Y15, Y15

mask_loop:
	VMOVUPS (DX), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1 // act > 0 (ordered: NaN gives 0)
	VANDPS  (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     mask_loop

mask_end:
	VZEROUPPER
	RET

// func addRows16x(dst *float32, ds uintptr, src *float32, ss uintptr, n int)
TEXT ·addRows16x(SB), NOSPLIT, $0-40
	MOVQ  dst+0(FP), DI
	MOVQ  ds+8(FP), R8
	MOVQ  src+16(FP), SI
	MOVQ  ss+24(FP), R9
	MOVQ  n+32(FP), CX
	TESTQ CX, CX
	JLE   add_end

add_loop:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VADDPS  (SI), Y0, Y0
	VADDPS  32(SI), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    R8, DI
	ADDQ    R9, SI
	DECQ    CX
	JNZ     add_loop

add_end:
	VZEROUPPER
	RET
