import { describe, expect, it } from 'vitest';
import { describeCpu, instructionSets } from '../../src/backend/cpu-features.js';
import { effectiveKernels } from '../../src/backend/capabilities.js';
import { chooseKernels, describeKernelChoice } from '../../src/backend/kernel-choice.js';

/** The flags of the two CPUs CI machines came with (abridged /proc/cpuinfo). */
const EPYC_AVX2 = ['fpu', 'sse2', 'ssse3', 'fma', 'sse4_1', 'sse4_2', 'avx', 'f16c', 'avx2', 'bmi2', 'sha_ni'];
const XEON_AVX512_AMX = [...EPYC_AVX2, 'avx512f', 'avx512dq', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_bf16', 'amx_tile', 'amx_int8'];

describe('the kernel choice (FER_KERNELS, else the CPU)', () => {
  it('follows the CPU by default: TensorFlow\'s kernels with AVX2 only, oneDNN\'s with AVX-512', () => {
    expect(chooseKernels(EPYC_AVX2)).toEqual({ setting: 'auto', fusedConvolution: 'eigen', largeFilterGradients: 'eigen', reason: 'by the CPU: AVX2 without AVX-512' });
    expect(chooseKernels(XEON_AVX512_AMX)).toEqual({ setting: 'auto', fusedConvolution: 'onednn', largeFilterGradients: 'onednn', reason: 'by the CPU: AVX-512' });
    // Neither (an older x86, an ARM CPU, no /proc/cpuinfo): oneDNN keeps the filter gradients it gets anyway.
    expect(chooseKernels([])).toMatchObject({ setting: 'auto', fusedConvolution: 'eigen', largeFilterGradients: 'onednn' });
    expect(chooseKernels(EPYC_AVX2, { FER_KERNELS: '' })).toMatchObject({ setting: 'auto' });
  });

  it.each([
    ['onednn', EPYC_AVX2],
    ['eigen', XEON_AVX512_AMX],
    ['onednn', XEON_AVX512_AMX],
    ['eigen', EPYC_AVX2],
  ] as const)('FER_KERNELS=%s forces both choices on any CPU', (setting, flags) => {
    expect(chooseKernels(flags, { FER_KERNELS: setting })).toEqual({ setting, fusedConvolution: setting, largeFilterGradients: setting, reason: `FER_KERNELS=${setting}` });
  });

  it('FER_FILTER_GRADIENTS overrides the filter gradients alone', () => {
    expect(chooseKernels(EPYC_AVX2, { FER_FILTER_GRADIENTS: 'onednn' })).toMatchObject({ fusedConvolution: 'eigen', largeFilterGradients: 'onednn' });
    const both = chooseKernels(XEON_AVX512_AMX, { FER_KERNELS: 'onednn', FER_FILTER_GRADIENTS: 'eigen' });
    expect(both).toMatchObject({ setting: 'onednn', fusedConvolution: 'onednn', largeFilterGradients: 'eigen' });
    expect(describeKernelChoice(both)).toBe('fused convolution onednn, large filter gradients eigen (FER_KERNELS=onednn; filter gradients by FER_FILTER_GRADIENTS=eigen)');
  });

  it('refuses a value it does not know, naming the variable and the values it takes', () => {
    expect(() => chooseKernels(EPYC_AVX2, { FER_KERNELS: 'mkl' })).toThrow('FER_KERNELS=mkl is not one of auto, onednn, eigen');
    expect(() => chooseKernels(EPYC_AVX2, { FER_FILTER_GRADIENTS: 'auto' })).toThrow('FER_FILTER_GRADIENTS=auto is not one of onednn, eigen');
  });

  it('comes to TensorFlow\'s own kernels without oneDNN, and to no fused convolution without fer\'s kernels or addon', () => {
    const forced = chooseKernels(EPYC_AVX2, { FER_KERNELS: 'onednn' });
    expect(effectiveKernels(forced, { ferAddon: true, oneDnn: true, nativeGradients: true })).toMatchObject({ fusedConvolution: 'onednn', largeFilterGradients: 'onednn', reason: 'FER_KERNELS=onednn' });
    expect(effectiveKernels(forced, { ferAddon: true, oneDnn: false, nativeGradients: true })).toMatchObject({ fusedConvolution: 'eigen', largeFilterGradients: 'eigen', reason: 'FER_KERNELS=onednn; oneDNN off' });
    expect(effectiveKernels(forced, { ferAddon: false, oneDnn: true, nativeGradients: true })).toMatchObject({ fusedConvolution: 'unfused', largeFilterGradients: 'onednn' });
    // With fer's kernels off, the runtime's own choice stands: oneDNN's filter gradients.
    expect(effectiveKernels(chooseKernels(EPYC_AVX2), { ferAddon: true, oneDnn: true, nativeGradients: false })).toMatchObject({ fusedConvolution: 'unfused', largeFilterGradients: 'onednn' });
  });
});

describe('the CPU as logs and benchmarks describe it', () => {
  it('names the model, the cores and the instruction sets behind the choices', () => {
    expect(instructionSets(XEON_AVX512_AMX)).toEqual(['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile', 'amx_bf16', 'amx_int8']);
    expect(describeCpu(EPYC_AVX2, 'AMD EPYC 7B13', 2)).toBe('AMD EPYC 7B13, 2 cores, sse4_2 avx avx2 fma (no avx512f)');
    expect(describeCpu(XEON_AVX512_AMX, 'Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz', 1)).toBe(
      'Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz, 1 core, sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8',
    );
  });
});
