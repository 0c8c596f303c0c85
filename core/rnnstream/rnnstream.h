/* librnnstream: recurrent networks over live and recorded signals.
 * Include this header to get the whole public API. */
#ifndef RNNSTREAM_H
#define RNNSTREAM_H

#include <rnnstream/atomic-file.h>
#include <rnnstream/cell-abi.h>
#include <rnnstream/error.h>
#include <rnnstream/frame-reader.h>
#include <rnnstream/model.h>
#include <rnnstream/pipeline.h>
#include <rnnstream/registry.h>
#include <rnnstream/safetensors.h>
#include <rnnstream/stream.h>
#include <rnnstream/version.h>

#endif
