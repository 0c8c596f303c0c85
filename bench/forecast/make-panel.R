# Writes the forecasting panel: series from R's datasets package as
# series/NAME.csv (time,value) and panel.tsv, beside this script.
#
#   Rscript bench/forecast/make-panel.R
#
# The CSVs are committed; rerun this only to change the panel. Horizons
# follow the M4 competition (yearly 6, quarterly 8, monthly 18, daily 14).

args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", args, value = TRUE))))
dir.create(file.path(here, "series"), showWarnings = FALSE)

horizon <- c(monthly = 18, quarterly = 8, yearly = 6, daily = 14)
season <- c(monthly = 12, quarterly = 4, yearly = 1, daily = 7)

# Labels come from start() and the row index rather than time(), whose
# decimal years can round to the wrong month.
ts_labels <- function(x) {
  f <- frequency(x)
  k <- start(x)[1] * f + (start(x)[2] - 1) + seq_along(x) - 1
  year <- k %/% f
  period <- k %% f
  switch(as.character(f),
         "1" = sprintf("%04d", year),
         "4" = sprintf("%04d-%02d", year, period * 3 + 1),
         "12" = sprintf("%04d-%02d", year, period + 1),
         stop("unexpected frequency ", f))
}

kind_of <- c("1" = "yearly", "4" = "quarterly", "12" = "monthly")

panel <- list(
  # monthly
  AirPassengers = AirPassengers, co2 = co2, nottem = nottem,
  UKDriverDeaths = UKDriverDeaths, USAccDeaths = USAccDeaths,
  ldeaths = ldeaths,
  # quarterly
  UKgas = UKgas, JohnsonJohnson = JohnsonJohnson, austres = austres,
  # yearly
  Nile = Nile, lynx = lynx, LakeHuron = LakeHuron, airmiles = airmiles
)

rows <- list()
write_series <- function(name, time, value, kind, source) {
  stopifnot(!anyNA(value), length(time) == length(value))
  write.csv(data.frame(time = time, value = as.numeric(value)),
            file.path(here, "series", paste0(name, ".csv")),
            row.names = FALSE, quote = FALSE)
  rows[[name]] <<- data.frame(name = name, kind = kind, m = season[[kind]],
                              h = horizon[[kind]], rows = length(value),
                              source = source)
}

for (name in names(panel)) {
  x <- panel[[name]]
  write_series(name, ts_labels(x), x, kind_of[[as.character(frequency(x))]],
               paste0("datasets::", name))
}
# airquality: New York, 1973-05-01 .. 1973-09-30, every day; Temp has no NA.
aq <- airquality
write_series("airquality_Temp", sprintf("1973-%02d-%02d", aq$Month, aq$Day),
             aq$Temp, "daily", "datasets::airquality$Temp")

write.table(do.call(rbind, rows), file.path(here, "panel.tsv"), sep = "\t",
            row.names = FALSE, quote = FALSE)
