#include "ccuda.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// dlopen the first of `names` that loads (from `directory` first when given); NULL and a reason otherwise.
static void *open_first(const char *const *names, const char *directory, char *error, size_t errorSize) {
    char path[4096];
    for (const char *const *name = names; *name; name++) {
        if (directory) {
            snprintf(path, sizeof path, "%s/%s", directory, *name);
            void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
            if (handle) return handle;
        }
        void *handle = dlopen(*name, RTLD_NOW | RTLD_LOCAL);
        if (handle) return handle;
    }
    char tried[512] = "";
    for (const char *const *name = names; *name; name++) {
        size_t used = strlen(tried);
        snprintf(tried + used, sizeof tried - used, "%s%s", used ? ", " : "", *name);
    }
    snprintf(error, errorSize, "%s not found (tried %s %s)", names[0], tried,
             directory ? "in the given folder and on the library path" : "on the library path");
    return NULL;
}

// Binds `symbol` into `slot`; non-zero and a reason when the library lacks it.
static int bind(void *library, const char *libraryName, const char *symbol, void **slot, char *error, size_t errorSize) {
    *slot = dlsym(library, symbol);
    if (*slot) return 0;
    snprintf(error, errorSize, "%s has no %s (too old a version?)", libraryName, symbol);
    return 1;
}

#define BIND(library, name, api, field, symbol) \
    if (bind(library, name, symbol, (void **)&(api)->field, error, errorSize)) return 1

int swiftgan_load_driver(SwiftGANDriver *api, char *error, size_t errorSize) {
    static const char *const names[] = {"libcuda.so.1", "libcuda.so", NULL};
    void *library = open_first(names, NULL, error, errorSize);
    if (!library) {
        snprintf(error, errorSize, "no NVIDIA driver: libcuda.so.1 not found on the library path");
        return 1;
    }
    const char *name = "libcuda.so.1";
    BIND(library, name, api, cuInit, "cuInit");
    BIND(library, name, api, cuDriverGetVersion, "cuDriverGetVersion");
    BIND(library, name, api, cuDeviceGetCount, "cuDeviceGetCount");
    BIND(library, name, api, cuDeviceGet, "cuDeviceGet");
    BIND(library, name, api, cuDeviceGetName, "cuDeviceGetName");
    BIND(library, name, api, cuDeviceGetAttribute, "cuDeviceGetAttribute");
    BIND(library, name, api, cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    BIND(library, name, api, cuCtxSetCurrent, "cuCtxSetCurrent");
    BIND(library, name, api, cuCtxSynchronize, "cuCtxSynchronize");
    BIND(library, name, api, cuMemAlloc, "cuMemAlloc_v2");
    BIND(library, name, api, cuMemFree, "cuMemFree_v2");
    BIND(library, name, api, cuMemGetInfo, "cuMemGetInfo_v2");
    BIND(library, name, api, cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    BIND(library, name, api, cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    BIND(library, name, api, cuMemcpyDtoD, "cuMemcpyDtoD_v2");
    BIND(library, name, api, cuMemsetD32, "cuMemsetD32_v2");
    BIND(library, name, api, cuModuleLoadData, "cuModuleLoadData");
    BIND(library, name, api, cuModuleGetFunction, "cuModuleGetFunction");
    BIND(library, name, api, cuLaunchKernel, "cuLaunchKernel");
    BIND(library, name, api, cuGetErrorString, "cuGetErrorString");
    return 0;
}

int swiftgan_load_nvrtc(SwiftGANNVRTC *api, const char *directory, char *error, size_t errorSize) {
    static const char *const names[] = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", NULL};
    void *library = open_first(names, directory, error, errorSize);
    if (!library) return 1;
    const char *name = "libnvrtc";
    BIND(library, name, api, nvrtcVersion, "nvrtcVersion");
    BIND(library, name, api, nvrtcCreateProgram, "nvrtcCreateProgram");
    BIND(library, name, api, nvrtcCompileProgram, "nvrtcCompileProgram");
    BIND(library, name, api, nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize");
    BIND(library, name, api, nvrtcGetProgramLog, "nvrtcGetProgramLog");
    BIND(library, name, api, nvrtcGetPTXSize, "nvrtcGetPTXSize");
    BIND(library, name, api, nvrtcGetPTX, "nvrtcGetPTX");
    BIND(library, name, api, nvrtcDestroyProgram, "nvrtcDestroyProgram");
    BIND(library, name, api, nvrtcGetErrorString, "nvrtcGetErrorString");
    return 0;
}

int swiftgan_load_cublas(SwiftGANCuBLAS *api, const char *directory, char *error, size_t errorSize) {
    static const char *const names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so", NULL};
    void *library = open_first(names, directory, error, errorSize);
    if (!library) return 1;
    const char *name = "libcublas";
    BIND(library, name, api, cublasCreate, "cublasCreate_v2");
    BIND(library, name, api, cublasSgemm, "cublasSgemm_v2");
    return 0;
}
