package results

// dailyOrdersFigure plots the orders placed each day after the warm-up
// (mean over replications with 95% CI): the demand calendar's weekday
// profile, peaks and pop-up uplifts show here.
func dailyOrdersFigure(runs []RunResult) *figure {
	return dailyFigure(runs, "orders-daily", "Orders per day", "orders",
		"Orders placed each day after the warm-up (the demand calendar's weekday profile, peaks and pop-up uplifts): mean over replications with 95% confidence intervals.",
		func(d DailyPoint) float64 { return d.Orders })
}
