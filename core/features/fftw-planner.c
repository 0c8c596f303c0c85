/* The library's FFTW planner lock; see fftw-planner.h. */
#include "fftw-planner.h"

#include <glib.h>

/* A static GMutex needs no initialisation. */
static GMutex planner_mutex;

void
rs_fftw_planner_lock (void)
{
  g_mutex_lock (&planner_mutex);
}

void
rs_fftw_planner_unlock (void)
{
  g_mutex_unlock (&planner_mutex);
}
