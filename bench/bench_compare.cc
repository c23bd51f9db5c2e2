// Engines side by side on the same models and inputs, in one binary:
//   rnnkit-<isa>  rnnkit_forward with the kernels of that ISA
//   onednn        oneDNN RNN primitive, forward_inference (vanilla_rnn tanh,
//                 vanilla_lstm, lbr_gru = PyTorch GRU, vanilla_gru = ONNX
//                 GRU with linear_before_reset=0); weights in the format
//                 the primitive picks ("any"), reordered from ldigo once
//                 outside the timing; only execute() is timed.
//   openblas      baseline: one sgemm for the input projection of all T
//                 steps, per step sgemv (batch 1) or sgemm for W_hh h, then
//                 scalar activations.
// Before timing, each engine's output (y, h_n, c_n) is checked against the
// rnnkit scalar reference on the same inputs; a max abs error above 1e-3
// is reported with SkipWithError. Rows of one configuration are
// registered next to each other (engine last in the name) so that
// scripts/compare.sh can put them side by side.
//
// Names: compare/<cell>/I:<in>/H:<h>/N:<batch>/T:<steps>[/L:<layers>/D:<dirs>]/thr:<threads>/engine:<engine>
// (L and D are named when not 1: stacked layers take the previous layer's
// output, [T, N, D*H]; D = 2 is bidirectional, outputs concatenated. oneDNN
// runs one bidirectional_concat primitive per layer, as PyTorch's oneDNN
// path does.)
#include "bench_common.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_map>

#include <omp.h>

#ifdef RNNKIT_BENCH_HAVE_DNNL
#include <dnnl.hpp>
#endif
#ifdef RNNKIT_BENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace {

using rkb::Buf;
using rkb::Cell;

struct Config {
    Cell cell;
    int64_t I, H, N, T;
    int threads;
    int L = 1, D = 1; // layers, directions

    std::string key() const {
        char b[160];
        int n = std::snprintf(b, sizeof b, "%s/I:%lld/H:%lld/N:%lld/T:%lld", rkb::cell_name(cell),
                              (long long)I, (long long)H, (long long)N, (long long)T);
        if (L != 1 || D != 1) std::snprintf(b + n, sizeof b - (size_t)n, "/L:%d/D:%d", L, D);
        return b;
    }
};

// Everything an engine needs: the weights and the input.
struct Problem {
    Config c;
    rkb::Net net;
    Buf x;
    explicit Problem(const Config &cfg)
        : c(cfg), net(rkb::make_net(cfg.cell, cfg.I, cfg.H, cfg.L, cfg.D, 1234)),
          x((size_t)(cfg.T * cfg.N * cfg.I)) {
        rkb::fill_buf(x, -1.0f, 1.0f, 99);
    }
};

// Outputs to check: y [T,N,D*H] (last layer), h_n and c_n (LSTM)
// [L*D,N,H].
struct Outputs {
    const float *y, *hn, *cn;
};

struct Reference {
    int64_t steps = 0; // steps computed (a prefix of the sequence)
    std::vector<float> y, hn, cn;
    std::string err;
};

// Steps the reference runs: all T, unless one scalar forward would cost
// more than RNNKIT_BENCH_CHECK_GFLOP (default 4; RNNKIT_BENCH_FULL=1: no
// limit). y[t] depends only on steps <= t, so a prefix of the sequence
// checks y over that prefix; h_n and c_n are checked when all T steps are.
// A reverse direction's outputs depend on the steps after them, so
// bidirectional models are always checked over the whole sequence.
int64_t reference_steps(const Problem &p) {
    if (std::getenv("RNNKIT_BENCH_FULL") || p.c.D == 2) return p.c.T;
    const double budget = rkb::env_double("RNNKIT_BENCH_CHECK_GFLOP", 4.0) * 1e9;
    const double per_step = rkb::net_flops(p.net, 1, p.c.N);
    int64_t steps = (int64_t)(budget / per_step);
    return std::max<int64_t>(1, std::min<int64_t>(p.c.T, steps));
}

// The scalar reference of a configuration, computed once per process.
const Reference &reference(const Problem &p) {
    static std::map<std::string, std::unique_ptr<Reference>> cache;
    auto &slot = cache[p.c.key()];
    if (slot) return *slot;
    slot = std::make_unique<Reference>();
    slot->steps = reference_steps(p);
    rkb::RnnkitRun run;
    if (!run.init(p.net, "scalar", slot->steps, p.c.N, p.x.data(), 0) || !run.run()) {
        slot->err = "scalar reference: " + run.err;
        return *slot;
    }
    slot->y.assign(run.y.data(), run.y.data() + run.y.size());
    const size_t states = (size_t)(p.c.L * p.c.D * p.c.N * p.c.H);
    slot->hn.assign(run.hn.data(), run.hn.data() + states);
    slot->cn.assign(run.cn.data(), run.cn.data() + states);
    return *slot;
}

// True if the outputs match the reference; else SkipWithError.
bool check(benchmark::State &st, const Problem &p, const Outputs &o) {
    const Reference &ref = reference(p);
    if (!ref.err.empty()) {
        st.SkipWithError(ref.err.c_str());
        return false;
    }
    const bool all = ref.steps == p.c.T;
    size_t wy = 0, wh = 0, wc = 0;
    double ey = rkb::max_abs_diff(o.y, ref.y.data(), ref.y.size(), &wy);
    double eh = all ? rkb::max_abs_diff(o.hn, ref.hn.data(), ref.hn.size(), &wh) : 0;
    double ec = all && p.c.cell == Cell::Lstm
                    ? rkb::max_abs_diff(o.cn, ref.cn.data(), ref.cn.size(), &wc)
                    : 0;
    double e = std::max(ey, std::max(eh, ec));
    st.counters["max_err"] = e;
    st.counters["checked_steps"] = (double)ref.steps;
    if (e <= 1e-3) return true;
    char msg[256];
    const char *what = e == ey ? "y" : e == eh ? "h_n" : "c_n";
    size_t where = e == ey ? wy : e == eh ? wh : wc;
    std::snprintf(msg, sizeof msg,
                  "mismatch vs rnnkit scalar reference: max abs err %.3g in %s at index %zu "
                  "(first %lld steps checked)",
                  e, what, where, (long long)ref.steps);
    st.SkipWithError(msg);
    return false;
}

// Sets the row's counters; returns its seconds per call (0 if none ran).
double set_counters(benchmark::State &st, const rkb::LoopTimer &timer, const Problem &p) {
    rkb::Rates r(st, timer);
    r.us_per("us/step", (double)p.c.T);
    r.rate("cells/s", (double)(p.c.T * p.c.N));
    r.rate("GFLOP/s", rkb::net_flops(p.net, p.c.T, p.c.N) * 1e-9);
    return r.ok() ? r.seconds / r.iters : 0.0;
}

// ------------------------------------------------------------------ pairing
// The median over rounds of t(a) / t(b) for two engines' forward calls made
// back to back, outside Google Benchmark's timing: each round runs a block
// of a's calls and a block of b's (which goes first alternates). A block's
// first call warms the caches for that engine's layout (a single 1-thread
// call between 2-thread calls evicted the 2-thread slices from the first
// core's L2: GRU H 256, batch 8 measured 1.29 against 1.5-1.9 from whole
// rows) and is not timed; the next k are timed: k >= 2 so that a block
// lasts ~2 ms (short calls, such as the speech models' 20-100 us, are not
// timed one interrupt at a time). Calls of 0.1 s or more (batch 64, H 1024:
// ~1 s) run unwarmed, one per block: a cold start is a small part of them.
// est: the time of one call, from the row's timed loop. The two blocks of
// a ratio run back to back, so the drift of a shared host, which moved the
// ratio of two rows timed minutes apart by 10-30 % (session 19) and
// oneDNN's own time by up to 40 % between runs (session 20), cancels.
// Rounds: until ~0.5 s have passed, at least 3 (5 unless the rounds average
// 0.2 s or more), at most 101.
// Returns 0 if a call failed.
template <class A, class B> double paired_ratio(double est, A &&a, B &&b) {
    using clk = std::chrono::steady_clock;
    auto secs = [](clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); };
    auto call = [&](int which) { return which ? b() : a(); }; // 0: a, 1: b
    const bool warm = est < 0.1;
    const int k = warm ? (int)std::min(64.0, std::max(2.0, std::ceil(2e-3 / std::max(est, 1e-9)))) : 1;
    std::vector<double> ratio;
    const auto start = clk::now();
    for (int r = 0; r < 101; r++) {
        double t[2];
        for (int v = 0; v < 2; v++) {
            const int which = v ^ (r & 1);
            if (warm && !call(which)) return 0;
            const auto t0 = clk::now();
            for (int i = 0; i < k; i++)
                if (!call(which)) return 0;
            t[which] = secs(t0);
        }
        ratio.push_back(t[0] / t[1]);
        const double el = secs(start);
        if (r >= 2 && el > 0.5 && (r >= 4 || el > 0.2 * (r + 1))) break;
    }
    std::sort(ratio.begin(), ratio.end());
    return ratio[ratio.size() / 2];
}

// ------------------------------------------------------------------ rnnkit
// The thread bar (rnnkit on c.threads threads against 1), paired
// (paired_ratio): "speedup_paired" = median t(1 thread) / t(this). The two
// runs' outputs are compared bit for bit (the library's results do not
// depend on the thread count): "paired_equal" is 1 if they were equal.
void paired_speedup(benchmark::State &st, const Problem &p, rkb::RnnkitRun &run, const std::string &isa,
                    double est) {
    rkb::RnnkitRun one;
    if (!one.init(p.net, isa.c_str(), p.c.T, p.c.N, p.x.data(), 1) || !one.run() || !run.run()) return;
    st.counters["paired_equal"] =
        std::memcmp(one.y.data(), run.y.data(), one.y.size() * sizeof(float)) == 0 ? 1.0 : 0.0;
    const double r = paired_ratio(est, [&] { return one.run(); }, [&] { return run.run(); });
    if (r > 0) st.counters["speedup_paired"] = r;
}

void bm_rnnkit(benchmark::State &st, Config c, std::string isa) {
    if (!rnnkit_isa_supported(isa.c_str())) {
        st.SkipWithError(("CPU or build lacks ISA " + isa).c_str());
        return;
    }
    Problem p(c);
    rkb::RnnkitRun run;
    if (!run.init(p.net, isa.c_str(), c.T, c.N, p.x.data(), c.threads) || !run.run()) {
        st.SkipWithError(run.err.c_str());
        return;
    }
    if (!check(st, p, {run.y.data(), run.hn.data(), run.cn.data()})) return;
    rkb::LoopTimer timer;
    for (auto _ : st) {
        if (!run.run()) {
            st.SkipWithError(run.err.c_str());
            break;
        }
        benchmark::ClobberMemory();
    }
    const double per_call = set_counters(st, timer, p);
    if (c.threads > 1 && !st.error_occurred()) paired_speedup(st, p, run, isa, per_call);
}

// ------------------------------------------------------------------ oneDNN
#ifdef RNNKIT_BENCH_HAVE_DNNL
struct DnnlRun {
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    // One primitive per layer (all directions of the layer in it).
    struct Layer {
        dnnl::primitive prim;
        std::unordered_map<int, dnnl::memory> args;
        std::vector<float> wl, wi, bias;
        Buf y; // [T, N, D*H]
    };
    std::vector<Layer> layers;
    std::vector<float> zeros;
    Buf hn, cn; // [L*D, N, H]
    const float *y = nullptr; // the last layer's output

    // PyTorch gate index of oneDNN gate g: LSTM i,f,c~,o = i,f,g,o; GRU
    // u,r,o = z,r,n.
    static int pt_gate(Cell cell, int g) {
        if (cell == Cell::GruLbr1 || cell == Cell::GruLbr0) return g == 0 ? 1 : g == 1 ? 0 : 2;
        return g;
    }

    template <class Prim>
    void finish(Layer &ly, const typename Prim::primitive_desc &pd,
                const dnnl::memory::desc &user_wl, const dnnl::memory::desc &user_wi) {
        dnnl::memory uwl(user_wl, eng, ly.wl.data()), uwi(user_wi, eng, ly.wi.data());
        dnnl::memory mwl(pd.weights_layer_desc(), eng), mwi(pd.weights_iter_desc(), eng);
        dnnl::reorder(uwl, mwl).execute(strm, uwl, mwl);
        dnnl::reorder(uwi, mwi).execute(strm, uwi, mwi);
        strm.wait();
        ly.args[DNNL_ARG_WEIGHTS_LAYER] = mwl;
        ly.args[DNNL_ARG_WEIGHTS_ITER] = mwi;
        ly.prim = Prim(pd);
    }

    std::string init(const Problem &p) {
        using dt = dnnl::memory::data_type;
        using tag = dnnl::memory::format_tag;
        using md = dnnl::memory::desc;
        const Cell cell = p.c.cell;
        const int64_t T = p.c.T, N = p.c.N, H = p.c.H, G = p.net.gates(), L = p.c.L, D = p.c.D;
        const int64_t Gb = cell == Cell::GruLbr1 ? 4 : G;
        zeros.assign((size_t)(D * N * H), 0.0f);
        hn.resize((size_t)(L * D * N * H));
        cn.resize((size_t)(L * D * N * H));
        layers.resize((size_t)L);
        const auto pk = dnnl::prop_kind::forward_inference;
        const auto dir = D == 2 ? dnnl::rnn_direction::bidirectional_concat
                                : dnnl::rnn_direction::unidirectional_left2right;
        for (int64_t l = 0; l < L; l++) {
            Layer &ly = layers[(size_t)l];
            const int64_t I = l == 0 ? p.c.I : D * H;
            // ldigo: [1][D][in][G][H], element (d, i, g, o) = W_g[o][i] of
            // direction d.
            ly.wl.assign((size_t)(D * I * G * H), 0.0f);
            ly.wi.assign((size_t)(D * H * G * H), 0.0f);
            // ldgo bias: summed biases per gate; lbr_gru keeps the
            // recurrent n-gate bias apart as a 4th gate.
            ly.bias.assign((size_t)(D * Gb * H), 0.0f);
            for (int64_t d = 0; d < D; d++) {
                const auto &e = p.net.ld[(size_t)(l * D + d)];
                float *wl = ly.wl.data() + d * I * G * H, *wi = ly.wi.data() + d * H * G * H;
                float *bias = ly.bias.data() + d * Gb * H;
                for (int64_t g = 0; g < G; g++) {
                    const int64_t pg = pt_gate(cell, (int)g);
                    for (int64_t o = 0; o < H; o++) {
                        for (int64_t i = 0; i < I; i++)
                            wl[(i * G + g) * H + o] = e.w_ih[(size_t)((pg * H + o) * I + i)];
                        for (int64_t i = 0; i < H; i++)
                            wi[(i * G + g) * H + o] = e.w_hh[(size_t)((pg * H + o) * H + i)];
                        float bv = e.b_ih[(size_t)(pg * H + o)];
                        if (!(cell == Cell::GruLbr1 && pg == 2)) bv += e.b_hh[(size_t)(pg * H + o)];
                        bias[g * H + o] = bv;
                    }
                }
                if (cell == Cell::GruLbr1)
                    for (int64_t o = 0; o < H; o++) bias[3 * H + o] = e.b_hh[(size_t)(2 * H + o)];
            }
            ly.y.resize((size_t)(T * N * D * H));

            md src_md({T, N, I}, dt::f32, tag::tnc);
            md st_md({1, D, N, H}, dt::f32, tag::ldnc);
            md wl_any({1, D, I, G, H}, dt::f32, tag::any), wi_any({1, D, H, G, H}, dt::f32, tag::any);
            md wl_user({1, D, I, G, H}, dt::f32, tag::ldigo),
                wi_user({1, D, H, G, H}, dt::f32, tag::ldigo);
            md b_md({1, D, Gb, H}, dt::f32, tag::ldgo);
            md dst_md({T, N, D * H}, dt::f32, tag::tnc);
            try {
                switch (cell) {
                case Cell::RnnTanh: {
                    dnnl::vanilla_rnn_forward::desc d(pk, dnnl::algorithm::eltwise_tanh, dir,
                                                      src_md, st_md, wl_any, wi_any, b_md, dst_md,
                                                      st_md);
                    finish<dnnl::vanilla_rnn_forward>(ly, {d, eng}, wl_user, wi_user);
                    break;
                }
                case Cell::Lstm: {
                    dnnl::lstm_forward::desc d(pk, dir, src_md, st_md, st_md, wl_any, wi_any, b_md,
                                               dst_md, st_md, st_md);
                    finish<dnnl::lstm_forward>(ly, {d, eng}, wl_user, wi_user);
                    break;
                }
                case Cell::GruLbr1: {
                    dnnl::lbr_gru_forward::desc d(pk, dir, src_md, st_md, wl_any, wi_any, b_md,
                                                  dst_md, st_md);
                    finish<dnnl::lbr_gru_forward>(ly, {d, eng}, wl_user, wi_user);
                    break;
                }
                case Cell::GruLbr0: {
                    dnnl::gru_forward::desc d(pk, dir, src_md, st_md, wl_any, wi_any, b_md, dst_md,
                                              st_md);
                    finish<dnnl::gru_forward>(ly, {d, eng}, wl_user, wi_user);
                    break;
                }
                }
                const float *src = l == 0 ? p.x.data() : layers[(size_t)(l - 1)].y.data();
                float *hl = hn.data() + l * D * N * H, *cl = cn.data() + l * D * N * H;
                ly.args[DNNL_ARG_SRC_LAYER] = dnnl::memory(src_md, eng, const_cast<float *>(src));
                ly.args[DNNL_ARG_SRC_ITER] = dnnl::memory(st_md, eng, zeros.data());
                ly.args[DNNL_ARG_BIAS] = dnnl::memory(b_md, eng, ly.bias.data());
                ly.args[DNNL_ARG_DST_LAYER] = dnnl::memory(dst_md, eng, ly.y.data());
                ly.args[DNNL_ARG_DST_ITER] = dnnl::memory(st_md, eng, hl);
                if (cell == Cell::Lstm) {
                    ly.args[DNNL_ARG_SRC_ITER_C] = dnnl::memory(st_md, eng, zeros.data());
                    ly.args[DNNL_ARG_DST_ITER_C] = dnnl::memory(st_md, eng, cl);
                }
            } catch (const dnnl::error &ex) {
                return std::string("oneDNN: ") + ex.what();
            }
        }
        y = layers.back().y.data();
        return "";
    }

    void run() {
        for (auto &ly : layers) ly.prim.execute(strm, ly.args);
        strm.wait();
    }
};
#endif

void bm_onednn(benchmark::State &st, Config c) {
#ifdef RNNKIT_BENCH_HAVE_DNNL
    omp_set_num_threads(c.threads);
    Problem p(c);
    DnnlRun d;
    std::string err = d.init(p);
    if (!err.empty()) {
        st.SkipWithError(err.c_str());
        return;
    }
    d.run();
    if (!check(st, p, {d.y, d.hn.data(), d.cn.data()})) return;
    rkb::LoopTimer timer;
    for (auto _ : st) {
        d.run();
        benchmark::ClobberMemory();
    }
    const double est = set_counters(st, timer, p);
    // The bar's ratio, paired (paired_ratio): "ratio_paired" = median
    // t(oneDNN) / t(rnnkit), rnnkit with the ISA the library picks
    // (context rnnkit_isa_auto) on the same thread count, inputs and
    // weights (its output is checked on its own row, rnnkit-<that ISA>).
    rkb::RnnkitRun rk;
    if (rk.init(p.net, "auto", c.T, c.N, p.x.data(), c.threads) && rk.run()) {
        // The library never changes the OpenMP thread count set above.
        const double r = paired_ratio(
            est,
            [&] {
                d.run();
                return true;
            },
            [&] { return rk.run(); });
        if (r > 0) st.counters["ratio_paired"] = r;
    }
#else
    (void)c;
    st.SkipWithError("oneDNN not found at configure time");
#endif
}

// ------------------------------------------------------------------ OpenBLAS
#ifdef RNNKIT_BENCH_HAVE_OPENBLAS
struct BlasRun {
    const Problem *p = nullptr;
    int64_t T = 0, N = 0, H = 0, G = 0, L = 0, D = 0;
    // Per layer-direction (index l*D + d): input-side bias per gate (b_ih +
    // b_hh where it folds) and, GRU lbr=1, the recurrent n-gate bias
    // (inside r * (.)).
    std::vector<std::vector<float>> bx, b_hn;
    std::vector<Buf> ys; // per layer: [T, N, D*H]
    Buf xp, hg, hn, cn, rh, zeros;

    void init(const Problem &prob) {
        p = &prob;
        T = prob.c.T, N = prob.c.N, H = prob.c.H, G = prob.net.gates();
        L = prob.c.L, D = prob.c.D;
        bx.resize((size_t)(L * D));
        b_hn.resize((size_t)(L * D));
        for (size_t k = 0; k < bx.size(); k++) {
            const auto &e = prob.net.ld[k];
            bx[k].resize((size_t)(G * H));
            for (size_t i = 0; i < bx[k].size(); i++) bx[k][i] = e.b_ih[i] + e.b_hh[i];
            if (prob.c.cell == Cell::GruLbr1) {
                b_hn[k].assign(e.b_hh.begin() + 2 * H, e.b_hh.begin() + 3 * H);
                for (int64_t j = 0; j < H; j++)
                    bx[k][(size_t)(2 * H + j)] = e.b_ih[(size_t)(2 * H + j)];
            }
        }
        xp.resize((size_t)(T * N * G * H));
        hg.resize((size_t)(N * G * H));
        ys.resize((size_t)L);
        for (auto &y : ys) y.resize((size_t)(T * N * D * H));
        hn.resize((size_t)(L * D * N * H));
        cn.resize((size_t)(L * D * N * H));
        rh.resize((size_t)(N * H));
        zeros.resize((size_t)(N * H));
    }

    static float sig(float v) { return 1.0f / (1.0f + std::exp(-v)); }

    // out[N, rows] (row stride ldo) = in[N, H] (row stride ldi) . W[rows, H]^T
    void matmul_h(const float *in, int64_t ldi, const float *w, int64_t rows, float *out,
                  int64_t ldo) {
        if (N == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)rows, (blasint)H, 1.0f, w, (blasint)H,
                        in, 1, 0.0f, out, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)N, (blasint)rows,
                        (blasint)H, 1.0f, in, (blasint)ldi, w, (blasint)H, 0.0f, out, (blasint)ldo);
    }

    // One direction d of layer l over the input in [T, N, I].
    void run_dir(int64_t l, int64_t d, const float *in, int64_t I) {
        const size_t k = (size_t)(l * D + d);
        const auto &e = p->net.ld[k];
        const float *bxk = bx[k].data(), *bhn = b_hn[k].data();
        const Cell cell = p->c.cell;
        const int64_t GH = G * H, ldh = D * H;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)(T * N), (blasint)GH,
                    (blasint)I, 1.0f, in, (blasint)I, e.w_ih.data(), (blasint)I, 0.0f, xp.data(),
                    (blasint)GH);
        const float *hp = zeros.data();
        int64_t ldp = H; // row stride of hp
        float *c = cn.data() + k * (size_t)(N * H);
        std::memset(c, 0, sizeof(float) * (size_t)(N * H));
        for (int64_t s = 0; s < T; s++) {
            const int64_t t = d == 0 ? s : T - 1 - s;
            float *ht = ys[(size_t)l].data() + (size_t)(t * N * ldh + d * H);
            const float *xt = xp.data() + (size_t)(t * N * GH);
            matmul_h(hp, ldp, e.w_hh.data(), cell == Cell::GruLbr0 ? 2 * H : GH, hg.data(), GH);
            for (int64_t r = 0; r < N; r++) {
                const float *xr = xt + r * GH, *gr = hg.data() + r * GH, *hpr = hp + r * ldp;
                float *hr = ht + r * ldh, *cr = c + r * H;
                switch (cell) {
                case Cell::RnnTanh:
                    for (int64_t j = 0; j < H; j++) hr[j] = std::tanh(xr[j] + bxk[j] + gr[j]);
                    break;
                case Cell::Lstm:
                    for (int64_t j = 0; j < H; j++) {
                        float i = sig(xr[j] + bxk[j] + gr[j]);
                        float f = sig(xr[H + j] + bxk[H + j] + gr[H + j]);
                        float g = std::tanh(xr[2 * H + j] + bxk[2 * H + j] + gr[2 * H + j]);
                        float o = sig(xr[3 * H + j] + bxk[3 * H + j] + gr[3 * H + j]);
                        cr[j] = f * cr[j] + i * g;
                        hr[j] = o * std::tanh(cr[j]);
                    }
                    break;
                case Cell::GruLbr1:
                    for (int64_t j = 0; j < H; j++) {
                        float rg = sig(xr[j] + bxk[j] + gr[j]);
                        float z = sig(xr[H + j] + bxk[H + j] + gr[H + j]);
                        float n = std::tanh(xr[2 * H + j] + bxk[2 * H + j] +
                                            rg * (gr[2 * H + j] + bhn[j]));
                        hr[j] = (1.0f - z) * n + z * hpr[j];
                    }
                    break;
                case Cell::GruLbr0:
                    for (int64_t j = 0; j < H; j++) {
                        float rg = sig(xr[j] + bxk[j] + gr[j]);
                        rh[(size_t)(r * H + j)] = rg * hpr[j];
                    }
                    break;
                }
            }
            if (cell == Cell::GruLbr0) {
                matmul_h(rh.data(), H, e.w_hh.data() + 2 * H * H, H, hg.data() + 2 * H, GH);
                for (int64_t r = 0; r < N; r++) {
                    const float *xr = xt + r * GH, *gr = hg.data() + r * GH, *hpr = hp + r * ldp;
                    float *hr = ht + r * ldh;
                    for (int64_t j = 0; j < H; j++) {
                        float z = sig(xr[H + j] + bxk[H + j] + gr[H + j]);
                        float n = std::tanh(xr[2 * H + j] + bxk[2 * H + j] + gr[2 * H + j]);
                        hr[j] = (1.0f - z) * n + z * hpr[j];
                    }
                }
            }
            hp = ht;
            ldp = ldh;
        }
        for (int64_t r = 0; r < N; r++)
            std::memcpy(hn.data() + k * (size_t)(N * H) + r * H, hp + r * ldp,
                        sizeof(float) * (size_t)H);
    }

    void run() {
        for (int64_t l = 0; l < L; l++) {
            const float *in = l == 0 ? p->x.data() : ys[(size_t)(l - 1)].data();
            const int64_t I = l == 0 ? p->c.I : D * H;
            for (int64_t d = 0; d < D; d++) run_dir(l, d, in, I);
        }
    }
    const float *y() const { return ys.back().data(); }
};
#endif

void bm_openblas(benchmark::State &st, Config c) {
#ifdef RNNKIT_BENCH_HAVE_OPENBLAS
    openblas_set_num_threads(c.threads);
    Problem p(c);
    BlasRun b;
    b.init(p);
    b.run();
    if (!check(st, p, {b.y(), b.hn.data(), b.cn.data()})) return;
    rkb::LoopTimer timer;
    for (auto _ : st) {
        b.run();
        benchmark::ClobberMemory();
    }
    set_counters(st, timer, p);
    openblas_set_num_threads(1);
#else
    (void)c;
    st.SkipWithError("OpenBLAS not found at configure time");
#endif
}

// ------------------------------------------------------------------ registry
void add(const Config &c) {
    static const bool full = std::getenv("RNNKIT_BENCH_FULL") != nullptr;
    char base[200];
    std::snprintf(base, sizeof base, "compare/%s/thr:%d/engine:", c.key().c_str(), c.threads);
    for (const auto &isa : rkb::isa_list()) {
        if (isa == "scalar" && !full) {
            double G = rkb::cell_gates(c.cell);
            double flops = 2.0 * (double)c.T * (double)c.N * G * (double)c.H * (double)(c.I + c.H) * c.L * c.D;
            if (flops > 2e9) continue;
        }
        benchmark::RegisterBenchmark((base + ("rnnkit-" + isa)).c_str(), bm_rnnkit, c, isa)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
    }
    benchmark::RegisterBenchmark((std::string(base) + "onednn").c_str(), bm_onednn, c)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string(base) + "openblas").c_str(), bm_openblas, c)
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
}

void register_all() {
    for (Cell cell : {Cell::RnnTanh, Cell::Lstm, Cell::GruLbr1, Cell::GruLbr0})
        for (int64_t h : {128, 256, 512, 1024})
            for (int64_t n : {1, 8, 64})
                for (int thr : {1, 2}) add({cell, h, h, n, 50, thr});
    // Small speech models (batch 1, input 24, T 63), one and two
    // directions.
    for (Cell cell : {Cell::Lstm, Cell::GruLbr1})
        for (int64_t h : {32, 64})
            for (int dirs : {1, 2})
                for (int thr : {1, 2}) add({cell, 24, h, 1, 63, thr, 1, dirs});
    // A 2-layer bidirectional LSTM, H 512, batch 8.
    for (int thr : {1, 2}) add({Cell::Lstm, 512, 512, 8, 50, thr, 2, 2});
    // A bidirectional LSTM whose two directions' weights (2 x 16 MiB)
    // exceed L3 together: the plan runs the directions in turn.
    for (int thr : {1, 2}) add({Cell::Lstm, 1024, 1024, 1, 50, thr, 1, 2});
}

} // namespace

int main(int argc, char **argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef RNNKIT_BENCH_HAVE_OPENBLAS
    // OpenBLAS' pthreads and OpenMP's threads would oversubscribe the
    // cores: the baseline sets its thread count itself around its runs.
    openblas_set_num_threads(1);
    benchmark::AddCustomContext("openblas", "compiled in");
#else
    benchmark::AddCustomContext("openblas", "not found at configure time");
#endif
#ifdef RNNKIT_BENCH_HAVE_DNNL
    {
        const dnnl_version_t *v = dnnl_version();
        char b[64];
        const char *isa = "?";
        switch (dnnl::get_effective_cpu_isa()) {
        case dnnl::cpu_isa::sse41: isa = "sse41"; break;
        case dnnl::cpu_isa::avx: isa = "avx"; break;
        case dnnl::cpu_isa::avx2: isa = "avx2"; break;
        case dnnl::cpu_isa::avx2_vnni: isa = "avx2_vnni"; break;
        case dnnl::cpu_isa::avx512_core: isa = "avx512_core"; break;
        case dnnl::cpu_isa::avx512_core_vnni: isa = "avx512_core_vnni"; break;
        case dnnl::cpu_isa::avx512_core_bf16: isa = "avx512_core_bf16"; break;
        case dnnl::cpu_isa::avx512_core_amx: isa = "avx512_core_amx"; break;
        default: break;
        }
        std::snprintf(b, sizeof b, "%d.%d.%d, isa %s", v->major, v->minor, v->patch, isa);
        benchmark::AddCustomContext("onednn", b);
    }
#else
    benchmark::AddCustomContext("onednn", "not found at configure time");
#endif
    register_all();
    rkb::add_limits_context();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
