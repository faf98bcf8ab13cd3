/* Private state of the distribution engine (src/dist/node_*.c, job.c). */
#ifndef GT_DIST_NODE_PRIV_H
#define GT_DIST_NODE_PRIV_H

#include <pthread.h>
#include <stddef.h>

#include "gt/dist_link.h"
#include "gt/dist_node.h"
#include "gt/dist_sched.h"
#include "gt/pipeline.h"

enum dist_kind { DIST_ACQ = 1, DIST_IMAGE, DIST_BUFFER, DIST_PURE };
enum job_state { JOB_QUEUED = 0, JOB_RUNNING, JOB_DONE, JOB_FAILED };

#define DIST_MAX_AVOID 16

typedef struct msg_vec {
    gt_msg **v;
    size_t n, cap;
} msg_vec;

int msg_vec_push(msg_vec *v, gt_msg *m); /* takes m, also on failure */
void msg_vec_clear(msg_vec *v);          /* unrefs all, frees */

typedef struct dist_opts {
    int kind;
    gt_dim dim;         /* DIST_ACQ / DIST_IMAGE */
    int sequential;     /* a new key closes the previous key's session */
    int single_package; /* every message is its own job */
    int ordered;        /* outputs leave in job order */
    int silence_ms;     /* link silence before a ping; huge when checks are off */
    int connect_timeout_ms;
    int discovery_timeout_ms;
    int rediscover_ms;
    gt_sched_opts sched;
} dist_opts;

typedef struct dist_job dist_job;
typedef struct dist_attempt dist_attempt;

struct dist_job {
    unsigned long seq;
    long key;
    msg_vec in; /* every input so far, kept until the job ends */
    int input_closed;
    int state;
    int failures; /* failed started attempts */
    int avoid[DIST_MAX_AVOID];
    size_t navoid;
    int prefer; /* sticky worker or -1 */
    dist_attempt *cur;
    long long closed_ms; /* when the input closed (service time starts) */
    char *error;         /* last failure */
    msg_vec out;         /* outputs of the successful attempt, not yet released */
};

struct dist_attempt {
    struct gt_dist_node *node;
    dist_job *job;
    int worker;
    size_t sent;
    msg_vec out;       /* buffered until the attempt succeeds */
    gt_link *link;     /* remote */
    gt_pipeline *pipe; /* local */
    int cancel;
    pthread_t thr;
    long long t_start;
    dist_attempt *next;
};

typedef struct sticky {
    long key;
    int worker;
} sticky;

struct gt_dist_node {
    char name[128];
    dist_opts o;
    gt_config sub; /* borrowed pointers into the session's config */
    gt_cfg_stream sub_stream;
    char *sub_xml;
    size_t sub_len;
    int job_types[8]; /* DIST_PURE: types the writers send */
    size_t njob_types;
    char *relay; /* relay address or NULL */
    const gt_stream_ctx *ctx;
    gt_emitter *em;

    int sync_ok; /* mu and cv initialised */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gt_sched *sched;
    dist_job **jobs;
    size_t njobs, capjobs;
    size_t first_active; /* jobs before it are all DONE/FAILED */
    size_t next_release; /* ordered mode */
    size_t nactive;      /* QUEUED + RUNNING */
    dist_job *last_job;
    sticky *sticky;
    size_t nsticky, capsticky;
    msg_vec fifo; /* for the emitter */
    size_t fifo_head;
    dist_attempt *attempts;
    pthread_t emitter, discoverer;
    int emitter_started, discoverer_started;
    int discovery_done;
    int finishing, aborting, downstream_closed;
    size_t nfailed;
    char *first_error;
};

/* job.c — all with n->mu held */
int dist_job_add_input(struct gt_dist_node *n, long key, gt_msg *m);
void dist_job_close_input(struct gt_dist_node *n, dist_job *j);
void dist_dispatch(struct gt_dist_node *n);
void dist_release_push(struct gt_dist_node *n, gt_msg *m); /* takes m */
void dist_job_free(dist_job *j);
/* The job's current attempt ended on `worker`: ok, or failed (counts: the
 * failure is charged to the job, not only to an unreachable worker). */
void dist_job_attempt_ended(struct gt_dist_node *n, dist_job *j, int ok, int counts, int worker,
                            const char *why);

/* node_attempt.c */
int dist_attempt_start(struct gt_dist_node *n, dist_job *j, int worker);
void dist_attempt_finish(dist_attempt *a, gt_link_result res, const char *why); /* locked */
void *dist_local_main(void *arg);
void *dist_remote_main(void *arg);
void dist_attempt_wake(dist_attempt *a); /* locked */

/* node_discover.c */
int dist_discovery_start(struct gt_dist_node *n); /* locked */
void *dist_discovery_main(void *arg);

long long dist_now_ms(void);

/* node_core.c: initialises the lock, scheduler and emitter of a node whose
 * options, name and sub-config are set. */
int dist_node_start(struct gt_dist_node *n);

#endif
