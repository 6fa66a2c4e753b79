// index.cuh: the index arithmetic shared by every kernel source (each
// .cu file includes it; brainstorm_cuda/sources.py puts its text in place of
// the #include, so that pycuda compiles one self-contained text).
//
// index_t: the type of the index arithmetic. The handler compiles each file
// twice (brainstorm_cuda/sources.py): with INDEX_BITS 32, an unsigned int,
// for launches whose arrays all have fewer than 2**31 elements (32-bit
// division and modulo take a few instructions, 64-bit ones a long software
// routine), and with INDEX_BITS 64, a long long, otherwise. Sizes arrive as
// long long arguments and are converted once.
#ifndef INDEX_BITS
#define INDEX_BITS 64
#endif
#if INDEX_BITS == 32
typedef unsigned int index_t;
#else
typedef long long index_t;
#endif

#define GRID_STRIDE_LOOP(i, n)                                              \
    for (index_t i = (index_t)blockIdx.x * blockDim.x + threadIdx.x,       \
                 i##_end = (index_t)(n);                                    \
         i < i##_end; i += (index_t)blockDim.x * gridDim.x)
