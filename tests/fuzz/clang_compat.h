/* clang_compat.h — forced include (-include) for clang builds of the fuzz
 * targets: glibc's <complex.h> defines CMPLX/CMPLXF only for GCC >= 4.7,
 * and clang claims to be GCC 4.2. */
#include <complex.h>
#ifndef CMPLXF
#define CMPLXF(x, y) __builtin_complex((float)(x), (float)(y))
#endif
#ifndef CMPLX
#define CMPLX(x, y) __builtin_complex((double)(x), (double)(y))
#endif
