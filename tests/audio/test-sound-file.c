/* Sound files: every format the test can write with libsndfile itself
 * (generated at run time, so no binary fixtures), Kaldi's scale, channel
 * mixdown and choice, constant-memory reading of a long file, resampling
 * on open, and every failure naming the file. */
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sndfile.h>

#include <rnnstream/error.h>
#include <rnnstream/sound-file.h>

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

/* Writes frames (interleaved, as 32-bit integers: a 16-bit sample s is
 * s << 16, a 24-bit one s << 8, which libsndfile stores exactly). */
static char *
write_ints (const char *name, int format, int rate, int channels, const int *frames, gsize n)
{
  char *path = tmp_path (name);
  SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
  SNDFILE *sf = sf_open (path, SFM_WRITE, &info);

  g_assert_nonnull (sf);
  g_assert_cmpint (sf_writef_int (sf, frames, (sf_count_t) n), ==, (sf_count_t) n);
  g_assert_cmpint (sf_close (sf), ==, 0);
  return path;
}

static char *
write_floats (const char *name, int format, int rate, int channels, const float *frames, gsize n)
{
  char *path = tmp_path (name);
  SF_INFO info = { .samplerate = rate, .channels = channels, .format = format };
  SNDFILE *sf = sf_open (path, SFM_WRITE, &info);

  g_assert_nonnull (sf);
  g_assert_cmpint (sf_writef_float (sf, frames, (sf_count_t) n), ==, (sf_count_t) n);
  g_assert_cmpint (sf_close (sf), ==, 0);
  return path;
}

/* Reads everything, block samples at a time. */
static GArray *
read_all (RsSoundFile *file, gsize block)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (float));
  g_autofree float *buf = g_new (float, block);
  g_autoptr (GError) error = NULL;
  gssize got;

  while ((got = rs_sound_file_read (file, buf, block, &error)) > 0)
    g_array_append_vals (out, buf, (guint) got);
  g_assert_no_error (error);
  g_assert_cmpint (got, ==, 0);
  return out;
}

static GArray *
open_and_read (const char *path, const RsSoundFileOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = rs_sound_file_open (path, options, &error);

  g_assert_no_error (error);
  g_assert_nonnull (file);
  return read_all (file, 1000);
}

/* 16-bit samples that cover the edges and the value Kaldi's scale is
 * usually explained with. */
static const int sixteen[] = { 0, 1, -1, 1234, -1234, 32767, -32768, 12, -30000, 255, 256 };

static void
check_sixteen (const char *path, const char *format_words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = rs_sound_file_open (path, NULL, &error);
  g_autoptr (GArray) got = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (rs_sound_file_get_native_rate (file), ==, 16000);
  g_assert_cmpint (rs_sound_file_get_rate (file), ==, 16000);
  g_assert_cmpint (rs_sound_file_get_channels (file), ==, 1);
  g_assert_cmpuint (rs_sound_file_get_frames (file), ==, G_N_ELEMENTS (sixteen));
  g_assert_cmpuint (rs_sound_file_get_length (file), ==, G_N_ELEMENTS (sixteen));
  if (strstr (rs_sound_file_get_format_name (file), format_words) == NULL)
    g_error ("format name '%s' lacks '%s'", rs_sound_file_get_format_name (file), format_words);
  got = read_all (file, 4);
  g_assert_cmpuint (got->len, ==, G_N_ELEMENTS (sixteen));
  /* The integer sample values, exactly: 1234 comes out as 1234.0f. */
  for (guint i = 0; i < got->len; i++)
    g_assert_cmpfloat (g_array_index (got, float, i), ==, (float) sixteen[i]);
}

static void
test_wav16_kaldi_scale (void)
{
  int frames[G_N_ELEMENTS (sixteen)];
  g_autofree char *path = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sixteen); i++)
    frames[i] = sixteen[i] * 65536;
  path = write_ints ("s16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, frames,
                     G_N_ELEMENTS (frames));
  check_sixteen (path, "WAV (Microsoft), Signed 16 bit PCM");
}

static void
test_flac (void)
{
  int frames[G_N_ELEMENTS (sixteen)];
  g_autofree char *path = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sixteen); i++)
    frames[i] = sixteen[i] * 65536;
  path = write_ints ("s16.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, frames,
                     G_N_ELEMENTS (frames));
  check_sixteen (path, "FLAC");
}

static void
test_aiff (void)
{
  int frames[G_N_ELEMENTS (sixteen)];
  g_autofree char *path = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sixteen); i++)
    frames[i] = sixteen[i] * 65536;
  path = write_ints ("s16.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1, frames,
                     G_N_ELEMENTS (frames));
  check_sixteen (path, "AIFF");
}

static void
test_wav24 (void)
{
  static const int s24[] = { 0, 1, -1, 1234 * 256, 1234 * 256 + 37, 8388607, -8388608, -5 };
  int frames[G_N_ELEMENTS (s24)];
  g_autofree char *path = NULL;
  g_autoptr (GArray) got = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (s24); i++)
    frames[i] = s24[i] * 256;
  path = write_ints ("s24.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 16000, 1, frames,
                     G_N_ELEMENTS (frames));
  got = open_and_read (path, NULL);
  g_assert_cmpuint (got->len, ==, G_N_ELEMENTS (s24));
  /* The 16-bit scale: s / 256, exactly (a float holds 24 bits). */
  for (guint i = 0; i < got->len; i++)
    g_assert_cmpfloat (g_array_index (got, float, i), ==, (float) s24[i] / 256.0f);
}

static void
test_wav_float (void)
{
  static const float x[] = { 0.0f, 0.5f, -0.25f, 1234.0f / 32768.0f, -1.0f, 1.5f, 1e-6f };
  g_autofree char *path = write_floats ("f32.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, x,
                                        G_N_ELEMENTS (x));
  g_autoptr (GArray) got = open_and_read (path, NULL);

  g_assert_cmpuint (got->len, ==, G_N_ELEMENTS (x));
  /* x * 32768, exactly, and nothing clipped. */
  for (guint i = 0; i < got->len; i++)
    g_assert_cmpfloat (g_array_index (got, float, i), ==, x[i] * 32768.0f);
}

static void
test_ogg_vorbis (void)
{
  const int rate = 16000, n = 16000;
  const double w = 2.0 * G_PI * 440.0 / rate;
  g_autofree float *x = g_new (float, n);
  g_autofree char *path = NULL;
  g_autoptr (GArray) got = NULL;
  double err = 0, sig = 0;

  for (int i = 0; i < n; i++)
    x[i] = (float) (0.5 * sin (w * i));
  path = write_floats ("tone.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, rate, 1, x, (gsize) n);
  got = open_and_read (path, NULL);
  g_assert_cmpuint (got->len, ==, (guint) n);
  /* Lossy, so: the same tone on the same scale, 30 dB clear of the
   * coding noise (Vorbis at its default quality does far better). */
  for (int i = 1000; i < n - 1000; i++) {
    const double ideal = 0.5 * 32768.0 * sin (w * i), e = g_array_index (got, float, i) - ideal;

    err += e * e;
    sig += ideal * ideal;
  }
  g_test_message ("Vorbis round trip: SNR %.1f dB", 10 * log10 (sig / err));
  g_assert_cmpfloat (10 * log10 (sig / err), >, 30.0);
}

static void
test_raw (void)
{
  g_autofree char *path = tmp_path ("stereo.raw");
  g_autofree char *fpath = tmp_path ("mono.f32");
  RsSoundFileOptions options = RS_SOUND_FILE_OPTIONS_INIT;
  /* Little-endian s16 pairs: (1000, 3000), (-2, 4), (32767, -32768). */
  static const guint8 bytes[] = { 0xe8, 0x03, 0xb8, 0x0b, 0xfe, 0xff, 0x04, 0x00,
                                  0xff, 0x7f, 0x00, 0x80 };
  static const float expected[] = { 2000.0f, 1.0f, -0.5f };
  float fl[3] = { 0.25f, -0.5f, 0.125f };
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = NULL;
  g_autoptr (GArray) got = NULL;

  g_assert_true (g_file_set_contents (path, (const char *) bytes, sizeof bytes, NULL));
  options.raw_format = "S16LE";
  options.raw_rate = 8000;
  options.raw_channels = 2;
  file = rs_sound_file_open (path, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rs_sound_file_get_native_rate (file), ==, 8000);
  g_assert_cmpint (rs_sound_file_get_channels (file), ==, 2);
  g_assert_cmpuint (rs_sound_file_get_frames (file), ==, 3);
  got = read_all (file, 2);
  g_assert_cmpmem (got->data, got->len * sizeof (float), expected, sizeof expected);
  g_clear_pointer (&got, g_array_unref);
  g_clear_pointer (&file, rs_sound_file_free);

  /* Little-endian floats, mono. */
  for (guint i = 0; i < G_N_ELEMENTS (fl); i++) {
    guint32 u;

    memcpy (&u, &fl[i], 4);
    u = GUINT32_TO_LE (u);
    memcpy (&fl[i], &u, 4);
  }
  g_assert_true (g_file_set_contents (fpath, (const char *) fl, sizeof fl, NULL));
  options.raw_format = "f32le";
  options.raw_channels = 1;
  got = open_and_read (fpath, &options);
  g_assert_cmpuint (got->len, ==, 3);
  g_assert_cmpfloat (g_array_index (got, float, 0), ==, 8192.0f);
  g_assert_cmpfloat (g_array_index (got, float, 1), ==, -16384.0f);
  g_assert_cmpfloat (g_array_index (got, float, 2), ==, 4096.0f);
  g_clear_pointer (&got, g_array_unref);

  /* Unknown formats and missing parameters are refused, naming the file. */
  options.raw_format = "s12le";
  file = rs_sound_file_open (path, &options, &error);
  g_assert_null (file);
  g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "s12le"));
  g_clear_error (&error);
  options.raw_format = "s16le";
  options.raw_rate = 0;
  file = rs_sound_file_open (path, &options, &error);
  g_assert_null (file);
  g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, path));
}

static void
test_stereo (void)
{
  const gsize n = 5000;
  g_autofree int *frames = g_new (int, n * 2);
  g_autofree char *path = NULL;
  RsSoundFileOptions options = RS_SOUND_FILE_OPTIONS_INIT;
  g_autoptr (GArray) mixed = NULL, left = NULL, right = NULL;
  g_autoptr (GError) error = NULL;
  RsSoundFile *file;

  for (gsize i = 0; i < n; i++) {
    frames[2 * i] = (int) (2 * i) * 65536;            /* left: 2i */
    frames[2 * i + 1] = (1000 - (int) i) * 65536;     /* right: 1000 - i */
  }
  path = write_ints ("stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 2, frames, n);

  mixed = open_and_read (path, NULL);
  options.channel = 0;
  left = open_and_read (path, &options);
  options.channel = 1;
  right = open_and_read (path, &options);
  g_assert_cmpuint (mixed->len, ==, n);
  g_assert_cmpuint (left->len, ==, n);
  g_assert_cmpuint (right->len, ==, n);
  for (gsize i = 0; i < n; i++) {
    /* The average, exact: (2i + 1000 - i) / 2. */
    g_assert_cmpfloat (g_array_index (mixed, float, i), ==, (float) (i + 1000) / 2.0f);
    g_assert_cmpfloat (g_array_index (left, float, i), ==, (float) (2 * i));
    g_assert_cmpfloat (g_array_index (right, float, i), ==, (float) (1000 - (int) i));
  }

  options.channel = 2;
  file = rs_sound_file_open (path, &options, &error);
  g_assert_null (file);
  g_assert_error (error, RS_ERROR, RS_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "2 channels"));
}

/* Reads the same file with reads of many sizes: identical samples. */
static void
test_read_sizes (void)
{
  const gsize n = 30011;
  g_autofree int *frames = g_new (int, n * 2);
  g_autofree char *path = NULL;
  static const gsize sizes[] = { 1, 7, 512, 4096, 4097, 100000 };
  static const int targets[] = { 0, 16000, 8000 };

  for (gsize i = 0; i < n * 2; i++)
    frames[i] = g_test_rand_int_range (-30000, 30000) * 65536;
  path = write_ints ("sizes.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, frames, n);
  for (guint t = 0; t < G_N_ELEMENTS (targets); t++) {
    RsSoundFileOptions options = RS_SOUND_FILE_OPTIONS_INIT;
    g_autoptr (GArray) reference = NULL;

    options.target_rate = targets[t];
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
      g_autoptr (GError) error = NULL;
      g_autoptr (RsSoundFile) file = rs_sound_file_open (path, &options, &error);
      g_autoptr (GArray) got = NULL;

      g_assert_no_error (error);
      got = read_all (file, sizes[s]);
      g_assert_cmpuint (got->len, ==, rs_sound_file_get_length (file));
      if (reference == NULL) {
        reference = g_array_ref (got);
        continue;
      }
      g_assert_cmpmem (got->data, got->len * sizeof (float), reference->data,
                       reference->len * sizeof (float));
    }
  }
}

static void
test_resample_on_open (void)
{
  const int rate = 48000, n = 96000;
  const double amplitude = 10000.0, w_in = 2.0 * G_PI * 1000.0 / rate;
  const double w = 2.0 * G_PI * 1000.0 / 16000;
  g_autofree int *frames = g_new (int, n);
  g_autofree char *path = NULL;
  RsSoundFileOptions options = RS_SOUND_FILE_OPTIONS_INIT;
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = NULL;
  g_autoptr (GArray) got = NULL;
  double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0, det, a, b, amp, delay;

  for (int i = 0; i < n; i++)
    frames[i] = (int) lround (amplitude * sin (w_in * i)) * 65536;
  path = write_ints ("tone48k.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, rate, 1, frames,
                     (gsize) n);
  options.target_rate = 16000;
  file = rs_sound_file_open (path, &options, &error);
  g_assert_no_error (error);
  g_assert_cmpint (rs_sound_file_get_native_rate (file), ==, 48000);
  g_assert_cmpint (rs_sound_file_get_rate (file), ==, 16000);
  g_assert_cmpuint (rs_sound_file_get_frames (file), ==, (guint64) n);
  g_assert_cmpuint (rs_sound_file_get_length (file), ==, 32000);
  got = read_all (file, 1234);
  g_assert_cmpuint (got->len, ==, 32000);

  /* The tone, at its amplitude and with no delay (least squares over the
   * middle; see test-resampler.c for the tolerances). */
  for (guint i = 3000; i < got->len - 3000; i++) {
    const double s = sin (w * i), c = cos (w * i), y = g_array_index (got, float, i);

    ss += s * s;
    cc += c * c;
    sc += s * c;
    ys += y * s;
    yc += y * c;
  }
  det = ss * cc - sc * sc;
  a = (ys * cc - yc * sc) / det;
  b = (yc * ss - ys * sc) / det;
  amp = hypot (a, b);
  delay = -atan2 (b, a) / w;
  g_test_message ("48 kHz -> 16 kHz on open: amplitude %.3f, delay %.5f samples", amp, delay);
  g_assert_cmpfloat (fabs (amp / amplitude - 1.0), <, 1e-3);
  g_assert_cmpfloat (fabs (delay), <, 0.01);
}

/* A WAV header for n frames of 16-bit mono at rate, data_size as given. */
static void
wav_header (guint8 header[44], int rate, guint32 data_size)
{
  guint32 u32;
  guint16 u16;

  memcpy (header, "RIFF", 4);
  u32 = GUINT32_TO_LE (data_size + 36);
  memcpy (header + 4, &u32, 4);
  memcpy (header + 8, "WAVEfmt ", 8);
  u32 = GUINT32_TO_LE (16);
  memcpy (header + 16, &u32, 4);
  u16 = GUINT16_TO_LE (1);                      /* PCM */
  memcpy (header + 20, &u16, 2);
  memcpy (header + 22, &u16, 2);                /* 1 channel */
  u32 = GUINT32_TO_LE ((guint32) rate);
  memcpy (header + 24, &u32, 4);
  u32 = GUINT32_TO_LE ((guint32) rate * 2);
  memcpy (header + 28, &u32, 4);
  u16 = GUINT16_TO_LE (2);
  memcpy (header + 32, &u16, 2);
  u16 = GUINT16_TO_LE (16);
  memcpy (header + 34, &u16, 2);
  memcpy (header + 36, "data", 4);
  u32 = GUINT32_TO_LE (data_size);
  memcpy (header + 40, &u32, 4);
}

static glong
peak_rss_kib (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

/* One hour at 16 kHz: a 115 MB file (sparse, so it costs no disk), 230 MB
 * as floats. Reading it must not grow the process by more than a few
 * megabytes. Runs in a subprocess, whose peak RSS starts low. */
static void
test_long_file (void)
{
  const guint64 n = (guint64) 16000 * 3600;

  if (g_test_subprocess ()) {
    g_autofree char *path = tmp_path ("hour.wav");
    guint8 header[44];
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    g_autoptr (GError) error = NULL;
    g_autoptr (RsSoundFile) file = NULL;
    float buf[4000];
    guint64 total = 0;
    glong before, after;
    gssize got;

    g_assert_cmpint (fd, >=, 0);
    wav_header (header, 16000, (guint32) (n * 2));
    g_assert_cmpint (write (fd, header, sizeof header), ==, sizeof header);
    g_assert_cmpint (ftruncate (fd, (off_t) (sizeof header + n * 2)), ==, 0);
    close (fd);

    file = rs_sound_file_open (path, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (rs_sound_file_get_frames (file), ==, n);
    before = peak_rss_kib ();
    while ((got = rs_sound_file_read (file, buf, G_N_ELEMENTS (buf), &error)) > 0) {
      for (gssize i = 0; i < got; i++)
        if (buf[i] != 0.0f)
          g_error ("sample %" G_GUINT64_FORMAT " is %g", total + (guint64) i, (double) buf[i]);
      total += (guint64) got;
    }
    g_assert_no_error (error);
    after = peak_rss_kib ();
    g_assert_cmpuint (total, ==, n);
    g_test_message ("read %" G_GUINT64_FORMAT " samples; peak RSS %ld KiB before, %ld KiB after",
                    total, before, after);
    g_assert_cmpint (after - before, <, 8 * 1024);
    g_unlink (path);
    return;
  }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
assert_fails (const char *path, const RsSoundFileOptions *options, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = rs_sound_file_open (path, options, &error);

  if (file != NULL) {
    /* Compressed formats find out while decoding. */
    g_autofree float *buf = g_new (float, 4096);
    gssize got;

    g_assert_no_error (error);
    while ((got = rs_sound_file_read (file, buf, 4096, &error)) > 0)
      ;
    g_assert_cmpint (got, ==, -1);
  }
  g_assert_error (error, RS_ERROR, RS_ERROR_IO);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  if (words != NULL && strstr (error->message, words) == NULL)
    g_error ("'%s' lacks '%s'", error->message, words);
}

/* The first size bytes of path, as a new file. */
static char *
truncate_copy (const char *path, const char *name, gsize size)
{
  g_autofree char *contents = NULL;
  char *out = tmp_path (name);
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (size, <, len);
  g_assert_true (g_file_set_contents (out, contents, (gssize) size, NULL));
  return out;
}

static void
test_errors (void)
{
  const gsize n = 20000;
  g_autofree int *frames = g_new (int, n);
  g_autofree char *wav = NULL, *aiff = NULL, *flac = NULL, *ogg = NULL;
  g_autofree char *garbage = tmp_path ("garbage.wav");
  g_autofree char *missing = tmp_path ("missing.wav");
  g_autofree char *half_wav = NULL, *half_aiff = NULL, *half_flac = NULL, *half_ogg = NULL;
  g_autofree char *header_only = NULL, *placeholder = NULL;
  g_autofree float *tone = g_new (float, n);
  g_autoptr (GError) error = NULL;
  g_autoptr (RsSoundFile) file = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  char junk[3000];

  for (gsize i = 0; i < n; i++) {
    frames[i] = (int) (10000 * sin ((double) i * 0.05)) * 65536;
    tone[i] = (float) (0.3 * sin ((double) i * 0.05));
  }
  wav = write_ints ("e.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, frames, n);
  aiff = write_ints ("e.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1, frames, n);
  flac = write_ints ("e.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, frames, n);
  ogg = write_floats ("e.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 16000, 1, tone, n);

  assert_fails (missing, NULL, "No such file");
  for (gsize i = 0; i < sizeof junk; i++)
    junk[i] = (char) (i * 7919 % 251);
  g_assert_true (g_file_set_contents (garbage, junk, sizeof junk, NULL));
  assert_fails (garbage, NULL, NULL);
  assert_fails (tmpdir, NULL, NULL);

  /* Cut in the header, and cut in the data. */
  header_only = truncate_copy (wav, "header.wav", 30);
  assert_fails (header_only, NULL, NULL);
  half_wav = truncate_copy (wav, "half.wav", 44 + n);
  assert_fails (half_wav, NULL, "truncated");
  g_assert_true (g_file_get_contents (aiff, &contents, &len, NULL));
  half_aiff = truncate_copy (aiff, "half.aiff", len / 2);
  assert_fails (half_aiff, NULL, "truncated");
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (flac, &contents, &len, NULL));
  half_flac = truncate_copy (flac, "half.flac", len / 2);
  assert_fails (half_flac, NULL, NULL);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (ogg, &contents, &len, NULL));
  half_ogg = truncate_copy (ogg, "half.ogg", len / 2);
  assert_fails (half_ogg, NULL, NULL);
  g_clear_pointer (&contents, g_free);

  /* A WAV written to a pipe has a placeholder size: not truncated, and
   * read to its actual end. */
  g_assert_true (g_file_get_contents (wav, &contents, &len, NULL));
  {
    guint8 header[44];

    wav_header (header, 16000, 0x7ffff000u);
    memcpy (contents, header, sizeof header);
  }
  placeholder = tmp_path ("streamed.wav");
  g_assert_true (g_file_set_contents (placeholder, contents, (gssize) len, NULL));
  file = rs_sound_file_open (placeholder, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rs_sound_file_get_frames (file), ==, n);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("rs-sound-file-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);
  g_test_add_func ("/sound-file/wav16-kaldi-scale", test_wav16_kaldi_scale);
  g_test_add_func ("/sound-file/wav24", test_wav24);
  g_test_add_func ("/sound-file/wav-float", test_wav_float);
  g_test_add_func ("/sound-file/flac", test_flac);
  g_test_add_func ("/sound-file/ogg-vorbis", test_ogg_vorbis);
  g_test_add_func ("/sound-file/aiff", test_aiff);
  g_test_add_func ("/sound-file/raw", test_raw);
  g_test_add_func ("/sound-file/stereo", test_stereo);
  g_test_add_func ("/sound-file/read-sizes", test_read_sizes);
  g_test_add_func ("/sound-file/resample-on-open", test_resample_on_open);
  g_test_add_func ("/sound-file/long-file", test_long_file);
  g_test_add_func ("/sound-file/errors", test_errors);
  status = g_test_run ();
  /* Every process (subprocesses too) made and now removes its own. */
  {
    GDir *dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = tmp_path (name);

      g_unlink (path);
    }
    if (dir != NULL)
      g_dir_close (dir);
    g_rmdir (tmpdir);
  }
  g_free (tmpdir);
  return status;
}
