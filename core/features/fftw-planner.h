/* One lock around FFTW's planner for the whole library. Internal.
 *
 * FFTW's plan creation and destruction (fftwf_plan_*, fftwf_destroy_plan)
 * share global state and must never run in two threads at once; executing
 * a plan is thread-safe. Every module of librnnstream that makes or
 * destroys plans does so between rs_fftw_planner_lock and
 * rs_fftw_planner_unlock, so extractors can be created and freed from any
 * thread. (Other libraries in the same process that plan with FFTW are
 * beyond this lock; that is FFTW's constraint, not ours.)
 */
#ifndef RS_FEATURES_FFTW_PLANNER_H
#define RS_FEATURES_FFTW_PLANNER_H

void rs_fftw_planner_lock (void);
void rs_fftw_planner_unlock (void);

#endif
