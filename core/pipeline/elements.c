/* The built-in pipeline elements. */
#include "element.h"

extern const RsElementClass rs_csvsrc_class;
extern const RsElementClass rs_filesrc_class;
extern const RsElementClass rs_micsrc_class;
extern const RsElementClass rs_mfcc_class;
extern const RsElementClass rs_fbank_class;
extern const RsElementClass rs_deltas_class;
extern const RsElementClass rs_cmvn_class;
extern const RsElementClass rs_stack_class;
extern const RsElementClass rs_lags_class;
extern const RsElementClass rs_diff_class;
extern const RsElementClass rs_standardize_class;
extern const RsElementClass rs_calendar_class;
extern const RsElementClass rs_model_class;
extern const RsElementClass rs_forecast_class;
extern const RsElementClass rs_frontend_class;
extern const RsElementClass rs_ctcdecode_class;
extern const RsElementClass rs_csvsink_class;
extern const RsElementClass rs_jsonsink_class;
extern const RsElementClass rs_wavsink_class;

const RsElementClass *const rs_element_classes[] = {
  &rs_csvsrc_class,
  &rs_filesrc_class,
  &rs_micsrc_class,
  &rs_mfcc_class,
  &rs_fbank_class,
  &rs_deltas_class,
  &rs_cmvn_class,
  &rs_stack_class,
  &rs_lags_class,
  &rs_diff_class,
  &rs_standardize_class,
  &rs_calendar_class,
  &rs_frontend_class,
  &rs_model_class,
  &rs_forecast_class,
  &rs_ctcdecode_class,
  &rs_csvsink_class,
  &rs_jsonsink_class,
  &rs_wavsink_class,
  NULL
};
