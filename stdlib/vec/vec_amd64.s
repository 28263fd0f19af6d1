//go:build !noasm

#include "textflag.h"

// Constants, four copies each so they serve as 256-bit memory operands.
#define ABSMASK vc<>+0(SB)
#define SIGNMASK vc<>+32(SB)
#define LOG2E vc<>+64(SB)
#define SHIFT vc<>+96(SB)
#define LN2HI vc<>+128(SB)
#define LN2LO vc<>+160(SB)
#define INV12 vc<>+192(SB)
#define INV11 vc<>+224(SB)
#define INV10 vc<>+256(SB)
#define INV9 vc<>+288(SB)
#define INV8 vc<>+320(SB)
#define INV7 vc<>+352(SB)
#define INV6 vc<>+384(SB)
#define INV5 vc<>+416(SB)
#define INV4 vc<>+448(SB)
#define INV3 vc<>+480(SB)
#define INV2 vc<>+512(SB)
#define ONE vc<>+544(SB)
#define HALF vc<>+576(SB)
#define TWO vc<>+608(SB)
#define HIEXP vc<>+640(SB)
#define LOEXP vc<>+672(SB)
#define BIAS vc<>+704(SB)
#define SQRT2M1 vc<>+736(SB)
#define LN2 vc<>+768(SB)
#define LG1 vc<>+800(SB)
#define LG2 vc<>+832(SB)
#define LG3 vc<>+864(SB)
#define LG4 vc<>+896(SB)
#define LG5 vc<>+928(SB)
#define LG6 vc<>+960(SB)
#define LG7 vc<>+992(SB)
#define TANHMAX vc<>+1024(SB)
#define INV13 vc<>+1056(SB)

// absmask
DATA vc<>+0(SB)/8, $0x7fffffffffffffff
DATA vc<>+8(SB)/8, $0x7fffffffffffffff
DATA vc<>+16(SB)/8, $0x7fffffffffffffff
DATA vc<>+24(SB)/8, $0x7fffffffffffffff
// signmask
DATA vc<>+32(SB)/8, $0x8000000000000000
DATA vc<>+40(SB)/8, $0x8000000000000000
DATA vc<>+48(SB)/8, $0x8000000000000000
DATA vc<>+56(SB)/8, $0x8000000000000000
// log2e = 1.4426950408889634
DATA vc<>+64(SB)/8, $0x3ff71547652b82fe
DATA vc<>+72(SB)/8, $0x3ff71547652b82fe
DATA vc<>+80(SB)/8, $0x3ff71547652b82fe
DATA vc<>+88(SB)/8, $0x3ff71547652b82fe
// shift = 6755399441055744.0
DATA vc<>+96(SB)/8, $0x4338000000000000
DATA vc<>+104(SB)/8, $0x4338000000000000
DATA vc<>+112(SB)/8, $0x4338000000000000
DATA vc<>+120(SB)/8, $0x4338000000000000
// ln2hi = 0.6931471803691238
DATA vc<>+128(SB)/8, $0x3fe62e42fee00000
DATA vc<>+136(SB)/8, $0x3fe62e42fee00000
DATA vc<>+144(SB)/8, $0x3fe62e42fee00000
DATA vc<>+152(SB)/8, $0x3fe62e42fee00000
// ln2lo = 1.9082149292705877e-10
DATA vc<>+160(SB)/8, $0x3dea39ef35793c76
DATA vc<>+168(SB)/8, $0x3dea39ef35793c76
DATA vc<>+176(SB)/8, $0x3dea39ef35793c76
DATA vc<>+184(SB)/8, $0x3dea39ef35793c76
// inv12 = 2.08767569878681e-09
DATA vc<>+192(SB)/8, $0x3e21eed8eff8d898
DATA vc<>+200(SB)/8, $0x3e21eed8eff8d898
DATA vc<>+208(SB)/8, $0x3e21eed8eff8d898
DATA vc<>+216(SB)/8, $0x3e21eed8eff8d898
// inv11 = 2.505210838544172e-08
DATA vc<>+224(SB)/8, $0x3e5ae64567f544e4
DATA vc<>+232(SB)/8, $0x3e5ae64567f544e4
DATA vc<>+240(SB)/8, $0x3e5ae64567f544e4
DATA vc<>+248(SB)/8, $0x3e5ae64567f544e4
// inv10 = 2.755731922398589e-07
DATA vc<>+256(SB)/8, $0x3e927e4fb7789f5c
DATA vc<>+264(SB)/8, $0x3e927e4fb7789f5c
DATA vc<>+272(SB)/8, $0x3e927e4fb7789f5c
DATA vc<>+280(SB)/8, $0x3e927e4fb7789f5c
// inv9 = 2.7557319223985893e-06
DATA vc<>+288(SB)/8, $0x3ec71de3a556c734
DATA vc<>+296(SB)/8, $0x3ec71de3a556c734
DATA vc<>+304(SB)/8, $0x3ec71de3a556c734
DATA vc<>+312(SB)/8, $0x3ec71de3a556c734
// inv8 = 2.48015873015873e-05
DATA vc<>+320(SB)/8, $0x3efa01a01a01a01a
DATA vc<>+328(SB)/8, $0x3efa01a01a01a01a
DATA vc<>+336(SB)/8, $0x3efa01a01a01a01a
DATA vc<>+344(SB)/8, $0x3efa01a01a01a01a
// inv7 = 0.0001984126984126984
DATA vc<>+352(SB)/8, $0x3f2a01a01a01a01a
DATA vc<>+360(SB)/8, $0x3f2a01a01a01a01a
DATA vc<>+368(SB)/8, $0x3f2a01a01a01a01a
DATA vc<>+376(SB)/8, $0x3f2a01a01a01a01a
// inv6 = 0.001388888888888889
DATA vc<>+384(SB)/8, $0x3f56c16c16c16c17
DATA vc<>+392(SB)/8, $0x3f56c16c16c16c17
DATA vc<>+400(SB)/8, $0x3f56c16c16c16c17
DATA vc<>+408(SB)/8, $0x3f56c16c16c16c17
// inv5 = 0.008333333333333333
DATA vc<>+416(SB)/8, $0x3f81111111111111
DATA vc<>+424(SB)/8, $0x3f81111111111111
DATA vc<>+432(SB)/8, $0x3f81111111111111
DATA vc<>+440(SB)/8, $0x3f81111111111111
// inv4 = 0.041666666666666664
DATA vc<>+448(SB)/8, $0x3fa5555555555555
DATA vc<>+456(SB)/8, $0x3fa5555555555555
DATA vc<>+464(SB)/8, $0x3fa5555555555555
DATA vc<>+472(SB)/8, $0x3fa5555555555555
// inv3 = 0.16666666666666666
DATA vc<>+480(SB)/8, $0x3fc5555555555555
DATA vc<>+488(SB)/8, $0x3fc5555555555555
DATA vc<>+496(SB)/8, $0x3fc5555555555555
DATA vc<>+504(SB)/8, $0x3fc5555555555555
// inv2 = 0.5
DATA vc<>+512(SB)/8, $0x3fe0000000000000
DATA vc<>+520(SB)/8, $0x3fe0000000000000
DATA vc<>+528(SB)/8, $0x3fe0000000000000
DATA vc<>+536(SB)/8, $0x3fe0000000000000
// one = 1.0
DATA vc<>+544(SB)/8, $0x3ff0000000000000
DATA vc<>+552(SB)/8, $0x3ff0000000000000
DATA vc<>+560(SB)/8, $0x3ff0000000000000
DATA vc<>+568(SB)/8, $0x3ff0000000000000
// half = 0.5
DATA vc<>+576(SB)/8, $0x3fe0000000000000
DATA vc<>+584(SB)/8, $0x3fe0000000000000
DATA vc<>+592(SB)/8, $0x3fe0000000000000
DATA vc<>+600(SB)/8, $0x3fe0000000000000
// two = 2.0
DATA vc<>+608(SB)/8, $0x4000000000000000
DATA vc<>+616(SB)/8, $0x4000000000000000
DATA vc<>+624(SB)/8, $0x4000000000000000
DATA vc<>+632(SB)/8, $0x4000000000000000
// hiexp = 709.0
DATA vc<>+640(SB)/8, $0x4086280000000000
DATA vc<>+648(SB)/8, $0x4086280000000000
DATA vc<>+656(SB)/8, $0x4086280000000000
DATA vc<>+664(SB)/8, $0x4086280000000000
// loexp = -708.0
DATA vc<>+672(SB)/8, $0xc086200000000000
DATA vc<>+680(SB)/8, $0xc086200000000000
DATA vc<>+688(SB)/8, $0xc086200000000000
DATA vc<>+696(SB)/8, $0xc086200000000000
// bias
DATA vc<>+704(SB)/8, $0x00000000000003ff
DATA vc<>+712(SB)/8, $0x00000000000003ff
DATA vc<>+720(SB)/8, $0x00000000000003ff
DATA vc<>+728(SB)/8, $0x00000000000003ff
// sqrt2m1 = 0.41421356237309515
DATA vc<>+736(SB)/8, $0x3fda827999fcef34
DATA vc<>+744(SB)/8, $0x3fda827999fcef34
DATA vc<>+752(SB)/8, $0x3fda827999fcef34
DATA vc<>+760(SB)/8, $0x3fda827999fcef34
// ln2 = 0.6931471805599453
DATA vc<>+768(SB)/8, $0x3fe62e42fefa39ef
DATA vc<>+776(SB)/8, $0x3fe62e42fefa39ef
DATA vc<>+784(SB)/8, $0x3fe62e42fefa39ef
DATA vc<>+792(SB)/8, $0x3fe62e42fefa39ef
// lg1 = 0.6666666666666735
DATA vc<>+800(SB)/8, $0x3fe5555555555593
DATA vc<>+808(SB)/8, $0x3fe5555555555593
DATA vc<>+816(SB)/8, $0x3fe5555555555593
DATA vc<>+824(SB)/8, $0x3fe5555555555593
// lg2 = 0.3999999999940942
DATA vc<>+832(SB)/8, $0x3fd999999997fa04
DATA vc<>+840(SB)/8, $0x3fd999999997fa04
DATA vc<>+848(SB)/8, $0x3fd999999997fa04
DATA vc<>+856(SB)/8, $0x3fd999999997fa04
// lg3 = 0.2857142874366239
DATA vc<>+864(SB)/8, $0x3fd2492494229359
DATA vc<>+872(SB)/8, $0x3fd2492494229359
DATA vc<>+880(SB)/8, $0x3fd2492494229359
DATA vc<>+888(SB)/8, $0x3fd2492494229359
// lg4 = 0.22222198432149784
DATA vc<>+896(SB)/8, $0x3fcc71c51d8e78af
DATA vc<>+904(SB)/8, $0x3fcc71c51d8e78af
DATA vc<>+912(SB)/8, $0x3fcc71c51d8e78af
DATA vc<>+920(SB)/8, $0x3fcc71c51d8e78af
// lg5 = 0.1818357216161805
DATA vc<>+928(SB)/8, $0x3fc7466496cb03de
DATA vc<>+936(SB)/8, $0x3fc7466496cb03de
DATA vc<>+944(SB)/8, $0x3fc7466496cb03de
DATA vc<>+952(SB)/8, $0x3fc7466496cb03de
// lg6 = 0.15313837699209373
DATA vc<>+960(SB)/8, $0x3fc39a09d078c69f
DATA vc<>+968(SB)/8, $0x3fc39a09d078c69f
DATA vc<>+976(SB)/8, $0x3fc39a09d078c69f
DATA vc<>+984(SB)/8, $0x3fc39a09d078c69f
// lg7 = 0.14798198605116586
DATA vc<>+992(SB)/8, $0x3fc2f112df3e5244
DATA vc<>+1000(SB)/8, $0x3fc2f112df3e5244
DATA vc<>+1008(SB)/8, $0x3fc2f112df3e5244
DATA vc<>+1016(SB)/8, $0x3fc2f112df3e5244
// tanhmax = 40.0
DATA vc<>+1024(SB)/8, $0x4044000000000000
DATA vc<>+1032(SB)/8, $0x4044000000000000
DATA vc<>+1040(SB)/8, $0x4044000000000000
DATA vc<>+1048(SB)/8, $0x4044000000000000
// inv13 = 1.6059043836821613e-10
DATA vc<>+1056(SB)/8, $0x3de6124613a86d09
DATA vc<>+1064(SB)/8, $0x3de6124613a86d09
DATA vc<>+1072(SB)/8, $0x3de6124613a86d09
DATA vc<>+1080(SB)/8, $0x3de6124613a86d09
GLOBL vc<>(SB), RODATA|NOPTR, $1088

// EXPPOLY: with Y0 = x in [-708, 709], splits x = n·ln 2 + r (|r| ≤ ln2/2)
// and leaves r in Y0, the scale 2^n in Y1 and t = expm1(r) = r + r²·q(r)
// in Y3, q the degree-11 Taylor polynomial of (e^r - 1 - r)/r² (truncation
// error below 1e-17). Clobbers Y2.
#define EXPPOLY \
	VMOVUPD      SHIFT, Y1; \
	VFMADD231PD  LOG2E, Y0, Y1; \
	VSUBPD       SHIFT, Y1, Y2; \
	VFNMADD231PD LN2HI, Y2, Y0; \
	VFNMADD231PD LN2LO, Y2, Y0; \
	VMOVUPD      INV13, Y3; \
	VFMADD213PD  INV12, Y0, Y3; \
	VFMADD213PD  INV11, Y0, Y3; \
	VFMADD213PD  INV10, Y0, Y3; \
	VFMADD213PD  INV9, Y0, Y3; \
	VFMADD213PD  INV8, Y0, Y3; \
	VFMADD213PD  INV7, Y0, Y3; \
	VFMADD213PD  INV6, Y0, Y3; \
	VFMADD213PD  INV5, Y0, Y3; \
	VFMADD213PD  INV4, Y0, Y3; \
	VFMADD213PD  INV3, Y0, Y3; \
	VFMADD213PD  INV2, Y0, Y3; \
	VMULPD       Y0, Y3, Y3; \
	VFMADD213PD  Y0, Y0, Y3; \
	VPADDQ       BIAS, Y1, Y1; \
	VPSLLQ       $52, Y1, Y1

// EXPCORE: Y0 = exp(Y0) = 2^n + 2^n·t (one rounding) for Y0 in [-708, 709];
// clobbers Y1, Y2, Y3.
#define EXPCORE \
	EXPPOLY; \
	VFMADD213PD Y1, Y1, Y3; \
	VMOVAPD     Y3, Y0

// EXPM1CORE: Y2 = exp(Y0) - 1 = 2^n·t + (2^n - 1) for Y0 in [-708, 709],
// accurate near 0. Clobbers Y0, Y1, Y3.
#define EXPM1CORE \
	EXPPOLY; \
	VSUBPD      ONE, Y1, Y2; \
	VFMADD231PD Y3, Y1, Y2

// func expAVX(dst, src *float64, n int) int
//
// Returns nonzero when some x was outside [-708, 709] (or NaN): the caller
// recomputes those with math.Exp.
TEXT ·expAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPD Y13, Y13, Y13
	SHRQ $2, CX
	JZ   expdone
	VMOVUPD HIEXP, Y14
	VMOVUPD LOEXP, Y15

exploop:
	VMOVUPD (SI), Y4
	VMINPD  Y4, Y14, Y0 // NaN stays NaN: the second source wins
	VMAXPD  Y0, Y15, Y0
	VCMPPD  $0x04, Y0, Y4, Y5 // x != clamped x (NaN included)
	VORPD   Y5, Y13, Y13
	EXPCORE
	VMOVUPD Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     exploop

expdone:
	VMOVMSKPD Y13, AX
	MOVQ      AX, ret+24(FP)
	VZEROUPPER
	RET

// func tanhAVX(dst, src *float64, n int)
//
// tanh(x) = sign(x)·e/(e + 2) with e = expm1(2|x|), 2|x| capped at 40.
TEXT ·tanhAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $2, CX
	JZ   tanhdone
	VMOVUPD TANHMAX, Y14

tanhloop:
	VMOVUPD (SI), Y8
	VANDPD  ABSMASK, Y8, Y0
	VADDPD  Y0, Y0, Y0
	VMINPD  Y0, Y14, Y0
	EXPM1CORE
	VADDPD  TWO, Y2, Y1
	VDIVPD  Y1, Y2, Y0
	VANDPD  SIGNMASK, Y8, Y1
	VORPD   Y1, Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     tanhloop

tanhdone:
	VZEROUPPER
	RET

// func softplusSigmoidAVX(sp, sg, rho *float64, n int) int
//
// With e = exp(-|ρ|) in (0, 1]: softplus(ρ) = max(ρ, 0) + log1p(e) and
// sigmoid(ρ) = 1/(1+e) for ρ ≥ 0, e/(1+e) otherwise. log1p(e) is fdlibm's
// log kernel: for e > √2-1 it is ln 2 + log1p((e-1)/2), so the argument f
// always has |s| ≤ 0.1716 for s = f/(2+f), where
// log1p(f) = f - (f²/2 - s(f²/2 + R(s²))). Returns nonzero when some |ρ|
// exceeded 708 (or was NaN): the caller recomputes those.
TEXT ·softplusSigmoidAVX(SB), NOSPLIT, $0-40
	MOVQ sp+0(FP), DI
	MOVQ sg+8(FP), SI
	MOVQ rho+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPD Y13, Y13, Y13
	SHRQ $2, CX
	JZ   spdone
	VMOVUPD LOEXP, Y14
	VXORPD  Y15, Y15, Y15

sploop:
	VMOVUPD (DX), Y8
	VANDPD  ABSMASK, Y8, Y4
	VXORPD  SIGNMASK, Y4, Y4
	VMAXPD  Y4, Y14, Y0 // -|ρ| ≥ -708; NaN stays NaN
	VCMPPD  $0x04, Y0, Y4, Y5
	VORPD   Y5, Y13, Y13
	EXPCORE
	VMOVAPD Y0, Y9 // e

	// log1p(e)
	VCMPPD    $0x1e, SQRT2M1, Y9, Y4 // e > √2-1
	VSUBPD    ONE, Y9, Y5
	VMULPD    HALF, Y5, Y5
	VBLENDVPD Y4, Y5, Y9, Y6         // f
	VANDPD    LN2, Y4, Y7            // k·ln 2
	VADDPD    TWO, Y6, Y1
	VDIVPD    Y1, Y6, Y1             // s
	VMULPD    Y1, Y1, Y2             // z = s²
	VMOVUPD   LG7, Y3
	VFMADD213PD LG6, Y2, Y3
	VFMADD213PD LG5, Y2, Y3
	VFMADD213PD LG4, Y2, Y3
	VFMADD213PD LG3, Y2, Y3
	VFMADD213PD LG2, Y2, Y3
	VFMADD213PD LG1, Y2, Y3
	VMULPD    Y2, Y3, Y3             // R
	VMULPD    Y6, Y6, Y5
	VMULPD    HALF, Y5, Y5           // hfsq
	VADDPD    Y5, Y3, Y3
	VMULPD    Y1, Y3, Y3             // s(hfsq + R)
	VSUBPD    Y3, Y5, Y3             // hfsq - s(hfsq + R)
	VSUBPD    Y3, Y6, Y3             // log1p(f)
	VADDPD    Y7, Y3, Y3             // log1p(e)
	VMAXPD    Y15, Y8, Y10           // max(ρ, 0)
	VADDPD    Y10, Y3, Y3
	VMOVUPD   Y3, (DI)

	// sigmoid
	VADDPD    ONE, Y9, Y1
	VMOVUPD   ONE, Y2
	VDIVPD    Y1, Y2, Y2             // q = 1/(1+e)
	VMULPD    Y2, Y9, Y1             // e·q
	VCMPPD    $0x1d, Y15, Y8, Y4     // ρ ≥ 0
	VBLENDVPD Y4, Y2, Y1, Y1
	VMOVUPD   Y1, (SI)

	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ  sploop

spdone:
	VMOVMSKPD Y13, AX
	MOVQ      AX, ret+32(FP)
	VZEROUPPER
	RET

// func adamAVX(x, grad, m, v *float64, n int, p *[7]float64) float64
//
// Adam's update of n (a multiple of 4) coordinates with p = β1, β2,
// (1-β1)c, (1-β2)c², the step size, 1/sqrt(1-β2^t) and ε:
// m = β1 m + (1-β1)c g, v = β2 v + (1-β2)c² g², x -= step·m/(sqrt(v)/sqrt(1-β2^t) + ε).
// It returns Σ g·0: 0 when every g is finite, NaN otherwise.
TEXT ·adamAVX(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ n+32(FP), CX
	MOVQ p+40(FP), AX
	VBROADCASTSD 0(AX), Y10
	VBROADCASTSD 8(AX), Y11
	VBROADCASTSD 16(AX), Y12
	VBROADCASTSD 24(AX), Y13
	VBROADCASTSD 32(AX), Y14
	VBROADCASTSD 40(AX), Y15
	VBROADCASTSD 48(AX), Y9
	VXORPD Y8, Y8, Y8
	VXORPD Y7, Y7, Y7
	SHRQ $2, CX
	JZ   adamdone

adamloop:
	VMOVUPD     (SI), Y0
	VMULPD      Y7, Y0, Y1
	VADDPD      Y1, Y8, Y8
	VMULPD      (DX), Y10, Y2
	VFMADD231PD Y0, Y12, Y2
	VMOVUPD     Y2, (DX)
	VMULPD      Y0, Y0, Y3
	VMULPD      (R8), Y11, Y4
	VFMADD231PD Y3, Y13, Y4
	VMOVUPD     Y4, (R8)
	VSQRTPD     Y4, Y5
	VFMADD213PD Y9, Y15, Y5
	VMULPD      Y14, Y2, Y6
	VDIVPD      Y5, Y6, Y6
	VMOVUPD     (DI), Y1
	VSUBPD      Y6, Y1, Y1
	VMOVUPD     Y1, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, R8
	DECQ        CX
	JNZ         adamloop

adamdone:
	VEXTRACTF128 $1, Y8, X1
	VADDPD       X1, X8, X0
	VHADDPD      X0, X0, X0
	MOVSD        X0, ret+48(FP)
	VZEROUPPER
	RET

// func reluAVX(dst, src *float64, n int)
//
// dst = max(src, 0), eight at a time; NaN stays NaN (the second source of
// VMAXPD wins).
TEXT ·reluAVX(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPD Y15, Y15, Y15
	SHRQ   $3, CX
	JZ     reludone

reluloop:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VMAXPD  Y0, Y15, Y0
	VMAXPD  Y1, Y15, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     reluloop

reludone:
	VZEROUPPER
	RET

// func reluBackAVX(gx, grad, y *float64, n int)
//
// gx += g where y > 0, eight at a time.
TEXT ·reluBackAVX(SB), NOSPLIT, $0-32
	MOVQ   gx+0(FP), DI
	MOVQ   grad+8(FP), SI
	MOVQ   y+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPD Y15, Y15, Y15
	SHRQ   $3, CX
	JZ     rbdone

rbloop:
	VCMPPD  $0x11, (DX), Y15, Y0 // 0 < y
	VCMPPD  $0x11, 32(DX), Y15, Y1
	VANDPD  (SI), Y0, Y0
	VANDPD  32(SI), Y1, Y1
	VADDPD  (DI), Y0, Y0
	VADDPD  32(DI), Y1, Y1
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	ADDQ    $64, DI
	ADDQ    $64, SI
	ADDQ    $64, DX
	DECQ    CX
	JNZ     rbloop

rbdone:
	VZEROUPPER
	RET

// func adamPriorAVX(x, grad, m, v, loc, prec *float64, n int, p *[8][4]float64) (sumsq, z float64)
//
// Adam's update (see adamAVX) with the gradient nb·grad + (x - loc)·prec of a
// scaled likelihood plus a normal prior, in one pass. p holds β1, β2, c1,
// c2, the step size, 1/sqrt(1-β2^t), ε and nb, four copies each. Returns
// Σ (x - loc)²·prec before the update and Σ g·0 (0 when every gradient is
// finite, NaN otherwise).
TEXT ·adamPriorAVX(SB), NOSPLIT, $0-80
	MOVQ x+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ v+24(FP), R8
	MOVQ loc+32(FP), R9
	MOVQ prec+40(FP), R10
	MOVQ n+48(FP), CX
	MOVQ p+56(FP), AX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	SHRQ $2, CX
	JZ   apdone

aploop:
	VMOVUPD     (DI), Y6
	VSUBPD      (R9), Y6, Y7
	VMULPD      (R10), Y7, Y5
	VFMADD231PD Y5, Y7, Y8
	VMOVUPD     (SI), Y0
	VMULPD      224(AX), Y0, Y0
	VADDPD      Y5, Y0, Y0
	VXORPD      Y1, Y1, Y1
	VMULPD      Y1, Y0, Y1
	VADDPD      Y1, Y9, Y9
	VMOVUPD     (DX), Y2
	VMULPD      0(AX), Y2, Y2
	VFMADD231PD 64(AX), Y0, Y2
	VMOVUPD     Y2, (DX)
	VMULPD      Y0, Y0, Y3
	VMOVUPD     (R8), Y4
	VMULPD      32(AX), Y4, Y4
	VFMADD231PD 96(AX), Y3, Y4
	VMOVUPD     Y4, (R8)
	VSQRTPD     Y4, Y5
	VMULPD      160(AX), Y5, Y5
	VADDPD      192(AX), Y5, Y5
	VMULPD      128(AX), Y2, Y7
	VDIVPD      Y5, Y7, Y7
	VSUBPD      Y7, Y6, Y6
	VMOVUPD     Y6, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, R8
	ADDQ        $32, R9
	ADDQ        $32, R10
	DECQ        CX
	JNZ         aploop

apdone:
	VEXTRACTF128 $1, Y8, X1
	VADDPD       X1, X8, X0
	VHADDPD      X0, X0, X0
	MOVSD        X0, sumsq+64(FP)
	VEXTRACTF128 $1, Y9, X1
	VADDPD       X1, X9, X0
	VHADDPD      X0, X0, X0
	MOVSD        X0, z+72(FP)
	VZEROUPPER
	RET

// func mulAVX(dst, a, b *float64, n int)
//
// dst = a·b, four at a time.
TEXT ·mulAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $2, CX
	JZ   muldone

mulloop:
	VMOVUPD (SI), Y0
	VMULPD  (DX), Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	DECQ    CX
	JNZ     mulloop

muldone:
	VZEROUPPER
	RET

// func sqrtNoiseAVX(sd, z, out *float64, n int, jitter float64)
//
// sd = sqrt(sd + jitter); out += sd·z.
TEXT ·sqrtNoiseAVX(SB), NOSPLIT, $0-40
	MOVQ         sd+0(FP), DI
	MOVQ         z+8(FP), SI
	MOVQ         out+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSD jitter+32(FP), Y15
	SHRQ         $2, CX
	JZ           sndone

snloop:
	VADDPD      (DI), Y15, Y0
	VSQRTPD     Y0, Y0
	VMOVUPD     Y0, (DI)
	VMOVUPD     (DX), Y1
	VFMADD231PD (SI), Y0, Y1
	VMOVUPD     Y1, (DX)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         snloop

sndone:
	VZEROUPPER
	RET

// func halfMulDivAVX(t, g, z, sd *float64, n int)
//
// t = 0.5·g·z/sd.
TEXT ·halfMulDivAVX(SB), NOSPLIT, $0-40
	MOVQ    t+0(FP), DI
	MOVQ    grad+8(FP), SI
	MOVQ    z+16(FP), DX
	MOVQ    sd+24(FP), R8
	MOVQ    n+32(FP), CX
	VMOVUPD HALF, Y15
	SHRQ    $2, CX
	JZ      hmdone

hmloop:
	VMULPD  (SI), Y15, Y0
	VMULPD  (DX), Y0, Y0
	VDIVPD  (R8), Y0, Y0
	VMOVUPD Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, R8
	DECQ    CX
	JNZ     hmloop

hmdone:
	VZEROUPPER
	RET

// func addMul2AVX(dst, a, b *float64, n int)
//
// dst += 2·a·b.
TEXT ·addMul2AVX(SB), NOSPLIT, $0-32
	MOVQ    dst+0(FP), DI
	MOVQ    a+8(FP), SI
	MOVQ    b+16(FP), DX
	MOVQ    n+24(FP), CX
	VMOVUPD TWO, Y15
	SHRQ    $2, CX
	JZ      amdone

amloop:
	VMULPD      (SI), Y15, Y0
	VMOVUPD     (DI), Y1
	VFMADD231PD (DX), Y0, Y1
	VMOVUPD     Y1, (DI)
	ADDQ        $32, DI
	ADDQ        $32, SI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         amloop

amdone:
	VZEROUPPER
	RET

// func dotAxpyAVX(y, a, x *float64, n int, s float64) float64
//
// y += s·a and returns Σ a·x, eight at a time, then four (n is a multiple
// of 4). One pass over a serves both: a symmetric matrix-vector product
// reads each stored element once.
TEXT ·dotAxpyAVX(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         a+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSD s+32(FP), Y15
	VXORPD       Y14, Y14, Y14
	VXORPD       Y13, Y13, Y13
	MOVQ         CX, BX
	SHRQ         $3, CX
	JZ           datail

daloop:
	VMOVUPD     (SI), Y0
	VMOVUPD     32(SI), Y1
	VMOVUPD     (DI), Y2
	VMOVUPD     32(DI), Y3
	VFMADD231PD Y15, Y0, Y2
	VFMADD231PD Y15, Y1, Y3
	VMOVUPD     Y2, (DI)
	VMOVUPD     Y3, 32(DI)
	VFMADD231PD (DX), Y0, Y14
	VFMADD231PD 32(DX), Y1, Y13
	ADDQ        $64, DI
	ADDQ        $64, SI
	ADDQ        $64, DX
	DECQ        CX
	JNZ         daloop

datail:
	ANDQ        $4, BX
	JZ          dadone
	VMOVUPD     (SI), Y0
	VMOVUPD     (DI), Y2
	VFMADD231PD Y15, Y0, Y2
	VMOVUPD     Y2, (DI)
	VFMADD231PD (DX), Y0, Y14

dadone:
	VADDPD       Y13, Y14, Y14
	VEXTRACTF128 $1, Y14, X1
	VADDPD       X1, X14, X14
	VHADDPD      X14, X14, X14
	VMOVSD       X14, ret+40(FP)
	VZEROUPPER
	RET
