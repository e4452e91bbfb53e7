"""cityres: network centrality and economic resilience of Chinese prefecture-level cities."""
