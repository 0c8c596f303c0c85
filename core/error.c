/* The RS_ERROR domain. */
#include "rnnstream/error.h"

G_DEFINE_QUARK (rs-error-quark, rs_error)
