// The GPU panel's per-model lines: which loaded models hold device memory,
// how much (weights + KV of their offloaded layers) and how many layers.
import type { LoadedModel } from './api';
import { fmtBytes } from './format';

export interface GpuModelLine {
  name: string;
  text: string; // "32 layers · 4.3 GiB"
}

/** The loaded models with layers on a GPU, most device memory first. */
export function gpuModelLines(models: LoadedModel[]): GpuModelLine[] {
  return models
    .filter((m) => m.state === 'loaded' && (m.gpu_layers ?? 0) > 0)
    .sort((a, b) => (b.gpu_bytes ?? 0) - (a.gpu_bytes ?? 0))
    .map((m) => {
      const layers = m.gpu_layers ?? 0;
      return { name: m.name, text: `${layers} ${layers === 1 ? 'layer' : 'layers'} · ${fmtBytes(m.gpu_bytes ?? 0)}` };
    });
}
