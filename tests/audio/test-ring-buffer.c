/* The lock-free SPSC ring: exact contents through wrap-around, full and
 * empty rings, and a producer and a consumer thread racing over millions
 * of samples (built with -Db_sanitize=thread, ThreadSanitizer checks the
 * memory ordering too). */
#include <stdlib.h>
#include <string.h>

#include <rnnstream/ring-buffer.h>

static void
test_basic (void)
{
  g_autoptr (RsRingBuffer) ring = rs_ring_buffer_new (5);
  float in[16], out[16];

  for (int i = 0; i < 16; i++)
    in[i] = (float) i;

  /* Rounded up to a power of two; every slot usable. */
  g_assert_cmpuint (rs_ring_buffer_capacity (ring), ==, 8);
  g_assert_cmpuint (rs_ring_buffer_read_space (ring), ==, 0);
  g_assert_cmpuint (rs_ring_buffer_write_space (ring), ==, 8);
  g_assert_cmpuint (rs_ring_buffer_read (ring, out, 4), ==, 0);

  g_assert_cmpuint (rs_ring_buffer_write (ring, in, 6), ==, 6);
  g_assert_cmpuint (rs_ring_buffer_read (ring, out, 4), ==, 4);
  g_assert_cmpmem (out, 4 * sizeof (float), in, 4 * sizeof (float));

  /* This write wraps: 2 left, 6 more fit of the 10 offered. */
  g_assert_cmpuint (rs_ring_buffer_write (ring, in + 6, 10), ==, 6);
  g_assert_cmpuint (rs_ring_buffer_write_space (ring), ==, 0);
  g_assert_cmpuint (rs_ring_buffer_write (ring, in, 1), ==, 0);
  g_assert_cmpuint (rs_ring_buffer_read_space (ring), ==, 8);
  /* And the read wraps too, in order. */
  g_assert_cmpuint (rs_ring_buffer_read (ring, out, 16), ==, 8);
  g_assert_cmpmem (out, 8 * sizeof (float), in + 4, 8 * sizeof (float));
  g_assert_cmpuint (rs_ring_buffer_read_space (ring), ==, 0);

  g_assert_cmpuint (rs_ring_buffer_write (ring, in, 3), ==, 3);
  rs_ring_buffer_reset (ring);
  g_assert_cmpuint (rs_ring_buffer_read_space (ring), ==, 0);
  g_assert_cmpuint (rs_ring_buffer_write_space (ring), ==, 8);

  /* Exact powers of two stay as they are. */
  g_clear_pointer (&ring, rs_ring_buffer_free);
  ring = rs_ring_buffer_new (1024);
  g_assert_cmpuint (rs_ring_buffer_capacity (ring), ==, 1024);
  g_clear_pointer (&ring, rs_ring_buffer_free);
  ring = rs_ring_buffer_new (1);
  g_assert_cmpuint (rs_ring_buffer_capacity (ring), ==, 1);
  g_assert_cmpuint (rs_ring_buffer_write (ring, in + 3, 2), ==, 1);
  g_assert_cmpuint (rs_ring_buffer_read (ring, out, 2), ==, 1);
  g_assert_cmpfloat (out[0], ==, 3.0f);
}

/* The sequence value of sample i: exact in a float (24-bit mantissa). */
#define SEQ(i) ((float) ((i) & 0xffffff))

typedef struct {
  RsRingBuffer *ring;
  guint64 n;
  guint64 full_spins;           /* times the producer found the ring full */
} Shared;

static guint32
next_random (guint32 *state)
{
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

static gpointer
producer (gpointer data)
{
  Shared *s = data;
  float chunk[512];
  guint64 i = 0;
  guint32 rnd = 1;

  while (i < s->n) {
    gsize want = 1 + next_random (&rnd) % G_N_ELEMENTS (chunk), done = 0;

    want = (gsize) MIN ((guint64) want, s->n - i);
    for (gsize k = 0; k < want; k++)
      chunk[k] = SEQ (i + k);
    while (done < want) {
      gsize w = rs_ring_buffer_write (s->ring, chunk + done, want - done);

      if (w == 0) {
        s->full_spins++;
        g_thread_yield ();
      }
      done += w;
    }
    i += want;
  }
  return NULL;
}

static void
test_threaded (void)
{
  const char *env = g_getenv ("RS_RING_STRESS_SAMPLES");
  Shared s = { 0 };
  GThread *thread;
  float chunk[700];
  guint64 i = 0, empty_spins = 0;
  guint32 rnd = 7;

  /* Millions of samples through a small ring: it wraps every 256 samples,
   * and both threads keep finding it full and empty. */
  s.n = env != NULL ? g_ascii_strtoull (env, NULL, 10) : 8000000;
  s.ring = rs_ring_buffer_new (256);
  thread = g_thread_new ("producer", producer, &s);
  while (i < s.n) {
    gsize want = 1 + next_random (&rnd) % G_N_ELEMENTS (chunk);
    gsize got = rs_ring_buffer_read (s.ring, chunk, want);

    if (got == 0) {
      empty_spins++;
      g_thread_yield ();
      continue;
    }
    for (gsize k = 0; k < got; k++)
      if (chunk[k] != SEQ (i + k))
        g_error ("sample %" G_GUINT64_FORMAT ": got %.0f, expected %.0f", i + k,
                 (double) chunk[k], (double) SEQ (i + k));
    i += got;
  }
  g_thread_join (thread);
  g_assert_cmpuint (i, ==, s.n);
  g_assert_cmpuint (rs_ring_buffer_read_space (s.ring), ==, 0);
  g_test_message ("%" G_GUINT64_FORMAT " samples; producer found the ring full %" G_GUINT64_FORMAT
                  " times, consumer found it empty %" G_GUINT64_FORMAT " times", s.n,
                  s.full_spins, empty_spins);
  rs_ring_buffer_free (s.ring);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ring-buffer/basic", test_basic);
  g_test_add_func ("/ring-buffer/threaded", test_threaded);
  return g_test_run ();
}
