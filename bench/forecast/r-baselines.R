# The reference forecasters of R's forecast package on the panel's splits.
#
#   Rscript bench/forecast/r-baselines.R OUTDIR [PANEL]
#
# For every series in PANEL.tsv (beside this script; default panel): train on all rows but
# the last h, forecast h steps with each method, and write
#   OUTDIR/forecasts.csv  series,method,h,forecast   (h = 1 .. H)
#   OUTDIR/times.csv      series,method,seconds      (fit + forecast, elapsed)
#   OUTDIR/versions.txt   R and forecast versions
# A method that fails on a series is left out of both files and named on
# stderr, so that the caller can report it; the others still run.

suppressPackageStartupMessages(library(forecast))

argv <- commandArgs(trailingOnly = TRUE)
if (length(argv) < 1 || length(argv) > 2) stop("usage: Rscript r-baselines.R OUTDIR [PANEL]")
out <- argv[1]
panel_name <- if (length(argv) == 2) argv[2] else "panel"
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", args, value = TRUE))))
dir.create(out, showWarnings = FALSE, recursive = TRUE)

# Every method with its package defaults: these are the reference points,
# not tuned competitors. snaive on a frequency-1 series is naive.
methods <- list(
  naive = function(y, h) naive(y, h = h),
  snaive = function(y, h) snaive(y, h = h),
  ets = function(y, h) forecast(ets(y), h = h),
  auto.arima = function(y, h) forecast(auto.arima(y), h = h),
  thetaf = function(y, h) thetaf(y, h = h)
)

panel <- read.delim(file.path(here, paste0(panel_name, ".tsv")), stringsAsFactors = FALSE)
fc_rows <- list()
time_rows <- list()
for (i in seq_len(nrow(panel))) {
  p <- panel[i, ]
  series <- read.csv(file.path(here, "series", paste0(p$name, ".csv")))
  stopifnot(nrow(series) == p$rows)
  y <- ts(head(series$value, p$rows - p$h), frequency = p$m)
  for (method in names(methods)) {
    t0 <- proc.time()[["elapsed"]]
    f <- tryCatch(as.numeric(methods[[method]](y, p$h)$mean),
                  error = function(e) {
                    message(p$name, " ", method, ": ", conditionMessage(e))
                    NULL
                  })
    seconds <- proc.time()[["elapsed"]] - t0
    if (is.null(f)) next
    # %.17g: read back as the same doubles.
    fc_rows[[length(fc_rows) + 1]] <- data.frame(series = p$name, method = method,
                                                 h = seq_len(p$h),
                                                 forecast = sprintf("%.17g", f))
    time_rows[[length(time_rows) + 1]] <- data.frame(series = p$name, method = method,
                                                     seconds = seconds)
  }
}

write.csv(do.call(rbind, fc_rows), file.path(out, "forecasts.csv"),
          row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, time_rows), file.path(out, "times.csv"),
          row.names = FALSE, quote = FALSE)
writeLines(c(R.version.string,
             paste("forecast", as.character(packageVersion("forecast")))),
           file.path(out, "versions.txt"))
