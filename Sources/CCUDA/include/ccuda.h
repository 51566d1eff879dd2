// SwiftGAN's run-time binding of CUDA: the driver API (libcuda.so.1), NVRTC and cuBLAS, loaded with dlopen
// so that SwiftGAN builds and runs where no CUDA is installed. Only the functions SwiftGAN calls are declared,
// with the ABI of the CUDA headers (cuda.h, nvrtc.h, cublas_api.h); the *_v2 entry points are the ones the
// headers map the plain names to.
#ifndef SWIFTGAN_CCUDA_H
#define SWIFTGAN_CCUDA_H

#include <stddef.h>

typedef int CUresult;  // CUDA_SUCCESS = 0
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;

enum {
    SWIFTGAN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    SWIFTGAN_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};

typedef int nvrtcResult;  // NVRTC_SUCCESS = 0
typedef struct _nvrtcProgram *nvrtcProgram;

typedef int cublasStatus_t;  // CUBLAS_STATUS_SUCCESS = 0
typedef struct cublasContext *cublasHandle_t;
enum { SWIFTGAN_CUBLAS_OP_N = 0, SWIFTGAN_CUBLAS_OP_T = 1 };

/// The driver API.
typedef struct {
    CUresult (*cuInit)(unsigned int flags);
    CUresult (*cuDriverGetVersion)(int *version);
    CUresult (*cuDeviceGetCount)(int *count);
    CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
    CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
    CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
    CUresult (*cuCtxSetCurrent)(CUcontext context);
    CUresult (*cuCtxSynchronize)(void);
    CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
    CUresult (*cuMemFree)(CUdeviceptr pointer);
    CUresult (*cuMemGetInfo)(size_t *free, size_t *total);
    CUresult (*cuMemcpyHtoD)(CUdeviceptr target, const void *source, size_t bytes);
    CUresult (*cuMemcpyDtoH)(void *target, CUdeviceptr source, size_t bytes);
    CUresult (*cuMemcpyDtoD)(CUdeviceptr target, CUdeviceptr source, size_t bytes);
    CUresult (*cuMemsetD32)(CUdeviceptr target, unsigned int value, size_t count);
    CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
    CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
    CUresult (*cuLaunchKernel)(CUfunction function, unsigned int gridX, unsigned int gridY, unsigned int gridZ,
                               unsigned int blockX, unsigned int blockY, unsigned int blockZ, unsigned int sharedBytes,
                               CUstream stream, void **parameters, void **extra);
    CUresult (*cuGetErrorString)(CUresult error, const char **text);
} SwiftGANDriver;

/// NVRTC, the run-time CUDA C compiler.
typedef struct {
    nvrtcResult (*nvrtcVersion)(int *major, int *minor);
    nvrtcResult (*nvrtcCreateProgram)(nvrtcProgram *program, const char *source, const char *name, int headerCount,
                                      const char *const *headers, const char *const *includeNames);
    nvrtcResult (*nvrtcCompileProgram)(nvrtcProgram program, int optionCount, const char *const *options);
    nvrtcResult (*nvrtcGetProgramLogSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*nvrtcGetProgramLog)(nvrtcProgram program, char *log);
    nvrtcResult (*nvrtcGetPTXSize)(nvrtcProgram program, size_t *size);
    nvrtcResult (*nvrtcGetPTX)(nvrtcProgram program, char *ptx);
    nvrtcResult (*nvrtcDestroyProgram)(nvrtcProgram *program);
    const char *(*nvrtcGetErrorString)(nvrtcResult result);
} SwiftGANNVRTC;

/// cuBLAS (its v2 API).
typedef struct {
    cublasStatus_t (*cublasCreate)(cublasHandle_t *handle);
    cublasStatus_t (*cublasSgemm)(cublasHandle_t handle, int transposeA, int transposeB, int m, int n, int k,
                                  const float *alpha, const float *a, int lda, const float *b, int ldb,
                                  const float *beta, float *c, int ldc);
} SwiftGANCuBLAS;

/// Each loader tries the usual sonames (newest first) and fills `api`; on failure it returns non-zero and
/// writes a one-line reason (which library or symbol is missing) into `error`. `directory`, when not NULL,
/// is tried before the loader's search path.
int swiftgan_load_driver(SwiftGANDriver *api, char *error, size_t errorSize);
int swiftgan_load_nvrtc(SwiftGANNVRTC *api, const char *directory, char *error, size_t errorSize);
int swiftgan_load_cublas(SwiftGANCuBLAS *api, const char *directory, char *error, size_t errorSize);

#endif
