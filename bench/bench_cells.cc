// Per-cell benchmarks through the public API: rnnkit_model_create, then
// rnnkit_forward over whole sequences with a caller workspace (the timed
// call allocates nothing).
//
// Names: cell/<cell>/isa:<isa>/I:<in>/H:<h>/L:<layers>/D:<dirs>/N:<batch>/T:<steps>/thr:<threads>
// Grid: cell (rnn_tanh, lstm, gru_lbr1 = PyTorch GRU, gru_lbr0 = ONNX GRU
// with linear_before_reset=0) x H=I 128/256/512/1024 x N 1/8/64 x T 50 x
// threads 1/2 x ISA; a 2-layer bidirectional LSTM (H 512, N 8); the small
// speech models (N 1, I 24, H 32/64, T 63, LSTM/GRU, uni/bidirectional);
// stream/ rows: the same speech models (and LSTM H 256) through
// rnnkit_stream_push, one frame per call or the whole sequence.
// The scalar ISA is only run where one forward is under 2 GFLOP unless
// RNNKIT_BENCH_FULL=1 (it is the reference, not a contender).
#include "bench_common.h"

namespace {

struct CellCase {
    rkb::Cell cell;
    int64_t I, H;
    int layers, dirs;
    int64_t N, T;
    int threads;
    std::string isa;
};

void bm_cell(benchmark::State &st, CellCase c) {
    if (!rnnkit_isa_supported(c.isa.c_str())) {
        st.SkipWithError(("CPU or build lacks ISA " + c.isa).c_str());
        return;
    }
    const rkb::Net net = rkb::make_net(c.cell, c.I, c.H, c.layers, c.dirs, 1234);
    rkb::Buf x((size_t)(c.T * c.N * c.I));
    rkb::fill_buf(x, -1.0f, 1.0f, 99);
    rkb::RnnkitRun run;
    if (!run.init(net, c.isa.c_str(), c.T, c.N, x.data(), c.threads) || !run.run()) {
        st.SkipWithError(run.err.c_str());
        return;
    }
    rkb::LoopTimer timer;
    for (auto _ : st) {
        if (!run.run()) {
            st.SkipWithError(run.err.c_str());
            break;
        }
        benchmark::DoNotOptimize(run.y.data());
        benchmark::ClobberMemory();
    }
    rkb::Rates r(st, timer);
    r.us_per("us/step", (double)c.T);
    r.rate("cells/s", (double)(c.T * c.N));
    r.rate("GFLOP/s", rkb::net_flops(net, c.T, c.N) * 1e-9);
    st.SetLabel(run.isa());
}

// Streaming (rnnkit_stream_push), the real-time use: a sequence of T
// frames pushed `frames` at a time (1: one call per frame, as audio
// arrives), the stream reset before each sequence. us/step is per frame;
// compare with the same model's cell/ row (one rnnkit_forward over T).
// thr: rnnkit_stream_set_num_threads (1: the calling thread only).
struct StreamCase {
    rkb::Cell cell;
    int64_t I, H, N, T, frames;
    std::string isa;
    int threads;
};

void bm_stream(benchmark::State &st, StreamCase c) {
    if (!rnnkit_isa_supported(c.isa.c_str())) {
        st.SkipWithError(("CPU or build lacks ISA " + c.isa).c_str());
        return;
    }
    const rkb::Net net = rkb::make_net(c.cell, c.I, c.H, 1, 1, 1234);
    std::string err;
    rnnkit_model *model = rkb::create_model(net, c.isa.c_str(), &err);
    rnnkit_stream *s = nullptr;
    if (!model || rnnkit_stream_create(model, c.N, &s) != RNNKIT_STATUS_OK) {
        st.SkipWithError(model ? rnnkit_last_error() : err.c_str());
        rnnkit_model_destroy(model);
        return;
    }
    if (rnnkit_stream_set_num_threads(s, c.threads) != RNNKIT_STATUS_OK) {
        st.SkipWithError(rnnkit_last_error());
        rnnkit_stream_destroy(s);
        rnnkit_model_destroy(model);
        return;
    }
    rkb::Buf x((size_t)(c.T * c.N * c.I)), y((size_t)(c.T * c.N * c.H));
    rkb::fill_buf(x, -1.0f, 1.0f, 99);
    auto sequence = [&]() {
        rnnkit_status r = rnnkit_stream_reset(s, nullptr, nullptr);
        for (int64_t t = 0; t < c.T && r == RNNKIT_STATUS_OK; t += c.frames) {
            const int64_t k = c.T - t < c.frames ? c.T - t : c.frames;
            r = rnnkit_stream_push(s, x.data() + t * c.N * c.I, k, y.data() + t * c.N * c.H);
        }
        return r == RNNKIT_STATUS_OK;
    };
    if (!sequence()) st.SkipWithError(rnnkit_last_error());
    rkb::LoopTimer timer;
    for (auto _ : st) {
        if (!sequence()) {
            st.SkipWithError(rnnkit_last_error());
            break;
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    rkb::Rates r(st, timer);
    r.us_per("us/step", (double)c.T);
    r.rate("cells/s", (double)(c.T * c.N));
    r.rate("GFLOP/s", rkb::net_flops(net, c.T, c.N) * 1e-9);
    st.SetLabel(c.isa);
    rnnkit_stream_destroy(s);
    rnnkit_model_destroy(model);
}

void add_stream(const StreamCase &c) {
    char name[256];
    std::snprintf(name, sizeof name, "stream/%s/isa:%s/I:%lld/H:%lld/N:%lld/T:%lld/frames:%lld/thr:%d",
                  rkb::cell_name(c.cell), c.isa.c_str(), (long long)c.I, (long long)c.H,
                  (long long)c.N, (long long)c.T, (long long)c.frames, c.threads);
    benchmark::RegisterBenchmark(name, bm_stream, c)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

void add(const CellCase &c) {
    static const bool full = std::getenv("RNNKIT_BENCH_FULL") != nullptr;
    if (c.isa == "scalar" && !full) {
        rkb::Net probe{c.cell, c.I, c.H, c.layers, c.dirs, {}};
        for (int l = 0; l < c.layers; l++)
            for (int d = 0; d < c.dirs; d++)
                probe.ld.push_back({l == 0 ? c.I : c.dirs * c.H, {}, {}, {}, {}});
        if (rkb::net_flops(probe, c.T, c.N) > 2e9) return;
    }
    char name[256];
    std::snprintf(name, sizeof name, "cell/%s/isa:%s/I:%lld/H:%lld/L:%d/D:%d/N:%lld/T:%lld/thr:%d",
                  rkb::cell_name(c.cell), c.isa.c_str(), (long long)c.I, (long long)c.H, c.layers,
                  c.dirs, (long long)c.N, (long long)c.T, c.threads);
    benchmark::RegisterBenchmark(name, bm_cell, c)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

void register_all() {
    using rkb::Cell;
    const Cell cells[] = {Cell::RnnTanh, Cell::Lstm, Cell::GruLbr1, Cell::GruLbr0};
    for (Cell cell : cells)
        for (int64_t h : {128, 256, 512, 1024})
            for (int64_t n : {1, 8, 64})
                for (int thr : {1, 2})
                    for (const auto &isa : rkb::isa_list())
                        add({cell, h, h, 1, 1, n, 50, thr, isa});
    for (int thr : {1, 2})
        for (const auto &isa : rkb::isa_list())
            add({Cell::Lstm, 512, 512, 2, 2, 8, 50, thr, isa});
    for (Cell cell : {Cell::Lstm, Cell::GruLbr1})
        for (int64_t h : {32, 64})
            for (int dirs : {1, 2})
                for (int thr : {1, 2})
                    for (const auto &isa : rkb::isa_list()) add({cell, 24, h, 1, dirs, 1, 63, thr, isa});
    // Streaming: the speech models frame by frame and whole; LSTM H 256.
    for (Cell cell : {Cell::Lstm, Cell::GruLbr1})
        for (int64_t h : {32, 64})
            for (int64_t f : {1, 63})
                for (const auto &isa : rkb::isa_list()) add_stream({cell, 24, h, 1, 63, f, isa, 1});
    for (int64_t f : {1, 50})
        for (const auto &isa : rkb::isa_list()) add_stream({Cell::Lstm, 256, 256, 1, 50, f, isa, 1});
    // Large models frame by frame on 1 and 2 threads (T 20).
    for (Cell cell : {Cell::Lstm, Cell::GruLbr1})
        for (int64_t h : {512, 1024})
            for (int thr : {1, 2})
                for (const auto &isa : rkb::isa_list()) add_stream({cell, h, h, 1, 20, 1, isa, thr});
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
