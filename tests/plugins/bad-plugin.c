/* Deliberately broken cell plugins, one per way a plugin can be wrong, for
 * the registry's refusal tests. Compiled once per BAD_KIND. */
#include <stddef.h>

#include <rnnstream/cell-abi.h>

/* Macros, not an enum: they are compared in #if. */
#define BAD_NO_ENTRY 1       /* exports something, but not the entry point */
#define BAD_ABI_MAJOR 2      /* built for ABI 2.0 */
#define BAD_ABI_MINOR 3      /* built for a newer minor than the host knows */
#define BAD_SIZE 4           /* descriptor smaller than ABI 1.0's */
#define BAD_DUPLICATE 5      /* claims "gru", which the real plugin provides */
#define BAD_TWICE 6          /* exports the same name twice */
#define BAD_EMPTY 7          /* exports no descriptor at all */
#define BAD_MISSING_FUNC 8   /* lacks forward() */
#define BAD_NAME 9           /* a name with characters we refuse */
#define GOOD_EXTRA 10        /* a valid plugin with a cell nobody else has */

static RsCell *
create (const RsCellSpec *spec, char *err, size_t err_len)
{
  (void) spec;
  (void) err;
  (void) err_len;
  return NULL;
}

static void
free_cell (RsCell *cell)
{
  (void) cell;
}

static void
get_info (const RsCell *cell, RsCellInfo *info)
{
  (void) cell;
  (void) info;
}

static size_t
scratch_size (const RsCell *cell, uint32_t max_frames, uint32_t n_streams)
{
  (void) cell;
  (void) max_frames;
  (void) n_streams;
  return 0;
}

static void
reset_state (const RsCell *cell, uint32_t n_streams, float *state)
{
  (void) cell;
  (void) n_streams;
  (void) state;
}

static RsCellStatus
forward (const RsCell *cell, uint32_t n_frames, uint32_t n_streams, const float *input,
         size_t in_stride, float *state, float *output, size_t out_stride, void *scratch)
{
  (void) cell, (void) n_frames, (void) n_streams, (void) input, (void) in_stride;
  (void) state, (void) output, (void) out_stride, (void) scratch;
  return RS_CELL_OK;
}

#if BAD_KIND == BAD_DUPLICATE
#define CELL_NAME "gru"
#elif BAD_KIND == BAD_NAME
#define CELL_NAME "Bad Name"
#elif BAD_KIND == GOOD_EXTRA
#define CELL_NAME "extra_cell"
#else
#define CELL_NAME "broken"
#endif

static const RsCellDescriptor descriptor = {
  .abi_major = BAD_KIND == BAD_ABI_MAJOR ? 2 : RS_CELL_ABI_MAJOR,
  /* 1.99 is newer than any host; the 2.x plugin says 2.0 */
  .abi_minor = BAD_KIND == BAD_ABI_MINOR ? 99 : BAD_KIND == BAD_ABI_MAJOR ? 0 : RS_CELL_ABI_MINOR,
  .size = BAD_KIND == BAD_SIZE ? 16 : sizeof (RsCellDescriptor),
  .name = CELL_NAME,
  .version = "0",
  .description = "a plugin for the registry tests",
  .create = create,
  .free = free_cell,
  .get_info = get_info,
  .scratch_size = scratch_size,
  .reset_state = reset_state,
  .forward = BAD_KIND == BAD_MISSING_FUNC ? NULL : forward,
};

#if BAD_KIND == BAD_NO_ENTRY
RS_CELL_EXPORT const RsCellDescriptor *not_the_entry_point (uint32_t index);

const RsCellDescriptor *
not_the_entry_point (uint32_t index)
{
  return index == 0 ? &descriptor : NULL;
}
#else
RS_CELL_EXPORT const RsCellDescriptor *rs_cell_plugin_descriptor (uint32_t index);

const RsCellDescriptor *
rs_cell_plugin_descriptor (uint32_t index)
{
  if (BAD_KIND == BAD_EMPTY)
    return NULL;
  if (BAD_KIND == BAD_TWICE)
    return index < 2 ? &descriptor : NULL;
  return index == 0 ? &descriptor : NULL;
}
#endif
