// OpenBLAS's CBLAS interface (Debian: libopenblas-dev puts cblas.h on the openblas pkg-config path).
#include <cblas.h>
