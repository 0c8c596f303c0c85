# Writes the forecasting panels: series from R's datasets package as
# series/NAME.csv (time,value), panel.tsv (the development panel, on which
# rnnstream's forecasting recipe was chosen) and holdout.tsv (a second
# panel, scored only once the recipe was fixed), beside this script.
#
#   Rscript bench/forecast/make-panel.R
#
# The CSVs are committed; rerun this only to change the panels. Horizons
# follow the M4 competition (yearly 6, quarterly 8, monthly 18, daily 14);
# series of frequency 1 that are not yearly (WWWusage by the minute, BJsales,
# lh every 10 minutes) count as yearly: no season, 6 steps.

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
         "0.1" = sprintf("%04d", round(as.numeric(time(x)))),
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

holdout <- list(
  # monthly
  Seatbelts_front = Seatbelts[, "front"], Seatbelts_rear = Seatbelts[, "rear"],
  Seatbelts_kms = Seatbelts[, "kms"], Seatbelts_PetrolPrice = Seatbelts[, "PetrolPrice"],
  mdeaths = mdeaths, fdeaths = fdeaths, sunspots = sunspots,
  # quarterly
  freeny_y = freeny.y,
  Seatbelts_kms_quarterly = aggregate(Seatbelts[, "kms"], nfrequency = 4),
  # yearly, or without a season
  sunspot.year = sunspot.year, nhtemp = nhtemp, discoveries = discoveries,
  WWWusage = WWWusage, BJsales = BJsales, lh = lh
)
holdout_source <- c(freeny_y = "datasets::freeny.y",
                    Seatbelts_kms_quarterly = "aggregate(datasets::Seatbelts[, \"kms\"], 4)")

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

rows <- list()
for (name in names(holdout)) {
  x <- holdout[[name]]
  source <- if (name %in% names(holdout_source)) holdout_source[[name]] else
    sub("^datasets::Seatbelts_(.*)$", "datasets::Seatbelts[, \"\\1\"]", paste0("datasets::", name))
  write_series(name, ts_labels(x), x, kind_of[[as.character(frequency(x))]], source)
}
# airquality's wind speeds, every day; no NA.
write_series("airquality_Wind", sprintf("1973-%02d-%02d", aq$Month, aq$Day),
             aq$Wind, "daily", "datasets::airquality$Wind")
write.table(do.call(rbind, rows), file.path(here, "holdout.tsv"), sep = "\t",
            row.names = FALSE, quote = FALSE)
