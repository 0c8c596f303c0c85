/* Streaming CTC decoders (see rnnstream/ctc-decoder.h).
 *
 * Prefix beam search. For a prefix l, after frame t, let b(l) and n(l) be
 * the (log-)probabilities of all alignments of frames 0..t that collapse
 * to l and end in a blank, and in l's last label. With y_t(k) the frame's
 * log-posteriors and c a label (Graves 2012, Hannun et al. 2014):
 *
 *   b'(l)   += lse (b(l), n(l)) + y(blank)       the prefix stays, a blank
 *   n'(l)   += n(l) + y(last(l))                 its last label goes on
 *   n'(l+c) += lse (b(l), n(l)) + y(c)           a new token, c != last(l)
 *   n'(l+c) += b(l) + y(c)                       c == last(l): only after a blank
 *
 * where += is a log-sum-exp (lse). l+c may already be a prefix of the beam,
 * whose own stay terms then add to the same sums: that is the merging of
 * equal prefixes. The beam's best prefixes by lse (b', n') survive.
 *
 * Prefixes are nodes of a prefix tree in a pool allocated once: a node is
 * its parent's prefix plus one token (label, constraint state, timing);
 * a hypothesis points to the node of its last token. A node's reference
 * count is its number of children plus one when a hypothesis ends there,
 * so a node no hypothesis reaches any longer goes back to the pool at
 * once, with its ancestors that nothing else holds. The top of the tree is
 * the first uncommitted node: when it has a single child and no hypothesis
 * ends on it, every hypothesis goes through it and on through the same
 * child, so its token and its run are final and it is committed.
 *
 * Per frame, candidates are scored in a table before any node exists, and
 * nodes are made only for the beam's survivors: a frame adds at most beam
 * nodes, which is why the pool bound leaves that much room. Scores are
 * double: a segment's log-probability over many frames is a large negative
 * number whose small differences must survive.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "rnnstream/ctc-decoder.h"
#include "rnnstream/error.h"

#define NONE G_MAXUINT32

/* Limits that keep every index in 32 bits and the tables within reason. */
#define MAX_BEAM 65536
#define MAX_POOL G_MAXINT32
#define MAX_ENTRIES (1u << 24)
#define MAX_COMMITTED (1u << 24)

/* ---------- the word list ---------- */

typedef struct {
  guint label;
  guint first_child;
  guint next_sibling;
  gboolean terminal;          /* a word ends here */
} TrieNode;

struct RsCtcConstraint {
  GArray *nodes;              /* TrieNode; node 0 is the root, the empty word */
  guint n_words;
};

RsCtcConstraint *
rs_ctc_constraint_new (void)
{
  RsCtcConstraint *c = g_new0 (RsCtcConstraint, 1);
  const TrieNode root = { NONE, NONE, NONE, FALSE };

  c->nodes = g_array_new (FALSE, FALSE, sizeof (TrieNode));
  g_array_append_val (c->nodes, root);
  return c;
}

void
rs_ctc_constraint_free (RsCtcConstraint *c)
{
  if (c == NULL)
    return;
  g_array_unref (c->nodes);
  g_free (c);
}

#define TRIE(c, i) (&g_array_index ((c)->nodes, TrieNode, (i)))

void
rs_ctc_constraint_add_word (RsCtcConstraint *c, guint n_labels, const guint *labels)
{
  guint node = 0;

  g_return_if_fail (c != NULL && n_labels >= 1 && labels != NULL);

  for (guint i = 0; i < n_labels; i++) {
    guint child = TRIE (c, node)->first_child;

    while (child != NONE && TRIE (c, child)->label != labels[i])
      child = TRIE (c, child)->next_sibling;
    if (child == NONE) {
      const TrieNode n = { labels[i], NONE, TRIE (c, node)->first_child, FALSE };

      child = c->nodes->len;
      g_array_append_val (c->nodes, n);
      TRIE (c, node)->first_child = child;
    }
    node = child;
  }
  if (!TRIE (c, node)->terminal) {
    TRIE (c, node)->terminal = TRUE;
    c->n_words++;
  }
}

guint
rs_ctc_constraint_get_n_words (const RsCtcConstraint *c)
{
  g_return_val_if_fail (c != NULL, 0);

  return c->n_words;
}

static gboolean
label_spells (guint k, guint n_classes, const char *const *labels, guint blank, gint separator)
{
  return k < n_classes && k != blank && (separator < 0 || k != (guint) separator) &&
         labels[k] != NULL && labels[k][0] != '\0';
}

/* word as whole labels into out. can[i]: word + i can be spelled, found
 * from the end, so that the longest label may be taken first at every
 * step without a dead end later. */
static gboolean
spell_word (const char *word, guint n_classes, const char *const *labels, guint blank,
            gint separator, GArray *out)
{
  const gsize len = strlen (word);
  g_autofree gboolean *can = g_new0 (gboolean, len + 1);

  can[len] = TRUE;
  for (gsize i = len; i-- > 0;)
    for (guint k = 0; k < n_classes && !can[i]; k++)
      if (label_spells (k, n_classes, labels, blank, separator)) {
        const gsize l = strlen (labels[k]);

        can[i] = l <= len - i && strncmp (word + i, labels[k], l) == 0 && can[i + l];
      }
  if (!can[0])
    return FALSE;
  for (gsize i = 0; i < len;) {
    guint best = NONE;
    gsize best_len = 0;

    for (guint k = 0; k < n_classes; k++)
      if (label_spells (k, n_classes, labels, blank, separator)) {
        const gsize l = strlen (labels[k]);

        if (l > best_len && l <= len - i && strncmp (word + i, labels[k], l) == 0 && can[i + l]) {
          best = k;
          best_len = l;
        }
      }
    g_array_append_val (out, best);
    i += best_len;
  }
  return TRUE;
}

RsCtcConstraint *
rs_ctc_constraint_new_from_words (const char *const *words, guint n_classes,
                                  const char *const *labels, guint blank, gint separator,
                                  GError **error)
{
  g_autoptr (RsCtcConstraint) c = NULL;
  g_autoptr (GArray) spelled = g_array_new (FALSE, FALSE, sizeof (guint));

  g_return_val_if_fail (words != NULL && labels != NULL && blank < n_classes, NULL);

  c = rs_ctc_constraint_new ();
  for (guint w = 0; words[w] != NULL; w++) {
    g_array_set_size (spelled, 0);
    if (words[w][0] == '\0') {
      g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC word list: word %u is empty", w + 1);
      return NULL;
    }
    if (!spell_word (words[w], n_classes, labels, blank, separator, spelled)) {
      g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC word list: the word '%s' cannot "
                   "be spelled with the model's labels", words[w]);
      return NULL;
    }
    rs_ctc_constraint_add_word (c, spelled->len, (const guint *) (gpointer) spelled->data);
  }
  return g_steal_pointer (&c);
}

/* ---------- the decoder ---------- */

typedef struct {
  guint32 parent;
  guint32 first_child;
  guint32 next_sibling;       /* also the free list's link */
  guint32 label;              /* NONE for the empty prefix */
  guint32 state;              /* the constraint's trie node after this token (0 without one) */
  guint32 refs;               /* children, plus one when a hypothesis ends here */
  gint32 slot;                /* during a frame: the hypothesis ending here, or -1 */
  float prev_conf;            /* the parent token's confidence and run end on this path: */
  gint64 prev_end;            /* final once this node exists, whatever the parent does next */
  gint64 start;
} Node;

typedef struct {
  guint32 node;
  float conf;                 /* the last token's confidence and run end so far */
  gint64 end;
  double pb, pnb;             /* log b(l), log n(l) */
} Hyp;

/* A prefix of the next frame's beam being scored. */
typedef struct {
  guint32 node;               /* its node, or NONE: a new child of parent */
  guint32 parent, label, state;
  double pb, pnb;
  double best;                /* the largest term summed, whose alignment sets the timing */
  gint64 end, prev_end, start;
  float conf, prev_conf;
  gboolean retime;            /* an existing prefix whose best term is now a new token */
} Entry;

typedef struct {
  double score;
  guint index;
} Ranked;

struct RsCtcDecoder {
  guint n_classes;
  guint blank;
  guint beam;
  gboolean greedy;
  guint max_candidates;       /* <= n_classes - 1 */
  float prune_margin;
  gint separator;
  char **labels;              /* n_classes names (some may be NULL), or NULL */

  /* The constraint's trie, flattened: the children of node s are
   * child_label/child_node[child_start[s] .. child_start[s + 1]), sorted
   * by label for a binary search. */
  gboolean constrained;
  guint32 *child_start, *child_label, *child_node;
  guint8 *terminal;

  Node *nodes;
  guint pool_size;
  guint live;
  guint32 free_list;
  guint32 top;

  Hyp *hyps, *next_hyps;      /* beam each; hyps best first */
  guint n_hyps;
  Entry *entries;             /* beam * (1 + successors * max_candidates) */
  Ranked *ranked;
  float *lp;                  /* the frame's log-posteriors */
  guint *cand;                /* the frame's candidate classes */
  guint32 *path;              /* pool_size: a hypothesis's nodes, for reading them out */

  RsCtcToken *committed;      /* a ring of max_committed */
  guint max_committed;
  guint committed_head;
  guint n_committed;
  RsCtcToken *result;         /* max_committed + pool_size */

  gint64 next_frame;
  float blank_prob;
  guint64 forced;
  guint64 overwritten;
};

static inline double
lse (double a, double b)
{
  if (a < b) {
    const double s = a;

    a = b;
    b = s;
  }
  return b == -INFINITY ? a : a + log1p (exp (b - a));
}

/* Pool. */

static guint32
node_new (RsCtcDecoder *d, guint32 parent, guint32 label, guint32 state, gint64 start,
          gint64 prev_end, float prev_conf)
{
  const guint32 i = d->free_list;
  Node *n;

  /* enforce_pool_bound leaves room for the beam's new nodes of a frame. */
  g_assert (i != NONE);
  n = &d->nodes[i];
  d->free_list = n->next_sibling;
  d->live++;
  n->parent = parent;
  n->first_child = NONE;
  n->label = label;
  n->state = state;
  n->refs = 0;
  n->slot = -1;
  n->start = start;
  n->prev_end = prev_end;
  n->prev_conf = prev_conf;
  n->next_sibling = NONE;
  if (parent != NONE) {
    Node *p = &d->nodes[parent];

    n->next_sibling = p->first_child;
    p->first_child = i;
    p->refs++;
  }
  return i;
}

static void
node_release (RsCtcDecoder *d, guint32 i)
{
  d->nodes[i].refs = 0;
  d->nodes[i].parent = NONE;
  d->nodes[i].next_sibling = d->free_list;
  d->free_list = i;
  d->live--;
}

/* Drops one reference to node i; a node left with none is unlinked from
 * its parent and freed, and so on up. */
static void
node_unref (RsCtcDecoder *d, guint32 i)
{
  while (i != NONE) {
    Node *n = &d->nodes[i];
    const guint32 parent = n->parent;

    if (--n->refs > 0)
      return;
    if (parent != NONE) {
      guint32 *link = &d->nodes[parent].first_child;

      while (*link != i)
        link = &d->nodes[*link].next_sibling;
      *link = n->next_sibling;
    }
    node_release (d, i);
    i = parent;
  }
}

static guint32
find_child (const RsCtcDecoder *d, guint32 parent, guint32 label, guint32 state)
{
  guint32 i = d->nodes[parent].first_child;

  while (i != NONE && (d->nodes[i].label != label || d->nodes[i].state != state))
    i = d->nodes[i].next_sibling;
  return i;
}

/* A new segment's search: the pool empty but for the empty prefix, which
 * one hypothesis holds with probability 1 (all of it on "ends in a blank",
 * so that a first token may repeat no label). */
static void
search_restart (RsCtcDecoder *d)
{
  for (guint i = 0; i < d->pool_size; i++)
    d->nodes[i].next_sibling = i + 1 < d->pool_size ? i + 1 : NONE;
  d->free_list = 0;
  d->live = 0;
  d->top = node_new (d, NONE, NONE, 0, d->next_frame, d->next_frame - 1, 0.0f);
  d->nodes[d->top].refs = 1;
  d->hyps[0] = (Hyp) { d->top, 0.0f, d->next_frame - 1, 0.0, -INFINITY };
  d->n_hyps = 1;
}

/* Committing. */

static void
commit_token (RsCtcDecoder *d, guint32 label, gint64 start, gint64 end, float conf)
{
  RsCtcToken *t;

  if (d->n_committed == d->max_committed) {
    d->committed_head = (d->committed_head + 1) % d->max_committed;
    d->n_committed--;
    d->overwritten++;
  }
  t = &d->committed[(d->committed_head + d->n_committed) % d->max_committed];
  t->label = label;
  t->start_frame = start;
  t->end_frame = MAX (end, start);
  t->confidence = conf;
  d->n_committed++;
}

/* Commits the top while every hypothesis goes through it and through the
 * same child (its only reference is that child). The child's prev_end and
 * prev_conf are the top token's final run end and confidence. */
static void
commit_agreed (RsCtcDecoder *d)
{
  for (;;) {
    Node *top = &d->nodes[d->top];
    const guint32 child = top->first_child;

    if (top->refs != 1 || child == NONE)
      return;
    if (top->label != NONE)
      commit_token (d, top->label, top->start, d->nodes[child].prev_end,
                    d->nodes[child].prev_conf);
    d->nodes[child].parent = NONE;
    node_release (d, d->top);
    d->top = child;
  }
}

/* The child of the top on node i's path (i itself when it is one), or
 * NONE when i is the top. */
static guint32
top_child_of (const RsCtcDecoder *d, guint32 i)
{
  if (i == d->top)
    return NONE;
  while (d->nodes[i].parent != d->top)
    i = d->nodes[i].parent;
  return i;
}

/* The pool has beam * (max_tail + 1) + 1 nodes, and the next frame may
 * add beam: while more than beam * max_tail + 1 are in use, the hypotheses
 * that leave the best one's path right below the top are dropped, so that
 * the top is committed (when the best hypothesis ends on the top itself,
 * the others are all dropped). Each round frees at least one node. */
static void
enforce_pool_bound (RsCtcDecoder *d)
{
  while (d->live > d->pool_size - d->beam) {
    const guint32 keep = top_child_of (d, d->hyps[0].node);
    guint n = 1;

    for (guint i = 1; i < d->n_hyps; i++) {
      if (keep != NONE && top_child_of (d, d->hyps[i].node) == keep)
        d->hyps[n++] = d->hyps[i];
      else
        node_unref (d, d->hyps[i].node);
    }
    d->n_hyps = n;
    if (keep != NONE)
      d->forced++;
    commit_agreed (d);
  }
}

/* Frames. */

static void
log_softmax (const float *x, guint n, float *lp)
{
  float max = -FLT_MAX, z = 0.0f, lz;

  for (guint k = 0; k < n; k++) {
    float v = x[k];

    if (!isfinite (v))
      v = v > 0 ? FLT_MAX : -FLT_MAX;    /* NaN too goes to the bottom */
    lp[k] = v;
    max = MAX (max, v);
  }
  /* The maximum's own term is 1, so z >= 1 and its log is finite. */
  for (guint k = 0; k < n; k++)
    z += expf (lp[k] - max);
  lz = max + logf (z);
  for (guint k = 0; k < n; k++)
    lp[k] -= lz;
}

/* The classes that may extend a prefix at this frame: non-blank, within
 * the margin of the frame's best, and the max_candidates most probable of
 * those (by decreasing log-posterior, lower classes first among equals;
 * in class order when every class is a candidate). */
static guint
select_candidates (RsCtcDecoder *d, const float *lp)
{
  const gboolean all = d->max_candidates >= d->n_classes - 1;
  float best = -INFINITY, floor;
  guint n = 0;

  for (guint k = 0; k < d->n_classes; k++)
    best = MAX (best, lp[k]);
  floor = d->prune_margin > 0 ? best - d->prune_margin : -INFINITY;
  for (guint k = 0; k < d->n_classes; k++) {
    guint j;

    if (k == d->blank || lp[k] == -INFINITY || lp[k] < floor)
      continue;
    if (all) {
      d->cand[n++] = k;
      continue;
    }
    if (n == d->max_candidates) {
      if (lp[k] <= lp[d->cand[n - 1]])
        continue;
      n--;
    }
    for (j = n; j > 0 && lp[d->cand[j - 1]] < lp[k]; j--)
      d->cand[j] = d->cand[j - 1];
    d->cand[j] = k;
    n++;
  }
  return n;
}

static guint32
trie_child (const RsCtcDecoder *d, guint32 state, guint32 label)
{
  guint32 lo = d->child_start[state], hi = d->child_start[state + 1];

  while (lo < hi) {
    const guint32 mid = lo + (hi - lo) / 2;

    if (d->child_label[mid] < label)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < d->child_start[state + 1] && d->child_label[lo] == label ? d->child_node[lo] : NONE;
}

static gboolean
state_complete (const RsCtcDecoder *d, guint32 state)
{
  return !d->constrained || state == 0 || d->terminal[state];
}

/* The constraint states reached from state by label (at most 2, see the
 * header's Constraint). */
static guint
successors (const RsCtcDecoder *d, guint32 state, guint32 label, guint32 *next)
{
  guint n = 0;
  guint32 c;

  if (!d->constrained) {
    next[0] = 0;
    return 1;
  }
  if (d->separator >= 0 && label == (guint32) d->separator) {
    if (state_complete (d, state))
      next[n++] = 0;
    return n;
  }
  c = trie_child (d, state, label);
  if (c != NONE)
    next[n++] = c;
  if (d->separator < 0 && state != 0 && d->terminal[state]) {
    c = trie_child (d, 0, label);
    if (c != NONE)
      next[n++] = c;
  }
  return n;
}

/* a comes before b in the beam: a higher score, or the same and found
 * first (a total order, so the beam does not depend on the sort). */
static inline gboolean
ranks_before (const Ranked *a, const Ranked *b)
{
  return a->score > b->score || (a->score == b->score && a->index < b->index);
}

static void
sift_down (Ranked *r, gsize root, gsize n)
{
  for (;;) {
    const gsize child = 2 * root + 1;
    gsize last = root;
    Ranked tmp;

    if (child < n && ranks_before (&r[last], &r[child]))
      last = child;
    if (child + 1 < n && ranks_before (&r[last], &r[child + 1]))
      last = child + 1;
    if (last == root)
      return;
    tmp = r[root];
    r[root] = r[last];
    r[last] = tmp;
    root = last;
  }
}

/* Heapsort, best first: in place, where glibc's qsort may allocate a
 * buffer, which push must not. */
static void
sort_ranked (Ranked *r, gsize n)
{
  for (gsize i = n / 2; i-- > 0;)
    sift_down (r, i, n);
  for (gsize i = n; i-- > 1;) {
    const Ranked tmp = r[0];

    r[0] = r[i];
    r[i] = tmp;
    sift_down (r, 0, i);
  }
}

static void
prefix_frame (RsCtcDecoder *d, const float *lp, gint64 t)
{
  const guint n_cand = select_candidates (d, lp);
  const double lp_blank = lp[d->blank];
  guint n_entries = d->n_hyps, n_ranked = 0, n_next;
  Hyp *swap;

  /* The prefixes staying: a blank, or their last label's run going on. */
  for (guint i = 0; i < d->n_hyps; i++) {
    const Hyp *h = &d->hyps[i];
    Node *n = &d->nodes[h->node];
    Entry *e = &d->entries[i];

    n->slot = (gint32) i;
    e->node = h->node;
    e->pb = lse (h->pb, h->pnb) + lp_blank;
    e->pnb = -INFINITY;
    e->best = e->pb;
    e->end = h->end;
    e->conf = h->conf;
    e->retime = FALSE;
    if (n->label != NONE) {
      const double rep = h->pnb + lp[n->label];

      e->pnb = rep;
      if (rep > e->best) {
        e->best = rep;
        e->end = t;
        e->conf = MAX (h->conf, expf (lp[n->label]));
      }
    }
  }

  /* The prefixes extended by a candidate. An extension that is already a
   * hypothesis adds to its entry (merging); one that exists as a node
   * inside the tree is taken up again; others get a node only if they
   * survive. */
  for (guint i = 0; i < d->n_hyps; i++) {
    const Hyp *h = &d->hyps[i];
    const Node *n = &d->nodes[h->node];
    const double total = lse (h->pb, h->pnb);

    for (guint j = 0; j < n_cand; j++) {
      const guint32 c = d->cand[j];
      const double ext = (c == n->label ? h->pb : total) + lp[c];
      guint32 states[2];
      guint n_states;

      if (ext == -INFINITY)
        continue;
      n_states = successors (d, n->state, c, states);
      for (guint s = 0; s < n_states; s++) {
        const guint32 child = find_child (d, h->node, c, states[s]);
        Entry *e;

        if (child != NONE && d->nodes[child].slot >= 0) {
          e = &d->entries[d->nodes[child].slot];
          e->pnb = lse (e->pnb, ext);
          if (ext > e->best) {
            e->best = ext;
            e->end = t;
            e->conf = expf (lp[c]);
            e->retime = TRUE;
            e->start = t;
            e->prev_end = h->end;
            e->prev_conf = h->conf;
          }
          continue;
        }
        e = &d->entries[n_entries++];
        e->node = child;
        e->parent = h->node;
        e->label = c;
        e->state = states[s];
        e->pb = -INFINITY;
        e->pnb = ext;
        e->best = ext;
        e->end = t;
        e->prev_end = h->end;
        e->start = t;
        e->conf = expf (lp[c]);
        e->prev_conf = h->conf;
        e->retime = FALSE;
      }
    }
  }

  /* The beam's best; the first entry is kept even when nothing has a
   * finite score (logits at the float limits), so there is always a
   * hypothesis. */
  for (guint i = 0; i < n_entries; i++) {
    const double s = lse (d->entries[i].pb, d->entries[i].pnb);

    if (s > -INFINITY || i == 0) {
      d->ranked[n_ranked].score = s;
      d->ranked[n_ranked].index = i;
      n_ranked++;
    }
  }
  sort_ranked (d->ranked, n_ranked);
  n_next = MIN (n_ranked, d->beam);

  /* A surviving prefix whose best alignment now starts its last token at
   * this frame takes that timing, unless its node has children, or gets
   * one at this frame (slot -2), whose paths used the old one: so a node's
   * timing never changes under its descendants, and tokens stay in
   * order on every path. */
  for (guint j = 0; j < n_next; j++) {
    const Entry *e = &d->entries[d->ranked[j].index];

    if (e->node == NONE)
      d->nodes[e->parent].slot = -2;
  }
  for (guint j = 0; j < n_next; j++) {
    const Entry *e = &d->entries[d->ranked[j].index];

    if (e->retime && d->nodes[e->node].first_child == NONE && d->nodes[e->node].slot != -2) {
      d->nodes[e->node].start = e->start;
      d->nodes[e->node].prev_end = e->prev_end;
      d->nodes[e->node].prev_conf = e->prev_conf;
    }
  }
  /* The survivors take their references before the old hypotheses drop
   * theirs, so that a shared ancestor is never freed in between. */
  for (guint j = 0; j < n_next; j++) {
    const Entry *e = &d->entries[d->ranked[j].index];
    guint32 node = e->node;
    Hyp *h = &d->next_hyps[j];

    if (node == NONE)
      node = node_new (d, e->parent, e->label, e->state, t, e->prev_end, e->prev_conf);
    d->nodes[node].refs++;
    h->node = node;
    h->conf = e->conf;
    h->end = e->end;
    h->pb = e->pb;
    h->pnb = e->pnb;
  }
  for (guint i = 0; i < d->n_hyps; i++)
    d->nodes[d->hyps[i].node].slot = -1;
  for (guint i = 0; i < d->n_hyps; i++)
    node_unref (d, d->hyps[i].node);
  swap = d->hyps;
  d->hyps = d->next_hyps;
  d->next_hyps = swap;
  d->n_hyps = n_next;
}

/* The best path: one hypothesis, whose pb or pnb says whether the last
 * frame was a blank. */
static void
greedy_frame (RsCtcDecoder *d, const float *lp, gint64 t)
{
  Hyp *h = &d->hyps[0];
  const double score = lse (h->pb, h->pnb);
  guint32 c = 0, node;

  for (guint k = 1; k < d->n_classes; k++)
    if (lp[k] > lp[c])
      c = k;
  if (c == d->blank) {
    h->pb = score + lp[c];
    h->pnb = -INFINITY;
    return;
  }
  if (c == d->nodes[h->node].label && h->pnb > h->pb) {
    h->pnb = score + lp[c];
    h->end = t;
    h->conf = MAX (h->conf, expf (lp[c]));
    return;
  }
  node = node_new (d, h->node, c, 0, t, h->end, h->conf);
  d->nodes[node].refs++;
  node_unref (d, h->node);
  h->node = node;
  h->pb = -INFINITY;
  h->pnb = score + lp[c];
  h->end = t;
  h->conf = expf (lp[c]);
}

void
rs_ctc_decoder_push (RsCtcDecoder *d, guint n_frames, const float *logits)
{
  g_return_if_fail (d != NULL && (logits != NULL || n_frames == 0));

  for (guint f = 0; f < n_frames; f++) {
    const gint64 t = d->next_frame++;

    log_softmax (logits + (gsize) f * d->n_classes, d->n_classes, d->lp);
    d->blank_prob = expf (d->lp[d->blank]);
    if (d->greedy)
      greedy_frame (d, d->lp, t);
    else
      prefix_frame (d, d->lp, t);
    commit_agreed (d);
    enforce_pool_bound (d);
  }
}

/* Results. */

/* The tokens from the top to h's last, into out: each token's run end and
 * confidence are in the next node on the path, the last's in h. */
static guint
write_path (RsCtcDecoder *d, const Hyp *h, RsCtcToken *out)
{
  guint n = 0, m = 0;

  for (guint32 i = h->node; i != NONE; i = d->nodes[i].parent)
    d->path[n++] = i;
  for (guint k = n; k-- > 0;) {
    const Node *node = &d->nodes[d->path[k]];
    const gint64 end = k > 0 ? d->nodes[d->path[k - 1]].prev_end : h->end;
    const float conf = k > 0 ? d->nodes[d->path[k - 1]].prev_conf : h->conf;

    if (node->label == NONE)
      continue;
    out[m].label = node->label;
    out[m].start_frame = node->start;
    out[m].end_frame = MAX (end, node->start);
    out[m].confidence = conf;
    m++;
  }
  return m;
}

const RsCtcToken *
rs_ctc_decoder_get_result (RsCtcDecoder *d, guint *n_tokens)
{
  guint n;

  g_return_val_if_fail (d != NULL && n_tokens != NULL, NULL);

  for (n = 0; n < d->n_committed; n++)
    d->result[n] = d->committed[(d->committed_head + n) % d->max_committed];
  n += write_path (d, &d->hyps[0], d->result + n);
  *n_tokens = n;
  return d->result;
}

guint
rs_ctc_decoder_take_committed (RsCtcDecoder *d, RsCtcToken *tokens, guint max_tokens)
{
  guint n;

  g_return_val_if_fail (d != NULL && (tokens != NULL || max_tokens == 0), 0);

  n = MIN (max_tokens, d->n_committed);
  for (guint k = 0; k < n; k++)
    tokens[k] = d->committed[(d->committed_head + k) % d->max_committed];
  d->committed_head = (d->committed_head + n) % d->max_committed;
  d->n_committed -= n;
  return n;
}

void
rs_ctc_decoder_finish (RsCtcDecoder *d)
{
  guint best = 0, n;

  g_return_if_fail (d != NULL);

  /* The hypotheses are best first. */
  for (guint i = 0; i < d->n_hyps; i++)
    if (state_complete (d, d->nodes[d->hyps[i].node].state)) {
      best = i;
      break;
    }
  n = write_path (d, &d->hyps[best], d->result);
  for (guint k = 0; k < n; k++)
    commit_token (d, d->result[k].label, d->result[k].start_frame, d->result[k].end_frame,
                  d->result[k].confidence);
  search_restart (d);
}

void
rs_ctc_decoder_reset (RsCtcDecoder *d, gint64 next_frame)
{
  g_return_if_fail (d != NULL && next_frame >= RS_CTC_DECODER_KEEP_CLOCK);

  if (next_frame >= 0)
    d->next_frame = next_frame;
  d->committed_head = 0;
  d->n_committed = 0;
  search_restart (d);
}

gint64
rs_ctc_decoder_get_next_frame (const RsCtcDecoder *d)
{
  g_return_val_if_fail (d != NULL, 0);

  return d->next_frame;
}

float
rs_ctc_decoder_get_blank_prob (const RsCtcDecoder *d)
{
  g_return_val_if_fail (d != NULL, 0.0f);

  return d->blank_prob;
}

double
rs_ctc_decoder_get_score (const RsCtcDecoder *d)
{
  g_return_val_if_fail (d != NULL, 0.0);

  return lse (d->hyps[0].pb, d->hyps[0].pnb);
}

void
rs_ctc_decoder_get_stats (const RsCtcDecoder *d, RsCtcDecoderStats *stats)
{
  g_return_if_fail (d != NULL && stats != NULL);

  stats->pool_size = d->pool_size;
  stats->live_nodes = d->live;
  stats->n_hypotheses = d->n_hyps;
  stats->forced_commits = d->forced;
  stats->overwritten = d->overwritten;
}

static void
append_label (const RsCtcDecoder *d, GString *s, guint label)
{
  if (d->labels != NULL && d->labels[label] != NULL)
    g_string_append (s, d->labels[label]);
  else
    g_string_append_printf (s, "%u", label);
}

char *
rs_ctc_decoder_get_text (const RsCtcDecoder *d, const RsCtcToken *tokens, guint n)
{
  GString *s;
  gboolean space = FALSE;

  g_return_val_if_fail (d != NULL && (tokens != NULL || n == 0), NULL);
  for (guint i = 0; i < n; i++)
    g_return_val_if_fail (tokens[i].label < d->n_classes, NULL);

  s = g_string_new (NULL);
  for (guint i = 0; i < n; i++) {
    const guint label = tokens[i].label;

    if (d->separator < 0) {
      if (i > 0)
        g_string_append_c (s, ' ');
    } else if (label == (guint) d->separator) {
      space = s->len > 0;
      continue;
    } else if (space) {
      g_string_append_c (s, ' ');
      space = FALSE;
    }
    append_label (d, s, label);
  }
  return g_string_free (s, FALSE);
}

/* Construction. */

static gboolean
check (gboolean ok, GError **error, const char *what, const char *range, double value)
{
  if (!ok)
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: %s must be %s, not %g", what,
                 range, value);
  return ok;
}

static gboolean
check_constraint (const RsCtcDecoderOptions *o, GError **error)
{
  const RsCtcConstraint *c = o->constraint;

  if (c->n_words == 0) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: the word list is empty");
    return FALSE;
  }
  for (guint i = 1; i < c->nodes->len; i++) {
    const guint label = TRIE (c, i)->label;

    if (label >= o->n_classes || label == o->blank ||
        (o->word_separator >= 0 && label == (guint) o->word_separator)) {
      g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: a word of the word list "
                   "uses label %u, which is %s", label,
                   label >= o->n_classes ? "out of range" :
                   label == o->blank ? "the blank" : "the word separator");
      return FALSE;
    }
  }
  return TRUE;
}

/* The trie into sorted child ranges: node s's children inserted in label
 * order after its own range starts. */
static void
flatten_constraint (RsCtcDecoder *d, const RsCtcConstraint *c)
{
  const guint n = c->nodes->len;
  guint k = 0;

  d->child_start = g_new (guint32, n + 1);
  d->child_label = g_new (guint32, n);
  d->child_node = g_new (guint32, n);
  d->terminal = g_new (guint8, n);
  for (guint s = 0; s < n; s++) {
    d->child_start[s] = k;
    d->terminal[s] = TRIE (c, s)->terminal;
    for (guint ch = TRIE (c, s)->first_child; ch != NONE; ch = TRIE (c, ch)->next_sibling) {
      const guint label = TRIE (c, ch)->label;
      guint j = k++;

      for (; j > d->child_start[s] && d->child_label[j - 1] > label; j--) {
        d->child_label[j] = d->child_label[j - 1];
        d->child_node[j] = d->child_node[j - 1];
      }
      d->child_label[j] = label;
      d->child_node[j] = ch;
    }
  }
  d->child_start[n] = k;
}

RsCtcDecoder *
rs_ctc_decoder_new (const RsCtcDecoderOptions *o, GError **error)
{
  RsCtcDecoder *d;
  gboolean greedy;
  guint max_cand, successors_max;
  guint64 pool, entries;

  g_return_val_if_fail (o != NULL, NULL);

  /* Written so that NaN fails. */
  if (!check (o->n_classes >= 2, error, "n_classes", ">= 2", o->n_classes) ||
      !check (o->blank < o->n_classes, error, "the blank", "< n_classes", o->blank) ||
      !check (o->beam >= 1 && o->beam <= MAX_BEAM, error, "the beam", "in [1, 65536]", o->beam) ||
      !check (o->search <= RS_CTC_SEARCH_PREFIX, error, "the search", "auto, greedy or prefix",
              o->search) ||
      !check (o->prune_margin >= 0, error, "the pruning margin", ">= 0", o->prune_margin) ||
      !check (o->word_separator >= -1 && o->word_separator < (gint64) o->n_classes &&
              (o->word_separator < 0 || (guint) o->word_separator != o->blank),
              error, "the word separator", "-1 or a label other than the blank",
              o->word_separator) ||
      !check (o->max_tail >= 1, error, "max_tail", ">= 1", o->max_tail) ||
      !check (o->max_committed >= 1 && o->max_committed <= MAX_COMMITTED, error,
              "max_committed", "in [1, 2^24]", o->max_committed))
    return NULL;
  if (o->search == RS_CTC_SEARCH_GREEDY && o->constraint != NULL) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: greedy search cannot follow "
                 "a word list (use the prefix search)");
    return NULL;
  }
  if (o->labels != NULL)
    for (guint k = 0; k < o->n_classes; k++)
      if (o->labels[k] == NULL && k != o->blank) {
        g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: label %u has no name", k);
        return NULL;
      }
  if (o->constraint != NULL && !check_constraint (o, error))
    return NULL;

  greedy = o->search == RS_CTC_SEARCH_GREEDY ||
           (o->search == RS_CTC_SEARCH_AUTO && o->beam == 1 && o->constraint == NULL);
  max_cand = o->max_candidates == 0 || o->max_candidates > o->n_classes - 1 ? o->n_classes - 1
                                                                          : o->max_candidates;
  successors_max = o->constraint != NULL && o->word_separator < 0 ? 2 : 1;
  pool = (guint64) o->beam * ((guint64) o->max_tail + 1) + 1;
  entries = greedy ? 0 : (guint64) o->beam * (1 + (guint64) successors_max * max_cand);
  if (pool > MAX_POOL) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: beam * (max_tail + 1) is "
                 "too large (%" G_GUINT64_FORMAT ")", pool - 1);
    return NULL;
  }
  if (entries > MAX_ENTRIES) {
    g_set_error (error, RS_ERROR, RS_ERROR_ARGUMENT, "CTC decoder: beam * candidates is too "
                 "large (%" G_GUINT64_FORMAT " prefixes to score per frame, at most %u)",
                 entries, MAX_ENTRIES);
    return NULL;
  }

  d = g_new0 (RsCtcDecoder, 1);
  d->n_classes = o->n_classes;
  d->blank = o->blank;
  d->beam = o->beam;
  d->greedy = greedy;
  d->max_candidates = max_cand;
  d->prune_margin = o->prune_margin;
  d->separator = o->word_separator;
  if (o->labels != NULL) {
    d->labels = g_new0 (char *, o->n_classes);
    for (guint k = 0; k < o->n_classes; k++)
      d->labels[k] = g_strdup (o->labels[k]);
  }
  d->constrained = o->constraint != NULL;
  if (d->constrained)
    flatten_constraint (d, o->constraint);

  d->pool_size = (guint) pool;
  d->nodes = g_new0 (Node, d->pool_size);
  d->hyps = g_new0 (Hyp, d->beam);
  d->next_hyps = g_new0 (Hyp, d->beam);
  d->entries = g_new (Entry, entries);
  d->ranked = g_new (Ranked, entries);
  d->lp = g_new (float, d->n_classes);
  d->cand = g_new (guint, d->n_classes);
  d->path = g_new (guint32, d->pool_size);
  d->max_committed = o->max_committed;
  d->committed = g_new (RsCtcToken, d->max_committed);
  d->result = g_new (RsCtcToken, (gsize) d->max_committed + d->pool_size);
  search_restart (d);
  return d;
}

void
rs_ctc_decoder_free (RsCtcDecoder *d)
{
  if (d == NULL)
    return;
  if (d->labels != NULL)
    for (guint k = 0; k < d->n_classes; k++)
      g_free (d->labels[k]);
  g_free (d->labels);
  g_free (d->child_start);
  g_free (d->child_label);
  g_free (d->child_node);
  g_free (d->terminal);
  g_free (d->nodes);
  g_free (d->hyps);
  g_free (d->next_hyps);
  g_free (d->entries);
  g_free (d->ranked);
  g_free (d->lp);
  g_free (d->cand);
  g_free (d->path);
  g_free (d->committed);
  g_free (d->result);
  g_free (d);
}
