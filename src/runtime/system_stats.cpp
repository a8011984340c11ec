// GetSystemStats (jarvis/system_stats.h): one process-wide SystemMonitor.
#include "jarvis/system_stats.h"

#include "service/system_monitor.h"

namespace jarvis {

SystemStats GetSystemStats() {
  static SystemMonitor* const monitor = new SystemMonitor();  // never destroyed: no exit-time join
  const SystemSnapshot s = monitor->Latest();
  SystemStats out;
  out.cpu_count = s.cpu_count;
  out.cpu_percent = s.cpu_percent;
  out.process_cpu_percent = s.process_cpu_percent;
  out.memory_percent = s.memory_percent;
  out.memory_total_bytes = s.memory_total_bytes;
  out.process_rss_bytes = s.process_rss_bytes;
  out.gpu_memory_allocated_gb = s.gpu_memory_allocated_gb;
  out.gpu_memory_reserved_gb = s.gpu_memory_reserved_gb;
  out.gpu_memory_total_gb = s.gpu_memory_total_gb;
  out.gpu_utilization_percent = s.gpu_utilization_percent;
  return out;
}

}  // namespace jarvis
