// The 6x16 float32 register tile shared by the GEMM kernels of kernels_amd64.s and
// kernels_train_amd64.s: Y0-Y11 hold C's six rows of 16 columns (rows r at Y(2r), Y(2r+1)).
// Rows of A and C are addressed as SI, SI+DI, SI+2·DI, R8, R8+DI, R8+2·DI (R8 = SI+3·DI).
// Y12-Y15 are scratch.

// TILE_ZERO clears the accumulators.
#define TILE_ZERO \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// TILE_FMA adds one rank-1 step: the 16 floats of B at BX times A's six elements at the row
// addresses (one per row), in row order.
#define TILE_FMA \
	VMOVUPS      (BX), Y12; \
	VMOVUPS      32(BX), Y13; \
	VBROADCASTSS (SI), Y14; \
	VFMADD231PS  Y12, Y14, Y0; \
	VFMADD231PS  Y13, Y14, Y1; \
	VBROADCASTSS (SI)(DI*1), Y15; \
	VFMADD231PS  Y12, Y15, Y2; \
	VFMADD231PS  Y13, Y15, Y3; \
	VBROADCASTSS (SI)(DI*2), Y14; \
	VFMADD231PS  Y12, Y14, Y4; \
	VFMADD231PS  Y13, Y14, Y5; \
	VBROADCASTSS (R8), Y15; \
	VFMADD231PS  Y12, Y15, Y6; \
	VFMADD231PS  Y13, Y15, Y7; \
	VBROADCASTSS (R8)(DI*1), Y14; \
	VFMADD231PS  Y12, Y14, Y8; \
	VFMADD231PS  Y13, Y14, Y9; \
	VBROADCASTSS (R8)(DI*2), Y15; \
	VFMADD231PS  Y12, Y15, Y10; \
	VFMADD231PS  Y13, Y15, Y11

// TILE_ADD_C adds the tile of C at the row addresses to the accumulators.
#define TILE_ADD_C \
	VADDPS (SI), Y0, Y0; \
	VADDPS 32(SI), Y1, Y1; \
	VADDPS (SI)(DI*1), Y2, Y2; \
	VADDPS 32(SI)(DI*1), Y3, Y3; \
	VADDPS (SI)(DI*2), Y4, Y4; \
	VADDPS 32(SI)(DI*2), Y5, Y5; \
	VADDPS (R8), Y6, Y6; \
	VADDPS 32(R8), Y7, Y7; \
	VADDPS (R8)(DI*1), Y8, Y8; \
	VADDPS 32(R8)(DI*1), Y9, Y9; \
	VADDPS (R8)(DI*2), Y10, Y10; \
	VADDPS 32(R8)(DI*2), Y11, Y11

// TILE_STORE_C writes the accumulators to the tile of C at the row addresses.
#define TILE_STORE_C \
	VMOVUPS Y0, (SI); \
	VMOVUPS Y1, 32(SI); \
	VMOVUPS Y2, (SI)(DI*1); \
	VMOVUPS Y3, 32(SI)(DI*1); \
	VMOVUPS Y4, (SI)(DI*2); \
	VMOVUPS Y5, 32(SI)(DI*2); \
	VMOVUPS Y6, (R8); \
	VMOVUPS Y7, 32(R8); \
	VMOVUPS Y8, (R8)(DI*1); \
	VMOVUPS Y9, 32(R8)(DI*1); \
	VMOVUPS Y10, (R8)(DI*2); \
	VMOVUPS Y11, 32(R8)(DI*2)
