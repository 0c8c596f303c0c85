/* The single-producer / single-consumer float ring (see
 * rnnstream/ring-buffer.h).
 *
 * Positions are free-running counters: head counts every sample ever
 * written, tail every sample ever read, and the samples in the ring are
 * head - tail. Indices into the storage are the counters masked by
 * capacity - 1; because the capacity is a power of two it divides the
 * counters' modulus (2^64 or 2^32), so the masking stays right when they
 * wrap, and a full ring (head - tail == capacity) is never confused with
 * an empty one (head == tail), which is why no slot is sacrificed.
 *
 * Each side owns one counter: only the producer stores head, only the
 * consumer stores tail. A side reads its own counter relaxed (nobody else
 * changes it) and the other side's with acquire, which pairs with that
 * side's release store: the consumer that sees head advanced also sees the
 * samples written before the store, and the producer that sees tail
 * advanced knows the consumer has finished copying those slots out.
 */
#include "config.h"

#include <stdatomic.h>
#include <string.h>

#include "rnnstream/ring-buffer.h"

/* The audio callback writes here: the counters must be real atomics, not a
 * library fallback that takes a lock. */
G_STATIC_ASSERT (ATOMIC_LONG_LOCK_FREE == 2 && sizeof (size_t) == sizeof (long));

/* Larger than a cache line on the machines we run on (64 bytes; 128 on
 * some ARM cores), so that the producer's and the consumer's counter do
 * not share one and bounce between the two cores on every update. */
#define SEPARATION 128

#define MAX_CAPACITY ((gsize) 1 << 30)

struct RsRingBuffer {
  atomic_size_t head;                            /* written by the producer */
  char pad_head[SEPARATION - sizeof (atomic_size_t)];
  atomic_size_t tail;                            /* written by the consumer */
  char pad_tail[SEPARATION - sizeof (atomic_size_t)];
  size_t mask;                                   /* capacity - 1; immutable */
  float *data;
};

RsRingBuffer *
rs_ring_buffer_new (gsize min_capacity)
{
  RsRingBuffer *ring;
  gsize capacity = 1;

  g_return_val_if_fail (min_capacity >= 1 && min_capacity <= MAX_CAPACITY, NULL);

  while (capacity < min_capacity)
    capacity <<= 1;
  ring = g_new0 (RsRingBuffer, 1);
  atomic_init (&ring->head, 0);
  atomic_init (&ring->tail, 0);
  ring->mask = capacity - 1;
  ring->data = g_new0 (float, capacity);
  return ring;
}

void
rs_ring_buffer_free (RsRingBuffer *ring)
{
  if (ring == NULL)
    return;
  g_free (ring->data);
  g_free (ring);
}

gsize
rs_ring_buffer_capacity (const RsRingBuffer *ring)
{
  g_return_val_if_fail (ring != NULL, 0);
  return ring->mask + 1;
}

gsize
rs_ring_buffer_write_space (const RsRingBuffer *ring)
{
  /* const only in spirit: C11 atomic loads take a non-const pointer. */
  RsRingBuffer *r = (RsRingBuffer *) ring;
  size_t head, tail;

  g_return_val_if_fail (ring != NULL, 0);
  head = atomic_load_explicit (&r->head, memory_order_relaxed);
  tail = atomic_load_explicit (&r->tail, memory_order_acquire);
  return r->mask + 1 - (head - tail);
}

gsize
rs_ring_buffer_read_space (const RsRingBuffer *ring)
{
  RsRingBuffer *r = (RsRingBuffer *) ring;
  size_t tail, head;

  g_return_val_if_fail (ring != NULL, 0);
  tail = atomic_load_explicit (&r->tail, memory_order_relaxed);
  head = atomic_load_explicit (&r->head, memory_order_acquire);
  return head - tail;
}

gsize
rs_ring_buffer_write (RsRingBuffer *ring, const float *samples, gsize n)
{
  size_t head, tail, space, start, first;

  g_return_val_if_fail (ring != NULL, 0);
  g_return_val_if_fail (samples != NULL || n == 0, 0);

  head = atomic_load_explicit (&ring->head, memory_order_relaxed);
  tail = atomic_load_explicit (&ring->tail, memory_order_acquire);
  space = ring->mask + 1 - (head - tail);
  start = head & ring->mask;
  if (n > space)
    n = space;
  if (n == 0)
    return 0;
  /* Up to the end of the storage, then from its start. */
  first = MIN (n, ring->mask + 1 - start);
  memcpy (ring->data + start, samples, first * sizeof (float));
  memcpy (ring->data, samples + first, (n - first) * sizeof (float));
  atomic_store_explicit (&ring->head, head + n, memory_order_release);
  return n;
}

gsize
rs_ring_buffer_read (RsRingBuffer *ring, float *samples, gsize n)
{
  size_t tail, head, start, first;

  g_return_val_if_fail (ring != NULL, 0);
  g_return_val_if_fail (samples != NULL || n == 0, 0);

  tail = atomic_load_explicit (&ring->tail, memory_order_relaxed);
  head = atomic_load_explicit (&ring->head, memory_order_acquire);
  start = tail & ring->mask;
  if (n > head - tail)
    n = head - tail;
  if (n == 0)
    return 0;
  first = MIN (n, ring->mask + 1 - start);
  memcpy (samples, ring->data + start, first * sizeof (float));
  memcpy (samples + first, ring->data, (n - first) * sizeof (float));
  atomic_store_explicit (&ring->tail, tail + n, memory_order_release);
  return n;
}

void
rs_ring_buffer_reset (RsRingBuffer *ring)
{
  g_return_if_fail (ring != NULL);
  atomic_store_explicit (&ring->tail, atomic_load_explicit (&ring->head, memory_order_acquire),
                         memory_order_release);
}
