// Shared helpers of the rnnkit benchmarks: machine limits (overridable by
// environment variables), random weights in PyTorch/ONNX layouts, model
// creation through the public API, FLOP counts and counters.
#ifndef RNNKIT_BENCH_COMMON_H
#define RNNKIT_BENCH_COMMON_H

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <glob.h>
#include <string>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "rnnkit.h"

namespace rkb {

// ------------------------------------------------------------------
// Machine limits: environment variables first, else what `rnnkit prof`
// measured on this machine (its cache file), else the team's 2-core Zen 4
// VM figures (/work/shared/NOTES.md).
// ------------------------------------------------------------------
inline double env_double(const char *name, double dflt) {
    const char *s = std::getenv(name);
    if (!s || !*s) return dflt;
    char *end = nullptr;
    double v = std::strtod(s, &end);
    if (end == s || !(v > 0)) {
        std::fprintf(stderr, "bench: ignoring %s=%s (not a positive number)\n", name, s);
        return dflt;
    }
    return v;
}

struct Limits {
    double peak_gflops; // fp32 FMA peak per core
    double bw_l1, bw_l2, bw_l3, bw_dram; // read GB/s per core
    double l1_bytes, l2_bytes, l3_bytes;
};

// Limits measured by `rnnkit prof` on this machine, from its cache file
// ($XDG_CACHE_HOME/rnnkit/limits-*.txt, else ~/.cache/rnnkit/), one-thread
// column. Missing file or values: the defaults stay.
inline void read_prof_cache(Limits &l) {
    std::string dir;
    if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x) dir = std::string(x) + "/rnnkit";
    else if (const char *h = std::getenv("HOME"); h && *h) dir = std::string(h) + "/.cache/rnnkit";
    else return;
    glob_t g;
    if (glob((dir + "/limits-*.txt").c_str(), 0, nullptr, &g) != 0) return;
    FILE *f = g.gl_pathc ? std::fopen(g.gl_pathv[0], "r") : nullptr;
    globfree(&g);
    if (!f) return;
    char line[256], a[32], b[32];
    double v1, v2;
    double peak = 0;
    while (std::fgets(line, sizeof line, f)) {
        int n = std::sscanf(line, "%31s %31s %lf %lf", a, b, &v1, &v2);
        if (n < 3 || !(v1 > 0)) continue;
        std::string k = a, lv = b;
        if (k == "fma" && lv != "scalar" && v1 > peak) peak = v1;
        if (k == "read") {
            if (lv == "L1") l.bw_l1 = v1;
            if (lv == "L2") l.bw_l2 = v1;
            if (lv == "L3") l.bw_l3 = v1;
            if (lv == "DRAM") l.bw_dram = v1;
        }
        if (k == "cache") {
            if (lv == "L1") l.l1_bytes = v1;
            if (lv == "L2") l.l2_bytes = v1;
            if (lv == "L3") l.l3_bytes = v1;
        }
    }
    if (peak > 0) l.peak_gflops = peak;
    std::fclose(f);
}

inline const Limits &limits() {
    static const Limits l = [] {
        Limits d = {117.0, 214.0, 115.0, 97.0, 30.0, 32.0 * 1024, 1024.0 * 1024, 32.0 * 1024 * 1024};
        read_prof_cache(d);
        Limits e = {
            env_double("RNNKIT_PEAK_GFLOPS", d.peak_gflops), env_double("RNNKIT_BW_L1_GBS", d.bw_l1),
            env_double("RNNKIT_BW_L2_GBS", d.bw_l2),         env_double("RNNKIT_BW_L3_GBS", d.bw_l3),
            env_double("RNNKIT_BW_DRAM_GBS", d.bw_dram),     env_double("RNNKIT_L1_BYTES", d.l1_bytes),
            env_double("RNNKIT_L2_BYTES", d.l2_bytes),       env_double("RNNKIT_L3_BYTES", d.l3_bytes),
        };
        return e;
    }();
    return l;
}

// The bandwidth limit of the cache level a working set of `bytes` fits in.
inline double bw_limit_for(double bytes, const char **level = nullptr) {
    const Limits &l = limits();
    const char *lv;
    double bw;
    if (bytes <= l.l1_bytes) lv = "L1", bw = l.bw_l1;
    else if (bytes <= l.l2_bytes) lv = "L2", bw = l.bw_l2;
    else if (bytes <= l.l3_bytes) lv = "L3", bw = l.bw_l3;
    else lv = "DRAM", bw = l.bw_dram;
    if (level) *level = lv;
    return bw;
}

inline void add_limits_context() {
    const Limits &l = limits();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "peak %.0f GFLOP/s/core; L1 %.0f, L2 %.0f, L3 %.0f, DRAM %.0f GB/s "
                  "(override: RNNKIT_PEAK_GFLOPS, RNNKIT_BW_{L1,L2,L3,DRAM}_GBS)",
                  l.peak_gflops, l.bw_l1, l.bw_l2, l.bw_l3, l.bw_dram);
    benchmark::AddCustomContext("rnnkit_limits", buf);
    benchmark::AddCustomContext("rnnkit_version", rnnkit_version());
    benchmark::AddCustomContext("rnnkit_cpu_features", rnnkit_cpu_features());
    benchmark::AddCustomContext("rnnkit_isa_auto", rnnkit_isa_active());
    const char *wp = std::getenv("OMP_WAIT_POLICY");
    benchmark::AddCustomContext("OMP_WAIT_POLICY", wp ? wp : "(unset)");
}

// Counters are computed from our own wall-clock timing of the benchmark
// loop (the work runs on OpenMP threads, so CPU time of the benchmark
// thread means nothing), as plain numbers so that they read as written
// and repetitions aggregate them (mean, median, stddev).
struct LoopTimer {
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
};

struct Rates {
    benchmark::State &st;
    double seconds, iters;
    Rates(benchmark::State &s, const LoopTimer &t)
        : st(s),
          seconds(std::chrono::duration<double>(std::chrono::steady_clock::now() - t.t0).count()),
          iters((double)s.iterations()) {}
    bool ok() const { return seconds > 0 && iters > 0; }
    // per_iter units per iteration -> units per second.
    void rate(const char *name, double per_iter) {
        if (ok()) st.counters[name] = per_iter * iters / seconds;
    }
    // Microseconds per unit, per_iter units per iteration.
    void us_per(const char *name, double per_iter) {
        if (ok()) st.counters[name] = seconds * 1e6 / (iters * per_iter);
    }
};

// ------------------------------------------------------------------
// ISAs: the list simd/kernels.inc opens (its RNNKIT_ISA lines).
// ------------------------------------------------------------------
inline const std::vector<std::string> &isa_list() {
    static const std::vector<std::string> v = [] {
        std::vector<std::string> r;
#define RNNKIT_ISA(isa, row_block) r.push_back(#isa);
#include "simd/kernels.inc"
#undef RNNKIT_ISA
        return r;
    }();
    return v;
}

// ------------------------------------------------------------------
// Models
// ------------------------------------------------------------------
enum class Cell { RnnTanh, Lstm, GruLbr1, GruLbr0 };

inline const char *cell_name(Cell c) {
    switch (c) {
    case Cell::RnnTanh: return "rnn_tanh";
    case Cell::Lstm: return "lstm";
    case Cell::GruLbr1: return "gru_lbr1";
    case Cell::GruLbr0: return "gru_lbr0";
    }
    return "?";
}

inline int cell_gates(Cell c) {
    switch (c) {
    case Cell::RnnTanh: return 1;
    case Cell::Lstm: return 4;
    default: return 3;
    }
}

// Raw weights in PyTorch gate order (LSTM i,f,g,o; GRU r,z,n), one entry
// per layer-direction (index layer*dirs + dir). Values as PyTorch's
// initialisation: uniform(-1/sqrt(H), 1/sqrt(H)).
struct Net {
    Cell cell;
    int64_t input, hidden;
    int layers, dirs;
    struct LayerDir {
        int64_t in;
        std::vector<float> w_ih, w_hh, b_ih, b_hh; // [G*H,in], [G*H,H], [G*H], [G*H]
    };
    std::vector<LayerDir> ld;
    int gates() const { return cell_gates(cell); }
};

inline void fill_uniform(std::vector<float> &v, size_t n, float lo, float hi, std::mt19937 &rng) {
    std::uniform_real_distribution<float> d(lo, hi);
    v.resize(n);
    for (auto &x : v) x = d(rng);
}

inline Net make_net(Cell cell, int64_t input, int64_t hidden, int layers, int dirs, uint32_t seed) {
    Net net{cell, input, hidden, layers, dirs, {}};
    std::mt19937 rng(seed);
    const int64_t G = cell_gates(cell);
    const float s = 1.0f / std::sqrt((float)hidden);
    for (int l = 0; l < layers; l++) {
        for (int d = 0; d < dirs; d++) {
            Net::LayerDir e;
            e.in = l == 0 ? input : dirs * hidden;
            fill_uniform(e.w_ih, (size_t)(G * hidden * e.in), -s, s, rng);
            fill_uniform(e.w_hh, (size_t)(G * hidden * hidden), -s, s, rng);
            fill_uniform(e.b_ih, (size_t)(G * hidden), -s, s, rng);
            fill_uniform(e.b_hh, (size_t)(G * hidden), -s, s, rng);
            net.ld.push_back(std::move(e));
        }
    }
    return net;
}

// FLOPs of one forward: the matmuls only (input projection + recurrent),
// 2*T*N*G*H*(in+H) per layer-direction.
inline double net_flops(const Net &net, int64_t T, int64_t N) {
    double f = 0;
    for (const auto &e : net.ld)
        f += 2.0 * (double)T * (double)N * net.gates() * (double)net.hidden *
             (double)(e.in + net.hidden);
    return f;
}

// Named tensors for rnnkit_model_create (owns names and data).
struct TensorSet {
    std::vector<std::string> names;
    std::vector<std::vector<float>> data;
    std::vector<std::vector<int64_t>> shapes;
    std::vector<rnnkit_tensor> tensors;

    void add(const std::string &name, std::vector<float> v, std::vector<int64_t> shape) {
        names.push_back(name);
        data.push_back(std::move(v));
        shapes.push_back(std::move(shape));
    }
    void finish() {
        tensors.clear();
        for (size_t i = 0; i < names.size(); i++) {
            rnnkit_tensor t;
            std::memset(&t, 0, sizeof t);
            t.name = names[i].c_str();
            t.data = data[i].data();
            t.ndim = (int)shapes[i].size();
            for (int k = 0; k < t.ndim; k++) t.shape[k] = shapes[i][(size_t)k];
            tensors.push_back(t);
        }
    }
};

// PyTorch gate g of net -> ONNX GRU position (z, r, h).
inline int onnx_gru_pos(int g) { return g == 0 ? 1 : (g == 1 ? 0 : 2); }

inline void build_tensors(const Net &net, TensorSet &ts, rnnkit_model_desc &desc) {
    rnnkit_model_desc_init(&desc);
    const int64_t G = net.gates(), H = net.hidden;
    if (net.cell == Cell::GruLbr0) {
        // ONNX GRU, linear_before_reset = 0, gate order z, r, h.
        desc.layout = RNNKIT_LAYOUT_ONNX;
        desc.cell = RNNKIT_CELL_GRU;
        desc.linear_before_reset = 0;
        desc.direction = net.dirs == 2 ? RNNKIT_DIRECTION_BIDIRECTIONAL : RNNKIT_DIRECTION_FORWARD;
        const int64_t D = net.dirs, I = net.input;
        std::vector<float> W((size_t)(D * G * H * I)), R((size_t)(D * G * H * H)),
            B((size_t)(D * 2 * G * H));
        for (int64_t d = 0; d < D; d++) {
            const auto &e = net.ld[(size_t)d];
            for (int g = 0; g < 3; g++) {
                int64_t p = onnx_gru_pos(g);
                std::memcpy(&W[(size_t)((d * G + p) * H * I)], &e.w_ih[(size_t)(g * H * I)],
                            sizeof(float) * (size_t)(H * I));
                std::memcpy(&R[(size_t)((d * G + p) * H * H)], &e.w_hh[(size_t)(g * H * H)],
                            sizeof(float) * (size_t)(H * H));
                std::memcpy(&B[(size_t)(d * 2 * G * H + p * H)], &e.b_ih[(size_t)(g * H)],
                            sizeof(float) * (size_t)H);
                std::memcpy(&B[(size_t)(d * 2 * G * H + (G + p) * H)], &e.b_hh[(size_t)(g * H)],
                            sizeof(float) * (size_t)H);
            }
        }
        ts.add("W", std::move(W), {D, G * H, I});
        ts.add("R", std::move(R), {D, G * H, H});
        ts.add("B", std::move(B), {D, 2 * G * H});
    } else {
        desc.layout = RNNKIT_LAYOUT_PYTORCH;
        desc.cell = net.cell == Cell::RnnTanh ? RNNKIT_CELL_RNN_TANH
                    : net.cell == Cell::Lstm  ? RNNKIT_CELL_LSTM
                                              : RNNKIT_CELL_GRU;
        desc.num_layers = net.layers;
        for (int l = 0; l < net.layers; l++) {
            for (int d = 0; d < net.dirs; d++) {
                const auto &e = net.ld[(size_t)(l * net.dirs + d)];
                std::string sfx = std::to_string(l) + (d ? "_reverse" : "");
                ts.add("weight_ih_l" + sfx, e.w_ih, {G * H, e.in});
                ts.add("weight_hh_l" + sfx, e.w_hh, {G * H, H});
                ts.add("bias_ih_l" + sfx, e.b_ih, {G * H});
                ts.add("bias_hh_l" + sfx, e.b_hh, {G * H});
            }
        }
    }
    ts.finish();
}

// Creates the model with kernels of `isa` ("auto" = best). On failure
// returns NULL and sets *err.
inline rnnkit_model *create_model(const Net &net, const char *isa, std::string *err) {
    TensorSet ts;
    rnnkit_model_desc desc;
    build_tensors(net, ts, desc);
    if (rnnkit_isa_select(isa) != RNNKIT_STATUS_OK) {
        *err = std::string("isa ") + isa + ": " + rnnkit_last_error();
        return nullptr;
    }
    rnnkit_model *m = nullptr;
    rnnkit_status s = rnnkit_model_create(&desc, ts.tensors.data(), ts.tensors.size(), &m);
    if (s != RNNKIT_STATUS_OK) *err = std::string("rnnkit_model_create: ") + rnnkit_last_error();
    rnnkit_isa_select("auto");
    return s == RNNKIT_STATUS_OK ? m : nullptr;
}

// 64-byte aligned float buffer.
struct Buf {
    float *p = nullptr;
    size_t n = 0;
    Buf() = default;
    explicit Buf(size_t count) { resize(count); }
    Buf(const Buf &) = delete;
    Buf &operator=(const Buf &) = delete;
    Buf(Buf &&o) noexcept : p(o.p), n(o.n) { o.p = nullptr, o.n = 0; }
    Buf &operator=(Buf &&o) noexcept {
        if (this != &o) {
            std::free(p);
            p = o.p, n = o.n;
            o.p = nullptr, o.n = 0;
        }
        return *this;
    }
    ~Buf() { std::free(p); }
    void resize(size_t count) {
        std::free(p);
        n = count;
        size_t bytes = ((count ? count : 1) * sizeof(float) + 63) / 64 * 64;
        p = static_cast<float *>(std::aligned_alloc(64, bytes));
        std::memset(p, 0, bytes);
    }
    float *data() { return p; }
    const float *data() const { return p; }
    size_t size() const { return n; }
    float &operator[](size_t i) { return p[i]; }
    const float &operator[](size_t i) const { return p[i]; }
};

inline void fill_buf(Buf &b, float lo, float hi, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (size_t i = 0; i < b.size(); i++) b[i] = d(rng);
}

// A created model plus everything one rnnkit_forward needs (x, y, hn, cn,
// caller workspace), so the timed call allocates nothing.
struct RnnkitRun {
    rnnkit_model *model = nullptr;
    int64_t T = 0, N = 0;
    size_t ws_bytes = 0;
    void *ws = nullptr;
    Buf y, hn, cn;
    rnnkit_forward_args args{};
    std::string err;

    RnnkitRun() = default;
    RnnkitRun(const RnnkitRun &) = delete;
    RnnkitRun &operator=(const RnnkitRun &) = delete;
    ~RnnkitRun() {
        rnnkit_model_destroy(model);
        rnnkit_buffer_free(ws);
    }

    // x: [T, N, I] sequence-major.
    bool init(const Net &net, const char *isa, int64_t T_, int64_t N_, const float *x, int threads) {
        T = T_, N = N_;
        model = create_model(net, isa, &err);
        if (!model) return false;
        if (rnnkit_workspace_size(model, T, N, &ws_bytes) != RNNKIT_STATUS_OK) {
            err = std::string("rnnkit_workspace_size: ") + rnnkit_last_error();
            return false;
        }
        // The library's allocator: huge pages for a large workspace, as a
        // call's own workspace gets (include/rnnkit.h).
        ws = rnnkit_buffer_alloc(ws_bytes);
        if (!ws) {
            err = std::string("rnnkit_buffer_alloc: ") + rnnkit_last_error();
            return false;
        }
        const int64_t D = net.dirs, H = net.hidden;
        y.resize((size_t)(T * N * D * H));
        hn.resize((size_t)(net.layers * D * N * H));
        cn.resize((size_t)(net.layers * D * N * H));
        std::memset(&args, 0, sizeof args);
        args.seq_len = T;
        args.batch = N;
        args.batch_major = 0;
        args.x = x;
        args.y = y.data();
        args.hn = hn.data();
        args.cn = net.cell == Cell::Lstm ? cn.data() : nullptr;
        args.workspace = ws;
        args.workspace_size = ws_bytes;
        args.num_threads = threads;
        return true;
    }
    bool run() {
        if (rnnkit_forward(model, &args) != RNNKIT_STATUS_OK) {
            err = std::string("rnnkit_forward: ") + rnnkit_last_error();
            return false;
        }
        return true;
    }
    const char *isa() const {
        static thread_local rnnkit_model_info info;
        rnnkit_model_get_info(model, &info);
        return info.isa;
    }
};

inline double max_abs_diff(const float *a, const float *b, size_t n, size_t *where = nullptr) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = std::fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) { // also catches NaN
            m = std::isnan(d) ? INFINITY : d;
            if (where) *where = i;
        }
    }
    return m;
}

} // namespace rkb

#endif
