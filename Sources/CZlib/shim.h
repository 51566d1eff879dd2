// zlib: gzip decompression for IDX files, deflate and CRC-32 for PNG.
#include <zlib.h>
