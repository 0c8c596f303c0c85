/* Pipelines: sources, feature stages, models and sinks joined into one
 * stream, described in a small text language.
 *
 * The language reads like gst-launch: elements joined by '!', each an
 * element type followed by name=value parameters.
 *
 *   # pipelines/apply.pipeline: a model over CSV feature frames
 *   csvsrc location=-
 *     ! model path=model.safetensors
 *     ! csvsink location=-
 *
 * Newlines are plain white space; '#' starts a comment that runs to the end
 * of the line; values with spaces or '!' are written in double quotes, with
 * \" and \\ escapes. An element is addressed as its type, or as the name
 * its `name=` parameter gives it (required when a type appears twice), so
 * `--set model.path=other.safetensors` changes one parameter of a loaded
 * pipeline.
 *
 * Every parameter is typed and checked when the pipeline is built; an error
 * names the file, line and column and what was expected. The stages'
 * shapes are then negotiated before any input is read, so a model expecting
 * 40 inputs behind a 13-coefficient MFCC stage is refused up front.
 */
#ifndef RS_PIPELINE_H
#define RS_PIPELINE_H

#include <glib.h>
#include <rnnstream/export.h>

G_BEGIN_DECLS

typedef struct RsPipeline RsPipeline;

/* Parses text (display_name names it in errors, e.g. the file's path).
 * Returns a pipeline owned by the caller, not yet started, or NULL with
 * RS_ERROR_PIPELINE ("NAME:LINE:COL: ..."). */
RS_API RsPipeline *rs_pipeline_new_from_text (const char *text, const char *display_name,
                                              GError **error);

/* Parses text as rs_pipeline_new_from_text does, for a pipeline that has
 * no sink: its last element's frames go to the program through
 * rs_pipeline_run_frames (a sink in it is an error). This is how the
 * trainer computes features with the very elements the serving pipelines
 * use, so training and serving cannot drift apart. */
RS_API RsPipeline *rs_pipeline_new_to_caller (const char *text, const char *display_name,
                                              GError **error);

/* Reads and parses the file at path (RS_ERROR_IO when it cannot be read). */
RS_API RsPipeline *rs_pipeline_new_from_file (const char *path, GError **error);

RS_API void rs_pipeline_free (RsPipeline *pipeline);

/* Finds the pipeline file for name: name itself when it is an existing
 * file, else NAME.pipeline in the directories of RNNSTREAM_PIPELINE_PATH
 * (':'-separated), then in the pipelines shipped with rnnstream (the source
 * tree's pipelines/ when running from the build tree, else the installed
 * ones). Returns a newly allocated path, or NULL. */
RS_API char *rs_pipeline_locate (const char *name);

/* Sets one parameter from "element.param=value", as `--set` does, before
 * rs_pipeline_run. Fails with RS_ERROR_PIPELINE naming the unknown element
 * or parameter, or the type the value should have had. */
RS_API gboolean rs_pipeline_set (RsPipeline *pipeline, const char *assignment,
                                 GError **error);

/* Creates the elements, checks their parameters and negotiates the stages'
 * shapes, opening files and devices; runs the stream to its end; closes
 * everything. Returns FALSE with the first error (input, model, output...).
 * Outputs that sinks write to files are complete or absent. */
RS_API gboolean rs_pipeline_run (RsPipeline *pipeline, GError **error);

/* Receives n_frames frames of width floats (frame i at frames + i * width,
 * at index[i] on the stream's clock, with the text labels[i], or NULL: a
 * CSV time column, a decoder's event), valid during the call only.
 * Returns FALSE with an error to stop the run. */
typedef gboolean (*RsPipelineFrameFunc) (const float *frames, gsize n_frames, guint width,
                                         const gint64 *index, const char *const *labels,
                                         gpointer user_data, GError **error);

/* rs_pipeline_run for a pipeline made by rs_pipeline_new_to_caller: every
 * block its last element produces, up to the end of the stream, is handed
 * to func. Fails with func's error or the pipeline's. */
RS_API gboolean rs_pipeline_run_frames (RsPipeline *pipeline, RsPipelineFrameFunc func,
                                        gpointer user_data, GError **error);

/* A copy with the same elements and parameters (for running one
 * description on many inputs at once). */
RS_API RsPipeline *rs_pipeline_copy (const RsPipeline *pipeline);

/* The names of the first element (the source) and the last (the sink), as
 * --set addresses them; owned by the pipeline. */
RS_API const char *rs_pipeline_source_name (const RsPipeline *pipeline);
RS_API const char *rs_pipeline_sink_name (const RsPipeline *pipeline);

/* Asks every running pipeline to stop as if its input had ended: sources
 * return end-of-stream at their next block, and every stage flushes what it
 * holds, so no finished output is lost. Async-signal-safe: a SIGINT handler
 * may call it. */
RS_API void rs_pipeline_request_stop (void);

/* Whether rs_pipeline_request_stop was called (sources poll this). */
RS_API gboolean rs_pipeline_stop_requested (void);

/* What the last rs_pipeline_run did. */
typedef struct RsPipelineStats {
  guint64 frames_in;         /* frames (or samples) the source produced */
  double input_rate;         /* their rate per second; 0 when irregular (CSV rows) */
  guint64 frames_out;        /* frames the sink received */
  double seconds;            /* wall-clock time of the run */
  double output_rate;        /* the frame rate of the last stage's output; 0 when irregular */
} RsPipelineStats;

RS_API void rs_pipeline_get_stats (const RsPipeline *pipeline, RsPipelineStats *stats);

/* A report of the last run for --stats: frames, real-time factor, the time
 * each stage spent per block (p50, p99) and what each stage has to say
 * (rate conversions, overflows). Free with g_free. */
RS_API char *rs_pipeline_stats_report (const RsPipeline *pipeline);

/* The pipeline as text, one element per line, parameters as set. */
RS_API char *rs_pipeline_to_string (const RsPipeline *pipeline);

/* A description of every element type and its parameters, for --help. */
RS_API char *rs_pipeline_describe_elements (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RsPipeline, rs_pipeline_free)

G_END_DECLS

#endif
