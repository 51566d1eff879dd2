// Shared by the CKernels sources (not part of the module's interface).
#ifndef SWIFTGAN_WIDEST_H
#define SWIFTGAN_WIDEST_H

// Each loop is compiled for AVX-512, for AVX2 and for the x86-64 baseline, and the loader picks the widest
// this CPU has (an ifunc, so Linux only). Nothing is contracted into fused multiply-adds
// (`#pragma clang fp contract(off)` in each source), so every variant gives the same bits.
#if defined(__x86_64__) && defined(__linux__)
#define SWIFTGAN_WIDEST __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SWIFTGAN_WIDEST
#endif

#endif
