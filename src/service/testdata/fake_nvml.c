/* A stand-in for libnvidia-ml.so.1 with two GPUs, so that the dlopen path of
 * service/nvml.cpp is tested on machines without a GPU. Only the symbols
 * jarvis resolves are defined; the types follow the documented NVML C ABI. */
#include <string.h>
#include <unistd.h>

typedef int nvmlReturn_t;
typedef void* nvmlDevice_t;
typedef struct {
  unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
  unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
  unsigned int pid;
  unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

#define GIB (1024ull * 1024ull * 1024ull)
static int devices[2];

nvmlReturn_t nvmlInit_v2(void) { return 0; }
nvmlReturn_t nvmlShutdown(void) { return 0; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* n) {
  *n = 2;
  return 0;
}
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t* d) {
  if (i >= 2) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  *d = &devices[i];
  return 0;
}
static int Index(nvmlDevice_t d) { return (int*)d == &devices[0] ? 0 : 1; }
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  m->total = 80 * GIB;
  m->used = Index(d) == 0 ? 10 * GIB : 30 * GIB;
  m->free = m->total - m->used;
  return 0;
}
nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  u->gpu = Index(d) == 0 ? 40 : 60;
  u->memory = 5;
  return 0;
}
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* name, unsigned int len) {
  strncpy(name, Index(d) == 0 ? "Fake GPU 0" : "Fake GPU 1", len);
  return 0;
}
nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, unsigned int sensor, unsigned int* t) {
  (void)d;
  (void)sensor;
  *t = 50;
  return 0;
}
/* Device 0: this process holds 2 GiB. Device 1: 20 other processes (more than
 * jarvis's first buffer, to exercise the NVML_ERROR_INSUFFICIENT_SIZE retry)
 * plus this process with 1 GiB. */
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int* count, nvmlProcessInfo_v1_t* infos) {
  const unsigned int self = (unsigned int)getpid();
  if (Index(d) == 0) {
    if (*count < 1) {
      *count = 1;
      return 7;
    }
    *count = 1;
    infos[0].pid = self;
    infos[0].usedGpuMemory = 2 * GIB;
    return 0;
  }
  if (*count < 21) {
    *count = 21;
    return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  for (unsigned int i = 0; i < 20; ++i) {
    infos[i].pid = self + 1000 + i;
    infos[i].usedGpuMemory = GIB;
  }
  infos[20].pid = self;
  infos[20].usedGpuMemory = 1 * GIB;
  *count = 21;
  return 0;
}
