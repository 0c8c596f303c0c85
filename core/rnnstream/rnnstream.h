/* librnnstream: recurrent networks over live and recorded signals.
 * Include this header to get the whole public API. */
#ifndef RNNSTREAM_H
#define RNNSTREAM_H

#include <rnnstream/atomic-file.h>
#include <rnnstream/bptt.h>
#include <rnnstream/cell-abi.h>
#include <rnnstream/cmvn.h>
#include <rnnstream/csv-stream.h>
#include <rnnstream/ctc-decoder.h>
#include <rnnstream/deltas.h>
#include <rnnstream/error.h>
#include <rnnstream/features.h>
#include <rnnstream/forecast-data.h>
#include <rnnstream/forecast-metrics.h>
#include <rnnstream/forecast-state.h>
#include <rnnstream/forecast-transform.h>
#include <rnnstream/forecaster.h>
#include <rnnstream/loss.h>
#include <rnnstream/microphone.h>
#include <rnnstream/model.h>
#include <rnnstream/optimizer.h>
#include <rnnstream/pipeline.h>
#include <rnnstream/registry.h>
#include <rnnstream/resampler.h>
#include <rnnstream/ring-buffer.h>
#include <rnnstream/safetensors.h>
#include <rnnstream/safetensors-writer.h>
#include <rnnstream/schedule.h>
#include <rnnstream/series-features.h>
#include <rnnstream/series-time.h>
#include <rnnstream/sound-file.h>
#include <rnnstream/stream.h>
#include <rnnstream/trainable.h>
#include <rnnstream/utterances.h>
#include <rnnstream/version.h>

#endif
