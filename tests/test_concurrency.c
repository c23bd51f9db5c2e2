/*
 * One immutable model shared by 8 threads that run different inputs,
 * batch sizes and sequence lengths over and over: every result must equal
 * (bitwise) the one computed alone on the main thread beforehand. Built
 * with -Db_sanitize=thread this is the ThreadSanitizer check too.
 */
#include <pthread.h>

#include "test_util.h"

#define NTHREADS 8
#define NCASES 6
#define ROUNDS 6

typedef struct job {
    int64_t T, N;
    float *x, *y, *hn, *cn; /* expected outputs */
    int32_t *len;
} job;

typedef struct shared {
    rnnkit_model *m;
    const tu_model *tm;
    job jobs[NCASES];
    int failures;
    pthread_mutex_t lock;
} shared;

static rnnkit_status run_job(const shared *s, const job *j, float *y, float *hn, float *cn, int threads) {
    rnnkit_forward_args a = {0};
    a.seq_len = j->T;
    a.batch = j->N;
    a.x = j->x;
    a.lengths = j->len;
    a.y = y;
    a.hn = hn;
    a.cn = s->tm->spec.cell == RNNKIT_CELL_LSTM ? cn : NULL;
    a.num_threads = threads;
    return rnnkit_forward(s->m, &a);
}

static void *worker(void *arg) {
    shared *s = arg;
    static _Atomic int next_id = 0;
    int id = next_id++;
    for (int r = 0; r < ROUNDS; r++) {
        const job *j = &s->jobs[(id + r) % NCASES];
        size_t ny = tu_y_len(s->tm, j->T, j->N), nh = tu_h_len(s->tm, j->N), nc = tu_c_len(s->tm, j->N);
        /* No Criterion assertions off the main thread: count failures. */
        float *y = malloc(ny * sizeof *y), *hn = malloc(nh * sizeof *hn), *cn = malloc(nc * sizeof *cn);
        /* Under ThreadSanitizer the inner OpenMP team is left out
         * (libgomp is not instrumented): RNNKIT_TEST_INNER_THREADS=1. */
        int inner = getenv("RNNKIT_TEST_INNER_THREADS") ? 1 : 1 + (id + r) % 2;
        int bad = !y || !hn || !cn || run_job(s, j, y, hn, cn, inner) != RNNKIT_STATUS_OK;
        bad = bad || memcmp(y, j->y, ny * sizeof(float)) != 0 || memcmp(hn, j->hn, nh * sizeof(float)) != 0 ||
                  (s->tm->spec.cell == RNNKIT_CELL_LSTM && memcmp(cn, j->cn, nc * sizeof(float)) != 0);
        if (bad) {
            pthread_mutex_lock(&s->lock);
            s->failures++;
            pthread_mutex_unlock(&s->lock);
        }
        free(y);
        free(hn);
        free(cn);
    }
    return NULL;
}

static void check_shared(const tu_spec *spec) {
    tu_model tm;
    tu_model_make(spec, &tm);
    shared s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    s.tm = &tm;
    cr_assert_eq(rnnkit_model_create(&tm.desc, tm.t, tm.n, &s.m), RNNKIT_STATUS_OK, "%s",
                 rnnkit_last_error());
    tu_rng rng = {1234};
    for (int c = 0; c < NCASES; c++) {
        job *j = &s.jobs[c];
        j->T = 1 + (c * 5) % 9;
        j->N = 1 + c % 5;
        j->x = tu_alloc_f(tu_x_len(&tm, j->T, j->N));
        tu_fill(&rng, j->x, tu_x_len(&tm, j->T, j->N), 1.0f);
        j->len = malloc(sizeof(int32_t) * (size_t)j->N);
        for (int64_t n = 0; n < j->N; n++) j->len[n] = (int32_t)(1 + (n * 3 + c) % j->T);
        j->y = tu_alloc_f(tu_y_len(&tm, j->T, j->N));
        j->hn = tu_alloc_f(tu_h_len(&tm, j->N));
        j->cn = tu_alloc_f(tu_c_len(&tm, j->N));
        cr_assert_eq(run_job(&s, j, j->y, j->hn, j->cn, 1), RNNKIT_STATUS_OK, "%s", rnnkit_last_error());
    }
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) cr_assert_eq(pthread_create(&th[i], NULL, worker, &s), 0);
    for (int i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    cr_expect_eq(s.failures, 0, "%d of %d runs on shared model differ from the single-threaded result",
                 s.failures, NTHREADS * ROUNDS);
    for (int c = 0; c < NCASES; c++) {
        free(s.jobs[c].x);
        free(s.jobs[c].y);
        free(s.jobs[c].hn);
        free(s.jobs[c].cn);
        free(s.jobs[c].len);
    }
    rnnkit_model_destroy(s.m);
    tu_model_free(&tm);
}

Test(concurrency, lstm_bidir_proj_shared_by_8_threads) {
    tu_spec spec = {0};
    spec.layout = RNNKIT_LAYOUT_PYTORCH;
    spec.cell = RNNKIT_CELL_LSTM;
    spec.I = 11;
    spec.H = 24;
    spec.proj = 13;
    spec.L = 2;
    spec.bidir = 1;
    check_shared(&spec);
}

Test(concurrency, gru_onnx_shared_by_8_threads) {
    tu_spec spec = {0};
    spec.layout = RNNKIT_LAYOUT_ONNX;
    spec.cell = RNNKIT_CELL_GRU;
    spec.I = 7;
    spec.H = 40;
    spec.dir = RNNKIT_DIRECTION_BIDIRECTIONAL;
    check_shared(&spec);
}
