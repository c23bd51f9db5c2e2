// Per-kernel benchmarks: one family per line of simd/kernels.inc (the
// X-macro list is expanded below, so a kernel added there is benchmarked
// without touching this file), for each ISA, over a size sweep.
//
// Families (benchmark names):
//   kernel/<isa>/gemm/m:<T*N>/G:<gates>/H:<h>/K:<k>        input projection
//   kernel/<isa>/<cell>_step[/lbr:<0|1>]/N:<batch>/H:<h>   fused step (K = H)
//   kernel/<isa>/<sigmoid|tanh|exp>/n:<elements>           activations
//   kernel/<isa>/pack_gates/G:<gates>/H:<h>/K:<k>          weight packing
// An ISA the CPU lacks is reported with SkipWithError (and why).
#include "bench_common.h"

extern "C" {
#include "src/dispatch.h"
}

#include <functional>

namespace {

using rkb::Buf;

const rnnkit_kernels *table_or_skip(benchmark::State &st, const char *isa) {
    const rnnkit_kernels *t = rk_kernels_for(isa);
    if (!t) {
        std::string why = std::string("CPU lacks ISA ") + isa;
        const char *r = rk_isa_unavailable_reason();
        if (r && *r) why += std::string(" (") + r + ")";
        st.SkipWithError(why.c_str());
    }
    return t;
}

void set_flops(rkb::Rates &r, double flops) {
    r.rate("GFLOP/s", flops * 1e-9);
    r.rate("%peak", 100.0 * flops * 1e-9 / rkb::limits().peak_gflops);
}

// bytes moved per iteration; the limit is that of the cache level the
// working set fits in (counter "%L2bw" etc.).
void set_bytes(rkb::Rates &r, double bytes, double working_set) {
    r.rate("GB/s", bytes * 1e-9);
    const char *lv = "";
    double bw = rkb::bw_limit_for(working_set, &lv);
    r.rate((std::string("%") + lv + "bw").c_str(), 100.0 * bytes * 1e-9 / bw);
}

bool close_enough(const float *got, const float *want, size_t n, double tol, std::string *msg) {
    size_t where = 0;
    double e = rkb::max_abs_diff(got, want, n, &where);
    double scale = 1.0;
    for (size_t i = 0; i < n; i++) scale = std::max(scale, (double)std::fabs(want[i]));
    if (e <= tol * scale) return true;
    char buf[160];
    std::snprintf(buf, sizeof buf, "differs from scalar kernel: max abs err %.3g at %zu (%g vs %g)", e,
                  where, (double)got[where], (double)want[where]);
    *msg = buf;
    return false;
}

// ------------------------------------------------------------------ gemm
void bm_gemm(benchmark::State &st, const char *isa, rnnkit_gemm_fn *fn) {
    const rnnkit_kernels *t = table_or_skip(st, isa);
    if (!t) return;
    const int64_t m = st.range(0), G = st.range(1), H = st.range(2), K = st.range(3);
    const int nr = t->row_block;
    Buf w((size_t)(G * H * K)), a((size_t)(m * K)), bias((size_t)(G * H)), c((size_t)(m * G * H)),
        ref((size_t)(m * G * H));
    rkb::fill_buf(w, -0.1f, 0.1f, 1);
    rkb::fill_buf(a, -1.0f, 1.0f, 2);
    rkb::fill_buf(bias, -0.1f, 0.1f, 3);
    // The gemm's own layout (pack_input); the scalar reference reads the panels.
    Buf packed(rnnkit_input_packed_floats(nr, G, H, K)), packed_ref(rnnkit_packed_floats(nr, G, H, K));
    t->pack_input(nr, G, H, K, w.data(), packed.data());
    rnnkit_f32_pack_gates__scalar(nr, G, H, K, w.data(), packed_ref.data());
    // Sanity check against the scalar kernel before timing.
    fn(nr, m, G, H, H, K, a.data(), K, packed.data(), bias.data(), c.data(), G * H);
    if (fn != &rnnkit_f32_gemm__scalar) {
        rnnkit_f32_gemm__scalar(nr, m, G, H, H, K, a.data(), K, packed_ref.data(), bias.data(), ref.data(),
                                G * H);
        std::string msg;
        if (!close_enough(c.data(), ref.data(), c.size(), 1e-4, &msg)) {
            st.SkipWithError(msg.c_str());
            return;
        }
    }
    rkb::LoopTimer timer;
    for (auto _ : st) {
        fn(nr, m, G, H, H, K, a.data(), K, packed.data(), bias.data(), c.data(), G * H);
        benchmark::DoNotOptimize(c.data());
        benchmark::ClobberMemory();
    }
    rkb::Rates r(st, timer);
    set_flops(r, 2.0 * (double)m * (double)G * (double)H * (double)K);
    const double wbytes = 4.0 * (double)packed.size();
    set_bytes(r, wbytes, wbytes + 4.0 * (double)(m * K + m * G * H));
}

void gemm_args(benchmark::internal::Benchmark *b) {
    b->ArgNames({"m", "G", "H", "K"});
    for (int64_t m : {1, 50, 400})
        for (int64_t G : {1, 3, 4})
            for (int64_t H : {128, 512, 1024}) b->Args({m, G, H, H});
}

// ------------------------------------------------------------------ steps
enum class StepCell { Rnn, Lstm, Gru };

struct StepData {
    int64_t G = 1; // gates in w (GRU: 2 = r,z; the n gate is in w_n)
    Buf w, w_n, xp, h_prev, c_prev, h_out, c_out, b_hn, scratch;
    rnnkit_step_args args{};
    double weight_bytes = 0;

    StepData(const rnnkit_kernels *t, StepCell cell, int lbr, int64_t n, int64_t h) {
        const int64_t k = h;
        const int nr = t->row_block;
        const int64_t Gall = cell == StepCell::Rnn ? 1 : cell == StepCell::Lstm ? 4 : 3;
        G = cell == StepCell::Gru ? 2 : Gall;
        Buf raw((size_t)(G * h * k));
        rkb::fill_buf(raw, -0.1f, 0.1f, 11);
        w.resize(rnnkit_packed_floats(nr, G, h, k));
        t->pack_gates(nr, G, h, k, raw.data(), w.data());
        weight_bytes = 4.0 * (double)w.size();
        if (cell == StepCell::Gru) {
            Buf rawn((size_t)(h * k));
            rkb::fill_buf(rawn, -0.1f, 0.1f, 12);
            w_n.resize(rnnkit_packed_floats(nr, 1, h, k));
            t->pack_gates(nr, 1, h, k, rawn.data(), w_n.data());
            weight_bytes += 4.0 * (double)w_n.size();
        }
        xp.resize((size_t)(n * Gall * h));
        rkb::fill_buf(xp, -1.0f, 1.0f, 13);
        h_prev.resize((size_t)(n * k));
        rkb::fill_buf(h_prev, -1.0f, 1.0f, 14);
        c_prev.resize((size_t)(n * h));
        rkb::fill_buf(c_prev, -1.0f, 1.0f, 15);
        h_out.resize((size_t)(n * h));
        c_out.resize((size_t)(n * h));
        b_hn.resize((size_t)h);
        rkb::fill_buf(b_hn, -0.1f, 0.1f, 16);
        scratch.resize((size_t)(n * k));
        std::memset(&args, 0, sizeof args);
        args.nr = nr;
        args.n = n;
        args.h = h;
        args.k = k;
        args.j_begin = 0;
        args.j_end = h;
        args.w = w.data();
        args.w_n = cell == StepCell::Gru ? w_n.data() : nullptr;
        args.xp = xp.data();
        args.ld_xp = Gall * h;
        args.h_prev = h_prev.data();
        args.ld_h_prev = k;
        args.c_prev = c_prev.data();
        args.h_out = h_out.data();
        args.ld_h_out = h;
        args.c_out = c_out.data();
        args.b_hn = cell == StepCell::Gru && lbr ? b_hn.data() : nullptr;
        args.peep = nullptr;
        args.clip = 0.0f;
        args.input_forget = 0;
        args.linear_before_reset = lbr;
        args.default_act = 1;
        args.act = nullptr;
        args.scratch = cell == StepCell::Gru && !lbr ? scratch.data() : nullptr;
    }
};

rnnkit_step_fn *scalar_step_for(const std::string &field) {
    if (field == "rnn_tanh_step") return &rnnkit_f32_rnn_tanh_step__scalar;
    if (field == "rnn_relu_step") return &rnnkit_f32_rnn_relu_step__scalar;
    if (field == "lstm_step") return &rnnkit_f32_lstm_step__scalar;
    if (field == "gru_step") return &rnnkit_f32_gru_step__scalar;
    return nullptr;
}

void bm_step(benchmark::State &st, const char *isa, std::string field, StepCell cell, int lbr,
             rnnkit_step_fn *fn) {
    const rnnkit_kernels *t = table_or_skip(st, isa);
    if (!t) return;
    const int64_t n = st.range(0), h = st.range(1);
    StepData d(t, cell, lbr, n, h);
    fn(&d.args);
    rnnkit_step_fn *sref = scalar_step_for(field);
    if (sref && sref != fn) {
        Buf got_h((size_t)(n * h)), got_c((size_t)(n * h));
        std::memcpy(got_h.data(), d.h_out.data(), sizeof(float) * got_h.size());
        std::memcpy(got_c.data(), d.c_out.data(), sizeof(float) * got_c.size());
        sref(&d.args);
        std::string msg;
        if (!close_enough(got_h.data(), d.h_out.data(), got_h.size(), 1e-4, &msg) ||
            (cell == StepCell::Lstm &&
             !close_enough(got_c.data(), d.c_out.data(), got_c.size(), 1e-4, &msg))) {
            st.SkipWithError(msg.c_str());
            return;
        }
    }
    rkb::LoopTimer timer;
    for (auto _ : st) {
        fn(&d.args);
        benchmark::DoNotOptimize(d.h_out.data());
        benchmark::ClobberMemory();
    }
    const int64_t Gall = cell == StepCell::Rnn ? 1 : cell == StepCell::Lstm ? 4 : 3;
    rkb::Rates r(st, timer);
    set_flops(r, 2.0 * (double)n * (double)Gall * (double)h * (double)h);
    // Weights streamed per step; the working set adds the state and xp.
    set_bytes(r, d.weight_bytes, d.weight_bytes + 4.0 * (double)(n * h * (Gall + 4)));
}

void step_args(benchmark::internal::Benchmark *b) {
    b->ArgNames({"N", "H"});
    for (int64_t n : {1, 8, 64})
        for (int64_t h : {128, 256, 512, 1024}) b->Args({n, h});
}

// ------------------------------------------------------------------ unary
// An elementwise kernel over n floats in [-8, 8): apply(n, x, y).
template <class F> void run_elementwise(benchmark::State &st, const char *isa, F apply) {
    const rnnkit_kernels *t = table_or_skip(st, isa);
    if (!t) return;
    const int64_t n = st.range(0);
    Buf x((size_t)n), y((size_t)n);
    rkb::fill_buf(x, -8.0f, 8.0f, 21);
    rkb::LoopTimer timer;
    for (auto _ : st) {
        apply(n, x.data(), y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    rkb::Rates r(st, timer);
    r.rate("elem/s", (double)n);
    set_bytes(r, 8.0 * (double)n, 8.0 * (double)n);
}

void bm_unary(benchmark::State &st, const char *isa, rnnkit_unary_fn *fn) {
    run_elementwise(st, isa, fn);
}

void bm_act(benchmark::State &st, const char *isa, rnnkit_act_fn *fn, rnnkit_act act) {
    run_elementwise(st, isa, [&](int64_t n, const float *x, float *y) { fn(n, x, y, &act); });
}

void unary_args(benchmark::internal::Benchmark *b) {
    b->ArgNames({"n"});
    for (int64_t n : {1 << 10, 1 << 14, 1 << 17, 1 << 20}) b->Arg(n);
}

// ------------------------------------------------------------------ pack
void bm_pack(benchmark::State &st, const char *isa, int nr_isa, rnnkit_pack_gates_fn *fn) {
    const rnnkit_kernels *t = table_or_skip(st, isa);
    if (!t) return;
    const int64_t G = st.range(0), H = st.range(1), K = st.range(2);
    // Packs for every ISA's row block would be the same loop; time the
    // block of the ISA that lists the kernel.
    const int nr = nr_isa;
    Buf w((size_t)(G * H * K)), packed(rnnkit_packed_floats(nr, G, H, K));
    rkb::fill_buf(w, -1.0f, 1.0f, 31);
    rkb::LoopTimer timer;
    for (auto _ : st) {
        fn(nr, G, H, K, w.data(), packed.data());
        benchmark::DoNotOptimize(packed.data());
        benchmark::ClobberMemory();
    }
    const double bytes = 4.0 * (double)(w.size() + packed.size());
    rkb::Rates r(st, timer);
    set_bytes(r, bytes, bytes);
}

void pack_args(benchmark::internal::Benchmark *b) {
    b->ArgNames({"G", "H", "K"});
    for (int64_t h : {128, 512}) b->Args({4, h, h});
}

// ------------------------------------------------------------------ registry
std::string base(const char *isa, const char *field) {
    return std::string("kernel/") + isa + "/" + field;
}

void reg(const char *isa, int, const char *field, rnnkit_gemm_fn *fn) {
    benchmark::RegisterBenchmark(base(isa, field).c_str(), bm_gemm, isa, fn)
        ->Apply(gemm_args)
        ->UseRealTime();
}

void reg(const char *isa, int, const char *field, rnnkit_step_fn *fn) {
    const std::string f = field;
    StepCell cell;
    if (f == "rnn_tanh_step" || f == "rnn_relu_step") cell = StepCell::Rnn;
    else if (f == "lstm_step") cell = StepCell::Lstm;
    else if (f == "gru_step") cell = StepCell::Gru;
    else {
        benchmark::RegisterBenchmark(base(isa, field).c_str(), [](benchmark::State &st) {
            st.SkipWithError("no benchmark is written for this step kernel: add it to bench_kernels.cc");
        });
        return;
    }
    for (int lbr : cell == StepCell::Gru ? std::vector<int>{1, 0} : std::vector<int>{1}) {
        std::string name = base(isa, field);
        if (cell == StepCell::Gru) name += "/lbr:" + std::to_string(lbr);
        benchmark::RegisterBenchmark(name.c_str(), bm_step, isa, f, cell, lbr, fn)
            ->Apply(step_args)
            ->UseRealTime();
    }
}

void reg(const char *isa, int, const char *field, rnnkit_unary_fn *fn) {
    benchmark::RegisterBenchmark(base(isa, field).c_str(), bm_unary, isa, fn)
        ->Apply(unary_args)
        ->UseRealTime();
}

void reg(const char *isa, int, const char *field, rnnkit_act_fn *fn) {
    // Three kinds that Keras-exported LSTMs and ONNX models use.
    static const struct {
        const char *name;
        rnnkit_act act;
    } kinds[] = {{"HardSigmoid", {RNNKIT_ACT_HARD_SIGMOID, 0.2f, 0.5f}},
                 {"Elu", {RNNKIT_ACT_ELU, 1.0f, 0.0f}},
                 {"Softplus", {RNNKIT_ACT_SOFTPLUS, 0.0f, 0.0f}}};
    for (const auto &k : kinds)
        benchmark::RegisterBenchmark((base(isa, field) + "/" + k.name).c_str(), bm_act, isa, fn,
                                     k.act)
            ->Apply(unary_args)
            ->UseRealTime();
}

void reg(const char *isa, int nr, const char *field, rnnkit_pack_gates_fn *fn) {
    benchmark::RegisterBenchmark(base(isa, field).c_str(), bm_pack, isa, nr, fn)
        ->Apply(pack_args)
        ->UseRealTime();
}

void register_all() {
    int nr = 0;
    (void)nr;
#define RNNKIT_ISA(isa, row_block) nr = row_block;
#define RNNKIT_KERNEL(isa, field, type) reg(#isa, nr, #field, &rnnkit_f32_##field##__##isa);
#include "simd/kernels.inc"
#undef RNNKIT_ISA
#undef RNNKIT_KERNEL
}

} // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    register_all();
    rkb::add_limits_context();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
