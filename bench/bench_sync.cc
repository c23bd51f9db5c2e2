// Per-step synchronisation between the threads of one direction: OpenMP's
// barrier against the library's spinning barrier on a shared counter
// (src/plan.c, rk_barrier). The driver splits a step's hidden units among
// threads and meets once per step, so this cost is paid T times per layer.
// Reported as ns per barrier crossing; the faster one is what the driver
// uses (see the comment in src/plan.c).
#include <benchmark/benchmark.h>
#include <omp.h>

extern "C" {
#include "src/plan.h"
}

static void BM_barrier_omp(benchmark::State &state) {
    const int threads = static_cast<int>(state.range(0));
    const int64_t iters = 20000;
    for (auto _ : state) {
#pragma omp parallel num_threads(threads)
        {
            for (int64_t i = 0; i < iters; i++) {
#pragma omp barrier
            }
        }
    }
    // kIsRate|kInvert gives seconds per unit; units of 1e-9 barriers -> ns.
    state.counters["ns_per_barrier"] = benchmark::Counter(
        static_cast<double>(iters) * static_cast<double>(state.iterations()) * 1e-9,
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

static void BM_barrier_spin(benchmark::State &state) {
    const int threads = static_cast<int>(state.range(0));
    const int64_t iters = 20000;
    for (auto _ : state) {
        rk_barrier *bar = rk_barrier_new(threads);
#pragma omp parallel num_threads(threads)
        {
            int sense = 0;
            for (int64_t i = 0; i < iters; i++) rk_barrier_wait(bar, &sense);
        }
        rk_barrier_free(bar);
    }
    // kIsRate|kInvert gives seconds per unit; units of 1e-9 barriers -> ns.
    state.counters["ns_per_barrier"] = benchmark::Counter(
        static_cast<double>(iters) * static_cast<double>(state.iterations()) * 1e-9,
        benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(BM_barrier_omp)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_barrier_spin)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
