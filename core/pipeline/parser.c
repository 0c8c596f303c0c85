/* Parsing the pipeline language (see rnnstream/pipeline.h).
 *
 * The grammar, with white space (newlines included) and '#' comments
 * between tokens:
 *
 *   pipeline := element ( '!' element )*
 *   element  := WORD ( WORD '=' value )*
 *   value    := WORD | '"' ( any char but '"' and '\' | '\"' | '\\' )* '"'
 *
 * A WORD is a run of characters other than white space, '!', '=', '"' and
 * '#'. The lexer tracks line and column so every error points at its
 * token.
 */
#include "config.h"

#include <string.h>

#include "parser.h"
#include "rnnstream/error.h"

typedef enum { TOK_WORD, TOK_STRING, TOK_BANG, TOK_EQUALS, TOK_END } TokKind;

typedef struct {
  TokKind kind;
  char *text;                /* WORD and STRING */
  guint line, column;
} Token;

typedef struct {
  const char *text;
  gsize pos;
  guint line, column;
  const char *name;
  Token tok;                 /* the current token */
} Lexer;

static gboolean G_GNUC_PRINTF (5, 6)
lex_error (Lexer *lx, guint line, guint column, GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s:%u:%u: %s", lx->name, line, column,
               message);
  return FALSE;
}

static void
advance (Lexer *lx)
{
  if (lx->text[lx->pos] == '\n') {
    lx->line++;
    lx->column = 1;
  } else if (((guchar) lx->text[lx->pos] & 0xC0) != 0x80) {
    /* Columns count characters, not UTF-8 continuation bytes. */
    lx->column++;
  }
  lx->pos++;
}

static gboolean
is_word_char (char c)
{
  return c != '\0' && !g_ascii_isspace (c) && c != '!' && c != '=' && c != '"' && c != '#';
}

static gboolean
lex_string (Lexer *lx, GError **error)
{
  GString *s = g_string_new (NULL);
  guint line = lx->line, column = lx->column;

  advance (lx);   /* the opening quote */
  for (;;) {
    char c = lx->text[lx->pos];
    if (c == '\0') {
      g_string_free (s, TRUE);
      return lex_error (lx, line, column, error, "unterminated quoted value");
    }
    if (c == '"') {
      advance (lx);
      break;
    }
    if (c == '\\') {
      char next = lx->text[lx->pos + 1];
      if (next != '"' && next != '\\') {
        g_string_free (s, TRUE);
        return lex_error (lx, lx->line, lx->column, error,
                          "unknown escape in quoted value (only \\\" and \\\\)");
      }
      advance (lx);
      c = next;
    }
    g_string_append_c (s, c);
    advance (lx);
  }
  lx->tok.kind = TOK_STRING;
  lx->tok.text = g_string_free (s, FALSE);
  return TRUE;
}

/* Reads the next token into lx->tok. */
static gboolean
next_token (Lexer *lx, GError **error)
{
  g_clear_pointer (&lx->tok.text, g_free);
  for (;;) {
    char c = lx->text[lx->pos];
    if (g_ascii_isspace (c)) {
      advance (lx);
    } else if (c == '#') {
      while (lx->text[lx->pos] != '\0' && lx->text[lx->pos] != '\n')
        advance (lx);
    } else {
      break;
    }
  }
  lx->tok.line = lx->line;
  lx->tok.column = lx->column;
  switch (lx->text[lx->pos]) {
  case '\0':
    lx->tok.kind = TOK_END;
    return TRUE;
  case '!':
    lx->tok.kind = TOK_BANG;
    advance (lx);
    return TRUE;
  case '=':
    lx->tok.kind = TOK_EQUALS;
    advance (lx);
    return TRUE;
  case '"':
    return lex_string (lx, error);
  default: {
    gsize start = lx->pos;
    while (is_word_char (lx->text[lx->pos]))
      advance (lx);
    lx->tok.kind = TOK_WORD;
    lx->tok.text = g_strndup (lx->text + start, lx->pos - start);
    return TRUE;
  }
  }
}

static const char *
describe (const Token *t)
{
  switch (t->kind) {
  case TOK_WORD: return "a word";
  case TOK_STRING: return "a quoted value";
  case TOK_BANG: return "'!'";
  case TOK_EQUALS: return "'='";
  case TOK_END: return "the end of the pipeline";
  }
  return "?";
}

static void
param_free (gpointer data)
{
  RsParamText *p = data;
  g_free (p->key);
  g_free (p->value);
  g_free (p);
}

static void
element_free (gpointer data)
{
  RsElementText *e = data;
  g_free (e->type);
  g_ptr_array_unref (e->params);
  g_free (e);
}

/* element := WORD ( WORD '=' value )*; on entry lx->tok is the type. */
static RsElementText *
parse_element (Lexer *lx, GError **error)
{
  RsElementText *e;

  if (lx->tok.kind != TOK_WORD) {
    lex_error (lx, lx->tok.line, lx->tok.column, error, "expected an element type, found %s",
               describe (&lx->tok));
    return NULL;
  }
  e = g_new0 (RsElementText, 1);
  e->type = g_steal_pointer (&lx->tok.text);
  e->line = lx->tok.line;
  e->column = lx->tok.column;
  e->params = g_ptr_array_new_with_free_func (param_free);
  if (!next_token (lx, error))
    goto fail;
  while (lx->tok.kind == TOK_WORD) {
    RsParamText *p = g_new0 (RsParamText, 1);
    p->key = g_steal_pointer (&lx->tok.text);
    p->line = lx->tok.line;
    p->column = lx->tok.column;
    g_ptr_array_add (e->params, p);
    if (!next_token (lx, error))
      goto fail;
    if (lx->tok.kind != TOK_EQUALS) {
      lex_error (lx, lx->tok.line, lx->tok.column, error, "expected '=' after parameter '%s' "
                 "of %s, found %s", p->key, e->type, describe (&lx->tok));
      goto fail;
    }
    if (!next_token (lx, error))
      goto fail;
    if (lx->tok.kind != TOK_WORD && lx->tok.kind != TOK_STRING) {
      lex_error (lx, lx->tok.line, lx->tok.column, error, "expected a value for parameter '%s' "
                 "of %s, found %s", p->key, e->type, describe (&lx->tok));
      goto fail;
    }
    p->value = g_steal_pointer (&lx->tok.text);
    if (!next_token (lx, error))
      goto fail;
  }
  return e;

fail:
  element_free (e);
  return NULL;
}

GPtrArray *
rs_pipeline_parse (const char *text, const char *display_name, GError **error)
{
  Lexer lx = { text, 0, 1, 1, display_name, { TOK_END, NULL, 0, 0 } };
  g_autoptr (GPtrArray) elements = g_ptr_array_new_with_free_func (element_free);

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (display_name != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL)) {
    g_set_error (error, RS_ERROR, RS_ERROR_PIPELINE, "%s: not valid UTF-8 text", display_name);
    return NULL;
  }
  if (!next_token (&lx, error))
    return NULL;
  if (lx.tok.kind == TOK_END) {
    lex_error (&lx, lx.tok.line, lx.tok.column, error, "empty pipeline: expected an element");
    return NULL;
  }
  for (;;) {
    RsElementText *e = parse_element (&lx, error);
    if (e == NULL) {
      g_clear_pointer (&lx.tok.text, g_free);
      return NULL;
    }
    g_ptr_array_add (elements, e);
    if (lx.tok.kind == TOK_END)
      break;
    if (lx.tok.kind != TOK_BANG) {
      lex_error (&lx, lx.tok.line, lx.tok.column, error, "expected '!' or a parameter after "
                 "%s, found %s", e->type, describe (&lx.tok));
      g_clear_pointer (&lx.tok.text, g_free);
      return NULL;
    }
    if (!next_token (&lx, error))
      return NULL;
  }
  return g_steal_pointer (&elements);
}

char *
rs_pipeline_quote (const char *value)
{
  GString *s;
  gboolean plain = value[0] != '\0';

  for (const char *p = value; *p && plain; p++)
    plain = is_word_char (*p);
  if (plain)
    return g_strdup (value);
  s = g_string_new ("\"");
  for (const char *p = value; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (s, '\\');
    g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}
