# Reference values for dyadlab.apim_mediation (tests/models/test_mediation.py): the
# APIM mediation model (APIMeM) of Ledermann, Macho & Kenny (2011) for
# distinguishable dyads, fitted by lavaan::sem() (ML, se = "standard", listwise), with
# all actor/partner indirect effects as defined parameters (:=, delta-method SEs).
#
# Run from the repository root:  Rscript tests/reference/mediation.R
# Writes tests/reference/fixtures/mediation.json and the simulated data set
# tests/reference/data/med_sim.csv (individual format).
suppressPackageStartupMessages({
  library(lavaan)
  library(jsonlite)
})

model <- '
  M1 ~ aA1*X1 + aP1*X2
  M2 ~ aA2*X2 + aP2*X1
  Y1 ~ bA1*M1 + bP1*M2 + cA1*X1 + cP1*X2
  Y2 ~ bA2*M2 + bP2*M1 + cA2*X2 + cP2*X1
  M1 ~~ M2
  Y1 ~~ Y2
  # indirect effects on the outcome of person k: X_k -> M_k -> Y_k (actor-actor),
  # X_k -> M_l -> Y_k (partner-partner), X_l -> M_l -> Y_k (actor-partner),
  # X_l -> M_k -> Y_k (partner-actor)
  aa1 := aA1*bA1
  aa2 := aA2*bA2
  pp1 := aP2*bP1
  pp2 := aP1*bP2
  ap1 := aA2*bP1
  ap2 := aA1*bP2
  pa1 := aP1*bA1
  pa2 := aP2*bA2
  tia1 := aa1 + pp1
  tia2 := aa2 + pp2
  tip1 := ap1 + pa1
  tip2 := ap2 + pa2
  ta1 := cA1 + aa1 + pp1
  ta2 := cA2 + aa2 + pp2
  tp1 := cP1 + ap1 + pa1
  tp2 := cP2 + ap2 + pa2
'
call <- "lavaan::sem(model, data = wide, estimator = \"ML\", se = \"standard\", missing = \"listwise\")"

labels <- c(
  aA1 = "a_actor/1", aA2 = "a_actor/2", aP1 = "a_partner/1", aP2 = "a_partner/2",
  bA1 = "b_actor/1", bA2 = "b_actor/2", bP1 = "b_partner/1", bP2 = "b_partner/2",
  cA1 = "direct_actor/1", cA2 = "direct_actor/2", cP1 = "direct_partner/1",
  cP2 = "direct_partner/2",
  aa1 = "indirect_actor_actor/1", aa2 = "indirect_actor_actor/2",
  pp1 = "indirect_partner_partner/1", pp2 = "indirect_partner_partner/2",
  ap1 = "indirect_actor_partner/1", ap2 = "indirect_actor_partner/2",
  pa1 = "indirect_partner_actor/1", pa2 = "indirect_partner_actor/2",
  tia1 = "total_indirect_actor/1", tia2 = "total_indirect_actor/2",
  tip1 = "total_indirect_partner/1", tip2 = "total_indirect_partner/2",
  ta1 = "total_actor/1", ta2 = "total_actor/2", tp1 = "total_partner/1", tp2 = "total_partner/2")

to_wide <- function(d, dyad, role, x, m, y, roles) {
  r1 <- d[d[[role]] == roles[1], ]
  r2 <- d[d[[role]] == roles[2], ]
  r2 <- r2[match(r1[[dyad]], r2[[dyad]]), ]
  data.frame(X1 = r1[[x]], X2 = r2[[x]], M1 = r1[[m]], M2 = r2[[m]], Y1 = r1[[y]], Y2 = r2[[y]])
}

make_case <- function(name, data_spec, d, dyad, role, x, m, y, roles) {
  wide <- to_wide(d, dyad, role, x, m, y, roles)
  fit <- sem(model, data = wide, estimator = "ML", se = "standard", missing = "listwise")
  pe <- parameterEstimates(fit)
  lab <- pe[pe$label %in% names(labels), ]
  key <- unname(labels[lab$label])
  role_of <- ifelse(grepl("/1$", key), as.character(roles[1]), as.character(roles[2]))
  effect <- sub("/[12]$", "", key)
  cov_rows <- pe[pe$op == "~~" & pe$lhs %in% c("M1", "M2", "Y1", "Y2"), ]
  fm <- fitMeasures(fit, c("logl", "aic", "bic", "npar", "ntotal"))
  list(
    name = name, model = "apim_mediation", call = call,
    script = "tests/reference/mediation.R", r_version = R.version.string,
    packages = list(lavaan = as.character(packageVersion("lavaan"))),
    generated = format(Sys.Date()), data = data_spec,
    args = list(x = x, m = m, y = y, dyad = dyad, role = role),
    expected = list(
      effect = effect, role = role_of, estimate = lab$est, se = lab$se, z = lab$z,
      p = lab$pvalue,
      residual = list(lhs = cov_rows$lhs, rhs = cov_rows$rhs, estimate = cov_rows$est),
      n_dyads = lavInspect(fit, "nobs"), n_dropped = nrow(wide) - lavInspect(fit, "nobs"),
      loglik = unname(fm["logl"]), aic = unname(fm["aic"]), bic = unname(fm["bic"]),
      npar = unname(fm["npar"])))
}

cases <- list()
aci <- read.csv("src/dyadlab/data/datasets/acitelli.csv")
cases[[1]] <- make_case("acitelli_tension_otherpos_satisfaction",
                        "repo:src/dyadlab/data/datasets/acitelli.csv", aci, "cuplid", "gender",
                        "tension", "other_pos", "satisfaction", c(-1, 1))

# simulated couples with unequal effects by role and some missing values
set.seed(42)
n <- 90
x1 <- rnorm(n); x2 <- 0.4 * x1 + sqrt(1 - 0.16) * rnorm(n)
u <- rnorm(n)
m1 <- 0.5 * x1 + 0.2 * x2 + 0.8 * u
m2 <- 0.3 * x2 + 0.1 * x1 + 0.8 * (0.3 * u + sqrt(1 - 0.09) * rnorm(n))
v <- rnorm(n)
y1 <- 0.4 * m1 + 0.25 * m2 + 0.1 * x1 - 0.1 * x2 + v
y2 <- 0.2 * m2 + 0.3 * m1 + 0.05 * x2 + 0.2 * x1 + (0.4 * v + sqrt(1 - 0.16) * rnorm(n))
sim <- data.frame(
  couple = rep(seq_len(n), each = 2),
  role = rep(c("partner_a", "partner_b"), n),
  stress = round(as.vector(rbind(x1, x2)), 4),
  support = round(as.vector(rbind(m1, m2)), 4),
  wellbeing = round(as.vector(rbind(y1, y2)), 4))
sim$support[c(7, 60)] <- NA  # two dyads with a missing mediator (listwise deletion)
write.csv(sim, "tests/reference/data/med_sim.csv", row.names = FALSE)
cases[[2]] <- make_case("simulated_unequal_roles_missing", "repo:tests/reference/data/med_sim.csv",
                        sim, "couple", "role", "stress", "support", "wellbeing",
                        c("partner_a", "partner_b"))

# ---- indistinguishable dyads: equality constraints on paths, intercepts and residual
# variances (exchangeable members; X fixed as lavaan's default fixed.x = TRUE) ---------
model_ind <- '
  M1 ~ aA*X1 + aP*X2
  M2 ~ aA*X2 + aP*X1
  Y1 ~ bA*M1 + bP*M2 + cA*X1 + cP*X2
  Y2 ~ bA*M2 + bP*M1 + cA*X2 + cP*X1
  M1 ~ im*1
  M2 ~ im*1
  Y1 ~ iy*1
  Y2 ~ iy*1
  M1 ~~ vm*M1
  M2 ~~ vm*M2
  Y1 ~~ vy*Y1
  Y2 ~~ vy*Y2
  M1 ~~ M2
  Y1 ~~ Y2
  aa := aA*bA
  pp := aP*bP
  ap := aA*bP
  pa := aP*bA
  tia := aa + pp
  tip := ap + pa
  ta := cA + aa + pp
  tp := cP + ap + pa
'
labels_ind <- c(aA = "a_actor", aP = "a_partner", bA = "b_actor", bP = "b_partner",
  cA = "direct_actor", cP = "direct_partner", aa = "indirect_actor_actor",
  pp = "indirect_partner_partner", ap = "indirect_actor_partner",
  pa = "indirect_partner_actor", tia = "total_indirect_actor",
  tip = "total_indirect_partner", ta = "total_actor", tp = "total_partner")
call_ind <- paste("lavaan::sem(model_ind, data = wide, estimator = \"ML\", se = \"standard\",",
                  "meanstructure = TRUE, missing = \"listwise\")")

make_case_ind <- function(name, data_spec, d, dyad, role, x, m, y, roles) {
  # members are put in the order of `role` only to build the wide data; the model
  # treats them as exchangeable, so the result does not depend on that order
  wide <- to_wide(d, dyad, role, x, m, y, roles)
  fit <- sem(model_ind, data = wide, estimator = "ML", se = "standard", meanstructure = TRUE,
             missing = "listwise")
  pe <- parameterEstimates(fit)
  lab <- pe[pe$label %in% names(labels_ind) & !duplicated(pe$label), ]
  res <- pe[pe$op == "~~" & pe$lhs %in% c("M1", "Y1") , ]
  fm <- fitMeasures(fit, c("logl", "aic", "bic", "npar", "chisq", "df", "pvalue"))
  list(
    name = name, model = "apim_mediation", call = call_ind,
    script = "tests/reference/mediation.R", r_version = R.version.string,
    packages = list(lavaan = as.character(packageVersion("lavaan"))),
    generated = format(Sys.Date()), data = data_spec,
    args = list(x = x, m = m, y = y, dyad = dyad),
    expected = list(
      effect = unname(labels_ind[lab$label]), estimate = lab$est, se = lab$se, z = lab$z,
      p = lab$pvalue,
      residual = list(lhs = res$lhs, rhs = res$rhs, estimate = res$est),
      n_dyads = lavInspect(fit, "nobs"),
      loglik = unname(fm["logl"]), aic = unname(fm["aic"]), bic = unname(fm["bic"]),
      npar = unname(fm["npar"]), chisq = unname(fm["chisq"]), df = unname(fm["df"]),
      chisq_p = unname(fm["pvalue"])))
}
cases[[3]] <- make_case_ind("acitelli_indistinguishable", "repo:src/dyadlab/data/datasets/acitelli.csv",
                            aci, "cuplid", "gender", "tension", "other_pos", "satisfaction",
                            c(-1, 1))
cases[[4]] <- make_case_ind("simulated_indistinguishable_missing",
                            "repo:tests/reference/data/med_sim.csv", sim, "couple", "role",
                            "stress", "support", "wellbeing", c("partner_a", "partner_b"))

write_json(list(cases = cases), "tests/reference/fixtures/mediation.json",
           digits = NA, auto_unbox = TRUE, pretty = TRUE)
cat("wrote", length(cases), "cases\n")
