/* Kaldi-style "--name=value" options: the parsing shared by the feature,
 * delta and CMVN option sets. Internal to the library.
 *
 * Each option set describes its options in a table of RsOptionSpec (name,
 * type, where the value goes in the options struct, the range, and which
 * of the set's programs accept it) and hands the arguments to
 * rs_option_table_apply. The rules are Kaldi's (util/parse-options.cc):
 * names are compared after lower-casing and turning '_' into '-'; a
 * boolean option without "=value" means true, and booleans accept
 * true/t/1 and false/f/0 in any case; numbers must be the whole value.
 * Unlike Kaldi, numbers must also be finite and within the option's range,
 * and an integer option cannot be negative when a count is meant.
 */
#ifndef RS_FEATURES_OPTION_PARSER_H
#define RS_FEATURES_OPTION_PARSER_H

#include <glib.h>

typedef enum {
  RS_OPTION_BOOL,     /* gboolean */
  RS_OPTION_UINT,     /* guint, within [min, max] */
  RS_OPTION_UINT64,   /* guint64 */
  RS_OPTION_DOUBLE,   /* double, finite, within [min, max] */
  RS_OPTION_CHOICE    /* an enum stored as int: index of the value in choices */
} RsOptionType;

typedef struct RsOptionSpec {
  const char *name;             /* Kaldi's spelling, without "--" */
  RsOptionType type;
  gsize offset;                 /* of the field in the options struct */
  double min, max;              /* UINT and DOUBLE */
  const char *const *choices;   /* CHOICE: NULL-terminated */
  guint programs;               /* bit i: accepted by program_names[i] */
} RsOptionSpec;

/* Applies args (n_args of them, or NULL-terminated when n_args < 0) to the
 * struct at opts. program is the index of the program being configured
 * (its bit in RsOptionSpec.programs); program_names names every program of
 * the set, for the message when an option belongs to another one. Errors
 * in RS_ERROR_PARSE. */
gboolean rs_option_table_apply (const RsOptionSpec *specs, gsize n_specs, void *opts,
                                guint program, const char *const *program_names,
                                const char *const *args, gssize n_args, GError **error);

/* As rs_option_table_apply, on white-space separated text (NULL: none). */
gboolean rs_option_table_apply_string (const RsOptionSpec *specs, gsize n_specs, void *opts,
                                       guint program, const char *const *program_names,
                                       const char *text, GError **error);

#endif
