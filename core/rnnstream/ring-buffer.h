/* A lock-free ring buffer of floats between one producer thread and one
 * consumer thread.
 *
 * The capacity is a power of two fixed at creation; all memory is
 * allocated by rs_ring_buffer_new, and rs_ring_buffer_write /
 * rs_ring_buffer_read allocate nothing, take no lock and make no system
 * call, so the producer may be a real-time audio callback.
 *
 * Threading: exactly one thread may write (rs_ring_buffer_write,
 * rs_ring_buffer_write_space) and exactly one thread may read
 * (rs_ring_buffer_read, rs_ring_buffer_read_space, rs_ring_buffer_reset)
 * at any one time. The two may run concurrently. Samples written are seen
 * by the reader in order, complete and unchanged: the writer publishes its
 * position with a release store after copying the samples, the reader
 * acquires it before copying them out (and the other way round for the
 * space freed by the reader).
 */
#ifndef RS_RING_BUFFER_H
#define RS_RING_BUFFER_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsRingBuffer RsRingBuffer;

/* A ring holding at least min_capacity floats (rounded up to a power of
 * two; min_capacity >= 1 and at most 2^30). */
RS_API RsRingBuffer *rs_ring_buffer_new (gsize min_capacity);
RS_API void rs_ring_buffer_free (RsRingBuffer *ring);

/* The number of floats the ring can hold. Any thread. */
RS_API gsize rs_ring_buffer_capacity (const RsRingBuffer *ring);

/* Producer: copies as many of the n samples as fit (all, or the first
 * rs_ring_buffer_write_space of them) and returns how many it copied. */
RS_API gsize rs_ring_buffer_write (RsRingBuffer *ring, const float *samples, gsize n);

/* Producer: the room left for writing. May grow (never shrink) while the
 * consumer reads. */
RS_API gsize rs_ring_buffer_write_space (const RsRingBuffer *ring);

/* Consumer: copies up to n samples out, oldest first, and returns how many
 * it copied (0 when the ring is empty). */
RS_API gsize rs_ring_buffer_read (RsRingBuffer *ring, float *samples, gsize n);

/* Consumer: the samples ready for reading. May grow (never shrink) while
 * the producer writes. */
RS_API gsize rs_ring_buffer_read_space (const RsRingBuffer *ring);

/* Consumer: discards every sample ready for reading (safe while the
 * producer writes: it is a read that copies nothing). */
RS_API void rs_ring_buffer_reset (RsRingBuffer *ring);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsRingBuffer, rs_ring_buffer_free)

G_END_DECLS

#endif
